"""A fitted model: the result every engine (exact or MCMC) produces."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import stats

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
        Exact P(RD > 0), the probability that the treatment arm's rate is the higher, per
        horizon where the model has a closed form (P(benefit) when a higher rate is better;
        :func:`bayes_ips.estimands.summarise` turns it into P(benefit) for either direction).
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


def exact_tree(p: xr.DataArray, counts: xr.Dataset, seed: int, **groups: xr.Dataset) -> xr.DataTree:
    """An exact engine's fit as a DataTree shaped like an MCMC fit.

    Groups: ``posterior`` (``p``), ``observed_data`` and ``constant_data`` (``y``, ``n``),
    ``log_likelihood`` and ``posterior_predictive`` (``y``, binomial draws seeded from ``seed``),
    so PSIS-LOO and posterior-predictive checks treat it like any other fit, and the engine's
    own ``groups`` (e.g. ``exact_posterior``, ``prior``).
    """
    y = counts["employed"].astype("int64")
    n = counts["n_analysed"].astype("int64")
    rng = np.random.default_rng([seed, 1])
    rep = xr.DataArray(rng.binomial(n.to_numpy(), p.to_numpy()), dims=p.dims, coords=p.coords)
    loglik = xr.DataArray(
        stats.binom.logpmf(y.to_numpy(), n.to_numpy(), p.to_numpy()), dims=p.dims, coords=p.coords
    )
    return xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset({"p": p}),
            **groups,
            "observed_data": xr.Dataset({"y": y}),
            "constant_data": xr.Dataset({"n": n}),
            "log_likelihood": xr.Dataset({"y": loglik}),
            "posterior_predictive": xr.Dataset({"y": rep}),
        }
    )
