"""The integrated likelihood of the log OR (Laplace-centred Gauss–Hermite quadrature) against an
independent adaptive quadrature, where the rule is hardest: a million patients per arm, where the
integrand in ``alpha`` is a needle, and very few events, where it is far from normal."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from bayes_ips import logodds

ALPHA_SD = logodds.CONTROL_LOGIT_SD
DROP = 60.0
"""The reference integrates ``alpha`` over the range where the integrand is within ``e^-60`` of
its maximum: the mass left outside is negligible at any tolerance used here."""


def _log_integrand(y_t, n_t, y_c, n_c, theta):
    """``log p(y_t, y_c | alpha, theta) + log N(alpha; 0, ALPHA_SD²)`` from scipy's densities."""

    def f(alpha: float) -> float:
        return float(
            stats.binom.logpmf(y_t, n_t, special.expit(alpha + theta / 2))
            + stats.binom.logpmf(y_c, n_c, special.expit(alpha - theta / 2))
            + stats.norm.logpdf(alpha, 0, ALPHA_SD)
        )

    return f


def reference_log_likelihood(y_t, n_t, y_c, n_c, theta: float) -> float:
    """``log ∫ exp(f(alpha)) dalpha`` in log space: the maximum of ``f`` by bounded scalar
    minimisation, the range by root-finding where ``f`` falls :data:`DROP` below it, then
    ``quad`` of ``exp(f − max)`` over that range (no curvature, no Gauss–Hermite nodes)."""
    f = _log_integrand(y_t, n_t, y_c, n_c, theta)
    best = optimize.minimize_scalar(
        lambda a: -f(a), bounds=(-40.0, 40.0), method="bounded", options={"xatol": 1e-12}
    )
    mode, top = float(best.x), -float(best.fun)

    def below(a: float) -> float:
        return f(a) - (top - DROP)

    step = 1e-4
    while below(mode - step) > 0:
        step *= 2
    lo = optimize.brentq(below, mode - step, mode, xtol=1e-14)
    step = 1e-4
    while below(mode + step) > 0:
        step *= 2
    hi = optimize.brentq(below, mode, mode + step, xtol=1e-14)
    value, _ = integrate.quad(
        lambda a: math.exp(f(a) - top), lo, hi, points=[mode], epsabs=0, epsrel=1e-10, limit=500
    )
    return top + math.log(value)


THETAS = (-3.0, -0.4, 0.0, 0.04, 1.5)


@pytest.mark.parametrize(
    "counts",
    [
        (500_000, 1_000_000, 480_000, 1_000_000),  # half employed: a needle in alpha
        (30, 1_000_000, 12, 1_000_000),  # rare at a million: alpha far out, posterior narrow
        (999_990, 1_000_000, 999_000, 1_000_000),  # nearly everyone
    ],
)
def test_a_million_per_arm_matches_an_independent_quadrature(counts):
    got = logodds.log_likelihood(*counts, np.array(THETAS))
    want = [reference_log_likelihood(*counts, t) for t in THETAS]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "counts",
    [
        (0, 12, 0, 15),  # no events at all
        (1, 40, 0, 40),
        (2, 3, 0, 200),  # two events, tiny treatment arm
        (0, 1, 1, 1),  # one patient per arm
        (2, 1_000_000, 0, 1_000_000),  # two events in two million
    ],
)
def test_very_few_events_match_an_independent_quadrature(counts):
    thetas = np.array([-8.0, -2.0, 0.0, 0.7, 4.0, 10.0])
    got = logodds.log_likelihood(*counts, thetas)
    want = [reference_log_likelihood(*counts, t) for t in thetas]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)


def test_swapped_arms_mirror_the_likelihood():
    thetas = np.array([-2.5, -0.3, 0.0, 0.3, 2.5])
    got = logodds.log_likelihood(2, 1_000_000, 0, 900_000, thetas)
    mirrored = logodds.log_likelihood(0, 900_000, 2, 1_000_000, -thetas)
    np.testing.assert_allclose(got, mirrored, rtol=0, atol=1e-9)
