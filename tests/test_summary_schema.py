"""summary.json as a contract: the JSON Schema, the headline and status, the figure data beside it,
and each shipped spec's own headline on the batch line."""

from __future__ import annotations

import copy
import json
import shutil
import tomllib
from pathlib import Path

import jsonschema
import pytest
from scipy import integrate, stats

from bayes_ips.analyses.registry import layout
from bayes_ips.api import load_run
from bayes_ips.report.format import pct
from bayes_ips.report.summary import (
    FIGURE_DATA,
    merge_figure_data,
    schema,
    schema_errors,
    split_figure_data,
)

from .conftest import run_subprocess

ROOT = Path(__file__).parents[1]
SPECS = sorted((ROOT / "models").glob("*.toml"))
BUNDLED = ROOT / "bayes_ips" / "specs" / "default.toml"
SCHEMA_FILE = ROOT / "bayes_ips" / "schemas" / "summary.schema.json"


def test_the_docs_schema_is_the_shipped_one_and_a_valid_schema():
    assert (ROOT / "docs" / "summary.schema.json").read_bytes() == SCHEMA_FILE.read_bytes()
    assert schema() == json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema())


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Every shipped spec, quick, through the real command line (bayes_ips/specs/default.toml is
    models/default.toml byte for byte, so it runs once, as ips-in-pain). About 3 minutes on two
    cores, so the tests that use it run with ``--run-slow`` (``make validate``); ``make test``
    checks the schema on the default run (test_cli.py) and on the exact run below."""
    assert BUNDLED.read_bytes() == (ROOT / "models" / "default.toml").read_bytes()
    out = tmp_path_factory.mktemp("shipped")
    proc = run_subprocess("batch", *SPECS, "--quick", "--out", out)
    assert proc.returncode in (0, 3), proc.stderr
    runs = {}
    for path in SPECS:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
        folder = out / spec["name"]
        runs[path.stem] = (spec, folder, json.loads((folder / "summary.json").read_text()))
    return proc.stdout, runs


@pytest.mark.slow
@pytest.mark.parametrize("stem", [p.stem for p in SPECS])
def test_every_shipped_specs_summary_follows_the_schema(batch, stem):
    _, runs = batch
    _, _, summary = runs[stem]
    assert [f"{e.json_path}: {e.message}" for e in schema_errors(summary)] == []
    assert summary["schema_version"].split(".")[0] == "2"


@pytest.mark.slow
@pytest.mark.parametrize("stem", [p.stem for p in SPECS])
def test_headline_is_the_specs_first_fit_at_its_primary_horizon(batch, stem):
    _, runs = batch
    spec, _, summary = runs[stem]
    model = next(iter(spec["models"]))  # TOML keeps the spec's order
    prior = spec["models"][model]["priors"][0]
    h = spec["data"]["primary_horizon"]
    head = summary["headline"]
    (row,) = [
        r
        for r in summary["results"]
        if (r["model"], r["prior"], r["horizon_months"]) == (model, prior, h)
    ]
    assert (head["model"], head["prior"], head["horizon_months"]) == (model, prior, h)
    assert head["p_benefit"] == row["p_benefit"]
    assert head["p_benefit_mcse"] == row["p_benefit_mcse"]
    assert head["rd"] == {
        "median": row["rd"]["median"],
        "lo": row["rd"]["lo"],
        "hi": row["rd"]["hi"],
        "level": summary["run"]["interval"],
        "unit": "proportion",
    }
    assert head["verified_data"] is row["verified_data"]
    at_h = [r["p_benefit"] for r in summary["results"] if r["horizon_months"] == h]
    spread = head["p_benefit_range"]
    assert (spread["min"], spread["max"], spread["fits"]) == (min(at_h), max(at_h), len(at_h))


@pytest.mark.slow
@pytest.mark.parametrize("stem", [p.stem for p in SPECS])
def test_status_says_how_the_run_ended(batch, stem):
    _, runs = batch
    _, folder, summary = runs[stem]
    failed = [d for d in summary["diagnostics"] if not d["passed"]]
    key = json.loads((folder / "run-key.json").read_text())
    assert summary["status"] == {
        "converged": not failed,
        "exit_code": key["exit_code"],
        "not_converged": [f"{d['model']}/{d['prior']}" for d in failed],
        "mcmc_fits": len(summary["diagnostics"]),
        "quick": True,
        "warnings": len(summary["warnings"]),
    }
    assert key["exit_code"] == (3 if failed else 0)


@pytest.mark.slow
def test_default_headline_equals_independent_quadrature(batch):
    _, runs = batch
    head = runs["default"][2]["headline"]
    assert (head["model"], head["prior"], head["horizon_months"]) == (
        "beta_binomial",
        "reference",
        12,
    )
    # Beta(1, 1) prior, 19/36 vs 7/18: P(pT > pC) = ∫ f_T(x) F_C(x) dx
    direct, _ = integrate.quad(
        lambda x: stats.beta.pdf(x, 20, 18) * stats.beta.cdf(x, 8, 12), 0, 1, epsabs=1e-13
    )
    assert head["p_benefit"] == pytest.approx(direct, abs=1e-9)
    assert head["p_benefit_mcse"] == 0.0 and head["verified_data"] is True


@pytest.mark.slow
def test_batch_line_shows_each_specs_own_headline_and_range(batch):
    stdout, runs = batch
    lines = stdout.splitlines()
    blocks = {}
    for spec, _, _ in runs.values():
        i = next(i for i, line in enumerate(lines) if f" {spec['name']} " in line)
        blocks[spec["name"]] = lines[i + 1]
    shown = set()
    for spec, _, summary in runs.values():
        line, head = blocks[spec["name"]], summary["headline"]
        at_h = [r["p_benefit"] for r in summary["results"] if r["horizon_months"] == 12]
        assert f"{head['model']} / {head['prior']}, 12 months" in line
        assert f"P(benefit) {pct(head['p_benefit'])}" in line
        assert f"{pct(min(at_h))} to {pct(max(at_h))} across {len(at_h)} fits" in line
        shown.add((head["model"], head["prior"]))
    # the sceptical and evidence-based specs lead with their own priors, not the shared anchor
    assert ("exact_logistic", "neutral_moderate") in shown
    assert ("exact_logistic", "evidence_probyn_2021") in shown


@pytest.mark.slow
def test_figure_arrays_live_beside_the_figures_and_come_back_on_loading(batch):
    _, runs = batch
    _, folder, summary = runs["default"]
    heatmap = summary["sensitivity"]["heatmap"]
    assert "p_benefit" not in heatmap and "likelihood" not in summary["sensitivity"]
    assert all("ceac" not in f["net_benefit"] for f in summary["decision"]["fits"])
    assert all("grid" not in e for e in summary["missing_data"]["horizons"])
    figure = json.loads((folder / FIGURE_DATA).read_text())
    grid = figure["sensitivity"]["heatmap"]["p_benefit"]
    assert len(grid) == len(heatmap["prior_sd"]) and len(grid[0]) == len(heatmap["prior_mean"])
    loaded = load_run(folder).summary_data
    assert loaded["sensitivity"]["heatmap"]["p_benefit"] == grid
    assert loaded["sensitivity"]["likelihood"] == figure["sensitivity"]["likelihood"]
    assert {k: v for k, v in loaded.items() if k not in summary} == {}


def test_an_exact_run_follows_the_schema(report_run):
    summary = json.loads((report_run / "summary.json").read_text(encoding="utf-8"))
    assert [f"{e.json_path}: {e.message}" for e in schema_errors(summary)] == []


def _at(tree, path: str) -> list:
    """Every value at a figure-data ``path`` ("key.sub[].array") in ``tree``."""
    found = [tree]
    for part in path.split("."):
        key = part.removesuffix("[]")
        found = [n[key] for n in found if isinstance(n, dict) and n.get(key) is not None]
        if part.endswith("[]"):
            found = [item for n in found for item in n]
    return found


def test_every_figure_array_is_beside_the_figures_not_in_summary_json(report_run):
    summary = json.loads((report_run / "summary.json").read_text(encoding="utf-8"))
    figure = json.loads((report_run / FIGURE_DATA).read_text(encoding="utf-8"))
    paths = layout().figure_data
    assert {p: _at(summary, p) for p in paths} == {p: [] for p in paths}
    # the exact run has every analysis: each declared array is written, and only there
    assert [p for p in paths if not _at(figure, p)] == []
    # the next trial's curves over the sample-size grid and the prior-predictive intervals are
    # figure data; the statements drawn from them stay
    nt = summary["decision"]["fits"][0]["next_trial"]
    assert "n_per_arm" not in nt and set(nt["bayesian"]) == {"n_for_target"}
    assert {"n_best", "enbs_best"} <= set(nt["value_of_sampling"])
    check = summary["sensitivity"]["prior_predictive"][0]
    assert "rd" not in check and {"holds", "p_rd_gt_0"} <= set(check)
    merged = load_run(report_run).summary_data
    nt = merged["decision"]["fits"][0]["next_trial"]
    assert (
        len(nt["bayesian"]["assurance"]) == len(nt["n_per_arm"]) == len(nt["frequentist"]["mcse"])
    )


def test_split_and_merge_are_inverse_and_skip_absent_paths():
    summary = {
        "a": {"grid": [[1, 2], [3, 4]], "keep": 1},
        "rows": [{"curve": [1.0, 2.0], "x": 1}, {"x": 2}, {"curve": [], "x": 3}],
        "other": [1, 2],
    }
    paths = ("a.grid", "rows[].curve", "missing.path", "other[].nothing")
    lean, figure = split_figure_data(summary, paths)
    assert lean == {"a": {"keep": 1}, "rows": [{"x": 1}, {"x": 2}, {"x": 3}], "other": [1, 2]}
    assert figure == {
        "a": {"grid": [[1, 2], [3, 4]]},
        "rows": [{"curve": [1.0, 2.0]}, {}, {"curve": []}],
    }
    assert merge_figure_data(copy.deepcopy(lean), figure) == summary


@pytest.mark.parametrize(
    "edit,where",
    [
        (lambda s: s.pop("headline"), "$"),
        (lambda s: s["headline"].update(p_benefit=None), "$.headline.p_benefit"),
        (lambda s: s["headline"]["rd"].update(unit="percentage points"), "$.headline.rd.unit"),
        (lambda s: s["status"].update(exit_code=1), "$.status.exit_code"),
        (lambda s: s.update(schema_version=1), "$.schema_version"),
        (lambda s: s["results"][0].update(p_benefit=1.2), "$.results[0].p_benefit"),
        (lambda s: s["results"][0]["rd"].update(lo="-0.1"), "$.results[0].rd.lo"),
        (
            lambda s: s["priors"][0].update(control={"family": "gamma", "a": 1, "b": 1}),
            "$.priors[0].control.family",
        ),
        (
            lambda s: s["results"][0].update(arr_at_baseline={"baseline": 0.1, "median": "0.02"}),
            "$.results[0].arr_at_baseline",
        ),
    ],
    ids=[
        "no headline",
        "null P(benefit)",
        "RD unit",
        "exit code",
        "integer version",
        "P>1",
        "text",
        "control-risk family",
        "ARR without its interval",
    ],
)
def test_the_schema_rejects_broken_summaries(report_run, edit, where):
    summary = json.loads((report_run / "summary.json").read_text(encoding="utf-8"))
    edit(summary)
    assert where in [e.json_path for e in schema_errors(summary)]


@pytest.mark.slow
def test_the_schema_allows_the_documented_nulls(batch):
    summary = copy.deepcopy(batch[1]["default"][2])
    row = summary["results"][0]
    row["rr"].update(median=None, lo=None, hi=None, mean=None, sd=None, estimable=False)
    row["rr"]["null_reasons"] = {"median": "undefined: 0/0 draws"}
    row["nnt"].update(median=None, point=None, nntb_bound=None, nnth_bound=None)
    loo = summary["comparison"]["rows"][0]
    for key in ("rank", "elpd_loo", "se", "p_loo", "elpd_diff", "dse", "weight", "pareto_k_max"):
        loo[key] = None
    loo["not_compared"] = "no observation is left to compare on"
    ess = next(p["ess"] for p in summary["sensitivity"]["priors"] if p.get("effect"))
    ess.update(effect_elir=None, effect_elir_reason="beyond the floating-point range")
    summary["horizons"]["loo"]["groups"][0]["rows"][0]["pareto_k_max"] = None
    assert schema_errors(summary) == []


@pytest.mark.slow
def test_report_refuses_a_summary_of_another_schema_version(batch, tmp_path, cli):
    run = tmp_path / "run"
    shutil.copytree(batch[1]["quick_demo"][1], run)
    path = run / "summary.json"
    summary = json.loads(path.read_text())
    summary["schema_version"] = 1
    path.write_text(json.dumps(summary))
    code, _, err = cli("report", run)
    assert code == 2 and "field 'schema_version'" in err and "run it again" in err
    summary["schema_version"] = "2.0.0"
    summary["status"]["warnings"] = -1
    path.write_text(json.dumps(summary))
    code, _, err = cli("report", run)
    assert code == 2 and "field '$.status.warnings'" in err and len(err.splitlines()) == 1
    (run / FIGURE_DATA).unlink()
    summary["status"]["warnings"] = 0
    path.write_text(json.dumps(summary))
    code, _, err = cli("report", run)
    assert code == 2 and "figure_data.json: missing" in err
