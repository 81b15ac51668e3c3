"""Effect priors on the log risk ratio: the exact log-binomial quadrature against an independent
2-D quadrature, the log-binomial MCMC model against it, and how the priors are stated and paired."""

from __future__ import annotations

import json
import math

import arviz as az
import numpy as np
import pymc as pm
import pytest
import xarray as xr
from scipy import integrate, special, stats

from bayes_ips import exact_log_binomial as elb
from bayes_ips import inference, models
from bayes_ips.data import Comparison, load_trial
from bayes_ips.errors import InputError
from bayes_ips.estimands import EstimandSettings, summarise
from bayes_ips.priors import NormalEffect, Prior, anchor, ess, get_prior
from bayes_ips.priors.core import DEFAULT_CONTROL, ControlPrior, MixtureEffect
from bayes_ips.priors.ess import elir, local
from bayes_ips.priors.evidence import evidence_priors, load_evidence
from bayes_ips.priors.settings import parse
from bayes_ips.report.sections import prior_dependence
from bayes_ips.spec import SamplerSettings

BETA = ControlPrior("beta", 2.0, 8.0)
CASES = [
    ((19.0, 36.0, 7.0, 18.0), NormalEffect(0.0, 0.5, "log_rr"), DEFAULT_CONTROL),
    ((30.0, 100.0, 20.0, 100.0), NormalEffect(0.2, 0.5, "log_rr"), BETA),
    ((5.0, 10.0, 1.0, 10.0), NormalEffect(0.0, 2.0, "log_rr"), DEFAULT_CONTROL),
    # a harmful treatment near the feasibility bound: 9 of 10 events, control 4 of 10
    ((9.0, 10.0, 4.0, 10.0), NormalEffect(0.0, 1.0, "log_rr"), BETA),
]


def _brute_force(counts, effect, control, points=(4001, 3001)):
    """P(phi > 0), the posterior CDF and log p(y) by brute force on a uniform (phi, x) grid,
    ``x = logit p_c``, with the joint density written from the model's definition (not from the
    module's code) and set to 0 outside the feasible region ``RR · p_c ≤ 1``."""
    y_t, n_t, y_c, n_c = counts
    m, s = effect.mean, effect.sd
    phi = np.linspace(-8.0, 8.0, points[0])
    x = np.linspace(-15.0, 15.0, points[1])
    pc = special.expit(x)[None, :]
    pt = np.exp(phi)[:, None] * pc
    feasible = pt <= 1
    with np.errstate(divide="ignore", invalid="ignore"):
        log_f = (
            control.logpdf_logit(x)[None, :]
            + stats.norm.logpdf(phi, m, s)[:, None]
            - stats.norm.logcdf((-np.log(pc) - m) / s)
            + stats.binom.logpmf(y_t, n_t, np.minimum(pt, 1.0))
            + stats.binom.logpmf(y_c, n_c, pc)
        )
    f = np.where(feasible, np.exp(log_f), 0.0)
    marginal = integrate.trapezoid(f, x, axis=1)
    total = integrate.trapezoid(marginal, phi)
    cdf = integrate.cumulative_trapezoid(marginal, phi, initial=0.0) / total
    return 1.0 - np.interp(0.0, phi, cdf), (phi, cdf), math.log(total)


@pytest.mark.parametrize(("counts", "effect", "control"), CASES)
def test_exact_log_rr_matches_an_independent_2d_quadrature(counts, effect, control):
    post = elb.posterior(counts, effect, control)
    p_benefit, (phi, cdf), log_total = _brute_force(counts, effect, control)
    # the brute-force grid's own error (trapezoid, spacing 0.004 x 0.01) is below 1e-4
    assert post.prob_benefit() == pytest.approx(p_benefit, abs=1e-4)
    assert elb.log_evidence(counts, effect, control) == pytest.approx(log_total, abs=1e-4)
    for q in (0.05, 0.5, 0.95):
        assert np.interp(float(post.quantile(q)), phi, cdf) == pytest.approx(q, abs=1e-4)


def test_draws_are_feasible_and_agree_with_the_exact_probability():
    counts = load_trial("package:ips_in_pain.csv").counts(Comparison()).sel(horizon=[12])
    effect, control = NormalEffect(0.3, 1.0, "log_rr"), BETA
    posts = elb.posteriors(counts, effect, control, Comparison())
    n = 20000
    p = elb.draw_rates(posts, counts, effect, control, Comparison(), n, 5)
    assert p.dims == ("chain", "draw", "arm", "horizon")
    pt, pc = p.sel(arm="IPS").to_numpy().ravel(), p.sel(arm="TAU").to_numpy().ravel()
    assert np.all((pt <= 1) & (pc > 0))
    exact = posts[12].prob_benefit()
    # independent draws: a proportion's SE; 4 SE is a false alarm about once in 16,000
    assert np.mean(pt > pc) == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / n))
    for q in (0.1, 0.5, 0.9):
        want = float(posts[12].quantile(q))
        # a quantile's SE: sqrt(q (1 − q) / n) / density, bounded here by a 0.02 band on log RR
        assert np.quantile(np.log(pt / pc), q) == pytest.approx(want, abs=0.02)


def test_prior_draws_keep_the_control_prior_and_truncate_the_log_rr():
    counts = load_trial("package:ips_in_pain.csv").counts(Comparison()).sel(horizon=[12])
    effect, control = NormalEffect(0.5, 1.0, "log_rr"), BETA
    n = 40000
    p = elb.prior_rates(effect, control, counts, Comparison(), n, 3)
    pt, pc = p.sel(arm="IPS").to_numpy().ravel(), p.sel(arm="TAU").to_numpy().ravel()
    assert np.all(pt <= 1)
    # the control risk keeps its Beta(2, 8): mean 0.2, SD sqrt(ab / ((a+b)²(a+b+1))) = 0.1206
    assert pc.mean() == pytest.approx(0.2, abs=4 * 0.1206 / math.sqrt(n))

    # P(RR > 1) of the truncated prior, integrated independently over p_c
    def given(q):
        cap = stats.norm.cdf((-math.log(q) - 0.5) / 1.0)
        return (cap - stats.norm.cdf(-0.5)) / cap * stats.beta.pdf(q, 2, 8)

    want = integrate.quad(given, 0, 1)[0]
    assert elb.prior_prob_benefit(effect, control) == pytest.approx(want, abs=1e-8)
    assert np.mean(pt > pc) == pytest.approx(want, abs=4 * math.sqrt(want * (1 - want) / n))


@pytest.fixture(scope="module")
def single_horizon_fit():
    counts = load_trial("package:ips_in_pain.csv").counts(Comparison()).sel(horizon=[12])
    prior = Prior("rr", "test", effect=NormalEffect(0.0, 0.5, "log_rr"), group="user")
    model = models.module("log_binomial").build_model(counts, prior)
    tree = inference.sample(model, SamplerSettings(chains=2, draws=1000, tune=700), seed=11)
    return counts, prior, tree


def test_log_binomial_mcmc_matches_the_exact_log_rr_quadrature_within_3_mcse(single_horizon_fit):
    counts, prior, tree = single_horizon_fit
    post = elb.posterior(
        elb.horizon_counts(counts, Comparison(), 12), prior.effect, prior.control_risk
    )
    row = summarise(tree["posterior"]["p"], Comparison()).iloc[0]
    assert row.p_benefit_mcse > 0
    assert abs(row.p_benefit - post.prob_benefit()) < 3 * row.p_benefit_mcse
    p = tree["posterior"]["p"]
    phi = np.log(p.sel(arm="IPS") / p.sel(arm="TAU")).isel(horizon=0)
    median = float(phi.median())
    mcse = float(az.mcse(phi, sample_dims=["chain", "draw"], method="median"))
    assert abs(median - float(post.quantile(0.5))) < 3 * mcse


def test_multi_horizon_prior_keeps_risks_feasible_and_cumulative():
    counts = load_trial("package:ips_in_pain.csv").counts(Comparison())
    prior = Prior("rr", "test", effect=NormalEffect(0.5, 1.0, "log_rr"), group="user")
    model = models.module("log_binomial").build_model(counts, prior)
    p = pm.draw(model["p"], draws=2000, random_seed=4)  # (draw, arm, horizon)
    assert np.all((p > 0) & (p <= 1))
    assert np.all(np.diff(p, axis=-1) >= -1e-12)  # no arm's cumulative risk falls


def test_effect_priors_are_carried_only_by_models_on_their_scale():
    log_or = Prior("sceptic", "t", effect=NormalEffect(0.0, 0.3), group="user")
    log_rr = Prior("rr", "t", effect=NormalEffect(0.0, 0.3, "log_rr"), group="user")
    for model in ("exact_log_binomial", "log_binomial"):
        with pytest.raises(InputError, match="log RR only; this prior is on the log OR"):
            models.check_prior(model, log_or)
        models.check_prior(model, log_rr)
        models.check_prior(model, get_prior("reference"))  # Normal(0, 2.5²) on its own scale
    for model in ("exact_logistic", "hierarchical_logistic"):
        with pytest.raises(InputError, match="carried by exact_log_binomial, log_binomial"):
            models.check_prior(model, log_rr)
    mixture = Prior("m", "t", effect=MixtureEffect((0.5, 0.5), (0, 0), (0.2, 1)), group="user")
    with pytest.raises(InputError, match="log RR only"):  # mixtures are on the log OR
        models.check_prior("log_binomial", mixture)


def test_user_priors_state_their_scale():
    settings = parse(
        {
            "a": {"log_rr_mean": 0.1, "log_rr_sd": 0.4},
            "b": {"rr_median": 0.8, "rr_lower": 0.5, "rr_upper": 1.28},
            "c": {"log_or_mean": 0.1, "log_or_sd": 0.4},
        },
        "spec.toml",
    )
    user = {p.name: p for p in settings.user}
    assert user["a"].effect == NormalEffect(0.1, 0.4, "log_rr")
    b = user["b"].effect
    assert (b.scale, b.mean) == ("log_rr", pytest.approx(math.log(0.8)))
    assert b.sd == pytest.approx((math.log(1.28) - math.log(0.5)) / (2 * stats.norm.isf(0.025)))
    assert user["c"].effect.scale == "log_or"
    assert "on the log RR" in user["a"].describe() and "for the RR" in user["a"].describe()
    with pytest.raises(InputError, match="on one scale") as err:
        parse({"d": {"log_or_mean": 0, "log_or_sd": 1, "log_rr_mean": 0, "log_rr_sd": 1}}, "s.toml")
    assert "priors.d" in str(err.value)


def test_evidence_risk_ratios_give_a_prior_on_the_log_rr_and_keep_the_converted_one():
    studies = load_evidence()
    priors, _ = evidence_priors(studies, 0.389, 0.5)
    by_name = {p.name: p for p in priors}
    rr = next(s for s in studies if s.measure == "RR")
    direct = by_name[rr.prior_name + "_rr"].effect
    assert direct.scale == "log_rr"
    assert direct.mean == pytest.approx(math.log(rr.estimate))
    sd = (math.log(rr.ci_high) - math.log(rr.ci_low)) / (2 * stats.norm.isf(0.025))
    assert direct.sd == pytest.approx(sd / math.sqrt(0.5))
    assert by_name[rr.prior_name].effect.scale == "log_or"  # conversion at p0 kept


@pytest.mark.parametrize(("mean", "sd", "p0"), [(0.3, 0.2, 0.3), (0.1, 1.0, 0.6)])
def test_log_rr_ess_is_the_prior_expected_information_ratio(mean, sd, p0):
    effect = NormalEffect(mean, sd, "log_rr")

    def ratio(phi):  # i_prior / i(phi), i the information of one pair about the log RR
        return stats.norm.pdf(phi, mean, sd) * (math.exp(-phi) / p0 + 1 / p0 - 2) / sd**2

    want = integrate.quad(ratio, mean - 12 * sd, mean + 12 * sd)[0]
    assert elir(effect, p0) == pytest.approx(want, rel=1e-9)
    assert local(effect, p0) == pytest.approx((math.exp(-mean) / p0 + 1 / p0 - 2) / sd**2)
    assert elir(NormalEffect(0.0, 1000.0, "log_rr"), p0) == math.inf  # in logs, no overflow


# --- the control-risk prior ---------------------------------------------------------------------


def test_the_control_risk_prior_is_stated_in_the_spec_and_carried_by_effect_priors():
    settings = parse(
        {"control_beta_a": 3, "control_beta_b": 22, "my_rr": {"log_rr_mean": 0, "log_rr_sd": 1}},
        "spec.toml",
    )
    assert settings.control == ControlPrior("beta", 3.0, 22.0)
    counts = load_trial("package:ips_in_pain.csv").counts(Comparison())
    context = anchor(settings, counts, 12)
    prior = get_prior("my_rr", context)
    assert prior.control_risk == ControlPrior("beta", 3.0, 22.0)
    assert "Beta(3, 22) on the control risk" in prior.describe()
    # a stated Beta is the control arm's conjugate Beta in a rate prior; the treatment arm's stays
    jeffreys = get_prior("jeffreys", context)
    assert (jeffreys.rate.control, jeffreys.rate.treatment) == ((3.0, 22.0), (0.5, 0.5))
    for model in ("exact_log_binomial", "exact_logistic", "hierarchical_logistic"):
        models.check_prior(
            model, prior if model == "exact_log_binomial" else get_prior("neutral_weak", context)
        )
    models.check_prior("beta_binomial", jeffreys)
    assert parse({}, "spec.toml").control is None  # the default: Normal(0, 1.5²) on the logit
    assert get_prior("reference").control_risk == ControlPrior("logit_normal", 0.0, 1.5)


def test_a_normal_control_prior_is_refused_by_the_beta_binomial_models_by_name_and_rule():
    settings = parse({"control_logit_mean": -2, "control_logit_sd": 1}, "spec.toml")
    counts = load_trial("package:ips_in_pain.csv").counts(Comparison())
    context = anchor(settings, counts, 12)
    models.check_prior("exact_logistic", get_prior("reference", context))
    for model in ("beta_binomial", "hierarchical_beta_binomial"):
        with pytest.raises(InputError) as err:
            models.check_prior(model, get_prior("jeffreys", context), "spec.toml")
        text = str(err.value)
        assert f"model {model!r} takes a control-risk prior only as a Beta" in text
        assert "spec.toml" in text and "jeffreys" in text


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"control_beta_a": 2}, "also give control_beta_b"),
        ({"control_beta_a": 2, "control_beta_b": 3, "control_logit_sd": 1}, "give the control"),
        ({"control_logit_mean": 0, "control_logit_sd": -1}, "must be > 0"),
    ],
)
def test_a_bad_control_risk_prior_is_an_input_error_naming_the_key(table, message):
    with pytest.raises(InputError, match=message) as err:
        parse(table, "spec.toml")
    assert "priors.control_" in str(err.value)


def test_the_control_risk_prior_changes_the_exact_answer_as_an_independent_quadrature_does():
    counts = (10.0, 20.0, 3.0, 20.0)
    effect = NormalEffect(0.0, 1.0, "log_rr")
    got = [elb.posterior(counts, effect, c).prob_benefit() for c in (DEFAULT_CONTROL, BETA)]
    want = [_brute_force(counts, effect, c)[0] for c in (DEFAULT_CONTROL, BETA)]
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert abs(got[0] - got[1]) > 1e-3  # the control prior matters at these counts


# --- ARR at a stated baseline risk ---------------------------------------------------------------


def test_arr_at_a_baseline_risk_is_baseline_times_one_minus_rr():
    rng = np.random.default_rng(2)
    values = rng.uniform(0.05, 0.6, size=(2, 500, 2, 1))
    p = xr.DataArray(
        values,
        dims=("chain", "draw", "arm", "horizon"),
        coords={"arm": ["IPS", "TAU"], "horizon": [12]},
    )
    plain = summarise(p, Comparison())
    assert "arr_at_baseline" not in plain.columns  # only when the spec asks for it
    row = summarise(p, Comparison(), EstimandSettings(baseline_risk=0.12)).iloc[0]
    arr = 0.12 * (1 - values[:, :, 0, 0] / values[:, :, 1, 0]).ravel()
    got = row["arr_at_baseline"]
    assert got["baseline"] == 0.12
    assert got["median"] == pytest.approx(np.quantile(arr, 0.5), rel=1e-12)
    assert (got["lo"], got["hi"]) == pytest.approx(tuple(np.quantile(arr, [0.025, 0.975])))


# --- very vague priors on the exact models ------------------------------------------------------

VAGUE_SPEC = """
[data]
path = "{data}"
treatment = "IPS"
control = "TAU"
primary_horizon = 12
[models.exact_logistic]
priors = ["flat_or"]
[models.exact_log_binomial]
priors = ["flat_rr"]
[priors.flat_or]
log_or_mean = 0
log_or_sd = 1000
[priors.flat_rr]
log_rr_mean = 0
log_rr_sd = 1000
[estimands]
baseline_risk = 0.12
exact_draws = 2000
[decision]
enabled = false
[missing_data]
enabled = false
"""


def test_sd_1000_on_the_log_or_and_the_log_rr_run_to_exit_0(tmp_path, cli):
    data = tmp_path / "trial.csv"
    data.write_text(
        "arm,horizon_months,employed,n_analysed,n_randomised,verified,source\n"
        "IPS,12,19,36,36,true,test\nTAU,12,7,18,18,true,test\n"
    )
    spec = tmp_path / "spec.toml"
    spec.write_text(VAGUE_SPEC.format(data=data.as_posix()))
    code, out, err = cli("priors", spec)
    assert code == 0, err
    assert "Normal(0.000, 1000.000²) on the log RR" in out
    code, out, err = cli("run", spec, "--out", tmp_path / "run")
    assert code == 0, err
    assert "ARR at a 12.0% baseline risk" in out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    rows = {r["model"]: r for r in summary["results"]}
    # under a flat prior the exact posterior is the likelihood's: against the brute-force grid
    for model, effect in (("exact_log_binomial", NormalEffect(0.0, 1000.0, "log_rr")),):
        want = _brute_force((19.0, 36.0, 7.0, 18.0), effect, DEFAULT_CONTROL)[0]
        assert rows[model]["p_benefit"] == pytest.approx(want, abs=1e-4)
    assert rows["exact_logistic"]["p_benefit"] > 0.5
    assert "arr_at_baseline" in rows["exact_log_binomial"]
    # the prior-predictive check holds the conditioned prior's P(RR > 1)
    checks = summary["sensitivity"]["prior_predictive"]
    assert [c["holds"] for c in checks if c["model"] == "exact_log_binomial"] == [True]


def test_prior_dependence_ranges_log_or_and_log_rr_priors_separately():
    rows = [
        {
            "model": "exact_logistic",
            "prior": "a",
            "horizon_months": 12,
            "p_benefit": 0.6,
            "p_benefit_mcse": 0.0,
            "verified_data": True,
        },
        {
            "model": "exact_logistic",
            "prior": "b",
            "horizon_months": 12,
            "p_benefit": 0.7,
            "p_benefit_mcse": 0.0,
            "verified_data": True,
        },
        {
            "model": "exact_log_binomial",
            "prior": "c",
            "horizon_months": 12,
            "p_benefit": 0.9,
            "p_benefit_mcse": 0.0,
            "verified_data": True,
        },
    ]
    text = prior_dependence({"run": {"primary_horizon": 12}, "results": rows})
    assert "on the log OR of the cumulative outcome), from 60% (a," in text
    assert "to 70% (b, exact single-horizon logistic)" in text
    assert "effect priors on the log RR (the log-binomial models), 90% (c," in text


@pytest.mark.parametrize(("mean", "sd", "p0"), [(-0.248, 0.194, 57 / 125), (0.5, 1.0, 0.3)])
def test_log_rr_rate_scale_ess_and_shape_use_the_rr_link_and_its_truncation(mean, sd, p0):
    """The implied treatment rate of a log-RR prior is p0 · e^theta, conditioned on being at most
    1 (as the log-binomial models condition it), not invlogit(logit p0 + theta): its moments and
    tail mass against independent draws (4 million; the moment-matched ESS agrees to 1%)."""
    effect = NormalEffect(mean, sd, "log_rr")
    rate = p0 * np.exp(np.random.default_rng(5).normal(mean, sd, 4_000_000))
    rate = rate[rate <= 1]
    m, v = rate.mean(), rate.var()
    spread = m * (1 - m)
    want = (spread / v - 1) * (1 + spread / (p0 * (1 - p0)))
    assert ess.rate_scale(effect, p0) == pytest.approx(want, rel=0.01)
    extreme = np.mean((rate < 0.05) | (rate > 0.95))
    assert ess.rate_shape(effect, p0)["extreme_mass"] == pytest.approx(extreme, abs=1e-3)


def test_a_log_rr_prior_with_no_mass_on_feasible_risks_is_an_input_error(tmp_path, cli):
    """Normal(1.5, 0.1²) on the log RR at a control rate of 45.6%: RR ≤ 2.19 (log 0.785) holds
    with prior probability Φ(−7.1) ≈ 5e-13. Refused before any fit, naming the prior."""
    data = tmp_path / "trial.csv"
    data.write_text(
        "arm,horizon_months,employed,n_analysed,n_randomised,verified,source\n"
        "T,2,44,124,124,true,test\nC,2,57,125,125,true,test\n"
    )
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'[data]\npath = "{data.as_posix()}"\ntreatment = "T"\ncontrol = "C"\n'
        "primary_horizon = 2\n[models.exact_log_binomial]\npriors = ['far']\n"
        "[priors.far]\nlog_rr_mean = 1.5\nlog_rr_sd = 0.1\n"
    )
    code, _, err = cli("run", spec, "--out", tmp_path / "run")
    assert code == 2 and len(err.splitlines()) == 1
    assert "field 'models.exact_log_binomial.priors', value 'far'" in err
    assert "risk ratios up to 2.19" in err and "at least 0.1%" in err
    assert not (tmp_path / "run").exists()
