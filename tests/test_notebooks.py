"""The notebooks: committed without outputs, and each runs top to bottom in quick mode."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_quick_mode(path, tmp_path, monkeypatch):
    # BAYES_IPS_QUICK=1: every reanalysis in the notebook uses few draws (documented in README).
    monkeypatch.setenv("BAYES_IPS_QUICK", "1")
    monkeypatch.setenv(
        "PYTHONPATH",
        os.pathsep.join(filter(None, [str(path.parents[1]), os.environ.get("PYTHONPATH")])),
    )
    # The repository's layout around the notebook: ../models are the shipped specs, and what the
    # notebook writes under ../reports stays inside tmp_path.
    workdir = tmp_path / "notebooks"
    workdir.mkdir()
    (tmp_path / "models").symlink_to(path.parents[1] / "models")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        # Killed at once when done: a graceful shutdown waits for the kernel's idle helper
        # processes, times out, and SIGTERMs the kernel's process group mid-exit, whose dying
        # processes then print tracebacks and resource-tracker warnings on the test's stderr.
        shutdown_kernel="immediate",
    )
    client.execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    shown = [o for c in nb.cells for o in c.get("outputs", [])]
    assert any("text/html" in o.get("data", {}) for o in shown), "no rich output shown"
