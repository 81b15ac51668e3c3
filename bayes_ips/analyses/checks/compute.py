"""Posterior-predictive checks and model comparison: summary.json's ``ppc`` and ``comparison``.

Two posterior-predictive checks:

- **per cell of a fit's own likelihood** (ArviZ's, wrapped in :mod:`bayes_ips.diagnostics`): for
  every fit whose likelihood is on the arm × horizon counts, each count against counts replicated
  from that likelihood;
- **on the cumulative counts** (:func:`cumulative_ppc`), for every fit with two or more horizons
  whose cumulative rates never fall in any draw, whatever its likelihood is written on (interval
  events, individual outcomes, an ordinal model): the observed cumulative counts against counts
  replicated from the fit's ``p`` alone. A model can reproduce each interval's events one by one
  and still miss where the cumulative rate ends up; this check sees that.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayes_ips import diagnostics
from bayes_ips.context import Fitted, RunContext
from bayes_ips.estimands import SAMPLE_DIMS

MONOTONE_TOLERANCE = 1e-12
"""A draw's cumulative rate may fall by this much (rounding) and still count as non-decreasing."""
CUMULATIVE_STATISTIC = (
    "posterior-predictive mid-p-value P(y_rep > y) + 0.5 P(y_rep = y) per arm x horizon "
    "cumulative count, y_rep the cumulative sums of a multinomial draw over 'first employed in "
    "interval k' and 'not employed by the last horizon' (n = n_analysed, the same cohort at "
    "every horizon) with probabilities from each posterior draw of p; values below 0.025 or "
    "above 0.975 flag misfit"
)


def replicate_cumulative(
    p: xr.DataArray, n: xr.DataArray, rng: np.random.Generator
) -> xr.DataArray:
    """Cumulative counts replicated from cumulative rates, one replicate per draw.

    Parameters
    ----------
    p : xarray.DataArray
        Cumulative employment ``(chain, draw, arm, horizon)``, non-decreasing over horizons in
        every draw (up to :data:`MONOTONE_TOLERANCE`).
    n : xarray.DataArray
        Participants per arm (dim ``arm``), the same cohort at every horizon.
    rng : numpy.random.Generator

    Returns
    -------
    xarray.DataArray
        Replicated cumulative counts with the dims and coords of ``p``: for each draw and arm, a
        multinomial draw of ``n`` over "first employed in interval k" (probability
        ``p[k] − p[k − 1]``) and "not employed by the last horizon" (``1 − p[K]``), summed
        cumulatively over the intervals.
    """
    dims = (*SAMPLE_DIMS, "arm", "horizon")
    rates = np.clip(p.transpose(*dims).to_numpy(), 0.0, 1.0)
    first = np.diff(rates, axis=-1, prepend=0.0).clip(min=0.0)
    probs = np.concatenate([first, (1.0 - rates[..., -1:]).clip(min=0.0)], axis=-1)
    probs /= probs.sum(axis=-1, keepdims=True)
    trials = np.broadcast_to(n.sel(arm=p["arm"]).to_numpy(), probs.shape[:-1])
    counts = rng.multinomial(trials, probs)[..., :-1].cumsum(axis=-1)
    return xr.DataArray(counts, dims=dims, coords={d: p[d] for d in dims})


def cohort_sizes(counts: xr.Dataset) -> xr.DataArray | None:
    """Each arm's analysed number when it is the same at every horizon, else None (then the
    cumulative counts are not one cohort's and have no multinomial)."""
    n = counts["n_analysed"]
    same = bool((n == n.isel(horizon=0)).all())
    return n.isel(horizon=0, drop=True) if same else None


def is_cumulative(p: xr.DataArray) -> bool:
    """True when ``p`` has two or more horizons and never falls across them in any draw."""
    return p.sizes["horizon"] > 1 and bool((p.diff("horizon") >= -MONOTONE_TOLERANCE).all())


def cumulative_ppc(
    p: xr.DataArray, counts: xr.Dataset, interval: float, rng: np.random.Generator
) -> list[dict]:
    """Posterior-predictive check of the observed cumulative counts from ``p`` alone.

    Parameters
    ----------
    p : xarray.DataArray
        Posterior cumulative employment ``(chain, draw, arm, horizon)``, non-decreasing.
    counts : xarray.Dataset
        The observed counts (``employed``, ``n_analysed``; one cohort: the same ``n_analysed``
        at every horizon).
    interval : float
        Mass of the replicated counts' equal-tailed interval.
    rng : numpy.random.Generator

    Returns
    -------
    list of dict
        Per arm and horizon: ``observed``, the replicated counts' ``rep_mean``, ``rep_lo`` and
        ``rep_hi``, and the mid-p-value ``ppp`` = P(y_rep > y) + ½ P(y_rep = y).
    """
    rep = replicate_cumulative(p, cohort_sizes(counts), rng)
    return [
        {
            "arm": arm,
            "horizon_months": h,
            **diagnostics.count_check(
                rep.sel(arm=arm, horizon=h).to_numpy().ravel(),
                int(counts["employed"].sel(arm=arm, horizon=h)),
                interval,
            ),
        }
        for arm in p["arm"].to_numpy().tolist()
        for h in p["horizon"].to_numpy().tolist()
    ]


def ppc_summary(ctx: RunContext, fitted: Fitted) -> dict:
    """summary.json ``ppc``: the per-cell check of every fit on the arm x horizon counts
    (``fits``) and the check of the cumulative counts of every fit whose cumulative rates never
    fall (``cumulative``: ``statistic``, ``fits``, and ``not_checked`` saying why, when the counts
    are not one cohort's)."""
    interval = ctx.spec.estimands.interval
    cumulative = [f for f in fitted.fits if is_cumulative(f.p)]
    same_cohort = cohort_sizes(ctx.counts) is not None
    return {
        "statistic": "posterior-predictive mid-p-value P(y_rep > y) + 0.5 P(y_rep = y) per "
        "arm x horizon count; values below 0.025 or above 0.975 flag misfit",
        "fits": [
            {"model": f.model, "prior": f.prior.name, "cells": diagnostics.ppc(f.tree, interval)}
            for f in fitted.fits
            if diagnostics.on_cumulative_counts(f.tree)
        ],
        "cumulative": {
            "statistic": CUMULATIVE_STATISTIC,
            "fits": [
                {
                    "model": f.model,
                    "prior": f.prior.name,
                    "cells": cumulative_ppc(
                        f.p, ctx.counts, interval, np.random.default_rng([f.seed, 1])
                    ),
                }
                for f in cumulative
                if same_cohort
            ],
            "not_checked": None
            if same_cohort or not cumulative
            else "n_analysed changes between horizons, so the cumulative counts are not those "
            "of one cohort and have no multinomial to replicate them from",
        },
    }


def loo_note(rows: list[dict]) -> str:
    """What the LOO rows rest on: exact values, constant terms, excluded observations."""
    n_exact = max(r.get("n_exact", 0) for r in rows)
    n_excluded = max(r.get("n_excluded", 0) for r in rows)
    high = max(r["n_high_k"] for r in rows)
    parts = []
    if high:
        parts.append(
            "Each observation is a whole arm x horizon count, so leaving one out removes a large "
            "share of the data and PSIS-LOO is unreliable where Pareto k exceeds 0.7."
        )
    if n_exact:
        parts.append(
            "Exact models are scored by their exact leave-one-out predictive (the beta-binomial "
            "closed form; the exact logistic model's ratio of marginal likelihoods), not PSIS."
        )
    if n_excluded:
        parts.append(
            f"{n_excluded} observation(s) with Pareto k above 0.7 and no exact value are left "
            "out of every compared fit's score, so all fits are scored on the same observations."
        )
    if any(r.get("not_compared") for r in rows):
        parts.append("No observation is left to compare on: the fits are not compared.")
    return " ".join(parts) or "All Pareto k values are below 0.7: PSIS-LOO estimates are reliable."


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
    note = loo_note(rows)
    if excluded:
        note += (
            f" Not in this table: {', '.join(excluded)}, whose likelihood is written on other "
            "observations (interval events or individual outcomes), so their LOO is not "
            "comparable with these; see the section across horizons."
        )
    return {
        "method": "leave-one-out ELPD (PSIS-LOO by ArviZ, exact where a closed form exists; "
        "ArviZ compare, stacking weights)",
        "rows": rows,
        "note": note,
        "excluded": excluded,
    }
