"""Hierarchical logistic model: one treatment effect per horizon, partially pooled.

For arm a and horizon h, with ``treated[a]`` 1 for the treatment arm and 0 for the control::

    y[a, h]   ~ Binomial(n[a, h], p[a, h])
    logit p   = alpha[h] + theta[h] * treated[a]
    alpha[h]  ~ Normal(0, 1.5²)                    control log-odds
    theta[h]  = mu + tau * z[h],  z[h] ~ Normal(0, 1)   (non-centred)
    mu        ~ Normal(m0, s0²)                    the named prior's effect component
    tau       ~ HalfNormal(0.5)

``alpha``'s prior puts 95% of the mass on control rates between 5% and 95%. ``tau``'s scale lets
the odds ratio differ between horizons by a factor of about 2.7 (one SD of ``theta`` = 0.5 on the
log scale is at the 68th percentile of tau's prior) while shrinking towards one common effect.
With one horizon there is no between-horizon variation to estimate, so ``tau`` is left out and
``theta = mu``. The prior's mean and SD enter as data (``pm.Data``), so one compiled model serves
every prior of a sweep.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import xarray as xr

from bayes_ips.priors import NormalEffect, Prior

NAME = "hierarchical_logistic"
ALPHA_SD = 1.5
TAU_SCALE = 0.5
KEY_PARAMETERS = ("mu", "tau", "theta", "alpha")


def prior_data(prior: Prior) -> dict[str, float]:
    """Values of the model's prior ``pm.Data`` containers for a named prior."""
    effect = prior.require("effect", NAME)
    assert isinstance(effect, NormalEffect)
    return {"prior_mu_mean": effect.mean, "prior_mu_sd": effect.sd}


def build_model(counts: xr.Dataset, prior: Prior) -> pm.Model:
    """The PyMC model for counts with dims ``(arm, horizon)``, arm 0 the treatment."""
    values = prior_data(prior)
    horizons = counts["horizon"].to_numpy()
    coords = {"arm": counts["arm"].to_numpy().tolist(), "horizon": horizons.tolist()}
    treated = np.array([1.0, 0.0])[:, None]
    with pm.Model(coords=coords) as model:
        m0 = pm.Data("prior_mu_mean", values["prior_mu_mean"])
        s0 = pm.Data("prior_mu_sd", values["prior_mu_sd"])
        alpha = pm.Normal("alpha", 0.0, ALPHA_SD, dims="horizon")
        mu = pm.Normal("mu", m0, s0)
        if len(horizons) > 1:
            tau = pm.HalfNormal("tau", TAU_SCALE)
            z = pm.Normal("z", 0.0, 1.0, dims="horizon")
            theta = pm.Deterministic("theta", mu + tau * z, dims="horizon")
        else:
            theta = pm.Deterministic("theta", mu * np.ones(1), dims="horizon")
        p = pm.Deterministic(
            "p",
            pm.math.invlogit(alpha[None, :] + treated * theta[None, :]),
            dims=("arm", "horizon"),
        )
        pm.Binomial(
            "y",
            n=counts["n_analysed"].to_numpy(),
            p=p,
            observed=counts["employed"].to_numpy(),
            dims=("arm", "horizon"),
        )
    return model
