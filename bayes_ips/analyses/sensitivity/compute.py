"""Prior sensitivity: summary.json's ``sensitivity`` key, from the parts in this folder."""

from __future__ import annotations

from bayes_ips.analyses.sensitivity.exact import (
    benefit_side,
    effect_posteriors,
    likelihood_curve,
)
from bayes_ips.analyses.sensitivity.heatmap import benefit_map
from bayes_ips.analyses.sensitivity.power_scaling import power_scaling
from bayes_ips.analyses.sensitivity.predictive import prior_predictive
from bayes_ips.context import Fitted, RunContext
from bayes_ips.priors.ess import DEFINITIONS, prior_ess, trial_ess


def summarise(ctx: RunContext, fitted: Fitted) -> dict:
    """The ``sensitivity`` section of summary.json for a finished analysis.

    Returns
    -------
    dict
        ``anchor`` (control rate used by conversions and ESS, and where it came from),
        ``evidence`` (the external evidence table's path and SHA-256),
        ``priors`` (every fitted prior with recipe, description and ESS), ``ess_definitions``
        (what each ESS key measures, in words), ``trial`` (its size
        and equivalent patients per arm), ``heatmap`` (primary horizon), ``likelihood`` (the
        primary horizon's likelihood curve), ``exact`` (exact single-horizon posteriors per
        effect prior and horizon), ``prior_predictive`` (per fit and horizon) and ``psense``
        (power-scaling sensitivity per MCMC fit and horizon, with a sentence).
    """
    counts, primary, context = ctx.counts, ctx.primary_horizon, ctx.priors
    comparison = ctx.spec.comparison
    priors = list({f.prior.name: f.prior for f in fitted.fits}.values())
    at = counts.sel(horizon=primary)
    y = at["employed"].to_numpy().tolist()
    n = at["n_analysed"].to_numpy().tolist()
    verified = bool(at["verified"].all())
    return {
        "anchor": {
            "control_rate": context.control_rate,
            "source": context.control_rate_source,
        },
        "evidence": {
            "path": context.settings.evidence_path,
            "sha256": context.settings.evidence_sha256,
        },
        "priors": [
            {
                **p.as_dict(),
                "description": p.describe(),
                "ess": prior_ess(p, context.control_rate),
                "prior_p_benefit": None
                if p.effect is None
                else benefit_side(p.effect.prob_benefit(), comparison),
            }
            for p in priors
        ],
        "ess_definitions": DEFINITIONS,
        "trial": {
            "horizon_months": primary,
            "n_treatment": n[0],
            "n_control": n[1],
            "ess_per_arm": trial_ess(n[0], n[1]),
        },
        "heatmap": {
            "horizon_months": primary,
            "verified_data": verified,
            "employed": y,
            "n_analysed": n,
            **_with_baseline_note(benefit_map(y[0], n[0], y[1], n[1], comparison.sign), priors),
        },
        "likelihood": likelihood_curve(counts, comparison, primary),
        "exact": effect_posteriors(counts, priors, comparison, ctx.spec.estimands.interval),
        "prior_predictive": prior_predictive(fitted.fits, counts, comparison),
        "psense": power_scaling(
            fitted.fits,
            counts,
            {
                (r.model, r.prior, r.horizon_months): bool(r.verified_data)
                for r in fitted.table.itertuples()
            },
        ),
    }


def _with_baseline_note(heatmap: dict, priors: list) -> dict:
    """The map keeps the default Normal(0, 1.5²) midpoint prior whatever the spec states (it is
    a sensitivity analysis of the effect prior alone); its method says so when the spec states a
    control-risk or midpoint prior, which the fits use."""
    stated = next((p for p in priors if p.control is not None or p.midpoint is not None), None)
    if stated is None:
        return heatmap
    what = stated.control.describe() if stated.control is not None else stated.midpoint.describe()
    note = (
        f" The spec states a baseline prior ({what}) that the fits use; this map keeps the "
        "default, so its values can differ a little from theirs."
    )
    return heatmap | {"method": heatmap["method"] + note}
