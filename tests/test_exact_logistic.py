"""The exact single-horizon logistic model: against an independent 2-D quadrature, symmetry under
swapped arms, its draws, and end to end as a model of its own."""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from bayes_ips import exact_logistic as el
from bayes_ips.errors import InputError
from bayes_ips.priors import MixtureEffect, NormalEffect, get_prior

IPS = (19, 36, 7, 18)  # 12 months, verified
BIG = (5_001_000, 10_000_000, 5_000_000, 10_000_000)  # true P(benefit) about 0.67
SEPARATED = (20, 20, 0, 20)
ALPHA_SD = 1.5
QUANTILES = (0.025, 0.5, 0.975)


def _simpson(points: int) -> np.ndarray:
    """Composite Simpson weights for an odd number of unit-spaced points."""
    w = np.ones(points)
    w[1:-1:2], w[2:-1:2] = 4, 2
    return w / 3


def _reference(counts, effect, theta_range, alpha_range, points=(4001, 1201)):
    """P(theta > 0) and quantiles of theta by brute force on a uniform (theta, alpha) grid with
    Simpson weights in alpha and cumulative Simpson in theta, written from the model's
    definition (scipy's binomial and normal densities; nothing from bayes_ips but the prior's
    log density)."""
    y_t, n_t, y_c, n_c = counts
    theta = np.linspace(*theta_range, points[0])
    alpha = np.linspace(*alpha_range, points[1])
    log_marginal = np.empty(theta.size)
    for k in range(0, theta.size, 500):
        t = theta[k : k + 500, None]
        log_joint = (
            stats.binom.logpmf(y_t, n_t, special.expit(alpha + t / 2))
            + stats.binom.logpmf(y_c, n_c, special.expit(alpha - t / 2))
            + stats.norm.logpdf(alpha, 0, ALPHA_SD)
        )
        top = log_joint.max(axis=1, keepdims=True)
        inner = np.exp(log_joint - top) @ _simpson(alpha.size)
        log_marginal[k : k + 500] = np.log(inner) + top[:, 0]
    log_post = log_marginal + effect.logpdf(theta)
    dens = np.exp(log_post - log_post.max())
    cdf = integrate.cumulative_simpson(dens, x=theta, initial=0.0)
    cdf /= cdf[-1]
    assert dens[0] < 1e-15 and dens[-1] < 1e-15, "the reference range cuts off mass"
    p_benefit = 1.0 - float(np.interp(0.0, theta, cdf))
    return p_benefit, np.interp(QUANTILES, cdf, theta)


def _check(counts, effect, theta_range, alpha_range, **kw):
    post = el.posterior(counts, effect)
    want_p, want_q = _reference(counts, effect, theta_range, alpha_range, **kw)
    assert post.prob_benefit() == pytest.approx(want_p, abs=1e-4)
    # the odds ratio's quantiles to a relative 1e-4 (their logs to 1e-4)
    np.testing.assert_allclose(post.quantile(QUANTILES), want_q, rtol=0, atol=1e-4)
    return post, want_p, want_q


def test_ten_million_per_arm_matches_an_independent_quadrature():
    # The old fixed grid (step 0.004 on [-8, 8]) said 50.0%, OR 1.00 (1.00–1.00) here.
    centre, se = 4e-4, 9e-4
    post, p, q = _check(
        BIG,
        NormalEffect(0.0, 1.0),
        (centre - 12 * se, centre + 12 * se),
        (-6e-3, 6e-3),
        points=(2401, 601),
    )
    assert 0.6 < p < 0.75
    # tighter than 1e-4 on the log OR: a small fraction of the posterior SD (about 9e-4)
    np.testing.assert_allclose(post.quantile(QUANTILES), q, rtol=0, atol=2e-6)
    assert post.odds_ratio()["lo"] < 1 < post.odds_ratio()["hi"]


def test_complete_separation_matches_an_independent_quadrature():
    """20/20 vs 0/20 with SD 10: the posterior reaches log OR 30 and beyond."""
    post, p, q = _check(SEPARATED, NormalEffect(0.0, 10.0), (-40.0, 130.0), (-14.0, 14.0))
    assert p > 0.999 and q[-1] > 20  # far beyond the old grid's end at 8
    assert post.grid[-1] > 60


@pytest.mark.parametrize("name", ["pessimistic_strong", "optimistic_weak", "neutral_moderate"])
def test_ips_rows_match_an_independent_quadrature_under_grid_priors(name):
    _check(IPS, get_prior(name).effect, (-10.0, 10.0), (-9.0, 9.0), points=(4001, 1801))


def test_mixture_prior_matches_an_independent_quadrature():
    mix = MixtureEffect((0.7, 0.3), (0.5, 0.0), (0.2, 2.0))
    _check(IPS, mix, (-12.0, 12.0), (-9.0, 9.0), points=(4001, 1801))


@pytest.mark.parametrize("counts", [IPS, (3, 5, 0, 4), SEPARATED, BIG])
@pytest.mark.parametrize("sd", [0.35, 10.0])
def test_swapping_the_arms_mirrors_p_benefit_and_the_odds_ratio(counts, sd):
    y_t, n_t, y_c, n_c = counts
    post = el.posterior(counts, NormalEffect(0.0, sd))
    swapped = el.posterior((y_c, n_c, y_t, n_t), NormalEffect(0.0, sd))
    assert post.prob_benefit() + swapped.prob_benefit() == pytest.approx(1.0, abs=1e-9)
    a, b = post.odds_ratio(), swapped.odds_ratio()
    for one, other in (("median", "median"), ("lo", "hi"), ("hi", "lo")):
        assert a[one] * b[other] == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize("counts", [(0, 30, 0, 30), (30, 30, 30, 30), (12, 40, 12, 40)])
@pytest.mark.parametrize(
    "effect", [NormalEffect(0.0, 0.35), MixtureEffect((0.5, 0.5), (0, 0), (0.2, 3))]
)
def test_identical_arms_give_one_half(counts, effect):
    post = el.posterior(counts, effect)
    assert post.prob_benefit() == pytest.approx(0.5, abs=1e-9)
    assert post.odds_ratio()["median"] == pytest.approx(1.0, abs=1e-9)


def _counts(rows):
    from bayes_ips.data import Comparison, load_trial

    counts = load_trial("package:ips_in_pain.csv").counts(Comparison())
    return counts.sel(horizon=rows) if rows else counts


def test_draws_agree_with_the_exact_probability_and_have_the_model_shape():
    from bayes_ips.data import Comparison
    from bayes_ips.estimands import effects

    counts, comparison = _counts([12]), Comparison()
    effect = get_prior("neutral_moderate").effect
    posts = el.posteriors(counts, effect, comparison)
    p = el.draw_rates(posts, counts, comparison, 20_000, 7)
    assert p.dims == ("chain", "draw", "arm", "horizon")
    assert list(p["arm"].to_numpy()) == list(counts["arm"].to_numpy())
    benefit = (effects(p, comparison)["or"] > 1).to_numpy().ravel()
    exact = posts[12].prob_benefit()
    mcse = math.sqrt(exact * (1 - exact) / benefit.size)  # independent draws
    assert abs(benefit.mean() - exact) <= 4 * mcse
    # the draws' log OR is theta itself; their quantiles match the exact ones
    log_or = np.log(effects(p, comparison)["or"].to_numpy().ravel())
    for q, want in zip((0.1, 0.5, 0.9), posts[12].quantile([0.1, 0.5, 0.9]), strict=True):
        dens = np.interp(want, posts[12].grid, posts[12].density)
        assert np.quantile(log_or, q) == pytest.approx(
            want, abs=4 * math.sqrt(q * (1 - q) / 20_000) / dens
        )
    # the control rate matches the exact marginal mean of invlogit(alpha - theta / 2)
    pc = p.sel(arm=comparison.control).to_numpy().ravel()
    assert pc.mean() == pytest.approx(
        _control_mean(IPS, effect), abs=4 * pc.std() / math.sqrt(pc.size)
    )


def _control_mean(counts, effect):
    """E[invlogit(alpha − theta/2) | data] by a brute-force 2-D grid."""
    y_t, n_t, y_c, n_c = counts
    theta = np.linspace(-8, 8, 1601)[:, None]
    alpha = np.linspace(-8, 8, 1601)
    log_joint = (
        stats.binom.logpmf(y_t, n_t, special.expit(alpha + theta / 2))
        + stats.binom.logpmf(y_c, n_c, special.expit(alpha - theta / 2))
        + stats.norm.logpdf(alpha, 0, ALPHA_SD)
        + effect.logpdf(theta[:, 0])[:, None]
    )
    w = np.exp(log_joint - log_joint.max())
    return float((w * special.expit(alpha - theta / 2)).sum() / w.sum())


def test_a_flat_prior_under_separation_is_refused():
    from bayes_ips.analyses.sensitivity.heatmap import flat_prior_p_benefit

    assert flat_prior_p_benefit(*SEPARATED) is None
    assert flat_prior_p_benefit(*IPS) == pytest.approx(
        el.posterior(IPS, NormalEffect(0.0, 1e3)).prob_benefit(), abs=1e-4
    )
    with pytest.raises(InputError, match="cannot be bounded"):
        from bayes_ips import logodds

        logodds.adaptive_grid(lambda t: np.zeros_like(t), [(0.0, 1.0)])


@functools.cache
def _map(counts):
    from bayes_ips.analyses.sensitivity import heatmap as hm

    return hm.benefit_map(*counts)


@pytest.mark.parametrize("counts", [IPS, BIG, SEPARATED, (1, 40, 0, 3)])
def test_heatmap_cells_equal_the_adaptive_exact_posterior(counts):
    heat = _map(counts)
    p = np.array(heat["p_benefit"])
    rng = np.random.default_rng(3)
    cells = [
        (0, 0),
        (0, 60),
        (58, 0),
        (58, 60),
        *zip(rng.integers(0, 59, 6), rng.integers(0, 61, 6), strict=True),
    ]
    for i, j in cells:
        effect = NormalEffect(heat["prior_mean"][j], heat["prior_sd"][i])
        assert p[i, j] == pytest.approx(el.posterior(counts, effect).prob_benefit(), abs=1e-5)


# --- the model in a run --------------------------------------------------------------------------

PRIORS = ["reference", "pessimistic_strong", "neutral_strong"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from bayes_ips.cli import main

    folder = tmp_path_factory.mktemp("exact")
    spec = folder / "s.toml"
    spec.write_text(
        '[data]\npath = "package:ips_in_pain.csv"\n'
        f"[models.exact_logistic]\npriors = {json.dumps(PRIORS)}\n"
        '[models.beta_binomial]\npriors = ["reference"]\n'
    )
    out = folder / "r"
    assert main(["run", str(spec), "--quick", "--out", str(out)]) == 0
    return out


def test_exact_logistic_is_a_model_of_its_own_in_the_results(run):
    summary = json.loads((run / "summary.json").read_text())
    rows = [r for r in summary["results"] if r["model"] == "exact_logistic"]
    assert {r["prior"] for r in rows} == set(PRIORS)
    exact = {(r["prior"], r["horizon_months"]): r for r in summary["sensitivity"]["exact"]}
    counts = _counts(None)
    for r in rows:
        h = r["horizon_months"]
        c = counts.sel(horizon=h)
        at = (*(float(c[v][0]) for v in ("employed", "n_analysed")),)
        at += (*(float(c[v][1]) for v in ("employed", "n_analysed")),)
        want = el.posterior(at, get_prior(r["prior"]).effect).prob_benefit()
        assert r["p_benefit"] == pytest.approx(want, abs=1e-12) and r["p_benefit_mcse"] == 0
        assert exact[(r["prior"], h)]["p_benefit"] == pytest.approx(want, abs=1e-12)
        # an exact model rests on its own horizon's rows only
        assert r["verified_data"] == bool(c["verified"].all())
    pess = next(r for r in rows if r["prior"] == "pessimistic_strong" and r["horizon_months"] == 12)
    assert pess["p_benefit"] < 0.5  # a strongly sceptical reader is not persuaded


def test_exact_logistic_in_the_report_and_its_fits(run):
    from bayes_ips.diagnostics import loo
    from bayes_ips.inference import load_fit

    html = (run / "report.html").read_text()
    assert "exact single-horizon logistic" in html
    assert "midpoint" in html  # the methods state the symmetric parameterisation
    summary = json.loads((run / "summary.json").read_text())
    row = next(r for r in summary["results"] if r["model"] == "exact_logistic")
    fit = load_fit(
        run / "fits" / f"exact_logistic__{row['prior']}.nc",
        model="exact_logistic",
        prior=row["prior"],
        seed=row["seed"],
        data_sha256=summary["run"]["data_sha256"],
    )
    assert {"posterior", "prior", "log_likelihood", "posterior_predictive"} <= set(
        fit.tree.children
    )
    assert loo(fit.tree) is not None
    predictive = summary["sensitivity"]["prior_predictive"]
    assert any(r["model"] == "exact_logistic" for r in predictive)


def test_beta_binomial_prior_is_refused_by_exact_logistic(tmp_path):
    from bayes_ips.cli import main

    spec = tmp_path / "s.toml"
    spec.write_text('[models.exact_logistic]\npriors = ["jeffreys"]\n')
    assert main(["run", str(spec), "--quick", "--out", str(tmp_path / "r")]) == 2


def test_draws_at_ten_million_per_arm_give_the_risk_difference():
    """At 10⁷ per arm the draws of alpha must sit at its conditional mode (about 0), not at the
    edge of the wide grid: RD and RR from the draws against the normal approximation, which is
    exact to many digits here. No arithmetic warning may escape."""
    import warnings

    counts = (5_006_700.0, 1e7, 5_000_000.0, 1e7)
    post = el.posterior(counts, get_prior("reference").effect)
    rng = np.random.default_rng(1)
    n = 4000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        theta = post.quantile(rng.random(n))
        alpha = el.draw_alpha(counts, theta, rng.random(n))
    pt_, pc = special.expit(alpha + theta / 2), special.expit(alpha - theta / 2)
    rd = pt_ - pc
    p_t, p_c = 0.50067, 0.5
    sd = np.sqrt(p_t * (1 - p_t) / 1e7 + p_c * (1 - p_c) / 1e7)
    assert abs(np.median(rd) - (p_t - p_c)) < 4 * 1.26 * sd / np.sqrt(n)
    assert abs(np.std(rd) / sd - 1) < 0.1
    assert abs(np.median(pt_ / pc) - p_t / p_c) < 4 * 1.26 * (sd / p_c) / np.sqrt(n)
