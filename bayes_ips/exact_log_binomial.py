"""Exact single-horizon log-binomial model: the posterior of the log risk ratio by 2-D quadrature.

Each horizon is analysed on its own rows (as in ``exact_logistic``), with ``y[t]`` of ``n[t]``
events in the treatment arm and ``y[c]`` of ``n[c]`` in the control arm::

    y[c]  ~ Binomial(n[c], p_c)                       control arm
    y[t]  ~ Binomial(n[t], RR · p_c)                  treatment arm, RR = e^phi
    p_c   ~ the control-risk prior                    default Normal(0, 1.5²) on logit p_c
    phi   | p_c ~ Normal(m0, s0²) truncated to phi ≤ −log p_c

The control-risk prior is the one stated in the spec's ``[priors]`` (a Normal on the control
risk's logit or a Beta on the risk) and otherwise Normal(0, 1.5²) on its logit.

**The feasible region.** A risk ratio is only a risk ratio where ``RR · p_c ≤ 1``. The joint
prior is the control-risk prior times the effect prior of ``phi`` *conditioned on* the control
risk: ``N(phi; m0, s0²) / Phi((−log p_c − m0) / s0)`` on ``phi ≤ −log p_c`` and 0 beyond. So the
control risk keeps exactly its stated prior, and the log RR has its named prior wherever that
prior puts next to no mass on RRs above ``1 / p_c`` (at a control risk of 12%, RR above 8.3);
otherwise its marginal prior is the named normal with the infeasible part removed. The
multi-horizon model (:mod:`bayes_ips.models.log_binomial`) uses the same prior, so with one
horizon this module gives its exact answer.

Nothing is sampled to get P(RR > 1) or the risk ratio's quantiles: for every ``phi`` the control
risk is integrated out on its logit ``x`` over the feasible half-line ``x < logit(e^-phi)`` by
Simpson's rule on a bracket zoomed in :data:`ZOOM_ROUNDS` times onto the region within
:data:`~bayes_ips.logodds.SPAN` of the integrand's maximum (:func:`conditional_grid`), and the
posterior of ``phi`` is normalised on the adaptive grid of :mod:`bayes_ips.logodds` (followed
until ``e^-40`` below its peak and refined until the trapezoid rule is exact to about 1e-5).
The risk difference, odds ratio and NNT are summarised from seeded independent draws of the joint
posterior: ``phi`` by inverse CDF on its grid, then the control risk given ``phi`` by inverse CDF
on its conditional grid.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr
from scipy import integrate, special, stats

from bayes_ips import logodds
from bayes_ips.data import Comparison
from bayes_ips.exact_logistic import Counts, Posterior, _as_array, horizon_counts
from bayes_ips.priors.core import ControlPrior, NormalEffect

MODEL = "exact_log_binomial"
NODES = 401
"""Nodes of each conditional grid of the control risk's logit (odd: Simpson panels)."""
ZOOM_ROUNDS = 4
REACH = 12.0
"""The first bracket of the control risk's logit: the prior's and the data's location ± this
many SDs."""
CHUNK = 1000


def _log_binom_const(y, n):
    return special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)


def log_joint(counts: Counts, x, phi, effect: NormalEffect, control: ControlPrior):
    """``log p(y_t, y_c, x, phi)`` with ``x = logit p_c`` (broadcasting); ``−inf`` outside the
    feasible region ``phi + log p_c ≤ 0``."""
    y_t, n_t, y_c, n_c = counts
    x, phi = np.asarray(x, dtype=float), np.asarray(phi, dtype=float)
    log_pc, log_qc = -np.logaddexp(0, -x), -np.logaddexp(0, x)  # log p_c, log(1 − p_c)
    log_pt = phi + log_pc
    feasible = log_pt <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        log_qt = np.log(-np.expm1(np.minimum(log_pt, 0.0)))
        lik = (
            _log_binom_const(y_c, n_c)
            + _log_binom_const(y_t, n_t)
            + y_c * log_pc
            + np.where(n_c > y_c, (n_c - y_c) * log_qc, 0.0)
            + y_t * log_pt
            + np.where(n_t > y_t, (n_t - y_t) * log_qt, 0.0)
        )
    truncation = stats.norm.logcdf((-log_pc - effect.mean) / effect.sd)
    prior = control.logpdf_logit(x) + stats.norm.logpdf(phi, effect.mean, effect.sd) - truncation
    return np.where(feasible, prior + lik, -np.inf)


def _upper(phi: np.ndarray) -> np.ndarray:
    """The largest feasible logit of the control risk, ``logit(e^-phi)`` (``inf`` for phi ≤ 0)."""
    # logit(e^-phi) = −phi − log(1 − e^-phi), finite for any phi > 0
    with np.errstate(divide="ignore"):
        return np.where(phi > 0, -phi - np.log(-np.expm1(-np.maximum(phi, 1e-300))), np.inf)


def _locations(counts: Counts, phi: np.ndarray, control: ControlPrior) -> tuple:
    """The first bracket of ``x`` for each ``phi``: the control prior's, the control arm's and
    the treatment arm's (through ``p_c = p_t / RR``) locations ± :data:`REACH` SDs."""
    y_t, n_t, y_c, n_c = counts
    m, s = control.logit_location()
    xc = math.log((y_c + 0.5) / (n_c - y_c + 0.5))
    sc = math.sqrt(1 / (y_c + 0.5) + 1 / (n_c - y_c + 0.5))
    pt = (y_t + 0.5) / (n_t + 1.0)
    st = math.sqrt(1 / (y_t + 0.5) + 1 / (n_t - y_t + 0.5))
    log_p = np.minimum(math.log(pt) - phi, math.log1p(-1e-16))  # log(p_t / RR), in logs
    xt = log_p - np.log(-np.expm1(log_p))
    lo = np.minimum.reduce([np.full_like(phi, m - REACH * s), np.full_like(phi, xc - REACH * sc)])
    lo = np.minimum(lo, xt - REACH * st)
    hi = np.maximum.reduce([np.full_like(phi, m + REACH * s), np.full_like(phi, xc + REACH * sc)])
    hi = np.maximum(hi, xt + REACH * st)
    top = _upper(phi)
    hi = np.minimum(hi, top)
    lo = np.minimum(lo, hi - 1.0)
    return lo, hi, top


def conditional_grid(
    counts: Counts, phi: np.ndarray, effect: NormalEffect, control: ControlPrior
) -> tuple[np.ndarray, np.ndarray]:
    """Grids of the control risk's logit given each ``phi`` and the log joint density on them.

    Returns ``x`` and ``log_f`` of shape ``(phi.size, NODES)``: each row a uniform grid of
    Simpson panels over the bracket where the integrand lies within
    :data:`~bayes_ips.logodds.SPAN` of its maximum, found by zooming :data:`ZOOM_ROUNDS` times
    from :func:`_locations`' bracket (each round keeps the nodes within ``SPAN`` of the row's
    maximum and one node either side, clipped to the feasible region).
    """
    phi = np.asarray(phi, dtype=float)
    lo, hi, top = _locations(counts, phi, control)
    t = np.linspace(0.0, 1.0, NODES)
    for round_ in range(ZOOM_ROUNDS + 1):
        x = lo[:, None] + (hi - lo)[:, None] * t
        lf = log_joint(counts, x, phi[:, None], effect, control)
        if round_ == ZOOM_ROUNDS:
            return x, lf
        keep = lf >= lf.max(axis=1, keepdims=True) - logodds.SPAN
        first = np.argmax(keep, axis=1)
        last = NODES - 1 - np.argmax(keep[:, ::-1], axis=1)
        step = (hi - lo) / (NODES - 1)
        new_lo = np.where(first > 0, x[np.arange(phi.size), np.maximum(first - 1, 0)], lo)
        new_hi = np.where(
            last < NODES - 1, x[np.arange(phi.size), np.minimum(last + 1, NODES - 1)], hi
        )
        lo, hi = new_lo, np.minimum(np.maximum(new_hi, new_lo + step), top)
    raise AssertionError("unreachable")


def log_marginal(
    counts: Counts, phi: np.ndarray, effect: NormalEffect, control: ControlPrior
) -> np.ndarray:
    """``log p(y_t, y_c, phi)``: the control risk integrated out (Simpson on each row's grid)."""
    phi = np.atleast_1d(np.asarray(phi, dtype=float))
    out = np.empty(phi.shape)
    w = logodds.simpson_weights(np.linspace(0.0, 1.0, NODES))
    for start in range(0, phi.size, CHUNK):
        x, lf = conditional_grid(counts, phi[start : start + CHUNK], effect, control)
        top = lf.max(axis=1)
        safe = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(invalid="ignore"):
            mass = np.exp(lf - safe[:, None]) @ w * (x[:, -1] - x[:, 0])
        with np.errstate(divide="ignore"):
            out[start : start + CHUNK] = np.where(np.isfinite(top), safe + np.log(mass), -np.inf)
    return out


def likelihood_location(y_t: float, n_t: float, y_c: float, n_c: float) -> tuple[float, float]:
    """Where the likelihood of the log RR lies: the continuity-corrected (+0.5) log RR and its SE
    (only to place the coarse grid)."""
    log_rr = math.log((y_t + 0.5) / (n_t + 1.0)) - math.log((y_c + 0.5) / (n_c + 1.0))
    se = math.sqrt(1 / (y_t + 0.5) - 1 / (n_t + 1.0) + 1 / (y_c + 0.5) - 1 / (n_c + 1.0))
    return log_rr, se


def _grid(counts: Counts, effect: NormalEffect, control: ControlPrior):
    def log_post(phi: np.ndarray) -> np.ndarray:
        return log_marginal(counts, phi, effect, control)

    components = [likelihood_location(*counts), (effect.mean, effect.sd)]
    return logodds.adaptive_grid(log_post, components, quantity="log RR")


def posterior(counts: Counts, effect: NormalEffect, control: ControlPrior) -> Posterior:
    """The exact posterior of the log RR from one horizon's counts (its ``grid`` holds log RRs;
    :meth:`~bayes_ips.exact_logistic.Posterior.prob_benefit` is P(RR > 1)).

    Raises
    ------
    InputError
        When the grid rule cannot bound the posterior.
    """
    grid, lp = _grid(counts, effect, control)
    return Posterior(counts, grid, logodds.normalised(lp, grid))


def posteriors(
    counts: xr.Dataset, effect: NormalEffect, control: ControlPrior, comparison: Comparison
) -> dict:
    """The exact posterior of the log RR at every horizon, by horizon."""
    return {
        h: posterior(horizon_counts(counts, comparison, h), effect, control)
        for h in counts["horizon"].to_numpy().tolist()
    }


def draw_control(
    counts: Counts, phi: np.ndarray, u: np.ndarray, effect: NormalEffect, control: ControlPrior
) -> np.ndarray:
    """The control risk's logit given each ``phi``, by inverse CDF (of ``u``) on its conditional
    grid (trapezoid CDF, linear between nodes)."""
    out = np.empty_like(phi)
    for start in range(0, phi.size, CHUNK):
        part = slice(start, start + CHUNK)
        x, lf = conditional_grid(counts, phi[part], effect, control)
        dens = np.exp(lf - lf.max(axis=1, keepdims=True))
        cum = np.concatenate(
            [np.zeros((x.shape[0], 1)), np.cumsum((dens[:, 1:] + dens[:, :-1]) / 2, axis=1)], axis=1
        )
        cum /= cum[:, -1:]
        out[part] = [np.interp(q, c, row) for q, c, row in zip(u[part], cum, x, strict=True)]
    return out


def _rates(phi: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``[p_treatment, p_control]`` stacked on the last axis (``p_t = RR · p_c``, at most 1)."""
    pc = special.expit(x)
    return np.stack([np.minimum(np.exp(phi) * pc, 1.0), pc], axis=-1)


def draw_rates(
    posts: dict,
    counts: xr.Dataset,
    effect: NormalEffect,
    control: ControlPrior,
    comparison: Comparison,
    draws: int,
    random_seed: int,
) -> xr.DataArray:
    """Independent draws of p[arm, horizon] from the exact joint posterior (one chain)."""
    rng = np.random.default_rng(random_seed)
    values = np.empty((draws, len(posts), 2))
    for k, post in enumerate(posts.values()):
        phi = post.quantile(rng.random(draws))
        x = draw_control(post.counts, phi, rng.random(draws), effect, control)
        values[:, k] = _rates(phi, x)
    return _as_array(values, counts, comparison)


def prior_rates(
    effect: NormalEffect,
    control: ControlPrior,
    counts: xr.Dataset,
    comparison: Comparison,
    draws: int,
    random_seed: int,
) -> xr.DataArray:
    """Independent draws of p[arm, horizon] from the prior (one chain): the control risk from
    its prior, then the log RR from the effect prior truncated to ``RR · p_c ≤ 1``."""
    rng = np.random.default_rng([random_seed, 2])
    shape = (draws, counts.sizes["horizon"])
    pc = control.sample_rate(rng, shape)
    upper = (-np.log(pc) - effect.mean) / effect.sd
    phi = effect.mean + effect.sd * stats.norm.ppf(rng.random(shape) * stats.norm.cdf(upper))
    return _as_array(_rates(phi, special.logit(pc)), counts, comparison)


def prior_prob_benefit(effect: NormalEffect, control: ControlPrior) -> float:
    """P(RR > 1) under the model's prior (the effect prior conditioned on ``RR · p_c ≤ 1``):
    ``∫ pi_c(p_c) (1 − Phi(−m0/s0) / Phi((−log p_c − m0)/s0)) dp_c``, by adaptive quadrature on
    the control risk's logit."""
    m, s = effect.mean, effect.sd

    def given(x: float) -> float:
        upper = stats.norm.logcdf((np.logaddexp(0.0, -x) - m) / s)  # −log p_c = log(1 + e^-x)
        tail = -np.expm1(stats.norm.logcdf(-m / s) - upper)
        return float(np.exp(control.logpdf_logit(x)) * tail)

    centre, scale = control.logit_location()
    value = integrate.quad(given, centre - 40 * scale, centre + 40 * scale, limit=200)[0]
    return float(np.clip(value, 0.0, 1.0))


def log_evidence(counts: Counts, effect: NormalEffect, control: ControlPrior) -> float:
    """``log p(counts)``: the marginal likelihood of one horizon's counts."""
    grid, lp = _grid(counts, effect, control)
    return logodds.log_integral(lp, grid)


def exact_loo(
    counts: xr.Dataset, effect: NormalEffect, control: ControlPrior, comparison: Comparison
) -> xr.DataArray:
    """Exact leave-one-out log predictive density of every arm x horizon count (as
    :func:`bayes_ips.exact_logistic.exact_loo`: the left-out arm becomes 0 of 0)."""
    out = xr.zeros_like(counts["employed"], dtype=float)
    for h in counts["horizon"].to_numpy().tolist():
        y_t, n_t, y_c, n_c = horizon_counts(counts, comparison, h)
        full = log_evidence((y_t, n_t, y_c, n_c), effect, control)
        out.loc[{"arm": comparison.treatment, "horizon": h}] = full - log_evidence(
            (0.0, 0.0, y_c, n_c), effect, control
        )
        out.loc[{"arm": comparison.control, "horizon": h}] = full - log_evidence(
            (y_t, n_t, 0.0, 0.0), effect, control
        )
    return out
