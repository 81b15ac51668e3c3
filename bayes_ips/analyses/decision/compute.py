"""The post-fit decision analysis: every fit's posterior → the ``decision`` key of summary.json.

Decision rules are evaluated for every fit (model × prior) at every horizon. Net benefit, the
value of information and the next trial use the primary horizon. The next trial's analysis plan
(the sceptical analysis prior and the control rate of the operating characteristics) is one for
all fits, derived from the headline (first) fit unless the spec sets it.

Benefit follows the outcome's direction (``ctx.spec.comparison.sign``): every decision quantity
is computed on the rates of the favourable result
(:func:`~bayes_ips.analyses.decision.posterior.favourable`), so when a lower rate is better the
rules, net benefit, the value of information and the next trial judge the treatment by the
participants it spares the outcome. summary.json keeps its field names: ``p_rd_gt_0`` and
``p_rd_gt_mcid`` are P(sign · RD > 0) and P(sign · RD > MCID), ``threshold_rd``, the power
curves' ``rd`` and ``design_p_benefit`` are on the benefit side, while ``rd_mean``, the ROPE's
masses, ``null_rate``, ``reference_control_rate`` and the ``beta_*`` posteriors of the value of
sampling stay on the outcome's own scale.
"""

from __future__ import annotations

import numpy as np

from bayes_ips import models
from bayes_ips.analyses.decision.economics import net_benefit
from bayes_ips.analyses.decision.options import DecisionSettings, NextTrial
from bayes_ips.analyses.decision.posterior import (
    EffectPosterior,
    benefit_interval,
    effect_posterior,
    favourable,
)
from bayes_ips.analyses.decision.rules import decide
from bayes_ips.analyses.decision.trial import (
    CRITERIA,
    Criteria,
    assurance,
    operating_characteristics,
    smallest_n,
)
from bayes_ips.analyses.decision.voi import sampling_value
from bayes_ips.context import Fitted, RunContext
from bayes_ips.data import Comparison
from bayes_ips.errors import InputError
from bayes_ips.fit import Fit, fit_seed
from bayes_ips.priors import NormalEffect, get_prior

QUICK_SIMULATIONS = 5000
OC_RD_GRID = np.round(np.arange(0.0, 0.3001, 0.01), 2)

METHODS = {
    "dual": "go when P(RD > 0) ≥ γ₁ and P(RD > MCID) ≥ γ₂; no-go when both fail; "
    "indeterminate when exactly one holds",
    "rope": "go when P(RD > r) ≥ γ; no-go when P(RD ≤ r) ≥ γ (no better than practically "
    "equivalent); indeterminate otherwise; r = the ROPE half-width",
    "probabilities": "exact (quadrature of the Beta posteriors) for the conjugate beta-binomial "
    "model; P(RD > 0) of the exact logistic model is the results' exact P(benefit); the others "
    "from posterior draws with ArviZ MCSE",
    "net_benefit": "INB = value of one extra person with the outcome × RD − incremental cost per "
    "patient; "
    "EVPI = E[max(INB, 0)] − max(E[INB], 0); exact at the spec's inputs where the model allows, "
    "the acceptability and EVPI curves from posterior draws",
    "assurance": "simulated trials from the design prior: every posterior draw at the primary "
    "horizon gets the same number of trials (at least the spec's number of simulated trials per "
    "sample size in all), "
    "judged by the exact success regions; mixed with weight w with independent Beta(1, 1) rates "
    "(exact: the share of outcomes that succeed); MCSE = (1 − w) × ArviZ MCSE of the mean of the "
    "per-draw success shares (simulation noise and the design draws' own sampling error)",
    "frequentist_criterion": "pooled two-proportion z test, two-sided level α, significant with "
    "the treatment ahead",
    "bayesian_criterion": "P(log OR > 0) above the success probability under the named "
    "analysis prior (the library's sceptical_mcid by default), the new trial analysed alone "
    "with the exact single-horizon logistic posterior (quadrature, no continuity correction)",
    "operating_characteristics": "exact enumeration of every trial outcome (no simulation)",
    "evsi": "conjugate preposterior analysis by exact enumeration of the beta-binomial "
    "predictive; exact for the beta-binomial model, independent moment-matched Beta posteriors "
    "otherwise (an approximation); ENBS = population × EVSI − trial cost",
}
LOWER_METHODS = {
    "dual": "go when P(RD < 0) ≥ γ₁ and P(RD < −MCID) ≥ γ₂ (a lower rate is better); no-go "
    "when both fail; indeterminate when exactly one holds",
    "rope": "go when P(RD < −r) ≥ γ; no-go when P(RD ≥ −r) ≥ γ (no better than practically "
    "equivalent); indeterminate otherwise; r = the ROPE half-width",
    "probabilities": METHODS["probabilities"].replace("P(RD > 0)", "P(RD < 0)"),
    "net_benefit": "INB = value of one participant spared the outcome × (−RD) − incremental "
    "cost per patient; "
    "EVPI = E[max(INB, 0)] − max(E[INB], 0); exact at the spec's inputs where the model allows, "
    "the acceptability and EVPI curves from posterior draws",
    "frequentist_criterion": "pooled two-proportion z test, two-sided level α, significant with "
    "fewer participants with the outcome in the treatment arm",
    "bayesian_criterion": METHODS["bayesian_criterion"].replace("P(log OR > 0)", "P(log OR < 0)"),
    "direction": "a lower rate of the outcome is better, so benefit is −RD = (1 − p_T) − "
    "(1 − p_C), the difference in participants spared the outcome, and every benefit "
    "probability, net benefit and the value of information are computed on it (the ROPE's "
    "masses below, inside and above stay on the RD's own scale); the next trial is judged on "
    "its counts without the outcome, whose log OR is minus the outcome's, under the analysis "
    "prior with its mean negated",
}
"""The methods that read otherwise when a lower rate is better."""


def methods(comparison: Comparison) -> dict:
    """The methods in words, in the outcome's direction."""
    return METHODS if comparison.sign > 0 else {**METHODS, **LOWER_METHODS}


def favourable_effect(effect: NormalEffect, comparison: Comparison) -> NormalEffect:
    """An effect prior on the outcome's log OR as one on the log OR of the favourable result
    (minus the outcome's when a lower rate is better)."""
    if comparison.sign > 0:
        return effect
    return NormalEffect(-effect.mean, effect.sd, effect.scale)


def _seed(ctx: RunContext, fit: Fit) -> int:
    return fit_seed(ctx.spec.seed, f"decision:{fit.model}", fit.prior.name)


def _simulations(ctx: RunContext, trial: NextTrial) -> int:
    """Simulated trials per sample size, at least (capped in quick runs)."""
    return min(trial.simulations, QUICK_SIMULATIONS) if ctx.spec.quick else trial.simulations


def _result(fitted: Fitted, fit: Fit, horizon: float):
    rows = fitted.table
    return rows[
        (rows["model"] == fit.model)
        & (rows["prior"] == fit.prior.name)
        & (rows["horizon_months"] == horizon)
    ].iloc[0]


def _verified(fitted: Fitted, fit: Fit, horizon: float) -> bool:
    """Whether the fit's estimate at this horizon rests on verified rows only."""
    return bool(_result(fitted, fit, horizon)["verified_data"])


def _rd_interval(fitted: Fitted, fit: Fit, horizon: float) -> dict:
    return _result(fitted, fit, horizon)["rd"]


def _rules(ctx: RunContext, fitted: Fitted, settings: DecisionSettings) -> list[dict]:
    comparison = ctx.spec.comparison
    out = []
    for fit in fitted.fits:
        for h in fit.p["horizon"].to_numpy().tolist():
            post = effect_posterior(fit, h, comparison)
            result = _result(fitted, fit, h)
            exact = fit.model in models.EXACT_MODELS and result["p_benefit_mcse"] == 0
            exact_p = float(result["p_benefit"]) if exact else None
            out.append(
                {
                    "model": fit.model,
                    "prior": fit.prior.name,
                    "horizon_months": h,
                    "verified_data": _verified(fitted, fit, h),
                    **decide(
                        post,
                        mcid=settings.mcid,
                        rope=ctx.spec.estimands.rope,
                        gamma_benefit=settings.gamma_benefit,
                        gamma_mcid=settings.gamma_mcid,
                        gamma_rope=settings.gamma_rope,
                        exact_p_benefit=exact_p,
                        sign=comparison.sign,
                    ),
                }
            )
    return out


def _next_trial(
    ctx: RunContext, fit: Fit, post: EffectPosterior, settings: DecisionSettings, crit: Criteria
) -> dict:
    trial = settings.next_trial
    seed = _seed(ctx, fit)
    p = fit.p.sel(horizon=ctx.primary_horizon)
    comparison = ctx.spec.comparison
    dims = [d for d in ("chain", "draw") if d in p.dims]
    # the trials are simulated and judged on the favourable result's counts
    p_t = favourable(p.sel(arm=comparison.treatment).transpose(*dims).to_numpy(), comparison)
    p_c = favourable(p.sel(arm=comparison.control).transpose(*dims).to_numpy(), comparison)
    rng = np.random.default_rng(seed)
    result = assurance(
        p_t, p_c, trial.n_per_arm, crit, _simulations(ctx, trial), rng, trial.robust_weight
    )
    result["seed"] = seed
    result["design_p_benefit"] = float(
        (1 - trial.robust_weight) * np.mean(p_t > p_c) + trial.robust_weight * 0.5
    )
    for name in CRITERIA:
        result[name]["n_for_target"] = {
            f"{target:.2f}": smallest_n(trial.n_per_arm, result[name]["assurance"], target)
            for target in trial.assurance_targets
        }
    beta_t, beta_c = post.moments()
    vos = sampling_value(beta_t, beta_c, trial.n_per_arm, settings.economics)
    if comparison.sign < 0:
        # the outcome's rate: Beta(a, b) of 1 − p is Beta(b, a) of p
        for key in ("beta_treatment", "beta_control"):
            vos[key] = vos[key][::-1]
    result["value_of_sampling"] = vos
    return result


def _analysis_prior(ctx: RunContext, settings: DecisionSettings) -> tuple[dict, NormalEffect]:
    """The next trial's analysis prior: the library prior the spec names (``sceptical_mcid``
    by default, the same prior as in the priors table), or Normal(0, sd²) when the spec sets
    ``analysis_prior_sd``.

    Raises
    ------
    InputError
        The named prior cannot be built with this run's anchor control rate, or is not a normal
        prior on the log OR (the spec loader has already refused unknown names).
    """
    trial = settings.next_trial
    sd = trial.analysis_prior_sd
    if sd is not None:
        effect = NormalEffect(0.0, sd)
        return {
            "name": "spec",
            "mean": 0.0,
            "sd": sd,
            "scale": "log_or",
            "recipe": "Normal(0, sd²) with the SD set in the spec (decision.next_trial)",
        }, effect
    field = "decision.next_trial.analysis_prior"
    try:
        prior = get_prior(trial.analysis_prior, ctx.priors)
    except InputError as exc:
        hint = (
            "; the next trial's Bayesian rule needs an analysis prior: name another in "
            "decision.next_trial.analysis_prior, set decision.next_trial.analysis_prior_sd, "
            "or turn the analysis off with [decision] enabled = false"
        )
        raise InputError(ctx.spec.origin, exc.rule + hint, field=field, value=exc.value) from None
    if not isinstance(prior.effect, NormalEffect):
        raise InputError(
            ctx.spec.origin,
            "must name a prior with a normal prior on the log odds ratio",
            field=field,
            value=trial.analysis_prior,
        )
    return {
        "name": prior.name,
        "mean": prior.effect.mean,
        "sd": prior.effect.sd,
        "scale": "log_or",
        "recipe": prior.recipe,
        "anchor_control_rate": ctx.priors.control_rate,
    }, prior.effect


def check(ctx: RunContext) -> None:
    """Before any fit: the next trial's analysis prior can be built for this run."""
    settings = ctx.options("decision", DecisionSettings())
    if settings.enabled:
        _analysis_prior(ctx, settings)


def run(ctx: RunContext, fitted: Fitted) -> dict | None:
    """The ``decision`` entry of summary.json (None when the spec disables it).

    Parameters
    ----------
    ctx : RunContext
        The run; the spec's ``decision`` options (defaults when absent).
    fitted : Fitted
        The fits and their results.
    """
    settings = ctx.options("decision", DecisionSettings())
    if not settings.enabled:
        return None
    comparison = ctx.spec.comparison
    primary = ctx.primary_horizon
    head = fitted.fit(*ctx.headline)
    head_post = effect_posterior(head, primary, comparison)
    trial = settings.next_trial
    control_rate = (
        trial.null_rate
        if trial.null_rate is not None
        else favourable(head_post.control_mean(), comparison)
    )
    prior, effect = _analysis_prior(ctx, settings)
    crit = Criteria(trial.alpha, trial.success_probability, favourable_effect(effect, comparison))

    fits = []
    for fit in fitted.fits:
        post = head_post if fit is head else effect_posterior(fit, primary, comparison)
        fits.append(
            {
                "model": fit.model,
                "prior": fit.prior.name,
                "fit_seed": fit.seed,
                "horizon_months": primary,
                "verified_data": _verified(fitted, fit, primary),
                "rd_mean": comparison.sign * post.mean(),
                "net_benefit": net_benefit(
                    post,
                    settings.economics,
                    benefit_interval(_rd_interval(fitted, fit, primary), comparison),
                    effect_posterior(fit, primary, comparison, exact=False),
                ),
                "next_trial": _next_trial(ctx, fit, post, settings, crit),
            }
        )
    return {
        "settings": {
            "mcid": settings.mcid,
            "gamma_benefit": settings.gamma_benefit,
            "gamma_mcid": settings.gamma_mcid,
            "gamma_rope": settings.gamma_rope,
            "rope": ctx.spec.estimands.rope,
            "next_trial": {
                "n_per_arm": list(trial.n_per_arm),
                "simulations": _simulations(ctx, trial),
                "analysis_prior": prior["name"],
                "alpha": trial.alpha,
                "success_probability": trial.success_probability,
                "robust_weight": trial.robust_weight,
                "assurance_targets": list(trial.assurance_targets),
                "oc_n_per_arm": list(trial.oc_n_per_arm),
            },
        },
        "economics": settings.economics.as_dict(),
        "headline": {"model": head.model, "prior": head.prior.name},
        "primary_horizon": primary,
        "primary_verified": _verified(fitted, head, primary),
        "quick": ctx.spec.quick,
        "rules": _rules(ctx, fitted, settings),
        "fits": fits,
        "analysis_prior": prior,
        "reference_control_rate": {
            "value": control_rate,
            "source": "spec (decision.next_trial.null_rate)"
            if trial.null_rate is not None
            else f"posterior mean control rate at {primary:g} months, "
            f"{head.model} / {head.prior.name}",
        },
        "operating_characteristics": {
            **operating_characteristics(
                crit,
                favourable(control_rate, comparison),
                trial.n_per_arm,
                trial.oc_n_per_arm,
                OC_RD_GRID,
            ),
            "null_rate": control_rate,
        },
        "methods": methods(comparison),
    }
