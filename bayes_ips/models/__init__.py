"""Model families. Each PyMC family is a module with ``build_model(counts, prior) -> pm.Model``.

``beta_binomial`` is the exact conjugate engine (:mod:`bayes_ips.conjugate`) and needs no PyMC
graph. Importing this package does not import PyMC; :func:`builder` does, on first use.
"""

EXACT_MODELS = ("beta_binomial",)
PYMC_MODELS: tuple[str, ...] = ()
MODEL_NAMES = EXACT_MODELS + PYMC_MODELS
