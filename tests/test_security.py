"""Security: specs are data (tomllib, no code), outputs stay in the chosen folder, report text is
escaped wherever it is shown (HTML, Markdown, SVG figures)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import bayes_ips

from .conftest import write_table

PACKAGE = Path(bayes_ips.__file__).parent
UNSAFE_CALLS = {"eval", "exec", "compile", "__import__"}
UNSAFE_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "yaml"}
TRUSTED_PICKLE = {"runner.py"}
"""Modules that may pickle: the runner hands its helper processes their calls (as every process
pool does) through a private temporary file it made itself (``mkstemp``, mode 0600), never a file
a user supplies."""
EXACT = '[models.beta_binomial]\npriors = ["reference"]\n[decision]\nenabled = false\n'


def _package_sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _package_sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_code_execution_or_unsafe_deserialisation(path):
    unsafe = UNSAFE_MODULES - ({"pickle"} if path.name in TRUSTED_PICKLE else set())
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in UNSAFE_CALLS, f"{path}:{node.lineno} calls {node.func.id}"
        if isinstance(node, ast.Import):
            names = {a.name.split(".")[0] for a in node.names}
            assert not names & unsafe, f"{path}:{node.lineno} imports {names}"
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] not in unsafe, f"{path}:{node.lineno}"


def test_specs_are_read_with_tomllib_only():
    source = (PACKAGE / "spec.py").read_text()
    assert "tomllib.loads" in source
    assert not re.search(r"\b(toml|tomli|yaml|json5)\.", source.replace("tomllib.", ""))


def test_a_spec_cannot_name_code_to_run(tmp_path, cli):
    spec = tmp_path / "s.toml"
    spec.write_text('["bayes_ips.cli:main"]\nx = 1\n')
    code, _, err = cli("run", spec, "--out", tmp_path / "o")
    assert code == 2 and "unknown key" in err and "'bayes_ips.cli:main'" in err


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def test_outputs_stay_in_the_chosen_folder(tmp_path, cli, monkeypatch):
    # The spec sits two folders down and reads its data through "..": reading is allowed
    # anywhere, but everything written lands in the run folder.
    work = tmp_path / "work"
    specs = work / "specs" / "deep"
    specs.mkdir(parents=True)
    write_table(work, ["A,12,10,40,42,true,s", "B,12,6,40,41,true,s"], name="trial.csv")
    spec = specs / "s.toml"
    spec.write_text(
        "title = \"__import__('os').system('touch pwned')\"\n"  # text, never code
        'name = "mine"\n[data]\npath = "../../trial.csv"\ntreatment = "A"\ncontrol = "B"\n' + EXACT
    )
    monkeypatch.chdir(work)
    before = _files(tmp_path)
    assert cli("run", spec, "--quick")[0] == 0
    written = _files(tmp_path) - before
    assert written and all(
        p.is_relative_to(work / "reports" / "mine") or p == work / "reports" for p in written
    )
    before = _files(tmp_path)
    assert cli("run", spec, "--quick", "--out", work / "elsewhere")[0] == 0
    assert all(p.is_relative_to(work / "elsewhere") for p in _files(tmp_path) - before)
    assert not any(p.name == "pwned" for p in _files(tmp_path))


HOSTILE = "<img src=x onerror=alert(1)>"


def test_hostile_text_in_every_field_is_escaped(tmp_path, cli):
    folder = tmp_path / HOSTILE.replace("/", "")
    folder.mkdir()
    data = write_table(
        folder,
        [
            f'"T{HOSTILE}",12,10,40,42,false,"{HOSTILE} `code` *bold* [link](javascript:x)"',
            f'"C{HOSTILE}",12,6,40,41,true,"{HOSTILE}"',
        ],
        name=f"{HOSTILE.replace('/', '')}.csv",
    )
    spec = folder / f"{HOSTILE.replace('/', '')}.toml"
    spec.write_text(f'title = "{HOSTILE}"\n[models.beta_binomial]\npriors = ["reference"]\n')
    out = tmp_path / "r"
    code, _, err = cli(
        "run",
        spec,
        "--quick",
        "--data",
        data,
        "--treatment",
        f"T{HOSTILE}",
        "--control",
        f"C{HOSTILE}",
        "--out",
        out,
    )
    assert code == 0, err
    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    # Markdown rendered by a CommonMark + tables renderer carries no live HTML and no link
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py not installed")
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(md)
    assert "<img src=x" not in rendered and 'href="javascript:' not in rendered
    for svg in (out / "figures").glob("*.svg"):
        text = svg.read_text()
        assert "<img" not in text and "<script" not in text, svg.name
