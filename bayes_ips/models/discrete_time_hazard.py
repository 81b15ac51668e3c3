"""Discrete-time hazard model: cumulative employment that can never fall.

"Employment attained during follow-up" is cumulative: whoever is employed by 6 months counts at
12 and 24 months too. The horizons h₁ < … < h_K cut follow-up into intervals k = 1…K
(0–6, 6–12, 12–24 months for the IPS in Pain trial); the model describes the hazard of a first
employment in each interval among those not yet employed. For arm a (``treated[a]`` 1 for the
treatment, 0 for the control) and interval k::

    events[a, k]  ~ Binomial(at_risk[a, k], h[a, k])
    logit h[a, k] = gamma[k] + beta[k] * treated[a]
    gamma[k]      ~ Normal(0, 1.5²)                   control log-odds of the interval hazard
    beta[k]       = mu + tau * z[k],  z[k] ~ Normal(0, 1)   non-centred partial pooling
    mu            ~ Normal(m0, s0²)                   the named prior's effect component
    tau           ~ HalfNormal(0.5)
    p[a, k]       = 1 − (1 − h[a, 1]) * … * (1 − h[a, k])   cumulative employment by horizon k

``p`` (dims ``arm, horizon``) is what every estimand uses, so RD, RR, OR and P(benefit) are those
of cumulative employment; since each factor ``1 − h`` lies in (0, 1), ``p`` is non-decreasing in
every posterior draw. ``beta`` is the log odds ratio of the interval hazards; the named prior's
effect component (a normal on a log odds ratio) is placed on their typical value ``mu``. This is
not the same scale as the cumulative log OR of the per-horizon models: a prior there and here
says the same words about a different quantity. ``gamma``'s prior puts 95% of each interval's
control hazard between 5% and 95%; ``tau`` as in ``hierarchical_logistic``. With one horizon
``tau`` is left out and ``beta = mu``.

Data (:func:`bayes_ips.data.intervals.risk_sets`): from aggregate cumulative counts, the interval
risk sets assume that the same analysed cohort is followed to every horizon
(``at_risk = n − employed before``, ``events = difference of cumulative counts``), and the
binomial product above is then exactly the likelihood of the cumulative counts; counts that fall
or an ``n_analysed`` that changes are an input error. From individual participant data the
likelihood is exact, one Bernoulli term per participant and interval at risk (censoring inside
an interval drops that participant from it), and optional standardised baseline covariates
``x[i]`` enter every interval's hazard with coefficients ``eta ~ Normal(0, 1)`` (per SD of the
covariate): ``logit h[i, k] = gamma[k] + beta[k] * treated[i] + x[i] · eta``. ``p`` is then the
marginal (standardised) cumulative employment: each participant's cumulative risk under arm a,
averaged over all participants of the compared arms (g-computation over the trial sample,
including those without an outcome, whose baseline covariates are known).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from bayes_ips.data.intervals import interval_labels, person_periods, risk_sets
from bayes_ips.data.ipd import has_participants, standardised_covariates
from bayes_ips.models import normal_effect_data
from bayes_ips.priors import Prior

NAME = "discrete_time_hazard"
GAMMA_SD = 1.5
TAU_SCALE = 0.5
ETA_SD = 1.0
KEY_PARAMETERS = ("mu", "tau", "beta", "gamma", "p")


def prior_data(prior: Prior) -> dict[str, float]:
    """Values of the model's prior ``pm.Data`` containers for a named prior."""
    return normal_effect_data(prior, NAME)


def _cumulative(logit_h, axis: int):
    """1 − ∏(1 − h) along ``axis`` from logit hazards, as 1 − exp(Σ log(1 − h))."""
    return 1.0 - pt.exp(pt.cumsum(-pt.softplus(logit_h), axis=axis))


def build_model(counts: xr.Dataset, prior: Prior) -> pm.Model:
    """The PyMC model for counts with dims ``(arm, horizon)``, arm 0 the treatment.

    With participant rows in ``counts`` (IPD) the likelihood is exact and covariates are used
    when present; otherwise the interval risk sets are derived from the cumulative counts.

    Raises
    ------
    InputError
        When aggregate counts break the same-cohort assumption.
    """
    values = prior_data(prior)
    horizons = counts["horizon"].to_numpy().tolist()
    coords = {
        "arm": counts["arm"].to_numpy().tolist(),
        "horizon": horizons,
        "interval": interval_labels(horizons),
    }
    ipd = has_participants(counts)
    x = standardised_covariates(counts) if ipd else None
    if x is not None:
        coords["covariate"] = counts["covariate"].to_numpy().tolist()
    treated = np.array([1.0, 0.0])
    with pm.Model(coords=coords) as model:
        m0 = pm.Data("prior_mu_mean", values["prior_mu_mean"])
        s0 = pm.Data("prior_mu_sd", values["prior_mu_sd"])
        gamma = pm.Normal("gamma", 0.0, GAMMA_SD, dims="interval")
        mu = pm.Normal("mu", m0, s0)
        if len(horizons) > 1:
            tau = pm.HalfNormal("tau", TAU_SCALE)
            z = pm.Normal("z", 0.0, 1.0, dims="interval")
            beta = pm.Deterministic("beta", mu + tau * z, dims="interval")
        else:
            beta = pm.Deterministic("beta", mu * np.ones(1), dims="interval")
        logit_h = gamma[None, :] + treated[:, None] * beta[None, :]
        pm.Deterministic("hazard", pm.math.invlogit(logit_h), dims=("arm", "interval"))
        if x is None:
            pm.Deterministic("p", _cumulative(logit_h, axis=1), dims=("arm", "horizon"))
        else:
            eta = pm.Normal("eta", 0.0, ETA_SD, dims="covariate")
            shift = pt.dot(x, eta)
            person = logit_h[:, None, :] + shift[None, :, None]
            pm.Deterministic("p", _cumulative(person, axis=2).mean(axis=1), dims=("arm", "horizon"))
        if ipd:
            pp = person_periods(counts)
            model.add_coord("person_period", np.arange(len(pp["event"])))
            linear = gamma[pp["interval"]] + pp["treated"] * beta[pp["interval"]]
            if x is not None:
                linear = linear + shift[pp["participant"]]
            pm.Bernoulli("y", logit_p=linear, observed=pp["event"], dims="person_period")
        else:
            rs = risk_sets(counts)
            pm.Binomial(
                "y",
                n=rs["at_risk"].to_numpy(),
                logit_p=logit_h,
                observed=rs["events"].to_numpy(),
                dims=("arm", "interval"),
            )
    return model
