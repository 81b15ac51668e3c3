"""Covariate-adjusted logistic model on individual participant data, with marginal estimands.

The cumulative construction of :mod:`bayes_ips.models.cumulative` (each participant counted
once), written per participant. For participant i (``s[i]`` = +1/2 in the treatment arm, −1/2 in
the control) with standardised baseline covariates ``x[i]`` (mean 0, SD 1 over the compared
participants), the cumulative log-odds of employment by horizon k is::

    logit p[i, k] = alpha[k] + s[i] * theta[k] + x[i] · eta
    eta[c]        ~ Normal(0, 1)                     log OR per SD of covariate c

with ``theta`` (the named prior at every horizon, correlated by ``rho``) and ``alpha`` (rising so
that no cumulative rate falls) as in that module. The likelihood is one Bernoulli term per
participant and interval at risk (:func:`bayes_ips.data.intervals.person_periods`; a participant
whose follow-up ends inside an interval without employment leaves the risk set there), with the
interval hazard ``1 − (1 − p[i, k]) / (1 − p[i, k−1])``. The covariate effects are the same at
every horizon, which keeps every participant's cumulative rate non-decreasing.

``theta`` is the *conditional* log odds ratio (given the covariates). ``p`` is the *marginal*
(standardised) cumulative employment: every participant of the compared arms, including those
without an outcome, is given arm a and their predicted probabilities are averaged (g-computation
over the trial sample). All estimands use ``p``, so they are marginal effects, comparable with the
aggregate models; averaging over participants without an outcome makes ``p`` the
missing-at-random (given arm and covariates) estimate for the whole randomised sample.

Without covariates the model is ``hierarchical_logistic`` written per participant. Aggregate
data cannot be adjusted: the model then raises an input error.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import xarray as xr

from bayes_ips.data.intervals import person_periods
from bayes_ips.data.ipd import has_participants, standardised_covariates
from bayes_ips.errors import InputError
from bayes_ips.models import cumulative
from bayes_ips.priors import Prior

NAME = "adjusted_logistic"
ETA_SD = 1.0
KEY_PARAMETERS = ("theta", "rho", "alpha1", "delta", "p")


def structure(prior: Prior) -> str:
    """``"normal"`` or ``"mixture"``: priors of one structure share one compiled model."""
    return cumulative.structure(prior, NAME)


def prior_data(prior: Prior) -> dict[str, float | np.ndarray]:
    """Values of the model's prior ``pm.Data`` containers for a named prior."""
    return cumulative.prior_data(prior, NAME)


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
    horizons = counts["horizon"].to_numpy().astype(float)
    coords = cumulative.horizon_coords(counts)
    x = standardised_covariates(counts)
    if x is not None:
        coords["covariate"] = counts["covariate"].to_numpy().tolist()
    pp = person_periods(counts)
    coords["person_period"] = np.arange(len(pp["event"]))
    sign = np.where(counts["treated"].to_numpy() == 1, 0.5, -0.5)
    with pm.Model(coords=coords) as model:
        theta = cumulative.effects(values, horizons)
        alpha = cumulative.midpoints(theta, horizons, prior, values)
        arm_logit = alpha[None, :] + cumulative.ARM_SIGN[:, None] * theta[None, :]
        person_logit = alpha[None, :] + sign[:, None] * theta[None, :]
        if x is None:
            pm.Deterministic("p", pm.math.invlogit(arm_logit), dims=("arm", "horizon"))
        else:
            eta = pm.Normal("eta", 0.0, ETA_SD, dims="covariate")
            shift = (x * eta[None, :]).sum(axis=1)
            person_logit = person_logit + shift[:, None]
            standardised = pm.math.invlogit(arm_logit[:, None, :] + shift[None, :, None])
            pm.Deterministic("p", standardised.mean(axis=1), dims=("arm", "horizon"))
        hazard = cumulative.logit_hazard(person_logit)
        pm.Bernoulli(
            "y",
            logit_p=hazard[pp["participant"], pp["interval"]],
            observed=pp["event"],
            dims="person_period",
        )
    return model
