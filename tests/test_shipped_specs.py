"""The specs shipped in models/: each is valid, says what it is for, and writes its own folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bayes_ips.batch import run_batch
from bayes_ips.pipeline import load_spec
from bayes_ips.spec import DEFAULT_SPEC

MODELS = Path(__file__).parents[1] / "models"
SPECS = sorted(MODELS.glob("*.toml"))


def test_the_documented_specs_are_shipped():
    names = {p.name for p in SPECS}
    assert {
        "default.toml",
        "sceptical_review.toml",
        "evidence_based.toml",
        "verified_12_month_only.toml",
        "quick_demo.toml",
    } <= names


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_spec_is_valid_and_opens_with_a_comment_saying_what_it_is_for(path):
    spec = load_spec(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# ") and lines[1].startswith("# "), path.name
    assert spec.models


def test_run_folders_are_distinct_and_default_is_the_bundled_spec():
    specs = [load_spec(p) for p in SPECS]
    assert len({s.name for s in specs}) == len(specs)
    assert load_spec(MODELS / "default.toml").sha256 == load_spec(DEFAULT_SPEC).sha256


def test_verified_only_and_quick_demo_settings():
    assert load_spec(MODELS / "verified_12_month_only.toml").verified_only is True
    demo = load_spec(MODELS / "quick_demo.toml")
    assert demo.sampler.chains * demo.sampler.draws <= 1000


@pytest.mark.slow
def test_batch_of_shipped_specs_runs_then_skips_the_converged_ones(tmp_path, monkeypatch):
    """Quick mode: every spec finishes; a fit may miss a convergence threshold with so few draws
    (exit 3), and such a run is repeated next time, with the same numbers."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = run_batch(SPECS, tmp_path, jobs=2, quick=True)
    assert {r.status for r in first.runs} <= {"ok", "not converged"}, [
        (r.name, r.message) for r in first.runs
    ]
    before = {r.name: (tmp_path / r.name / "summary.json").read_bytes() for r in first.runs}
    second = run_batch(SPECS, tmp_path, jobs=2, quick=True)
    for a, b in zip(first.runs, second.runs, strict=True):
        assert b.status == ("skipped (unchanged)" if a.status == "ok" else a.status)
        assert (tmp_path / b.name / "summary.json").read_bytes() == before[b.name]
    index = (tmp_path / "index.csv").read_text()
    for spec in SPECS:
        name = load_spec(spec).name
        assert name in index
        key = json.loads((tmp_path / name / "run-key.json").read_text())
        assert key["exit_code"] == (
            0 if name in {r.name for r in first.runs if r.status == "ok"} else 3
        )
