"""Hierarchical logistic model: one treatment effect per horizon, partially pooled.

For arm a and horizon h, with ``treated[a]`` 1 for the treatment arm and 0 for the control::

    y[a, h]   ~ Binomial(n[a, h], p[a, h])
    logit p   = alpha[h] + theta[h] * treated[a]
    alpha[h]  ~ Normal(0, 1.5²)                    control log-odds
    theta[h]  = mu + tau * z[h],  z[h] ~ Normal(0, 1)   (non-centred)
    mu        ~ Normal(m0, s0²)                    the named prior's effect component, or
    mu        ~ sum_k w[k] Normal(m[k], s[k]²)     when that is a mixture (MIXTURE_COMPONENTS
                                                   slots; unused slots have weight 0)
    tau       ~ HalfNormal(0.5)

``alpha``'s prior puts 95% of the mass on control rates between 5% and 95%. ``tau``'s scale lets
the odds ratio differ between horizons by a factor of about 2.7 (one SD of ``theta`` = 0.5 on the
log scale is at the 68th percentile of tau's prior) while shrinking towards one common effect.
With one horizon there is no between-horizon variation to estimate, so ``tau`` is left out and
``theta = mu``. The prior's mean and SD (or the mixture's weights, means and SDs, in fixed-size
arrays) enter as data (``pm.Data``), so one compiled model serves every prior of the same
:func:`structure` in a sweep.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import xarray as xr

from bayes_ips.errors import InputError
from bayes_ips.logodds import CONTROL_LOGIT_SD
from bayes_ips.priors import MixtureEffect, NormalEffect, Prior

NAME = "hierarchical_logistic"
ALPHA_SD = CONTROL_LOGIT_SD
MIXTURE_COMPONENTS = 5
TAU_SCALE = 0.5
KEY_PARAMETERS = ("mu", "tau", "theta", "alpha")


def structure(prior: Prior) -> str:
    """``"normal"`` or ``"mixture"``: priors of one structure share one compiled model."""
    effect = prior.require("effect", NAME)
    return "mixture" if isinstance(effect, MixtureEffect) else "normal"


def prior_data(prior: Prior) -> dict[str, float | np.ndarray]:
    """Values of the model's prior ``pm.Data`` containers for a named prior.

    A normal prior gives ``prior_mu_mean`` and ``prior_mu_sd``; a mixture gives
    ``prior_mu_weights``, ``prior_mu_means`` and ``prior_mu_sds``, each of length
    :data:`MIXTURE_COMPONENTS` (unused slots: weight 0, mean 0, SD 1).
    """
    effect = prior.require("effect", NAME)
    if isinstance(effect, NormalEffect):
        return {"prior_mu_mean": effect.mean, "prior_mu_sd": effect.sd}
    w, m, s = effect.components()
    k = len(w)
    if k > MIXTURE_COMPONENTS:
        raise InputError(
            "spec",
            f"model {NAME!r} supports mixtures of up to {MIXTURE_COMPONENTS} normals",
            field="priors",
            value=prior.name,
        )
    pad = MIXTURE_COMPONENTS - k
    return {
        "prior_mu_weights": np.concatenate([w, np.zeros(pad)]),
        "prior_mu_means": np.concatenate([m, np.zeros(pad)]),
        "prior_mu_sds": np.concatenate([s, np.ones(pad)]),
    }


def build_model(counts: xr.Dataset, prior: Prior) -> pm.Model:
    """The PyMC model for counts with dims ``(arm, horizon)``, arm 0 the treatment."""
    values = prior_data(prior)
    horizons = counts["horizon"].to_numpy()
    coords = {"arm": counts["arm"].to_numpy().tolist(), "horizon": horizons.tolist()}
    treated = np.array([1.0, 0.0])[:, None]
    with pm.Model(coords=coords) as model:
        alpha = pm.Normal("alpha", 0.0, ALPHA_SD, dims="horizon")
        if "prior_mu_weights" in values:
            w = pm.Data("prior_mu_weights", values["prior_mu_weights"])
            m0 = pm.Data("prior_mu_means", values["prior_mu_means"])
            s0 = pm.Data("prior_mu_sds", values["prior_mu_sds"])
            mu = pm.NormalMixture("mu", w=w, mu=m0, sigma=s0)
        else:
            m0 = pm.Data("prior_mu_mean", values["prior_mu_mean"])
            s0 = pm.Data("prior_mu_sd", values["prior_mu_sd"])
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
