"""The report's core figures: forest plot, threshold curves and risk-difference densities.

Each builder takes the fits and the summary and returns a :class:`~bayes_ips.report.style.Figure`
or None when it does not apply. The post-fit analyses bring their own figures
(:mod:`bayes_ips.analyses`); :func:`all_figures` draws the core ones and theirs, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

import matplotlib.pyplot as plt
import numpy as np

from bayes_ips.report.format import UNVERIFIED_COUNTS, Wording
from bayes_ips.report.style import (
    MAX_WIDTH_IN,
    OKABE_ITO,
    STYLE,
    Figure,
    arms,
    arms_note,
    fit_keys,
    horizons,
    legend,
    legend_below,
    model_markers,
    panel_xlabel,
    prior_looks,
    render,
    short,
    style_panel,
    unverified_fits,
)


def rd_draws(fit, summary: dict, h: float) -> np.ndarray:
    """Risk-difference draws of one fit at one horizon."""
    run = summary["run"]
    p = fit.p.sel(horizon=h)
    return (p.sel(arm=run["treatment"]) - p.sel(arm=run["control"])).to_numpy().ravel()


def _rd_label(summary: dict) -> str:
    t, c = arms(summary)
    return f"risk difference, {t} − {c} (percentage points)"


def _panels(summary: dict, height: float, *, sharey: bool):
    """One panel per horizon in a row, sharing the x axis, at most :data:`MAX_WIDTH_IN` wide."""
    n = len(horizons(summary))
    fig, axes = plt.subplots(
        1,
        n,
        figsize=(min(3.2 * n + 1.0, MAX_WIDTH_IN - 0.5), height),
        squeeze=False,
        sharex=True,
        sharey=sharey,
        layout="constrained",
    )
    return fig, axes[0]


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
    looks, model_marker = prior_looks(summary), model_markers(summary)
    draws = _rd_by_horizon(fits, summary)
    lo, hi = _rd_range([d for h in draws for d in draws[h]])
    grid = np.linspace(lo, hi, 241)
    with plt.rc_context(STYLE):
        fig, axes = _panels(summary, 2.9, sharey=False)
        for ax, h in zip(axes, horizons(summary), strict=True):
            for fit, rd in zip(fits, draws[h], strict=True):
                if np.ptp(rd) == 0:
                    continue
                ax.plot(
                    grid * 100,
                    kde(rd, grid) / 100,
                    marker=model_marker[fit.model],
                    markevery=(int(20 * (list(model_marker).index(fit.model) + 1)), 60),
                    ms=3.5,
                    lw=1.2,
                    **looks[fit.prior.name],
                )
            ax.axvline(0, color="0.3", lw=0.8, ls="--")
            ax.set_ylim(bottom=0)
            style_panel(ax, h, summary)
        axes[0].set_xlim(lo * 100, hi * 100)
        panel_xlabel(axes, _rd_label(summary))
        axes[0].set_ylabel("posterior density\n(per percentage point)")
        legend(fig, summary, markers=False)
    return fig


def rd_densities(fits, summary: dict) -> Figure:
    """:func:`rd_density_plot` rendered for the report."""
    run = summary["run"]
    names = ", ".join(f"{h:g}" for h in horizons(summary))
    return render(
        rd_density_plot(fits, summary),
        "rd_density",
        "Posterior densities of the risk difference by horizon; dashed line: no difference."
        + arms_note(summary),
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
    looks, model_marker = prior_looks(summary), model_markers(summary)
    rows: list[tuple[str, str | None]] = []
    for model in model_marker:
        rows.append((model, None))
        rows += [(m, p) for m, p in fit_keys(summary) if m == model]
    ypos = {row: len(rows) - i for i, row in enumerate(rows)}
    by_key = {(r["model"], r["prior"], r["horizon_months"]): r for r in summary["results"]}
    rope = summary["run"].get("rope")
    level = round(100 * summary["run"].get("interval", 0.95))
    with plt.rc_context(STYLE):
        fig, axes = _panels(summary, 0.22 * len(rows) + 1.2, sharey=True)
        for ax, h in zip(axes, horizons(summary), strict=True):
            if rope:
                ax.axvspan(-100 * rope, 100 * rope, color="0.85", alpha=0.6, lw=0)
            ax.axvline(0, color="0.3", lw=0.8, ls="--")
            for (model, prior), y in ypos.items():
                r = by_key.get((model, prior, h))
                if prior is None or r is None:
                    continue
                rd = r["rd"]
                colour = looks[prior]["color"]
                ax.hlines(y, 100 * rd["lo"], 100 * rd["hi"], lw=1.6, **_hline(looks[prior]))
                ax.plot(
                    100 * rd["median"],
                    y,
                    marker=model_marker[model],
                    color=colour,
                    mfc=colour if r["verified_data"] else "white",
                    ms=5,
                )
            ax.grid(axis="y", visible=False)
            style_panel(ax, h, summary)
        axes[0].set_yticks(
            list(ypos.values()),
            [prior if prior is not None else model for model, prior in ypos],
        )
        for label, (_, prior) in zip(axes[0].get_yticklabels(), ypos, strict=True):
            if prior is None:
                label.set_fontweight("bold")
        axes[0].set_ylim(0.4, len(rows) + 0.6)
        panel_xlabel(axes, f"{_rd_label(summary)}:\nmedian and {level}% credible interval")
        legend(fig, summary, markers=True)
    return fig


def _hline(look: dict) -> dict:
    """A prior's look as keywords of ``Axes.hlines`` (which names the line style
    ``linestyles``)."""
    return {"color": look["color"], "linestyles": [look["ls"]]}


def forest(fits, summary: dict) -> Figure:
    """:func:`forest_plot` rendered for the report."""
    run = summary["run"]
    rope = run.get("rope")
    band = f" Grey band: |RD| < {100 * rope:g} pp (practically no difference)." if rope else ""
    hs = horizons(summary)
    every = [h for h in hs if len(unverified_fits(summary, h)) == len(fit_keys(summary))]
    some = [h for h in hs if h not in every and unverified_fits(summary, h)]
    warn = (
        f" Tinted panels ({', '.join(f'{h:g}' for h in every)} months): every fit uses "
        f"{UNVERIFIED_COUNTS}."
        if every
        else ""
    )
    if some:
        warn += (
            f" At {', '.join(f'{h:g}' for h in some)} months the hollow markers are fits that "
            f"use {UNVERIFIED_COUNTS}; filled markers use verified counts only."
        )
    return render(
        forest_plot(summary),
        "forest",
        f"Risk difference of {run['treatment']} versus {run['control']} by model, prior and "
        f"horizon.{band}{warn}{arms_note(summary)}",
        f"Forest plot: for each model and prior (rows) and each horizon (panels), the posterior "
        f"median risk difference of {run['treatment']} minus {run['control']} in percentage "
        f"points with its credible interval; the dashed line marks no difference.{warn}",
        "results",
    )


def threshold_plot(fits, summary: dict):
    """P(RD > δ) against the threshold δ, one curve per model × prior, one panel per horizon;
    P(RD < δ) when a lower rate is better (the benefit side, :class:`~.format.Wording`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    looks, model_marker = prior_looks(summary), model_markers(summary)
    draws = _rd_by_horizon(fits, summary)
    lo, hi = _rd_range([d for h in draws for d in draws[h]])
    grid = np.linspace(max(lo, -0.3), hi, 181)
    t, c = arms(summary)
    lower = Wording.of(summary["run"]).lower
    with plt.rc_context(STYLE):
        fig, axes = _panels(summary, 2.9, sharey=True)
        for ax, h in zip(axes, horizons(summary), strict=True):
            for fit, rd in zip(fits, draws[h], strict=True):
                below = np.searchsorted(rd, grid, side="left") / rd.size
                prob = below if lower else 1 - np.searchsorted(rd, grid, side="right") / rd.size
                ax.plot(
                    grid * 100,
                    prob,
                    marker=model_marker[fit.model],
                    markevery=(int(15 * (list(model_marker).index(fit.model) + 1)), 45),
                    ms=3.5,
                    lw=1.2,
                    **looks[fit.prior.name],
                )
            ax.axvline(0, color="0.3", lw=0.8, ls="--")
            style_panel(ax, h, summary)
        axes[0].set_xlim(grid[0] * 100, grid[-1] * 100)
        axes[0].set_ylim(0, 1)
        panel_xlabel(axes, f"threshold δ for the risk difference {t} − {c} (percentage points)")
        axes[0].set_ylabel(f"posterior probability P(RD {'<' if lower else '>'} δ)")
        legend(fig, summary, markers=False)
    return fig


def thresholds(fits, summary: dict) -> Figure:
    """:func:`threshold_plot` rendered for the report."""
    run = summary["run"]
    lower = Wording.of(run).lower
    side = "is below" if lower else "exceeds"
    return render(
        threshold_plot(fits, summary),
        "p_rd_threshold",
        f"Posterior probability that the risk difference of {run['treatment']} versus "
        f"{run['control']} {side} a threshold δ, by horizon; at δ = 0 it is P(benefit)."
        + arms_note(summary),
        f"Curves of the posterior probability that the risk difference ({run['treatment']} minus "
        f"{run['control']}) {side} each threshold from negative to positive percentage points, "
        "one curve per model and prior, one panel per horizon; the curves "
        + ("rise from near 0 to near 1" if lower else "fall from near 1 to near 0")
        + " as the threshold grows.",
        "results",
    )


# -- convergence ----------------------------------------------------------------------------------


MAX_RANK_PLOTS = 4
RANK_POINTS = 200
"""Points of each rank-ECDF line (ArviZ's default for ECDFs)."""


def first_per_model(fits) -> list:
    """The first fit of each model family, in the run's order."""
    seen, out = set(), []
    for fit in fits:
        if fit.model not in seen:
            seen.add(fit.model)
            out.append(fit)
    return out


def _rank_ecdf_panels(tree, names: list[str]):
    """``(label, x, y)`` per variable and coordinate: the ECDF of each chain's fractional ranks
    (ranked over all chains) minus the uniform CDF, as ArviZ's ``plot_rank`` computes it; ``y``
    has one row per chain."""
    from arviz_base import xarray_sel_iter
    from arviz_base.labels import BaseLabeller

    ranks = (
        tree["posterior"]
        .to_dataset()[names]
        .azstats.compute_ranks(dim=["chain", "draw"], relative=True)
    )
    ecdf = ranks.azstats.ecdf(dim=["draw"], pit=True, npoints=RANK_POINTS)
    skip = {"plot_axis", "chain", *(d for d in ecdf.dims if d not in ranks.dims)}
    for name, sel, isel in xarray_sel_iter(ecdf, var_names=names, skip_dims=skip):
        panel = ecdf[name].sel(sel)
        x = panel.sel(plot_axis="x").transpose("chain", ...).to_numpy()
        y = panel.sel(plot_axis="y").transpose("chain", ...).to_numpy()
        yield BaseLabeller().make_label_flat(name, sel, isel), x, y


def rank_plots(fits, summary: dict) -> Figure | None:
    """Rank plots of the key parameters of the first MCMC fit of each model family."""
    import arviz_stats  # noqa: F401  (registers the ``azstats`` accessor)

    from bayes_ips.models import module

    mcmc = [f for f in first_per_model(fits) if f.diagnostics is not None][:MAX_RANK_PLOTS]
    if not mcmc:
        return None
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(11, 2.8 * len(mcmc)), layout="constrained")
        subfigs = np.atleast_1d(fig.subfigures(len(mcmc), 1))
        for sub, fit in zip(subfigs, mcmc, strict=True):
            keys = module(fit.model).KEY_PARAMETERS
            names = [v for v in keys if v in fit.tree["posterior"]][:2]
            panels = list(_rank_ecdf_panels(fit.tree, names))
            sub.suptitle(f"{fit.model} / {fit.prior.name}", fontsize=10, fontweight="bold")
            axes = np.atleast_1d(sub.subplots(1, len(panels), sharey=True))
            for ax, (label, x, y) in zip(axes, panels, strict=True):
                for chain, (xc, yc) in enumerate(zip(x, y, strict=True)):
                    ax.plot(
                        xc,
                        yc,
                        color=OKABE_ITO[chain % len(OKABE_ITO)],
                        lw=1,
                        label=f"chain {chain}",
                    )
                ax.axhline(0, color="0.6", lw=0.8)
                ax.set_title(short(label), fontsize=9)
                ax.set_xlabel("fractional rank")
            axes[0].set_ylabel("ECDF − uniform")
        legend_below(fig, axes[0].get_legend_handles_labels()[0])
    return render(
        fig,
        "rank_plots",
        "Rank plots of key parameters (one line per chain)." + arms_note(summary),
        "Rank ECDF-difference plots per chain for the key parameters of each MCMC model; "
        "well-mixed chains give overlapping lines near zero.",
        "diagnostics",
    )


FigureBuilder = Callable[..., Figure | None]
"""``builder(fits, summary) -> Figure | None`` (None: the figure does not apply to this run)."""

CORE_FIGURES: tuple[FigureBuilder, ...] = (forest, thresholds, rd_densities, rank_plots)
"""The figures of the core sections, in order; the analyses' figures follow them."""


def all_figures(fits, summary: dict, builders: Sequence[FigureBuilder]) -> list[Figure]:
    """Every figure of ``builders`` that applies to this run, in order."""
    figures = [build(fits, summary) for build in builders]
    return [fig for fig in figures if fig is not None]


def figure_calls(
    fits, summary: dict, builders: Sequence[FigureBuilder]
) -> list[Callable[[], Figure | None]]:
    """The figures of ``builders`` as argument-free calls, for a runner to share out. Each
    returns its figure without the matplotlib figure (``mpl`` is None: a report needs only the
    SVG), or None where the run has nothing to show."""
    return [partial(_detached, build, fits, summary) for build in builders]


def _detached(build: FigureBuilder, fits, summary: dict) -> Figure | None:
    fig = build(fits, summary)
    return None if fig is None else replace(fig, mpl=None)
