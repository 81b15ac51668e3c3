"""Discrete-time hazard and covariate-adjusted models: likelihood identities and small fits; both
interval models (hazard, pooled beta-binomial) on simulated cumulative data."""

from __future__ import annotations

import json

import arviz as az
import numpy as np
import pytest
import xarray as xr
from scipy import special

from bayes_ips import inference
from bayes_ips.data import Comparison, IpdSettings, load_trial
from bayes_ips.errors import InputError
from bayes_ips.models import module
from bayes_ips.priors import get_prior
from bayes_ips.spec import SamplerSettings

SMALL = SamplerSettings(chains=2, draws=400, tune=300)
HORIZONS = [6, 12, 24]
SYNTHETIC = "ips_in_pain_synthetic_ipd.csv"


def counts_of(name: str, covariates=()) -> xr.Dataset:
    return load_trial(f"package:{name}", IpdSettings(covariates=covariates)).counts(Comparison())


def random_points(model, n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    start = model.initial_point()
    return [{k: v + rng.normal(0, 0.7, np.shape(v)) for k, v in start.items()} for _ in range(n)]


def evaluate(model, names: list[str], point: dict) -> list[np.ndarray]:
    """Values of model variables (random or deterministic) at a point of the free variables."""
    outs = model.replace_rvs_by_values([model[n] for n in names])
    return model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")(point)


def logp_differences(model_a, model_b, seed: int) -> np.ndarray:
    fa, fb = model_a.compile_logp(), model_b.compile_logp()
    return np.array([fa(pt) - fb(pt) for pt in random_points(model_a, 6, seed)])


@pytest.mark.parametrize(
    ("name", "covariates"),
    [
        ("discrete_time_hazard", ()),
        ("discrete_time_hazard", ("age", "female")),
        ("adjusted_logistic", ("age", "female")),
    ],
)
def test_ipd_models_build_with_named_dims(name, covariates):
    model = module(name).build_model(counts_of(SYNTHETIC, covariates), get_prior("reference"))
    assert model.named_vars_to_dims["p"] == ("arm", "horizon")
    assert ("eta" in model.named_vars) == bool(covariates)
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))
    assert np.all(np.isfinite(model.compile_dlogp()(point)))


def test_adjusted_logistic_refuses_aggregate_data():
    with pytest.raises(InputError, match="needs individual participant data"):
        module("adjusted_logistic").build_model(
            counts_of("ips_in_pain.csv"), get_prior("reference")
        )


def test_ipd_likelihoods_equal_the_aggregate_ones_up_to_a_constant():
    """Person-period Bernoulli terms vs interval binomials; participant outcomes vs counts.

    Without covariates the individual-data likelihood differs from the aggregate one only by the
    binomial coefficients, so the log densities differ by the same constant at every point and
    the posteriors are identical.
    """
    prior = get_prior("reference")
    agg, ipd = counts_of("ips_in_pain.csv"), counts_of(SYNTHETIC)
    for agg_name, ipd_name in (
        ("discrete_time_hazard", "discrete_time_hazard"),
        ("hierarchical_logistic", "adjusted_logistic"),
    ):
        diff = logp_differences(
            module(agg_name).build_model(agg, prior), module(ipd_name).build_model(ipd, prior), 1
        )
        assert np.ptp(diff) < 1e-8, diff
        assert abs(diff[0]) > 1  # the binomial coefficients: a real, non-zero constant


def test_marginal_rates_are_g_computation_over_the_sample():
    counts = counts_of(SYNTHETIC, ("age", "female"))
    model = module("adjusted_logistic").build_model(counts, get_prior("reference"))
    point = random_points(model, 1, seed=4)[0]
    p, theta, alpha, eta = evaluate(model, ["p", "theta", "alpha", "eta"], point)
    x = counts["x"].to_numpy()
    x = (x - x.mean(0)) / x.std(0)
    for a, sign in ((0, 0.5), (1, -0.5)):  # symmetric arms: alpha ± theta / 2
        expected = special.expit(alpha + sign * theta + (x @ eta)[:, None]).mean(axis=0)
        assert np.allclose(p[a], expected)


def test_hazard_g_computation_and_cumulative_rates():
    """cloglog h = log(interval length) + gamma ± beta / 2 + x · eta; p = 1 − ∏(1 − h) averaged
    over the participants, written out by hand."""
    counts = counts_of(SYNTHETIC, ("age", "female"))
    model = module("discrete_time_hazard").build_model(counts, get_prior("reference"))
    point = random_points(model, 1, seed=5)[0]
    p, beta, gamma, eta, hazard = evaluate(model, ["p", "beta", "gamma", "eta", "hazard"], point)
    x = counts["x"].to_numpy()
    x = (x - x.mean(0)) / x.std(0)
    months = np.diff([0.0, *HORIZONS])
    for a, sign in ((0, 0.5), (1, -0.5)):
        rate = np.exp(gamma + sign * beta)  # per month, the same in every month of an interval
        assert np.allclose(hazard[a], 1 - np.exp(-rate * months))
        h = 1 - np.exp(-months * rate[None, :] * np.exp(x @ eta)[:, None])
        expected = (1 - np.cumprod(1 - h, axis=1)).mean(axis=0)
        assert np.allclose(p[a], expected)


def test_the_likelihood_is_the_binomial_of_the_cloglog_hazards():
    """The model's log density at a point equals its prior plus hand-written interval binomials
    with h = 1 − exp(−Δt · exp(gamma ± beta / 2)), including at extreme rates."""
    counts = counts_of("ips_in_pain.csv")
    model = module("discrete_time_hazard").build_model(counts, get_prior("reference"))
    at_risk, events = np.array([[36, 24, 17], [18, 13, 11]]), np.array([[12, 7, 3], [5, 2, 0]])
    months = np.diff([0.0, *HORIZONS])
    loglik = model.compile_fn(model.observedlogp, inputs=model.value_vars)
    for shift in (0.0, -8.0, 3.0):
        point = random_points(model, 1, seed=6)[0]
        point["gamma0"] = point["gamma0"] + shift
        gamma, beta = evaluate(model, ["gamma", "beta"], point)
        cum_hazard = months * np.exp(gamma + np.array([[0.5], [-0.5]]) * beta)
        # log h = log(1 − exp(−Λ)) and log(1 − h) = −Λ, written without rounding h to 1
        log_choose = special.gammaln(at_risk + 1) - special.gammaln(events + 1)
        log_choose -= special.gammaln(at_risk - events + 1)
        log_h = np.log(-np.expm1(-cum_hazard))
        expected = (log_choose + events * log_h - (at_risk - events) * cum_hazard).sum()
        assert loglik(point) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_only_the_reference_prior_is_accepted():
    family = module("discrete_time_hazard")
    assert family.prior_data(get_prior("reference")) == {}
    for name in ("optimistic_strong", "neutral_weak", "jeffreys"):
        with pytest.raises(InputError) as err:
            family.prior_data(get_prior(name))
        e = err.value
        assert (e.source, e.field, e.value) == ("spec", "models.discrete_time_hazard.priors", name)
        assert "log hazard ratio" in e.rule
        for model in ("hierarchical_logistic", "exact_logistic", "adjusted_logistic"):
            assert model in e.rule
        with pytest.raises(InputError):
            family.build_model(counts_of("ips_in_pain.csv"), get_prior(name))


def simulate_cumulative(n: int, seed: int):
    """Cumulative counts from known interval hazards, following one cohort per arm."""
    control = np.array([0.25, 0.15, 0.10])
    log_or = np.array([0.5, 0.4, 0.6])
    hazards = {"T": special.expit(special.logit(control) + log_or), "C": control}
    rng = np.random.default_rng(seed)
    employed = []
    for h in hazards.values():
        at_risk, total, cum = n, 0, []
        for hk in h:
            events = rng.binomial(at_risk, hk)
            at_risk, total = at_risk - events, total + events
            cum.append(total)
        employed.append(cum)
    counts = xr.Dataset(
        {
            "employed": (("arm", "horizon"), np.array(employed)),
            "n_analysed": (("arm", "horizon"), np.full((2, 3), n)),
        },
        coords={"arm": ["T", "C"], "horizon": HORIZONS},
    )
    true_p = xr.DataArray(
        np.array([1 - np.cumprod(1 - h) for h in hazards.values()]),
        dims=("arm", "horizon"),
        coords={"arm": ["T", "C"], "horizon": HORIZONS},
    )
    return counts, true_p


@pytest.fixture(scope="module", params=["discrete_time_hazard", "hierarchical_beta_binomial"])
def simulated_fit(request):
    counts, true_p = simulate_cumulative(n=1000, seed=21)
    family = module(request.param)
    model = family.build_model(counts, get_prior("reference"))
    generated = getattr(family, "generated_quantities", None)
    return true_p, inference.sample(model, SMALL, seed=8, generated=generated)


def test_simulated_hazards_are_recovered(simulated_fit):
    """99.5% intervals of the 6 cumulative risks and 3 RDs (family-wise ~95%) cover the truth."""
    true_p, tree = simulated_fit
    p = tree["posterior"]["p"]
    rd = p.sel(arm="T") - p.sel(arm="C")
    true_rd = true_p.sel(arm="T") - true_p.sel(arm="C")
    for est, truth in ((p, true_p), (rd, true_rd)):
        lo, hi = est.quantile(0.0025, ("chain", "draw")), est.quantile(0.9975, ("chain", "draw"))
        assert bool(((lo <= truth) & (truth <= hi)).all()), json.dumps(
            {"lo": lo.values.tolist(), "hi": hi.values.tolist(), "true": truth.values.tolist()}
        )
        assert float((hi - lo).max()) < 0.2  # informative intervals, not a vacuous pass


def test_cumulative_draws_never_fall(simulated_fit):
    _, tree = simulated_fit
    p = tree["posterior"]["p"]
    assert bool((p.diff("horizon") >= 0).all())
    assert bool(((p > 0) & (p < 1)).all())


@pytest.fixture(scope="module")
def aggregate_and_ipd_fits():
    prior = get_prior("reference")
    family = module("discrete_time_hazard")
    agg = family.build_model(counts_of("ips_in_pain.csv"), prior)
    ipd = family.build_model(counts_of(SYNTHETIC), prior)
    return inference.sample(agg, SMALL, seed=31), inference.sample(ipd, SMALL, seed=32)


def test_aggregate_and_ipd_give_the_same_posterior_within_mcse(aggregate_and_ipd_fits):
    agg, ipd = aggregate_and_ipd_fits
    assert agg["observed_data"]["y"].dims == ("arm", "interval")
    assert ipd["observed_data"]["y"].dims == ("person_period",)
    for var in ("p", "mu"):
        a, b = agg["posterior"][var], ipd["posterior"][var]
        mean_a, mean_b = a.mean(("chain", "draw")), b.mean(("chain", "draw"))
        se = np.sqrt(
            az.mcse(a, sample_dims=["chain", "draw"]) ** 2
            + az.mcse(b, sample_dims=["chain", "draw"]) ** 2
        )
        assert bool((abs(mean_a - mean_b) < 4 * se).all()), (var, mean_a.values, mean_b.values)
        assert float(se.max()) < 0.05  # the comparison has power: MCSEs are small
    for tree in (agg, ipd):
        assert bool((tree["posterior"]["p"].diff("horizon") >= 0).all())


@pytest.mark.slow
def test_ipd_run_with_covariates_end_to_end(tmp_path, cli):
    spec = tmp_path / "ipd.toml"
    spec.write_text(
        f'[data]\npath = "package:{SYNTHETIC}"\n'
        '[models.adjusted_logistic]\npriors = ["reference"]\n'
        '[models.discrete_time_hazard]\npriors = ["reference"]\n'
        '[ipd]\ncovariates = ["age", "female"]\n'
    )
    code, _, err = cli("run", spec, "--quick", "--out", tmp_path / "r")
    assert code in (0, 3), err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["horizons"]["individual_data"]
    assert summary["horizons"]["risk_sets"]["method"].startswith("individual")
    groups = {g["observations"] for g in summary["horizons"]["loo"]["groups"]}
    assert len(groups) == 2 and not summary["horizons"]["loo"]["comparable_across_groups"]
    twelve = next(e for e in summary["missing_data"]["horizons"] if e["horizon_months"] == 12)
    assert "mar_covariates" in {s["name"] for s in twelve["scenarios"]}
    html = (tmp_path / "r" / "report.html").read_text()
    assert "SYNTHETIC" in html and "Does the benefit hold at every horizon?" in html
