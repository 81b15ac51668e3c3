"""Model families. Each PyMC family is a module with ``build_model(counts, prior) -> pm.Model``.

The exact models need no PyMC graph: ``beta_binomial`` is the conjugate engine
(:mod:`bayes_ips.conjugate`) and ``exact_logistic`` the single-horizon logistic posterior by
quadrature (:mod:`bayes_ips.exact_logistic`). Importing this package does not import PyMC;
:func:`module` does, on first use.

Every named prior has one meaning in every model that carries it (:data:`CARRIES`): a rate prior
is the prior of each arm's employment rate, an effect prior the prior of the log odds ratio of
cumulative employment at every horizon. :func:`check_prior` refuses any other pairing before
anything is fitted.
"""

from types import ModuleType

from bayes_ips.errors import InputError
from bayes_ips.priors import MixtureEffect

EXACT_MODELS = ("beta_binomial", "exact_logistic")
PYMC_MODELS = (
    "hierarchical_beta_binomial",
    "hierarchical_logistic",
    "discrete_time_hazard",
    "adjusted_logistic",
)
MODEL_NAMES = EXACT_MODELS + PYMC_MODELS
IPD_MODELS = ("adjusted_logistic",)
"""Models that need individual participant data (one row per participant)."""
COHORT_MODELS = ("hierarchical_beta_binomial", "hierarchical_logistic", "discrete_time_hazard")
"""Models whose likelihood from aggregate counts over several horizons assumes that the same
analysed cohort is followed to every horizon (each participant is counted once)."""
CARRIES = {
    "beta_binomial": "rate",
    "hierarchical_beta_binomial": "rate",
    "exact_logistic": "effect",
    "hierarchical_logistic": "effect",
    "adjusted_logistic": "effect",
    "discrete_time_hazard": "reference",
}
"""The prior component each model carries: ``rate`` (Beta priors on each arm's rate), ``effect``
(priors on the log OR of cumulative employment at every horizon), or ``reference`` (only the
``reference`` prior: the model's own stated default, as for the hazard model, whose effect is a
log hazard ratio)."""


def _carriers(component: str) -> str:
    return ", ".join(m for m, c in CARRIES.items() if c == component and m in MODEL_NAMES)


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
        if component == "effect" and model in PYMC_MODELS:
            _check_sampler_scale(model, prior, origin)
        if component == "rate" and model in PYMC_MODELS:
            _check_rate_shapes(model, prior, origin)
        return
    elif component == "rate":
        rule = (
            f"model {model!r} takes rate priors only (Beta priors on each arm's rate: reference, "
            "jeffreys or a user prior with rate_a/rate_b); this is an effect prior on the log OR, "
            f"carried by {_carriers('effect')}"
        )
    else:
        rule = (
            f"model {model!r} takes effect priors on the log OR only; this is a rate prior, "
            f"carried by {_carriers('rate')}"
        )
    raise InputError(origin, rule, field=f"models.{model}.priors", value=prior.name)


MCMC_EFFECT_SD_MAX = 1000.0
"""The widest normal effect prior (SD, log OR) an MCMC model accepts: up to it the pooled logistic
models are written for wide priors (:func:`bayes_ips.models.cumulative.effects`) and converge."""
MCMC_MIXTURE_SD_MAX = 20.0
"""The widest component (SD, log OR) of a mixture effect prior an MCMC model accepts."""


def _check_sampler_scale(model: str, prior, origin: str) -> None:
    """Refuse an effect prior wider than the MCMC models are written for (issue 18): a normal
    prior's SD above :data:`MCMC_EFFECT_SD_MAX`, or a mixture component's above
    :data:`MCMC_MIXTURE_SD_MAX` (a mixture keeps the plain multivariate-normal form, whose
    sampler cannot adapt to a component that puts its mass on rates of exactly 0 or 1).
    ``exact_logistic`` integrates such priors exactly."""
    _, _, sds = prior.effect.components()
    mixture = isinstance(prior.effect, MixtureEffect)
    widest = float(max(sds))
    limit = MCMC_MIXTURE_SD_MAX if mixture else MCMC_EFFECT_SD_MAX
    if widest > limit:
        what = "mixture effect priors with every component's SD" if mixture else "effect priors"
        raise InputError(
            origin,
            f"model {model!r} (MCMC) takes {what} at most {limit:g} on the log OR (wider priors "
            "put their mass on rates of exactly 0 or 1, where the sampler cannot adapt); this "
            f"prior's SD is {widest:g}: fit it with 'exact_logistic', which integrates it exactly",
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
        case _:
            raise KeyError(name)
    return family
