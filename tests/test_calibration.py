"""Prior calibration helpers against scipy's own quantiles, moments and conversions written out
from their definitions, and the MCID conversion's "unavailable" when it leaves (0, 1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from bayes_ips.errors import InputError
from bayes_ips.priors import PriorContext, get_prior, library, unavailable
from bayes_ips.priors import calibration as cal
from bayes_ips.priors.community import MCID_NAMES, mcid_odds_ratio
from bayes_ips.priors.settings import parse

QS = (0.025, 0.5, 0.975)


def _odds(p: float) -> float:
    return p / (1 - p)


# --- beta_from_median_interval ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"), [(2.0, 3.0), (30.0, 70.0), (45.0, 5.0), (0.8, 0.8), (0.5, 0.5), (400.0, 20.0)]
)
def test_beta_from_the_quantiles_of_a_beta_gives_that_beta_back(a, b):
    lo, median, hi = stats.beta.ppf(QS, a, b)
    got = cal.beta_from_median_interval(median, lo, hi)
    np.testing.assert_allclose(got, (a, b), rtol=1e-6)


def test_beta_matches_a_90_percent_interval_when_asked_for_one():
    a, b = 6.0, 14.0
    lo, median, hi = stats.beta.ppf((0.05, 0.5, 0.95), a, b)
    np.testing.assert_allclose(cal.beta_from_median_interval(median, lo, hi, mass=0.9), (a, b))


def _logit_misfit(ab, median, lo, hi):
    got = stats.beta.ppf(QS, *ab)
    return float(np.sum((special.logit(got) - special.logit([lo, median, hi])) ** 2))


@pytest.mark.parametrize(
    ("median", "lo", "hi", "close"),
    [
        (0.9, 0.8, 0.96, 0.01),
        (0.4, 0.2, 0.62, 0.01),
        (0.99, 0.9, 0.999, 0.05),
        (0.05, 0.01, 0.2, None),  # a median far from the interval's centre for any Beta
        (0.02, 0.001, 0.3, None),
    ],
)
def test_beta_is_the_least_squares_fit_of_its_three_quantiles(median, lo, hi, close):
    """No Beta has exactly these quantiles: the fit must be the best one on the logit scale (an
    independent Nelder–Mead search from a different start cannot do better) and, where a Beta
    comes near the stated quantiles, within ``close`` of each (relative)."""
    a, b = cal.beta_from_median_interval(median, lo, hi)
    got = _logit_misfit((a, b), median, lo, hi)
    other = optimize.minimize(
        lambda log_ab: _logit_misfit(np.exp(log_ab), median, lo, hi),
        x0=np.log([1.0, 1.0]),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20_000},
    )
    assert got <= other.fun + 1e-9
    if close is not None:
        np.testing.assert_allclose(stats.beta.ppf(QS, a, b), (lo, median, hi), rtol=close)


@pytest.mark.parametrize(
    ("median", "lo", "hi"),
    [(0.5, 0.6, 0.7), (0.5, 0.3, 0.5), (0.3, 0.3, 0.5), (0.5, 0.0, 0.7), (0.5, 0.3, 1.0)],
)
def test_beta_needs_an_ordered_interval_inside_zero_one(median, lo, hi):
    with pytest.raises(ValueError, match=r"^need 0 < lower < median < upper < 1$"):
        cal.beta_from_median_interval(median, lo, hi)


# --- normal_from_median_interval ----------------------------------------------------------------


def test_normal_from_a_symmetric_interval_has_that_interval():
    mean, sd = cal.normal_from_median_interval(0.4, -0.6, 1.4)
    assert mean == 0.4
    assert stats.norm.ppf(0.025, mean, sd) == pytest.approx(-0.6, abs=1e-12)
    assert stats.norm.ppf(0.975, mean, sd) == pytest.approx(1.4, abs=1e-12)
    _, sd80 = cal.normal_from_median_interval(0.4, -0.6, 1.4, mass=0.8)
    assert stats.norm.cdf(1.4, 0.4, sd80) - stats.norm.cdf(-0.6, 0.4, sd80) == pytest.approx(0.8)


@pytest.mark.parametrize("side", [-1, 1])
def test_normal_accepts_a_median_within_the_tolerance_of_the_centre_and_no_further(side):
    # centre 3, half-width 2: the tolerance 0.25 allows the median 0.5 either side (exactly
    # representable, so the boundary itself is tested), and not beyond
    lo, hi, tol = 1.0, 5.0, 0.25
    assert cal.normal_from_median_interval(3.0 + side * 0.5, lo, hi, tolerance=tol)[0] == (
        3.0 + side * 0.5
    )
    with pytest.raises(ValueError, match="a normal is symmetric"):
        cal.normal_from_median_interval(3.0 + side * 0.55, lo, hi, tolerance=tol)
    # the default tolerance is 0.1 of the half-width
    cal.normal_from_median_interval(3.0 + side * 0.19, lo, hi)
    with pytest.raises(ValueError, match=r"middle of the interval \(here 3\.000"):
        cal.normal_from_median_interval(3.0 + side * 0.21, lo, hi)


@pytest.mark.parametrize(
    ("median", "lo", "hi"), [(1.0, 1.0, 3.0), (3.0, 1.0, 3.0), (0.0, 1.0, 3.0), (2.0, 3.0, 1.0)]
)
def test_normal_interval_must_contain_the_median(median, lo, hi):
    message = r"^the interval must contain the median \(lower < median < upper\)$"
    with pytest.raises(ValueError, match=message):
        cal.normal_from_median_interval(median, lo, hi)


# --- the other conversions ------------------------------------------------------------------


def test_sd_from_tail_and_interval_against_scipy():
    sd = cal.sd_from_tail(0.2, -0.5, 0.05)
    assert stats.norm.cdf(-0.5, 0.2, sd) == pytest.approx(0.05, abs=1e-12)
    sd = cal.sd_from_tail(-0.2, 0.5, 0.3)
    assert stats.norm.sf(0.5, -0.2, sd) == pytest.approx(0.3, abs=1e-12)
    sd = cal.sd_from_interval(-1.0, 3.0, 0.9)
    assert stats.norm.cdf(3.0, 1.0, sd) - stats.norm.cdf(-1.0, 1.0, sd) == pytest.approx(0.9)
    assert abs(cal.Z95 - 1.959963984540054) < 1e-12


def test_beta_from_moments_has_those_moments():
    a, b = cal.beta_from_moments(0.3, 0.01)
    assert stats.beta.mean(a, b) == pytest.approx(0.3)
    assert stats.beta.var(a, b) == pytest.approx(0.01)
    for mean, var in ((0.3, 0.21), (0.3, 0.0), (0.0, 0.01), (1.0, 0.01)):
        with pytest.raises(ValueError, match="no Beta has"):
            cal.beta_from_moments(mean, var)


def test_odds_ratio_from_a_risk_difference_and_a_risk_ratio():
    assert cal.or_from_rd(0.1, 0.3) == pytest.approx(_odds(0.4) / _odds(0.3), rel=1e-12)
    assert cal.or_from_rd(-0.25, 0.5) == pytest.approx(_odds(0.25) / _odds(0.5), rel=1e-12)
    assert cal.or_from_rr(1.5, 0.4) == pytest.approx(_odds(0.6) / _odds(0.4), rel=1e-12)
    assert cal.or_from_rr(0.5, 0.4) == pytest.approx(_odds(0.2) / _odds(0.4), rel=1e-12)
    with pytest.raises(ValueError, match="not a probability"):
        cal.or_from_rr(2.5, 0.4)  # treatment rate exactly 1
    with pytest.raises(ValueError, match="not a probability"):
        cal.or_from_rr(3.0, 0.4)
    with pytest.raises(ValueError, match="risk ratio of 0 "):
        cal.or_from_rr(0.0, 0.4)  # treatment rate 0: an odds ratio of 0, log OR -inf


@pytest.mark.parametrize(
    ("rd", "control"), [(0.25, 0.75), (0.1, 0.95), (-0.3, 0.3), (-0.2, 0.2), (1.0, 0.5)]
)
def test_odds_ratio_from_a_risk_difference_that_leaves_zero_one_is_refused(rd, control):
    """The MCID must not become an odds ratio of 0 or infinity: the treatment rate
    ``control + rd`` is 0, 1 or outside, so there is no odds ratio to report."""
    with pytest.raises(ValueError, match=r"leaves \(0, 1\)"):
        cal.or_from_rd(rd, control)
    with pytest.raises(ValueError, match=r"leaves \(0, 1\)"):
        mcid_odds_ratio(rd, control)


def test_an_mcid_beyond_the_anchor_makes_the_mcid_priors_unavailable_with_the_reason():
    settings = parse({"mcid_rd": 0.1}, "spec.toml")
    ctx = PriorContext(settings, 0.95, "test")
    reasons = unavailable(ctx)
    for name in MCID_NAMES:
        assert name not in library(ctx)
        assert "leaves (0, 1)" in reasons[name]
        with pytest.raises(InputError, match="cannot be built"):
            get_prior(name, ctx)
    # an MCID given as an odds ratio needs no conversion
    direct = PriorContext(parse({"mcid_or": 1.8}, "spec.toml"), 0.95, "test")
    assert get_prior("sceptical_mcid", direct).effect.sd == pytest.approx(
        math.log(1.8) / stats.norm.isf(0.05)
    )
