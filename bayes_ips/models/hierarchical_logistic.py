"""Hierarchical logistic model: the log odds ratio of cumulative employment, pooled over horizons.

The named effect prior is the prior of the log odds ratio at every horizon; how strongly the
horizons share the effect is its own parameter, and each participant is counted once.

The construction is :mod:`bayes_ips.models.cumulative`'s; in short, for arm a (treatment first)
and horizon k::

    events[a, k] ~ Binomial(at_risk[a, k], h[a, k])      sequential binomials: the multinomial
                                                         over the interval of first employment
    h[a, k]      = 1 − (1 − p[a, k]) / (1 − p[a, k−1])   interval hazard (p[a, 0] = 0)
    logit p[a,k] = alpha[k] ± theta[k] / 2               + for the treatment, − for the control
    theta        ~ the named prior at every horizon     correlated by rho ** (|h_i − h_j| / 12)
    rho          ~ Uniform(0, 1)                         correlation of effects 12 months apart
    alpha[1]     ~ Normal(0, 1.5²)                       or the stated control-risk prior on
                                                         the control log-odds alpha[1] − theta[1]/2
    alpha[k]     = alpha[k−1] + |theta[k] − theta[k−1]| / 2 + delta[k] / pbar[k−1]
    pbar[k]      = (p[T, k] + p[C, k]) / 2               the arms' mean cumulative rate
    delta[k]     ~ HalfNormal(length_k / 12)             about the lagging arm's interval hazard

``p`` (dims ``arm, horizon``) is each arm's cumulative employment by each horizon, and what every
estimand uses; it is non-decreasing in every draw, since each arm's log-odds rises by at least
``delta / pbar``. ``delta`` is on the hazard scale, so an interval with no new employment says
next to nothing about the effect at earlier horizons. A normal prior is written non-centred
(centred when wider than SD 5, :func:`bayes_ips.models.cumulative.effects`); a
mixture prior (a robust MAP prior) as the mixture of the multivariate normals, whose every
marginal is the named mixture. The |·| is smoothed (never below |·|), which sets a floor of 0.025
on each arm's rise in log-odds per horizon step.

Assumption. The risk sets come from :func:`bayes_ips.data.intervals.risk_sets`: exact from
individual data and, from aggregate counts, under the assumption that the same analysed cohort is
followed to every horizon (counts that fall, or an ``n_analysed`` that changes, stop the run
before any fit). The prior's values and the risk sets enter as data (``pm.Data``), so
one compiled model serves every prior of the same :func:`structure` in a sweep, and every table of
the same horizons in a simulation.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import xarray as xr

from bayes_ips.data.intervals import risk_sets
from bayes_ips.models import cumulative
from bayes_ips.priors import Prior

NAME = "hierarchical_logistic"
KEY_PARAMETERS = ("theta", "rho", "alpha1", "delta")


def structure(prior: Prior) -> str:
    """``"normal"`` or ``"mixture"``: priors of one structure share one compiled model."""
    return cumulative.structure(prior, NAME)


def prior_data(prior: Prior) -> dict[str, float | np.ndarray]:
    """Values of the model's prior ``pm.Data`` containers for a named prior."""
    return cumulative.prior_data(prior, NAME)


def build_model(counts: xr.Dataset, prior: Prior) -> pm.Model:
    """The PyMC model for counts with dims ``(arm, horizon)``, arm 0 the treatment.

    Raises
    ------
    InputError
        When aggregate counts break the same-cohort assumption.
    """
    values = prior_data(prior)
    rs = risk_sets(counts)
    horizons = counts["horizon"].to_numpy().astype(float)
    coords = cumulative.horizon_coords(counts)
    with pm.Model(coords=coords) as model:
        theta = cumulative.effects(values, horizons)
        alpha = cumulative.midpoints(theta, horizons, prior, values)
        logit_p = alpha[None, :] + cumulative.ARM_SIGN[:, None] * theta[None, :]
        pm.Deterministic("p", pm.math.invlogit(logit_p), dims=("arm", "horizon"))
        cumulative.risk_set_likelihood(rs, logit_p)
    return model
