"""Report figures: one matplotlib style, the Okabe–Ito colour-blind-safe palette, labelled axes.

Every figure uses the same encoding: a prior has one colour (and, past seven priors, a dash
pattern) and a model one marker, in the order of ``summary["run"]["fits"]``; horizons are panels
titled from the data, and panels of horizons whose counts are unverified are tinted and say so in
their title. Each builder takes the fits and the summary and returns a :class:`Figure` (SVG text,
caption, alt text and the report section it belongs to), or None when it does not apply.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from importlib import import_module

import matplotlib

if "ipykernel" not in sys.modules:  # a notebook keeps its inline backend; elsewhere no GUI
    matplotlib.use("Agg")
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

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


def unverified_horizons(summary: dict) -> set[float]:
    return {r["horizon_months"] for r in summary["results"] if not r["verified_data"]}


def horizon_title(h: float, summary: dict) -> str:
    """Panel title of a horizon; unverified horizons say so."""
    primary = " (primary)" if h == summary["run"].get("primary_horizon") else ""
    flag = "\nUNVERIFIED placeholder data" if h in unverified_horizons(summary) else ""
    return f"{h:g} months{primary}{flag}"


def style_panel(ax, h: float, summary: dict) -> None:
    """Title a horizon panel; tint it when its counts are unverified."""
    flagged = h in unverified_horizons(summary)
    ax.set_title(horizon_title(h, summary), color=WARN if flagged else "black")
    if flagged:
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


def rd_draws(fit, summary: dict, h: float) -> np.ndarray:
    """Risk-difference draws of one fit at one horizon."""
    run = summary["run"]
    p = fit.p.sel(horizon=h)
    return (p.sel(arm=run["treatment"]) - p.sel(arm=run["control"])).to_numpy().ravel()


def _rd_label(summary: dict) -> str:
    run = summary["run"]
    return f"risk difference, {run['treatment']} − {run['control']} (percentage points)"


def _rd_by_horizon(fits, summary: dict) -> dict[float, list[np.ndarray]]:
    """Sorted risk-difference draws of every fit, by horizon."""
    return {h: [np.sort(rd_draws(f, summary, h)) for f in fits] for h in horizons(summary)}


def _rd_range(draws: list[np.ndarray]) -> tuple[float, float]:
    """A plotting range covering 99.8% of every fit's draws and the ±5 pp around no effect."""
    lo = min(d[int(0.001 * (d.size - 1))] for d in draws)
    hi = max(d[int(0.999 * (d.size - 1))] for d in draws)
    return max(min(lo, -0.05) - 0.02, -1.0), min(max(hi, 0.05) + 0.02, 1.0)


def kde(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of ``x`` on an evenly spaced ``grid`` (Scott's bandwidth).

    Binned: the draws are counted on the grid and the counts convolved with the kernel, so the
    cost does not grow with draws × grid points.
    """
    step = grid[1] - grid[0]
    bandwidth = max(float(np.std(x)) * x.size ** (-1 / 5), step)
    edges = np.append(grid - step / 2, grid[-1] + step / 2)
    counts, _ = np.histogram(x, bins=edges)
    half = int(np.ceil(4 * bandwidth / step))
    offsets = np.arange(-half, half + 1) * step
    kernel = np.exp(-0.5 * (offsets / bandwidth) ** 2) / (bandwidth * np.sqrt(2 * np.pi))
    return np.convolve(counts, kernel, mode="same")[: grid.size] / x.size


# -- the figures ----------------------------------------------------------------------------------


def rd_density_plot(fits, summary: dict):
    """Posterior density of the risk difference per horizon, one line per model × prior.

    Returns
    -------
    matplotlib.figure.Figure
    """
    hs = horizons(summary)
    prior_style, model_marker = encoding(summary)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1, len(hs), figsize=(3.3 * len(hs) + 0.6, 3.6), squeeze=False, layout="constrained"
        )
        draws = _rd_by_horizon(fits, summary)
        for ax, h in zip(axes[0], hs, strict=True):
            lo, hi = _rd_range(draws[h])
            grid = np.linspace(lo, hi, 241)
            for fit, rd in zip(fits, draws[h], strict=True):
                if np.ptp(rd) == 0:
                    continue
                dens = kde(rd, grid) / 100
                ax.plot(
                    grid * 100,
                    dens,
                    marker=model_marker[fit.model],
                    markevery=(int(20 * (list(model_marker).index(fit.model) + 1)), 60),
                    ms=3.5,
                    lw=1.2,
                    **prior_style[fit.prior.name],
                )
            ax.axvline(0, color="0.3", lw=0.8, ls="--")
            ax.set_xlim(lo * 100, hi * 100)
            ax.set_ylim(bottom=0)
            style_panel(ax, h, summary)
        fig.supxlabel(_rd_label(summary), fontsize=9)
        axes[0][0].set_ylabel("posterior density (per percentage point)")
        legend(fig, summary, lines=True)
    return fig


def rd_densities(fits, summary: dict) -> Figure:
    """:func:`rd_density_plot` rendered for the report."""
    run = summary["run"]
    names = ", ".join(f"{h:g}" for h in horizons(summary))
    return render(
        rd_density_plot(fits, summary),
        "rd_density",
        "Posterior densities of the risk difference by horizon; dashed line: no difference.",
        f"Posterior density curves of the risk difference ({run['treatment']} minus "
        f"{run['control']}) in percentage points at {names} months, one curve per model and "
        "prior; the dashed line marks no difference.",
        "results",
    )


def forest_plot(summary: dict):
    """Risk difference (median and interval) per model × prior, one panel per horizon.

    Drawn from the summary alone: rows are the fits in run order, grouped under model headings.

    Returns
    -------
    matplotlib.figure.Figure
    """
    hs = horizons(summary)
    prior_style, model_marker = encoding(summary)
    rows: list[tuple[str, str | None]] = []
    for model in model_marker:
        rows.append((model, None))
        rows += [(m, p) for m, p in fit_keys(summary) if m == model]
    ypos = {row: len(rows) - i for i, row in enumerate(rows)}
    by_key = {(r["model"], r["prior"], r["horizon_months"]): r for r in summary["results"]}
    rope = summary["run"].get("rope")
    level = round(100 * summary["run"].get("interval", 0.95))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1,
            len(hs),
            figsize=(2.9 * len(hs) + 2.2, 0.24 * len(rows) + 2.0),
            layout="constrained",
            sharey=True,
            squeeze=False,
        )
        for ax, h in zip(axes[0], hs, strict=True):
            if rope:
                ax.axvspan(-100 * rope, 100 * rope, color="0.85", alpha=0.6, lw=0)
            ax.axvline(0, color="0.3", lw=0.8, ls="--")
            for (model, prior), y in ypos.items():
                r = by_key.get((model, prior, h))
                if prior is None or r is None:
                    continue
                rd = r["rd"]
                colour = prior_style[prior]["color"]
                ax.hlines(y, 100 * rd["lo"], 100 * rd["hi"], color=colour, lw=1.6)
                ax.plot(100 * rd["median"], y, marker=model_marker[model], color=colour, ms=5)
            ax.grid(axis="y", visible=False)
            style_panel(ax, h, summary)
        axes[0][0].set_yticks(
            list(ypos.values()),
            [prior if prior is not None else model for model, prior in ypos],
        )
        for label, (_, prior) in zip(axes[0][0].get_yticklabels(), ypos, strict=True):
            if prior is None:
                label.set_fontweight("bold")
        axes[0][0].set_ylim(0.4, len(rows) + 0.6)
        fig.supxlabel(f"{_rd_label(summary)}: median and {level}% credible interval", fontsize=9)
        legend(fig, summary, lines=False)
    return fig


def forest(fits, summary: dict) -> Figure:
    """:func:`forest_plot` rendered for the report."""
    run = summary["run"]
    rope = run.get("rope")
    band = f" Grey band: |RD| < {100 * rope:g} pp (practically no difference)." if rope else ""
    flagged = sorted(unverified_horizons(summary))
    warn = (
        f" Tinted panels ({', '.join(f'{h:g}' for h in flagged)} months) use UNVERIFIED "
        "placeholder counts."
        if flagged
        else ""
    )
    return render(
        forest_plot(summary),
        "forest",
        f"Risk difference of {run['treatment']} versus {run['control']} by model, prior and "
        f"horizon.{band}{warn}",
        f"Forest plot: for each model and prior (rows) and each horizon (panels), the posterior "
        f"median risk difference of {run['treatment']} minus {run['control']} in percentage "
        f"points with its credible interval; the dashed line marks no difference.{warn}",
        "results",
    )


def threshold_plot(fits, summary: dict):
    """P(RD > δ) against the threshold δ, one curve per model × prior, one panel per horizon.

    Returns
    -------
    matplotlib.figure.Figure
    """
    hs = horizons(summary)
    run = summary["run"]
    prior_style, model_marker = encoding(summary)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1,
            len(hs),
            figsize=(3.3 * len(hs) + 0.6, 3.6),
            sharey=True,
            squeeze=False,
            layout="constrained",
        )
        draws = _rd_by_horizon(fits, summary)
        for ax, h in zip(axes[0], hs, strict=True):
            lo, hi = _rd_range(draws[h])
            grid = np.linspace(max(lo, -0.3), hi, 181)
            for fit, rd in zip(fits, draws[h], strict=True):
                prob = 1 - np.searchsorted(rd, grid, side="right") / rd.size
                ax.plot(
                    grid * 100,
                    prob,
                    marker=model_marker[fit.model],
                    markevery=(int(15 * (list(model_marker).index(fit.model) + 1)), 45),
                    ms=3.5,
                    lw=1.2,
                    **prior_style[fit.prior.name],
                )
            ax.axvline(0, color="0.3", lw=0.8, ls="--")
            ax.set_xlim(grid[0] * 100, grid[-1] * 100)
            ax.set_ylim(0, 1)
            style_panel(ax, h, summary)
        fig.supxlabel(
            f"threshold δ for the risk difference {run['treatment']} − {run['control']} "
            "(percentage points)",
            fontsize=9,
        )
        axes[0][0].set_ylabel("posterior probability P(RD > δ)")
        legend(fig, summary, lines=True)
    return fig


def thresholds(fits, summary: dict) -> Figure:
    """:func:`threshold_plot` rendered for the report."""
    run = summary["run"]
    return render(
        threshold_plot(fits, summary),
        "p_rd_threshold",
        f"Posterior probability that the risk difference of {run['treatment']} versus "
        f"{run['control']} exceeds a threshold δ, by horizon; at δ = 0 it is P(benefit).",
        f"Curves of the posterior probability that the risk difference ({run['treatment']} minus "
        f"{run['control']}) exceeds each threshold from negative to positive percentage points, "
        "one curve per model and prior, one panel per horizon; the curves fall from near 1 to "
        "near 0 as the threshold grows.",
        "results",
    )


FigureBuilder = Callable[..., Figure | None]

FIGURES: list[FigureBuilder | str] = [
    forest,
    thresholds,
    rd_densities,
    "bayes_ips.analyses.checks.view:rank_plots",
    "bayes_ips.analyses.checks.view:ppc_plot",
    "bayes_ips.analyses.checks.view:prior_predictive_plot",
    "bayes_ips.analyses.sensitivity.view:effect_density_figure",
    "bayes_ips.analyses.sensitivity.view:threshold_figure",
    "bayes_ips.analyses.sensitivity.view:overlay_figure",
    "bayes_ips.analyses.sensitivity.view:heatmap_figure",
    "bayes_ips.analyses.horizons.view:cumulative_figure",
    "bayes_ips.analyses.missing_data.view:tipping_figure",
    "bayes_ips.analyses.decision.view:rules_figure",
    "bayes_ips.analyses.decision.view:ceac_figure",
    "bayes_ips.analyses.decision.view:assurance_figure",
    "bayes_ips.analyses.decision.view:oc_figure",
]
"""Figure builders, in order: ``builder(fits, summary) -> Figure | None`` (None: not applicable),
or a ``"module:function"`` string naming one (imported when the report is rendered, so a
re-render from a run folder finds builders whose module the run imported)."""


def resolve(target: FigureBuilder | str) -> Callable:
    """A registered builder: the callable itself or the one a ``"module:function"`` names."""
    if isinstance(target, str):
        module, function = target.split(":")
        return getattr(import_module(module), function)
    return target


def load_registrations() -> None:
    """Import the modules of the post-fit analyses (``analysis.STEPS``).

    A module may register report sections and figures when it is imported; a re-render of a
    finished run does not run the analyses, so their modules are imported here instead.
    """
    from bayes_ips.pipeline import STEPS

    for _, target in STEPS:
        import_module(target.split(":")[0])


def all_figures(fits, summary: dict) -> list[Figure]:
    """Every figure the report shows, in order."""
    load_registrations()
    figures = [resolve(target)(fits, summary) for target in FIGURES]
    return [fig for fig in figures if fig is not None]


def figure_calls(fits, summary: dict) -> list[Callable[[], Figure | None]]:
    """The report's figures as argument-free calls, for :func:`bayes_ips.workers.share`. Each
    returns its figure without the matplotlib figure (``mpl`` is None: a report needs only the
    SVG), or None where the run has nothing to show."""
    load_registrations()
    return [partial(_detached, target, fits, summary) for target in FIGURES]


def _detached(target: FigureBuilder | str, fits, summary: dict) -> Figure | None:
    fig = resolve(target)(fits, summary)
    return None if fig is None else replace(fig, mpl=None)
