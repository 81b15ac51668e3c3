"""Log-binomial model: the log risk ratio of the cumulative outcome, pooled over horizons.

The model of effect priors stated on the log RR (``scale = "log_rr"``); each participant is
counted once. For arm a and horizon k, with ``p[c, k]`` the control arm's and
``p[t, k] = RR[k] · p[c, k]`` the treatment arm's cumulative risk::

    events[a, k]  ~ Binomial(at_risk[a, k], h[a, k])       sequential binomials on the risk sets
    h[a, k]       = 1 − (1 − p[a, k]) / (1 − p[a, k−1])    interval hazard (p[a, 0] = 0)
    p[c, 1]       ~ the control-risk prior                 default Normal(0, 1.5²) on its logit
    1 − p[c, k]   = (1 − p[c, k−1]) · e^(−lambda[k])       lambda[k] ~ HalfNormal(length_k / 12)
    phi[k]        = log RR[k]                              log p[t, k] = phi[k] + log p[c, k]
    phi[1]        ~ Normal(m, s²) truncated to phi[1] ≤ −log p[c, 1]
    phi[k] | phi[k−1] ~ Normal(m + r_k (phi[k−1] − m), s² (1 − r_k²))
                    truncated to log p[t, k−1] − log p[c, k] ≤ phi[k] ≤ −log p[c, k]
    r_k           = rho ** (length_k / 12),  rho ~ Uniform(0, 1)

**The named prior.** Without the truncation, ``phi`` is the Ornstein–Uhlenbeck process of
:mod:`bayes_ips.models.cumulative` (``theta`` there) and each horizon's marginal is exactly the
named Normal(m, s²) on the log RR. The truncation keeps every draw a pair of risks: the
treatment risk never exceeds 1 (upper bound) and never falls from one horizon to the next
(lower bound). With one horizon the model is :mod:`bayes_ips.exact_log_binomial`'s, whose exact
posterior is the reference this model is tested against; with more, each horizon's marginal
prior is the named prior restricted to the risks that can occur. Each truncated normal is
written as its inverse CDF at a uniform ``u[k]``, so the sampler works on one vector of
uniforms.

**The control arm.** ``p[c, 1]`` has the control-risk prior stated in ``[priors]`` (a Normal on
its logit or a Beta on the risk; default Normal(0, 1.5²) on its logit); ``lambda[k]`` is the
control arm's cumulative hazard over interval k (about 1 per year at the prior's scale, as
``delta`` in the logistic model), so its cumulative risk never falls.

Assumption: as in the hierarchical logistic model, from aggregate counts the same analysed cohort
is followed to every horizon (:func:`bayes_ips.data.intervals.risk_sets`).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from bayes_ips.data.intervals import risk_sets
from bayes_ips.errors import InputError
from bayes_ips.models import cumulative, effect_for
from bayes_ips.priors import NormalEffect, Prior

NAME = "log_binomial"
KEY_PARAMETERS = ("phi", "rho", "control1", "lam")
"""What SBC ranks; ``phi`` is the log RR at every horizon."""
HAZARD_SCALE_PER_YEAR = 1.0


def _effect(prior: Prior) -> NormalEffect:
    prior.require("effect", NAME)
    effect = effect_for(NAME, prior)
    if not isinstance(effect, NormalEffect) or effect.scale != "log_rr":
        raise InputError(
            "spec",
            f"model {NAME!r} takes normal effect priors on the log RR",
            field="priors",
            value=prior.name,
        )
    return effect


def structure(prior: Prior) -> str:
    """The control-risk prior's family: priors with one family share one compiled model."""
    return prior.control_risk.family


def prior_data(prior: Prior) -> dict[str, float]:
    """Values of the model's prior ``pm.Data`` containers: the effect prior's mean and SD on the
    log RR and the control-risk prior's two parameters."""
    effect, control = _effect(prior), prior.control_risk
    return {
        "prior_phi_mean": effect.mean,
        "prior_phi_sd": effect.sd,
        "prior_control_a": control.a,
        "prior_control_b": control.b,
    }


def _control(prior: Prior, values: dict):
    """``log p[c, 1]`` under the control-risk prior."""
    a = pm.Data("prior_control_a", values["prior_control_a"])
    b = pm.Data("prior_control_b", values["prior_control_b"])
    if prior.control_risk.family == "beta":
        rate = pm.Beta("control1", a, b)
        return pt.log(rate)
    logit = pm.Normal("control1", a, b)
    return -pt.softplus(-logit)


def _phi_cdf(x):
    """The standard normal CDF."""
    return 0.5 * pt.erfc(-x / np.sqrt(2.0))


def _truncated(u, mean, sd, lower, upper):
    """Normal(mean, sd²) truncated to [lower, upper] by its inverse CDF at ``u`` (uniform on
    (0, 1)): exactly that distribution when ``u`` is uniform, so the model samples the uniforms
    (one vector, whatever the number of horizons) and no density term is needed. Clipped to the
    bounds against rounding in the far tails."""
    lo = 0.0 if lower is None else _phi_cdf((lower - mean) / sd)
    hi = _phi_cdf((upper - mean) / sd)
    value = mean - sd * np.sqrt(2.0) * pt.erfcinv(2.0 * (lo + u * (hi - lo)))
    value = pt.minimum(value, upper)
    return value if lower is None else pt.maximum(value, lower)


def build_model(counts: xr.Dataset, prior: Prior) -> pm.Model:
    """The PyMC model for counts with dims ``(arm, horizon)``, arm 0 the treatment.

    Raises
    ------
    InputError
        When aggregate counts break the same-cohort assumption, or the prior is not a normal
        prior on the log RR.
    """
    values = prior_data(prior)
    rs = risk_sets(counts)
    horizons = counts["horizon"].to_numpy().astype(float)
    coords = cumulative.horizon_coords(counts)
    with pm.Model(coords=coords) as model:
        m = pm.Data("prior_phi_mean", values["prior_phi_mean"])
        s = pm.Data("prior_phi_sd", values["prior_phi_sd"])
        log_c = [_control(prior, values)]
        u = pm.Uniform("u", 0.0, 1.0, dims="horizon")
        phis = [_truncated(u[0], m, s, None, -log_c[0])]
        if len(horizons) > 1:
            lengths = np.diff(horizons)
            rho = pm.Uniform("rho", 0.0, 1.0)
            lam = pm.HalfNormal("lam", HAZARD_SCALE_PER_YEAR * lengths / 12.0, dims="step")
            for k in range(1, len(horizons)):
                # log(1 − p) falls by lam: log p = log(1 − (1 − p_prev) e^−lam)
                log_q = pt.log1p(-pt.exp(log_c[-1])) - lam[k - 1]
                log_c.append(pt.log1p(-pt.exp(log_q)))
                r = rho ** (lengths[k - 1] / 12.0)
                lower = phis[-1] + log_c[-2] - log_c[-1]  # the treatment risk does not fall
                mean, sd = m + r * (phis[-1] - m), s * pt.sqrt(1.0 - r**2)
                phis.append(_truncated(u[k], mean, sd, lower, -log_c[-1]))
        phi = pm.Deterministic("phi", pt.stack(phis), dims="horizon")
        log_pc = pt.stack(log_c)
        log_p = pt.stack([phi + log_pc, log_pc])  # (arm, horizon), treatment first
        p = pm.Deterministic("p", pt.exp(log_p), dims=("arm", "horizon"))
        logit_p = log_p - pt.log1p(-p)
        cumulative.risk_set_likelihood(rs, logit_p)
    return model
