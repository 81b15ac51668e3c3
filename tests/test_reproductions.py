"""The shipped reproductions of published Bayesian reanalyses (``models/*_reproduction.toml``)
against the published numbers.

Each tolerance is the published number's rounding plus 3 Monte Carlo standard errors: of the
published number when it came from posterior draws, and of bayes_ips's when it comes from draws
(exact quadrature and closed forms have none). A quantile's MCSE from N independent draws is
``sqrt(q (1 − q) / N) / f(x_q)`` (the binomial formula through the density ``f`` at the quantile),
with the exact posterior density. Each spec's top comment cites the source and says how the model
differs; the numbers there are copied from the source, not from bayes_ips's output.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from bayes_ips import exact_logistic, logodds
from bayes_ips.pipeline import load_spec, run_analysis

MODELS = Path(__file__).parents[1] / "models"


def _run(name: str):
    spec = load_spec(MODELS / f"{name}.toml")
    run = run_analysis(spec)
    return spec, run.ctx, run.summary("test")


def _quantile_mcse(q: float, density_at_quantile: float, draws: int) -> float:
    """MCSE of the ``q`` quantile of ``draws`` independent draws."""
    return math.sqrt(q * (1 - q) / draws) / density_at_quantile


# -- ARREST (Yannopoulos et al., Lancet 2020;396:1807-16) ------------------------------------------

ARREST_ROUNDING = 0.0005
"""Table 2 gives the intervals in percent with one decimal (21·3–67·7): ±0.05 percentage points."""


@pytest.fixture(scope="module")
def arrest():
    return _run("arrest_reproduction")


def test_arrest_spec_holds_the_published_counts_and_the_uniform_priors(arrest):
    spec, ctx, _ = arrest
    counts = ctx.counts.sel(horizon=1)
    assert counts["employed"].sel(arm="ECMO") == 6 and counts["n_analysed"].sel(arm="ECMO") == 14
    assert counts["employed"].sel(arm="ACLS") == 1 and counts["n_analysed"].sel(arm="ACLS") == 15
    (prior,) = ctx.families["beta_binomial"]
    assert prior.rate.treatment == (1.0, 1.0) and prior.rate.control == (1.0, 1.0)
    assert spec.comparison.direction == "higher"


def test_arrest_posterior_probability_of_ecmo_superiority_is_the_published_0_9861(arrest):
    """Table 2 (p. 1810): "posterior probability= 0·9861", four decimals, so ±0.00005. bayes_ips's
    P(benefit) is exact (the beta-binomial closed form). Whether the paper computed it from draws,
    and with what Monte Carlo error, is not stated; the exact value rounds to it."""
    _, _, summary = arrest
    (row,) = summary["results"]
    assert row["p_benefit_mcse"] == 0.0
    assert abs(row["p_benefit"] - 0.9861) <= 0.00005
    # and it is the closed form: P(p_E > p_A) for Beta(7, 9) and Beta(2, 15), by scipy
    ecmo, acls = stats.beta(7, 9), stats.beta(2, 15)
    exact = integrate.quad(lambda x: acls.pdf(x) * ecmo.sf(x), 0, 1, epsabs=1e-13)[0]
    assert row["p_benefit"] == pytest.approx(exact, abs=1e-9)


@pytest.mark.parametrize(
    ("arm", "a", "b", "published"),
    [("ECMO", 7, 9, (0.213, 0.677)), ("ACLS", 2, 15, (0.016, 0.302))],
)
def test_arrest_arms_credible_intervals_are_the_published_ones(arrest, arm, a, b, published):
    """Table 2: ECMO 6 of 14 (43%, 21·3–67·7), ACLS 1 of 15 (7%, 1·6–30·2). The posteriors are
    Beta(1 + y, 1 + n − y); bayes_ips's limits come from its exact draws (``exact_draws``
    independent draws), so the tolerance is the rounding plus 3 MCSE of each limit."""
    spec, _, summary = arrest
    (row,) = summary["results"]
    rate = row["p_rate"][arm]
    posterior = stats.beta(a, b)
    for q, key, want in ((0.025, "lo", published[0]), (0.975, "hi", published[1])):
        x_q = posterior.ppf(q)
        mcse = _quantile_mcse(q, posterior.pdf(x_q), spec.exact_draws)
        assert abs(rate[key] - want) <= ARREST_ROUNDING + 3 * mcse, (arm, key)


def test_arrest_risk_difference_interval_is_the_published_one(arrest):
    """Table 2: risk difference 36% (3·7–59·2). The 36% is the observed difference 6/14 − 1/15,
    not a posterior summary, so it is not compared. The limits are compared within rounding plus
    3 MCSE of bayes_ips's draws, with the exact density of the difference of the two Betas."""
    spec, _, summary = arrest
    (row,) = summary["results"]
    ecmo, acls = stats.beta(7, 9), stats.beta(2, 15)

    def density(d: float) -> float:
        return integrate.quad(lambda x: acls.pdf(x) * ecmo.pdf(x + d), 0, 1 - d, epsabs=1e-13)[0]

    def cdf(d: float) -> float:
        return integrate.quad(
            lambda x: acls.pdf(x) * ecmo.cdf(min(x + d, 1.0)), 0, 1, epsabs=1e-13, limit=200
        )[0]

    for q, key, want in ((0.025, "lo", 0.037), (0.975, "hi", 0.592)):
        d_q = optimize.brentq(lambda d, q=q: cdf(d) - q, 0.0, 1.0, xtol=1e-12)
        mcse = _quantile_mcse(q, density(d_q), spec.exact_draws)
        assert abs(row["rd"][key] - want) <= ARREST_ROUNDING + 3 * mcse, key


# -- PROTECTED TAVR (Sayed, Bayes_in_RCTs; brms) -----------------------------------------------

BRMS_DRAWS = 4000
"""brms's defaults (the qmd sets neither chains nor iter): 4 chains x 1000 post-warm-up draws.
Their effective sample size is not published; the MCSEs below take it as 4000, independent
draws."""
OBSERVED_CONTROL_RISK = 43 / 1499
MCID = 0.011


@pytest.fixture(scope="module")
def tavr():
    spec, ctx, summary = _run("protected_tavr_reproduction")
    (prior,) = ctx.families["exact_logistic"]
    counts = exact_logistic.horizon_counts(ctx.counts, spec.comparison, 1)
    post = exact_logistic.posterior(
        counts, prior.effect, prior.midpoint.sd, alpha_mean=prior.midpoint.mean
    )
    return spec, ctx, summary, post


def test_tavr_spec_holds_the_published_counts_and_priors(tavr):
    spec, ctx, _, post = tavr
    assert post.counts == (34.0, 1501.0, 43.0, 1499.0)
    (prior,) = ctx.families["exact_logistic"]
    assert (prior.effect.mean, prior.effect.sd, prior.effect.scale) == (-0.02, 0.35, "log_or")
    assert (prior.midpoint.mean, prior.midpoint.sd) == (-3.2, 0.5)
    assert prior.control is None
    assert spec.comparison.direction == "lower"


def _theta_density(post, theta: float) -> float:
    return float(np.interp(theta, post.grid, post.density))


def _or_quantile_mcse(post, q: float, draws: int) -> float:
    """MCSE of the OR's ``q`` quantile from ``draws`` independent draws: OR × the log OR
    quantile's MCSE (delta method), with the exact density."""
    theta_q = float(post.quantile(q))
    return math.exp(theta_q) * _quantile_mcse(q, _theta_density(post, theta_q), draws)


def test_tavr_odds_ratio_and_its_interval_are_the_published_ones(tavr):
    """Published: "an odds ratio of 0.84 (95% credible interval: 0.58 to 1.23)", each rounded to
    two decimals (±0.005). brms's point estimate is exp(posterior mean of the log OR) and its
    limits exp(quantiles of the log OR), from 4000 draws: their MCSEs are OR × SD / sqrt(4000)
    and OR × the quantile's MCSE on the log scale (delta method), with the SD and the density
    from bayes_ips's exact posterior. The point estimate is checked as brms defines it (the exact
    posterior mean of the log OR, by quadrature: no MCSE of ours) and as bayes_ips reports it
    (the median); summary.json's OR median and limits come from bayes_ips's ``exact_draws``
    independent draws, so 3 of their MCSEs are added."""
    spec, _, summary, post = tavr
    (row,) = summary["results"]
    weights = post.density * logodds.simpson_weights(post.grid)
    mean = float(np.sum(weights * post.grid) / np.sum(weights))
    sd = math.sqrt(float(np.sum(weights * (post.grid - mean) ** 2) / np.sum(weights)))
    published_mcse = math.exp(mean) * sd / math.sqrt(BRMS_DRAWS)
    assert abs(math.exp(mean) - 0.84) <= 0.005 + 3 * published_mcse
    ours = _or_quantile_mcse(post, 0.5, spec.exact_draws)
    assert abs(row["or"]["median"] - 0.84) <= 0.005 + 3 * published_mcse + 3 * ours
    for q, key, want in ((0.025, "lo", 0.58), (0.975, "hi", 1.23)):
        published_mcse = _or_quantile_mcse(post, q, BRMS_DRAWS)
        ours = _or_quantile_mcse(post, q, spec.exact_draws)
        assert abs(row["or"][key] - want) <= 0.005 + 3 * published_mcse + 3 * ours, key


def test_tavr_probability_of_any_risk_reduction_is_the_published_81_33_percent(tavr):
    """Published: "The probability of any risk reduction at all is 81.33%" (brms hypothesis
    "cepd < 0": the share of 4000 draws, in percent rounded to 2 decimals, ±0.00005). MCSE of a
    share p of 4000 draws: sqrt(p (1 − p) / 4000) = 0.0062. bayes_ips's P(benefit) = P(OR < 1) is
    exact."""
    _, _, summary, post = tavr
    (row,) = summary["results"]
    assert row["p_benefit_mcse"] == 0.0
    assert row["p_benefit"] == pytest.approx(1 - post.prob_benefit(), abs=1e-12)
    published = 0.8133
    tolerance = 0.00005 + 3 * math.sqrt(published * (1 - published) / BRMS_DRAWS)
    assert abs(row["p_benefit"] - published) <= tolerance


def test_tavr_probability_of_a_risk_reduction_above_1_1_percent_is_the_published_5_percent(tavr):
    """Published: "the probability of a risk reduction greater than 1.1% to be 5%". The qmd
    computes it as the share of draws with log OR below log(min_or), min_or the OR at which the
    observed control risk 43/1499 falls by 1.1 percentage points (0.6096); the share is printed
    unrounded ("5": 200 of 4000 draws), so the rounding is nil and the tolerance is 3 MCSE of a
    share of 4000 draws, 3 sqrt(0.05 · 0.95 / 4000) = 0.0103. bayes_ips's value is the same
    quantity from its exact posterior of the log OR (the CDF at log(min_or), inverted from its
    exact quantile function). summary.json's p_rd_gt is not this quantity (the RD with the
    posterior's own control risk), so it is not compared."""
    _, _, _, post = tavr
    odds = special.logit(OBSERVED_CONTROL_RISK)
    log_min_or = special.logit(OBSERVED_CONTROL_RISK - MCID) - odds
    assert math.exp(log_min_or) == pytest.approx(0.6096, abs=5e-5)
    ours = optimize.brentq(lambda q: float(post.quantile(q)) - log_min_or, 1e-9, 0.5, xtol=1e-12)
    published = 0.05
    assert abs(ours - published) <= 3 * math.sqrt(published * (1 - published) / BRMS_DRAWS)


def test_tavr_prior_sensitivity_rows_carry_the_midpoint_prior(tavr):
    """The sensitivity section's exact P(benefit) under each named prior is the fit's own when
    the spec states a midpoint prior (the same exact posterior, on the benefit side)."""
    _, _, summary, _ = tavr
    (row,) = summary["results"]
    (exact,) = summary["sensitivity"]["exact"]
    assert exact["p_benefit"] == pytest.approx(row["p_benefit"], abs=1e-9)
