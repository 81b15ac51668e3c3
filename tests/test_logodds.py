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


def _log_integrand(y_t, n_t, y_c, n_c, theta, alpha_sd=ALPHA_SD):
    """``log p(y_t, y_c | alpha, theta) + log N(alpha; 0, alpha_sd²)`` from scipy's densities."""

    def f(alpha: float) -> float:
        return float(
            stats.binom.logpmf(y_t, n_t, special.expit(alpha + theta / 2))
            + stats.binom.logpmf(y_c, n_c, special.expit(alpha - theta / 2))
            + stats.norm.logpdf(alpha, 0, alpha_sd)
        )

    return f


def reference_log_likelihood(y_t, n_t, y_c, n_c, theta: float, alpha_sd=ALPHA_SD) -> float:
    """``log ∫ exp(f(alpha)) dalpha`` in log space: the maximum of ``f`` by bounded scalar
    minimisation, the range by root-finding where ``f`` falls :data:`DROP` below it, then
    ``quad`` of ``exp(f − max)`` over that range (no curvature, no Gauss–Hermite nodes)."""
    f = _log_integrand(y_t, n_t, y_c, n_c, theta, alpha_sd)
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


@pytest.mark.parametrize("alpha_sd", [0.4, 6.0])
def test_the_prior_sd_of_the_arms_midpoint_log_odds_is_the_one_given(alpha_sd):
    counts, thetas = (3, 40, 9, 38), np.array([-2.0, 0.0, 1.0])
    got = logodds.log_likelihood(*counts, thetas, alpha_sd=alpha_sd)
    want = [reference_log_likelihood(*counts, t, alpha_sd) for t in thetas]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)


def test_a_scalar_or_a_grid_of_log_ors_keeps_its_shape():
    counts, thetas = (3, 40, 9, 38), np.array([[-2.0, 0.0], [1.0, 0.5]])
    want = [[reference_log_likelihood(*counts, t) for t in row] for row in thetas]
    np.testing.assert_allclose(logodds.log_likelihood(*counts, thetas), want, rtol=0, atol=1e-7)
    assert logodds.log_likelihood(*counts, 0.5) == pytest.approx(want[1][1], abs=1e-7)


def test_swapped_arms_mirror_the_likelihood():
    thetas = np.array([-2.5, -0.3, 0.0, 0.3, 2.5])
    got = logodds.log_likelihood(2, 1_000_000, 0, 900_000, thetas)
    mirrored = logodds.log_likelihood(0, 900_000, 2, 1_000_000, -thetas)
    np.testing.assert_allclose(got, mirrored, rtol=0, atol=1e-9)


# --- quantiles and P(benefit) read off a grid of Simpson panels ----------------------------------


def _power_density(ends: np.ndarray, scale: float = 5.0):
    """``scale * x²`` on panels with the given ends in [0, 1]: Simpson's piecewise quadratic is
    the density itself, so its quantiles are those of the CDF ``x³``, ``q^(1/3)``, exactly."""
    grid = logodds.with_midpoints(ends)
    return scale * grid**2, grid


@pytest.mark.parametrize(
    "ends",
    [np.linspace(0.0, 1.0, 5), np.array([0.0, 0.5, 0.6, 0.62, 0.9, 1.0])],
    ids=["uniform", "uneven"],
)
def test_quantiles_of_a_quadratic_density_are_exact_in_every_panel(ends):
    density, grid = _power_density(ends)
    # in the first panel, on a panel end, inside the last panel, and both ends of the range
    q = np.array([0.0, 1e-4, 0.003, 0.125, 0.5, 0.8, 0.95, 1.0])
    got = logodds.quantile(density, grid, q)
    np.testing.assert_allclose(got, np.cbrt(q), rtol=0, atol=1e-14)


@pytest.mark.parametrize("ends", [np.linspace(0.0, 1.0, 5), np.array([0.0, 0.3, 0.31, 1.0])])
def test_the_cdf_and_upper_tail_at_every_panel_end_are_exact(ends):
    density, grid = _power_density(ends)  # unnormalised: 5/3 in all
    np.testing.assert_allclose(logodds.panel_cdf(density, grid), ends**3, rtol=0, atol=1e-15)
    normalised = logodds.normalised(np.log(np.maximum(density, 1e-300)), grid)
    tails = [logodds.upper_tail(normalised, grid, e) for e in ends]
    np.testing.assert_allclose(tails, 1 - ends**3, rtol=0, atol=1e-15)


def test_each_row_of_log_values_is_normalised_on_its_own_at_any_level():
    # rows of log(5 x²) at levels 0, +800 (e^800 overflows) and -2000 (e^-2000 underflows, and
    # is e^-2800 of the top row): each is the density 3 x², which integrates to 1
    density, grid = _power_density(np.linspace(0.0, 1.0, 5))
    with np.errstate(divide="ignore"):  # log 0 at x = 0: density 0 there
        log_values = np.log(density) + np.array([[0.0], [800.0], [-2000.0]])
    got = logodds.normalised(log_values, grid)
    # log values near 2000 are rounded by about 2000 * 2.2e-16 = 4.4e-13: relative, after exp
    np.testing.assert_allclose(got, np.broadcast_to(3 * grid**2, got.shape), rtol=1e-12, atol=0)


def test_a_threshold_off_the_panel_ends_is_refused_by_name():
    grid = logodds.with_midpoints(np.linspace(0.0, 1.0, 5))  # ends 0, 0.25, ..., 1
    assert [logodds.panel_end(grid, e) for e in (0.0, 0.5, 1.0)] == [0, 2, 4]
    for value in (0.125, 0.3, 1.5, -0.1):  # a midpoint, between nodes, beyond either end
        with pytest.raises(ValueError, match=f"^{value} is not a panel end of the grid$"):
            logodds.panel_end(grid, value)


def test_a_quantile_of_zero_is_where_the_density_starts():
    # no mass on [0, 1]; then scale * (x - 1)² on [1, 2]: CDF (x - 1)³
    ends = np.linspace(0.0, 2.0, 9)
    grid = logodds.with_midpoints(ends)
    density = np.where(grid > 1.0, 3.0 * (grid - 1.0) ** 2, 0.0)
    got = logodds.quantile(density, grid, [0.0, 0.001, 1.0])
    np.testing.assert_allclose(got, [1.0, 1.1, 2.0], rtol=0, atol=1e-14)


def test_p_benefit_under_normal_priors_is_the_conjugate_normal_answer_even_in_conflict():
    # a normal likelihood, theta ~ N(5, 0.1²) up to a constant, so each posterior is normal with
    # a closed form. The second prior conflicts with the data by 50 SDs: its posterior density is
    # e^-2450 of the first one's, far below the float range unless each row is scaled by its own
    # maximum. The constant added to the log-likelihood must not matter either.
    ends = np.arange(-2400, 2401) / 200  # [-12, 12], steps of 0.005, 0 a panel end
    grid = logodds.with_midpoints(ends)
    like_mean, like_sd = 5.0, 0.1
    loglik = -0.5 * ((grid - like_mean) / like_sd) ** 2
    means, sds = np.array([0.0, -4.9, 5.0]), np.array([1.0, 0.1, 2.0])
    precision = 1 / sds**2 + 1 / like_sd**2
    post_mean = (means / sds**2 + like_mean / like_sd**2) / precision
    want = stats.norm.sf(0.0, post_mean, 1 / np.sqrt(precision))
    for shift in (0.0, -900.0, 900.0):
        got = logodds.prob_benefit_normal(means, sds, loglik + shift, grid)
        # Simpson's error on panels of 0.01 for posterior SDs of at least 0.07: below 1e-7
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)
    assert 0.7 < want[1] < 0.8  # the conflicting prior's posterior straddles 0
