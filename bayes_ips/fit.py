"""A fitted model: the result every engine (exact or MCMC) produces."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
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


def fit_seed(seed: int, model: str, prior: str) -> int:
    """A seed for one fit, stable across runs and independent of the order of fits."""
    entropy = [seed, zlib.crc32(model.encode()), zlib.crc32(prior.encode())]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])
