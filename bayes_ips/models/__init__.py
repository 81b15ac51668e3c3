"""Model families. Each PyMC family is a module with ``build_model(counts, prior) -> pm.Model``.

``beta_binomial`` is the exact conjugate engine (:mod:`bayes_ips.conjugate`) and needs no PyMC
graph. Importing this package does not import PyMC; :func:`module` does, on first use.
"""

from importlib import import_module
from types import ModuleType

EXACT_MODELS = ("beta_binomial",)
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
    if name not in PYMC_MODELS:
        raise KeyError(name)
    return import_module(f"bayes_ips.models.{name}")
