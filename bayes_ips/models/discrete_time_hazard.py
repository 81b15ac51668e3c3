"""Discrete-time hazard model: cumulative employment that can never fall.

"Employment attained during follow-up" is cumulative: whoever is employed by 6 months counts at
12 and 24 months too. The horizons h₁ < … < h_K cut follow-up into intervals k = 1…K of lengths
Δt[k] months (0–6, 6–12, 12–24 months for the IPS in Pain trial); the model describes the hazard
of a first employment in each interval among those not yet employed, as a grouped-time
proportional-hazards model (complementary log-log link with a log-length offset). For arm a
(``s[a]`` = +½ for the treatment, −½ for the control) and interval k::

    events[a, k]     ~ Binomial(at_risk[a, k], h[a, k])
    cloglog h[a, k]  = log(dt[k]) + gamma[k] + beta[k] * s[a]
    gamma[k]         = gamma0 + w[k],  w[k] ~ Normal(0, 1)   the arms' mean log monthly rate
    gamma0           ~ Normal(log 0.03, 1.5²)                 typical log monthly rate
    beta[k]          = mu + tau * z[k],  z[k] ~ Normal(0, 1)          log hazard ratio
    mu               ~ Normal(0, 2.5²)                                typical log hazard ratio
    tau              ~ HalfNormal(0.5)
    p[a, k]          = 1 − exp(−Σ over j ≤ k of exp(log(dt[j]) + gamma[j] + beta[j] * s[a]))

Baseline. ``cloglog h = log(1 − log(1 − h))``, so ``exp(gamma[k] ± beta[k]/2)`` is an arm's
constant monthly hazard rate inside interval k and ``h = 1 − exp(−rate · Δt)``: an interval's
hazard grows with its length, and many short intervals add up to the same cumulative employment
as one long one with the same rates. The baseline ``gamma0`` is the arms' typical log monthly
rate of a first employment, centred on 3% a month (about 30% employed within 12 months, the
control arms of the bundled IPS studies: 7/18, 12/43 and 15/61 at 12 months, 62/164 at 24), and
its SD of 1.5 puts 95% of the monthly rate between 0.16% and 57%. Each interval's log rate
deviates from ``gamma0`` by ``w[k]`` (95% of the rates within a factor e² ≈ 7.4 of the typical
one), so an interval with few events borrows its level from the other intervals' events rather
than from the prior; the two together give each interval's log rate a Normal(log 0.03, 1.8²)
prior, correlated 0.69 between intervals. The deviation's SD is fixed rather than estimated: with
a few intervals it is barely identified, and estimating it (HalfNormal(1)) gave divergent
transitions on the bundled data, while this prior on ``gamma`` is jointly normal and the
posterior log-concave. With one horizon ``gamma = gamma0``.

Effect. ``beta[k]`` is the log HAZARD RATIO (treatment against control) in interval k, the same
in every month of it (grouped proportional hazards), partially pooled across intervals;
``tau``'s scale lets the hazard ratio differ between intervals by a factor of about 2.7 at its
68th percentile. Its prior is the model's own weakly informative default, Normal(0, 2.5²) on the
log hazard ratio (95% of the hazard ratio between 0.007 and 134). The library's named effect
priors (the 3 × 3 grid, MCID, evidence, MAP, user priors) are priors of the log odds ratio of
*cumulative* employment at each horizon, a different quantity, so this model carries only the
``reference`` prior and refuses any other (the logistic models carry the named log-OR priors).
With one horizon ``tau`` is left out and
``beta = mu``. The arms enter symmetrically (``s = ±½``), so swapping the arm labels mirrors
every answer and identical arms give P(benefit) = ½.

Cumulative employment. ``p`` (dims ``arm, horizon``) is what every estimand uses, so RD, RR, OR
and P(benefit) are those of cumulative employment; each interval adds a positive amount to the
cumulative hazard, so ``p`` is non-decreasing in every posterior draw.

Data (:func:`bayes_ips.data.intervals.risk_sets`): from aggregate cumulative counts, the interval
risk sets assume that the same analysed cohort is followed to every horizon
(``at_risk = n − employed before``, ``events = difference of cumulative counts``), and the
binomial product above is then exactly the likelihood of the cumulative counts, each participant
counted once; counts that fall or an ``n_analysed`` that changes are an input error. From
individual participant data the likelihood is exact, one Bernoulli term per participant and
interval at risk (censoring inside an interval drops that participant from it), and optional
standardised baseline covariates ``x[i]`` enter every interval's log rate with coefficients
``eta ~ Normal(0, 1)`` (log hazard ratio per SD of the covariate):
``cloglog h[i, k] = log(Δt[k]) + gamma[k] + beta[k] * s[i] + x[i] · eta``. ``p`` is then the
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
from bayes_ips.models import check_prior
from bayes_ips.priors import Prior

NAME = "discrete_time_hazard"
GAMMA0_MEAN = float(np.log(0.03))
GAMMA0_SD = 1.5
SIGMA = 1.0
"""SD of each interval's log rate around ``gamma0``."""
MU_SD = 2.5
TAU_SCALE = 0.5
ETA_SD = 1.0
KEY_PARAMETERS = ("gamma0", "gamma", "mu", "tau", "beta", "p")
ARM_SIGN = np.array([0.5, -0.5])
"""``s[a]``: +½ for the treatment (arm 0), −½ for the control."""


def prior_data(prior: Prior) -> dict[str, float]:
    """Values of the model's prior ``pm.Data`` containers: none, as its priors are fixed; an
    input error for any prior but ``reference`` (:func:`bayes_ips.models.check_prior`)."""
    check_prior(NAME, prior)
    return {}


def _cumulative(log_rate, axis: int):
    """``1 − exp(−Σ exp(log_rate))`` along ``axis``, cumulatively: 1 − survival."""
    return -pt.expm1(-pt.cumsum(pt.exp(log_rate), axis=axis))


def _logit_hazard(log_rate):
    """``logit h`` of ``h = 1 − exp(−exp(log_rate))``, stable at both ends."""
    rate = pt.exp(log_rate)
    return pt.log1mexp(-rate) + rate


def build_model(counts: xr.Dataset, prior: Prior) -> pm.Model:
    """The PyMC model for counts with dims ``(arm, horizon)``, arm 0 the treatment.

    With participant rows in ``counts`` (IPD) the likelihood is exact and covariates are used
    when present; otherwise the interval risk sets are derived from the cumulative counts.

    Raises
    ------
    InputError
        For any prior but ``reference``, and when aggregate counts break the same-cohort
        assumption.
    """
    check_prior(NAME, prior)
    horizons = counts["horizon"].to_numpy().tolist()
    log_dt = np.log(np.diff(np.asarray([0.0, *horizons], dtype=float)))
    coords = {
        "arm": counts["arm"].to_numpy().tolist(),
        "horizon": horizons,
        "interval": interval_labels(horizons),
    }
    ipd = has_participants(counts)
    x = standardised_covariates(counts) if ipd else None
    if x is not None:
        coords["covariate"] = counts["covariate"].to_numpy().tolist()
    several = len(horizons) > 1
    with pm.Model(coords=coords) as model:
        gamma0 = pm.Normal("gamma0", GAMMA0_MEAN, GAMMA0_SD)
        mu = pm.Normal("mu", 0.0, MU_SD)
        if several:
            w = pm.Normal("w", 0.0, 1.0, dims="interval")
            gamma = pm.Deterministic("gamma", gamma0 + SIGMA * w, dims="interval")
            tau = pm.HalfNormal("tau", TAU_SCALE)
            z = pm.Normal("z", 0.0, 1.0, dims="interval")
            beta = pm.Deterministic("beta", mu + tau * z, dims="interval")
        else:
            gamma = pm.Deterministic("gamma", gamma0 * np.ones(1), dims="interval")
            beta = pm.Deterministic("beta", mu * np.ones(1), dims="interval")
        log_rate = log_dt[None, :] + gamma[None, :] + ARM_SIGN[:, None] * beta[None, :]
        pm.Deterministic("hazard", -pt.expm1(-pt.exp(log_rate)), dims=("arm", "interval"))
        if x is None:
            pm.Deterministic("p", _cumulative(log_rate, axis=1), dims=("arm", "horizon"))
        else:
            eta = pm.Normal("eta", 0.0, ETA_SD, dims="covariate")
            shift = (x * eta[None, :]).sum(axis=1)  # no BLAS dot: its fallback warns
            person = log_rate[:, None, :] + shift[None, :, None]
            pm.Deterministic("p", _cumulative(person, axis=2).mean(axis=1), dims=("arm", "horizon"))
        if ipd:
            pp = person_periods(counts)
            model.add_coord("person_period", np.arange(len(pp["event"])))
            k, sign = pp["interval"], np.where(pp["treated"] == 1, 0.5, -0.5)
            linear = log_dt[k] + gamma[k] + sign * beta[k]
            if x is not None:
                linear = linear + shift[pp["participant"]]
            pm.Bernoulli(
                "y", logit_p=_logit_hazard(linear), observed=pp["event"], dims="person_period"
            )
        else:
            rs = risk_sets(counts)
            pm.Binomial(
                "y",
                n=rs["at_risk"].to_numpy(),
                logit_p=_logit_hazard(log_rate),
                observed=rs["events"].to_numpy(),
                dims=("arm", "interval"),
            )
    return model
