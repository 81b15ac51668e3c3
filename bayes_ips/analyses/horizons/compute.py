"""Statements across horizons: what a cumulative model says that per-horizon answers cannot.

For every fit with two or more horizons (summary.json ``horizons``):

- ``p_benefit_all``: P(benefit at every horizon), P(sign · RD > 0 at all horizons) with the
  outcome's direction ``sign`` (the treatment's cumulative rate above the control's when a higher
  rate is better, below it when a lower one is), from the joint posterior draws;
- ``rd_increase``: for each pair of consecutive horizons, P(the benefit grows: the later
  sign · RD exceeds the earlier);
- ``p_monotone``: the share of draws in which both arms' employment never falls across horizons
  (1 by construction for the models that pool horizons, :data:`CUMULATIVE_MODELS`; per-horizon
  models can fall below 1, an impossible answer for a cumulative outcome).

For the fits of :data:`CUMULATIVE_MODELS` also:

- ``half_time``: per arm, the posterior of the time by which half the arm is employed, with
  constant hazard inside each interval (so the share not yet employed falls log-linearly between
  horizons); defined in a draw only if more than half are employed by the last horizon.
  ``p_reached`` is the probability it is defined, quantiles beyond follow-up are None.

And for the discrete-time hazard fits (:data:`HAZARD_MODEL`):

- ``hazard``: posterior of each interval's hazard per arm and of its hazard ratio
  (``hazard_ratio`` = exp ``beta``);
- ``interval_ppc``: observed first employments per arm and interval against replicated ones.

And across fits, ``loo``: each fit's own leave-one-out score, grouped by the observations its
likelihood is written on, and never ranked: ELPD compares models under one prior (summary.json
``comparison.by_prior``), not priors, and different groups' log predictive densities are of
different data — interval events among those still at risk (the models that pool horizons, on
aggregate counts), cumulative counts in which each participant appears at every horizon (the
per-horizon models), individual outcomes.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import xarray as xr

from bayes_ips import diagnostics
from bayes_ips.context import Fitted, RunContext
from bayes_ips.data.intervals import interval_labels, person_periods, risk_sets
from bayes_ips.data.ipd import has_participants
from bayes_ips.errors import InputError
from bayes_ips.estimands import SAMPLE_DIMS, prob_mcse

CUMULATIVE_MODELS = ("hierarchical_beta_binomial", "hierarchical_logistic", "discrete_time_hazard")
"""Models that pool horizons on a likelihood counting each participant once, and whose cumulative
rates never fall across horizons in any draw."""
HAZARD_MODEL = "discrete_time_hazard"
"""The model with interval hazards and hazard ratios as parameters (``hazard``, ``beta``)."""
LOO_NOTE = (
    "Each fit's own leave-one-out score, not ranked: ELPD compares models under the same prior "
    "and never chooses a prior, and fits whose likelihoods are written on different "
    "observations (interval events among those still at risk for the models that pool "
    "horizons, cumulative counts for the per-horizon models, individual outcomes for the "
    "individual-data models) are not on one scale. The model families fitted under one prior "
    "are compared in summary.json comparison.by_prior."
)


def _quantiles(x: np.ndarray, mass: float) -> dict:
    """Median and interval of draws that may be +inf (shown as None: beyond follow-up)."""
    q = np.quantile(x, [0.5, (1 - mass) / 2, (1 + mass) / 2], method="inverted_cdf")
    return {
        k: (float(v) if np.isfinite(v) else None)
        for k, v in zip(("median", "lo", "hi"), q, strict=True)
    }


def half_time(p: xr.DataArray) -> xr.DataArray:
    """Months until half the arm is employed, per draw and arm (inf: not within follow-up).

    Parameters
    ----------
    p : xarray.DataArray
        Cumulative employment ``(chain, draw, arm, horizon)``, non-decreasing over horizons.
    """
    horizons = p["horizon"].to_numpy().astype(float)
    starts = np.concatenate([[0.0], horizons[:-1]])
    surv = 1.0 - p.transpose(..., "horizon").to_numpy()
    before = np.concatenate([np.ones_like(surv[..., :1]), surv[..., :-1]], axis=-1)
    crossing = (before > 0.5) & (surv <= 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.log(0.5 / before) / np.log(surv / before)
    t = np.where(crossing, starts + (horizons - starts) * frac, np.inf).min(axis=-1)
    dims = [d for d in p.dims if d != "horizon"]
    return xr.DataArray(t, dims=dims, coords={d: p[d] for d in dims})


def joint(p: xr.DataArray, treatment: str, control: str, sign: int = 1) -> dict:
    """P(benefit at every horizon), P(the benefit grows) per consecutive pair, share monotone;
    benefit is sign · RD (``sign`` = −1 when a lower rate is better)."""
    rd = sign * (p.sel(arm=treatment, drop=True) - p.sel(arm=control, drop=True))
    horizons = p["horizon"].to_numpy().tolist()
    p_all, mcse_all = prob_mcse((rd > 0).all("horizon"))
    steps = []
    for a, b in pairwise(horizons):
        prob, mcse = prob_mcse(rd.sel(horizon=b) > rd.sel(horizon=a))
        steps.append({"from": a, "to": b, "p": prob, "mcse": mcse})
    monotone = (p.diff("horizon") >= 0).all(("horizon", "arm"))
    return {
        "p_benefit_all": p_all,
        "p_benefit_all_mcse": mcse_all,
        "rd_increase": steps,
        "p_monotone": float(monotone.astype(float).mean()),
    }


def _summaries(x: xr.DataArray, mass: float) -> dict:
    lo, med, hi = (
        float(v) for v in np.quantile(x.to_numpy().ravel(), [(1 - mass) / 2, 0.5, (1 + mass) / 2])
    )
    return {"median": med, "lo": lo, "hi": hi}


def _interval_ppc(fit, counts: xr.Dataset, mass: float) -> list[dict]:
    obs = fit.tree["observed_data"]["y"]
    rep = fit.tree["posterior_predictive"]["y"]
    arms = counts["arm"].to_numpy().tolist()
    labels = interval_labels(counts["horizon"].to_numpy().tolist())
    if "person_period" in obs.dims:
        pp = person_periods(counts)
        arm_index = np.where(pp["treated"] == 1, 0, 1)
        cell = xr.DataArray(arm_index * len(labels) + pp["interval"], dims="person_period")
        n_cells = 2 * len(labels)
        observed = np.bincount(cell.to_numpy(), obs.to_numpy(), n_cells).reshape(2, -1)
        replicated = xr.apply_ufunc(
            lambda r: np.stack([r[..., cell.to_numpy() == c].sum(-1) for c in range(n_cells)], -1),
            rep,
            input_core_dims=[["person_period"]],
            output_core_dims=[["cell"]],
        ).to_numpy()
        replicated = replicated.reshape(*replicated.shape[:-1], 2, len(labels))
    else:
        observed = obs.transpose("arm", "interval").to_numpy()
        replicated = rep.transpose(*SAMPLE_DIMS, "arm", "interval").to_numpy()
    lo, hi = (1 - mass) / 2, (1 + mass) / 2
    cells = []
    for i, arm in enumerate(arms):
        for k, label in enumerate(labels):
            r = replicated[..., i, k].ravel()
            o = int(observed[i, k])
            cells.append(
                {
                    "arm": arm,
                    "interval": label,
                    "observed": o,
                    "rep_mean": float(r.mean()),
                    "rep_lo": float(np.quantile(r, lo)),
                    "rep_hi": float(np.quantile(r, hi)),
                    "ppp": float((r > o).mean() + 0.5 * (r == o).mean()),
                }
            )
    return cells


def _half_times(fit, treatment: str, control: str, mass: float) -> dict:
    t_half = half_time(fit.p)
    half = {}
    for arm in (treatment, control):
        draws = t_half.sel(arm=arm).to_numpy().ravel()
        half[arm] = {"p_reached": float(np.isfinite(draws).mean()), **_quantiles(draws, mass)}
    earlier, earlier_mcse = prob_mcse(t_half.sel(arm=treatment) < t_half.sel(arm=control))
    return {
        "half_time": half,
        "p_treatment_half_earlier": earlier,
        "p_treatment_half_earlier_mcse": earlier_mcse,
    }


def _hazard_extras(fit, counts, treatment: str, control: str, mass: float) -> dict:
    post = fit.tree["posterior"]
    return {
        "hazard": {
            arm: {
                lab: _summaries(post["hazard"].sel(arm=arm, interval=lab), mass)
                for lab in post["interval"].to_numpy().tolist()
            }
            for arm in (treatment, control)
        },
        "hazard_ratio": {
            lab: _summaries(np.exp(post["beta"].sel(interval=lab)), mass)
            for lab in post["interval"].to_numpy().tolist()
        },
        "interval_ppc": _interval_ppc(fit, counts, mass),
    }


def loo_groups(fits) -> list[dict]:
    """Each fit's own leave-one-out score (:func:`bayes_ips.diagnostics.loo_row`), grouped by
    the observations its likelihood is written on; nothing is compared here (see
    :func:`bayes_ips.analyses.checks.compute.comparison_summary`)."""
    groups: dict[tuple, list] = {}
    for fit in fits:
        if "log_likelihood" in fit.tree.children:
            groups.setdefault(diagnostics.observation_key(fit.tree), []).append(fit)
    return [
        {
            "observations": diagnostics.observations_text(members[0].tree),
            "dims": list(key[0]),
            "compared": False,
            "rows": [
                {"model": f.model, "prior": f.prior.name, **diagnostics.loo_row(f.tree)}
                for f in members
            ],
        }
        for key, members in groups.items()
    ]


def summarise_horizons(ctx: RunContext, fitted: Fitted) -> dict | None:
    """The ``horizons`` entry of summary.json.

    Returns None when the data have a single horizon.
    """
    counts = ctx.counts
    horizons = counts["horizon"].to_numpy().tolist()
    if len(horizons) < 2:
        return None
    comparison = ctx.spec.comparison
    mass = ctx.spec.estimands.interval
    t, c = comparison.treatment, comparison.control
    fits = []
    for fit in fitted.fits:
        row = {
            "model": fit.model,
            "prior": fit.prior.name,
            "cumulative": fit.model in CUMULATIVE_MODELS,
            **joint(fit.p, t, c, comparison.sign),
        }
        if row["cumulative"]:
            row.update(_half_times(fit, t, c, mass))
        if fit.model == HAZARD_MODEL:
            row.update(_hazard_extras(fit, counts, t, c, mass))
        fits.append(row)
    try:
        rs = risk_sets(counts)
        sets = {
            "method": rs.attrs["method"],
            "rows": [
                {
                    "arm": arm,
                    "interval": lab,
                    "at_risk": int(rs["at_risk"].sel(arm=arm, interval=lab)),
                    "events": int(rs["events"].sel(arm=arm, interval=lab)),
                }
                for arm in rs["arm"].to_numpy().tolist()
                for lab in rs["interval"].to_numpy().tolist()
            ],
        }
    except InputError as exc:
        sets = {"method": None, "rows": [], "not_derivable": exc.rule}
    groups = loo_groups(fitted.fits)
    return {
        "horizons_months": horizons,
        "intervals": interval_labels(horizons),
        "primary_horizon": ctx.primary_horizon,
        "verified_data": bool(counts["verified"].all()),
        "unverified_horizons": [
            h for h in horizons if not bool(counts["verified"].sel(horizon=h).all())
        ],
        "individual_data": has_participants(counts),
        "risk_sets": sets,
        "half_time_assumption": "constant hazard within each interval (the share without the "
        "outcome yet falls log-linearly between horizons)",
        "fits": fits,
        "loo": {
            "method": "leave-one-out ELPD per fit (exact where a closed form exists, else "
            "PSIS-LOO by ArviZ)",
            "groups": groups,
            "comparable_across_groups": len(groups) <= 1,
            "note": LOO_NOTE,
        },
    }
