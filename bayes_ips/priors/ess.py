"""Prior effective sample size (ESS): how many patients a prior is worth.

Effect priors (on the log odds ratio ``theta``) are measured in **patients per arm of a 1:1
trial** whose control rate is the anchor ``p0`` (the trial's control rate, see
:mod:`bayes_ips.priors.library`). One such pair of patients carries the efficient Fisher
information about ``theta`` (the control log-odds being a nuisance parameter)::

    i(theta) = 1 / (1 / (p_t (1 − p_t)) + 1 / (p0 (1 − p0))),   p_t = invlogit(logit p0 + theta).

Two definitions are reported:

- **ELIR**, the expected local-information ratio of Neuenschwander, Weber, Schmidli and O'Hagan,
  "Predictively consistent prior effective sample sizes", Biometrics 76 (2020) 578–587: the prior
  expectation of ``i_prior(theta) / i(theta)`` with ``i_prior = −d² log pi / d theta²``. It is the
  definition RBesT uses (``ess(..., method = "elir")``), it applies to mixtures, and it is
  predictively consistent. For a Normal(m, s²) prior it has the closed form
  ``(2 + e^(eta0 + m + s²/2) + e^(−eta0 − m + s²/2) + 1 / (p0 (1 − p0))) / s²`` with
  ``eta0 = logit p0``; mixtures are integrated numerically on a fine grid.
- **local** ESS at the prior mean, as in Morita, Thall and Müller, "Determining the effective
  sample size of a parametric prior", Biometrics 64 (2008) 595–602: ``i_prior / i`` evaluated at
  the prior mean. For vague priors it is smaller than ELIR, because extreme rates (where vague
  priors put mass) carry little information about odds, which ELIR averages in.

Effect priors on the log risk ratio ``phi`` (``scale = "log_rr"``) are measured the same way,
with the efficient information of a pair about ``phi`` (the control log-risk a nuisance)::

    i(phi) = 1 / ((1 − p_t) / p_t + (1 − p0) / p0),   p_t = p0 e^phi,

so that a Normal(m, s²) prior has ELIR ``(e^(−m + s²/2) / p0 + 1 / p0 − 2) / s²`` (the prior
expectation taken under the untruncated normal; in logs, so that any SD gives a number).

Beta(a, b) rate priors are worth ``a + b`` patients in their arm (the conjugate count).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from bayes_ips.priors.core import BetaRate, NormalEffect, Prior, _Effect

UNIT = "patients per arm (1:1 allocation) at the anchor control rate"
GRID_SDS = 12.0
GRID_POINTS = 20001


def _inverse_information(theta, control_rate: float, scale: str = "log_or"):
    if scale == "log_rr":
        # (1 − p_t) / p_t + (1 − p0) / p0 with p_t = p0 e^phi
        phi = np.asarray(theta, dtype=float)
        return np.exp(-phi) / control_rate + 1.0 / control_rate - 2.0
    eta = special.logit(control_rate) + np.asarray(theta, dtype=float)
    # 1 / (p_t (1 − p_t)) = 2 + e^eta + e^−eta
    return 2.0 + np.exp(eta) + np.exp(-eta) + 1.0 / (control_rate * (1 - control_rate))


def _prior_information(effect: _Effect, theta: np.ndarray) -> np.ndarray:
    """``−d² log pi / d theta²`` of a normal mixture, analytically."""
    w, m, s = effect.components()
    x = theta[:, None]
    log_c = np.log(w) - 0.5 * ((x - m) / s) ** 2 - np.log(s)
    r = np.exp(log_c - special.logsumexp(log_c, axis=1, keepdims=True))  # responsibilities
    d1 = -(x - m) / s**2
    first = (r * d1).sum(1)
    second = (r * (d1**2 - 1 / s**2)).sum(1)
    return first**2 - second


def elir(effect: _Effect, control_rate: float) -> float:
    """ELIR effective sample size of an effect prior (patients per arm)."""
    if isinstance(effect, NormalEffect) and effect.scale == "log_rr":
        m, s2 = effect.mean, effect.sd**2
        log_value, sign = special.logsumexp(
            [-m + s2 / 2, 0.0], b=[1.0, 1.0 - 2 * control_rate], return_sign=True
        )
        if sign <= 0:
            return 0.0
        log_elir = float(log_value) - math.log(control_rate) - math.log(s2)
        return math.exp(log_elir) if log_elir < 709.0 else math.inf
    if isinstance(effect, NormalEffect):
        m, s2 = effect.mean, effect.sd**2
        eta0 = float(special.logit(control_rate))
        # in logs: e^(s²/2) overflows a float for s > 37 (issue 18); beyond the float range the
        # ELIR is returned as inf
        log_terms = [
            math.log(2.0 + 1.0 / (control_rate * (1 - control_rate))),
            eta0 + m + s2 / 2,
            -eta0 - m + s2 / 2,
        ]
        log_elir = float(special.logsumexp(log_terms)) - math.log(s2)
        return math.exp(log_elir) if log_elir < 709.0 else math.inf
    _, m, s = effect.components()
    grid = np.linspace((m - GRID_SDS * s).min(), (m + GRID_SDS * s).max(), GRID_POINTS)
    with np.errstate(over="ignore", invalid="ignore"):
        integrand = effect.pdf(grid) * _prior_information(effect, grid)
        integrand *= _inverse_information(grid, control_rate, effect.scale)
        value = float(np.trapezoid(integrand, grid))
    return value if math.isfinite(value) else math.inf


def local(effect: _Effect, control_rate: float) -> float:
    """Local information ratio at the prior mean (Morita-style), in patients per arm."""
    at = np.array([effect.mixture_mean])
    info = _prior_information(effect, at)[0]
    return float(info * _inverse_information(at, control_rate, effect.scale)[0])


def rate_ess(rate: BetaRate) -> dict[str, float]:
    """``a + b`` of each arm's Beta."""
    return {"control": float(sum(rate.control)), "treatment": float(sum(rate.treatment))}


def prior_ess(prior: Prior, control_rate: float) -> dict:
    """Every ESS of a prior, JSON-ready.

    Returns
    -------
    dict
        ``effect_elir`` and ``effect_local`` (patients per arm, None without an effect
        component), ``rate_control`` and ``rate_treatment`` (``a + b``, None without a rate
        component), ``control_rate`` (the anchor) and ``unit``.
    """
    out: dict = {
        "effect_elir": None,
        "effect_local": None,
        "rate_control": None,
        "rate_treatment": None,
        "control_rate": control_rate,
        "unit": UNIT,
    }
    if prior.effect is not None:
        out["effect_elir"] = elir(prior.effect, control_rate)
        if math.isinf(out["effect_elir"]):
            out["effect_elir_reason"] = "beyond the floating-point range (> 1e308)"
        out["effect_local"] = local(prior.effect, control_rate)
    if prior.rate is not None:
        r = rate_ess(prior.rate)
        out["rate_control"], out["rate_treatment"] = r["control"], r["treatment"]
    return out


def trial_ess(n_treatment: float, n_control: float) -> float:
    """The trial's own size as patients per arm of a 1:1 trial with the same information about
    the log OR at equal rates: ``2 / (1/n_t + 1/n_c)``."""
    return 2.0 / (1.0 / n_treatment + 1.0 / n_control)
