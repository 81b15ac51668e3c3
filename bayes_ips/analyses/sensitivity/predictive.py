"""Prior predictive checks: the employment rates and risk difference each fitted prior implies
before seeing the trial.

For the exact engine the rates are drawn from the prior Betas; for a PyMC fit they are the
``prior`` group's ``p`` draws (from :func:`bayes_ips.inference.sample`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayes_ips import conjugate
from bayes_ips.priors import BetaRate

DRAWS = 4000


def _interval(x: np.ndarray) -> dict[str, float]:
    lo, med, hi = np.quantile(x, [0.025, 0.5, 0.975])
    return {"median": float(med), "lo": float(lo), "hi": float(hi)}


def prior_rates(fit, counts: xr.Dataset) -> xr.DataArray | None:
    """Prior draws of ``p`` with dims ``(sample, arm, horizon)``, or None when unavailable."""
    tree = fit.tree
    if "prior" in tree.children and "p" in tree["prior"]:
        p = tree["prior"]["p"]
        return p.stack(sample=("chain", "draw")).transpose("sample", "arm", "horizon")
    if fit.model != conjugate.MODEL or not isinstance(fit.prior.rate, BetaRate):
        return None
    params = conjugate.prior_parameters(counts, fit.prior.rate)
    rng = np.random.default_rng(fit.seed)
    a, b = params["a"].to_numpy(), params["b"].to_numpy()
    values = rng.beta(a[None, :, None], b[None, :, None], size=(DRAWS, 2, counts.sizes["horizon"]))
    return xr.DataArray(
        values,
        dims=("sample", "arm", "horizon"),
        coords={"arm": counts["arm"].to_numpy(), "horizon": counts["horizon"].to_numpy()},
    )


def prior_predictive(fits, counts: xr.Dataset) -> list[dict]:
    """One row per fit × horizon: implied rates, RD and prior P(RD > 0)."""
    rows = []
    treatment, control = counts["arm"].to_numpy().tolist()
    for fit in fits:
        p = prior_rates(fit, counts)
        if p is None:
            continue
        for h in p["horizon"].to_numpy().tolist():
            pt = p.sel(arm=treatment, horizon=h).to_numpy()
            pc = p.sel(arm=control, horizon=h).to_numpy()
            rd = pt - pc
            rows.append(
                {
                    "model": fit.model,
                    "prior": fit.prior.name,
                    "horizon_months": h,
                    "p_treatment": _interval(pt),
                    "p_control": _interval(pc),
                    "rd": _interval(rd),
                    "p_rd_gt_0": float(np.mean(rd > 0)),
                    "draws": int(rd.size),
                }
            )
    return rows
