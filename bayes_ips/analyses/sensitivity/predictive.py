"""Prior predictive checks: the employment rates and risk difference each fitted prior implies
before seeing the trial.

For the exact engine the rates are drawn from the prior Betas; for a PyMC fit they are the
``prior`` group's ``p`` draws (from :func:`bayes_ips.inference.sample`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayes_ips import conjugate, exact_log_binomial
from bayes_ips.analyses.sensitivity.exact import benefit_side
from bayes_ips.data import Comparison
from bayes_ips.models import CARRIES, EFFECT_SCALE, EXACT_MODELS, effect_for
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


def stated_p_benefit(fit, comparison: Comparison) -> float | None:
    """P(benefit) as the named prior states it: P(OR > 1) of an effect prior, P(p_t > p_c) of a
    rate prior's two Betas (exact), on the benefit side of ``comparison`` (P(OR < 1),
    P(p_t < p_c) when a lower rate is better); None for a model's own default (the hazard
    model).

    A log-binomial model's effect prior is conditioned on ``RR · p_c ≤ 1`` (its risks stay
    below 1), so its stated P(RR > 1) is that of the conditioned prior
    (:func:`bayes_ips.exact_log_binomial.prior_prob_benefit`), which holds at the first horizon;
    later horizons of the multi-horizon model add the no-fall bound and have no stated value.
    """
    carries = CARRIES.get(fit.model)
    if carries == "effect" and EFFECT_SCALE.get(fit.model) == "log_rr":
        effect = effect_for(fit.model, fit.prior)
        higher = exact_log_binomial.prior_prob_benefit(effect, fit.prior.control_risk)
    elif carries == "effect" and fit.prior.effect is not None:
        higher = fit.prior.effect.prob_benefit()
    elif carries == "rate" and isinstance(fit.prior.rate, BetaRate):
        (ta, tb), (ca, cb) = fit.prior.rate.treatment, fit.prior.rate.control
        higher = conjugate.prob_greater(ta, tb, ca, cb)
    else:
        return None
    return benefit_side(higher, comparison)


def holds(observed: float, stated: float | None, draws: int) -> bool | None:
    """Whether a prior-predictive P(benefit) agrees with the stated one: within 4 Monte Carlo
    SEs of a proportion of ``draws`` independent draws (a false alarm about once in 16,000)."""
    if stated is None:
        return None
    return abs(observed - stated) <= 4 * np.sqrt(max(stated * (1 - stated), 1e-12) / draws)


def prior_predictive(fits, counts: xr.Dataset, comparison: Comparison) -> list[dict]:
    """One row per fit × horizon: implied rates, RD, prior P(benefit) (``p_rd_gt_0``: the share
    of draws with sign · RD > 0, the benefit side of ``comparison``) and whether it holds the
    named prior's stated P(benefit) (:func:`holds`)."""
    rows = []
    treatment, control = counts["arm"].to_numpy().tolist()
    for fit in fits:
        p = prior_rates(fit, counts)
        if p is None:
            continue
        stated = stated_p_benefit(fit, comparison)
        horizons = p["horizon"].to_numpy().tolist()
        for h in horizons:
            if (
                EFFECT_SCALE.get(fit.model) == "log_rr"
                and fit.model not in EXACT_MODELS
                and h != horizons[0]
            ):
                stated = None  # the no-fall bound changes the prior (stated_p_benefit)
            pt = p.sel(arm=treatment, horizon=h).to_numpy()
            pc = p.sel(arm=control, horizon=h).to_numpy()
            rd = pt - pc
            p_benefit = float(np.mean(comparison.sign * rd > 0))
            rows.append(
                {
                    "model": fit.model,
                    "prior": fit.prior.name,
                    "horizon_months": h,
                    "p_treatment": _interval(pt),
                    "p_control": _interval(pc),
                    "rd": _interval(rd),
                    "p_rd_gt_0": p_benefit,
                    "stated_p_benefit": stated,
                    "holds": holds(p_benefit, stated, rd.size),
                    "draws": int(rd.size),
                }
            )
    return rows
