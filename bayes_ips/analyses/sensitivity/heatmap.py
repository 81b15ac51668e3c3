"""P(benefit) over a grid of normal priors on the log OR: "how sceptical (or enthusiastic) must a
reader be for the conclusion to change?".

Method (stated in the report): the exact binomial likelihood of both arms at one horizon, with the
arms' midpoint log-odds integrated out under its Normal(0, 1.5²) prior (the logistic model's), is
evaluated once on one log OR grid built for every prior of the map (:func:`map_grid`). For every
prior Normal(m, s²) the posterior of the log OR is prior × likelihood normalised on that grid, and
``P(benefit) = P(log OR > 0)`` its upper tail (Simpson's rule). This is the exact posterior of the
single-horizon logistic model (:mod:`bayes_ips.exact_logistic`), up to quadrature error (below
1e-5, checked in the tests against the model's own adaptive grid and an independent 2-D
quadrature, and against NUTS fits), and a 61 × 59 map takes well under a second.

The grid, of Simpson panels (``M`` = the largest prior mean searched, ``s_min``/``s_max`` the
map's SD range): panels of width ``s_min / 4`` over ``±(M + 12 s_min)``, where the narrowest
priors' posteriors lie; beyond it, out to ``±(M + 12 s_max)``, panels that widen with the
distance (``(|θ| − M) / 48``), as only wider priors reach there; and a patch around the likelihood
(its continuity-corrected estimate ± 12 SE, panels of SE / 4, reaching further towards the prior
means by the largest shift a prior of the map can cause when the likelihood is narrower than
``s_min``).
A map whose posteriors are not all below ``e^-40`` of their peak at both ends of the grid is
refused with an input error rather than drawn.

Contours: for each prior SD the prior mean at which ``P(benefit)`` crosses a level is found by
bisection on the same computation (``P`` increases with the prior mean; all SDs and levels at
once, 40 halvings of :data:`MEAN_SEARCH`), not by interpolating the map.

When a lower rate of the outcome is better, P(benefit) = P(log OR < 0), which falls as the prior
mean rises. The map is then the same computation on the counts without the outcome, n − y: their
log OR is −θ, so P(θ < 0 | y, Normal(m, s²)) = P(−θ > 0 | n − y, Normal(−m, s²)) (the arms'
midpoint prior Normal(0, 1.5²) is symmetric), read back at −m (:func:`benefit_map`).
"""

from __future__ import annotations

import numpy as np

from bayes_ips import logodds
from bayes_ips.errors import InputError

MEANS = np.round(np.linspace(-1.25, 1.25, 61), 10)
"""Prior means of the map, symmetric about 0 (a lower-is-better map reads them backwards)."""
SDS = np.round(np.linspace(0.05, 1.5, 59), 10)
LEVELS = (0.9, 0.975)
MEAN_SEARCH = (-4.0, 4.0)
BISECTIONS = 40
REFERENCE_SDS = (0.2, 0.354, 0.5, 1.0)
RESOLUTION = 4
"""Simpson panels per prior SD (or likelihood SE) where that prior's (or the likelihood's)
posterior lies, out to :data:`bayes_ips.logodds.PATCH_SDS` SDs (errors below 1e-6 in the tests)."""
METHOD = (
    "Exact quadrature: the binomial likelihood of both arms at the primary horizon, with the "
    "arms' midpoint log-odds integrated out under its Normal(0, 1.5²) prior (Laplace-centred "
    "Gauss–Hermite rule), times each Normal(mean, SD²) prior on the log OR, normalised on a "
    "grid fitted to the likelihood and to the map's range of priors. This is the exact "
    "posterior of the single-horizon logistic model (no normal approximation, no sampling)."
)
HIGHER_METHOD = " P(benefit) = P(log OR > 0)."


def map_grid(y_t: float, n_t: float, y_c: float, n_c: float) -> np.ndarray:
    """The log OR grid of the map (module docstring) as Simpson panels, 0 a panel end."""
    reach, k = max(abs(m) for m in MEAN_SEARCH), logodds.PATCH_SDS
    s_min, s_max = float(SDS.min()), float(max(SDS.max(), *REFERENCE_SDS))
    h = s_min / RESOLUTION
    inner = reach + k * s_min
    outer = [inner]
    while outer[-1] < reach + k * s_max:
        outer.append(outer[-1] + max(h, (outer[-1] - reach) / (k * RESOLUTION)))
    half = np.concatenate([np.arange(1, int(np.ceil(inner / h))) * h, outer])
    centre, se = logodds.likelihood_location(y_t, n_t, y_c, n_c)
    shift = (reach + abs(centre)) * se / s_min**2 if se < s_min else 0.0
    patch = np.arange(-(k + shift) * RESOLUTION, (k + shift) * RESOLUTION + 1) / RESOLUTION
    return logodds.with_midpoints(
        np.unique(np.concatenate([-half, [0.0], half, centre + se * patch]))
    )


def _check_range(loglik: np.ndarray, grid: np.ndarray) -> None:
    """Refuse a map whose extreme priors' posteriors are not negligible at the grid's ends."""
    means = np.array(MEAN_SEARCH)[:, None]
    sds = np.array([SDS.min(), SDS.max(), *REFERENCE_SDS])[None, :]
    lp = loglik[:, None, None] - 0.5 * ((grid[:, None, None] - means) / sds) ** 2
    ends = np.maximum(lp[0], lp[-1]) - lp.max(axis=0)
    if np.any(ends > -logodds.SPAN):
        raise InputError(
            "heat map",
            "the prior heat map's grid cannot hold these counts' posteriors (the likelihood "
            "lies too far out); the exact_logistic model still gives the exact posterior",
        )


def flat_prior_p_benefit(y_t: float, n_t: float, y_c: float, n_c: float) -> float | None:
    """P(benefit) under a flat prior on the log OR, or None where that posterior is improper
    (the likelihood does not fall away: complete separation)."""
    try:
        grid, lp = logodds.adaptive_grid(
            lambda t: logodds.log_likelihood(y_t, n_t, y_c, n_c, t),
            [logodds.likelihood_location(y_t, n_t, y_c, n_c)],
        )
    except InputError:
        return None
    return logodds.upper_tail(logodds.normalised(lp, grid), grid)


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


LOWER_METHOD = (
    " A lower rate of the outcome is better here, so P(benefit) = P(log OR < 0), computed as "
    "the same quadrature on the counts without the outcome (their log OR is minus the "
    "outcome's) under Normal(−mean, SD²), read back at the prior mean on the outcome's log OR."
)


def _read_back(mirror: dict) -> dict:
    """A map of the counts without the outcome as the map of the outcome (module docstring):
    prior means negated, so the columns reversed (:data:`MEANS` is symmetric) and the crossings
    negated."""

    def negate(means):
        return [None if m is None else -m for m in means]

    return {
        **mirror,
        "p_benefit": [row[::-1] for row in mirror["p_benefit"]],
        "contours": {
            level: {**c, "prior_mean": negate(c["prior_mean"])}
            for level, c in mirror["contours"].items()
        },
        "reference": [
            {k: (-v if k in mirror["contours"] and v is not None else v) for k, v in r.items()}
            for r in mirror["reference"]
        ],
        "method": METHOD + LOWER_METHOD,
    }


def benefit_map(y_t: int, n_t: int, y_c: int, n_c: int, sign: int = 1) -> dict:
    """The map, its contours and reference crossings, JSON-ready; ``sign`` is the outcome's
    direction (:attr:`bayes_ips.data.Comparison.sign`: −1 when a lower rate is better, then
    every P(benefit) is P(log OR < 0) and the crossings are prior means on the outcome's log OR).

    Returns
    -------
    dict
        ``prior_mean`` and ``prior_sd`` (the axes), ``p_benefit`` (rows = SDs, columns = means),
        ``contours`` (per level: ``prior_sd`` and the crossing ``prior_mean``, None where it does
        not cross), ``reference`` (crossings at :data:`REFERENCE_SDS`), ``flat_p_benefit``
        (P(benefit) under a flat prior on the log OR, None where that posterior is improper)
        and ``method``.
    """
    if sign < 0:
        return _read_back(benefit_map(n_t - y_t, n_t, n_c - y_c, n_c))
    grid = map_grid(y_t, n_t, y_c, n_c)
    loglik = logodds.log_likelihood(y_t, n_t, y_c, n_c, grid)
    _check_range(loglik, grid)
    p = logodds.prob_benefit_normal(MEANS[None, :], SDS[:, None], loglik, grid)
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
        "flat_p_benefit": flat_prior_p_benefit(y_t, n_t, y_c, n_c),
        "method": METHOD + HIGHER_METHOD,
    }
