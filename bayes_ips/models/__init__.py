"""Model families. Each PyMC family is a module with ``build_model(counts, prior) -> pm.Model``.

The exact models need no PyMC graph: ``beta_binomial`` is the conjugate engine
(:mod:`bayes_ips.conjugate`), ``exact_logistic`` the single-horizon logistic posterior by
quadrature (:mod:`bayes_ips.exact_logistic`) and ``exact_log_binomial`` the single-horizon
log-binomial posterior by 2-D quadrature (:mod:`bayes_ips.exact_log_binomial`). Importing this
package does not import PyMC; :func:`module` does, on first use.

Every named prior has one meaning in every model that carries it (:data:`CARRIES`): a rate prior
is the prior of each arm's rate, an effect prior the prior of the log odds ratio or of the log
risk ratio (its scale) of the cumulative outcome at every horizon, carried by the models whose
link is on that scale (:data:`EFFECT_SCALE`). :func:`check_prior` refuses any other pairing
before anything is fitted.
"""

import dataclasses
from types import ModuleType

from bayes_ips.errors import InputError

EXACT_MODELS = ("beta_binomial", "exact_logistic", "exact_log_binomial")
PYMC_MODELS = (
    "hierarchical_beta_binomial",
    "hierarchical_logistic",
    "discrete_time_hazard",
    "adjusted_logistic",
    "log_binomial",
)
MODEL_NAMES = EXACT_MODELS + PYMC_MODELS
IPD_MODELS = ("adjusted_logistic",)
"""Models that need individual participant data (one row per participant)."""
COHORT_MODELS = (
    "hierarchical_beta_binomial",
    "hierarchical_logistic",
    "discrete_time_hazard",
    "log_binomial",
)
"""Models whose likelihood from aggregate counts over several horizons assumes that the same
analysed cohort is followed to every horizon (each participant is counted once)."""
CARRIES = {
    "beta_binomial": "rate",
    "hierarchical_beta_binomial": "rate",
    "exact_logistic": "effect",
    "hierarchical_logistic": "effect",
    "adjusted_logistic": "effect",
    "exact_log_binomial": "effect",
    "log_binomial": "effect",
    "discrete_time_hazard": "reference",
}
"""The prior component each model carries: ``rate`` (Beta priors on each arm's rate), ``effect``
(priors on the log OR or log RR of the cumulative outcome at every horizon, on the scale of
:data:`EFFECT_SCALE`), or ``reference`` (only the ``reference`` prior: the model's own stated
default, as for the hazard model, whose effect is a log hazard ratio)."""
EFFECT_SCALE = {
    "exact_logistic": "log_or",
    "hierarchical_logistic": "log_or",
    "adjusted_logistic": "log_or",
    "exact_log_binomial": "log_rr",
    "log_binomial": "log_rr",
}
"""The scale of the effect priors each effect model carries: its link (logit: log OR; log: log
RR). The ``reference`` prior is Normal(0, 2.5²) on either scale."""
CONTROL_MODELS = ("exact_log_binomial", "log_binomial")
"""Models whose baseline parameter is the control risk, so that a stated control-risk prior
(``[priors] control_*``) is theirs. The logistic models' baseline is the arms' midpoint
log-odds (their contrast is symmetric, ``alpha ± theta / 2``), with its own Normal(0, 1.5²)."""


def _carriers(component: str, scale: str | None = None) -> str:
    return ", ".join(
        m
        for m, c in CARRIES.items()
        if c == component and m in MODEL_NAMES and scale in (None, EFFECT_SCALE.get(m))
    )


def effect_for(model: str, prior):
    """The effect prior as ``model`` uses it: the ``reference`` prior's Normal(0, 2.5²) is put on
    the model's own scale; any other prior's effect as it is (its scale checked by
    :func:`check_prior`)."""
    effect = prior.effect
    scale = EFFECT_SCALE.get(model)
    if prior.name == "reference" and effect is not None and scale and effect.scale != scale:
        return dataclasses.replace(effect, scale=scale)
    return effect


def check_prior(model: str, prior, origin: str = "spec") -> None:
    """Refuse a prior whose component the model does not carry (an input error in ``origin``,
    the spec file, naming the models that do)."""
    component = CARRIES.get(model)
    if component is None or (component == "reference" and prior.name == "reference"):
        return
    if component == "reference":
        rule = (
            f"model {model!r} takes only the 'reference' prior (its effect is a log hazard "
            "ratio); effect priors are priors of the log OR of cumulative employment, carried by "
            f"{_carriers('effect')}"
        )
    elif getattr(prior, component) is not None:
        if component == "effect":
            _check_scale(model, prior, origin)
            if model in PYMC_MODELS:
                _check_sampler_scale(model, prior, origin)
        return
    elif component == "rate":
        rule = (
            f"model {model!r} takes rate priors only (Beta priors on each arm's rate: reference, "
            "jeffreys or a user prior with rate_a/rate_b); this is an effect prior on the "
            f"{prior.effect.scale_name}, carried by {_carriers('effect', prior.effect.scale)}"
        )
    else:
        rule = (
            f"model {model!r} takes effect priors on the log OR only; this is a rate prior, "
            f"carried by {_carriers('rate')}"
        )
    raise InputError(origin, rule, field=f"models.{model}.priors", value=prior.name)


def _check_scale(model: str, prior, origin: str) -> None:
    """Refuse an effect prior on another scale than the model's link (mixtures are on the log
    OR), and a stated control-risk prior where the model has no control-risk parameter."""
    scale = EFFECT_SCALE[model]
    effect = effect_for(model, prior)
    if effect.scale != scale:
        rule = (
            f"model {model!r} takes effect priors on the {effect_scale_name(scale)} only; this "
            f"prior is on the {effect.scale_name}, carried by "
            f"{_carriers('effect', effect.scale)}"
        )
    elif prior.control is not None and model not in CONTROL_MODELS:
        rule = (
            f"model {model!r} does not use the control-risk prior set in [priors] (its baseline "
            "is the arms' midpoint log-odds, Normal(0, 1.5²)); it is used by "
            f"{', '.join(CONTROL_MODELS)}"
        )
    else:
        return
    raise InputError(origin, rule, field=f"models.{model}.priors", value=prior.name)


def effect_scale_name(scale: str) -> str:
    """``"log OR"`` or ``"log RR"``."""
    from bayes_ips.priors.core import SCALES

    return SCALES[scale][0]


MCMC_EFFECT_SD_MAX = 20.0
"""The widest effect prior (SD of any normal component, log OR) an MCMC model accepts."""


def _check_sampler_scale(model: str, prior, origin: str) -> None:
    """Refuse an effect prior too wide for NUTS (issue 18): an SD above
    :data:`MCMC_EFFECT_SD_MAX` puts its mass on ORs beyond e^±39, where every rate is 0 or 1 in
    floating point; the sampler cannot adapt to it and the fit fails its convergence checks.
    ``exact_logistic`` integrates such priors exactly."""
    _, _, sds = prior.effect.components()
    widest = float(max(sds))
    if widest > MCMC_EFFECT_SD_MAX:
        raise InputError(
            origin,
            f"model {model!r} (MCMC) takes effect priors with SD at most "
            f"{MCMC_EFFECT_SD_MAX:g} on the log OR (wider priors put their mass on rates of "
            f"exactly 0 or 1, where the sampler cannot adapt); this prior's SD is {widest:g}: "
            "fit it with 'exact_logistic', which integrates it exactly",
            field=f"models.{model}.priors",
            value=prior.name,
        )


def module(name: str) -> ModuleType:
    """The module of a PyMC model family (``build_model``, ``prior_data``, ``KEY_PARAMETERS``)."""
    # Imported here, not at the top: importing this package must not import PyMC.
    match name:
        case "hierarchical_beta_binomial":
            from bayes_ips.models import hierarchical_beta_binomial as family
        case "hierarchical_logistic":
            from bayes_ips.models import hierarchical_logistic as family
        case "discrete_time_hazard":
            from bayes_ips.models import discrete_time_hazard as family
        case "adjusted_logistic":
            from bayes_ips.models import adjusted_logistic as family
        case "log_binomial":
            from bayes_ips.models import log_binomial as family
        case _:
            raise KeyError(name)
    return family
