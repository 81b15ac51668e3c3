"""Missing outcomes: exact pattern-mixture computation against independent answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from bayes_ips import conjugate
from bayes_ips.analyses.missing_data import compute as missing
from bayes_ips.analyses.missing_data.compute import ArmData, PatternMixture, completion_weights
from bayes_ips.analyses.missing_data.options import MissingSettings
from bayes_ips.errors import InputError
from bayes_ips.pipeline import load_spec, run_analysis
from bayes_ips.priors import BetaRate
from bayes_ips.schema import validate

IPS_12 = (ArmData(1 + 19, 1 + 17, 2), ArmData(1 + 7, 1 + 11, 2))
UNEVEN = (ArmData(0.5 + 4, 0.5 + 20, 9), ArmData(0.5 + 12, 0.5 + 3, 5))


@pytest.fixture(scope="module")
def exact_run(tmp_path_factory):
    spec = tmp_path_factory.mktemp("spec") / "s.toml"
    spec.write_text('[models.beta_binomial]\npriors = ["reference"]\n')
    return run_analysis(load_spec(spec))


@pytest.mark.parametrize("arm", [IPS_12[0], UNEVEN[0], UNEVEN[1]])
def test_weights_at_mar_are_the_beta_binomial_predictive(arm):
    w = completion_weights(arm, [-2.0, 0.0, 1.5])
    assert np.allclose(w.sum(axis=1), 1.0)
    k = np.arange(arm.missing + 1)
    exact = stats.betabinom.pmf(k, arm.missing, arm.alpha, arm.beta)
    assert np.allclose(w[1], exact, atol=1e-7)
    # a shift towards employment moves the predictive towards more employed
    assert (w[2] @ k) > (w[1] @ k) > (w[0] @ k)


@pytest.mark.parametrize("pair", [IPS_12, UNEVEN])
def test_completion_matrix_matches_adaptive_quadrature(pair):
    t, c = pair
    m = missing.completed_benefit(t, c)
    corners = {(0, 0), (t.missing, 0), (0, c.missing), (t.missing // 2, c.missing // 2)}
    for kt, kc in sorted(corners):
        ref = conjugate.prob_greater(
            t.alpha + kt, t.beta + t.missing - kt, c.alpha + kc, c.beta + c.missing - kc
        )
        assert m[kt, kc] == pytest.approx(ref, abs=1e-6)


@pytest.mark.parametrize("pair", [IPS_12, UNEVEN])
def test_delta_zero_is_the_complete_case_posterior(pair):
    t, c = pair
    pm = PatternMixture(t, c, draws=1000, seed=1)
    assert pm.grid([0.0], [0.0])[0, 0] == pytest.approx(
        conjugate.prob_greater(t.alpha, t.beta, c.alpha, c.beta), abs=1e-6
    )


@pytest.mark.parametrize("pair", [IPS_12, UNEVEN])
def test_best_and_worst_case_bound_every_delta(pair):
    t, c = pair
    pm = PatternMixture(t, c, draws=1000, seed=1)
    b = pm.bounds()
    deltas = np.linspace(-12, 12, 49)
    grid = pm.grid(deltas, deltas)
    # 1e-6: the quadrature accuracy of the two computations (Gauss–Legendre vs adaptive)
    assert b["worst"] - 1e-6 <= grid.min() and grid.max() <= b["best"] + 1e-6
    # the extremes of the grid approach the bounds
    assert grid[0, -1] == pytest.approx(b["worst"], abs=1e-3)
    assert grid[-1, 0] == pytest.approx(b["best"], abs=1e-3)
    # P(benefit) rises with the treatment arm's delta and falls with the control arm's
    assert np.all(np.diff(grid, axis=0) >= -1e-9) and np.all(np.diff(grid, axis=1) <= 1e-9)


def test_monte_carlo_path_agrees_with_enumeration(monkeypatch):
    t, c = UNEVEN
    exact = PatternMixture(t, c, draws=20000, seed=3)
    monkeypatch.setattr(missing, "EXACT_MAX_PAIRS", 0)
    mc = PatternMixture(t, c, draws=20000, seed=3)
    assert exact.exact and not mc.exact and "Monte Carlo" in mc.method
    deltas = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    diff = np.abs(exact.grid(deltas, deltas) - mc.grid(deltas, deltas))
    assert diff.max() < 4 * 0.5 / np.sqrt(20000)  # 4 x the largest possible MCSE
    inf = [-np.inf, np.inf]
    corners = mc.grid(inf, inf)
    assert corners[0, 1] == pytest.approx(exact.bounds()["worst"], abs=4 * 0.5 / np.sqrt(20000))
    assert corners[1, 0] == pytest.approx(exact.bounds()["best"], abs=4 * 0.5 / np.sqrt(20000))


def test_tipping_points_solve_the_threshold_equation():
    pm = PatternMixture(*IPS_12, draws=1000, seed=1)
    tip_t = pm.tipping(0.8, "treatment")
    tip_c = pm.tipping(0.8, "control")
    tip_b = pm.tipping(0.8, "both")
    assert tip_t["status"] == tip_c["status"] == tip_b["status"] == "reached"
    assert tip_t["delta"] < 0 < tip_c["delta"] and tip_b["delta"] < 0
    for tip in (tip_t, tip_c, tip_b):
        value = pm.along([tip["delta"]], tip["vary"])[0]
        assert value == pytest.approx(0.8, abs=1e-3)
    # shifting both arms needs a smaller delta than shifting one
    assert abs(tip_b["delta"]) < min(abs(tip_t["delta"]), abs(tip_c["delta"]))
    assert pm.tipping(0.9, "treatment")["status"] == "below_at_mar"  # 82.6% < 90%
    assert pm.tipping(0.5, "treatment")["status"] == "not_reached"  # worst case for T > 50%


def test_summary_entry_on_the_trial(exact_run):
    out = missing.analyse(exact_run.ctx, exact_run.fitted)
    twelve = next(e for e in out["horizons"] if e["horizon_months"] == 12)
    sc = {s["name"]: s for s in twelve["scenarios"]}
    exact = exact_run.fitted.table.query("horizon_months == 12")["p_benefit"].iloc[0]
    assert sc["complete_case"]["p_benefit"] == pytest.approx(exact, abs=1e-6)
    # MAR equals the complete case exactly (arm the only predictor): no simulated value
    assert sc["mar"]["p_benefit"] == sc["complete_case"]["p_benefit"]
    assert sc["mar"]["p_benefit_mcse"] == 0.0 and sc["mar"]["equals"] == "complete_case"
    assert sc["mar"]["rd"] == sc["complete_case"]["rd"]
    assert sc["worst_case"]["p_benefit"] < exact < sc["best_case"]["p_benefit"]
    assert twelve["arms"]["IPS"]["missing"] == 2 and twelve["arms"]["TAU"]["missing"] == 2
    grid = np.asarray(twelve["grid"])
    zero = out["deltas"].index(0.0)
    assert grid[zero, zero] == pytest.approx(exact, abs=1e-6)
    assert (
        sc["worst_case"]["p_benefit"] <= grid.min() and grid.max() <= sc["best_case"]["p_benefit"]
    )
    assert "grid" not in next(e for e in out["horizons"] if e["horizon_months"] == 6)
    assert len(twelve["curves"]["treatment"]) == len(out["deltas"])


@pytest.mark.parametrize(
    ("table", "field", "rule"),
    [
        ({"delta_min": 1.0}, "missing_data.delta_min", "below 0"),
        ({"delta_step": 0.7}, "missing_data.delta_step", "divide"),
        ({"delta_max": 20.0}, "missing_data.delta_max", "between"),
        ({"thresholds": [1.2]}, "missing_data.thresholds", "strictly between"),
        ({"prior": "nope"}, "missing_data.prior", "rate component"),
        ({"enabled": "yes"}, "missing_data.enabled", "type bool"),
        ({"deltas": [0]}, "missing_data.deltas", "unknown key"),
    ],
)
def test_spec_section_errors_name_the_key(table, field, rule):
    with pytest.raises(InputError) as err:
        validate(MissingSettings, table, "s.toml", at=("missing_data",))
    assert err.value.field == field and rule in err.value.rule


def test_the_analysis_can_be_turned_off(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(
        '[models.beta_binomial]\npriors = ["reference"]\n[missing_data]\nenabled = false\n'
    )
    analysis = run_analysis(load_spec(spec))
    assert "missing_data" not in analysis.extras and "horizons" in analysis.extras


def test_one_value_per_estimand_across_sections(tmp_path, cli):
    """The complete-case analysis under the missing-data prior is the beta_binomial fit under
    that prior: one run's summary.json and report give the same P(benefit) and RD in the
    results and in the missing-data section (the same draws, not a second sample)."""
    spec = tmp_path / "s.toml"
    spec.write_text('[models.beta_binomial]\npriors = ["reference", "jeffreys"]\n')
    assert cli("run", spec, "--quick", "--out", tmp_path / "r")[0] == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    md = (tmp_path / "r" / "report.md").read_text()
    assert summary["missing_data"]["prior"] == "reference"
    results = {
        r["horizon_months"]: r
        for r in summary["results"]
        if (r["model"], r["prior"]) == ("beta_binomial", "reference")
    }
    for entry in summary["missing_data"]["horizons"]:
        row = results[entry["horizon_months"]]
        sc = {s["name"]: s for s in entry["scenarios"]}
        for name in ("complete_case", "mar"):
            assert sc[name]["p_benefit"] == row["p_benefit"]
            assert sc[name]["rd"] == {k: row["rd"][k] for k in ("median", "lo", "hi")}
        assert sc["complete_case"]["source"] == "results"
        assert (sc["complete_case"]["model"], sc["complete_case"]["prior"]) == (
            "beta_binomial",
            "reference",
        )
        shown = f"{100 * row['rd']['median']:+.1f}"
        missing_section = md[md.index("## Missing outcomes") :]
        assert shown in md[: md.index("## Missing outcomes")] and shown in missing_section
    assert "the results' beta_binomial / reference fit, the same numbers" in md.replace("\\_", "_")


def test_complete_case_without_the_fit_uses_its_own_draws(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('[models.beta_binomial]\npriors = ["jeffreys"]\n')
    run = run_analysis(load_spec(spec).with_overrides(quick=True))
    entry = run.extras["missing_data"]["horizons"][0]
    cc = next(s for s in entry["scenarios"] if s["name"] == "complete_case")
    assert cc["source"] == "own draws" and "model" not in cc
    t, c = (
        missing._arm(run.ctx.counts, arm, entry["horizon_months"], BetaRate(1, 1))[0]
        for arm in ("IPS", "TAU")
    )
    assert cc["p_benefit"] == pytest.approx(
        conjugate.prob_greater(t.alpha, t.beta, c.alpha, c.beta), abs=1e-7
    )
