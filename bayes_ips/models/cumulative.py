"""Cumulative employment by each horizon, counted once per participant: the construction shared
by ``hierarchical_logistic`` (aggregate counts) and ``adjusted_logistic`` (individual data).

"Employed by 6 / 12 / 24 months" are cumulative outcomes of one cohort. Each participant is
counted once: the likelihood is the multinomial over "first employed in interval k / not employed
by the last horizon", written as a product of sequential binomials (events among those still at
risk, :func:`bayes_ips.data.intervals.risk_sets`). From aggregate counts this needs the
assumption that the same analysed cohort is followed to every horizon (checked before any fit);
individual data give exact risk sets.

For arm a (``s[a]`` = +1/2 for the treatment, −1/2 for the control) and horizon k, the cumulative
log-odds of employment is::

    logit p[a, k] = alpha[k] + s[a] * theta[k]

- ``theta[k]`` is the log odds ratio of cumulative employment at horizon k, and the named effect
  prior is its prior **at every horizon**: theta ~ MvNormal(m·1, s²·R) for a Normal(m, s²) prior,
  or the mixture of such multivariate normals for a mixture prior, so each horizon's marginal is
  exactly the named prior. How strongly the horizons share the effect is a separate parameter:
  ``R[i, j] = rho ** (|h_i − h_j| / 12)`` (an Ornstein–Uhlenbeck correlation in months), with
  ``rho`` — the correlation of the effects 12 months apart — ~ Uniform(0, 1). Horizons close in
  time share nearly the same effect; with one horizon there is no ``rho``.
- ``alpha[k]`` is the midpoint log-odds. ``alpha[1] ~ Normal(0, 1.5²)``: 95% of the mass on
  rates between 5% and 95%. A midpoint prior stated in ``[priors]`` replaces it by
  Normal(mean, sd²); a control-risk prior stated there replaces it by that prior on the control
  arm's first log-odds ``alpha[1] − theta[1]/2`` (:func:`first_midpoint`).
  Under the default the arms enter symmetrically (±theta/2), so swapping the arm labels mirrors
  every answer, and identical arms give P(benefit) = 1/2 under any prior symmetric about no
  effect.
- For k ≥ 2, ``alpha[k] = alpha[k−1] + |theta[k] − theta[k−1]|/2 + delta[k] / pbar[k−1]``
  (|·| smoothed, see :data:`SMOOTH`), with ``pbar`` the arms' mean cumulative rate and
  ``delta[k] ~ HalfNormal(length_k / 12)``. The lagging arm's cumulative log-odds rises by
  ``delta[k] / pbar``, so its hazard of a first employment over interval k is about ``delta[k]``
  whatever the level already reached: ``delta`` is on the hazard scale (up to about 1 per year at
  the prior's scale, so short intervals expect few first employments), and an interval with no
  new employment says next to nothing about the effect at the earlier horizons (repeating a
  horizon's counts one and two months later moves P(benefit) there by about 1 percentage point
  under vague priors; ``tests/test_validity.py``). Each arm's cumulative
  log-odds rises by at least that much, so cumulative employment never falls in any draw, while
  theta keeps its named prior.

The interval hazard of a first employment is ``h[a, k] = 1 − (1 − p[a, k]) / (1 − p[a, k−1])``;
the likelihood is ``events ~ Binomial(at_risk, h)``. With one horizon
the model is the single-horizon logistic model whose exact posterior
:mod:`bayes_ips.exact_logistic` computes by quadrature.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayes_ips.data.intervals import interval_labels
from bayes_ips.errors import InputError
from bayes_ips.logodds import CONTROL_LOGIT_SD
from bayes_ips.priors import MixtureEffect, NormalEffect, Prior

ALPHA_SD = CONTROL_LOGIT_SD
DELTA_SCALE_PER_YEAR = 1.0
SMOOTH = 0.05
"""|x| is written sqrt(x² + SMOOTH²) in the midpoints' rises: a kink in the posterior (where an arm
with no new employment pins its rise at zero) made NUTS diverge; the smooth form is never below
|x|, so monotonicity holds, at the price of a floor of SMOOTH / 2 = 0.025 on each arm's rise in
log-odds per horizon step (about half a percentage point at a 40% rate)."""
MIXTURE_COMPONENTS = 5
ARM_SIGN = np.array([0.5, -0.5])
"""Arm 0 is the treatment: logit p = alpha ± theta / 2."""


WIDE_SD = 5.0
"""A normal effect prior with a larger SD (log OR) is written centred (:func:`effects`)."""
CENTRING = 0.75
"""How far the wide form centres the changes of the effect between horizons (1: fully)."""


def structure(prior: Prior, model: str) -> str:
    """``"normal"``, ``"wide"`` (a normal prior with SD above :data:`WIDE_SD`) or ``"mixture"``,
    followed by ``"+control_<family>"`` when a control-risk prior is stated or ``"+midpoint"``
    when a midpoint prior is: priors of one structure share one compiled model."""
    effect = prior.require("effect", model)
    if isinstance(effect, MixtureEffect):
        kind = "mixture"
    else:
        kind = "wide" if effect.sd > WIDE_SD else "normal"
    if prior.control is not None:
        return f"{kind}+control_{prior.control.family}"
    return kind if prior.midpoint is None else f"{kind}+midpoint"


def prior_data(prior: Prior, model: str) -> dict[str, float | np.ndarray]:
    """Values of the ``pm.Data`` containers of a named effect prior.

    A normal prior gives ``prior_theta_mean`` and ``prior_theta_sd``; a mixture gives
    ``prior_theta_weights``, ``prior_theta_means`` and ``prior_theta_sds``, each of length
    :data:`MIXTURE_COMPONENTS` (unused slots: weight 0, mean 0, SD 1). A stated control-risk
    prior adds its two parameters, ``prior_control_a`` and ``prior_control_b``; a stated midpoint
    prior its ``prior_midpoint_mean`` and ``prior_midpoint_sd``.
    """
    effect = prior.require("effect", model)
    baseline = {}
    if prior.control is not None:
        baseline = {"prior_control_a": prior.control.a, "prior_control_b": prior.control.b}
    if prior.midpoint is not None:
        baseline = {
            "prior_midpoint_mean": prior.midpoint.mean,
            "prior_midpoint_sd": prior.midpoint.sd,
        }
    if isinstance(effect, NormalEffect):
        return {"prior_theta_mean": effect.mean, "prior_theta_sd": effect.sd, **baseline}
    w, m, s = effect.components()
    if len(w) > MIXTURE_COMPONENTS:
        raise InputError(
            "spec",
            f"model {model!r} supports mixtures of up to {MIXTURE_COMPONENTS} normals",
            field="priors",
            value=prior.name,
        )
    pad = MIXTURE_COMPONENTS - len(w)
    return {
        "prior_theta_weights": np.concatenate([w, np.zeros(pad)]),
        "prior_theta_means": np.concatenate([m, np.zeros(pad)]),
        "prior_theta_sds": np.concatenate([s, np.ones(pad)]),
        **baseline,
    }


def correlation(rho, horizons: np.ndarray):
    """``R[i, j] = rho ** (|h_i − h_j| / 12)``."""
    return rho ** (np.abs(horizons[:, None] - horizons[None, :]) / 12.0)


def correlation_factor(rho, horizons: np.ndarray):
    """The lower Cholesky factor of :func:`correlation`, in closed form (the Ornstein–Uhlenbeck
    process is Markov): ``L[k, j] = rho ** ((h_k − h_j)/12) · √(1 − rho ** (2 (h_j − h_{j−1})/12))``
    for j ≤ k, with the square root 1 for j = 1."""
    gaps = np.tril(horizons[:, None] - horizons[None, :]) / 12.0
    fresh = pt.concatenate([pt.ones(1), pt.sqrt(1.0 - rho ** (2.0 * np.diff(horizons) / 12.0))])
    return pt.tril(rho**gaps * fresh[None, :])


def effects(values: dict, horizons: np.ndarray):
    """``theta`` (dim ``horizon``): the named prior at every horizon, correlated by ``rho``.

    A normal prior is written non-centred, ``theta = m + s · L z`` with ``z ~ Normal(0, 1)``
    (``L`` from :func:`correlation_factor`), unless its SD is above :data:`WIDE_SD`
    (:func:`_centred_effects`); a mixture of normals as the mixture of the multivariate normals,
    whose every marginal is the named mixture.
    """
    k = len(horizons)
    if "prior_theta_sd" in values and values["prior_theta_sd"] > WIDE_SD:
        return _centred_effects(values, horizons)
    rho = pm.Uniform("rho", 0.0, 1.0) if k > 1 else None
    if "prior_theta_weights" in values:
        w = pm.Data("prior_theta_weights", values["prior_theta_weights"])
        m = pm.Data("prior_theta_means", values["prior_theta_means"])
        s = pm.Data("prior_theta_sds", values["prior_theta_sds"])
        r = correlation(rho, horizons) if k > 1 else np.ones((1, 1))
        components = [
            pm.MvNormal.dist(mu=m[j] * np.ones(k), cov=s[j] ** 2 * r)
            for j in range(MIXTURE_COMPONENTS)
        ]
        return pm.Mixture("theta", w=w, comp_dists=components, dims="horizon")
    m = pm.Data("prior_theta_mean", values["prior_theta_mean"])
    s = pm.Data("prior_theta_sd", values["prior_theta_sd"])
    z = pm.Normal("z", 0.0, 1.0, dims="horizon")
    shared = z if k == 1 else (correlation_factor(rho, horizons) * z[None, :]).sum(axis=1)
    return pm.Deterministic("theta", m + s * shared, dims="horizon")


def _centred_effects(values: dict, horizons: np.ndarray):
    """``theta`` under a wide normal prior, (mostly) centred, in the Markov form of its
    correlation, with g the gap between horizons in years and c = :data:`CENTRING`::

        theta[1] ~ Normal(m, s²)
        theta[k] = m + rho^g · (theta[k−1] − m) + tau[k]^(1−c) · eps[k]
        eps[k]   ~ Normal(0, tau[k]^(2c)),   tau[k] = s · √(1 − rho^(2g))

    the same prior as :func:`effects`' (each marginal the named Normal(m, s²)). When the prior is
    wide against the data (SD 10 to 1000 on the log OR) the data pin ``theta`` while
    ``z = L⁻¹ (theta − m) / s`` would move with ``rho``: the non-centred form mixes badly (R-hat
    1.1 at SD 1000), the centred one well. Such a prior puts most of ``rho`` within ``d² / s²``
    of 1 (d the differences of the effects between horizons; the vague prior favours one shared
    effect), where ``tau`` falls below what the data say about d and a fully centred ``eps``
    has a funnel: the partial centring c < 1 (Papaspiliopoulos, Roberts & Sköld 2007) removes the
    divergences it caused. ``rho`` is sampled as its logit (``rho_logit ~ Logistic(0, 1)``, the
    same Uniform(0, 1) prior) and ``1 − rho^(2g)`` taken in log space: in floating point ``rho``
    itself rounds to 1 there.
    """
    m = pm.Data("prior_theta_mean", values["prior_theta_mean"])
    s = pm.Data("prior_theta_sd", values["prior_theta_sd"])
    theta = [pm.Normal("theta1", m, s)]
    if len(horizons) > 1:
        rho_logit = pm.Logistic("rho_logit", 0.0, 1.0)
        pm.Deterministic("rho", pm.math.invlogit(rho_logit))
        log_keep = -pt.softplus(-rho_logit) * np.diff(horizons) / 12.0  # log rho^g
        tau = s * pt.sqrt(-pt.expm1(2.0 * log_keep))
        eps = pm.Normal("eps", 0.0, tau**CENTRING, dims="step")
        for k in range(1, len(horizons)):
            shift = tau[k - 1] ** (1.0 - CENTRING) * eps[k - 1]
            theta.append(m + pt.exp(log_keep[k - 1]) * (theta[-1] - m) + shift)
    return pm.Deterministic("theta", pt.stack(theta), dims="horizon")


def midpoints(theta, horizons: np.ndarray, prior: Prior, values: dict):
    """``alpha`` (dim ``horizon``): the midpoint log-odds, rising fast enough that neither arm's
    cumulative log-odds falls. ``alpha[1]`` has the default Normal(0, 1.5²), or, when ``prior``
    states a control-risk prior, is ``control1 + theta[1] / 2`` with the control arm's log-odds
    ``control1`` under that prior (:func:`first_midpoint`)."""
    alpha1 = first_midpoint(theta, prior, values)
    if len(horizons) == 1:
        return pm.Deterministic("alpha", alpha1[None], dims="horizon")
    lengths = np.diff(horizons)
    delta = pm.HalfNormal("delta", DELTA_SCALE_PER_YEAR * lengths / 12.0, dims="step")
    alphas = [alpha1]
    for k in range(1, len(horizons)):
        gap = pt.sqrt(pt.square(theta[k] - theta[k - 1]) + SMOOTH**2) / 2
        before = pm.math.invlogit(alphas[-1] + ARM_SIGN * theta[k - 1]).mean()  # mean rate
        alphas.append(alphas[-1] + gap + delta[k - 1] / before)
    return pm.Deterministic("alpha", pt.stack(alphas), dims="horizon")


def first_midpoint(theta, prior: Prior, values: dict):
    """``alpha[1]``. By default ``alpha1 ~ Normal(0, 1.5²)``; under a stated midpoint prior
    ``alpha1 ~ Normal(mean, sd²)`` (:class:`bayes_ips.priors.core.MidpointPrior`). Under a stated
    control-risk prior
    the control arm's first log-odds ``alpha1 − theta[1] / 2`` has that prior: ``control1``, the
    logit, ~ Normal(a, b²), or ``control1``, the risk, ~ Beta(a, b) (its logit then has the
    logit-Beta density, as in :mod:`bayes_ips.exact_logistic`); ``alpha1`` is deterministic."""
    if prior.control is None and prior.midpoint is None:
        return pm.Normal("alpha1", 0.0, ALPHA_SD)
    if prior.control is None:
        mean = pm.Data("prior_midpoint_mean", values["prior_midpoint_mean"])
        sd = pm.Data("prior_midpoint_sd", values["prior_midpoint_sd"])
        return pm.Normal("alpha1", mean, sd)
    a = pm.Data("prior_control_a", values["prior_control_a"])
    b = pm.Data("prior_control_b", values["prior_control_b"])
    if prior.control.family == "beta":
        rate = pm.Beta("control1", a, b)
        logit = pt.log(rate) - pt.log1p(-rate)
    else:
        logit = pm.Normal("control1", a, b)
    return pm.Deterministic("alpha1", logit + theta[0] / 2)


def logit_hazard(logit_p):
    """Logit of the interval hazards from cumulative log-odds ``logit_p`` (increasing along the
    last axis): ``h_1 = p_1`` and ``h_k = 1 − (1 − p_k)/(1 − p_{k−1})``, computed in log space."""
    log_survival = -pt.softplus(logit_p)  # log(1 − p)
    log_keep = log_survival[..., 1:] - log_survival[..., :-1]  # log(1 − h_k) < 0 for k ≥ 2
    rest = pt.log(-pt.expm1(log_keep)) - log_keep
    return pt.concatenate([logit_p[..., :1], rest], axis=-1)


def risk_set_likelihood(rs, logit_p) -> None:
    """The likelihood ``y`` of the multi-horizon models: each interval's events among those at
    risk at its start (``rs``, :func:`bayes_ips.data.intervals.risk_sets`), binomial with the
    interval hazard of the cumulative log-odds ``logit_p`` (:func:`logit_hazard`), so each
    participant is counted once. Inside a model context."""
    dims = ("arm", "interval")
    pm.Binomial(
        "y",
        n=pm.Data("at_risk", rs["at_risk"].to_numpy(), dims=dims),
        logit_p=logit_hazard(logit_p),
        observed=pm.Data("events", rs["events"].to_numpy(), dims=dims),
        dims=dims,
    )


def horizon_coords(counts) -> dict:
    """Coordinates ``arm``, ``horizon``, ``interval`` and, with two or more horizons, ``step``
    (the intervals after the first, where ``delta`` lives)."""
    horizons = counts["horizon"].to_numpy().tolist()
    intervals = interval_labels(horizons)
    coords = {
        "arm": counts["arm"].to_numpy().tolist(),
        "horizon": horizons,
        "interval": intervals,
    }
    if len(horizons) > 1:
        coords["step"] = intervals[1:]
    return coords
