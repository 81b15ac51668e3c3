"""Exact posteriors of the log OR under every effect prior, one horizon at a time.

The same quadrature as the heat map (:mod:`~.heatmap`), applied to each named
effect prior (normal or mixture): the exact posterior of the single-horizon logistic model. It
shows each prior's pull at every horizon without any sampling, and feeds the
prior / likelihood / posterior figure.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from bayes_ips import logodds
from bayes_ips.priors import Prior

CURVE_LIMIT = 3.0
CURVE_STEP = 0.01


def _quantile(density: np.ndarray, grid: np.ndarray, q: float) -> float:
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
    return float(np.interp(q, cdf / cdf[-1], grid))


def horizon_likelihood(counts: xr.Dataset, horizon) -> np.ndarray:
    """Log likelihood of the log OR on :func:`bayes_ips.logodds.theta_grid` at one horizon."""
    c = counts.sel(horizon=horizon)
    y, n = c["employed"].to_numpy(), c["n_analysed"].to_numpy()
    return logodds.log_likelihood(y[0], n[0], y[1], n[1], logodds.theta_grid())


def effect_posteriors(counts: xr.Dataset, priors: list[Prior], interval: float = 0.95) -> list:
    """One row per effect prior × horizon: exact P(benefit) and the OR's median and interval."""
    grid = logodds.theta_grid()
    verified = counts["verified"].all("arm")
    rows = []
    for h in counts["horizon"].to_numpy().tolist():
        loglik = horizon_likelihood(counts, h)
        for prior in priors:
            if prior.effect is None:
                continue
            dens = logodds.posterior_density(prior.effect.logpdf(grid), loglik, grid)
            lo, hi = (1 - interval) / 2, (1 + interval) / 2
            rows.append(
                {
                    "prior": prior.name,
                    "horizon_months": h,
                    "p_benefit": float(np.clip(logodds.upper_tail(dens, grid), 0, 1)),
                    "prior_p_benefit": prior.effect.prob_benefit(),
                    "or": {
                        "median": math.exp(_quantile(dens, grid, 0.5)),
                        "lo": math.exp(_quantile(dens, grid, lo)),
                        "hi": math.exp(_quantile(dens, grid, hi)),
                    },
                    "verified_data": bool(verified.sel(horizon=h)),
                }
            )
    return rows


def likelihood_curve(counts: xr.Dataset, horizon) -> dict:
    """The normalised likelihood of the log OR at one horizon on a coarse grid, for figures."""
    grid = logodds.theta_grid()
    loglik = horizon_likelihood(counts, horizon)
    keep = np.abs(grid) <= CURVE_LIMIT + 1e-9
    step = max(round(CURVE_STEP / (grid[1] - grid[0])), 1)
    theta, ll = grid[keep][::step], loglik[keep][::step]
    return {
        "horizon_months": horizon,
        "theta": np.round(theta, 6).tolist(),
        "log_likelihood": (ll - ll.max()).tolist(),
    }
