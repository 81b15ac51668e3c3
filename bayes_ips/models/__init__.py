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
from bayes_ips.priors import MixtureEffect

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
CONTROL_MODELS = (
    "beta_binomial",
    "hierarchical_beta_binomial",
    "exact_logistic",
    "hierarchical_logistic",
    "adjusted_logistic",
    "exact_log_binomial",
    "log_binomial",
)
"""Models with a control parameter, which use a control-risk prior stated in ``[priors]``
(``control_*``). The log-binomial models' baseline is the control risk itself (default
Normal(0, 1.5²) on its logit). The logistic models' default baseline prior is Normal(0, 1.5²) on
the arms' midpoint log-odds (``alpha ± theta / 2``); a stated prior is put on the control arm's
log-odds ``alpha − theta / 2`` instead (:mod:`bayes_ips.exact_logistic`,
:func:`bayes_ips.models.cumulative.first_midpoint`). In the beta-binomial models a stated
Beta(a, b) is the control arm's conjugate Beta (it replaces the rate prior's control-arm Beta;
:func:`bayes_ips.priors.library.with_control`); a normal on the logit has no conjugate form there
and is refused (:func:`check_prior`). The hazard model takes only its own ``reference`` prior."""

MIDPOINT_MODELS = ("exact_logistic", "hierarchical_logistic", "adjusted_logistic")
"""Models whose baseline is the arms' midpoint log-odds ``alpha`` (``logit p = alpha ± theta /
2``), which take a midpoint prior stated in ``[priors]`` (``midpoint_logit_*``) in place of the
default Normal(0, 1.5²). The other models have no such parameter (their control prior is the
control-risk prior) and refuse it (:func:`check_prior`)."""


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
    _check_midpoint(model, prior, origin)
    component = CARRIES.get(model)
    if component is None or (component == "reference" and prior.name == "reference"):
        return
    if component == "reference":
        rule = (
            f"model {model!r} takes only the 'reference' prior (its effect is a log hazard "
            "ratio); effect priors are priors of the log OR (or RR) of the cumulative outcome, "
            f"carried by {_carriers('effect')}"
        )
    elif getattr(prior, component) is not None:
        if component == "effect":
            _check_scale(model, prior, origin)
            if model in PYMC_MODELS:
                _check_sampler_scale(model, prior, origin)
        if component == "rate":
            _check_rate_control(model, prior, origin)
            if model in PYMC_MODELS:
                _check_rate_shapes(model, prior, origin)
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
    OR)."""
    scale = EFFECT_SCALE[model]
    effect = effect_for(model, prior)
    if effect.scale == scale:
        return
    rule = (
        f"model {model!r} takes effect priors on the {effect_scale_name(scale)} only; this "
        f"prior is on the {effect.scale_name}, carried by {_carriers('effect', effect.scale)}"
    )
    raise InputError(origin, rule, field=f"models.{model}.priors", value=prior.name)


def _check_midpoint(model: str, prior, origin: str) -> None:
    """Refuse a stated midpoint prior in a model without the midpoint log-odds
    (:data:`MIDPOINT_MODELS`)."""
    if prior.midpoint is None or model in MIDPOINT_MODELS:
        return
    raise InputError(
        origin,
        f"model {model!r} has no midpoint log-odds, so it cannot take the midpoint prior "
        "(midpoint_logit_mean/midpoint_logit_sd), which only "
        f"{', '.join(MIDPOINT_MODELS)} carry; its baseline prior is the control-risk prior "
        "(control_logit_mean/control_logit_sd or control_beta_a/control_beta_b)",
        field=f"models.{model}.priors",
        value=prior.name,
    )


def _check_rate_control(model: str, prior, origin: str) -> None:
    """Refuse a control-risk prior stated as a normal on the logit in a beta-binomial model,
    whose control arm's prior is a conjugate Beta (a stated Beta replaces it)."""
    if prior.control is None or prior.control.family == "beta":
        return
    raise InputError(
        origin,
        f"model {model!r} takes a control-risk prior only as a Beta on the control rate (its "
        "conjugate prior: control_beta_a/control_beta_b); a normal on the logit "
        "(control_logit_mean/control_logit_sd) has no Beta form: state a Beta, or fit the "
        "logistic or log-binomial models, which take either",
        field=f"models.{model}.priors",
        value=prior.name,
    )


def effect_scale_name(scale: str) -> str:
    """``"log OR"`` or ``"log RR"``."""
    from bayes_ips.priors.core import SCALES

    return SCALES[scale][0]


MCMC_EFFECT_SD_MAX = 1000.0
"""The widest normal effect prior (SD, log OR) an MCMC logistic model accepts: up to it the pooled
logistic models are written for wide priors (:func:`bayes_ips.models.cumulative.effects`) and
converge."""
MCMC_LOG_RR_SD_MAX = 20.0
"""The widest normal effect prior (SD, log RR) ``log_binomial`` accepts: wider priors put their
mass on treatment risks of exactly 0, where the sampler cannot adapt."""
MCMC_MIXTURE_SD_MAX = 20.0
"""The widest component (SD, log OR) of a mixture effect prior an MCMC model accepts."""
EXACT_MODEL_OF_SCALE = {"log_or": "exact_logistic", "log_rr": "exact_log_binomial"}
"""The exact single-horizon model of each effect scale, which integrates any prior on it."""


def _check_sampler_scale(model: str, prior, origin: str) -> None:
    """Refuse an effect prior wider than the MCMC models are written for (issue 18): a normal
    prior's SD above :data:`MCMC_EFFECT_SD_MAX` (log OR) or :data:`MCMC_LOG_RR_SD_MAX` (log RR),
    or a mixture component's above :data:`MCMC_MIXTURE_SD_MAX` (a mixture keeps the plain
    multivariate-normal form, whose sampler cannot adapt to a component that puts its mass on
    rates of exactly 0 or 1). The exact model of the prior's scale
    (:data:`EXACT_MODEL_OF_SCALE`) integrates such priors exactly."""
    effect = effect_for(model, prior)
    _, _, sds = effect.components()
    mixture = isinstance(effect, MixtureEffect)
    widest = float(max(sds))
    if mixture:
        limit = MCMC_MIXTURE_SD_MAX
    else:
        limit = MCMC_LOG_RR_SD_MAX if effect.scale == "log_rr" else MCMC_EFFECT_SD_MAX
    if widest > limit:
        what = "mixture effect priors with every component's SD" if mixture else "effect priors"
        raise InputError(
            origin,
            f"model {model!r} (MCMC) takes {what} at most {limit:g} on the "
            f"{effect.scale_name} (wider priors put their mass on rates of exactly 0 or 1, where "
            f"the sampler cannot adapt); this prior's SD is {widest:g}: fit it with "
            f"{EXACT_MODEL_OF_SCALE[effect.scale]!r}, which integrates it exactly",
            field=f"models.{model}.priors",
            value=prior.name,
        )


MCMC_RATE_SHAPE_MIN = 0.5
"""The smallest Beta shape of a rate prior an MCMC model accepts (Jeffreys' 0.5)."""


def _check_rate_shapes(model: str, prior, origin: str) -> None:
    """Refuse a rate prior with a Beta shape below :data:`MCMC_RATE_SHAPE_MIN` (issue 18): after
    zero (or all) events such a prior puts the rate's posterior mass at 10^-100 and below (1 −
    10^-16 and above), where the sampler cannot adapt (Beta(0.1, 0.1) on 30 of 30 and Beta(0.01,
    0.01) on 0 of 30 fail the convergence checks at full draws). ``beta_binomial`` takes such
    priors exactly."""
    rate = prior.rate
    shapes = [*rate.treatment, *rate.control]
    smallest = float(min(shapes))
    if smallest < MCMC_RATE_SHAPE_MIN:
        raise InputError(
            origin,
            f"model {model!r} (MCMC) takes Beta rate priors with both shapes at least "
            f"{MCMC_RATE_SHAPE_MIN:g} (smaller shapes put the rate's mass at exactly 0 or 1 in "
            f"floating point, where the sampler cannot adapt); this prior's smallest shape is "
            f"{smallest:g}: fit it with 'beta_binomial', which takes it exactly",
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
