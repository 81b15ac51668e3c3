"""Exact posteriors of the log OR under every effect prior, one horizon at a time.

The posterior of the exact single-horizon logistic model (:mod:`bayes_ips.exact_logistic`, which
computes it), applied to each named effect prior (normal or mixture) whatever models the spec
fits: it shows each prior's pull at every horizon without any sampling, and feeds the
prior / likelihood / posterior figure. P(benefit) follows the outcome's direction
(:func:`benefit_side`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayes_ips import exact_logistic, logodds
from bayes_ips.data import Comparison
from bayes_ips.priors import Prior

CURVE_LIMIT = 3.0
CURVE_POINTS = 601


def benefit_side(p_higher: float, comparison: Comparison) -> float:
    """P(benefit) from the probability that the treatment's rate is the higher (P(log OR > 0),
    P(p_T > p_C)) of a continuous distribution: itself when a higher rate is better, its
    complement when a lower one is."""
    return p_higher if comparison.sign > 0 else 1.0 - p_higher


def effect_posteriors(
    counts: xr.Dataset, priors: list[Prior], comparison: Comparison, interval: float = 0.95
) -> list:
    """One row per effect prior on the log OR × horizon: exact P(benefit) (posterior and prior,
    on the benefit side of ``comparison``) and the OR's median and interval (priors on the log
    RR are the exact log-binomial model's, a fit of its own)."""
    verified = counts["verified"].all("arm")
    rows = []
    for h in counts["horizon"].to_numpy().tolist():
        at = exact_logistic.horizon_counts(counts, comparison, h)
        for prior in priors:
            if prior.effect is None or prior.effect.scale != "log_or":
                continue
            post = exact_logistic.posterior(at, prior.effect, **exact_logistic.baseline(prior))
            rows.append(
                {
                    "prior": prior.name,
                    "horizon_months": h,
                    "p_benefit": benefit_side(post.prob_benefit(), comparison),
                    "prior_p_benefit": benefit_side(prior.effect.prob_benefit(), comparison),
                    "or": post.odds_ratio(interval),
                    "verified_data": bool(verified.sel(horizon=h)),
                }
            )
    return rows


def likelihood_curve(counts: xr.Dataset, comparison: Comparison, horizon) -> dict:
    """The likelihood of the log OR at one horizon (log scale, 0 at its largest value on the
    curve) over ``± CURVE_LIMIT``, for figures."""
    theta = np.linspace(-CURVE_LIMIT, CURVE_LIMIT, CURVE_POINTS)
    loglik = logodds.log_likelihood(
        *exact_logistic.horizon_counts(counts, comparison, horizon), theta
    )
    return {
        "horizon_months": horizon,
        "theta": np.round(theta, 6).tolist(),
        "log_likelihood": (loglik - loglik.max()).tolist(),
    }
