"""The notebook API: results object, figures, reprs, and a Python function for every CLI verb."""

from __future__ import annotations

import shutil

import matplotlib.figure
import pytest
import xarray as xr

import bayes_ips
from bayes_ips.api import Results, reanalyze
from bayes_ips.errors import InputError
from bayes_ips.priors import library

from .conftest import IPS_CSV

EXACT_SPEC = """title = "Exact models only"
name = "exact"
[data]
path = "trial.csv"
[models.beta_binomial]
priors = ["reference", "jeffreys"]
[decision]
enabled = false
[missing_data]
enabled = false
"""


@pytest.fixture(scope="module")
def exact_spec(tmp_path_factory):
    """The bundled data under the exact models only (no MCMC: fast)."""
    folder = tmp_path_factory.mktemp("spec")
    shutil.copy(IPS_CSV, folder / "trial.csv")
    (folder / "exact.toml").write_text(EXACT_SPEC, encoding="utf-8")
    return folder / "exact.toml"


@pytest.fixture(scope="module")
def results(exact_spec) -> Results:
    return reanalyze(exact_spec, quick=True)


def test_summary_has_one_row_per_model_prior_and_horizon(results):
    table = results.summary()
    assert len(table) == len(results.fits) * 3
    assert {"p_benefit", "rd_median", "rd_lo", "rd_hi", "verified_data"} <= set(table.columns)
    assert dict(zip(table["horizon_months"], table["verified_data"], strict=False)) == {
        6: False,
        12: True,
        24: False,
    }


def test_trees_are_the_fits_datatrees_by_label(results):
    trees = results.trees
    assert list(trees) == [f"{f.model}/{f.prior.name}" for f in results.fits]
    assert all(isinstance(t, xr.DataTree) for t in trees.values())
    assert trees["beta_binomial/reference"]["posterior"]["p"].dims == (
        "chain",
        "draw",
        "arm",
        "horizon",
    )


def test_plot_methods_return_figures_from_the_report_builders(results):
    assert isinstance(results.plot_rd(), matplotlib.figure.Figure)
    figures = results.figures()
    assert "rd_density" in figures
    fig = results.plot_rd_density()
    assert isinstance(fig, matplotlib.figure.Figure) and fig is results.plot("rd_density")
    assert fig is figures["rd_density"].mpl  # the very figure the report embeds
    with pytest.raises(InputError, match="no figure of that name"):
        results.plot("nope")
    with pytest.raises(AttributeError):
        results.plot_nope  # noqa: B018


def test_html_repr_shows_headline_status_and_unverified_flags(results):
    html = results._repr_html_()
    assert "P(benefit)" in html and "QUICK RUN" in html
    assert "no MCMC convergence checks apply" in html
    # the 6- and 24-month rows of the headline fit, and the ranges across fits there
    assert html.count("UNVERIFIED") == 4
    text = repr(results)
    assert "UNVERIFIED" in text and "12 months" in text


def test_html_repr_escapes_user_text(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(
        'title = "<img src=x onerror=alert(1)>"\n[data]\npath = "t.csv"\ntreatment = "IPS"\n'
    )
    shutil.copy(IPS_CSV, tmp_path / "t.csv")
    html = reanalyze(spec, quick=True)._repr_html_()
    assert "<img" not in html and "&lt;img src=x" in html


def test_diagnostics_status_reports_failed_fits(results):
    failing = Results(
        {
            **results.summary_data,
            "diagnostics": [
                {"model": "m", "prior": "p", "passed": False, "messages": ["R-hat 1.2 > 1.01"]}
            ],
        },
        results.fits,
    )
    assert not failing.passed and failing.exit_code == 3
    assert "NOT CONVERGED: 1 of 1" in failing.status()
    assert "R-hat 1.2 &gt; 1.01" in failing._repr_html_()
    assert failing.diagnostics().loc[0, "passed"] == False  # noqa: E712


def test_every_cli_verb_has_a_python_function(tmp_path, results):
    data = bayes_ips.check_data(IPS_CSV)
    assert data.arms == ["IPS", "TAU"] and len(data.table) == 6
    with pytest.raises(InputError, match="file not found"):
        bayes_ips.check_data(tmp_path / "missing.csv")
    listed = bayes_ips.list_priors()
    assert listed["name"].tolist() == list(library(bayes_ips.api.prior_context()))
    assert {"reference", "neutral_moderate", "sceptical_mcid"} <= set(listed["name"])
    assert listed["recipe"].str.len().min() > 0
    folder = results.report(tmp_path / "run")
    (folder / "run-key.json").write_text("{}")
    before = (folder / "summary.json").read_bytes()
    again = bayes_ips.rerender(folder)
    assert (folder / "summary.json").read_bytes() == before
    assert (folder / "run-key.json").read_text() == "{}"  # the batch's content key survives
    assert again.summary().equals(bayes_ips.load_run(folder).summary())
    assert callable(bayes_ips.run_batch)


def test_quick_mode_from_the_environment(monkeypatch, exact_spec):
    monkeypatch.setenv("BAYES_IPS_QUICK", "1")
    quick = reanalyze(exact_spec, seed=5)
    assert quick.summary_data["run"]["quick"] is True
    assert quick.summary_data["results"][0]["draws"] <= 4000
    assert reanalyze(exact_spec, seed=5, quick=False).summary_data["run"]["quick"] is False
    monkeypatch.setenv("BAYES_IPS_QUICK", "maybe")
    with pytest.raises(InputError, match="BAYES_IPS_QUICK"):
        reanalyze(exact_spec)
