"""A fitted model: the result every engine (exact or MCMC) produces."""

from __future__ import annotations

from dataclasses import dataclass

import xarray as xr

from bayes_ips.priors import Prior


@dataclass
class Fit:
    """One model fitted under one prior.

    Attributes
    ----------
    model, prior : str, Prior
    seed : int
        The seed this fit used (derived from the spec's seed, the model and the prior).
    tree : xarray.DataTree
        The saved result: ``posterior`` holds ``p[chain, draw, arm, horizon]``.
    p_benefit_exact : dict or None
        Exact P(benefit) per horizon where the model has a closed form.
    diagnostics : dict or None
        Convergence checks of an MCMC fit (:func:`bayes_ips.diagnostics.convergence`).
    """

    model: str
    prior: Prior
    seed: int
    tree: xr.DataTree
    p_benefit_exact: dict | None = None
    diagnostics: dict | None = None

    @property
    def label(self) -> str:
        return f"{self.model}__{self.prior.name}"

    @property
    def p(self) -> xr.DataArray:
        return self.tree["posterior"]["p"]
