"""The package's wiring: the import contract, no string-named wiring, and the analyses registry.

The contract (``[tool.importlinter]`` in pyproject.toml) is checked on the package as it is, and
on copies with a deliberately added upward import and cycle, which it must reject.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import bayes_ips
from bayes_ips.analyses import registry
from bayes_ips.errors import InputError

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "bayes_ips"
LINT_IMPORTS = "from importlinter.cli import lint_imports_command as c; c()"
WIRING_STRING = re.compile(r'"bayes_ips(\.[a-z_]+)+:[a-z_]+"')


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the package under ``root`` with the repository's contract."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def package_copy(tmp_path) -> Path:
    """A copy of the package and its pyproject.toml, for breaking on purpose."""
    shutil.copytree(PACKAGE, tmp_path / "bayes_ips", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_import_contract_holds():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contract_rejects_an_upward_import(package_copy):
    errors = package_copy / "bayes_ips" / "errors.py"
    errors.write_text(errors.read_text() + "\nimport bayes_ips.report  # noqa: E402\n")
    result = lint_imports(package_copy)
    assert result.returncode != 0
    assert "bayes_ips.errors is not allowed to import bayes_ips.report" in result.stdout


def test_the_contract_rejects_an_import_cycle(package_copy):
    trial = package_copy / "bayes_ips" / "data" / "trial.py"
    trial.write_text(trial.read_text() + "\nfrom bayes_ips.data import load  # noqa: E402\n")
    result = lint_imports(package_copy)
    assert result.returncode != 0
    assert "No cycles are allowed in bayes_ips.data" in result.stdout


def test_no_module_is_wired_by_a_string():
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in PACKAGE.rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if WIRING_STRING.search(line)
    ]
    assert found == []


THROWAWAY = """
from pathlib import Path

from bayes_ips.analyses import Analysis
from bayes_ips.report import Section
from bayes_ips.schema import Section as SpecSection
from bayes_ips.schema import Str


class Options(SpecSection):
    word: Str = "nothing"


def step(ctx, fitted):
    word = ctx.options("throwaway").word
    return {"word": word, "fits": len(fitted.fits), "horizon": ctx.primary_horizon}


def section(summary):
    return {"title": "throwaway check", **summary["throwaway"]}


ANALYSIS = Analysis(
    name="throwaway",
    steps=(("throwaway", step),),
    sections=(Section("throwaway", section, Path(__file__).parent / "templates"),),
    options=Options,
)
"""


def test_an_analysis_added_through_the_registry_alone_reaches_the_report(tmp_path, monkeypatch):
    """A folder and one registry entry: its spec section, summary key and report section."""
    folder = tmp_path / "throwaway_analysis"
    (folder / "templates").mkdir(parents=True)
    (folder / "__init__.py").write_text(THROWAWAY)
    (folder / "templates" / "throwaway.html.j2").write_text(
        "<h2>Throwaway</h2><p>says {{ sec.data.word }} over {{ sec.data.fits }} fits</p>\n"
    )
    (folder / "templates" / "throwaway.md.j2").write_text(
        "## Throwaway\n\nsays {{ sec.data.word }} over {{ sec.data.fits }} fits\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from throwaway_analysis import ANALYSIS

    monkeypatch.setattr(registry, "ANALYSES", (*registry.ANALYSES, ANALYSIS))
    spec = tmp_path / "spec.toml"
    spec.write_text(
        '[models.beta_binomial]\npriors = ["reference", "jeffreys"]\n[throwaway]\nword = "hello"\n'
    )
    results = bayes_ips.reanalyze(spec, quick=True, jobs=1)
    assert results.summary_data["throwaway"] == {"word": "hello", "fits": 2, "horizon": 12}
    run = results.report(tmp_path / "run", jobs=1)
    html = (run / "report.html").read_text()
    md = (run / "report.md").read_text()
    assert '<section id="sec-throwaway">' in html and "says hello over 2 fits" in html
    assert '<a href="#sec-throwaway">Throwaway check</a>' in html
    assert html.index('id="sec-results"') < html.index('id="sec-throwaway"')
    assert "## Throwaway\n\nsays hello over 2 fits" in md
    assert json.loads((run / "summary.json").read_text())["throwaway"]["word"] == "hello"
    spec.write_text('[models.beta_binomial]\npriors = ["reference"]\n[throwaway]\nwrod = "x"\n')
    with pytest.raises(InputError, match=r"field 'throwaway\.wrod'"):
        bayes_ips.reanalyze(spec, quick=True, jobs=1)
    rerendered = bayes_ips.rerender(run)
    assert rerendered.summary_data["throwaway"]["word"] == "hello"
    assert "says hello over 2 fits" in (run / "report.html").read_text()


def test_the_registry_names_nothing_twice_and_shadows_no_core_key():
    """Each analysis, summary key, report section and spec section is named once, and none
    takes the name of a core summary.json key or a core spec section (it would overwrite it)."""
    from bayes_ips.spec import Document

    analyses = registry.ANALYSES
    keys = [key for a in analyses for key, _ in a.steps]
    sections = [sec.name for a in analyses for sec in a.sections]
    options = [a.name for a in analyses if a.options is not None]
    core_keys = {"schema_version", "package_version", "created_utc", "run", "data", "results"}
    core_keys |= {"diagnostics", "priors", "warnings", "environment"}
    for names in ([a.name for a in analyses], keys, sections, options):
        assert len(names) == len(set(names))
    assert not set(keys) & core_keys
    assert not set(options) & set(Document.model_fields)
