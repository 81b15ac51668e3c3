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

from bayes_ips.report.figures import Figure, all_figures
from bayes_ips.report.methods import rst_inline, rst_plain
from bayes_ips.report.sections import context, pct, pp, ratio
from bayes_ips.report.summary import build_summary, dumps
from bayes_ips.rundir import atomic_write

__all__ = ["build_summary", "dumps", "render_html", "render_markdown", "write_report"]

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


def _loader() -> jinja2.BaseLoader:
    return jinja2.PackageLoader("bayes_ips", "report/templates")


def breakable(text) -> Markup:
    """Escaped text with line-break opportunities after underscores (long model names)."""
    return Markup(str(escape(text)).replace("_", "_<wbr>"))


@cache
def _env(html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=_loader(),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=md_escape,
        mdcode=md_code,
        wbr=breakable,
        rst=rst_inline if html else rst_plain,
        pct=pct,
        pp=pp,
        ratio=ratio,
    )
    return env


def _data_uri(fig: Figure) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(fig.svg.encode()).decode()


def _figure_file(fig: Figure) -> str:
    return f"figures/{fig.name}.svg"


def render_html(summary: dict, figures: list[Figure]) -> str:
    """The self-contained HTML report (figures embedded as SVG data URIs)."""
    return _env(True).get_template("report.html.j2").render(**context(summary, figures, _data_uri))


def render_markdown(summary: dict, figures: list[Figure]) -> str:
    """The Markdown report; figures are referenced under ``figures/``."""
    text = (
        _env(False).get_template("report.md.j2").render(**context(summary, figures, _figure_file))
    )
    return re.sub(r"\n{3,}", "\n\n", text)


def write_report(folder: Path, summary: dict, fits) -> None:
    """Write report.html, report.md, summary.json and figures/ into ``folder``.

    Each file is written to a temporary name and renamed into place, so a reader never sees a
    half-written file; a whole run folder is made atomic by :func:`bayes_ips.rundir.atomic_dir`.
    """
    figures = all_figures(fits, summary)
    fig_dir = Path(folder) / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    for fig in figures:
        atomic_write(Path(folder) / _figure_file(fig), fig.svg)
    atomic_write(Path(folder) / "report.html", render_html(summary, figures))
    atomic_write(Path(folder) / "report.md", render_markdown(summary, figures))
    atomic_write(Path(folder) / "summary.json", dumps(summary))
