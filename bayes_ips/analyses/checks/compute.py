"""Posterior-predictive checks and model comparison: summary.json's ``ppc`` and ``comparison``.

The checks themselves are ArviZ's, wrapped in :mod:`bayes_ips.diagnostics`; this module applies
them to every fit whose likelihood is on the arm × horizon counts.
"""

from __future__ import annotations

from bayes_ips import diagnostics
from bayes_ips.context import Fitted, RunContext


def ppc_summary(ctx: RunContext, fitted: Fitted) -> dict:
    """summary.json ``ppc``: the per-cell posterior-predictive check of every fit."""
    interval = ctx.spec.estimands.interval
    return {
        "statistic": "posterior-predictive mid-p-value P(y_rep > y) + 0.5 P(y_rep = y) per "
        "arm x horizon count; values below 0.025 or above 0.975 flag misfit",
        "fits": [
            {"model": f.model, "prior": f.prior.name, "cells": diagnostics.ppc(f.tree, interval)}
            for f in fitted.fits
            if diagnostics.on_cumulative_counts(f.tree)
        ],
    }


def comparison_summary(ctx: RunContext, fitted: Fitted) -> dict | None:
    """summary.json ``comparison``: PSIS-LOO of every fit and ArviZ ``compare`` across them.

    Only fits whose likelihood is on the arm x horizon counts are compared; the others are
    listed under ``excluded`` (their LOO is in summary.json ``horizons``).
    """
    fits = [f for f in fitted.fits if diagnostics.on_cumulative_counts(f.tree)]
    excluded = [f"{f.model} / {f.prior.name}" for f in fitted.fits if f not in fits]
    if len(fits) < 2:
        return None
    rows = diagnostics.compare({f.label: f.tree for f in fits})
    by_label = {f.label: f for f in fits}
    for row in rows:
        fit = by_label[row.pop("fit")]
        row.update(model=fit.model, prior=fit.prior.name)
    worst = max(r["n_high_k"] for r in rows)
    note = (
        "Each observation is a whole arm x horizon count, so leaving one out removes a large "
        "share of the data: Pareto k above 0.7 means PSIS-LOO is unreliable for that fit, and "
        "the comparison should be read as rough."
        if worst
        else "All Pareto k values are below 0.7: PSIS-LOO estimates are reliable."
    )
    if excluded:
        note += (
            f" Not in this table: {', '.join(excluded)}, whose likelihood is written on other "
            "observations (interval events or individual outcomes), so their LOO is not "
            "comparable with these; see the section across horizons."
        )
    return {
        "method": "PSIS-LOO (ArviZ loo and compare, stacking weights)",
        "rows": rows,
        "note": note,
        "excluded": excluded,
    }
