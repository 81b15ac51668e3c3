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
    "cumulative count, y_rep the cumulative sums of a multinomial draw over 'first had the "
    "outcome in interval k' and 'without it by the last horizon' (n = n_analysed, the same "
    "cohort at every horizon) with probabilities from each posterior draw of p; values below "
    "0.025 or above 0.975 flag misfit"
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


PARETO_K_MEANING = (
    "Pareto k above 0.7 means that leaving that observation out moves the posterior too far for "
    "PSIS-LOO to estimate its leave-one-out predictive density: here each observation is a "
    "whole arm x horizon count (or interval count), a large share of a small trial's data. "
    "Where an exact leave-one-out value exists (the beta-binomial closed form, the exact "
    "logistic model's ratio of marginal likelihoods) it is used instead, so those scores do "
    "not depend on k. An observation with k above 0.7 and no exact value is left out of the "
    "score of every fit compared with it, so all are scored on the same observations; when "
    "none is left, the fits are not compared."
)


def loo_note(rows: list[dict]) -> str:
    """How the leave-one-out scores of ``rows`` were obtained, in counts: fits with observations
    PSIS could not score (Pareto k above 0.7), and how many of those are scored exactly or
    have observations left out (what that means: :data:`PARETO_K_MEANING`)."""
    high = [r for r in rows if r["n_high_k"]]
    if not high:
        return "Every Pareto k is at most 0.7: the PSIS-LOO estimates are reliable."
    exact = sum(bool(r.get("n_exact")) and r["n_exact"] == r["n_obs"] for r in high)
    left = [r for r in rows if r.get("n_excluded")]
    none_left = sum(r["n_excluded"] >= r["n_obs"] for r in left)
    parts = [f"{len(high)} of {len(rows)} fits have observations with Pareto k above 0.7"]
    if exact:
        parts.append(f"{exact} of them scored exactly, so k does not matter")
    if len(left) > none_left:
        parts.append(f"{len(left) - none_left} scored without those observations")
    if none_left:
        parts.append(f"{none_left} not compared: no observation is left once those are set aside")
    return "; ".join(parts) + "."


def comparison_summary(ctx: RunContext, fitted: Fitted) -> dict | None:
    """summary.json ``comparison``: leave-one-out scores of the fits and the model families
    compared under each prior.

    ELPD compares models, not priors: a prior under which the observed counts are predicted
    better is only closer to these data, which is no reason to hold it. So fits are compared
    (ArviZ ``compare``) only when they share a prior and their likelihoods are written on the
    same observations (``by_prior``: one entry per such prior with two or more model families);
    ``rows`` are every fit's own score, not ranked (``observations`` says what each is written
    on). Scores are exact where a closed form exists (:func:`bayes_ips.diagnostics.loo`).
    """
    fits = [f for f in fitted.fits if "log_likelihood" in f.tree.children]
    if not fits:
        return None
    groups: dict[tuple, list] = {}
    for fit in fits:
        groups.setdefault((diagnostics.observation_key(fit.tree), fit.prior.name), []).append(fit)
    by_prior = []
    for (_, prior), members in groups.items():
        if len({f.model for f in members}) < 2:
            continue
        rows = diagnostics.compare({f.label: f.tree for f in members})
        by_label = {f.label: f for f in members}
        for row in rows:
            fit = by_label[row.pop("fit")]
            row.update(model=fit.model, prior=fit.prior.name)
        by_prior.append(
            {
                "prior": prior,
                "observations": diagnostics.observations_text(members[0].tree),
                "models": [f.model for f in members],
                "rows": rows,
                "note": loo_note(rows),
            }
        )
    rows = [
        {
            "model": f.model,
            "prior": f.prior.name,
            "observations": diagnostics.observations_text(f.tree),
            **diagnostics.loo_row(f.tree),
        }
        for f in fits
    ]
    single = sorted({f.prior.name for f in fits} - {e["prior"] for e in by_prior})
    return {
        "method": "leave-one-out ELPD (exact where a closed form exists, else PSIS-LOO by "
        "ArviZ); model families compared under the same prior by ArviZ compare",
        "rows": rows,
        "by_prior": by_prior,
        "single_family_priors": single,
        "pareto_k": PARETO_K_MEANING,
        "note": loo_note(rows),
        "excluded": [f"{f.model} / {f.prior.name}" for f in fitted.fits if f not in fits],
    }
