"""The report's figure style: one matplotlib style, one visual language for priors, text that
stays readable on the page.

- **Priors.** A prior's hue says what it believes and its line what strength it has, the same in
  every figure and notebook plot (:func:`prior_looks`, from the prior's entry in summary.json
  ``priors``): green optimistic, blue neutral, vermillion pessimistic, purple evidence-based
  (external evidence or a meta-analytic-predictive prior), black reference; solid strong, dashed
  moderate, dotted weak. Priors outside the belief × strength grid have no graded strength: one
  line each within their hue, dash-dot patterns (solid first in the reference and evidence hues,
  which have no graded priors); a prior that is neither a reference nor
  evidence-based (the MCID priors, user priors) takes its hue from the sign of its prior mean
  effect (the log OR, or for a rate-only prior the difference of the arms' prior mean rates).
  Where one figure also shows several models, a model has one marker.
- **Horizons** are panels titled from the data, sharing their x axis, and flagged by the results
  they draw (:func:`panel_flag`): tinted when every fit drawn rests on unverified counts, and
  saying how many do when only some do.
- **Legends** name every curve and sit outside the data, below the panels
  (:func:`legend_below`).
- **Text** is at least :data:`MIN_TEXT_PX` px on the page: a figure is drawn at most
  :data:`MAX_WIDTH_IN` inches wide with no font under 8 pt, so report.html shows it unscaled
  (:func:`text_px` measures it). Long arm labels are shortened in the figure (:func:`short`) and
  given in full in the caption (:func:`arms_note`).

Each builder takes the fits and the summary and returns a :class:`Figure` (SVG text, caption, alt
text and the report section it belongs to), or None when it does not apply.
"""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass, field

import matplotlib

if "ipykernel" not in sys.modules:  # a notebook keeps its inline backend; elsewhere no GUI
    matplotlib.use("Agg")
import matplotlib.figure
import matplotlib.pyplot as plt
from matplotlib import ticker
from matplotlib.lines import Line2D

from bayes_ips.priors.community import BELIEFS, STRENGTHS
from bayes_ips.report.format import UNVERIFIED_PANEL, Wording
from bayes_ips.report.summary import verified_data

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
BELIEF_COLOURS = {
    "optimistic": "#009E73",
    "neutral": "#0072B2",
    "pessimistic": "#D55E00",
    "evidence": "#CC79A7",
    "reference": "#000000",
}
"""Hue of a prior by its belief (Okabe–Ito, colour-blind safe)."""
STRENGTH_LINES = {"strong": "-", "moderate": "--", "weak": ":"}
"""Line of a graded prior by its strength."""
UNGRADED_LINES = [
    "-.",
    (0, (7, 2, 1.5, 2, 1.5, 2)),
    (0, (11, 3)),
    (0, (11, 2.5, 2, 2.5)),
    (0, (3, 1.5, 1, 1.5)),
]
"""Lines of priors without a graded strength, in turn within a hue (after a solid line in the
hues that have no graded priors: reference and evidence)."""
MARKERS = ["o", "s", "^", "D", "v", "P"]
WARN = "#D55E00"
WARN_TINT = "#FBEDE3"
PAGE_WIDTH_PX = 1136
"""Width of report.html's content column in a 1280 px window: the body's ``max-width: 74rem``
less its ``1.5rem`` padding each side, at 16 px to the rem. A wider figure is scaled down to it."""
MIN_TEXT_PX = 10
"""The smallest text a figure may show on the page, in CSS px."""
MAX_WIDTH_IN = PAGE_WIDTH_PX * 0.75 / 72
"""The widest figure shown unscaled (an SVG is sized in pt; 1 CSS px = 0.75 pt)."""
LABEL_CHARS = 28
"""Longest arm label a figure shows in full; longer ones are shortened (:func:`short`)."""
STYLE = {
    "svg.hashsalt": "bayes_ips",
    "svg.fonttype": "none",
    "font.size": 10,
    "font.family": "DejaVu Sans",
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "legend.handlelength": 3.2,
    "figure.titlesize": 11,
    "figure.labelsize": 10,
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


# -- priors ---------------------------------------------------------------------------------------


def _sign(x: float) -> str:
    return "neutral" if abs(x) < 1e-9 else "optimistic" if x > 0 else "pessimistic"


def prior_class(meta: dict, sign: int = 1) -> tuple[str, str | None]:
    """Belief and strength of a prior from its summary.json ``priors`` entry.

    The 3 × 3 grid states both in its names; ``reference`` priors are the reference; evidence
    and meta-analytic priors are evidence-based; any other prior (the MCID priors, user priors)
    believes what the sign of its prior mean effect says: the mean log OR, or for a rate-only
    prior the treatment arm's prior mean rate less the control arm's, times ``sign`` (-1 when a
    lower rate is better, so that optimism is about benefit). Only grid priors have a strength
    (None for the others).

    Returns
    -------
    (belief, strength) : (str, str or None)
        belief one of :data:`BELIEF_COLOURS`; strength one of :data:`STRENGTH_LINES` or None.
    """
    group = meta.get("group")
    belief, _, strength = meta["name"].partition("_")
    if group == "community" and belief in BELIEFS and strength in STRENGTHS:
        return belief, strength
    if group == "reference":
        return "reference", None
    if group in ("evidence", "meta-analytic"):
        return "evidence", None
    if meta.get("effect") is not None:
        return _sign(sign * meta["effect"]["mean"]), None
    rate = meta.get("rate")
    if rate is not None:
        ta, tb = rate.get("treatment_a", rate["a"]), rate.get("treatment_b", rate["b"])
        return _sign(sign * (ta / (ta + tb) - rate["a"] / (rate["a"] + rate["b"]))), None
    return "reference", None


def prior_looks(summary: dict) -> dict[str, dict]:
    """``{"color", "ls"}`` of every prior of the run, by name (matplotlib line keywords).

    Hue by belief, line by strength (:func:`prior_class`); priors without a graded strength take
    :data:`UNGRADED_LINES` in turn within their hue, in the order of summary.json ``priors``
    (the reference and evidence hues start with a solid line). Priors the summary does not
    describe are looked up as user priors with no known effect (black).
    """
    metas = {p["name"]: p for p in summary.get("priors", [])}
    names = list(dict.fromkeys([*metas, *(p for _, p in fit_keys(summary))]))
    used: dict[str, int] = {}
    looks = {}
    for name in names:
        belief, strength = prior_class(
            metas.get(name, {"name": name, "group": "user"}), Wording.of(summary["run"]).sign
        )
        if strength is not None:
            ls = STRENGTH_LINES[strength]
        else:
            lines = UNGRADED_LINES if belief in BELIEFS else ["-", *UNGRADED_LINES]
            ls = lines[used.get(belief, 0) % len(lines)]
            used[belief] = used.get(belief, 0) + 1
        looks[name] = {"color": BELIEF_COLOURS[belief], "ls": ls}
    return looks


def prior_handles(summary: dict, names) -> list[Line2D]:
    """Legend entries of the priors ``names``: each drawn as its curves are."""
    looks = prior_looks(summary)
    return [Line2D([], [], lw=1.5, label=name, **looks[name]) for name in dict.fromkeys(names)]


PRIOR_LEGEND_TITLE = "prior (hue: belief; line: strength)"


def model_markers(summary: dict) -> dict[str, str]:
    """A marker per model, in the order the run lists its fits."""
    models = dict.fromkeys(m for m, _ in fit_keys(summary))
    return {m: MARKERS[i % len(MARKERS)] for i, m in enumerate(models)}


def legend(fig, summary: dict, *, markers: bool) -> None:
    """The legend of a figure of every fit: each prior by its look, then (with ``markers``, or
    when the run has several models) each model by its marker; below the panels."""
    handles = prior_handles(summary, [p for _, p in fit_keys(summary)])
    model_marker = model_markers(summary)
    title = PRIOR_LEGEND_TITLE
    if markers or len(model_marker) > 1:
        handles += [
            Line2D([], [], color="0.3", ls="none", marker=mk, label=m)
            for m, mk in model_marker.items()
        ]
        title += "; model (marker)"
    legend_below(fig, handles, title=title)


def legend_below(fig, handles: list | None = None, *, title: str | None = None) -> None:
    """A figure legend below its panels, outside the data, in as many columns as fit the
    figure's width; the figure grows by the legend's height, so the panels keep theirs. The
    figure must use the constrained layout. ``handles``: default every labelled artist of the
    figure's axes, once per label."""
    if handles is None:
        seen: dict[str, object] = {}
        for ax in fig.axes:
            for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
                seen.setdefault(label, h)
        labels, handles = list(seen), list(seen.values())
    else:
        labels = [h.get_label() for h in handles]
    size = plt.rcParams["legend.fontsize"]
    size = size if isinstance(size, float | int) else 9
    # an entry: the handle and its padding (about 5 em) and the label (about 0.6 em a character)
    entry_in = (5 + 0.6 * max(len(x) for x in labels)) * size / 72
    ncol = max(1, min(len(labels), int(fig.get_figwidth() // entry_in)))
    rows = -(-len(labels) // ncol) + (title is not None)
    fig.set_figheight(fig.get_figheight() + rows * 1.45 * size / 72 + 0.15)
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False, title=title)


def panel_grid(n: int, *, sharey: bool, width: float = 3.4, height: float = 2.4, cols: int = 3):
    """``n`` panels of one quantity (models, priors), at most ``cols`` to a row and at most
    :data:`MAX_WIDTH_IN` wide, sharing the x axis; returns the figure and the ``n`` axes (the
    grid's spare cells hidden)."""
    cols = min(cols, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(min(width * cols + 0.8, MAX_WIDTH_IN - 0.5), height * rows),
        squeeze=False,
        sharex=True,
        sharey=sharey,
        layout="constrained",
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes.flat[n - cols : n]:  # the lowest panel of each column shows its x ticks
        ax.xaxis.set_tick_params(labelbottom=True)
    return fig, list(axes.flat[:n])


def log_x(ax) -> None:
    """A log x axis with plain numbers (10, 100, 1000) as tick labels: the default ``10²``
    writes its exponent in small type."""
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())


def panel_xlabel(axes, text: str) -> None:
    """One x-axis label for panels sharing the x axis, under the middle panel of the last row
    (a ``supxlabel`` would collide with the legend below)."""
    last = [ax for ax in axes if ax.get_subplotspec().is_last_row()]
    last[len(last) // 2].set_xlabel(text)


# -- labels and sizes -----------------------------------------------------------------------------


def short(label: str, limit: int = LABEL_CHARS) -> str:
    """``label`` cut to ``limit`` characters with an ellipsis (the caption gives it in full)."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def arms(summary: dict) -> tuple[str, str]:
    """The treatment and control labels as figures show them (:func:`short`)."""
    run = summary["run"]
    return short(run["treatment"]), short(run["control"])


def arms_note(summary: dict) -> str:
    """The sentence a caption adds when a figure shortens an arm label: each in full."""
    run = summary["run"]
    full = [run["treatment"], run["control"]]
    cut = [(short(x), x) for x in full if short(x) != x]
    if not cut:
        return ""
    return " Arms in full: " + "; ".join(f"“{s}” is {x}" for s, x in cut) + "."


_SIZE = re.compile(r'<svg[^>]*?width="([\d.]+)pt"[^>]*?viewBox="[\d.\s-]*?\s([\d.]+)\s[\d.]+"')
_FONT = re.compile(r"font(?:-size)?:[^;\"]*?([\d.]+)px")


def text_px(svg: str, page_px: float = PAGE_WIDTH_PX) -> float:
    """The smallest text of a matplotlib SVG as report.html shows it, in CSS px.

    The SVG is ``width`` pt wide (4/3 px a pt) with its fonts in viewBox units; the page shows it
    at its natural size, or scaled down to ``page_px`` when wider.
    """
    size = _SIZE.search(svg)
    if size is None:
        raise ValueError("not a matplotlib SVG: no width in pt and viewBox")
    width_px = float(size.group(1)) * 4 / 3
    scale = min(width_px, page_px) / float(size.group(2))
    return min(float(x) for x in _FONT.findall(svg)) * scale
