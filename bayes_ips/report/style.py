"""The report's figure style: one matplotlib style, the Okabe–Ito colour-blind-safe palette,
labelled axes.

Every figure uses the same encoding: a prior has one colour (and, past seven priors, a dash
pattern) and a model one marker, in the order of ``summary["run"]["fits"]``; horizons are panels
titled from the data and flagged by the results they draw (:func:`panel_flag`): tinted when every
fit drawn rests on unverified counts, and saying how many do when only some do. Each builder
takes the fits and the summary and returns a :class:`Figure` (SVG text, caption, alt text and
the report section it belongs to), or None when it does not apply.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass, field

import matplotlib

if "ipykernel" not in sys.modules:  # a notebook keeps its inline backend; elsewhere no GUI
    matplotlib.use("Agg")
import matplotlib.figure
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

from bayes_ips.report.format import UNVERIFIED_PANEL
from bayes_ips.report.summary import verified_data

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
PRIOR_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#000000", "#56B4E9", "#D55E00"]
"""Okabe–Ito without yellow (too pale on white), blue first."""
DASHES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "D", "v", "P"]
WARN = "#D55E00"
WARN_TINT = "#FBEDE3"
STYLE = {
    "svg.hashsalt": "bayes_ips",
    "svg.fonttype": "none",
    "font.size": 9,
    "font.family": "DejaVu Sans",
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "figure.dpi": 100,
}


@dataclass(frozen=True)
class Figure:
    """A rendered figure.

    Attributes
    ----------
    name : str
        File stem under ``figures/`` and the key templates use (``figs[name]``).
    caption, alt : str
        Caption shown under it; alt text for screen readers.
    svg : str
        The SVG markup.
    section : str or None
        The report section that shows it, after the section's own content: a core section
        (``"methods"``, ``"results"``, ``"diagnostics"``, ``"ppc"``, ``"comparison"``) or an
        optional section's name. None: shown only where a template places it (``figs[name]``).
    """

    name: str
    caption: str
    alt: str
    svg: str
    section: str | None = None
    mpl: matplotlib.figure.Figure | None = field(default=None, repr=False, compare=False)
    """The matplotlib figure it was rendered from (closed in pyplot): ``Results.plot(name)``."""


def render(fig, name: str, caption: str, alt: str, section: str | None = None) -> Figure:
    """Close a matplotlib figure into a :class:`Figure` (reproducible SVG: no date, fixed ids)."""
    buf = io.StringIO()
    with plt.rc_context(STYLE):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return Figure(name, caption, alt, buf.getvalue(), section, fig)


# -- the shared encoding ------------------------------------------------------------------------


def horizons(summary: dict) -> list[float]:
    return sorted({r["horizon_months"] for r in summary["results"]})


def unverified_fits(
    summary: dict, h: float, fits: list[tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    """The fits among ``fits`` (default: every fit) whose result at horizon ``h`` rests on an
    unverified row (:func:`~bayes_ips.report.summary.verified_data`)."""
    fits = fit_keys(summary) if fits is None else fits
    return [k for k in fits if not verified_data(summary, [k], [h])]


def panel_flag(summary: dict, h: float, fits: list[tuple[str, str]] | None = None) -> str:
    """The unverified flag of a panel drawing ``fits`` (default: every fit) at horizon ``h``:
    "" when every result drawn rests on verified rows, the flag when none does, and how many
    do not otherwise (on a second line: panels are narrow)."""
    fits = fit_keys(summary) if fits is None else fits
    bad = unverified_fits(summary, h, fits)
    if not bad:
        return ""
    if len(bad) == len(fits):
        return UNVERIFIED_PANEL
    return f"{UNVERIFIED_PANEL} in\n{len(bad)} of {len(fits)} fits"


def horizon_title(h: float, summary: dict, fits: list[tuple[str, str]] | None = None) -> str:
    """Panel title of a horizon, with the flag of the fits drawn in it (:func:`panel_flag`)."""
    primary = " (primary)" if h == summary["run"].get("primary_horizon") else ""
    flag = panel_flag(summary, h, fits)
    return f"{h:g} months{primary}" + (f"\n{flag}" if flag else "")


def style_panel(ax, h: float, summary: dict, fits: list[tuple[str, str]] | None = None) -> None:
    """Title a horizon panel drawing ``fits`` (default: every fit); tint it when every result
    drawn rests on unverified counts, colour its title when some do."""
    fits = fit_keys(summary) if fits is None else fits
    bad = unverified_fits(summary, h, fits)
    ax.set_title(horizon_title(h, summary, fits), color=WARN if bad else "black")
    if bad and len(bad) == len(fits):
        ax.set_facecolor(WARN_TINT)


def fit_keys(summary: dict) -> list[tuple[str, str]]:
    """(model, prior) pairs in the run's order."""
    return [(f["model"], f["prior"]) for f in summary["run"]["fits"]]


def encoding(summary: dict) -> tuple[dict[str, dict], dict[str, str]]:
    """Colour and dash per prior, marker per model, in the order the run lists its fits."""
    priors = list(dict.fromkeys(p for _, p in fit_keys(summary)))
    models = list(dict.fromkeys(m for m, _ in fit_keys(summary)))
    prior_style = {
        p: {
            "color": PRIOR_COLOURS[i % len(PRIOR_COLOURS)],
            "ls": DASHES[(i // len(PRIOR_COLOURS)) % len(DASHES)],
        }
        for i, p in enumerate(priors)
    }
    model_marker = {m: MARKERS[i % len(MARKERS)] for i, m in enumerate(models)}
    return prior_style, model_marker


def legend(fig, summary: dict, *, lines: bool) -> None:
    """One legend below the panels: priors by colour, models by marker."""
    prior_style, model_marker = encoding(summary)
    handles = [
        Line2D([], [], color=s["color"], ls=s["ls"] if lines else "none", marker="o", label=p)
        for p, s in prior_style.items()
    ]
    if len(model_marker) > 1 or not lines:
        handles += [
            Line2D([], [], color="0.3", ls="none", marker=mk, label=m)
            for m, mk in model_marker.items()
        ]
    fig.legend(
        handles=handles,
        loc="outside right upper",
        ncol=1 if len(handles) <= 16 else 2,
        frameon=False,
        title="prior (colour), model (marker)",
        title_fontsize=8,
    )
