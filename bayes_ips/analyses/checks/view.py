"""Figures for the convergence and posterior-predictive sections of the report.

Figure builders read the saved fits: rank plots from ArviZ's ranks and ECDFs (what
``plot_rank`` draws), posterior- and prior-predictive plots in the report's matplotlib style.
The sections' tables are built from summary.json by :mod:`bayes_ips.report.sections`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from bayes_ips.diagnostics import on_cumulative_counts
from bayes_ips.report.figures import OKABE_ITO, STYLE, WARN, Figure, render, unverified_horizons

MAX_RANK_PLOTS = 4
RANK_POINTS = 200
"""Points of each rank-ECDF line (ArviZ's default for ECDFs)."""


def _first_per_model(fits):
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

    mcmc = [f for f in _first_per_model(fits) if f.diagnostics is not None][:MAX_RANK_PLOTS]
    if not mcmc:
        return None
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(11, 2.8 * len(mcmc)), layout="constrained")
        subfigs = np.atleast_1d(fig.subfigures(len(mcmc), 1))
        for sub, fit in zip(subfigs, mcmc, strict=True):
            names = [v for v in module(fit.model).KEY_PARAMETERS[:2] if v in fit.tree["posterior"]]
            panels = list(_rank_ecdf_panels(fit.tree, names))
            sub.suptitle(f"{fit.model} / {fit.prior.name}", fontsize=10, fontweight="bold")
            axes = np.atleast_1d(sub.subplots(1, len(panels), sharey=True))
            for ax, (label, x, y) in zip(axes, panels, strict=True):
                for chain, (xc, yc) in enumerate(zip(x, y, strict=True)):
                    ax.plot(xc, yc, color=OKABE_ITO[chain % len(OKABE_ITO)], lw=1)
                ax.axhline(0, color="0.6", lw=0.8)
                ax.set_title(label, fontsize=9)
                ax.set_xlabel("fractional rank")
            axes[0].set_ylabel("ECDF − uniform")
    return render(
        fig,
        "rank_plots",
        "Rank plots of key parameters (one line per chain)",
        "Rank ECDF-difference plots per chain for the key parameters of each MCMC model; "
        "well-mixed chains give overlapping lines near zero.",
        "diagnostics",
    )


def ppc_plot(fits, summary: dict) -> Figure | None:
    """Observed counts against replicated-count intervals, per model (first prior of each)."""
    chosen = [f for f in _first_per_model(fits) if on_cumulative_counts(f.tree)]
    if not chosen or "ppc" not in summary:
        return None
    treatment, control = summary["run"]["treatment"], summary["run"]["control"]
    flagged = unverified_horizons(summary)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1,
            len(chosen),
            figsize=(3.4 * len(chosen) + 1.8, 3.4),
            squeeze=False,
            sharey=True,
            layout="constrained",
        )
        for ax, fit in zip(axes[0], chosen, strict=True):
            obs = fit.tree["observed_data"]["y"]
            rep = fit.tree["posterior_predictive"]["y"]
            horizons = obs["horizon"].to_numpy().tolist()
            for j, (arm, colour) in enumerate(((treatment, "#0072B2"), (control, "#E69F00"))):
                x = np.arange(len(horizons)) + (j - 0.5) * 0.25
                r = rep.sel(arm=arm).stack(s=("chain", "draw")).to_numpy()
                lo, hi = np.quantile(r, [0.025, 0.975], axis=-1)
                ax.vlines(x, lo, hi, color=colour, lw=6, alpha=0.35, label=f"{arm}: 95% replicated")
                ax.plot(
                    x,
                    obs.sel(arm=arm).to_numpy(),
                    "o",
                    color=colour,
                    mec="black",
                    label=f"{arm}: observed",
                )
            ax.set_xticks(
                range(len(horizons)),
                [f"{h:g}" + ("\nUNVERIFIED" if h in flagged else "") for h in horizons],
            )
            for label, h in zip(ax.get_xticklabels(), horizons, strict=True):
                if h in flagged:
                    label.set_color(WARN)
            ax.set_title(f"{fit.model}\n{fit.prior.name}", fontsize=9)
            ax.set_xlabel("horizon (months)")
        axes[0][0].set_ylabel("number employed")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right upper", frameon=False)
    return render(
        fig,
        "ppc",
        "Posterior-predictive check: observed counts and 95% replicated intervals",
        "For each model, the observed number employed per arm and horizon (dots) against the "
        "95% interval of counts replicated from the posterior (bars).",
        "ppc",
    )


def prior_predictive_plot(fits, summary: dict) -> Figure | None:
    """Employment rates implied by each MCMC model's prior, per arm (first prior of each)."""
    chosen = [f for f in _first_per_model(fits) if "prior" in f.tree.children]
    if not chosen:
        return None
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1,
            len(chosen),
            figsize=(3.6 * len(chosen) + 1.2, 3.0),
            squeeze=False,
            layout="constrained",
        )
        bins = np.linspace(0, 1, 41)
        for ax, fit in zip(axes[0], chosen, strict=True):
            p = fit.tree["prior"]["p"]
            for arm in p["arm"].to_numpy().tolist():
                ax.hist(
                    p.sel(arm=arm).to_numpy().ravel() * 100,
                    bins=bins * 100,
                    histtype="step",
                    density=True,
                    label=str(arm),
                    lw=1.5,
                )
            ax.set_title(f"{fit.model}\n{fit.prior.name}", fontsize=9)
            ax.set_xlabel("implied employment rate (%)")
        axes[0][0].set_ylabel("prior density")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right upper", frameon=False, title="arm")
    return render(
        fig,
        "prior_predictive",
        "Prior-predictive employment rates (all horizons pooled)",
        "Histograms of the employment rates each model's prior implies, per arm, before "
        "seeing the data.",
        "methods",
    )
