"""Faults: a run interrupted mid-sampling, corrupted or foreign fits, a fit that does not converge.

- SIGINT and SIGKILL while PyMC models are sampling (nutpie, the default, in the main process and
  in a helper process; PyMC's own NUTS) leave no partial run folder, the earlier run at the same
  path byte for byte intact, and no helper running on;
- ``bayes-ips report`` on a run whose NetCDF fit is truncated, garbage or not a bayes_ips fit, or
  whose summary.json is broken or names a fit outside the folder, is exit code 2 with one line,
  and the run folder is left as it was;
- a deliberately non-converging fit is retried once and reported with exit code 3.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from .conftest import write_table

LINUX_PROC = Path("/proc/self/task").exists()
EXACT_SPEC = """
[models.beta_binomial]
priors = ["reference"]
[decision]
enabled = false
"""
SLOW_SAMPLING_SPEC = """
title = "interrupt me"
[models.hierarchical_logistic]
priors = ["reference"]
[models.hierarchical_beta_binomial]
priors = ["reference"]
[sampler]
backend = "{backend}"
chains = 2
draws = {draws}
tune = 1000
"""
SLOW_DRAWS = {"nutpie": 400_000, "pymc": 20_000}
"""Draws that take far longer than the test waits: nutpie samples about 20 times faster."""


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory):
    """A finished quick exact run; tests copy it where they need one."""
    from bayes_ips.cli import main

    folder = tmp_path_factory.mktemp("earlier")
    spec = folder / "exact.toml"
    spec.write_text(EXACT_SPEC)
    assert main(["run", str(spec), "--quick", "--out", str(folder / "run")]) == 0
    return folder / "run"


def _copy_run(source: Path, target: Path) -> Path:
    for name, data in _snapshot(source).items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(data)
    return target


def _sampling(pid: int, backend: str) -> bool:
    """Whether the run is sampling, from /proc. nutpie: its worker threads run in the process
    and in a child (the helper fitting the second model family). PyMC (run with ``--jobs 1``, so
    its sampler processes are the only children): its sampler processes are running."""
    if backend == "nutpie":
        return _nutpie_workers(pid) and any(map(_nutpie_workers, _python_children(pid)))
    return bool(_python_children(pid))


def _nutpie_workers(pid: int) -> bool:
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_text().startswith("nutpie-worker"):
                return True
        except OSError:
            continue
    return False


def _python_children(pid: int) -> list[int]:
    """Child processes running Python (PyMC's samplers, helper processes), from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                if b"python" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
            except OSError:
                continue
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (not gone, not a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _start_sampling_run(tmp_path: Path, target: Path, backend: str) -> subprocess.Popen:
    spec = tmp_path / "slow.toml"
    spec.write_text(SLOW_SAMPLING_SPEC.format(backend=backend, draws=SLOW_DRAWS[backend]))
    jobs = "2" if backend == "nutpie" else "1"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bayes_ips.cli",
            "run",
            str(spec),
            "--out",
            str(target),
            "--jobs",
            jobs,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not _sampling(proc.pid, backend):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the run never started sampling: {proc.communicate()}")
        time.sleep(0.2)
    time.sleep(1.0)  # well inside sampling
    return proc


def _stop(proc: subprocess.Popen) -> None:
    """Clean up the run's whole process group (sampler workers included)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.skipif(not LINUX_PROC, reason="needs /proc to see when sampling has started")
@pytest.mark.parametrize(
    "signum,backend",
    [(signal.SIGINT, "nutpie"), (signal.SIGKILL, "nutpie"), (signal.SIGINT, "pymc")],
    ids=["SIGINT-nutpie", "SIGKILL-nutpie", "SIGINT-pymc"],
)
def test_interrupt_mid_sampling_leaves_earlier_run_intact(earlier_run, tmp_path, signum, backend):
    parent = tmp_path / "reports"
    target = _copy_run(earlier_run, parent / "ips")
    before = _snapshot(target)
    proc = _start_sampling_run(tmp_path, target, backend)
    children = _python_children(proc.pid)
    try:
        os.kill(proc.pid, signum)
        proc.wait(timeout=120)
        if backend == "nutpie":  # the helper does not run on, even after SIGKILL
            deadline = time.monotonic() + 30
            while any(_alive(c) for c in children) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not any(_alive(c) for c in children)
    finally:
        _stop(proc)  # none should be left (test_cli_processes.py); this guards the next test
    err = proc.communicate(timeout=60)[1]
    if signum == signal.SIGINT:
        assert proc.returncode == 130, err
        assert "interrupted; nothing was written" in err and "Traceback" not in err
    else:
        assert proc.returncode == -signal.SIGKILL
    assert _snapshot(target) == before
    assert [p.name for p in parent.iterdir()] == ["ips"]  # no partial folder beside it


@pytest.fixture
def run_copy(earlier_run, tmp_path):
    return _copy_run(earlier_run, tmp_path / "run")


def _first_fit(run: Path) -> Path:
    entry = json.loads((run / "summary.json").read_text())["run"]["fits"][0]
    return run / entry["file"]


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(4096))


def _foreign(path: Path) -> None:
    xr.Dataset({"temperature": ("time", np.arange(5.0))}).to_netcdf(path, engine="netcdf4")


def _posterior_without_attrs(path: Path) -> None:
    tree = xr.open_datatree(path, engine="netcdf4").load()
    tree.attrs = {}
    path.unlink()
    tree.to_netcdf(path, engine="netcdf4")


@pytest.mark.parametrize(
    "damage,needle",
    [
        (_truncate, "not a readable NetCDF fit"),
        (_garbage, "not a readable NetCDF fit"),
        (_foreign, "not a bayes_ips fit"),
        (_posterior_without_attrs, "not a bayes_ips fit"),
        (Path.unlink, "saved fit is missing"),
    ],
    ids=["truncated", "garbage", "foreign NetCDF", "no bayes_ips attributes", "missing"],
)
def test_report_refuses_a_damaged_fit(run_copy, cli, damage, needle):
    fit = _first_fit(run_copy)
    damage(fit)
    before = _snapshot(run_copy)
    code, _, err = cli("report", run_copy)
    assert code == 2 and needle in err and str(fit) in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert _snapshot(run_copy) == before
    assert [p.name for p in run_copy.parent.iterdir()] == ["run"]


def _edit_summary(run: Path, edit) -> None:
    path = run / "summary.json"
    summary = json.loads(path.read_text())
    edit(summary)
    path.write_text(json.dumps(summary))


@pytest.mark.parametrize(
    "edit,needle",
    [
        (lambda s: s["run"]["fits"][0].update(model="../../escaped"), "not a plain name"),
        (lambda s: s["run"]["fits"][0].update(file="../../etc/passwd"), "leaves the run folder"),
        (lambda s: s["run"]["fits"][0].update(prior=None), "not a readable bayes_ips summary"),
        (lambda s: s.pop("diagnostics"), "not a readable bayes_ips summary"),
    ],
    ids=["model name with a path", "fit file outside", "prior not text", "no diagnostics"],
)
def test_report_refuses_a_tampered_summary(run_copy, cli, edit, needle):
    _edit_summary(run_copy, edit)
    before = _snapshot(run_copy)
    code, _, err = cli("report", run_copy)
    assert code == 2 and needle in err, err
    assert len(err.strip().splitlines()) == 1
    assert _snapshot(run_copy) == before
    assert not (run_copy.parent.parent / "escaped__reference.nc").exists()


def test_report_refuses_summary_that_is_not_json(run_copy, cli):
    (run_copy / "summary.json").write_bytes(b"\xff\xfe{not json")
    code, _, err = cli("report", run_copy)
    assert code == 2 and "not a readable bayes_ips summary.json" in err


PATHOLOGICAL_SPEC = """
title = "separation and too few draws"
[data]
path = "separated.csv"
treatment = "A"
control = "B"
[models.hierarchical_logistic]
priors = ["neutral_weak"]
[sampler]
chains = 2
draws = 50
tune = 50
[decision]
enabled = false
"""


def test_non_converging_fit_is_retried_and_exit_3(tmp_path, cli):
    # Complete separation (0/40 vs 40/40 at every horizon) leaves the log-odds pinned only by the
    # priors, and 2 x 50 draws cannot reach the 400 effective draws the checks ask for.
    write_table(
        tmp_path,
        [f"{arm},{h},{k},40,40,true,s" for arm, k in (("A", 40), ("B", 0)) for h in (6, 12)],
        name="separated.csv",
    )
    spec = tmp_path / "bad.toml"
    spec.write_text(PATHOLOGICAL_SPEC)
    out = tmp_path / "out"
    code, _, err = cli("run", spec, "--out", out)
    assert code == 3, err
    assert "NOT CONVERGED: hierarchical_logistic / neutral_weak" in err
    summary = json.loads((out / "summary.json").read_text())
    (diag,) = [d for d in summary["diagnostics"] if d["model"] == "hierarchical_logistic"]
    assert diag["passed"] is False and diag["retried"] is True
    assert diag["first_attempt"] and diag["messages"]
    assert any("ESS" in m for m in diag["messages"])
    html = (out / "report.html").read_text()
    assert "NOT CONVERGED" in html


# --- a user's files are never replaced -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["folder of other files", "file", "symlink"])
def test_run_refuses_to_replace_what_it_did_not_write(tmp_path, cli, kind):
    """`run --out` onto a user's folder or file exits 2 before any fit and leaves it as it was;
    an empty folder or an earlier run folder is fine (atomic_dir replaces only those)."""
    target = tmp_path / "mine"
    if kind == "folder of other files":
        target.mkdir()
        (target / "thesis.txt").write_text("precious", encoding="utf-8")
    elif kind == "file":
        target.write_text("precious", encoding="utf-8")
    else:
        (tmp_path / "elsewhere").mkdir()
        target.symlink_to(tmp_path / "elsewhere")
    code, out, err = cli("run", "--quick", "--out", target)
    assert code == 2 and out == "", err
    assert "argument --out, value '" in err and "nothing was written" in err
    assert len(err.splitlines()) == 1
    if kind == "folder of other files":
        assert (target / "thesis.txt").read_text(encoding="utf-8") == "precious"
    elif kind == "file":
        assert target.read_text(encoding="utf-8") == "precious"
    else:
        assert target.is_symlink() and list((tmp_path / "elsewhere").iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_atomic_dir_replaces_only_empty_or_own_folders(tmp_path):
    from bayes_ips.errors import InputError
    from bayes_ips.rundir import atomic_dir

    empty, own, other = tmp_path / "empty", tmp_path / "own", tmp_path / "other"
    empty.mkdir()
    own.mkdir()
    (own / "summary.json").write_text("{}", encoding="utf-8")
    other.mkdir()
    (other / "notes.txt").write_text("keep", encoding="utf-8")
    for target in (empty, own, tmp_path / "new"):
        with atomic_dir(target) as tmp:
            (tmp / "summary.json").write_text("[]", encoding="utf-8")
        assert (target / "summary.json").read_text(encoding="utf-8") == "[]"
    with pytest.raises(InputError, match="folder of other files"), atomic_dir(other):
        pass
    assert (other / "notes.txt").read_text(encoding="utf-8") == "keep"
