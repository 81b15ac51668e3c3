"""P(benefit) over a grid of normal priors on the log OR: "how sceptical (or enthusiastic) must a
reader be for the conclusion to change?".

Method (stated in the report): the exact binomial likelihood of both arms at one horizon, with the
control log-odds integrated out under its Normal(0, 1.5²) prior (the logistic model's), is
evaluated once on a 4001-point log OR grid (:func:`bayes_ips.logodds.log_likelihood`). For every
prior Normal(m, s²) the posterior of the log OR is prior × likelihood normalised on that grid, and
``P(benefit) = P(log OR > 0)`` its upper tail (trapezoid rule). This is the exact posterior of the
single-horizon logistic model, up to quadrature error (below 1e-4, checked in the tests against a
finer grid and against NUTS fits), and a 61 × 59 map takes well under a second.

Contours: for each prior SD the prior mean at which ``P(benefit)`` crosses a level is found by
bisection on the same computation (``P`` increases with the prior mean; all SDs and levels at
once, 40 halvings of :data:`MEAN_SEARCH`), not by interpolating the map.
"""

from __future__ import annotations

import numpy as np

from bayes_ips import logodds

MEANS = np.round(np.linspace(-1.25, 1.25, 61), 10)
SDS = np.round(np.linspace(0.05, 1.5, 59), 10)
LEVELS = (0.9, 0.975)
MEAN_SEARCH = (-4.0, 4.0)
BISECTIONS = 40
REFERENCE_SDS = (0.2, 0.354, 0.5, 1.0)
METHOD = (
    "Exact quadrature: the binomial likelihood of both arms at the primary horizon, with the "
    "control log-odds integrated out under its Normal(0, 1.5²) prior (Laplace-centred "
    "Gauss–Hermite rule), times each Normal(mean, SD²) prior on the log OR, normalised on a "
    "4001-point grid; P(benefit) = P(log OR > 0). This is the exact posterior of the "
    "single-horizon logistic model (no normal approximation, no sampling)."
)


def crossing_means(
    level: float, sds: np.ndarray, loglik: np.ndarray, grid: np.ndarray
) -> list[float | None]:
    """For each prior SD, the prior mean at which P(benefit) equals ``level`` (None: no
    crossing inside :data:`MEAN_SEARCH`)."""
    sds = np.asarray(sds, dtype=float)
    lo = np.full(sds.shape, MEAN_SEARCH[0])
    hi = np.full(sds.shape, MEAN_SEARCH[1])
    inside = (logodds.prob_benefit_normal(lo, sds, loglik, grid) < level) & (
        logodds.prob_benefit_normal(hi, sds, loglik, grid) > level
    )
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2
        above = logodds.prob_benefit_normal(mid, sds, loglik, grid) > level
        hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
    return [float((a + b) / 2) if ok else None for a, b, ok in zip(lo, hi, inside, strict=True)]


def benefit_map(y_t: int, n_t: int, y_c: int, n_c: int) -> dict:
    """The map, its contours and reference crossings, JSON-ready.

    Returns
    -------
    dict
        ``prior_mean`` and ``prior_sd`` (the axes), ``p_benefit`` (rows = SDs, columns = means),
        ``contours`` (per level: ``prior_sd`` and the crossing ``prior_mean``, None where it does
        not cross), ``reference`` (crossings at :data:`REFERENCE_SDS`), ``flat_p_benefit``
        (P(benefit) under a flat prior on the log OR) and ``method``.
    """
    grid = logodds.theta_grid()
    loglik = logodds.log_likelihood(y_t, n_t, y_c, n_c, grid)
    p = logodds.prob_benefit_normal(MEANS[None, :], SDS[:, None], loglik, grid)
    flat = logodds.upper_tail(logodds.posterior_density(np.zeros_like(grid), loglik, grid), grid)
    contours = {
        f"{level:g}": {
            "prior_sd": SDS.tolist(),
            "prior_mean": crossing_means(level, SDS, loglik, grid),
        }
        for level in LEVELS
    }
    ref_sds = np.array(REFERENCE_SDS)
    at_levels = {f"{level:g}": crossing_means(level, ref_sds, loglik, grid) for level in LEVELS}
    at_zero = logodds.prob_benefit_normal(0.0, ref_sds, loglik, grid)
    reference = [
        {
            "prior_sd": s,
            **{key: values[k] for key, values in at_levels.items()},
            "p_benefit_at_mean_0": float(at_zero[k]),
        }
        for k, s in enumerate(REFERENCE_SDS)
    ]
    return {
        "prior_mean": MEANS.tolist(),
        "prior_sd": SDS.tolist(),
        "p_benefit": np.clip(p, 0.0, 1.0).tolist(),
        "levels": list(LEVELS),
        "contours": contours,
        "reference": reference,
        "flat_p_benefit": float(flat),
        "method": METHOD,
    }
