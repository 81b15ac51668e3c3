"""Covariate-adjusted logistic model on individual participant data, with marginal estimands.

For participant i with a known outcome at horizon h (``y[i, h]`` = 1 when employed by h),
``treated[i]`` 1 in the treatment arm and 0 in the control, and standardised baseline
covariates ``x[i]`` (mean 0, SD 1 over the compared participants)::

    y[i, h]   ~ Bernoulli(π[i, h])
    logit π   = alpha[h] + theta[h] * treated[i] + x[i] · eta[h]
    alpha[h]  ~ Normal(0, 1.5²)
    theta[h]  = mu + tau * z[h],  z[h] ~ Normal(0, 1)   (non-centred, as hierarchical_logistic)
    mu        ~ Normal(m0, s0²)                    the named prior's effect component
    tau       ~ HalfNormal(0.5)
    eta[h, c] ~ Normal(0, 1)                       log OR per SD of covariate c
    p[a, h]   = mean over i of invlogit(alpha[h] + theta[h] * [a = treatment] + x[i] · eta[h])

``theta`` is the *conditional* log odds ratio (given the covariates). ``p`` is the *marginal*
(standardised) employment rate: every participant of the compared arms, including those without
an outcome, is given arm a and their predicted probabilities are averaged (g-computation over the
trial sample). All estimands (RD, RR, OR, P(benefit)) use ``p``, so they are marginal effects,
comparable with the aggregate models. Averaging over participants without an outcome makes ``p``
the missing-at-random (given arm and covariates) estimate for the whole randomised sample.

Without covariates the model is ``hierarchical_logistic`` written per participant, and gives the
same posterior. Aggregate data cannot be adjusted: the model then raises an input error.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from bayes_ips.data.ipd import has_participants, standardised_covariates
from bayes_ips.errors import InputError
from bayes_ips.models import normal_effect_data
from bayes_ips.priors import Prior

NAME = "adjusted_logistic"
ALPHA_SD = 1.5
TAU_SCALE = 0.5
ETA_SD = 1.0
KEY_PARAMETERS = ("mu", "tau", "theta", "alpha", "p")


def prior_data(prior: Prior) -> dict[str, float]:
    """Values of the model's prior ``pm.Data`` containers for a named prior."""
    return normal_effect_data(prior, NAME)


def outcomes(counts: xr.Dataset) -> dict[str, np.ndarray]:
    """One record per participant x horizon with a known outcome.

    Returns
    -------
    dict
        Arrays ``participant`` (row index), ``horizon`` (index), ``treated`` and ``y`` (0/1).
    """
    horizons = counts["horizon"].to_numpy().astype(float)
    event = counts["event_month"].to_numpy()[:, None]
    follow = counts["followup_month"].to_numpy()[:, None]
    employed = event <= horizons[None, :]
    known = employed | (follow >= horizons[None, :])
    person, horizon = np.nonzero(known)
    return {
        "participant": person,
        "horizon": horizon,
        "treated": counts["treated"].to_numpy()[person],
        "y": employed[person, horizon].astype("int64"),
    }


def build_model(counts: xr.Dataset, prior: Prior) -> pm.Model:
    """The PyMC model for counts carrying participant rows (IPD), arm 0 the treatment.

    Raises
    ------
    InputError
        When ``counts`` holds aggregate data only.
    """
    if not has_participants(counts):
        raise InputError(
            counts.attrs.get("origin", "data"),
            f"model {NAME!r} needs individual participant data (one row per participant); "
            "this table is aggregate",
            field="models",
            value=NAME,
        )
    values = prior_data(prior)
    horizons = counts["horizon"].to_numpy().tolist()
    coords = {"arm": counts["arm"].to_numpy().tolist(), "horizon": horizons}
    x = standardised_covariates(counts)
    if x is not None:
        coords["covariate"] = counts["covariate"].to_numpy().tolist()
    rec = outcomes(counts)
    coords["obs"] = np.arange(len(rec["y"]))
    treated = np.array([1.0, 0.0])
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
        arm_logit = alpha[None, :] + treated[:, None] * theta[None, :]
        linear = alpha[rec["horizon"]] + rec["treated"] * theta[rec["horizon"]]
        if x is None:
            pm.Deterministic("p", pm.math.invlogit(arm_logit), dims=("arm", "horizon"))
        else:
            eta = pm.Normal("eta", 0.0, ETA_SD, dims=("horizon", "covariate"))
            shift = pt.dot(x, eta.T)
            person = arm_logit[:, None, :] + shift[None, :, :]
            pm.Deterministic("p", pm.math.invlogit(person).mean(axis=1), dims=("arm", "horizon"))
            linear = linear + shift[rec["participant"], rec["horizon"]]
        pm.Bernoulli("y", logit_p=linear, observed=rec["y"], dims="obs")
    return model
