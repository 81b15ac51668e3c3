"""Report rendering: structure, escaping of user text, flags, registries and re-rendering."""

from __future__ import annotations

import copy
import json
import re
import shutil
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import html5lib
import numpy as np
import pytest

from bayes_ips import models
from bayes_ips.analyses.registry import layout
from bayes_ips.report import md_code, md_escape, render_html, render_markdown
from bayes_ips.report.checklist import wambs
from bayes_ips.report.methods import model_method, parse_relations, to_mathml, to_text
from bayes_ips.report.sections import (
    Layout,
    Section,
    analysis_sections,
    prior_dependence,
    question,
    result_row,
)
from bayes_ips.report.style import Figure
from bayes_ips.report.summary import FIGURE_DATA, merge_figure_data
from bayes_ips.rundir import atomic_write

from .conftest import write_table

HOSTILE = "<script>alert(1)</script>"
MAX_HTML_BYTES = 5_000_000


def _without_code(md: str) -> str:
    """Markdown with code spans and fenced blocks removed (their content is shown verbatim)."""
    md = re.sub(r"^```.*?^```", "", md, flags=re.S | re.M)
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", md)


class _Outline(HTMLParser):
    """Collects what the structure tests need: headings, images, tables, ids, links."""

    def __init__(self):
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.images: list[dict] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.th_without_scope = 0
        self.tables = 0
        self.tables_with_head = 0
        self._heading: int | None = None
        self._text = ""
        self._table_has_th: list[bool] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag in ("h1", "h2", "h3", "h4"):
            self._heading, self._text = int(tag[1]), ""
        elif tag == "img":
            self.images.append(a)
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "table":
            self.tables += 1
            self._table_has_th.append(a.get("role") == "presentation")
        elif tag == "th":
            self.th_without_scope += "scope" not in a
            if self._table_has_th:
                self._table_has_th[-1] = True

    def handle_endtag(self, tag):
        if tag == "table":
            self.tables_with_head += self._table_has_th.pop()
        if self._heading and tag == f"h{self._heading}":
            self.headings.append((self._heading, self._text.strip()))
            self._heading = None

    def handle_data(self, data):
        if self._heading:
            self._text += data


def _outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


def _summary(run_dir) -> dict:
    """The run's summary with its figure data merged back, as `bayes-ips report` reads it."""
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return merge_figure_data(summary, json.loads((run_dir / FIGURE_DATA).read_text("utf-8")))


def _with_mcmc(summary: dict) -> dict:
    """The quick run's summary plus two MCMC fits, one failing, with PPC and comparison data."""
    s = copy.deepcopy(summary)
    extra = [
        ("hierarchical_logistic", "neutral_moderate"),
        ("hierarchical_beta_binomial", "jeffreys"),
    ]
    base = [r for r in s["results"] if r["prior"] == "reference"]
    for model, prior in extra:
        s["run"]["fits"].append({"model": model, "prior": prior, "seed": 1, "file": "x.nc"})
        s["results"] += [
            {**copy.deepcopy(r), "model": model, "prior": prior, "p_benefit_mcse": 0.004}
            for r in base
        ]
    s["priors"].append({**s["priors"][0], "name": "neutral_moderate", "ess": 12.5})
    s["diagnostics"] = [
        {
            "model": extra[0][0],
            "prior": extra[0][1],
            "passed": True,
            "rhat_max": 1.002,
            "ess_bulk_min": 1800.0,
            "ess_tail_min": 1500.0,
            "divergences": 0,
            "ebfmi_min": 0.95,
            "treedepth_saturated": 0.0,
            "messages": [],
            "advice": [],
        },
        {
            "model": extra[1][0],
            "prior": extra[1][1],
            "passed": False,
            "rhat_max": 1.07,
            "ess_bulk_min": 90.0,
            "ess_tail_min": 120.0,
            "divergences": 12,
            "ebfmi_min": 0.4,
            "treedepth_saturated": 0.0,
            "retried": True,
            "first_attempt": ["R-hat 1.09 > 1.01"],
            "retry_settings": {"target_accept": 0.95, "tune": 2000},
            "messages": [
                "R-hat 1.070 > 1.01",
                "ESS bulk 90 / tail 120 < 400",
                "12 divergent transitions (allowed 0)",
            ],
            "advice": ["run longer"],
        },
    ]
    cells = [
        {
            "arm": d["arm"],
            "horizon_months": d["horizon_months"],
            "observed": d["employed"],
            "rep_mean": d["employed"] + 0.3,
            "rep_lo": 2.0,
            "rep_hi": 30.0,
            "ppp": 0.5,
            "loo_pit": 0.5,
        }
        for d in s["data"]
    ]
    cells[0] = {**cells[0], "ppp": 0.004}
    s["ppc"] = {
        "statistic": "posterior-predictive mid-p-value",
        "fits": [{"model": m, "prior": p, "cells": cells} for m, p in extra],
    }
    s["comparison"] = {
        "method": "PSIS-LOO (ArviZ loo and compare, stacking weights)",
        "note": "Pareto k above 0.7 means PSIS-LOO is unreliable for that fit.",
        "rows": [
            {
                "model": m,
                "prior": p,
                "rank": i,
                "elpd_loo": -20.0 - 5 * i,
                "se": 2.0,
                "p_loo": 3.1,
                "elpd_diff": 5.0 * i,
                "dse": 1.0,
                "weight": 1.0 - i,
                "pareto_k_max": 0.3 + 0.5 * i,
                "n_high_k": i,
                "n_obs": 6,
            }
            for i, (m, p) in enumerate(extra)
        ],
    }
    return s


# -- escaping -------------------------------------------------------------------------------------


def test_user_text_is_escaped_in_html_and_markdown(tmp_path, cli):
    data = write_table(
        tmp_path,
        [
            f'"{HOSTILE}",12,10,40,42,false,"{HOSTILE} | source"',
            "B,12,6,40,41,true,<img src=x onerror=alert(1)>",
        ],
    )
    spec = tmp_path / "s.toml"
    spec.write_text(f'title = "{HOSTILE}"\n[models.beta_binomial]\npriors = ["reference"]\n')
    out = tmp_path / "r"
    code, _, err = cli(
        "run",
        spec,
        "--quick",
        "--data",
        data,
        "--treatment",
        HOSTILE,
        "--control",
        "B",
        "--out",
        out,
    )
    assert code == 0, err
    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html
    # Markdown: outside code spans every "<" from user text is backslash-escaped
    prose = _without_code(md)
    assert not re.search(r"(?<!\\)<(script|img)", prose) and r"\<script\>" in prose
    # the exact command stays copyable: verbatim inside a code span
    assert "--treatment '<script>alert(1)</script>'" in md
    # figures carry the labels from the data, escaped as XML text
    forest = (out / "figures" / "forest.svg").read_text()
    assert "<script" not in forest and "&lt;script&gt;" in forest
    html5lib.HTMLParser(strict=True).parse(html)
    summary = _summary(out)
    assert summary["run"]["title"] == HOSTILE
    # rendered by a CommonMark + tables renderer, the Markdown carries no live HTML
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py not installed")
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(md)
    assert "<script" not in rendered and "<img src=x" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered


def test_markdown_code_spans_survive_backticks():
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x`") == "`` `x` ``"
    assert md_code("plain") == "`plain`"


# -- the default report ---------------------------------------------------------------------------


def test_html_is_valid_self_contained_and_accessible(report_run):
    html = (report_run / "report.html").read_text(encoding="utf-8")
    assert len(html.encode()) < MAX_HTML_BYTES
    html5lib.HTMLParser(strict=True).parse(html)  # any HTML5 parse error raises
    assert '<html lang="en">' in html and "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no network resources"
    assert "@media print" in html
    doc = _outline(html)
    levels = [level for level, _ in doc.headings]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in pairwise(levels)), "no skipped levels"
    assert len(doc.ids) == len(set(doc.ids)), "ids are unique"
    assert all(link[1:] in doc.ids for link in doc.links if link.startswith("#"))
    assert doc.images and all(len(img.get("alt", "")) > 40 for img in doc.images)
    assert all(img["src"].startswith("data:image/svg+xml;base64,") for img in doc.images)
    assert doc.th_without_scope == 0 and doc.tables == doc.tables_with_head


def test_sections_come_in_the_issue_order_and_absent_analyses_are_omitted(report_run):
    html = (report_run / "report.html").read_text(encoding="utf-8")
    summary = _summary(report_run)
    assert not summary["diagnostics"], "exact fits only: no convergence section"
    h2 = [text for level, text in _outline(html).headings if level == 2]
    assert h2 == [
        "The answer",
        "Results by horizon",
        "Prior sensitivity",
        "Across horizons: does the benefit hold at every horizon?",
        "Missing outcomes: how bad would they have to be to overturn the result?",
        "Decision analysis: offer IPS now, and is a larger trial worth it?",
        "Appendices",
        "Data and provenance",
        "Methods",
        "Posterior-predictive checks",
        "Model comparison",
        "Every fit's results",
        "Reproducibility",
    ]
    assert 'id="sec-diagnostics"' not in html and 'id="sec-warnings"' not in html
    for key in ("ppc", "comparison", "sensitivity", "decision"):
        del summary[key]
    bare = render_html(summary, [], layout())
    for absent in ("diagnostics", "ppc", "comparison", "sensitivity", "decision", "warnings"):
        absent = f"sec-{absent}"
        assert f'id="{absent}"' not in bare and f'href="#{absent}"' not in bare


def test_first_screen_answers_the_four_questions(report_run):
    html = (report_run / "report.html").read_text(encoding="utf-8")
    summary = _summary(report_run)
    first = html[: html.index('id="sec-results"')]
    assert "The question:" in first and "IPS" in first and "TAU" in first
    for r in summary["results"]:
        if (r["model"], r["prior"]) == ("beta_binomial", "reference"):
            assert f"<strong>{100 * r['p_benefit']:.0f}%</strong>" in first
    assert "Decision at 12 months" in first and "not proven means" in first
    assert "How much does it depend on the prior?" in first
    assert "Can the fits be trusted?" in first and "exact closed-form" in first
    assert "QUICK RUN" in first
    # the primary horizon first; every unverified horizon's answer flagged, the verified one not
    rows = re.findall(r'<tr><th scope="row">(\d+) months.*?</tr>', first, flags=re.S)
    assert rows == ["12", "6", "24"]
    data = re.findall(
        r'<tr><th scope="row">(\d+) months.*<td>([^<]*)(?:<span[^>]*>(.*?)</span>)?</td></tr>',
        first,
    )
    assert [(h, "UNVERIFIED" in flag) for h, _, flag in data] == [
        ("12", False),
        ("6", True),
        ("24", True),
    ]


def test_placeholders_are_flagged_wherever_shown(report_run):
    html = (report_run / "report.html").read_text(encoding="utf-8")
    md = (report_run / "report.md").read_text(encoding="utf-8")
    # 4 unverified data rows + 2 summary sentences + 2 at-a-glance rows + 2 result headings
    assert html.count("UNVERIFIED placeholder") >= 10
    assert md.count("UNVERIFIED placeholder") >= 10
    forest = (report_run / "figures" / "forest.svg").read_text()
    assert forest.count("⚠ UNVERIFIED data") == 2  # the 6- and 24-month panels


def test_methods_write_each_model_in_mathml(report_run):
    html = (report_run / "report.html").read_text(encoding="utf-8")
    start = html.index('id="sec-methods"')
    methods = html[start : html.index("</section>", start)]
    assert methods.count("<math") >= 3 and "<mi>Binomial</mi>" in methods
    md = (report_run / "report.md").read_text(encoding="utf-8")
    assert "y[a, h] ∼ Binomial(n[a, h], p[a, h])" in md
    # the control-risk prior is named (none stated in this spec: the defaults, in words)
    for text in (methods, md):
        assert "Control-risk prior: none stated in the spec" in text


def test_markdown_refers_to_figure_files_that_exist(report_run):
    md = (report_run / "report.md").read_text(encoding="utf-8")
    refs = re.findall(r"!\[[^\]]*\]\((figures/[^)]+)\)", md)
    assert {"figures/forest.svg", "figures/p_rd_threshold.svg", "figures/rd_density.svg"} <= set(
        refs
    )
    assert all((report_run / ref).is_file() for ref in refs)


def test_rerender_reproduces_every_output_byte_for_byte(report_run, tmp_path, cli):
    run = tmp_path / "run"
    shutil.copytree(report_run, run)
    outputs = [run / "report.html", run / "report.md", *sorted((run / "figures").iterdir())]
    before = {p.relative_to(run): p.read_bytes() for p in outputs}
    assert Path("figures/figure_data.json") in before
    summary = (run / "summary.json").read_bytes()
    (run / "report.html").unlink()
    code, _, err = cli("report", run)
    assert code == 0, err
    assert (run / "summary.json").read_bytes() == summary
    for name, content in before.items():
        assert (run / name).read_bytes() == content, name
    assert sorted((run / "figures").iterdir()) == outputs[2:]
    assert not list(tmp_path.glob(".run.partial-*")), "no temporary folders left"


# -- MCMC fits: diagnostics, PPC, comparison ------------------------------------------------------


def test_diagnostics_ppc_and_comparison_render_and_failures_show_first(report_run):
    s = _with_mcmc(_summary(report_run))
    html = render_html(s, [], layout())
    html5lib.HTMLParser(strict=True).parse(html)
    h2 = [text for level, text in _outline(html).headings if level == 2]
    i = h2.index("Methods")  # the appendices: data, methods, then the checks of the fits
    assert h2.index("Appendices") < i
    assert h2[i + 1 : i + 4] == [
        "Convergence diagnostics",
        "Posterior-predictive checks",
        "Model comparison",
    ]
    first = html[: html.index('id="sec-data"')]
    assert "NOT CONVERGED:</strong> some fits failed" in first
    assert (
        "NOT CONVERGED: 1 of 2 MCMC fits failed a convergence check even after an automatic "
        "re-run: hierarchical_beta_binomial / jeffreys (R-hat 1.070 &gt; 1.01;" in first
    )
    assert "2 of 12 observed counts" in first
    diag = html[html.index('id="sec-diagnostics"') : html.index('id="sec-ppc"')]
    assert diag.count(">NOT CONVERGED<") == 1 and diag.count(">passed<") == 1
    assert "run longer" in diag
    assert "Exact fits need no checks: beta_binomial / reference" in diag
    assert "Re-run (target_accept 0.95, tune 2000) after: R-hat 1.09 &gt; 1.01" in diag
    assert "Prior ESS" in html and "12.5" in html
    md = render_markdown(s, [], layout())
    assert "## Convergence diagnostics" in md and "| **NOT CONVERGED** |" in md
    assert "## Model comparison" in md and "## Posterior-predictive checks" in md


def test_an_exact_fit_shows_no_pareto_k_in_either_format(report_run):
    s = _with_mcmc(_summary(report_run))
    exact = {
        **s["comparison"]["rows"][0],
        "model": "beta_binomial",
        "prior": "reference",
        "rank": 2,
        "pareto_k_max": None,
        "n_high_k": 0,
        "n_exact": 6,
        "null_reasons": {"pareto_k_max": "no observation is scored by PSIS"},
    }
    s["comparison"]["rows"].append(exact)
    md = render_markdown(s, [], layout())
    rows = [line for line in md.splitlines() if "none (exact LOO)" in line]
    assert len(rows) == 1 and "reference" in rows[0], rows
    assert rows[0].endswith("| none (exact LOO); 6 exact |"), rows[0]
    html = render_html(s, [], layout())
    table = html[html.index('id="sec-comparison"') :]
    rows = [r for r in table.split("<tr>") if "none (exact LOO)" in r]
    assert len(rows) == 1 and "reference" in rows[0], rows
    assert "none (exact LOO); 6 exact" in rows[0] and "of 6" not in rows[0]


def test_wambs_items_follow_the_summary(report_run):
    exact = {w["number"]: w["status"] for w in wambs(_summary(report_run))}
    assert len(exact) == 10
    assert exact[2] == exact[3] == exact[5] == "not applicable"
    assert exact[6] == "checked"  # the exact fits' posterior-predictive check
    assert wambs({**_summary(report_run), "ppc": None})[5]["status"] == "not checked"
    mcmc = {w["number"]: w["status"] for w in wambs(_with_mcmc(_summary(report_run)))}
    assert mcmc[2] == "flagged" and mcmc[4] == "flagged" and mcmc[6] == "flagged"
    assert mcmc[3] == "not checked"


# -- the analyses' sections ------------------------------------------------------------------------


def test_analysis_sections_follow_the_layout_order_and_omit_empty(tmp_path, report_run):
    templates = tmp_path / "templates"
    templates.mkdir()
    for n in ("decision", "extra"):
        for ext in ("html", "md"):
            (templates / f"{n}.{ext}.j2").write_text(
                f"<h2>{n}</h2><p>{{{{ sec.data.get('value') }}}}</p>\n"
            )
    # a template may carry its own section element and id: it is not wrapped again
    (templates / "sensitivity.html.j2").write_text(
        '<section id="sec-sensitivity"><h2>Prior sensitivity</h2></section>\n'
    )
    (templates / "sensitivity.md.j2").write_text("## Prior sensitivity\n")
    layout = Layout(
        sections=(
            Section("sensitivity", lambda s: {"value": 1}, templates),
            Section("missing_data", lambda s: None, templates),
            Section(
                "decision", lambda s: {"title": "decision analysis", "value": HOSTILE}, templates
            ),
            Section("extra", question, templates),
        )
    )
    assert [sec["name"] for sec in analysis_sections(_summary(report_run), layout)] == [
        "sensitivity",
        "missing_data",
        "decision",
        "extra",
    ]
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    fig = Figure(
        "decision_curve", "Net benefit", "A curve of net benefit by threshold.", svg, "decision"
    )
    html = render_html(_summary(report_run), [fig], layout)
    md = render_markdown(_summary(report_run), [fig], layout)
    html5lib.HTMLParser(strict=True).parse(html)
    order = [html.index(f'id="sec-{n}"') for n in ("results", "sensitivity", "decision", "repro")]
    assert order == sorted(order)
    assert 'id="sec-missing_data"' not in html and "missing_data" not in md
    assert "&lt;script&gt;" in html and "<script" not in html
    assert html.count('id="sec-sensitivity"') == 1 and html.count('id="sec-decision"') == 1
    decision = html[html.index('id="sec-decision"') : html.index('id="sec-extra"')]
    assert 'alt="A curve of net benefit by threshold."' in decision
    assert "![A curve of net benefit by threshold.](figures/decision_curve.svg)" in md
    assert '<a href="#sec-decision">Decision analysis</a>' in html


# -- methods notation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        "beta_binomial",
        "hierarchical_beta_binomial",
        "hierarchical_logistic",
        "discrete_time_hazard",
    ],
)
def test_every_model_has_its_relations_from_the_docstring(model):
    method = model_method(model)
    assert len(method.relations) >= 3
    # the likelihood first: of the counts per horizon, or of the interval events (pooled models)
    first = method.relations[0].text
    assert first.startswith(("y[a, h] ∼ Binomial(", "E[a, k] ∼ Binomial(")), first
    for r in method.relations:
        html5lib.HTMLParser(strict=True).parseFragment(str(r.html))
    assert method.words and not re.search(r":[a-z]+:`|``", method.words)


def test_notation_renders_subscripts_greek_and_powers_and_escapes():
    (rel,) = parse_relations("mu        ~ Normal(m0, s0²)       the prior's effect")
    assert rel.note == "the prior's effect" and rel.text == "μ ∼ Normal(m0, s0²)"
    html = str(rel.html)
    assert "<mi>μ</mi><mo>∼</mo>" in html
    assert "<msup><msub><mi>s</mi><mn>0</mn></msub><mn>2</mn></msup>" in html
    assert "<msub><mi>p</mi><mrow><mi>a</mi><mo>,</mo><mi>h</mi></mrow></msub>" in str(
        to_mathml("p[a, h]")
    )
    assert "&lt;" in str(to_mathml("a < b")) and "<script" not in str(to_mathml(HOSTILE))
    assert to_text("kappa[a] * theta") == "κ[a] * θ"


# -- atomic writes ---------------------------------------------------------------------------------


def test_atomic_write_replaces_whole_files_and_leaves_no_temporaries(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    atomic_write(target, "old")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("bayes_ips.rundir.os.replace", broken)
    with pytest.raises(OSError):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_binned_kde_matches_scipy():
    from scipy import stats

    from bayes_ips.report.figures import kde

    x = np.random.default_rng(7).beta(3, 5, 20_000) - 0.3
    grid = np.linspace(-0.4, 0.8, 241)
    exact = stats.gaussian_kde(x)(grid)
    assert np.abs(kde(x, grid) - exact).max() < 0.01 * exact.max()


def test_rank_plot_lines_are_each_chains_rank_ecdf_minus_uniform():
    """The rank plot's lines, checked against ranks computed with scipy: a chain stuck in the
    upper tail shows as a large negative deviation, mixed chains stay near zero."""
    import xarray as xr
    from scipy import stats

    from bayes_ips.report.figures import _rank_ecdf_panels

    rng = np.random.default_rng(3)
    draws = rng.normal(size=(4, 500, 2))
    draws[3, :, 1] += 2.0  # chain 3 of the second coordinate sits above the others
    tree = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset(
                {"b": (("chain", "draw", "arm"), draws)}, coords={"arm": ["T", "C"]}
            )
        }
    )
    panels = list(_rank_ecdf_panels(tree, ["b"]))
    assert [label for label, _, _ in panels] == ["b[T]", "b[C]"]
    for (_, x, y), j in zip(panels, range(2), strict=True):
        ranks = stats.rankdata(draws[..., j].ravel()).reshape(4, 500) / draws[..., j].size
        expected = (ranks[:, :, None] <= x[:, None, :]).mean(axis=1) - x
        np.testing.assert_allclose(y, expected, atol=2 / draws[..., j].size)
    assert np.abs(panels[0][2]).max() < 0.1
    assert panels[1][2][3].min() < -0.5


def test_one_value_per_estimand_in_an_exact_run(report_run):
    """P(RD > 0), P(RR > 1) and P(benefit) are one event: the exact fits print one value."""
    rows = _summary(report_run)["results"]
    assert rows and all(r["model"] in models.EXACT_MODELS for r in rows)
    for r in rows:
        assert r["p_rr_gt"]["1.00"] == r["p_rd_gt"]["0.00"] == r["p_benefit"]
        assert r["p_rr_gt_mcse"]["1.00"] == r["p_rd_gt_mcse"]["0.00"] == 0.0
    md = render_markdown(_summary(report_run), [], layout())
    head = next(line for line in md.splitlines() if "RD > 0 pp" in line).split("|")
    i, j = head.index(" RD > 0 pp "), head.index(" RR > 1 ")
    exact, checked = {md_escape(m) for m in models.EXACT_MODELS}, 0
    for line in md.splitlines():
        cells = line.split("|")
        if len(cells) == len(head) and cells[1].strip() in exact:
            checked += 1
            assert cells[i] == cells[j], line
    assert checked == len(rows)


def test_the_mcse_column_says_exact_only_for_exact_models(report_run):
    s = _summary(report_run)
    row = s["results"][-1]  # not the headline fit, which the other sections look up
    mcmc = {**row, "model": "hierarchical_logistic", "p_benefit_mcse": 0.0, "draws": 1000}
    assert result_row({**row, "p_benefit_mcse": 0.0})["p_benefit_mcse"] == "exact"
    shown = result_row({**mcmc, "p_benefit": 1.0})["p_benefit_mcse"]
    assert shown == "> 99.9% (all 1,000 draws)"
    assert result_row({**mcmc, "p_benefit": 0.0})["p_benefit_mcse"] == "< 0.1% (no draw)"
    mixed = {**mcmc, "p_benefit": 0.9, "p_benefit_mcse": 0.0123}
    assert result_row(mixed)["p_benefit_mcse"] == "±1.2"
    for r in s["results"]:  # every horizon of one fit, as the other sections expect
        if r["prior"] == row["prior"]:
            r.update(model=mcmc["model"], p_benefit=1.0, p_benefit_mcse=0.0, draws=1000)
    md = render_markdown(s, [], layout())
    line = next(x for x in md.splitlines() if x.startswith(f"| {md_escape(mcmc['model'])} |"))
    assert "exact" not in line and "> 99.9% (all 1,000 draws)" in line


def _tied(report_run, fits: list[tuple[str, float, float]]) -> str:
    """prior_dependence of a summary whose primary-horizon rows are (model, P, MCSE)."""
    s = _summary(report_run)
    h = s["run"]["primary_horizon"]
    base = next(r for r in s["results"] if r["horizon_months"] == h)
    s["results"] = [
        {**base, "model": m, "prior": f"prior{i}", "p_benefit": p, "p_benefit_mcse": se}
        for i, (m, p, se) in enumerate(fits)
    ]
    return prior_dependence(s)


def test_a_p_benefit_at_one_half_within_error_is_on_neither_side(report_run):
    # 0/30 vs 0/30: exact P(benefit) 1/2 with rounding error, MCMC within 2 MCSE of 1/2
    text = _tied(
        report_run,
        [
            ("exact_logistic", 0.49999999999999967, 0.0),
            ("beta_binomial", 0.5, 0.0),
            ("hierarchical_logistic", 0.49, 0.006),
            ("hierarchical_beta_binomial", 0.505, 0.004),
        ],
    )
    assert "below 50%" not in text and "depends on prior belief" not in text
    assert "every fit puts it at 50% within numerical or Monte Carlo error" in text
    text = _tied(report_run, [("exact_logistic", 0.4999999999, 0.0), ("beta_binomial", 0.7, 0)])
    assert "1 of the 2 fits put it above 50% and the others at 50%" in text
    assert "depends on prior belief" not in text
    text = _tied(report_run, [("exact_logistic", 0.45, 0.0), ("beta_binomial", 0.7, 0)])
    assert "1 of the 2 fits put it below 50%" in text and "depends on prior belief" in text
    text = _tied(report_run, [("hierarchical_logistic", 0.47, 0.01), ("beta_binomial", 0.7, 0)])
    assert "1 of the 2 fits put it below 50%" in text  # 3 MCSE below 1/2


def test_priors_without_a_comparison_name_the_families_and_their_observations():
    """Under a prior fitted in two families that score different observations nothing is
    compared, and the report says why; a prior fitted in one family says "only"."""
    from bayes_ips.analyses.checks.view import comparison_section

    cum, first = "cumulative counts", "first occurrences"
    rows = [
        {"model": "exact_logistic", "prior": "neutral_weak", "observations": cum},
        {"model": "hierarchical_logistic", "prior": "neutral_weak", "observations": first},
        {"model": "beta_binomial", "prior": "jeffreys", "observations": cum},
    ]
    rows = [r | {"elpd_loo": -10.0, "se": 1.0, "p_loo": 1.0, "n_high_k": 0} for r in rows]
    comp = {"rows": rows, "single_family_priors": ["neutral_weak", "jeffreys"]}
    single = comparison_section({"comparison": comp})["single"]
    assert single == (
        f"neutral_weak: exact_logistic (on the {cum}) and hierarchical_logistic (on the {first}), "
        "which score different observations; jeffreys: beta_binomial only"
    )


def test_loo_notes_agree_with_not_compared_and_name_exclusions_from_other_fits():
    from bayes_ips.analyses.checks.compute import loo_note
    from bayes_ips.report.format import elpd, loo_notes

    rows = [
        {"n_obs": 6, "n_high_k": 0, "n_excluded": 6, "elpd_loo": None},
        {"n_obs": 6, "n_high_k": 4, "n_excluded": 6, "elpd_loo": None},
        {"n_obs": 6, "n_high_k": 4, "n_excluded": 6, "elpd_loo": None},
    ]
    assert [elpd(r) for r in rows] == ["not compared"] * 3
    assert loo_note(rows) == (
        "2 of 3 fits have observations with Pareto k above 0.7; 3 not compared: no observation "
        "is left once those are set aside."
    )
    assert (
        loo_notes(rows[0]) == "6 excluded (6 for the Pareto k > 0.7 of other fits compared with it)"
    )
    assert (
        loo_notes(rows[1]) == "6 excluded (2 for the Pareto k > 0.7 of other fits compared with it)"
    )
    own = {"n_obs": 6, "n_high_k": 1, "n_excluded": 1, "elpd_loo": -3.0, "se": 1.0}
    assert loo_notes(own) == "1 excluded (Pareto k > 0.7, no exact value)"
    assert loo_note([own]) == (
        "1 of 1 fits have observations with Pareto k above 0.7; 1 scored without those "
        "observations."
    )
