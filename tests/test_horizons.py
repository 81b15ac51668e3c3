"""Statements across horizons and interval risk sets, on fake draws (no sampling)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from bayes_ips.analyses.horizons.compute import half_time, joint
from bayes_ips.analyses.registry import layout
from bayes_ips.data import Comparison, load_trial
from bayes_ips.data.intervals import COHORT, interval_labels, risk_sets
from bayes_ips.errors import InputError
from bayes_ips.pipeline import load_spec, run_analysis
from bayes_ips.report import render_html, render_markdown

HORIZONS = [6, 12, 24]


def fake_p(values, arms=("T", "C")) -> xr.DataArray:
    """p[chain, draw, arm, horizon] from an array (draws, arm, horizon)."""
    arr = np.asarray(values, float)[None]
    return xr.DataArray(
        arr,
        dims=("chain", "draw", "arm", "horizon"),
        coords={"arm": list(arms), "horizon": HORIZONS, "draw": np.arange(arr.shape[1])},
    )


def test_interval_labels():
    assert interval_labels(HORIZONS) == ["0–6", "6–12", "12–24"]


def test_cohort_risk_sets_from_the_bundled_counts():
    rs = risk_sets(load_trial("package:ips_in_pain.csv").counts(Comparison()))
    assert rs.attrs["method"] == COHORT
    assert rs["at_risk"].values.tolist() == [[36, 24, 17], [18, 13, 11]]
    assert rs["events"].values.tolist() == [[12, 7, 3], [5, 2, 0]]


@pytest.mark.parametrize(
    ("rows", "field", "rule"),
    [
        (["A,6,5,40,40", "A,12,4,40,40"], "employed", "falls from 5"),
        (["A,6,5,40,40", "A,12,8,39,40"], "n_analysed", "same analysed cohort"),
    ],
)
def test_cohort_assumption_is_checked(rows, field, rule, tmp_path):
    from .conftest import write_table

    lines = [f"{r},true,s" for r in rows] + ["B,6,3,40,40,true,s", "B,12,6,40,40,true,s"]
    path = write_table(tmp_path, lines)
    counts = load_trial(path).counts(Comparison("A", "B"))
    with pytest.raises(InputError) as err:
        risk_sets(counts)
    assert err.value.field == field and rule in err.value.rule and err.value.source == str(path)


def test_half_time_by_hand():
    # T: 30% by 6, 60% by 12 -> survival 0.7 then 0.4; crossing in 6-12 with log-linear survival
    p = fake_p([[[0.3, 0.6, 0.7], [0.1, 0.2, 0.3]]])
    t = half_time(p)
    expected = 6 + 6 * np.log(0.5 / 0.7) / np.log(0.4 / 0.7)
    assert t.sel(arm="T").item() == pytest.approx(expected)
    assert np.isinf(t.sel(arm="C").item())  # never half employed within follow-up
    exactly = half_time(fake_p([[[0.5, 0.6, 0.7], [0.0, 0.0, 0.5]]]))
    assert exactly.sel(arm="T").item() == pytest.approx(6.0)
    assert exactly.sel(arm="C").item() == pytest.approx(24.0)


def test_joint_statements_count_draws():
    draws = [
        [[0.3, 0.5, 0.6], [0.2, 0.35, 0.5]],  # RD 0.1, 0.15, 0.1: benefit everywhere
        [[0.3, 0.55, 0.4], [0.2, 0.4, 0.5]],  # RD 0.1, 0.15, -0.1: fails at 24; T falls
        [[0.1, 0.5, 0.9], [0.2, 0.3, 0.4]],  # RD -0.1, 0.2, 0.5: fails at 6
        [[0.4, 0.5, 0.8], [0.1, 0.3, 0.3]],  # RD 0.3, 0.2, 0.5: benefit everywhere
    ]
    out = joint(fake_p(draws), "T", "C")
    assert out["p_benefit_all"] == pytest.approx(0.5)
    assert out["p_monotone"] == pytest.approx(0.75)
    (a, b) = out["rd_increase"]
    assert (a["from"], a["to"], b["from"], b["to"]) == (6, 12, 12, 24)
    assert a["p"] == pytest.approx(0.75)
    assert b["p"] == pytest.approx(0.5)


@pytest.fixture(scope="module")
def exact_summary(tmp_path_factory):
    spec = tmp_path_factory.mktemp("spec") / "s.toml"
    spec.write_text('[models.beta_binomial]\npriors = ["reference", "jeffreys"]\n')
    return run_analysis(load_spec(spec)).summary("test")


def test_per_horizon_fits_get_joint_statements_and_falling_rates_are_counted(exact_summary):
    hz = exact_summary["horizons"]
    assert hz["horizons_months"] == HORIZONS and hz["unverified_horizons"] == [6, 24]
    fit = hz["fits"][0]
    assert not fit["cumulative"] and "half_time" not in fit
    # independent per-horizon posteriors let the cumulative rate fall in many draws
    assert 0 < fit["p_monotone"] < 1
    per = [r["p_benefit"] for r in exact_summary["results"] if r["prior"] == "reference"]
    assert fit["p_benefit_all"] <= min(per)
    (group,) = hz["loo"]["groups"]  # both fits on the same cumulative counts: one group
    assert hz["loo"]["comparable_across_groups"]
    # two priors of one model: each fit scored on its own, never ranked against the other
    assert not group["compared"] and all("rank" not in r for r in group["rows"])


def test_report_answers_both_questions(exact_summary):
    for text in (
        render_html(exact_summary, [], layout()),
        render_markdown(exact_summary, [], layout()),
    ):
        assert "Does the benefit hold at every horizon?" in text
        assert "How bad would the missing outcomes have to be to overturn it?" in text
        assert "horizons analysed as separate data" in text  # no cumulative model was fitted
        assert "UNVERIFIED" in text


@pytest.fixture(scope="module")
def two_families(tmp_path_factory):
    spec = tmp_path_factory.mktemp("spec") / "s.toml"
    spec.write_text(
        '[models.beta_binomial]\npriors = ["reference"]\n'
        '[models.exact_logistic]\npriors = ["reference", "neutral_moderate"]\n'
    )
    return run_analysis(load_spec(spec)).summary("test")


def test_model_families_are_compared_under_one_prior_only(two_families):
    comp = two_families["comparison"]
    (entry,) = comp["by_prior"]  # neutral_moderate has one family: nothing to compare
    assert entry["prior"] == "reference"
    assert sorted(entry["models"]) == ["beta_binomial", "exact_logistic"]
    assert comp["single_family_priors"] == ["neutral_moderate"]
    assert all("rank" not in r and "weight" not in r for r in comp["rows"])
    # Independent Beta(1, 1) rates: leaving a count out leaves its rate at the prior, whose
    # predictive is uniform on 0..n, so the exact leave-one-out ELPD is -sum log(n + 1).
    n = [d["n_analysed"] for d in two_families["data"] if d["compared"]]
    by_model = {r["model"]: r for r in entry["rows"]}
    bb = by_model["beta_binomial"]
    assert bb["elpd_loo"] == pytest.approx(-sum(math.log(k + 1) for k in n), rel=1e-9)
    assert bb["n_exact"] == bb["n_obs"] == len(n)
    own = {r["model"]: r["elpd_loo"] for r in comp["rows"] if r["prior"] == "reference"}
    assert own == pytest.approx({m: r["elpd_loo"] for m, r in by_model.items()})
    best, other = sorted(entry["rows"], key=lambda r: r["rank"])
    assert best["elpd_loo"] >= other["elpd_loo"]
    assert other["elpd_diff"] == pytest.approx(other["elpd_loo"] - best["elpd_loo"])
    assert "Pareto k above 0.7 means" in comp["pareto_k"]
