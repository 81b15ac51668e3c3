"""PyMC model families: build checks without sampling, and small real fits against exact answers."""

from __future__ import annotations

import json

import numpy as np
import pymc as pm
import pytest
import xarray as xr

from bayes_ips import conjugate, diagnostics, inference
from bayes_ips.data import Comparison, load_trial
from bayes_ips.estimands import summarise
from bayes_ips.models import IPD_MODELS, PYMC_MODELS, module
from bayes_ips.priors import get_prior
from bayes_ips.spec import SamplerSettings, Thresholds

SMALL = SamplerSettings(chains=2, draws=1000, tune=700)


def ips_counts(horizons=None, ipd: bool = False) -> xr.Dataset:
    name = "ips_in_pain_synthetic_ipd.csv" if ipd else "ips_in_pain.csv"
    counts = load_trial(f"package:{name}").counts(Comparison())
    return counts if horizons is None else counts.sel(horizon=horizons)


def cumulative_counts(rates: dict[str, list[float]], n: int, horizons: list[int], seed: int):
    """One cohort of n per arm followed to every horizon: cumulative counts from the multinomial
    over the interval of first employment, given true cumulative rates."""
    rng = np.random.default_rng(seed)
    arms = list(rates)
    y = np.array([np.cumsum(rng.multinomial(n, np.diff([0, *rates[a], 1])))[:-1] for a in arms])
    return xr.Dataset(
        {
            "employed": (("arm", "horizon"), y),
            "n_analysed": (("arm", "horizon"), np.full_like(y, n)),
        },
        coords={"arm": arms, "horizon": horizons},
    )


@pytest.mark.parametrize("name", PYMC_MODELS)
@pytest.mark.parametrize("horizons", [None, [12]])
def test_model_builds_with_named_dims_and_finite_logp(name, horizons):
    counts = ips_counts(horizons, ipd=name in IPD_MODELS)
    prior = get_prior("reference")
    model = module(name).build_model(counts, prior)
    # the pooled beta-binomial's p is drawn after sampling (test_hazard.py); its interval events
    # carry the dims
    if name == "hierarchical_beta_binomial" and horizons is None:
        assert model.named_vars_to_dims["y"] == ("arm", "interval")
    else:
        assert model.named_vars_to_dims["p"] == ("arm", "horizon")
    assert list(model.coords["arm"]) == ["IPS", "TAU"]
    assert list(model.coords["horizon"]) == counts["horizon"].to_numpy().tolist()
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))
    assert np.all(np.isfinite(model.compile_dlogp()(point)))
    for data_name in module(name).prior_data(prior):
        assert data_name in model.named_vars  # prior hyperparameters are data, not constants


def test_logistic_with_one_horizon_has_no_between_horizon_correlation():
    model = module("hierarchical_logistic").build_model(ips_counts([12]), get_prior("reference"))
    assert "rho" not in model.named_vars
    assert (
        "rho"
        in module("hierarchical_logistic")
        .build_model(ips_counts(), get_prior("reference"))
        .named_vars
    )


def test_swapping_prior_data_changes_the_prior_without_rebuilding():
    family = module("hierarchical_logistic")
    model = family.build_model(ips_counts(), get_prior("reference"))
    pm.set_data(family.prior_data(get_prior("optimistic_strong")), model=model)
    draws = pm.draw(model["theta"], draws=4000, random_seed=1)  # (draw, horizon)
    sd = get_prior("optimistic_strong").effect.sd
    np.testing.assert_allclose(draws.mean(0), np.log(1.25), atol=4 * sd / np.sqrt(4000))
    np.testing.assert_allclose(draws.std(0), sd, rtol=0.05)


@pytest.fixture(scope="module")
def unpooled_fit():
    """The beta-binomial model with one horizon: the exact engine's model, sampled by NUTS."""
    counts = ips_counts([12])
    prior = get_prior("reference")
    model = module("hierarchical_beta_binomial").build_model(counts, prior)
    return counts, inference.sample(model, SMALL, seed=11)


def test_unpooled_mcmc_matches_the_exact_engine_within_3_mcse(unpooled_fit):
    counts, tree = unpooled_fit
    post = conjugate.posterior_parameters(counts, get_prior("reference").rate)
    exact = conjugate.prob_benefit(post, Comparison())
    table = summarise(tree["posterior"]["p"], Comparison())
    for row in table.itertuples():
        assert row.p_benefit_mcse > 0
        assert abs(row.p_benefit - exact[row.horizon_months]) < 3 * row.p_benefit_mcse


def test_fit_has_every_group_and_passes_convergence(unpooled_fit, tmp_path):
    _, tree = unpooled_fit
    for group in (
        "posterior",
        "prior",
        "prior_predictive",
        "posterior_predictive",
        "log_likelihood",
        "log_prior",
        "sample_stats",
        "observed_data",
    ):
        assert group in tree.children, group
    check = diagnostics.convergence(tree, Thresholds(ess_min=100))
    assert check["passed"], check["messages"]
    strict = diagnostics.convergence(tree, Thresholds(ess_min=1e9))
    assert not strict["passed"] and "ESS" in strict["messages"][0] and strict["advice"]


def test_ppc_cells_cover_the_observed_counts(unpooled_fit):
    _, tree = unpooled_fit
    cells = diagnostics.ppc(tree)
    assert len(cells) == 2
    for c in cells:
        assert c["rep_lo"] <= c["observed"] <= c["rep_hi"]
        assert 0.02 < c["ppp"] < 0.98


# The interval models are checked on cumulative simulations in test_hazard.py, the
# individual-data models in test_ipd.py.
@pytest.mark.parametrize(
    "name",
    [
        m
        for m in PYMC_MODELS
        if m not in ("discrete_time_hazard", "hierarchical_beta_binomial", *IPD_MODELS)
    ],
)
def test_parameter_recovery_with_large_samples(name):
    truth = {"T": [0.30, 0.45, 0.55], "C": [0.20, 0.28, 0.33]}
    counts = cumulative_counts(truth, n=3000, horizons=[6, 12, 24], seed=5)
    model = module(name).build_model(counts, get_prior("reference"))
    settings = SamplerSettings(chains=2, draws=500, tune=500)
    generated = getattr(module(name), "generated_quantities", None)
    tree = inference.sample(model, settings, seed=3, generated=generated)
    p = tree["posterior"]["p"]
    lo, hi = p.quantile(0.005, ("chain", "draw")), p.quantile(0.995, ("chain", "draw"))
    true = xr.DataArray(
        np.array(list(truth.values())),
        dims=("arm", "horizon"),
        coords={"arm": ["T", "C"], "horizon": [6, 12, 24]},
    )
    assert bool(((lo <= true) & (true <= hi)).all()), json.dumps(
        {"lo": lo.values.tolist(), "hi": hi.values.tolist()}
    )


def test_a_model_reused_for_another_prior_or_run_gives_the_draws_of_a_fresh_one(
    tmp_path, monkeypatch
):
    """Models are kept by family, prior structure and data; a reused one has every prior value
    reset, so its draws equal those of a model built and compiled afresh."""
    from bayes_ips import pipeline
    from bayes_ips.pipeline import load_spec

    path = tmp_path / "spec.toml"
    path.write_text(
        "[models.hierarchical_beta_binomial]\npriors = ['reference']\n"
        "[sampler]\nchains = 2\ndraws = 200\ntune = 200\n"
    )
    spec = load_spec(path)
    name, counts = "hierarchical_beta_binomial", ips_counts()
    # "jeffreys" sets other hyperparameter values than "reference" for this model.
    other, reference = get_prior("jeffreys"), get_prior("reference")
    monkeypatch.setattr(pipeline, "_MODELS", {})
    reused = pipeline._pymc_fits(name, [other, reference], counts, spec)[1]
    (model,) = pipeline._MODELS.values()
    pipeline._pymc_fits(name, [other], ips_counts(), spec)  # same data, loaded again
    assert list(pipeline._MODELS.values()) == [model]
    monkeypatch.setattr(pipeline, "_MODELS", {})
    fresh = pipeline._pymc_fits(name, [reference], counts, spec)[0]
    assert pipeline._MODELS[next(iter(pipeline._MODELS))] is not model
    for group in ("posterior", "posterior_predictive", "prior"):
        xr.testing.assert_equal(reused.tree[group].to_dataset(), fresh.tree[group].to_dataset())
