"""Hierarchical beta-binomial model: each arm's rates across horizons are partially pooled.

For arm a and horizon h::

    y[a, h]   ~ Binomial(n[a, h], p[a, h])
    p[a, h]   ~ Beta(m[a] * kappa[a], (1 − m[a]) * kappa[a])
    m[a]      ~ Beta(a0[a], b0[a])                the named prior's rate component (per arm)
    kappa[a]  ~ LogNormal(log 10, 1)

``m`` is the arm's typical employment rate across horizons and ``kappa`` how tightly the horizons
cluster around it (a prior "sample size": median 10, 95% between 1.4 and 71). This is the weakly
informative mean / log-concentration alternative to BDA3's improper p(α, β) ∝ (α + β)^(−5/2)
(see the design notes on priors). With ``pooled=False`` the hierarchy is removed and
``p[a, h] ~ Beta(a0[a], b0[a])`` independently: the exact ``beta_binomial`` model, used to
cross-check the sampler against the closed form. The prior's ``a0, b0`` enter as data (``pm.Data``).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import xarray as xr

from bayes_ips.priors import BetaRate, Prior

NAME = "hierarchical_beta_binomial"
KAPPA_LOG_MEDIAN = float(np.log(10.0))
KAPPA_LOG_SD = 1.0
KEY_PARAMETERS = ("m", "kappa", "p")


def prior_data(prior: Prior) -> dict[str, np.ndarray]:
    """Values of the model's prior ``pm.Data`` containers for a named prior (dim ``arm``,
    treatment first)."""
    rate = prior.require("rate", NAME)
    assert isinstance(rate, BetaRate)
    (ta, tb), (ca, cb) = rate.treatment, rate.control
    return {"prior_rate_a": np.array([ta, ca]), "prior_rate_b": np.array([tb, cb])}


def build_model(counts: xr.Dataset, prior: Prior, *, pooled: bool = True) -> pm.Model:
    """The PyMC model for counts with dims ``(arm, horizon)``."""
    values = prior_data(prior)
    coords = {
        "arm": counts["arm"].to_numpy().tolist(),
        "horizon": counts["horizon"].to_numpy().tolist(),
    }
    with pm.Model(coords=coords) as model:
        a0 = pm.Data("prior_rate_a", values["prior_rate_a"], dims="arm")
        b0 = pm.Data("prior_rate_b", values["prior_rate_b"], dims="arm")
        if pooled:
            m = pm.Beta("m", a0, b0, dims="arm")
            kappa = pm.LogNormal("kappa", KAPPA_LOG_MEDIAN, KAPPA_LOG_SD, dims="arm")
            p = pm.Beta(
                "p",
                m[:, None] * kappa[:, None],
                (1 - m[:, None]) * kappa[:, None],
                dims=("arm", "horizon"),
            )
        else:
            p = pm.Beta("p", a0[:, None], b0[:, None], dims=("arm", "horizon"))
        pm.Binomial(
            "y",
            n=counts["n_analysed"].to_numpy(),
            p=p,
            observed=counts["employed"].to_numpy(),
            dims=("arm", "horizon"),
        )
    return model
