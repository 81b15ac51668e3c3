"""Shared fixtures: CLI runner, small trial tables, and the --run-slow switch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bayes_ips import session
from bayes_ips.cli import main

IPS_CSV = Path(__file__).parents[1] / "bayes_ips" / "data" / "ips_in_pain.csv"
HEADER = "arm,horizon_months,employed,n_analysed,n_randomised,verified,source"


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="run heavy validation tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="heavy validation: run with --run-slow (make validate)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _stop_helpers_at_the_end():
    """Kill the session's helper processes when this test process is done with them. Left idle,
    they would make its exit slow enough for pytest-xdist to interrupt it (SIGINT), and the
    interrupted exit prints tracebacks on stderr."""
    yield
    session.stop()


@pytest.fixture
def cli(capsys):
    """Run ``bayes-ips ARGS`` in-process; returns (exit code, stdout, stderr)."""

    def run(*args: str):
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def run_subprocess(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real console entry point in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "bayes_ips.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def write_table(
    folder: Path, rows: list[str], name: str = "trial.csv", header: str = HEADER
) -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def good_rows() -> list[str]:
    return [
        "A,12,10,40,42,true,paper table 2",
        "B,12,6,40,41,true,paper table 2",
    ]


EXACT_SPEC = """
title = "IPS in Pain trial: Bayesian reanalysis of employment"
[models.beta_binomial]
priors = ["reference", "jeffreys"]
"""


ONE_PRIOR_SPEC = """
[models.beta_binomial]
priors = ["reference"]
[models.hierarchical_beta_binomial]
priors = ["reference"]
[models.hierarchical_logistic]
priors = ["reference"]
"""
"""Every model family under the reference prior only: for tests of data handling, which do not
need the default spec's community of priors."""


@pytest.fixture
def one_prior_spec(tmp_path) -> Path:
    path = tmp_path / "one_prior.toml"
    path.write_text(ONE_PRIOR_SPEC, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def report_run(tmp_path_factory) -> Path:
    """A quick run of the bundled data with the exact model only (no sampler), shared by the
    report tests (read only)."""
    folder = tmp_path_factory.mktemp("report")
    spec = folder / "exact.toml"
    spec.write_text(EXACT_SPEC, encoding="utf-8")
    code = main(["run", str(spec), "--quick", "--out", str(folder / "run")])
    assert code == 0
    return folder / "run"


@pytest.fixture(scope="session")
def default_quick_run(tmp_path_factory) -> Path:
    """A quick run of the bundled default analysis (every model family and prior of
    models/default.toml), shared by the tests that read a full report (read only)."""
    folder = tmp_path_factory.mktemp("default") / "run"
    assert main(["run", "--quick", "--out", str(folder)]) == 0
    return folder
