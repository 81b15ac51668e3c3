"""The control-risk prior and the midpoint prior stated in ``[priors]`` in the logistic models:
the exact quadrature against an independent 2-D grid written from the model's definition, the
MCMC logistic model against the exact answer, the prior draws, the methods text that names it,
and the spec's rules (the two exclude each other; models without a midpoint refuse it)."""

from __future__ import annotations

import math

import arviz as az
import numpy as np
import pymc as pm
import pytest
from scipy import integrate, special, stats

from bayes_ips import context, exact_logistic, inference, logodds, models
from bayes_ips.data import Comparison, load_trial
from bayes_ips.errors import InputError
from bayes_ips.estimands import summarise
from bayes_ips.pipeline import load_spec
from bayes_ips.priors import NormalEffect, Prior
from bayes_ips.priors.core import ControlPrior, MidpointPrior
from bayes_ips.report.sections import control_prior_text
from bayes_ips.spec import SamplerSettings

BETA = ControlPrior("beta", 2.0, 8.0)
LOGIT_NORMAL = ControlPrior("logit_normal", -1.0, 0.7)


def _grid_answer(counts, effect: NormalEffect, control: ControlPrior):
    """P(theta > 0), the posterior median of theta and log p(y) on a uniform (theta, x) grid,
    ``x`` the control log-odds, with the density written from the model's definition: the
    control prior through scipy (a Beta on the rate times the Jacobian p (1 − p), or a normal on
    the logit), ``y_t ~ Binomial(n_t, expit(x + theta))`` and ``y_c ~ Binomial(n_c, expit(x))``."""
    y_t, n_t, y_c, n_c = counts
    theta = np.linspace(-6.0, 6.0, 2401)
    x = np.linspace(-14.0, 10.0, 3001)
    pc = special.expit(x)
    if control.family == "beta":
        prior_x = stats.beta.pdf(pc, control.a, control.b) * pc * (1 - pc)
    else:
        prior_x = stats.norm.pdf(x, control.a, control.b)
    pt = special.expit(x[None, :] + theta[:, None])
    f = (
        stats.norm.pdf(theta, effect.mean, effect.sd)[:, None]
        * prior_x[None, :]
        * stats.binom.pmf(y_t, n_t, pt)
        * stats.binom.pmf(y_c, n_c, pc)[None, :]
    )
    marginal = integrate.trapezoid(f, x, axis=1)
    total = integrate.trapezoid(marginal, theta)
    cdf = integrate.cumulative_trapezoid(marginal, theta, initial=0.0) / total
    return 1.0 - float(np.interp(0.0, theta, cdf)), float(np.interp(0.5, cdf, theta)), total


@pytest.mark.parametrize("control", [BETA, LOGIT_NORMAL], ids=["beta", "logit_normal"])
@pytest.mark.parametrize(
    ("counts", "effect"),
    [
        ((19.0, 36.0, 7.0, 18.0), NormalEffect(0.0, 1.0)),
        ((3.0, 40.0, 9.0, 40.0), NormalEffect(0.3, 2.0)),
    ],
)
def test_exact_logistic_with_a_control_prior_matches_an_independent_2d_grid(
    counts, effect, control
):
    post = exact_logistic.posterior(counts, effect, control=control)
    p_benefit, median, evidence = _grid_answer(counts, effect, control)
    # the reference grid's trapezoid error at these steps (0.005 in theta, 0.008 in x) is below 1e-6
    assert post.prob_benefit() == pytest.approx(p_benefit, abs=1e-5)
    assert float(post.quantile(0.5)) == pytest.approx(median, abs=1e-4)
    log_p = exact_logistic.log_evidence(counts, effect, control=control)
    assert log_p == pytest.approx(math.log(evidence), abs=1e-5)


def test_the_logit_beta_density_is_exact_and_the_mode_search_finds_it_at_extreme_effects():
    x = np.linspace(-30.0, 30.0, 13)
    a, b = BETA.a, BETA.b
    want = a * np.log(special.expit(x)) + b * np.log(special.expit(-x)) - special.betaln(a, b)
    np.testing.assert_allclose(BETA.logpdf_logit(x), want, rtol=1e-12, atol=1e-12)
    assert integrate.quad(lambda t: math.exp(BETA.logpdf_logit(t)), -60, 60)[0] == pytest.approx(1)
    # the conditional mode at |theta| up to 400: gradient zero there (central difference)
    theta = np.array([-400.0, -20.0, 0.0, 20.0, 400.0])
    counts = (1.0, 1.0, 0.0, 1.0)
    alpha, _ = logodds.alpha_mode(*counts, theta, 1.5, BETA)
    assert np.all(np.isfinite(alpha))
    h = 1e-5
    up = logodds.log_joint(*counts, alpha + h, theta, control=BETA)
    down = logodds.log_joint(*counts, alpha - h, theta, control=BETA)
    centre = logodds.log_joint(*counts, alpha, theta, control=BETA)
    assert np.all(centre >= np.maximum(up, down) - 1e-9)


def test_prior_draws_give_the_control_arm_its_stated_beta():
    counts = load_trial("package:ips_in_pain.csv").counts(Comparison()).sel(horizon=[12])
    n = 20000
    p = exact_logistic.prior_rates(NormalEffect(0.0, 1.0), counts, Comparison(), n, 3, BETA)
    pc = p.sel(arm="TAU").to_numpy().ravel()
    # Beta(2, 8): mean 0.2, SD 0.1206; and the two-sided KS test at the 0.1% level
    assert pc.mean() == pytest.approx(0.2, abs=4 * 0.1206 / math.sqrt(n))
    assert stats.kstest(pc, stats.beta(2, 8).cdf).pvalue > 1e-3


@pytest.fixture(scope="module")
def beta_control_fit():
    counts = load_trial("package:ips_in_pain.csv").counts(Comparison()).sel(horizon=[12])
    prior = Prior("c", "test", effect=NormalEffect(0.0, 1.0), group="user", control=BETA)
    model = models.module("hierarchical_logistic").build_model(counts, prior)
    tree = inference.sample(model, SamplerSettings(chains=2, draws=1000, tune=700), seed=5)
    return counts, prior, tree


def test_mcmc_logistic_with_a_beta_control_prior_matches_the_exact_answer_within_3_mcse(
    beta_control_fit,
):
    counts, prior, tree = beta_control_fit
    at = exact_logistic.horizon_counts(counts, Comparison(), 12)
    post = exact_logistic.posterior(at, prior.effect, control=prior.control)
    assert post.prob_benefit() != pytest.approx(
        exact_logistic.posterior(at, prior.effect).prob_benefit(), abs=0.01
    )  # the stated prior matters here, so agreeing with it is a check
    row = summarise(tree["posterior"]["p"], Comparison()).iloc[0]
    assert row.p_benefit_mcse > 0
    assert abs(row.p_benefit - post.prob_benefit()) < 3 * row.p_benefit_mcse
    theta = tree["posterior"]["theta"].isel(horizon=0)
    mcse = float(az.mcse(theta, sample_dims=["chain", "draw"], method="median"))
    assert abs(float(theta.median()) - float(post.quantile(0.5))) < 3 * mcse


def test_the_models_of_a_stated_control_prior_share_compiled_models_by_its_family():
    effect = NormalEffect(0.0, 1.0)
    plain = Prior("p", "test", effect=effect, group="user")
    beta = Prior("b", "test", effect=effect, group="user", control=BETA)
    module = models.module("hierarchical_logistic")
    assert module.structure(plain) == "normal"
    assert module.structure(beta) == "normal+control_beta"
    assert module.prior_data(beta)["prior_control_a"] == 2.0
    assert "prior_control_a" not in module.prior_data(plain)


def test_the_methods_text_names_the_control_prior_or_the_defaults():
    stated = {"priors": [{"name": "x"}, {"name": "y", "control": BETA.as_dict()}]}
    text = control_prior_text(stated)
    assert "Beta(2, 8) on the control risk (95% prior interval 2.8% to 48.2%)" in text
    assert "conjugate Beta in the beta-binomial models" in text
    normal = control_prior_text({"priors": [{"name": "y", "control": LOGIT_NORMAL.as_dict()}]})
    assert "Normal(-1, 0.7²) on the logit of the control risk" in normal
    assert "beta-binomial" not in normal
    default = control_prior_text({"priors": [{"name": "x"}]})
    assert "none stated" in default and "midpoint log-odds" in default


@pytest.mark.parametrize("model", ["hierarchical_logistic", "adjusted_logistic"])
def test_the_pooled_logistic_models_put_the_stated_prior_on_the_control_arms_first_log_odds(model):
    data = load_trial("package:ips_in_pain_synthetic_ipd.csv")
    counts = data.counts(Comparison())
    control = ControlPrior("beta", 4.0, 6.0)
    prior = Prior("c", "test", effect=NormalEffect(0.0, 1.0), group="user", control=control)
    with models.module(model).build_model(counts, prior):
        draws = pm.sample_prior_predictive(
            draws=2000, random_seed=9, var_names=["alpha", "theta", "control1"]
        )
    prior_draws = draws["prior"]
    rate = special.expit(
        prior_draws["alpha"].isel(horizon=0) - prior_draws["theta"].isel(horizon=0) / 2
    )
    np.testing.assert_allclose(rate, prior_draws["control1"], rtol=1e-9)
    # Beta(4, 6), by the two-sided KS test at the 0.1% level
    assert (
        stats.kstest(prior_draws["control1"].to_numpy().ravel(), stats.beta(4, 6).cdf).pvalue > 1e-3
    )


# -- the logistic models' midpoint prior ([priors] midpoint_logit_mean / midpoint_logit_sd) ------

MIDPOINT = MidpointPrior(-1.0, 0.5)


def _midpoint_grid_answer(counts, effect: NormalEffect, midpoint: MidpointPrior):
    """P(theta > 0), the posterior median of theta and log p(y) on a uniform (theta, alpha) grid
    written from the model's definition: ``alpha ~ Normal(mean, sd²)`` through scipy,
    ``y_t ~ Binomial(n_t, expit(alpha + theta/2))``, ``y_c ~ Binomial(n_c, expit(alpha −
    theta/2))``. The alpha grid covers the prior mean ± 8 prior SDs (the posterior of alpha is
    narrower than its prior)."""
    y_t, n_t, y_c, n_c = counts
    theta = np.linspace(-8.0, 8.0, 6401)
    alpha = np.linspace(midpoint.mean - 8 * midpoint.sd, midpoint.mean + 8 * midpoint.sd, 2001)
    a, t = alpha[None, :], theta[:, None]
    log_f = (
        stats.norm.logpdf(t, effect.mean, effect.sd)
        + stats.norm.logpdf(a, midpoint.mean, midpoint.sd)
        + stats.binom.logpmf(y_t, n_t, special.expit(a + t / 2))
        + stats.binom.logpmf(y_c, n_c, special.expit(a - t / 2))
    )
    peak = log_f.max()
    marginal = integrate.trapezoid(np.exp(log_f - peak), alpha, axis=1)
    total = integrate.trapezoid(marginal, theta)
    cdf = integrate.cumulative_trapezoid(marginal, theta, initial=0.0) / total
    p_benefit = 1.0 - float(np.interp(0.0, theta, cdf))
    return p_benefit, float(np.interp(0.5, cdf, theta)), math.log(total) + peak


@pytest.mark.parametrize(
    ("counts", "effect", "midpoint"),
    [
        ((19.0, 36.0, 7.0, 18.0), NormalEffect(0.0, 1.0), MIDPOINT),
        ((3.0, 40.0, 9.0, 40.0), NormalEffect(0.3, 2.0), MidpointPrior(0.5, 2.0)),
        ((34.0, 1501.0, 43.0, 1499.0), NormalEffect(-0.02, 0.35), MidpointPrior(-3.2, 0.5)),
    ],
    ids=["ips-12-months", "few-events", "protected-tavr"],
)
def test_exact_logistic_with_a_midpoint_prior_matches_an_independent_2d_grid(
    counts, effect, midpoint
):
    post = exact_logistic.posterior(counts, effect, midpoint.sd, alpha_mean=midpoint.mean)
    p_benefit, median, log_evidence = _midpoint_grid_answer(counts, effect, midpoint)
    # the reference grid's trapezoid steps (0.0025 in theta, at most 0.016 in alpha, against
    # posterior SDs of 0.1 or more) put its error below 1e-6
    assert post.prob_benefit() == pytest.approx(p_benefit, abs=1e-5)
    assert float(post.quantile(0.5)) == pytest.approx(median, abs=1e-4)
    log_p = exact_logistic.log_evidence(counts, effect, midpoint.sd, alpha_mean=midpoint.mean)
    assert log_p == pytest.approx(log_evidence, abs=1e-5)


def test_the_default_midpoint_prior_is_the_documented_normal_0_1_5():
    counts, effect = (19.0, 36.0, 7.0, 18.0), NormalEffect(0.0, 1.0)
    default = exact_logistic.posterior(counts, effect)
    stated = exact_logistic.posterior(counts, effect, 1.5, alpha_mean=0.0)
    np.testing.assert_array_equal(default.grid, stated.grid)
    np.testing.assert_array_equal(default.density, stated.density)
    p_benefit, _, _ = _midpoint_grid_answer(counts, effect, MidpointPrior(0.0, 1.5))
    assert default.prob_benefit() == pytest.approx(p_benefit, abs=1e-5)


def test_exact_draws_and_prior_draws_follow_the_midpoint_prior():
    counts = load_trial("package:ips_in_pain.csv").counts(Comparison()).sel(horizon=[12])
    effect, n = NormalEffect(0.0, 1.0), 20000
    p = exact_logistic.prior_rates(
        effect, counts, Comparison(), n, 3, alpha_mean=MIDPOINT.mean, alpha_sd=MIDPOINT.sd
    )
    alpha = (special.logit(p.sel(arm="IPS")) + special.logit(p.sel(arm="TAU"))) / 2
    assert stats.kstest(alpha.to_numpy().ravel(), stats.norm(-1.0, 0.5).cdf).pvalue > 1e-3
    # posterior draws: the rates' mean log-odds has the exact posterior mean of alpha, which the
    # independent grid gives; 5 standard errors of a mean of n independent draws
    at = exact_logistic.horizon_counts(counts, Comparison(), 12)
    posts = exact_logistic.posteriors(
        counts, effect, Comparison(), alpha_mean=MIDPOINT.mean, alpha_sd=MIDPOINT.sd
    )
    draws = exact_logistic.draw_rates(posts, counts, Comparison(), n, 4)
    drawn = (special.logit(draws.sel(arm="IPS")) + special.logit(draws.sel(arm="TAU"))) / 2
    theta = np.linspace(-4.0, 4.0, 801)[:, None]
    grid = np.linspace(-4.0, 2.0, 1201)[None, :]
    f = np.exp(
        stats.norm.logpdf(theta, 0.0, 1.0)
        + stats.norm.logpdf(grid, MIDPOINT.mean, MIDPOINT.sd)
        + stats.binom.logpmf(at[0], at[1], special.expit(grid + theta / 2))
        + stats.binom.logpmf(at[2], at[3], special.expit(grid - theta / 2))
    )
    mean = float((f * grid).sum() / f.sum())
    sd = math.sqrt(float((f * (grid - mean) ** 2).sum() / f.sum()))
    assert float(drawn.mean()) == pytest.approx(mean, abs=5 * sd / math.sqrt(n))


@pytest.fixture(scope="module")
def midpoint_fit():
    counts = load_trial("package:ips_in_pain.csv").counts(Comparison()).sel(horizon=[12])
    prior = Prior("m", "test", effect=NormalEffect(0.0, 1.0), group="user", midpoint=MIDPOINT)
    model = models.module("hierarchical_logistic").build_model(counts, prior)
    tree = inference.sample(model, SamplerSettings(chains=2, draws=1000, tune=700), seed=5)
    return counts, prior, tree


def test_mcmc_logistic_with_a_midpoint_prior_matches_the_exact_answer_within_3_mcse(
    midpoint_fit,
):
    counts, prior, tree = midpoint_fit
    at = exact_logistic.horizon_counts(counts, Comparison(), 12)
    post = exact_logistic.posterior(at, prior.effect, MIDPOINT.sd, alpha_mean=MIDPOINT.mean)
    assert post.prob_benefit() != pytest.approx(
        exact_logistic.posterior(at, prior.effect).prob_benefit(), abs=0.01
    )  # the stated prior matters here, so agreeing with it is a check
    row = summarise(tree["posterior"]["p"], Comparison()).iloc[0]
    assert row.p_benefit_mcse > 0
    assert abs(row.p_benefit - post.prob_benefit()) < 3 * row.p_benefit_mcse
    theta = tree["posterior"]["theta"].isel(horizon=0)
    mcse = float(az.mcse(theta, sample_dims=["chain", "draw"], method="median"))
    assert abs(float(theta.median()) - float(post.quantile(0.5))) < 3 * mcse


@pytest.mark.parametrize("model", ["hierarchical_logistic", "adjusted_logistic"])
def test_the_pooled_logistic_models_put_the_midpoint_prior_on_alpha1(model):
    counts = load_trial("package:ips_in_pain_synthetic_ipd.csv").counts(Comparison())
    prior = Prior("m", "test", effect=NormalEffect(0.0, 1.0), group="user", midpoint=MIDPOINT)
    module = models.module(model)
    assert module.structure(prior) == "normal+midpoint"
    assert module.prior_data(prior)["prior_midpoint_mean"] == -1.0
    with module.build_model(counts, prior):
        draws = pm.sample_prior_predictive(draws=2000, random_seed=9, var_names=["alpha"])
    alpha1 = draws["prior"]["alpha"].isel(horizon=0).to_numpy().ravel()
    assert stats.kstest(alpha1, stats.norm(-1.0, 0.5).cdf).pvalue > 1e-3


def test_the_methods_text_names_a_stated_midpoint_prior():
    text = control_prior_text({"priors": [{"name": "y", "midpoint": MIDPOINT.as_dict()}]})
    assert "Normal(-1, 0.5²) on the arms' midpoint log-odds" in text
    assert "centred intercept" in text and "no control-risk prior" in text


MIDPOINT_SPEC = """
title = "t"
name = "t"
[data]
path = "package:ips_in_pain.csv"
treatment = "IPS"
control = "TAU"
primary_horizon = 12
[models.{model}]
priors = ["reference"]
[priors]
midpoint_logit_mean = -1.0
{extra}
"""


def _spec_error(tmp_path, model: str, extra: str = "") -> str:
    path = tmp_path / "s.toml"
    path.write_text(MIDPOINT_SPEC.format(model=model, extra=extra), encoding="utf-8")
    with pytest.raises(InputError) as err:
        context.prepare(load_spec(path))
    return str(err.value)


def test_a_midpoint_prior_and_a_control_risk_prior_together_are_an_input_error(tmp_path):
    message = _spec_error(
        tmp_path, "exact_logistic", "control_logit_mean = -1.0\ncontrol_logit_sd = 0.5"
    )
    assert "s.toml" in message and "priors.midpoint_logit_mean" in message and "-1" in message
    assert "control_logit_mean" in message and "not both" in message


@pytest.mark.parametrize(
    "model", ["beta_binomial", "exact_log_binomial", "log_binomial", "discrete_time_hazard"]
)
def test_models_without_a_midpoint_refuse_the_midpoint_prior(tmp_path, model):
    message = _spec_error(tmp_path, model)
    assert f"models.{model}.priors" in message and "has no midpoint log-odds" in message


def test_the_midpoint_prior_is_carried_by_every_prior_and_its_default_is_0_and_1_5(tmp_path):
    path = tmp_path / "s.toml"
    text = MIDPOINT_SPEC.format(model="exact_logistic", extra="").replace(
        "midpoint_logit_mean = -1.0", "midpoint_logit_sd = 0.8"
    )
    path.write_text(text, encoding="utf-8")
    ctx = context.prepare(load_spec(path))
    (prior,) = ctx.families["exact_logistic"]
    assert prior.midpoint == MidpointPrior(0.0, 0.8)
    assert prior.as_dict()["midpoint"] == {"mean": 0.0, "sd": 0.8}
    assert Prior.from_dict(prior.as_dict()) == prior
