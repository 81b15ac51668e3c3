"""Reports: frozen report data (summary.json) → sections → exporters (HTML, Markdown, JSON).

:func:`write_report` renders everything into a folder; the same call re-renders a finished run
from its summary.json and saved fits (``bayes-ips report RUN_DIR``).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import jinja2

from bayes_ips.report.figures import Figure, all_figures
from bayes_ips.report.sections import UNVERIFIED_FLAG, context, headline
from bayes_ips.report.summary import build_summary, dumps

__all__ = [
    "build_summary",
    "dumps",
    "render_batch_index",
    "render_html",
    "render_markdown",
    "render_notebook_html",
    "write_report",
]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|])")


def md_escape(text) -> str:
    """Escape Markdown and inline-HTML syntax in user-supplied text."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ").replace("&", "&amp;")


def _env(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bayes_ips", "report/templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    return env


def _data_uri(fig: Figure) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(fig.svg.encode()).decode()


def render_html(summary: dict, figures: list[Figure]) -> str:
    """The self-contained HTML report (figures embedded as SVG data URIs)."""
    return _env(True).get_template("report.html.j2").render(**context(summary, figures, _data_uri))


def render_markdown(summary: dict, figures: list[Figure]) -> str:
    """The Markdown report; figures are referenced under ``figures/``."""
    return (
        _env(False)
        .get_template("report.md.j2")
        .render(**context(summary, figures, lambda f: f"figures/{f.name}.svg"))
    )


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
            headline=headline(summary),
            status=status,
            passed=passed,
            diagnostics=summary["diagnostics"],
            warnings=summary["warnings"],
            interval_pct=f"{100 * summary['run']['interval']:g}",
            unverified_flag=UNVERIFIED_FLAG,
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


def write_report(folder: Path, summary: dict, fits, figures: list[Figure] | None = None) -> None:
    """Write report.html, report.md, summary.json and figures/ into ``folder``.

    ``figures`` are the already rendered :func:`all_figures` of these fits, if the caller has them.
    """
    if figures is None:
        figures = all_figures(fits, summary)
    fig_dir = folder / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    for fig in figures:
        (fig_dir / f"{fig.name}.svg").write_text(fig.svg, encoding="utf-8")
    (folder / "report.html").write_text(render_html(summary, figures), encoding="utf-8")
    (folder / "report.md").write_text(render_markdown(summary, figures), encoding="utf-8")
    (folder / "summary.json").write_text(dumps(summary), encoding="utf-8")
