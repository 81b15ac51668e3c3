"""The unverified flag follows the rows each result used (summary.json ``verified_data`` per
fit × horizon), never the horizon: checked on every flagged place of the default report.

Each table, heading and figure panel of report.html, report.md and the SVG figures is read
back and its flag compared with what ``results[].verified_data`` says of exactly the results
it shows: a flag on every result that used a placeholder row (for a model that pools horizons,
at every horizon), none on a result that used only verified rows (the single-horizon models'
12-month answers from 19/36 vs 7/18).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import same_color

from bayes_ips import models
from bayes_ips.analyses.decision import view as decision_view
from bayes_ips.report.format import MODEL_TITLES
from bayes_ips.report.summary import FIGURE_DATA, merge_figure_data

FLAG = "⚠"


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def html_blocks(text: str) -> list[tuple[str, object]]:
    """Headings (``("h2" | "h3", text)``) and tables (``("table", rows of cell texts)``) in
    document order."""
    out = []
    pattern = re.compile(r"<(h2|h3)\b[^>]*>(.*?)</\1>|<table\b.*?</table>", re.S)
    for m in pattern.finditer(text):
        if m.group(1):
            out.append((m.group(1), _text(m.group(2))))
        else:
            rows = [
                [_text(c) for c in re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", tr, re.S)]
                for tr in re.findall(r"<tr\b.*?</tr>", m.group(0), re.S)
            ]
            out.append(("table", rows))
    return out


def md_blocks(text: str) -> list[tuple[str, object]]:
    """The same as :func:`html_blocks`, from Markdown."""
    out: list[tuple[str, object]] = []
    table: list[list[str]] | None = None
    for line in text.splitlines():
        if line.startswith("|"):
            if table is None:
                table = []
                out.append(("table", table))
            if not re.fullmatch(r"\|(-+\|)+", line.strip()):
                cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
                table.append([re.sub(r"\\(.)", r"\1", c).replace("**", "").strip() for c in cells])
            continue
        table = None
        if line.startswith("### "):
            out.append(("h3", line[4:]))
        elif line.startswith("## "):
            out.append(("h2", line[3:]))
    return out


def tables(blocks, section: str) -> list[tuple[str | None, list[list[str]]]]:
    """The tables under the h2 heading starting with ``section``, each with its h3 heading."""
    out, h2, h3 = [], None, None
    for kind, value in blocks:
        if kind == "h2":
            h2, h3 = value, None
        elif kind == "h3":
            h3 = value
        elif h2 is not None and h2.startswith(section):
            out.append((h3, value))
    return out


def table(blocks, section: str, *header: str) -> list[list[str]]:
    """The one table of ``section`` whose header starts with ``header`` (flags stripped)."""
    found = [
        rows
        for _, rows in tables(blocks, section)
        if [_bare(c) for c in rows[0][: len(header)]] == list(header)
    ]
    assert len(found) == 1, (section, header, len(found))
    return found[0]


def _bare(cell: str) -> str:
    """A cell without its flag."""
    return cell.split(FLAG)[0].strip().removesuffix("—").strip()


def _months(cell: str) -> float:
    return float(re.match(r"[\d.]+", _bare(cell)).group())


@pytest.fixture(scope="module")
def run(default_quick_run: Path):
    summary = json.loads((default_quick_run / "summary.json").read_text("utf-8"))
    verified = {
        (r["model"], r["prior"], r["horizon_months"]): r["verified_data"]
        for r in summary["results"]
    }
    reports = {
        "html": html_blocks((default_quick_run / "report.html").read_text("utf-8")),
        "md": md_blocks((default_quick_run / "report.md").read_text("utf-8")),
    }
    return summary, verified, reports, default_quick_run


@pytest.fixture(params=["html", "md"])
def report(request, run):
    summary, verified, reports, _ = run
    return summary, verified, reports[request.param]


def _any_unverified(verified: dict, h: float, fits=None, model: str | None = None) -> bool:
    return any(
        not ok
        for (m, p, hh), ok in verified.items()
        if hh == h and (fits is None or (m, p) in fits) and (model is None or m == model)
    )


def test_verified_data_is_per_fit_and_horizon(run):
    """The premise: single-horizon answers at 12 months rest on the verified rows alone, a
    pooled model's rest on every horizon's."""
    summary, verified, _, _ = run
    rows = {(d["horizon_months"]): d["verified"] for d in summary["data"] if d["compared"]}
    single = {"beta_binomial", "exact_logistic"}
    for (model, _, h), ok in verified.items():
        assert ok == (rows[h] if model in single else all(rows.values()))
    assert any(verified.values()) and not all(verified.values())


def test_summary_table(report):
    summary, verified, blocks = report
    model, prior = summary["headline"]["model"], summary["headline"]["prior"]
    rows = table(blocks, "The answer", "Horizon", "P(benefit)", "Range across named priors")
    assert len(rows) == 4
    # the range is over the fits that carry the named effect priors
    named = {(m, p) for m, p, _ in verified if models.CARRIES.get(m) == "effect"}
    for cells in rows[1:]:
        h = _months(cells[0])
        assert FLAG not in cells[1] + cells[3]  # the headline numbers; their flag is "Data"
        assert (FLAG in cells[-1]) == (not verified[(model, prior, h)])
        assert (FLAG in cells[2]) == _any_unverified(verified, h, fits=named)


def test_results_by_horizon(report):
    _, verified, blocks = report
    seen = 0
    for heading, rows in tables(blocks, "Every fit's results"):
        h = _months(heading)
        all_bad = not any(ok for (_, _, hh), ok in verified.items() if hh == h)
        assert (FLAG in heading) == all_bad, heading
        for cells in rows[1:]:
            key = (_bare(cells[0]), cells[1], h)
            assert (FLAG in heading or FLAG in cells[0]) == (not verified[key]), key
            assert FLAG not in "".join(cells[1:])
            seen += 1
    assert seen == 2 * len(verified)  # two tables per horizon, every result once in each


def test_sensitivity_tables(report):
    summary, verified, blocks = report
    sec = "Prior sensitivity"
    rows = table(blocks, sec, "Horizon (months)", "Statement")
    models = [_bare(c) for c in rows[0][2:]]
    for cells in rows[1:]:
        h = _months(cells[0])
        for model, cell in zip(models, cells[2:], strict=True):
            if cell == "–":
                continue
            flagged = FLAG in cells[0] or FLAG in cell
            assert flagged == _any_unverified(verified, h, model=model), (h, model)
    first = f"{summary['horizons']['horizons_months'][0]:g} months"
    exact = table(blocks, sec, "Prior", first)
    sens = summary["sensitivity"]
    for cell in exact[0][1:]:
        h = _months(cell)
        bad = any(not r["verified_data"] for r in sens["exact"] if r["horizon_months"] == h)
        assert (FLAG in cell) == bad
        assert bad == _any_unverified(verified, h, model="exact_logistic")
    psense = table(blocks, sec, "Model", "Prior", first)
    fits = {(r["model"], r["prior"]) for r in sens["psense"]}
    for cell in psense[0][2:]:
        h = _months(cell)
        assert (FLAG in cell) == _any_unverified(verified, h, fits), h
    assert FLAG not in json.dumps(psense[1:], ensure_ascii=False)
    tails = table(blocks, sec, "Model", "Prior", "Stated")  # priors alone: no data, no flag
    assert FLAG not in json.dumps(tails, ensure_ascii=False)


def test_horizons_comparison_cells(report):
    _, verified, blocks = report
    rows = table(blocks, "Across horizons", "Horizon (months)")
    fits = [tuple(_bare(c).split(" / ")) for c in rows[0][1:]]
    for cells in rows[1:]:
        h = _months(cells[0])
        for (model, prior), cell in zip(fits, cells[1:], strict=True):
            flagged = FLAG in cells[0] or FLAG in cell
            assert flagged == (not verified[(model, prior, h)]), (model, prior, h)


def test_decision_tables(report):
    summary, verified, blocks = report
    sec = "Decision analysis"
    primary = summary["run"]["primary_horizon"]
    tally = table(blocks, sec, "Horizon (months)", "Dual: go")
    for cells in tally[1:]:
        h = _months(cells[0])
        assert (FLAG in cells[-1]) == _any_unverified(verified, h)
        assert FLAG not in "".join(cells[:-1])
    for header, horizon in (
        (("Model / prior", "Horizon"), None),
        (("Model / prior", "E[INB]"), primary),
        (("Model / prior", "80% frequentist"), primary),
    ):
        rows = table(blocks, sec, *header)
        for cells in rows[1:]:
            model, prior = _bare(cells[0]).split(" / ")
            h = _months(cells[1]) if horizon is None else horizon
            assert (FLAG in "".join(cells)) == (not verified[(model, prior, h)])


def test_data_table(report):
    summary, _, blocks = report
    rows = table(blocks, "Data and provenance", "Arm", "Horizon (months)")
    data = {(d["arm"], d["horizon_months"]): d["verified"] for d in summary["data"]}
    for cells in rows[1:]:
        assert (FLAG in cells[2]) == (not data[(cells[0], _months(cells[1]))])


def _svg_texts(path: Path) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"<text\b[^>]*>([^<]*)</text>", path.read_text())]


@pytest.mark.parametrize("name", ["forest", "p_rd_threshold", "rd_density"])
def test_horizon_panels_are_flagged_by_the_fits_they_draw(run, name):
    summary, verified, _, folder = run
    texts = _svg_texts(folder / "figures" / f"{name}.svg")
    n_fits = len(summary["run"]["fits"])
    for h in summary["horizons"]["horizons_months"]:
        i = next(i for i, t in enumerate(texts) if t.startswith(f"{h:g} months"))
        bad = sum(not ok for (_, _, hh), ok in verified.items() if hh == h)
        flag = texts[i + 1] if texts[i + 1].startswith(FLAG) else ""
        if bad == 0:
            assert flag == ""
        elif bad == n_fits:
            assert flag == f"{FLAG} UNVERIFIED data"
        else:
            assert (flag, texts[i + 2]) == (f"{FLAG} UNVERIFIED data in", f"{bad} of {n_fits} fits")


@pytest.mark.parametrize("plot", ["ceac_plot", "assurance_plot"])
def test_decision_figures_mark_each_unverified_fit(run, plot):
    """The CEAC and assurance figures draw every fit at the primary horizon: a fit's markers
    are hollow exactly when its result rests on unverified rows, and the flagged titles count
    them."""
    _, verified, _, folder = run
    summary = merge_figure_data(
        json.loads((folder / "summary.json").read_text("utf-8")),
        json.loads((folder / FIGURE_DATA).read_text("utf-8")),
    )
    dec = summary["decision"]
    ok = [verified[(f["model"], f["prior"], dec["primary_horizon"])] for f in dec["fits"]]
    bad = ok.count(False)
    assert 0 < bad < len(ok)  # the default run has both kinds
    fig = getattr(decision_view, plot)(summary)
    try:
        for ax in fig.axes:
            drawn = [line for line in ax.get_lines() if line.get_marker() not in ("None", "")]
            assert [not same_color(line.get_markerfacecolor(), "white") for line in drawn] == ok
        titles = [ax.get_title() for ax in fig.axes if FLAG in ax.get_title()]
        assert titles and all(f"{bad} of {len(ok)} fits" in t for t in titles)
        if plot == "ceac_plot":  # both panels draw every fit: acceptability and the EVPI
            assert len(titles) == 2
    finally:
        plt.close(fig)


def test_ppc_ticks_are_flagged_per_fit(run):
    summary, verified, _, folder = run
    texts = _svg_texts(folder / "figures" / "ppc.svg")
    horizons = [f"{h:g}" for h in summary["horizons"]["horizons_months"]]
    ticks = [
        (float(t), i + 1 < len(texts) and texts[i + 1] == "UNVERIFIED")
        for i, t in enumerate(texts)
        if t in horizons
    ]
    drawn = []
    for entry in summary["ppc"]["fits"]:
        if entry["model"] not in {m for m, _ in drawn}:
            drawn.append((entry["model"], entry["prior"]))
    expected = [(float(h), not verified[(m, p, float(h))]) for m, p in drawn for h in horizons]
    assert [(h, f) for h, f in ticks] == expected


def test_cumulative_figure_ticks_are_flagged_by_the_fits_drawn(run):
    """The hazard model's curves pool every horizon: a tick is flagged when a fit drawn at it (the
    hazard fit and the per-horizon squares' fit) rests on placeholder rows, the verified
    12-month counts included."""
    summary, verified, _, folder = run
    texts = _svg_texts(folder / "figures" / "cumulative_employment.svg")
    drawn = {
        (f["model"], f["prior"])
        for f in summary["run"]["fits"]
        if f["model"] in ("discrete_time_hazard", "beta_binomial")
    }
    assert ("discrete_time_hazard", "reference") in drawn
    for h in summary["horizons"]["horizons_months"]:
        flagged = not all(ok for (m, p, hh), ok in verified.items() if hh == h and (m, p) in drawn)
        ticks = [t for t in texts if t.split(" ")[0] == f"{h:g}" and len(t) <= len(f"{h:g} ⚠")]
        assert ticks and set(ticks) == {f"{h:g} ⚠" if flagged else f"{h:g}"}, (h, ticks)
    assert not verified[("discrete_time_hazard", "reference", 12.0)]


def _wambs_evidence(blocks, number: int) -> str:
    rows = table(blocks, "Reproducibility", "#", "Stage", "Question")
    return next(r[4] for r in rows[1:] if r[0] == str(number))


def test_wambs_prior_influence_items_carry_the_flag_of_the_fits_they_name(report):
    summary, verified, blocks = report
    item8 = _wambs_evidence(blocks, 8)
    m, p, h = re.search(r"\(([a-z_]+) / ([a-z_0-9]+), ([\d.]+) months\)", item8).groups()
    shown_ok = verified[(m, p, float(h))] and verified[(m, "reference", float(h))]
    assert (FLAG in item8) == (not shown_ok)
    item9 = _wambs_evidence(blocks, 9)
    for h in summary["horizons"]["horizons_months"]:
        part = re.search(rf"\b{h:g} months [^,]*", item9).group(0)
        ok = all(v for (_, _, hh), v in verified.items() if hh == h)
        assert (FLAG in part) == (not ok), part


def test_loo_scores_are_shown_once_and_priors_never_ranked(run):
    summary, _, reports, _ = run
    comp = summary["comparison"]
    for blocks in reports.values():
        per_fit = [
            rows
            for _, rows in tables(blocks, "")
            if rows[0][:3] == ["Fit", "Observations", "ELPD ± SE"]
        ]
        assert len(per_fit) == 1 and len(per_fit[0]) == 1 + len(comp["rows"])
        ranked = [rows for _, rows in tables(blocks, "Model comparison") if rows[0][0] == "Rank"]
        assert len(ranked) == len(comp["by_prior"]) > 0
        for rows in ranked:  # model families under one prior: no prior column, one row each
            assert "Prior" not in rows[0]
            assert len({r[1] for r in rows[1:]}) == len(rows) - 1
    assert all("rank" not in r and "weight" not in r for r in comp["rows"])
    for entry in comp["by_prior"]:
        assert {r["prior"] for r in entry["rows"]} == {entry["prior"]}
        assert len({r["model"] for r in entry["rows"]}) == len(entry["rows"]) >= 2


@pytest.mark.parametrize("name", ["report.html", "report.md"])
def test_fits_named_in_the_summary_sentences(run, name):
    """Each number the summary's sentences attribute to a fit, "(prior, model in words)",
    carries the flag of that fit's result at that horizon."""
    summary, verified, _, folder = run
    text = _text(re.sub(r"\\(.)", r"\1", (folder / name).read_text("utf-8")))
    start = text.index("How much does it depend on the prior?")
    sentence = text[start : text.index("Can the fits be trusted?")]
    words = {title: model for model, title in MODEL_TITLES.items()}
    h = summary["run"]["primary_horizon"]
    named = re.findall(r"\(([a-z0-9_]+), ([a-z -]+?)(, ⚠ UNVERIFIED placeholder)?\)", sentence)
    assert len(named) >= 4
    for prior, title, flag in named:
        assert bool(flag) == (not verified[(words[title], prior, h)]), (prior, title)
