"""Right numbers at the boundaries (issue 18): Altman's NNT through ∞, ratios that are not
estimable or unbounded, extreme priors, degenerate LOO, the posterior-predictive wording and
strict JSON. Each expected value comes from an independent computation (scipy, numpy, symmetry),
never from a pasted output."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import xarray as xr
from scipy import special, stats

from bayes_ips import conjugate, diagnostics, exact_logistic
from bayes_ips.cli import main
from bayes_ips.data import Comparison
from bayes_ips.estimands import nnt, quantiles, summarise
from bayes_ips.priors import MixtureEffect, NormalEffect
from bayes_ips.priors.ess import prior_ess
from bayes_ips.report import format as fmt
from bayes_ips.report.sections import trust

from .conftest import run_subprocess, write_table

T_C = Comparison("T", "C")
LONG_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def strict_json(text: str):
    """json.loads that refuses NaN and ±Infinity tokens."""

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def significant_digits(token: str) -> int:
    digits = token.replace(",", "").replace(".", "").lstrip("0")
    return len(digits)


SHA256 = re.compile(r"\b[0-9a-f]{64}\b")


def long_numbers(text: str) -> list[str]:
    """Numbers with more than 15 significant digits, leaving out SHA-256 digests (whose digit
    runs are not numbers)."""
    return [t for t in LONG_NUMBER.findall(SHA256.sub("", text)) if significant_digits(t) > 15]


def fake_p(pt: np.ndarray, pc: np.ndarray) -> xr.DataArray:
    values = np.stack([pt, pc], axis=-1)[..., None]
    return xr.DataArray(
        values,
        dims=("chain", "draw", "arm", "horizon"),
        coords={"arm": ["T", "C"], "horizon": [12]},
    )


# --- case 1: NNT across zero (Altman) -----------------------------------------------------------

CASE1 = [
    "IPS,6,12,40,40,true,s",
    "TAU,6,12,40,40,true,s",
    "IPS,12,14,40,40,true,s",
    "TAU,12,12,40,40,true,s",
]
BB_SPEC = """
[models.beta_binomial]
priors = ["reference", "jeffreys"]
[decision]
enabled = false
[missing_data]
enabled = false
"""


@pytest.fixture(scope="module")
def case1(tmp_path_factory):
    """Case 1 through the command line (in-process): its summary.json and report.md."""
    folder = tmp_path_factory.mktemp("case1")
    data = write_table(folder, CASE1)
    spec = folder / "spec.toml"
    spec.write_text(f'[data]\npath = "{data}"\ntreatment = "IPS"\ncontrol = "TAU"\n' + BB_SPEC)
    assert main(["run", str(spec), "--out", str(folder / "run"), "--quick"]) == 0
    summary = strict_json((folder / "run" / "summary.json").read_text(encoding="utf-8"))
    return summary, (folder / "run" / "report.md").read_text(encoding="utf-8")


def _rd_quantiles(a_t, b_t, a_c, b_c, size=400_000, seed=11):
    rng = np.random.default_rng(seed)
    rd = rng.beta(a_t, b_t, size) - rng.beta(a_c, b_c, size)
    return np.quantile(rd, [0.025, 0.5, 0.975])


@pytest.mark.parametrize("prior, shape", [("reference", 1.0), ("jeffreys", 0.5)])
def test_identical_arms_have_no_nnt_point_and_an_interval_through_infinity(case1, prior, shape):
    row = next(r for r in case1[0]["results"] if r["prior"] == prior and r["horizon_months"] == 6)
    assert row["p_benefit"] == pytest.approx(0.5, abs=1e-9)  # symmetry
    n = row["nnt"]
    assert n["direction"] == "none" and n["point"] is None and n["median"] is None
    assert n["through_infinity"]
    lo, _, hi = _rd_quantiles(12 + shape, 28 + shape, 12 + shape, 28 + shape)
    # the NNT bounds are the reciprocals of the RD interval's ends, which agree with independent
    # draws up to the quick run's Monte Carlo error
    assert n["nnth_bound"] == pytest.approx(1 / abs(row["rd"]["lo"]), rel=1e-12)
    assert n["nntb_bound"] == pytest.approx(1 / row["rd"]["hi"], rel=1e-12)
    assert row["rd"]["lo"] == pytest.approx(lo, abs=0.03)
    assert row["rd"]["hi"] == pytest.approx(hi, abs=0.03)
    text = fmt.nnt(n)
    assert text.startswith("∞ (NNTH ") and " to ∞ to NNTB " in text
    assert text in case1[1]


@pytest.mark.parametrize("prior, shape", [("reference", 1.0), ("jeffreys", 0.5)])
def test_a_benefit_whose_interval_spans_zero_shows_both_sides(case1, prior, shape):
    row = next(r for r in case1[0]["results"] if r["prior"] == prior and r["horizon_months"] == 12)
    p_exact = conjugate.prob_greater(14 + shape, 26 + shape, 12 + shape, 28 + shape)
    assert row["p_benefit"] == pytest.approx(p_exact, abs=1e-9)
    lo, med, hi = _rd_quantiles(14 + shape, 26 + shape, 12 + shape, 28 + shape)
    n = row["nnt"]
    assert n["direction"] == "benefit"
    assert n["point"] == pytest.approx(1 / row["rd"]["median"], rel=1e-12)
    assert n["nnth_bound"] == pytest.approx(1 / abs(row["rd"]["lo"]), rel=1e-12)
    assert n["nntb_bound"] == pytest.approx(1 / row["rd"]["hi"], rel=1e-12)
    for got, ref in zip(
        (row["rd"]["lo"], row["rd"]["median"], row["rd"]["hi"]), (lo, med, hi), strict=True
    ):
        assert got == pytest.approx(ref, abs=0.03)
    text = f"NNTB {n['point']:.1f} (NNTH {n['nnth_bound']:.1f} to ∞ to NNTB {n['nntb_bound']:.1f})"
    assert fmt.nnt(n) == text and text in case1[1]


def test_nnt_direction_follows_p_benefit_and_its_monte_carlo_error():
    rd = {"median": 0.001, "lo": -0.2, "hi": 0.2}
    assert nnt(rd, 0.5 + 1e-12)["direction"] == "none"  # exact 1/2: no point
    assert nnt(rd, 0.503, 0.002)["direction"] == "none"  # within 2 MCSE of 1/2
    assert nnt(rd, 0.52, 0.002)["direction"] == "benefit"
    assert nnt({**rd, "median": -0.001}, 0.52, 0.002)["direction"] == "none"  # signs disagree
    harm = nnt({"median": -0.25, "lo": -0.4, "hi": -0.1}, 0.01, 0.001)
    assert harm["direction"] == "harm" and not harm["through_infinity"]
    assert fmt.nnt(harm) == "NNTH 4.0 (NNTH 2.5 to 10.0)"
    benefit = nnt({"median": 0.25, "lo": 0.1, "hi": 0.4}, 0.99, 0.001)
    assert fmt.nnt(benefit) == "NNTB 4.0 (NNTB 2.5 to 10.0)"


# --- infinite draws and ratio measures ---------------------------------------------------------


def test_quantiles_keep_infinite_draws_like_numpy_does_with_finite_ones():
    rng = np.random.default_rng(3)
    x = rng.lognormal(size=999)
    qs = [0.025, 0.5, 0.975]
    np.testing.assert_allclose(quantiles(x, qs), np.quantile(x, qs), rtol=1e-12)
    x[:30] = np.inf  # 3% infinite: the upper 2.5% quantile is infinite, the median is not
    got = quantiles(x, qs)
    assert math.isinf(got[2]) and math.isfinite(got[1])
    assert got[1] == pytest.approx(np.quantile(np.where(np.isinf(x), 1e300, x), 0.5), rel=1e-12)


def test_an_unbounded_ratio_is_null_with_its_reason_never_a_dropped_draw():
    rng = np.random.default_rng(4)
    pt = rng.beta(5, 20, size=(1, 4000))
    pc = rng.beta(5, 20, size=(1, 4000))
    pc.ravel()[:200] = 0.0  # 5% of control draws exactly 0: RR = +∞ there
    row = summarise(fake_p(pt, pc), T_C).iloc[0]
    rr = row["rr"]
    assert rr["hi"] is None and rr["null_reasons"]["hi"].startswith("unbounded (+∞)")
    assert rr["infinite_draws"] == 200 and rr["estimable"] is False
    assert "control rate ≈ 0" in rr["not_estimable_reason"]
    assert fmt.ratio_interval(rr) == f"not estimable ({rr['not_estimable_reason']})"


def test_zero_over_zero_draws_make_the_ratio_undefined():
    pt = np.full((1, 100), 0.2)
    pc = np.full((1, 100), 0.3)
    pt[0, :3] = pc[0, :3] = 0.0
    row = summarise(fake_p(pt, pc), T_C).iloc[0]
    assert row["rr"]["median"] is None and row["rr"]["undefined_draws"] == 3
    assert row["rr"]["estimable"] is False


def test_ratio_formatting_never_writes_a_long_number():
    for x in (1.5e57, 3.2e-40, 12345.678, 0.001234):
        assert long_numbers(fmt.ratio(x)) == [] and len(fmt.ratio(x)) <= 9
    assert fmt.ratio(1.234) == "1.23"
    assert fmt.nnt_value(3.1e9) == "3.1e+09"


# --- case 2: zero events in both arms, hierarchical beta-binomial (a real process) -------------

CASE2_SPEC = """
[models.hierarchical_beta_binomial]
priors = ["reference"]
[decision]
enabled = false
[missing_data]
enabled = false
"""


def test_zero_events_in_both_arms_hierarchical(tmp_path):
    rows = [f"{arm},{h},0,30,30,true,s" for arm in ("IPS", "TAU") for h in (6, 12)]
    data = write_table(tmp_path, rows)
    spec = tmp_path / "spec.toml"
    spec.write_text(f'[data]\npath = "{data}"\ntreatment = "IPS"\ncontrol = "TAU"\n' + CASE2_SPEC)
    out = tmp_path / "run"
    proc = run_subprocess("run", spec, "--out", out, "--quick")
    assert proc.returncode in (0, 3), proc.stderr
    assert proc.stderr == ""  # no numpy, matplotlib or multiprocessing warning or traceback
    report = (out / "report.md").read_text(encoding="utf-8")
    assert long_numbers(report) == []
    summary = strict_json((out / "summary.json").read_text(encoding="utf-8"))
    for r in summary["results"]:
        for name in ("rr", "or"):
            assert r[name]["estimable"] is False
            assert "control rate ≈ 0" in r[name]["not_estimable_reason"]
        assert r["nnt"]["direction"] in ("none", "benefit", "harm")
    assert "not estimable (control rate ≈ 0" in report


# --- case 3: a huge-SD effect prior -------------------------------------------------------------

HUGE_SPEC = """
[models.exact_logistic]
priors = ["flat_huge"]
[priors.flat_huge]
log_or_mean = 0
log_or_sd = 40
[decision]
enabled = false
[missing_data]
enabled = false
"""


def test_a_huge_sd_prior_runs_and_its_ess_is_about_zero(tmp_path, cli):
    spec = tmp_path / "spec.toml"
    spec.write_text(HUGE_SPEC)
    code, out, err = cli("priors", spec)
    assert code == 0, err
    assert "flat_huge" in out
    code, _, err = cli("run", spec, "--out", tmp_path / "run", "--quick")
    assert code == 0, err
    summary = strict_json((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["results"]
    p0 = 0.3
    ess = prior_ess(
        type("P", (), {"effect": NormalEffect(0.0, 40.0), "rate": None})(), control_rate=p0
    )
    # the local ESS in closed form: (2 + e^eta0 + e^-eta0 + 1/(p0(1-p0))) / s², eta0 = logit p0
    eta0 = math.log(p0 / (1 - p0))
    expected = (2 + math.exp(eta0) + math.exp(-eta0) + 1 / (p0 * (1 - p0))) / 1600
    assert ess["effect_local"] == pytest.approx(expected, rel=1e-9)
    assert ess["effect_local"] < 0.01  # about 0 patients
    assert math.isinf(ess["effect_elir"]) and ess["effect_elir_reason"]
    # the rate-scale ESS, the one the report reads as "how much it claims to know": about 0,
    # and the implied rate is U-shaped (nearly all of it below 5% or above 95%)
    assert 0 < ess["effect_rate_scale"] < 0.1
    assert ess["effect_rate_shape"]["u_shaped"] and ess["effect_rate_shape"]["extreme_mass"] > 0.9
    (flat,) = [p for p in summary["sensitivity"]["priors"] if p["name"] == "flat_huge"]
    assert flat["ess"]["effect_rate_scale"] < 0.1
    assert "U-shaped on the rate scale" in out


# --- degenerate LOO ----------------------------------------------------------------------------


def _counts(rows):
    arms = ["T", "C"]
    horizons = sorted({h for _, h, _, _ in rows})
    y = np.zeros((2, len(horizons)))
    n = np.zeros((2, len(horizons)))
    for arm, h, k, m in rows:
        y[arms.index(arm), horizons.index(h)] = k
        n[arms.index(arm), horizons.index(h)] = m
    coords = {"arm": arms, "horizon": horizons}
    return xr.Dataset(
        {
            "employed": (("arm", "horizon"), y),
            "n_analysed": (("arm", "horizon"), n),
        },
        coords=coords,
    )


def test_beta_binomial_exact_loo_is_the_beta_binomial_pmf():
    counts = _counts([("T", 12, 0, 30), ("C", 12, 30, 30), ("T", 6, 3, 10), ("C", 6, 1, 10)])
    post = xr.Dataset(
        {"a": counts["employed"] + 0.01, "b": counts["n_analysed"] - counts["employed"] + 0.01}
    )
    got = conjugate.exact_loo(counts, post)
    for arm in ("T", "C"):
        for h in (6, 12):
            y = int(counts["employed"].sel(arm=arm, horizon=h))
            n = int(counts["n_analysed"].sel(arm=arm, horizon=h))
            ref = stats.betabinom.logpmf(y, n, 0.01, 0.01)  # leave it out: the prior remains
            assert float(got.sel(arm=arm, horizon=h)) == pytest.approx(ref, rel=1e-10)


def test_exact_logistic_loo_matches_a_brute_force_double_integral():
    counts = _counts([("T", 12, 7, 12), ("C", 12, 2, 10)])
    effect = NormalEffect(0.0, 2.0)
    got = exact_logistic.exact_loo(counts, effect, T_C)
    alpha = np.linspace(-12, 12, 1601)[:, None]
    theta = np.linspace(-16, 16, 2001)[None, :]
    prior = stats.norm.logpdf(alpha, 0, exact_logistic.ALPHA_SD) + stats.norm.logpdf(theta, 0, 2)

    def log_binom(y, n, eta):
        return stats.binom.logpmf(y, n, special.expit(eta))

    lt = log_binom(7, 12, alpha + theta / 2)
    lc = log_binom(2, 10, alpha - theta / 2)

    def log_int(f):
        return special.logsumexp(f) + math.log(
            (alpha[1, 0] - alpha[0, 0]) * (theta[0, 1] - theta[0, 0])
        )

    full = log_int(prior + lt + lc)
    assert float(got.sel(arm="T", horizon=12)) == pytest.approx(
        full - log_int(prior + lc), abs=1e-4
    )
    assert float(got.sel(arm="C", horizon=12)) == pytest.approx(
        full - log_int(prior + lt), abs=1e-4
    )


def _tree(ll: np.ndarray, exact: np.ndarray | None = None) -> xr.DataTree:
    dims = ("chain", "draw", "arm", "horizon")
    coords = {"arm": ["T", "C"], "horizon": [6, 12]}
    groups = {
        "posterior": xr.Dataset({"p": (dims, np.zeros_like(ll))}, coords=coords),
        "log_likelihood": xr.Dataset({"y": (dims, ll)}, coords=coords),
    }
    if exact is not None:
        groups["exact_loo"] = xr.Dataset({"y": (("arm", "horizon"), exact)}, coords=coords)
    return xr.DataTree.from_dict(groups)


def test_loo_excludes_high_pareto_k_and_uses_constants_and_exact_values():
    rng = np.random.default_rng(8)
    ll = rng.normal(-2, 0.05, size=(2, 500, 2, 2))
    ll[..., 1, 1] = -0.5  # constant: an empty risk set
    ll[..., 0, 0] = rng.standard_t(1.1, size=(2, 500)) * 30 - 5  # heavy tail: Pareto k > 0.7
    res = diagnostics.loo(_tree(ll))
    methods = dict(zip(["T6", "T12", "C6", "C12"], res.methods, strict=True))
    assert methods["C12"] == "constant" and methods["T6"] == "excluded"
    assert res.n_excluded == 1 and res.n_constant == 1 and res.n_data_points == 3
    # ELPD over the kept observations only; the constant one counts as itself
    ll_flat = ll.reshape(1000, 4)
    psis_sum = float(res.elpd) - (-0.5)
    lppd = special.logsumexp(ll_flat[:, 1:3], axis=0) - math.log(1000)
    assert psis_sum == pytest.approx(lppd.sum(), abs=0.05)  # near-normal: LOO close to lppd
    exact = np.array([[-3.0, -2.1], [-2.2, -0.5]])
    res = diagnostics.loo(_tree(ll, exact))
    assert res.n_exact == 4 and res.n_excluded == 0
    assert float(res.elpd) == pytest.approx(exact.sum(), rel=1e-12)


def test_an_exact_fit_has_no_pareto_k_and_says_why():
    """Exact leave-one-out values are not importance-sampled: no Pareto k is reported for them,
    even when the draws' log-likelihood is heavy-tailed, and the table says so."""
    from bayes_ips.analyses.checks.view import comparison_section

    rng = np.random.default_rng(10)
    ll = rng.standard_t(1.1, size=(2, 500, 2, 2)) * 30 - 5  # PSIS would give k > 0.7
    exact = np.array([[-3.0, -2.1], [-2.2, -0.5]])
    res = diagnostics.loo(_tree(ll, exact))
    assert np.isnan(res.pareto_k_all).all() and res.n_excluded == 0
    psis = rng.normal(-2, 0.05, size=(2, 500, 2, 2))
    rows = diagnostics.compare({"exact": _tree(ll, exact), "mcmc": _tree(psis)})
    by = {r["fit"]: r for r in rows}
    assert by["exact"]["pareto_k_max"] is None and by["exact"]["n_high_k"] == 0
    assert "no Pareto k" in by["exact"]["null_reasons"]["pareto_k_max"]
    assert by["exact"]["elpd_loo"] == pytest.approx(exact.sum(), rel=1e-12)
    assert 0 <= by["mcmc"]["pareto_k_max"] <= 0.7 and "null_reasons" not in by["mcmc"]
    summary = {
        "comparison": {
            "rows": [{**r, "model": r["fit"], "prior": "reference"} for r in rows],
        }
    }
    view = {r["fit"]: r for r in comparison_section(summary)["rows"]}
    assert view["exact / reference"]["k"] == "none (exact LOO); 4 exact"
    assert view["mcmc / reference"]["k"].startswith(f"{by['mcmc']['pareto_k_max']:.2f} (0 of ")
    assert fmt.loo_k(by["exact"]) == "none (exact LOO); 4 exact"


def test_compare_scores_every_fit_on_the_same_observations():
    rng = np.random.default_rng(9)
    good = rng.normal(-2, 0.05, size=(2, 500, 2, 2))
    bad = good.copy()
    bad[..., 0, 0] = rng.standard_t(1.1, size=(2, 500)) * 30 - 5
    rows = diagnostics.compare({"good": _tree(good), "bad": _tree(bad)})
    assert {r["n_excluded"] for r in rows} == {1}
    by = {r["fit"]: r for r in rows}
    kept = special.logsumexp(good.reshape(1000, 4)[:, 1:], axis=0) - math.log(1000)
    assert by["good"]["elpd_loo"] == pytest.approx(kept.sum(), abs=0.05)
    every = rng.standard_t(1.1, size=(2, 500, 2, 2)) * 30 - 5
    rows = diagnostics.compare({"a": _tree(every), "b": _tree(every.copy())})
    assert all(r["elpd_loo"] is None and r["not_compared"] for r in rows)


# --- posterior-predictive wording --------------------------------------------------------------


def _summary_with_cell(ppp: float, pit: float) -> dict:
    return {
        "diagnostics": [],
        "run": {"fits": [{"model": "beta_binomial", "prior": "reference"}]},
        "ppc": {
            "fits": [
                {
                    "model": "beta_binomial",
                    "prior": "reference",
                    "cells": [
                        {
                            "arm": "T",
                            "horizon_months": 12,
                            "observed": 3,
                            "rep_mean": 3.0,
                            "rep_lo": 0,
                            "rep_hi": 7,
                            "ppp": ppp,
                            "loo_pit": pit,
                        }
                    ],
                }
            ]
        },
    }


def test_a_loo_pit_outside_the_band_is_called_surprising():
    from bayes_ips.report.checklist import checked_counts, surprising

    summary = _summary_with_cell(0.5, 0.99)
    if not checked_counts(summary):
        pytest.skip("summary layout of the ppc differs")
    text = trust(summary)["text"]
    assert "surprising" in text and "no observed count is surprising" not in text
    assert surprising({"ppp": 0.5, "loo_pit": 0.99})
    assert surprising({"ppp": 0.01, "loo_pit": 0.5})
    assert not surprising({"ppp": 0.5, "loo_pit": None})


# --- extreme priors: a pooled hazard of exactly 0 or 1 -----------------------------------------


def test_pooled_beta_binomial_hazards_of_exactly_zero_and_one_give_valid_rates():
    """Under Beta(0.01, 0.01) a draw of m can be exactly 0 or 1 in floating point; the hazards
    and rates drawn from it are still valid (the shapes are floored, never 0)."""
    from bayes_ips.models import hierarchical_beta_binomial as hbb

    m = np.array([[[0.0, 1.0], [1e-320, 0.3]]])  # (chain, draw, arm)
    tree = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset(
                {
                    "m": (("chain", "draw", "arm"), m),
                    "kappa": (("chain", "draw", "arm"), np.full_like(m, 10.0)),
                },
                coords={"arm": ["T", "C"]},
            ),
            "observed_data": xr.Dataset(
                {"y": (("arm", "interval"), [[0, 0], [30, 0]])},
                coords={"arm": ["T", "C"], "interval": [6.0, 12.0]},
            ),
            "constant_data": xr.Dataset(
                {
                    "at_risk": (("arm", "interval"), [[30, 30], [30, 0]]),
                    "horizon": (("horizon",), [6.0, 12.0]),
                    "length_ratio": (("interval",), [1.0, 1.0]),
                },
                coords={"arm": ["T", "C"], "interval": [6.0, 12.0]},
            ),
        }
    )
    with np.errstate(all="raise"):
        hbb.generated_quantities(tree, seed=1)
    p = tree["posterior"]["p"].to_numpy()
    assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()


@pytest.mark.parametrize(
    "effect, ok",
    [
        (NormalEffect(0.0, 40.0), True),
        (NormalEffect(0.0, 1000.0), True),
        (NormalEffect(0.0, 1001.0), False),
        (MixtureEffect((0.8, 0.2), (0.0, 0.0), (0.5, 20.0)), True),
        (MixtureEffect((0.8, 0.2), (0.0, 0.0), (0.5, 40.0)), False),
    ],
)
def test_an_mcmc_model_refuses_only_priors_wider_than_it_is_written_for(effect, ok):
    from bayes_ips.errors import InputError
    from bayes_ips.models import check_prior
    from bayes_ips.priors import Prior

    prior = Prior(name="wide", effect=effect, group="user", recipe="test")
    check_prior("exact_logistic", prior)  # the exact model takes any proper prior
    if ok:
        for model in ("hierarchical_logistic", "adjusted_logistic"):
            check_prior(model, prior)
        return
    with pytest.raises(InputError) as exc:
        check_prior("adjusted_logistic", prior)
    message = str(exc.value)
    limit = "20" if isinstance(effect, MixtureEffect) else "1000"
    assert "adjusted_logistic" in message and f"at most {limit} on the log OR" in message
    assert "exact_logistic" in message and "wide" in message


@pytest.mark.parametrize(
    "shapes, ok", [((0.5, 0.5), True), ((0.1, 1.0), False), ((1.0, 0.49), False)]
)
def test_the_pooled_beta_binomial_refuses_rate_shapes_below_jeffreys(shapes, ok):
    from bayes_ips.errors import InputError
    from bayes_ips.models import check_prior
    from bayes_ips.priors import BetaRate, Prior

    prior = Prior(name="edge", rate=BetaRate(*shapes), group="user", recipe="test")
    check_prior("beta_binomial", prior)  # the exact model takes any proper Beta prior
    if ok:
        check_prior("hierarchical_beta_binomial", prior)
        return
    with pytest.raises(InputError) as exc:
        check_prior("hierarchical_beta_binomial", prior)
    message = str(exc.value)
    assert "hierarchical_beta_binomial" in message and "at least 0.5" in message
    assert f"smallest shape is {min(shapes):g}" in message and "beta_binomial" in message


def test_an_mcmc_model_given_a_prior_it_cannot_fit_stops_with_exit_2_and_one_line(tmp_path):
    """Beta(0.01, 0.01) on 0 of 30 with the pooled beta-binomial model (a convergence failure at
    full draws): refused before any fit, naming the spec, model, prior and rule; nothing
    written, nothing else on stderr."""
    rows = [f"{arm},{h},0,30,30,true,s" for arm in ("IPS", "TAU") for h in (6, 12)]
    data = write_table(tmp_path, rows)
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'[data]\npath = "{data}"\ntreatment = "IPS"\ncontrol = "TAU"\n'
        "[models.hierarchical_beta_binomial]\npriors = ['tiny']\n"
        "[priors.tiny]\nrate_a = 0.01\nrate_b = 0.01\n"
    )
    proc = run_subprocess("run", spec, "--out", tmp_path / "run")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "spec.toml" in lines[0] and "hierarchical_beta_binomial" in lines[0]
    assert "tiny" in lines[0] and "at least 0.5" in lines[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
@pytest.mark.parametrize("employed", [0, 30])
def test_the_pooled_beta_binomial_converges_under_jeffreys_at_the_boundaries(employed, tmp_path):
    """The smallest rate shapes it takes, on 0 of 30 and 30 of 30, at the run's full draws."""
    from bayes_ips import pipeline
    from bayes_ips.pipeline import load_spec
    from bayes_ips.priors import get_prior

    path = tmp_path / "spec.toml"
    path.write_text("[models.hierarchical_beta_binomial]\npriors = ['jeffreys']\n")
    spec = load_spec(path)
    counts = _counts([(arm, h, employed, 30) for arm in ("T", "C") for h in (6, 12)])
    (fit,) = pipeline._pymc_fits(
        "hierarchical_beta_binomial", [get_prior("jeffreys")], counts, spec, cores=2
    )
    assert fit.diagnostics["passed"], fit.diagnostics["messages"]


def test_an_exact_odds_ratio_beyond_the_float_range_is_unbounded_not_an_overflow(tmp_path, cli):
    """One participant per arm (1/1 vs 0/1) under Normal(0, 1000²): the log OR's posterior is
    about the prior's half-normal (the likelihood is near 1 for every log OR above a few), so its
    median is near 1000 · Φ⁻¹(0.75) and its upper 97.5% point, near 2240, is beyond e^709."""
    post = exact_logistic.posterior((1, 1, 0, 1), NormalEffect(0.0, 1000.0))
    ratio = post.odds_ratio()
    assert ratio["hi"] is None and ratio["null_reasons"]["hi"].startswith("unbounded (+∞)")
    assert math.log(ratio["median"]) == pytest.approx(1000 * stats.norm.ppf(0.75), rel=0.02)
    assert fmt.ratio_interval(ratio).endswith("to unbounded)")
    data = write_table(tmp_path, ["A,12,1,1,1,true,s", "B,12,0,1,1,true,s"])
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'[data]\npath = "{data}"\ntreatment = "A"\ncontrol = "B"\n'
        "[models.exact_logistic]\npriors = ['huge']\n"
        "[priors.huge]\nlog_or_mean = 0\nlog_or_sd = 1000\n"
        "[decision]\nenabled = false\n[missing_data]\nenabled = false\n"
    )
    code, _, err = cli("run", spec, "--out", tmp_path / "run", "--quick")
    assert code == 0, err
    summary = strict_json((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    (row,) = summary["sensitivity"]["exact"]
    assert row["or"]["hi"] is None and row["or"]["null_reasons"]["hi"]
    report = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert long_numbers(report) == [] and "unbounded" in report


def test_power_scaling_with_tied_weights_is_not_computed_and_says_why():
    """A log-likelihood with two values over the draws (as at 0% vs 100% events) leaves PSIS a
    tail of tied weights: the row says "not computed" with its reason, never an exit 1."""
    from types import SimpleNamespace

    from bayes_ips.analyses.sensitivity.power_scaling import NOT_COMPUTED, power_scaling

    rng = np.random.default_rng(12)
    dims = ("chain", "draw", "arm", "horizon")
    coords = {"arm": ["T", "C"], "horizon": [12]}
    ll = np.where(rng.uniform(size=(2, 500, 2, 1)) < 0.99, 0.0, -1.0)
    p = rng.uniform(size=(2, 500, 2, 1))
    tree = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset({"p": (dims, p)}, coords=coords),
            "log_likelihood": xr.Dataset({"y": (dims, ll)}, coords=coords),
            "log_prior": xr.Dataset({"z": (dims[:2], rng.normal(size=(2, 500)))}),
        }
    )
    fit = SimpleNamespace(model="hierarchical_logistic", prior=SimpleNamespace(name="x"), tree=tree)
    counts = xr.Dataset({"verified": (("arm", "horizon"), [[True], [True]])}, coords=coords)
    (row,) = power_scaling([fit], counts, {("hierarchical_logistic", "x", 12): True})
    assert row["verdict"] == "not_computed" and row["likelihood_sensitivity"] is None
    assert row["null_reasons"]["likelihood_sensitivity"] == NOT_COMPUTED
    assert "could not be power-scaled" in row["sentence"]
    json.dumps(row, allow_nan=False)
