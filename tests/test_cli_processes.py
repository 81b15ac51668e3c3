"""Processes: a script without an ``if __name__ == "__main__":`` guard works (helpers and
sampler chains never run the caller's main module), and a SIGKILL of ``bayes-ips run`` leaves
no helper or sampler process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="counts processes through /proc"
)

UNGUARDED = """
import multiprocessing
import os
from functools import partial

from bayes_ips.inference import CHAIN_START
from bayes_ips.runner import Runner

with open({marks!r}, "a") as marks:
    marks.write(f"{{os.getpid()}}\\n")  # the top level, run by every process that imports it
runner = Runner(2)
runner.start()
pids = runner.share([partial(os.getpid) for _ in range(6)])
chain = multiprocessing.get_context(CHAIN_START).Process(target=os.getpid)
chain.start()
chain.join()
runner.stop()
print(len(set(pids)), chain.exitcode)
"""


def test_a_script_without_a_main_guard_runs_once_with_helpers_and_forked_chains(tmp_path):
    marks = tmp_path / "marks.txt"
    script = tmp_path / "analysis.py"
    script.write_text(UNGUARDED.format(marks=str(marks)), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.split() == ["2", "0"]  # calls ran here and in the helper; the chain ran
    assert len(marks.read_text().split()) == 1  # neither imported the script


def _processes() -> dict[int, tuple[str, int, int]]:
    """Every process: pid -> (state, parent pid, session id), from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            fields = raw[raw.rindex(")") + 2 :].split()
            table[int(entry.name)] = (fields[0], int(fields[1]), int(fields[3]))
    return table


def _descendants(root: int) -> set[int]:
    table = _processes()
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, (_, parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int], session: int) -> set[int]:
    """Of ``pids`` and of the processes in ``session``, those still running (not zombies)."""
    table = _processes()
    return {
        pid
        for pid, (state, _, sid) in table.items()
        if state != "Z" and (pid in pids or sid == session)
    }


LONG_PYMC_SPEC = """
name = "killed"
[sampler]
backend = "pymc"
chains = 2
draws = 200000
[models.hierarchical_beta_binomial]
priors = ["reference"]
[models.hierarchical_logistic]
priors = ["reference"]
"""
"""Two MCMC families (one in a helper) with PyMC's NUTS, whose chains are processes of their
own, and far more draws than the test waits for."""


@linux_only
def test_no_process_outlives_a_sigkill_of_run(tmp_path):
    spec = tmp_path / "long.toml"
    spec.write_text(LONG_PYMC_SPEC, encoding="utf-8")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bayes_ips.cli",
            "run",
            spec,
            "--jobs",
            "2",
            "--out",
            tmp_path / "o",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    seen: set[int] = set()
    deadline = time.monotonic() + 240
    try:
        # the helper, loky's and multiprocessing's resource trackers, and each process's 2 chains
        while len(seen) < 7 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            seen |= _descendants(proc.pid)
        assert len(seen) >= 7, f"only {len(seen)} helper and chain processes started"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 20
    while (left := _alive(seen, proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert left == set()
    assert not (tmp_path / "o").exists()
