"""Model families. Each PyMC family is a module with ``build_model(counts, prior) -> pm.Model``.

The exact models need no PyMC graph: ``beta_binomial`` is the conjugate engine
(:mod:`bayes_ips.conjugate`) and ``exact_logistic`` the single-horizon logistic posterior by
quadrature (:mod:`bayes_ips.exact_logistic`). Importing this package does not import PyMC;
:func:`module` does, on first use.
"""

from types import ModuleType

from bayes_ips.errors import InputError
from bayes_ips.priors import NormalEffect

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


def normal_effect_data(prior, model: str) -> dict[str, float]:
    """``pm.Data`` values of a normal effect prior on the log OR (``prior_mu_mean``,
    ``prior_mu_sd``), for model families that take normal effect priors only."""
    effect = prior.require("effect", model)
    if not isinstance(effect, NormalEffect):
        raise InputError(
            "spec",
            f"model {model!r} takes normal effect priors only (mixtures: hierarchical_logistic)",
            field="priors",
            value=prior.name,
        )
    return {"prior_mu_mean": effect.mean, "prior_mu_sd": effect.sd}
