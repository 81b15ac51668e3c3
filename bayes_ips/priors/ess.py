"""Prior effective sample size (ESS): how many patients a prior is worth.

Effect priors (on the log odds ratio ``theta``) are measured in **patients per arm of a 1:1
trial** whose control rate is the anchor ``p0`` (the trial's control rate, see
:mod:`bayes_ips.priors.library`). One such pair of patients carries the efficient Fisher
information about ``theta`` (the control log-odds being a nuisance parameter)::

    i(theta) = 1 / (1 / (p_t (1 − p_t)) + 1 / (p0 (1 − p0))),   p_t = invlogit(logit p0 + theta).

Three definitions are reported; they answer different questions:

- **rate-scale** ESS (:func:`rate_scale`), the one that says how much a prior claims to know.
  With the control rate at the anchor, the prior implies a distribution of the treatment rate
  ``p_t`` with mean ``mu`` and variance ``v``. The Beta with the same mean and variance (the
  "moment" ESS of RBesT) is worth ``m = mu (1 − mu) / v − 1`` treatment patients, and a 1:1 trial
  carries the same information about ``theta`` with ``m (1 + mu (1 − mu) / (p0 (1 − p0)))``
  patients per arm. For informative normal priors it agrees with the two below; it falls to 0 as
  the SD grows, so vague priors rank below informative ones and a wider prior below a narrower
  one. For mixtures it is driven by the whole mixture's spread, so a robust mixture scores far
  below the ESS of its informative part.
- **ELIR**, the expected local-information ratio of Neuenschwander, Weber, Schmidli and O'Hagan,
  "Predictively consistent prior effective sample sizes", Biometrics 76 (2020) 578–587: the prior
  expectation of ``i_prior(theta) / i(theta)`` with ``i_prior = −d² log pi / d theta²``. It is the
  definition RBesT uses (``ess(..., method = "elir")``), it applies to mixtures, and it is
  predictively consistent. For a Normal(m, s²) prior it has the closed form
  ``(2 + e^(eta0 + m + s²/2) + e^(−eta0 − m + s²/2) + 1 / (p0 (1 − p0))) / s²`` with
  ``eta0 = logit p0``; mixtures are integrated numerically on a fine grid. **Where it breaks
  down:** beyond an SD of about 2 it *rises* with the SD (N(0, 2.5²) scores more than N(0, 2²),
  N(0, 4²) hundreds of patients), because such a prior piles the treatment rate up near 0 and 1,
  where ``i(theta)`` is tiny and its inverse huge. It then measures how strongly the prior holds
  those extreme rates, not how much it claims to know.
- **local** ESS at the prior mean, as in Morita, Thall and Müller, "Determining the effective
  sample size of a parametric prior", Biometrics 64 (2008) 595–602: ``i_prior / i`` evaluated at
  the prior mean. For a mixture it reads the curvature at one point only (the MAP prior's local
  value is about twice its ELIR).

A prior whose implied treatment-rate density has more than one mode (:func:`rate_shape`; a normal
on the log OR centred near the anchor does when its SD exceeds about √2) is vague on the log-odds
scale but not on the rate scale: it says the rate is probably near 0% or 100%. Such priors carry
a warning wherever their ESS is shown.

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
EXTREME = 0.05
"""Implied treatment rates below this or above 1 − this count as "near 0% or 100%"."""
DEFINITIONS = {
    "effect_rate_scale": "the implied treatment rate at the anchor control rate, "
    "moment-matched to a Beta (a + b treatment patients), as patients per arm of a 1:1 trial "
    "with the same information about the log OR; ranks vague priors below informative ones",
    "effect_elir": "expected local-information ratio (Neuenschwander et al. 2020); rises with "
    "the SD beyond about 2, when the prior piles the treatment rate up near 0% and 100%",
    "effect_local": "local information ratio at the prior mean (Morita et al. 2008); one point "
    "of a mixture only",
    "rate": "a + b of each arm's Beta",
}
"""What each ESS key of :func:`prior_ess` measures, in words (summary.json and the report)."""


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


def _rate_moments(effect: _Effect, control_rate: float) -> tuple[float, float]:
    """Mean and variance of the treatment rate under the prior: ``invlogit(logit p0 + theta)``
    for a prior on the log OR, ``p0 · e^theta`` for one on the log RR, there conditioned on
    ``p0 · e^theta ≤ 1`` as the log-binomial models condition it; component by component on a
    grid of standard-normal quantiles."""
    w, m, s = effect.components()
    z = np.linspace(-GRID_SDS, GRID_SDS, GRID_POINTS)
    density = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    theta = m[:, None] + s[:, None] * z
    if effect.scale == "log_rr":
        with np.errstate(over="ignore"):
            rate = control_rate * np.exp(theta)
        keep = rate <= 1.0
        rate, weight = np.where(keep, rate, 0.0), np.where(keep, density, 0.0)
    else:
        rate = special.expit(special.logit(control_rate) + theta)
        weight = np.broadcast_to(density, theta.shape)
    mass = w @ np.trapezoid(weight, z, axis=1)
    first = w @ np.trapezoid(rate * weight, z, axis=1) / mass
    second = w @ np.trapezoid(rate**2 * weight, z, axis=1) / mass
    return float(first), float(second - first**2)


def rate_scale(effect: _Effect, control_rate: float) -> float:
    """Rate-scale (moment-matched Beta) ESS of an effect prior, in patients per arm."""
    mean, var = _rate_moments(effect, control_rate)
    spread = mean * (1 - mean)
    treatment_patients = max(spread / var - 1.0, 0.0)
    return treatment_patients * (1.0 + spread / (control_rate * (1 - control_rate)))


def rate_shape(effect: _Effect, control_rate: float) -> dict:
    """Shape of the implied treatment rate at the anchor control rate.

    Returns
    -------
    dict
        ``modes``: how many local maxima its density has (a rise towards 0% or 100% at the end
        of the grid counts as one); ``u_shaped``: more than one mode; ``extreme_mass``: the prior
        probability that the rate is below 5% or above 95%.
    """
    _, m, s = effect.components()
    lo, hi = (m - GRID_SDS * s).min(), (m + GRID_SDS * s).max()
    if effect.scale == "log_rr":
        # p = p0 e^theta on theta ≤ −log p0; as a function of x = log p, the density of p is
        # pi(x − log p0) / p, and the mass is renormalised to the feasible part
        lp0 = math.log(control_rate)
        x = np.linspace(lo + lp0, min(hi + lp0, 0.0), GRID_POINTS)
        log_density = effect.logpdf(x - lp0) - x
        feasible = float(effect.cdf(-lp0))
        below, above = math.log(EXTREME), math.log(1.0 - EXTREME)
        extreme = (effect.cdf(below - lp0) + feasible - effect.cdf(above - lp0)) / feasible
    else:
        eta0 = float(special.logit(control_rate))
        x = np.linspace(lo, hi, GRID_POINTS) + eta0
        # the density of p = invlogit(x) as a function of x: log pi(x − eta0) − log p(1 − p)
        log_density = effect.logpdf(x - eta0) + np.logaddexp(0, -x) + np.logaddexp(0, x)
        cut = float(special.logit(EXTREME))
        extreme = effect.cdf(cut - eta0) + 1.0 - effect.cdf(-cut - eta0)
    rising = np.diff(log_density) > 0
    modes = int(np.sum(rising[:-1] & ~rising[1:])) + int(not rising[0]) + int(rising[-1])
    return {"modes": modes, "u_shaped": modes > 1, "extreme_mass": float(extreme)}


def rate_ess(rate: BetaRate) -> dict[str, float]:
    """``a + b`` of each arm's Beta."""
    return {"control": float(sum(rate.control)), "treatment": float(sum(rate.treatment))}


def prior_ess(prior: Prior, control_rate: float) -> dict:
    """Every ESS of a prior, JSON-ready.

    Returns
    -------
    dict
        ``effect_rate_scale``, ``effect_elir`` and ``effect_local`` (patients per arm, None
        without an effect component; see :data:`DEFINITIONS`), ``effect_rate_shape``
        (:func:`rate_shape`, None without an effect component), ``rate_control`` and
        ``rate_treatment`` (``a + b``, None without a rate component), ``control_rate`` (the
        anchor) and ``unit``.
    """
    out: dict = {
        "effect_rate_scale": None,
        "effect_rate_shape": None,
        "effect_elir": None,
        "effect_local": None,
        "rate_control": None,
        "rate_treatment": None,
        "control_rate": control_rate,
        "unit": UNIT,
    }
    if prior.effect is not None:
        out["effect_rate_scale"] = rate_scale(prior.effect, control_rate)
        out["effect_rate_shape"] = rate_shape(prior.effect, control_rate)
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


def shape_warning(shape: dict | None) -> str | None:
    """The warning shown beside a prior whose implied treatment rate is U-shaped, else None."""
    if not shape or not shape["u_shaped"]:
        return None
    return (
        f"⚠ U-shaped on the rate scale: {100 * shape['extreme_mass']:.0f}% of the implied "
        f"treatment rate lies below {100 * EXTREME:g}% or above {100 * (1 - EXTREME):g}%; vague "
        "on the log odds, informative about rates near 0% and 100%"
    )
