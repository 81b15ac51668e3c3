"""Reports: frozen report data (summary.json) → sections → exporters (HTML, Markdown, JSON).

:func:`write_report` renders everything into a folder; the same call re-renders a finished run
from its summary.json and saved fits (``bayes-ips report RUN_DIR``), so the three outputs are
always views of one dict. The HTML is self-contained (figures embedded as SVG data URIs, styles
inline, no scripts, no network); the Markdown refers to the same figures under ``figures/``.

No PDF exporter: the libraries that render HTML to PDF need a browser engine or system
libraries (WeasyPrint: Pango), and the pure-Python ones (fpdf2) support too little HTML to reuse
the report's templates. The HTML carries a print stylesheet, so a browser's "Print to PDF" gives
a paginated report.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from bayes_ips.report.figures import all_figures
from bayes_ips.report.format import UNVERIFIED_FLAG, Wording, pct, pp, ratio
from bayes_ips.report.sections import Layout, Section, answers, context, result_row
from bayes_ips.report.style import Figure
from bayes_ips.report.summary import (
    FIGURE_DATA,
    build_summary,
    dumps,
    headline_fit,
    split_figure_data,
)
from bayes_ips.rundir import atomic_write

__all__ = [
    "Layout",
    "Section",
    "build_summary",
    "dumps",
    "render_batch_index",
    "render_html",
    "render_markdown",
    "render_notebook_html",
    "write_report",
]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md_escape(text) -> str:
    """Escape Markdown and inline-HTML syntax in user-supplied text.

    Backslash-escapes what acts anywhere in a line: links and images (``[ ]``), emphasis
    (``* _ ~``), code (`````), raw HTML and autolinks (``< >``) and table cells (``|``); ``&``
    becomes ``&amp;`` (no entity injection) and newlines become spaces. Characters that only act
    at the start of a line (``#``, ``+``, ``-``) are left alone: filtered text never starts one.
    """
    return _MD_SPECIAL.sub(r"\\\1", str(text).replace("&", "&amp;")).replace("\n", " ")


def md_code(text) -> str:
    """User-supplied text as a Markdown code span (shown verbatim, HTML inert)."""
    text = str(text).replace("\n", " ")
    runs = re.findall(r"`+", text)
    fence = "`" * (max(map(len, runs), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _loader(layout: Layout | None) -> jinja2.BaseLoader:
    """The core templates, and each analysis section's under ``<name>/``."""
    own = layout.sections if layout is not None else ()
    sections = {sec.name: jinja2.FileSystemLoader(sec.templates) for sec in own}
    return jinja2.ChoiceLoader(
        [jinja2.PackageLoader("bayes_ips", "report/templates"), jinja2.PrefixLoader(sections)]
    )


def breakable(text) -> Markup:
    """Escaped text with line-break opportunities after underscores (long model names)."""
    return Markup(str(escape(text)).replace("_", "_<wbr>"))


@cache
def _env(html: bool, layout: Layout | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=_loader(layout),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=md_escape,
        mdcode=md_code,
        wbr=breakable,
        pct=pct,
        pp=pp,
        ratio=ratio,
    )
    return env


def _data_uri(fig: Figure) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(fig.svg.encode()).decode()


def _figure_file(fig: Figure) -> str:
    return f"figures/{fig.name}.svg"


def render_html(summary: dict, figures: list[Figure], layout: Layout) -> str:
    """The self-contained HTML report (figures embedded as SVG data URIs)."""
    template = _env(True, layout).get_template("report.html.j2")
    return template.render(**context(summary, figures, _data_uri, layout))


def render_markdown(summary: dict, figures: list[Figure], layout: Layout) -> str:
    """The Markdown report; figures are referenced under ``figures/``."""
    template = _env(False, layout).get_template("report.md.j2")
    text = template.render(**context(summary, figures, _figure_file, layout))
    return re.sub(r"\n{3,}", "\n\n", text)


def _notebook_headline(summary: dict) -> dict:
    """The headline fit's rows, with the range of P(benefit) over every fit at each horizon."""
    model, prior = headline_fit(summary)
    ranges = {a["horizon"]: a for a in answers(summary)}
    rows = [
        {
            **result_row(r, Wording.of(summary["run"])),
            "range": ranges[f"{r['horizon_months']:g}"]["range"],
            "range_verified": ranges[f"{r['horizon_months']:g}"]["range_verified"],
        }
        for r in summary["results"]
        if (r["model"], r["prior"]) == (model, prior)
    ]
    return {"model": model, "prior": prior, "rows": rows}


def render_notebook_html(summary: dict, status: str, passed: bool) -> str:
    """The compact HTML a notebook shows for a results object: headline table and convergence.

    Parameters
    ----------
    status : str
        The convergence status in words; ``passed`` says whether it is good news.
    """
    return (
        _env(True)
        .get_template("notebook.html.j2")
        .render(
            run=summary["run"],
            headline=_notebook_headline(summary),
            status=status,
            passed=passed,
            diagnostics=summary["diagnostics"],
            warnings=summary["warnings"],
            interval_pct=f"{100 * summary['run']['interval']:g}",
            unverified_flag=UNVERIFIED_FLAG,
            words=Wording.of(summary["run"]),
            n_fits=len(summary["run"]["fits"]),
            fit_names=", ".join(f"{f['model']} / {f['prior']}" for f in summary["run"]["fits"]),
        )
    )


def render_batch_index(rows: list[dict], exit_code: int, status: str) -> str:
    """The HTML index of a batch: one row per run (see :mod:`bayes_ips.batch`)."""
    from bayes_ips._version import __version__

    return (
        _env(True)
        .get_template("batch_index.html.j2")
        .render(
            rows=rows,
            exit_code=exit_code,
            status=status,
            unverified_flag=UNVERIFIED_FLAG,
            version=__version__,
        )
    )


def write_report(
    folder: Path, summary: dict, fits, layout: Layout, figures: list[Figure] | None = None
) -> None:
    """Write report.html, report.md, summary.json and figures/ into ``folder``.

    The arrays of ``summary`` that only draw figures (``layout.figure_data``) go to
    ``figures/figure_data.json`` rather than summary.json. Each file is written to a temporary
    name and renamed into place, so a reader never sees a half-written file; a whole run folder
    is made atomic by :func:`bayes_ips.rundir.atomic_dir`. ``figures`` are the already rendered
    :func:`all_figures` of these fits, if the caller has them.
    """
    if figures is None:
        figures = all_figures(fits, summary, layout.figures)
    fig_dir = Path(folder) / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    for fig in figures:
        atomic_write(Path(folder) / _figure_file(fig), fig.svg)
    atomic_write(Path(folder) / "report.html", render_html(summary, figures, layout))
    atomic_write(Path(folder) / "report.md", render_markdown(summary, figures, layout))
    lean, figure_data = split_figure_data(summary, layout.figure_data)
    atomic_write(Path(folder) / FIGURE_DATA, dumps(figure_data))
    atomic_write(Path(folder) / "summary.json", dumps(lean))
