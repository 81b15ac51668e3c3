"""Report figures: one matplotlib style, the Okabe–Ito colour-blind-safe palette, labelled axes.

Each function takes the fits (and the summary) and returns a :class:`Figure` holding the SVG text
and its alt text; exporters embed it (HTML) or write it to ``figures/`` (Markdown).
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
import numpy as np
from scipy import stats

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
STYLE = {
    "svg.hashsalt": "bayes_ips",
    "svg.fonttype": "none",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "figure.dpi": 100,
}


@dataclass(frozen=True)
class Figure:
    """A rendered figure: file stem, caption, alt text for screen readers, and SVG markup.

    ``mpl`` is the matplotlib figure it was rendered from (closed in pyplot), which notebooks
    show through ``Results.plot(name)``.
    """

    name: str
    caption: str
    alt: str
    svg: str
    mpl: matplotlib.figure.Figure | None = field(default=None, repr=False, compare=False)


def render(fig, name: str, caption: str, alt: str) -> Figure:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return Figure(name, caption, alt, buf.getvalue(), fig)


def _horizon_label(h, unverified: set) -> str:
    return f"{h:g} months" + (" (UNVERIFIED placeholder data)" if h in unverified else "")


def rd_density_plot(fits, summary: dict):
    """Posterior density of the risk difference per horizon, one line per model × prior.

    Returns
    -------
    matplotlib.figure.Figure
    """
    horizons = sorted({r["horizon_months"] for r in summary["results"]})
    unverified = {r["horizon_months"] for r in summary["results"] if not r["verified_data"]}
    treatment, control = summary["run"]["treatment"], summary["run"]["control"]
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1, len(horizons), figsize=(3.6 * len(horizons) + 0.6, 3.4), sharey=False, squeeze=False
        )
        grid = np.linspace(-1, 1, 801)
        for ax, h in zip(axes[0], horizons, strict=True):
            for fit in fits:
                p = fit.p.sel(horizon=h)
                rd = (p.sel(arm=treatment) - p.sel(arm=control)).to_numpy().ravel()
                if np.ptp(rd) == 0:
                    continue
                dens = stats.gaussian_kde(rd)(grid)
                ax.plot(grid * 100, dens / 100, label=f"{fit.model} / {fit.prior.name}")
            ax.axvline(0, color="0.3", lw=0.8, ls="--")
            ax.set_title(
                _horizon_label(h, unverified),
                fontsize=9,
                color="#D55E00" if h in unverified else "black",
            )
            ax.set_xlabel(f"risk difference, {treatment} − {control} (percentage points)")
            lo = min(
                np.quantile(
                    (
                        fit.p.sel(horizon=h, arm=treatment) - fit.p.sel(horizon=h, arm=control)
                    ).to_numpy(),
                    0.0005,
                )
                for fit in fits
            )
            hi = max(
                np.quantile(
                    (
                        fit.p.sel(horizon=h, arm=treatment) - fit.p.sel(horizon=h, arm=control)
                    ).to_numpy(),
                    0.9995,
                )
                for fit in fits
            )
            ax.set_xlim(min(lo * 100, -5) - 2, max(hi * 100, 5) + 2)
        axes[0][0].set_ylabel("posterior density (per percentage point)")
        axes[0][-1].legend(fontsize=7, frameon=False, loc="upper left")
        fig.tight_layout()
    return fig


def rd_densities(fits, summary: dict) -> Figure:
    """:func:`rd_density_plot` rendered for the report."""
    horizons = sorted({r["horizon_months"] for r in summary["results"]})
    treatment, control = summary["run"]["treatment"], summary["run"]["control"]
    names = ", ".join(f"{h:g}" for h in horizons)
    return render(
        rd_density_plot(fits, summary),
        "rd_density",
        "Posterior densities of the risk difference by horizon",
        f"Posterior density curves of the risk difference ({treatment} minus {control}) in "
        f"percentage points at {names} months, one curve per model and prior; the dashed line "
        "marks no difference.",
    )


def _figure_builders() -> list:
    from bayes_ips.report import checks, decision

    return [
        rd_densities,
        checks.rank_plots,
        checks.ppc_plot,
        checks.prior_predictive_plot,
        *decision.FIGURES,
    ]


FIGURES = _figure_builders()
"""Figure builders, in order: ``builder(fits, summary) -> Figure | None`` (None: not applicable)."""


def all_figures(fits, summary: dict) -> list[Figure]:
    """Every figure the report shows, in order."""
    return [f for f in (build(fits, summary) for build in FIGURES) if f is not None]
