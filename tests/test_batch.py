"""Batch runs: skipping unchanged specs, the index, exit codes, and equal results on Dask."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bayes_ips import batch
from bayes_ips.batch import BatchResults, RunRecord, run_batch
from bayes_ips.errors import InputError
from bayes_ips.pipeline import load_spec
from bayes_ips.report.summary import merge_figure_data

from .conftest import IPS_CSV

SPEC = """# test spec
title = "{title}"
name = "{name}"
seed = {seed}

[data]
path = "trial.csv"
primary_horizon = {horizon}
verified_only = {verified_only}

[models.beta_binomial]
priors = ["reference"]

[estimands]
exact_draws = 2000

# The batch logic is under test, not these analyses: off, to keep the runs small.
[decision]
enabled = false

[missing_data]
enabled = false
"""


def write_spec(folder, name, *, seed=1, title="Test run", horizon=12):
    """A small spec: one exact fit, only the verified 12-month rows unless another horizon."""
    path = folder / f"{name}.toml"
    text = SPEC.format(
        name=name,
        seed=seed,
        title=title,
        horizon=horizon,
        verified_only=str(horizon == 12).lower(),
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def specs(tmp_path):
    shutil.copy(IPS_CSV, tmp_path / "trial.csv")
    return [write_spec(tmp_path, "alpha", seed=1), write_spec(tmp_path, "beta", seed=2)]


def statuses(result: BatchResults) -> dict[str, str]:
    return {r.name: r.status for r in result.runs}


def test_second_batch_skips_unchanged_specs_and_reruns_changed_ones(specs, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    out = tmp_path / "out"
    first = run_batch(specs, out, jobs=1)
    assert statuses(first) == {"alpha": "ok", "beta": "ok"} and first.exit_code == 0
    summary = (out / "alpha" / "summary.json").read_bytes()
    key = json.loads((out / "alpha" / "run-key.json").read_text())
    assert key["exit_code"] == 0 and key["package_version"] == batch.__version__
    figure_data = json.loads((out / "alpha" / "figures" / "figure_data.json").read_text())
    assert first.load("alpha").summary_data == merge_figure_data(json.loads(summary), figure_data)
    assert "2 ok" in first._repr_html_()

    second = run_batch(specs, out, jobs=1)
    assert set(statuses(second).values()) == {"skipped (unchanged)"}
    assert second.runs[0].headline == first.runs[0].headline  # read back from summary.json

    write_spec(tmp_path, "beta", seed=3)  # spec bytes change
    third = run_batch(specs, out, jobs=1)
    assert statuses(third) == {"alpha": "skipped (unchanged)", "beta": "ok"}

    key_file = out / "beta" / "run-key.json"  # as if beta's last run had not converged
    key_file.write_text(json.dumps({**json.loads(key_file.read_text()), "exit_code": 3}))
    assert statuses(run_batch(specs, out, jobs=1)) == {"alpha": "skipped (unchanged)", "beta": "ok"}

    data = tmp_path / "trial.csv"
    data.write_text(data.read_text().replace("TAU,12,7,18", "TAU,12,8,18"))  # data bytes change
    assert set(statuses(run_batch(specs, out, jobs=1)).values()) == {"ok"}

    monkeypatch.setattr(batch, "__version__", "99.0")  # package version changes
    assert statuses(run_batch(specs[:1], out, jobs=1)) == {"alpha": "ok"}
    monkeypatch.undo()

    # Same spec and seed, forced again: the same summary.json, byte for byte.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    data.write_text(IPS_CSV.read_text())
    run_batch(specs[:1], out, jobs=1, force=True)
    assert (out / "alpha" / "summary.json").read_bytes() == summary


def test_the_run_key_follows_the_evidence_table_the_priors_read(specs, tmp_path):
    evidence = tmp_path / "evidence.csv"
    shutil.copy(Path(batch.__file__).parent / "data" / "external_evidence.csv", evidence)
    spec = specs[0]
    spec.write_text(spec.read_text() + '\n[priors]\nevidence = "evidence.csv"\n')

    def key() -> str:
        return batch.content_key(load_spec(spec), "data", quick=False)["key"]

    before = key()
    assert key() == before
    evidence.write_text(evidence.read_text().replace("1.34,0.86,2.10", "1.35,0.86,2.10"))
    assert key() != before


def test_failed_spec_is_indexed_the_others_finish_and_the_exit_code_says_so(specs, tmp_path, cli):
    (tmp_path / "bad.csv").write_text(IPS_CSV.read_text().replace("IPS,12,19", "IPS,12,-1"))
    bad = write_spec(tmp_path, "gamma")
    bad.write_text(bad.read_text().replace('"trial.csv"', '"bad.csv"'))
    out = tmp_path / "out"
    code, stdout, err = cli("batch", specs[0], bad, specs[1], "--out", out, "--jobs", "1")
    assert code == 2
    assert err == ""  # no progress bar in a pipe
    assert "invalid input" in stdout and "a count cannot be negative" in stdout
    assert str(out / "index.html") in stdout
    index = pd.read_csv(out / "index.csv")
    assert index["status"].tolist() == ["ok", "invalid input", "ok"]
    assert index["exit_code"].tolist() == [0, 2, 0]
    assert index.loc[0, "report"] == "alpha/report.html" and (out / "alpha/report.html").is_file()
    (row,) = [
        r
        for r in json.loads((out / "alpha/summary.json").read_text())["results"]
        if (r["prior"], r["horizon_months"]) == ("reference", 12)
    ]
    assert index.loc[0, "p_benefit"] == pytest.approx(row["p_benefit"])
    assert not (out / "gamma").exists()
    html = (out / "index.html").read_text()
    assert 'href="alpha/report.html"' in html and "a count cannot be negative" in html
    # The failed spec runs again next time; the good ones are skipped.
    code, stdout, _err = cli("batch", specs[0], bad, "--out", out, "--jobs", "1")
    assert code == 2 and "skipped (unchanged)" in stdout and "a count cannot be negative" in stdout


@pytest.mark.parametrize(
    ("codes", "expected"),
    [([0, 0], 0), ([0, 3], 3), ([3, 2, 0], 2), ([2, 1, 3], 1), ([], 0)],
)
def test_batch_exit_code_is_the_most_severe_run_code(tmp_path, codes, expected):
    runs = [RunRecord(f"s{i}.toml", f"s{i}", c, batch.STATUS[c]) for i, c in enumerate(codes)]
    assert BatchResults(tmp_path, runs).exit_code == expected


def test_internal_error_in_one_run_is_logged_and_the_batch_goes_on(specs, tmp_path, monkeypatch):
    from bayes_ips import api

    real = api.reanalyze

    def flaky(spec, **kwargs):
        if spec.name == "alpha":
            raise RuntimeError("simulated bug")
        return real(spec, **kwargs)

    monkeypatch.setattr(api, "reanalyze", flaky)
    result = run_batch(specs, tmp_path / "out", jobs=1)
    assert statuses(result) == {"alpha": "internal error", "beta": "ok"}
    assert result.exit_code == 1
    log = (tmp_path / "out" / "batch-errors.log").read_text()
    assert "RuntimeError: simulated bug" in log and "Traceback" in log
    run_batch(specs[1:], tmp_path / "out", jobs=1)  # beta unchanged: skipped, no error
    assert not (tmp_path / "out" / "batch-errors.log").exists()


def test_two_specs_with_one_run_name_are_rejected_before_anything_is_written(specs, tmp_path):
    twin = tmp_path / "twin.toml"
    twin.write_text(specs[0].read_text())
    with pytest.raises(InputError, match="same run folder"):
        run_batch([specs[0], twin], tmp_path / "out", jobs=1)
    assert not (tmp_path / "out").exists()


def test_bad_batch_arguments_exit_2_with_one_line(specs, tmp_path, cli, monkeypatch):
    code, _out, err = cli("batch", specs[0], "--out", tmp_path / "o", "--jobs", "0")
    assert code == 2 and "--jobs" in err and len(err.strip().splitlines()) == 1
    monkeypatch.setattr(batch, "CONNECT_TIMEOUT", "1s")
    code, _out, err = cli(
        "batch", specs[0], "--out", tmp_path / "o", "--scheduler", "tcp://127.0.0.1:9"
    )
    assert code == 2 and "cannot connect to the Dask scheduler" in err
    assert not (tmp_path / "o").exists()


def test_index_escapes_user_text_and_flags_unverified_headlines(tmp_path):
    shutil.copy(IPS_CSV, tmp_path / "trial.csv")
    spec = write_spec(tmp_path, "late", title="<script>x</script>", horizon=24)
    run_batch([spec], tmp_path / "out", jobs=1)
    html = (tmp_path / "out" / "index.html").read_text()
    assert "<script>x" not in html and "&lt;script&gt;x" in html
    assert "UNVERIFIED" in html
    assert pd.read_csv(tmp_path / "out" / "index.csv").loc[0, "verified_data"] == False  # noqa: E712


@pytest.fixture(scope="module")
def dask_cluster():
    from distributed import LocalCluster

    # Loopback only, two single-threaded worker processes, no dashboard.
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    ) as cluster:
        yield cluster


def test_dask_cluster_gives_the_same_summary_bytes_as_local_processes(
    specs, tmp_path, monkeypatch, dask_cluster
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    local = run_batch(specs, tmp_path / "local", jobs=2)
    remote = run_batch(specs, tmp_path / "dask", scheduler=dask_cluster.scheduler_address)
    assert local.exit_code == remote.exit_code == 0
    assert statuses(remote) == {"alpha": "ok", "beta": "ok"}
    for name in ("alpha", "beta"):
        a = (tmp_path / "local" / name / "summary.json").read_bytes()
        b = (tmp_path / "dask" / name / "summary.json").read_bytes()
        assert a == b
        assert json.loads(a)["created_utc"] == "2023-11-14T22:13:20Z"
    assert pd.read_csv(tmp_path / "dask" / "index.csv")["name"].tolist() == ["alpha", "beta"]


@pytest.mark.slow
def test_mcmc_runs_on_dask_equal_local_processes(tmp_path, monkeypatch, dask_cluster):
    """PyMC fits inside Dask workers (chains one after another) give the local draws."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    demo = Path(__file__).parents[1] / "models" / "quick_demo.toml"
    local = run_batch([demo], tmp_path / "local", jobs=2, force=True)
    remote = run_batch([demo], tmp_path / "dask", scheduler=dask_cluster.scheduler_address)
    assert [r.status for r in local.runs] == [r.status for r in remote.runs] == ["ok"]
    name = local.runs[0].name
    a = (tmp_path / "local" / name / "summary.json").read_bytes()
    assert a == (tmp_path / "dask" / name / "summary.json").read_bytes()
    assert json.loads(a)["diagnostics"], "the demo spec has an MCMC fit"
