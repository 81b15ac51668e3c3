"""Edge cases: zero and all events, n = 1, one and ten horizons, 10⁶ per arm, extreme priors and
equal arms give finite, sensible results (checked against exact answers where one exists)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from bayes_ips import conjugate
from bayes_ips.api import reanalyze
from bayes_ips.data import Comparison, load_trial
from bayes_ips.estimands import summarise
from bayes_ips.models import IPD_MODELS, PYMC_MODELS, module
from bayes_ips.priors import BetaRate, NormalEffect, Prior, get_prior

from .conftest import write_table

CASES = {
    "zero events": ["A,12,0,40,40,true,s", "B,12,0,40,40,true,s"],
    "all events": ["A,12,40,40,40,true,s", "B,12,40,40,40,true,s"],
    "n = 1": ["A,12,1,1,1,true,s", "B,12,0,1,1,true,s"],
    "one horizon": ["A,6,30,50,52,true,s", "B,6,20,50,50,true,s"],
    "ten horizons": [
        f"{arm},{h},{k},60,60,true,s"
        for arm in "AB"
        for h, k in zip(
            range(3, 33, 3), range(5, 55, 5) if arm == "A" else range(2, 42, 4), strict=True
        )
    ],
    "10^6 per arm": ["A,12,500500,1000000,1000000,true,s", "B,12,499000,1000000,1000000,true,s"],
    "equal arms": ["A,12,10,40,40,true,s", "B,12,10,40,40,true,s"],
}

EXACT_SPEC = """
[models.beta_binomial]
priors = ["reference", "jeffreys"]
[decision]
enabled = false
"""


def _direct_prob_greater(a_t, b_t, a_c, b_c) -> float:
    """P(X > Y) by integrating f_X(x) F_Y(x) dx: independent of the engine's quadrature."""
    value, _ = integrate.quad(
        lambda x: stats.beta.pdf(x, a_t, b_t) * stats.beta.cdf(x, a_c, b_c),
        0,
        1,
        epsabs=1e-12,
        limit=500,
        points=[a_t / (a_t + b_t), a_c / (a_c + b_c)],
    )
    return value


def _finite_numbers(obj, path="") -> list[str]:
    """Paths of values that are None or non-finite, NNT bounds excepted (∞ is shown as None),
    and values that are None with their reason beside them (``null_reasons``: an unbounded
    ratio, design rule 5)."""
    bad = []
    if isinstance(obj, dict):
        explained = obj.get("null_reasons") or {}
        for k, v in obj.items():
            if v is None and k in explained:
                continue
            bad += _finite_numbers(v, f"{path}.{k}")
    elif (obj is None and ".nnt." not in path) or (
        isinstance(obj, float) and not math.isfinite(obj)
    ):
        bad.append(path)
    return bad


@pytest.fixture(scope="module")
def exact_runs(tmp_path_factory):
    """The report data of one quick exact reanalysis per case (through the Python API)."""
    folder = tmp_path_factory.mktemp("edge")
    spec = folder / "exact.toml"
    spec.write_text(EXACT_SPEC)
    return {
        case: reanalyze(
            spec,
            data=write_table(folder, rows, name=f"case{i}.csv"),
            treatment="A",
            control="B",
            quick=True,
        ).summary_data
        for i, (case, rows) in enumerate(CASES.items())
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_exact_engine_gives_finite_results(exact_runs, case):
    summary = exact_runs[case]
    for row in summary["results"]:
        assert _finite_numbers(row) == [], (case, _finite_numbers(row))
        assert 0.0 <= row["p_benefit"] <= 1.0
        assert row["rd"]["lo"] <= row["rd"]["median"] <= row["rd"]["hi"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_exact_p_benefit_equals_direct_integration(exact_runs, case):
    table = {(r["arm"], r["horizon_months"]): r for r in exact_runs[case]["data"]}
    for row in exact_runs[case]["results"]:
        rate = get_prior(row["prior"]).rate
        t, c = table[("A", row["horizon_months"])], table[("B", row["horizon_months"])]
        a_t, b_t = rate.a + t["employed"], rate.b + t["n_analysed"] - t["employed"]
        a_c, b_c = rate.a + c["employed"], rate.b + c["n_analysed"] - c["employed"]
        assert row["p_benefit"] == pytest.approx(_direct_prob_greater(a_t, b_t, a_c, b_c), abs=1e-6)


def _reference(summary: dict) -> list[dict]:
    return [r for r in summary["results"] if r["prior"] == "reference"]


def test_closed_forms_of_the_special_cases(exact_runs):
    (one,) = _reference(exact_runs["n = 1"])
    # Beta(2, 1) vs Beta(1, 2): ∫ 2x (1 − (1 − x)²) dx = 5/6.
    assert one["p_benefit"] == pytest.approx(5 / 6, abs=1e-9)
    for case in ("equal arms", "zero events", "all events"):
        # identical posteriors: P(benefit) = 1/2 by symmetry, RD centred on 0
        for row in exact_runs[case]["results"]:
            assert row["p_benefit"] == pytest.approx(0.5, abs=1e-9)
            assert abs(row["rd"]["median"]) < 0.01
    assert len(_reference(exact_runs["ten horizons"])) == 10
    (big,) = _reference(exact_runs["10^6 per arm"])
    assert big["rd"]["median"] == pytest.approx(0.0015, abs=3e-4)
    assert big["rd"]["hi"] - big["rd"]["lo"] < 0.005


@pytest.mark.parametrize("a,b", [(0.01, 0.01), (0.5, 0.5), (1e4, 1e4), (0.5, 1e4), (1e4, 0.5)])
@pytest.mark.parametrize("case", ["zero events", "all events", "n = 1", "10^6 per arm"])
def test_extreme_beta_priors_stay_finite(tmp_path, a, b, case):
    counts = load_trial(write_table(tmp_path, CASES[case])).counts(Comparison("A", "B"))
    post = conjugate.posterior_parameters(counts, BetaRate(a, b))
    (p_exact,) = conjugate.prob_benefit(post, Comparison("A", "B")).values()
    a_t, b_t, a_c, b_c = (float(post[k].sel(arm=arm).item()) for arm in "AB" for k in "ab")
    if (a_t, b_t) == (a_c, b_c):
        assert p_exact == pytest.approx(0.5, abs=1e-9)
    else:  # Monte Carlo: independent of the quadrature, tolerance 5 standard errors
        rng = np.random.default_rng(7)
        n = 1_000_000
        mc = float(np.mean(rng.beta(a_t, b_t, n) > rng.beta(a_c, b_c, n)))
        assert p_exact == pytest.approx(mc, abs=5 * math.sqrt(mc * (1 - mc) / n) + 1e-4)
    table = summarise(conjugate.draw_rates(post, 4000, 1), Comparison("A", "B"))
    row = table.iloc[0]
    assert 0 <= row["p_benefit"] <= 1 and np.isfinite(row["rd"]["median"])
    assert all(np.isfinite(row["rd"][k]) for k in ("lo", "median", "hi"))


@pytest.mark.parametrize("a", [0.05, 0.01])
def test_exact_engine_with_very_small_beta_shapes(a):
    # All events or zero events under Beta(a, a): identical posteriors, P(benefit) = 1/2.
    assert conjugate.prob_greater(40 + a, a, 40 + a, a) == pytest.approx(0.5, abs=1e-6)
    assert conjugate.prob_greater(a, 40 + a, a, 40 + a) == pytest.approx(0.5, abs=1e-6)
    # one more event in the treatment arm: P(benefit) by Monte Carlo (10^6 draws, 5 SE)
    rng = np.random.default_rng(3)
    n = 1_000_000
    mc = float(np.mean(rng.beta(41 + a, a, n) > rng.beta(40 + a, 1 + a, n)))
    exact = conjugate.prob_greater(41 + a, a, 40 + a, 1 + a)
    assert exact == pytest.approx(mc, abs=5 * math.sqrt(mc * (1 - mc) / n))


def _logp_is_finite(model) -> bool:
    """Log density and gradient at the initial point (Python-linked: no C compilation)."""
    point = model.initial_point()
    logp = model.compile_logp(mode="FAST_COMPILE")(point)
    grad = model.compile_dlogp(mode="FAST_COMPILE")(point)
    return bool(np.isfinite(logp) and np.all(np.isfinite(grad)))


PYMC_CASES = ["zero events", "all events", "ten horizons", "10^6 per arm"]


@pytest.mark.parametrize("name", [m for m in PYMC_MODELS if m not in IPD_MODELS])
def test_pymc_models_build_with_finite_logp_on_every_edge(tmp_path, name):
    family = module(name)
    for i, case in enumerate(PYMC_CASES):
        data = load_trial(write_table(tmp_path, CASES[case], name=f"c{i}.csv"))
        counts = data.counts(Comparison("A", "B"))
        model = family.build_model(counts, get_prior("reference"))
        assert _logp_is_finite(model), case
        assert list(model.coords["horizon"]) == counts["horizon"].to_numpy().tolist()


@pytest.mark.parametrize(
    "effect", [NormalEffect(0.0, 1e-3), NormalEffect(3.0, 0.05), NormalEffect(0.0, 10.0)]
)
def test_logistic_model_with_extreme_effect_priors(tmp_path, effect):
    counts = load_trial(write_table(tmp_path, CASES["zero events"])).counts(Comparison("A", "B"))
    prior = Prior("extreme", "test", effect=effect)
    model = module("hierarchical_logistic").build_model(counts, prior)
    assert _logp_is_finite(model)
