"""Prior sensitivity: the log-OR quadrature, the heat map, prior predictive checks and the report
section."""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from bayes_ips import logodds
from bayes_ips.analyses.sensitivity import heatmap as hm
from bayes_ips.api import load_run

IPS = (19, 36, 7, 18)  # 12 months, verified


def _direct_likelihood(y_t, n_t, y_c, n_c, theta, alpha_sd=logodds.CONTROL_LOGIT_SD):
    def f(a):
        return (
            stats.binom.pmf(y_t, n_t, special.expit(a + theta / 2))
            * stats.binom.pmf(y_c, n_c, special.expit(a - theta / 2))
            * stats.norm.pdf(a, 0, alpha_sd)
        )

    return integrate.quad(f, -30, 30, epsabs=0, epsrel=1e-12, limit=400)[0]


@pytest.mark.parametrize("counts", [IPS, (0, 10, 10, 10), (3, 5, 0, 4)])
def test_integrated_likelihood_matches_adaptive_quadrature(counts):
    theta = np.array([-2.0, -0.3, 0.0, 0.8, 3.0])
    got = logodds.log_likelihood(*counts, theta)
    want = np.log([_direct_likelihood(*counts, t) for t in theta])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)


@functools.cache
def _brute_force_likelihood():
    """The joint posterior kernel of (alpha, theta) under a flat theta prior on a dense uniform
    grid (plain Riemann sums: independent of the Laplace-centred rule under test)."""
    y_t, n_t, y_c, n_c = IPS
    alpha = np.arange(-9.0, 7.0, 0.02)
    theta = np.arange(-6.0, 6.0 + 1e-9, 0.0025)
    log_joint = (
        stats.binom.logpmf(y_t, n_t, special.expit(alpha[None, :] + theta[:, None] / 2))
        + stats.binom.logpmf(y_c, n_c, special.expit(alpha[None, :] - theta[:, None] / 2))
        + stats.norm.logpdf(alpha, 0, logodds.CONTROL_LOGIT_SD)[None, :]
    )
    lik = np.exp(log_joint).sum(axis=1)  # common factor d(alpha) omitted
    return theta, lik


def _direct_p_benefit(mean: float, sd: float) -> float:
    """P(theta > 0 | data) under N(mean, sd²) from the brute-force grid."""
    theta, lik = _brute_force_likelihood()
    post = lik * stats.norm.pdf(theta, mean, sd)
    weights = np.where(theta > 1e-12, 1.0, np.where(np.abs(theta) < 1e-12, 0.5, 0.0))
    return float((post * weights).sum() / post.sum())


@pytest.fixture(scope="module")
def heat():
    return hm.benefit_map(*IPS)


def test_heatmap_is_at_least_40_by_40_and_matches_direct_quadrature(heat):
    p = np.array(heat["p_benefit"])
    assert p.shape == (len(heat["prior_sd"]), len(heat["prior_mean"]))
    assert min(p.shape) >= 40
    assert np.all(np.diff(p, axis=1) >= -1e-12)  # increasing in the prior mean
    for i, j in ((0, 0), (10, 36), (30, 20), (58, 60)):
        want = _direct_p_benefit(heat["prior_mean"][j], heat["prior_sd"][i])
        assert p[i, j] == pytest.approx(want, abs=1e-4)


def test_contours_are_where_p_benefit_crosses_the_level(heat):
    grid = hm.map_grid(*IPS)
    loglik = logodds.log_likelihood(*IPS, grid)
    for level in ("0.9", "0.975"):
        c = heat["contours"][level]
        crossings = [(s, m) for s, m in zip(c["prior_sd"], c["prior_mean"], strict=True) if m]
        assert len(crossings) > 20
        for s, m in crossings[::10]:
            assert _direct_p_benefit(m, s) == pytest.approx(float(level), abs=1e-4)
        assert float(logodds.prob_benefit_normal(0.0, 0.3, loglik, grid)) < float(level)
    assert heat["flat_p_benefit"] == pytest.approx(_direct_p_benefit(0.0, 50.0), abs=1e-3)


def _counts_12():
    from bayes_ips.data import Comparison, load_trial

    return load_trial("package:ips_in_pain.csv").counts(Comparison()).sel(horizon=[12])


def _direct_fit(mean: float, sd: float, seed: int):
    """A NUTS fit (bayes_ips.inference.sample) of the single-horizon logistic model."""
    from bayes_ips.fit import Fit
    from bayes_ips.inference import sample
    from bayes_ips.models import hierarchical_logistic
    from bayes_ips.priors import NormalEffect, Prior
    from bayes_ips.spec import SamplerSettings

    prior = Prior("grid_point", "heat-map cell", effect=NormalEffect(mean, sd))
    settings = SamplerSettings(chains=2, draws=500, tune=500)
    tree = sample(hierarchical_logistic.build_model(_counts_12(), prior), settings, seed)
    return Fit(hierarchical_logistic.NAME, prior, seed, tree)


def _check_against_fit(heat, i: int, j: int, fit) -> None:
    import arviz as az

    benefit = (fit.tree["posterior"]["theta"].squeeze("horizon", drop=True) > 0).astype(float)
    p_fit, mcse = float(benefit.mean()), float(az.mcse(benefit, method="mean"))
    # 4 MCSE: a false alarm has probability about 6e-5; the quadrature error is < 1e-4
    assert abs(heat["p_benefit"][i][j] - p_fit) <= 4 * mcse + 1e-4, (i, j, p_fit, mcse)


@pytest.fixture(scope="module")
def strong_fit(heat):
    """Prior N(0.25, 0.1²): the heat-map cell (2, 36), worth about 800 patients per arm."""
    assert (heat["prior_mean"][36], heat["prior_sd"][2]) == pytest.approx((0.25, 0.1))
    return _direct_fit(0.25, 0.1, seed=11)


def test_heatmap_agrees_with_a_direct_nuts_fit(heat, strong_fit):
    _check_against_fit(heat, 2, 36, strong_fit)


def test_power_scaling_reads_a_strong_prior_as_driving_the_result(strong_fit):
    from bayes_ips.analyses.sensitivity.power_scaling import THRESHOLD, power_scaling, verdict

    key = (strong_fit.model, strong_fit.prior.name, 12)
    (row,) = power_scaling([strong_fit], _counts_12(), {key: True})
    # A prior worth ~800 patients per arm against a trial worth 24: scaling the prior moves the
    # posterior, scaling the likelihood hardly does.
    assert row["named_prior_sensitivity"] >= THRESHOLD
    assert row["named_prior_sensitivity"] > row["likelihood_sensitivity"]
    assert row["verdict"] == verdict(row) and row["verdict"] in ("prior", "both")
    assert "At 12 months (hierarchical_logistic, grid_point prior)" in row["sentence"]
    assert "UNVERIFIED" not in row["sentence"]


@pytest.mark.slow
@pytest.mark.parametrize(("i", "j"), [(0, 30), (14, 18), (40, 48), (58, 10)])
def test_heatmap_agrees_with_direct_nuts_fits_across_the_grid(heat, i, j):
    fit = _direct_fit(heat["prior_mean"][j], heat["prior_sd"][i], seed=100 + i + j)
    _check_against_fit(heat, i, j, fit)


# --- the analysis step and the report ----------------------------------------------------------

PRIORS = ["reference", "jeffreys", "sceptical_mcid"]
EXTRA = ["map", "mine"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from bayes_ips.cli import main

    folder = tmp_path_factory.mktemp("sens")
    spec = folder / "s.toml"
    spec.write_text(
        '[models.beta_binomial]\npriors = ["reference", "jeffreys"]\n'
        f"[models.exact_logistic]\npriors = {json.dumps(['reference', 'sceptical_mcid', *EXTRA])}\n"
        "[priors.mine]\nor_median = 1.3\nor_lower = 0.65\nor_upper = 2.6\n"
        'recipe = "<b>my</b> belief"\n'
    )
    out = folder / "r"
    assert main(["run", str(spec), "--quick", "--out", str(out)]) == 0
    return out


def test_summary_has_the_sensitivity_key(run):
    summary = json.loads((run / "summary.json").read_text())
    sens = summary["sensitivity"]
    assert sens["anchor"]["control_rate"] == pytest.approx(7 / 18)
    assert [p["name"] for p in sens["priors"]] == PRIORS + EXTRA
    for p in sens["priors"]:
        assert p["recipe"] and p["ess"]["unit"]
    assert sens["heatmap"]["horizon_months"] == 12 and sens["heatmap"]["verified_data"]
    assert set(sens["heatmap"]["contours"]) == {"0.9", "0.975"}
    assert {r["prior"] for r in sens["exact"]} == set(PRIORS + EXTRA) - {"jeffreys"}
    assert len(sens["prior_predictive"]) == 3 * len(summary["run"]["fits"])
    assert {r["prior"] for r in summary["results"]} == set(PRIORS + EXTRA)


def test_prior_predictive_of_the_exact_engine_is_the_prior_beta(run):
    # the prior-predictive intervals are figure data, merged back by load_run
    sens = load_run(run).summary_data["sensitivity"]
    (row,) = [
        r
        for r in sens["prior_predictive"]
        if r["prior"] == "reference" and r["horizon_months"] == 12 and r["model"] == "beta_binomial"
    ]
    draws = row["draws"]
    # Beta(1,1): the median's sampling SD is 1 / (2 f(m) sqrt(n)) = 0.5 / sqrt(n)
    assert row["p_control"]["median"] == pytest.approx(0.5, abs=4 * 0.5 / math.sqrt(draws))
    assert row["p_rd_gt_0"] == pytest.approx(0.5, abs=4 * 0.5 / math.sqrt(draws))


def test_exact_single_horizon_posterior_equals_the_heatmap_for_a_normal_prior(run, heat):
    sens = json.loads((run / "summary.json").read_text())["sensitivity"]
    (row,) = [
        r for r in sens["exact"] if r["prior"] == "sceptical_mcid" and r["horizon_months"] == 12
    ]
    (prior,) = [p for p in sens["priors"] if p["name"] == "sceptical_mcid"]
    assert row["p_benefit"] == pytest.approx(
        _direct_p_benefit(0.0, prior["effect"]["sd"]), abs=1e-4
    )


def test_report_shows_every_prior_with_recipe_ess_and_the_glance_table(run):
    html = (run / "report.html").read_text()
    md = (run / "report.md").read_text()
    summary = json.loads((run / "summary.json").read_text())
    assert "Prior sensitivity" in html and "## Prior sensitivity" in md
    assert "<b>my</b>" not in html and "&lt;b&gt;my&lt;/b&gt; belief" in html
    for p in summary["sensitivity"]["priors"]:
        assert f'<th scope="row">{p["name"]}</th>' in html
        if p["ess"]["effect_elir"] is not None:
            assert f"{p['ess']['effect_elir']:.1f} (local" in html
        # the warning stands beside exactly the priors whose implied rate is U-shaped
        table = md[md.index("### The priors, their recipes") :]
        escaped = p["name"].replace("_", "\\_")  # Markdown escapes underscores
        row = next(line for line in table.splitlines() if line.startswith(f"| {escaped} |"))
        shape = p["ess"]["effect_rate_shape"]
        assert ("⚠ U-shaped on the rate scale" in row) == bool(shape and shape["u_shaped"])
        if shape is not None:
            assert f"| {p['ess']['effect_rate_scale']:.1f}" in row
    shapes = {p["name"]: p["ess"]["effect_rate_shape"] for p in summary["sensitivity"]["priors"]}
    assert shapes["reference"]["u_shaped"] and not shapes["sceptical_mcid"]["u_shaped"]
    # each ESS column says which definition it uses
    assert set(summary["sensitivity"]["ess_definitions"]) >= {"effect_rate_scale", "effect_elir"}
    for text in (html, md):
        assert "ESS, rate scale" in text and "ELIR (local)" in text
        assert "moment method" in text and "Neuenschwander" in text and "Morita" in text
    assert "At a glance" in html and "holds under all" in html
    for name in ("benefit_heatmap", "effect_by_prior", "threshold_by_prior"):
        assert (run / "figures" / f"{name}.svg").is_file()
        assert f"figures/{name}.svg" in md
    assert "Exact quadrature" in html
    # horizons with placeholder data stay flagged inside the section
    section = html[html.index('id="sec-sensitivity"') :]
    assert section.count("UNVERIFIED placeholder") >= 4
