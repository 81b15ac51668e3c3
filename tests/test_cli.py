"""The command line: the default run, exit codes, bad input, atomic writes, re-rendering."""

from __future__ import annotations

import json

import pytest
from scipy import integrate, stats

from bayes_ips.models import EXACT_MODELS
from bayes_ips.report.summary import schema_errors

from .conftest import EXACT_SPEC, run_subprocess, write_table


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "ips"
    proc = run_subprocess("run", "--quick", "--out", out)
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_default_run_writes_the_documented_files(default_run):
    out, proc = default_run
    for name in ("report.html", "report.md", "summary.json", "fits", "figures"):
        assert (out / name).exists(), name
    assert "P(benefit)" in proc.stdout and str(out / "report.html") in proc.stdout
    assert "UNVERIFIED" in proc.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [f"{e.json_path}: {e.message}" for e in schema_errors(summary)] == []


def test_p_benefit_at_12_months_equals_independent_quadrature(default_run):
    out, _ = default_run
    summary = json.loads((out / "summary.json").read_text())
    (row,) = [
        r
        for r in summary["results"]
        if r["model"] == "beta_binomial" and r["prior"] == "reference" and r["horizon_months"] == 12
    ]
    # Beta(1,1) prior, 19/36 vs 7/18: P(pT > pC) = ∫ f_T(x) F_C(x) dx, integrated directly.
    direct, _ = integrate.quad(
        lambda x: stats.beta.pdf(x, 20, 18) * stats.beta.cdf(x, 8, 12),
        0,
        1,
        epsabs=1e-13,
        epsrel=1e-13,
    )
    assert abs(row["p_benefit"] - direct) < 1e-6
    assert row["p_benefit_mcse"] == 0.0 and row["verified_data"] is True


def test_headline_and_status_of_the_default_run(default_run):
    """The headline is the spec's first fit (beta_binomial, reference) at 12 months, copied from
    its result row; the status follows the diagnostics (the full check of every shipped spec is
    in test_summary_schema.py, with --run-slow)."""
    out, _ = default_run
    summary = json.loads((out / "summary.json").read_text())
    head = summary["headline"]
    (row,) = [
        r
        for r in summary["results"]
        if (r["model"], r["prior"], r["horizon_months"]) == ("beta_binomial", "reference", 12)
    ]
    assert (head["model"], head["prior"], head["horizon_months"]) == (
        "beta_binomial",
        "reference",
        12,
    )
    assert head["p_benefit"] == row["p_benefit"] and head["verified_data"] is True
    assert (head["rd"]["median"], head["rd"]["lo"], head["rd"]["hi"]) == (
        row["rd"]["median"],
        row["rd"]["lo"],
        row["rd"]["hi"],
    )
    at_12 = [r["p_benefit"] for r in summary["results"] if r["horizon_months"] == 12]
    assert (head["p_benefit_range"]["min"], head["p_benefit_range"]["max"]) == (
        min(at_12),
        max(at_12),
    )
    failed = [d for d in summary["diagnostics"] if not d["passed"]]
    assert summary["status"]["converged"] == (not failed) and summary["status"]["quick"] is True
    assert summary["status"]["exit_code"] == 0 and summary["status"]["warnings"] == len(
        summary["warnings"]
    )


def test_summary_flags_unverified_rows(default_run):
    out, _ = default_run
    summary = json.loads((out / "summary.json").read_text())
    exact = {
        (r["horizon_months"], r["verified_data"])
        for r in summary["results"]
        if r["model"] == "beta_binomial"
    }
    assert exact == {(6, False), (12, True), (24, False)}
    # the exact models analyse each horizon on its own rows; the models that pool across
    # horizons lean on the placeholder rows at every horizon
    for r in summary["results"]:
        if r["model"] in EXACT_MODELS:
            assert r["verified_data"] is (r["horizon_months"] == 12)
        else:
            assert not r["verified_data"]
    assert summary["schema_version"] == "2.1.0"
    for k in ("spec", "spec_sha256", "data_sha256", "seed", "quick"):
        assert k in summary["run"]


def test_report_rerenders_byte_identical_summary(default_run, tmp_path):
    out, _ = default_run
    before = (out / "summary.json").read_bytes()
    proc = run_subprocess("report", out)
    assert proc.returncode == 0, proc.stderr
    assert (out / "summary.json").read_bytes() == before


def test_second_trial_with_other_labels_and_one_horizon(tmp_path, cli, one_prior_spec):
    data = write_table(
        tmp_path, ["Coaching,6,30,50,52,true,trial B", "Usual,6,20,50,50,true,trial B"]
    )
    code, _out, err = cli(
        "run",
        one_prior_spec,
        "--quick",
        "--data",
        data,
        "--treatment",
        "Coaching",
        "--control",
        "Usual",
        "--out",
        tmp_path / "b",
    )
    assert code == 0, err
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert {r["horizon_months"] for r in summary["results"]} == {6}
    assert summary["run"]["quick"] is True
    assert "primary horizon 12 months is not in the data" in " ".join(summary["warnings"])


def test_unknown_arm_label_is_exit_2_listing_labels(tmp_path, cli):
    code, _out, err = cli("run", "--treatment", "IPS+TAU", "--out", tmp_path / "x")
    assert code == 2
    assert "arms found: 'IPS', 'TAU'" in err and "IPS+TAU" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_bad_data_leaves_an_earlier_run_intact(tmp_path, cli):
    target = tmp_path / "run"
    good = write_table(tmp_path, ["A,12,10,40,42,true,s", "B,12,6,40,41,true,s"])
    args = ["--data", good, "--treatment", "A", "--control", "B", "--out", target]
    spec = tmp_path / "exact.toml"
    spec.write_text(EXACT_SPEC)
    assert cli("run", spec, "--quick", *args)[0] == 0
    before = (target / "summary.json").read_bytes()
    bad = write_table(tmp_path, ["A,12,50,40,42,true,s", "B,12,6,40,41,true,s"], name="bad.csv")
    code, _, err = cli("run", "--data", bad, "--treatment", "A", "--control", "B", "--out", target)
    assert code == 2 and "employed" in err and "Traceback" not in err
    assert (target / "summary.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_malformed_input_in_a_child_process_prints_one_line(tmp_path):
    bad = write_table(tmp_path, ["A,12,-3,40,42,true,s", "B,12,6,40,41,true,s"])
    proc = run_subprocess("run", "--data", bad, "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "line 2" in proc.stderr and "'employed'" in proc.stderr and "negative" in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "args,needle",
    [
        (["run", "--seed", "abc"], "invalid int value"),
        (["run", "--jobs", "0"], "argument --jobs, value 0: must be a whole number of at least 1"),
        (["frobnicate"], "unknown command"),
        (["check-data"], "required"),
        (["report", "/nonexistent/run"], "no summary.json"),
    ],
)
def test_bad_arguments_are_exit_2(cli, args, needle):
    code, _, err = cli(*args)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_spec_errors_name_the_key(tmp_path, cli):
    spec = tmp_path / "s.toml"
    spec.write_text("[sampler]\nchainz = 4\n")
    code, _, err = cli("run", spec, "--out", tmp_path / "o")
    assert code == 2 and "sampler.chainz" in err and "unknown key" in err
    spec.write_text('[models.beta_binomial]\npriors = ["nope"]\n')
    code, _, err = cli("run", spec, "--out", tmp_path / "o")
    assert code == 2 and "unknown prior" in err and "'nope'" in err
    spec.write_text('seed = "x"\n')
    assert cli("run", spec)[0] == 2
    assert not (tmp_path / "o").exists()


def test_check_data_and_priors(cli):
    code, out, _ = cli("check-data", "package:ips_in_pain.csv")
    assert code == 0 and "valid" in out and "unverified rows: IPS 6 mo" in out
    code, out, _ = cli("priors")
    assert code == 0 and "neutral_moderate" in out and "recipe:" in out


def test_a_fit_failing_its_checks_is_retried_and_exits_3(tmp_path, cli):
    spec = tmp_path / "strict.toml"
    spec.write_text(
        'name = "strict"\n[models.hierarchical_logistic]\npriors = ["reference"]\n'
        "[diagnostics]\nebfmi_min = 10\n"
    )
    code, _out, err = cli("run", spec, "--quick", "--out", tmp_path / "r")
    assert code == 3
    assert "NOT CONVERGED" in err and "E-BFMI" in err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    (diag,) = summary["diagnostics"]
    assert diag["passed"] is False and diag["retried"] is True and diag["advice"]
    assert diag["retry_settings"]["tune"] == 2 * 500
    assert "NOT CONVERGED" in (tmp_path / "r" / "report.html").read_text()


def test_report_refuses_a_fit_that_does_not_match_the_summary(default_run, tmp_path, cli):
    import shutil

    import xarray as xr

    run = tmp_path / "copy"
    shutil.copytree(default_run[0], run)
    summary = json.loads((run / "summary.json").read_text())
    entry = summary["run"]["fits"][0]
    path = run / entry["file"]
    tree = xr.open_datatree(path, engine="netcdf4").load()
    tree.attrs["seed"] = entry["seed"] + 1
    path.unlink()
    tree.to_netcdf(path, engine="netcdf4")
    code, _, err = cli("report", run)
    assert code == 2 and "does not match summary.json" in err and "'seed'" in err
