"""The report view of the checks: posterior-predictive and model-comparison sections, and the
posterior- and prior-predictive figures.

Section builders read summary.json alone; figure builders read the saved fits too.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from bayes_ips.diagnostics import on_cumulative_counts
from bayes_ips.report.checklist import PPC_TAIL, cumulative_cells, ppc_cells, surprising
from bayes_ips.report.figures import first_per_model
from bayes_ips.report.format import Wording, elpd, level, loo_k
from bayes_ips.report.style import (
    STYLE,
    WARN,
    Figure,
    arms,
    arms_note,
    legend_below,
    panel_grid,
    render,
    short,
)
from bayes_ips.report.summary import verified_data


def _cell_rows(cells: list[dict]) -> list[dict]:
    """Per fit: counts checked, counts flagged and the range of p-values (and of LOO-PIT)."""
    fits: dict[str, list[dict]] = {}
    for c in cells:
        fits.setdefault(c["fit"], []).append(c)
    return [
        {
            "fit": fit,
            "cells": len(cs),
            "flagged": sum(surprising(c) for c in cs),
            "ppp_range": f"{min(c['ppp'] for c in cs):.2f}–{max(c['ppp'] for c in cs):.2f}",
            "pit_range": (
                f"{min(c['loo_pit'] for c in cs):.2f}–{max(c['loo_pit'] for c in cs):.2f}"
                if all(c.get("loo_pit") is not None for c in cs)
                else "–"
            ),
        }
        for fit, cs in fits.items()
    ]


def _detail(cells: list[dict], summary: dict) -> list[dict]:
    return [
        {
            "fit": c["fit"],
            "arm": c["arm"],
            "horizon": f"{c['horizon_months']:g}",
            "verified": verified_data(summary, [c["key"]], [c["horizon_months"]]),
            "observed": c["observed"],
            "replicated": f"{c['rep_mean']:.1f} ({c['rep_lo']:g} to {c['rep_hi']:g})",
            "ppp": f"{c['ppp']:.2f}",
            "loo_pit": "–" if c.get("loo_pit") is None else f"{c['loo_pit']:.2f}",
            "flagged": surprising(c),
        }
        for c in cells
    ]


def ppc_section(summary: dict) -> dict | None:
    cells, cumulative = ppc_cells(summary), cumulative_cells(summary)
    not_checked = ((summary.get("ppc") or {}).get("cumulative") or {}).get("not_checked")
    if not cells and not cumulative and not not_checked:
        return None
    detail = _detail(cells, summary)
    cumulative_detail = _detail(cumulative, summary)
    return {
        "per_fit": _cell_rows(cells),
        "detail": detail,
        "n_flagged": sum(d["flagged"] for d in detail),
        "n_cells": len(detail),
        "cumulative_per_fit": _cell_rows(cumulative),
        "cumulative_detail": cumulative_detail,
        "cumulative_flagged": sum(d["flagged"] for d in cumulative_detail),
        "cumulative_not_checked": not_checked,
        "tail": PPC_TAIL,
        "level": level(summary["run"]),
    }


def _loo_row(r: dict) -> dict:
    return {
        "fit": f"{r['model']} / {r['prior']}",
        "model": r["model"],
        "elpd": elpd(r),
        "p_loo": "–" if r["p_loo"] is None else f"{r['p_loo']:.1f}",
        "k": loo_k(r),
    }


def _single(comp: dict) -> str:
    """The priors under which nothing is compared, grouped by the model families fitted under
    them and the observations each scores: "a, b: m1 (on …) and m2 (on …)" or "c: m1 only"."""
    groups: dict[tuple, list[str]] = {}
    for prior in comp.get("single_family_priors", []):
        fams = tuple(
            dict.fromkeys(
                (r["model"], r.get("observations", "")) for r in comp["rows"] if r["prior"] == prior
            )
        )
        groups.setdefault(fams, []).append(prior)
    parts = []
    for fams, priors in groups.items():
        if len(fams) == 1:
            what = f"{fams[0][0]} only"
        else:
            what = " and ".join(f"{m} (on the {obs})" for m, obs in fams) + (
                ", which score different observations"
            )
        parts.append(f"{', '.join(priors)}: {what}")
    return "; ".join(parts)


def comparison_section(summary: dict) -> dict | None:
    """Model families compared under each prior, and every fit's own leave-one-out score once,
    from summary.json ``comparison`` (a summary written before ``by_prior`` existed shows the
    scores without its ranks: priors are never ranked)."""
    comp = summary.get("comparison")
    if not comp or not comp.get("rows"):
        return None
    by_prior = [
        {
            "prior": e["prior"],
            "observations": e["observations"],
            "not_compared": next(
                (r["not_compared"] for r in e["rows"] if r.get("not_compared")), None
            ),
            "rows": [
                {
                    **_loo_row(r),
                    "rank": "–" if r.get("rank") is None else r["rank"] + 1,
                    "diff": "–"
                    if r.get("rank") is None
                    else "best"
                    if r["rank"] == 0
                    else f"{-r['elpd_diff']:.1f} ± {r['dse']:.1f}",
                    "distinct": r.get("rank") not in (None, 0) and r["elpd_diff"] > 2 * r["dse"],
                }
                for r in e["rows"]
            ],
            "note": e.get("note", ""),
        }
        for e in comp.get("by_prior", [])
    ]
    rows = [{**_loo_row(r), "observations": r.get("observations", "")} for r in comp["rows"]]
    return {
        "method": comp.get("method", "PSIS-LOO"),
        "by_prior": by_prior,
        "single": _single(comp),
        "pareto_k": comp.get("pareto_k", ""),
        "note": comp.get("note", ""),
        "rows": rows,
        "any_high_k": any(r["n_high_k"] for r in comp["rows"]),
        "excluded": ", ".join(comp.get("excluded", [])),
    }


def ppc_plot(fits, summary: dict) -> Figure | None:
    """Observed counts against replicated-count intervals, per model (first prior of each)."""
    chosen = [f for f in first_per_model(fits) if on_cumulative_counts(f.tree)]
    if not chosen or "ppc" not in summary:
        return None
    treatment, control = summary["run"]["treatment"], summary["run"]["control"]
    outcome = Wording.of(summary["run"]).outcome
    shown = dict(zip((treatment, control), arms(summary), strict=True))
    with plt.rc_context(STYLE):
        fig, axes = panel_grid(len(chosen), sharey=True, height=2.9)
        for ax, fit in zip(axes, chosen, strict=True):
            obs = fit.tree["observed_data"]["y"]
            rep = fit.tree["posterior_predictive"]["y"]
            horizons = obs["horizon"].to_numpy().tolist()
            key = [(fit.model, fit.prior.name)]
            flagged = {h for h in horizons if not verified_data(summary, key, [h])}
            for j, (arm, colour) in enumerate(((treatment, "#0072B2"), (control, "#E69F00"))):
                x = np.arange(len(horizons)) + (j - 0.5) * 0.25
                r = rep.sel(arm=arm).stack(s=("chain", "draw")).to_numpy()
                lo, hi = np.quantile(r, [0.025, 0.975], axis=-1)
                ax.vlines(
                    x, lo, hi, color=colour, lw=6, alpha=0.35, label=f"{shown[arm]}: 95% replicated"
                )
                ax.plot(
                    x,
                    obs.sel(arm=arm).to_numpy(),
                    "o",
                    color=colour,
                    mec="black",
                    label=f"{shown[arm]}: observed",
                )
            ax.set_xticks(
                range(len(horizons)),
                [f"{h:g}" + ("\nUNVERIFIED" if h in flagged else "") for h in horizons],
            )
            for label, h in zip(ax.get_xticklabels(), horizons, strict=True):
                if h in flagged:
                    label.set_color(WARN)
            ax.set_title(f"{fit.model}\n{fit.prior.name}")
            ax.set_xlabel("horizon (months)")
        axes[0].set_ylabel(f"number with the {outcome}")
        legend_below(fig)
    return render(
        fig,
        "ppc",
        "Posterior-predictive check: observed counts and 95% replicated intervals"
        + arms_note(summary),
        f"For each model, the observed number with the {outcome} per arm and horizon (dots) "
        "against the 95% interval of counts replicated from the posterior (bars).",
        "ppc",
    )


def prior_predictive_plot(fits, summary: dict) -> Figure | None:
    """Employment rates implied by each MCMC model's prior, per arm (first prior of each)."""
    chosen = [f for f in first_per_model(fits) if "prior" in f.tree.children]
    if not chosen:
        return None
    outcome = Wording.of(summary["run"]).outcome
    with plt.rc_context(STYLE):
        fig, axes = panel_grid(len(chosen), sharey=False, height=2.6)
        bins = np.linspace(0, 1, 41)
        for ax, fit in zip(axes, chosen, strict=True):
            p = fit.tree["prior"]["p"]
            for arm in p["arm"].to_numpy().tolist():
                ax.hist(
                    p.sel(arm=arm).to_numpy().ravel() * 100,
                    bins=bins * 100,
                    histtype="step",
                    density=True,
                    label=short(str(arm)),
                    lw=1.5,
                )
            ax.set_title(f"{fit.model}\n{fit.prior.name}")
            ax.set_xlabel(f"implied {outcome} rate (%)")
        axes[0].set_ylabel("prior density")
        legend_below(fig, title="arm")
    return render(
        fig,
        "prior_predictive",
        f"Prior-predictive {outcome} rates (all horizons pooled)" + arms_note(summary),
        f"Histograms of the {outcome} rates each model's prior implies, per arm, before "
        "seeing the data.",
        "methods",
    )
