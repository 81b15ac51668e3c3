"""Exact single-horizon logistic model: the posterior of the log odds ratio by adaptive quadrature.

Each horizon is analysed on its own rows (as in ``beta_binomial``), with ``y[t]`` of ``n[t]``
employed in the treatment arm and ``y[c]`` of ``n[c]`` in the control arm::

    y[t]   ~ Binomial(n[t], invlogit(alpha + theta / 2))     treatment arm
    y[c]   ~ Binomial(n[c], invlogit(alpha − theta / 2))     control arm
    alpha  ~ Normal(0, 1.5²)                                 midpoint of the two arms' log-odds
                                                             (or the stated midpoint prior)
    theta  ~ Normal(m0, s0²)                                 the named effect prior on the log OR,
    theta  ~ sum_k w[k] Normal(m[k], s[k]²)                  or its normal mixture

A midpoint prior stated in the spec's ``[priors]`` (``midpoint_logit_mean``/``_sd``) replaces
the Normal(0, 1.5²) of ``alpha`` by Normal(mean, sd²): brms's prior on the centred intercept.
A control-risk prior stated there replaces the prior of ``alpha`` instead: it is
then the prior of the control arm's log-odds ``x = alpha − theta/2``, independent of ``theta``
(Normal(a, b²) on ``x``, or Beta(a, b) on the control risk, that is the logit-Beta density
``log p(x) = a·log σ(x) + b·log σ(−x) − log B(a, b)``). The multi-horizon logistic models use the
same prior (:func:`bayes_ips.models.cumulative.first_midpoint`).

Under the default prior the contrast is symmetric: swapping the arm labels turns ``theta`` into
``−theta`` and leaves ``alpha`` as it is, so P(benefit) becomes 1 − P(benefit) and every odds
ratio its reciprocal, and identical arms give P(benefit) = 1/2 exactly under any prior symmetric
about no effect (a control-risk prior is a prior on one arm, so it breaks that symmetry). This is
the single-horizon form of the hierarchical logistic model, so it is that model's exact answer
with one horizon.

Nothing is sampled to get P(benefit) or the odds ratio: ``alpha`` is integrated out by
Laplace-centred Gauss–Hermite quadrature and the posterior of ``theta`` is normalised on an
adaptive grid centred and scaled on the posterior itself, followed until it is ``e^-40`` below
its peak and refined until the trapezoid rule is exact to about 1e-5 (the grid rule of
:mod:`bayes_ips.logodds`), at ten patients or ten million per arm and under complete separation.
P(benefit) = P(theta > 0) and the odds ratio's quantiles are read off that grid. The risk
difference, risk ratio and NNT are summarised from seeded independent draws of the exact joint
posterior: ``theta`` by inverse CDF on the grid, then ``alpha`` given ``theta`` by inverse CDF on
a local grid around its conditional mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import special

from bayes_ips import logodds
from bayes_ips.data import Comparison
from bayes_ips.priors import Effect, Prior
from bayes_ips.priors.core import ControlPrior

LOG_FLOAT_MAX = math.log(np.finfo(float).max)
"""The largest log OR whose OR is a finite float (about 709.78)."""

MODEL = "exact_logistic"
ALPHA_SD = logodds.CONTROL_LOGIT_SD
ALPHA_HALF = 60
"""The local ``alpha`` grid: ``2 * ALPHA_HALF + 1`` nodes over the conditional mode ± 12 Laplace
SDs, and as many again over ± ``sqrt(2 * SPAN) * alpha_sd`` (beyond which the conditional
density, at least as concentrated as the ``alpha`` prior, is below ``e^-SPAN`` of its peak)."""
ALPHA_CHUNK = 2000
FLOOR = 1e6
"""Log densities more than this below the peak count as zero mass (finite, so differences stay
finite)."""

Counts = tuple[float, float, float, float]


@dataclass(frozen=True)
class Posterior:
    """The exact posterior of the log OR at one horizon, on its adaptive grid.

    Attributes
    ----------
    counts : tuple
        ``(y_t, n_t, y_c, n_c)``.
    grid : numpy.ndarray
        The log OR nodes: Simpson panels (:func:`bayes_ips.logodds.adaptive_grid`), 0 a panel
        end.
    density : numpy.ndarray
        The normalised posterior density at the nodes.
    control : ControlPrior or None
        The stated control-risk prior (None: the Normal(alpha_mean, alpha_sd²) on ``alpha``).
    alpha_mean, alpha_sd : float
        The midpoint prior's mean and SD (default Normal(0, 1.5²)).
    """

    counts: Counts
    grid: np.ndarray
    density: np.ndarray
    control: ControlPrior | None = None
    alpha_mean: float = 0.0
    alpha_sd: float = ALPHA_SD

    def prob_benefit(self) -> float:
        """P(theta > 0) = P(p_treatment > p_control)."""
        return logodds.upper_tail(self.density, self.grid)

    def quantile(self, q) -> np.ndarray:
        """Quantiles of the log OR."""
        return logodds.quantile(self.density, self.grid, q)

    def odds_ratio(self, interval: float = 0.95) -> dict:
        """The odds ratio's median and equal-tailed interval (``median``, ``lo``, ``hi``).

        An end whose log OR is beyond the float range (a prior with SD up to 1000 on a table of
        one participant per arm) is ``None``, with ``unbounded (+∞)`` as its reason in
        ``null_reasons``, as for the ratio draws of :mod:`bayes_ips.estimands`.
        """
        qs = self.quantile([(1 - interval) / 2, 0.5, (1 + interval) / 2])
        out, reasons = {}, {}
        for key, log_or in zip(("lo", "median", "hi"), qs, strict=True):
            out[key] = math.exp(log_or) if log_or < LOG_FLOAT_MAX else None
            if out[key] is None:
                reasons[key] = f"unbounded (+∞): the log OR quantile {log_or:.4g} is beyond e^709"
        return {**out, "null_reasons": reasons} if reasons else out


def baseline(prior: Prior) -> dict:
    """The baseline prior ``prior`` carries, as keyword arguments of :func:`posterior`,
    :func:`posteriors`, :func:`prior_rates` and :func:`exact_loo`: its stated control-risk prior
    (``control``) and its midpoint prior (``alpha_mean``, ``alpha_sd``; the default
    Normal(0, 1.5²) when none is stated)."""
    midpoint = (
        {}
        if prior.midpoint is None
        else {"alpha_mean": prior.midpoint.mean, "alpha_sd": prior.midpoint.sd}
    )
    return {"control": prior.control, **midpoint}


def posterior(
    counts: Counts,
    effect: Effect,
    alpha_sd: float = ALPHA_SD,
    control: ControlPrior | None = None,
    alpha_mean: float = 0.0,
) -> Posterior:
    """The exact posterior of the log OR from one horizon's counts under an effect prior and the
    midpoint prior Normal(alpha_mean, alpha_sd²) on ``alpha`` (or a stated control-risk prior
    ``control``, which replaces it).

    Raises
    ------
    InputError
        When the grid rule cannot bound the posterior (not for a proper normal or mixture prior).
    """
    _, means, sds = effect.components()
    centre, se = logodds.likelihood_location(*counts)

    def log_post(theta: np.ndarray) -> np.ndarray:
        loglik = logodds.log_likelihood(*counts, theta, alpha_sd, control, alpha_mean)
        return effect.logpdf(theta) + loglik

    grid, lp = logodds.adaptive_grid(log_post, [(centre, se), *zip(means, sds, strict=True)])
    density = logodds.normalised(lp, grid)
    return Posterior(counts, grid, density, control, alpha_mean, alpha_sd)


def horizon_counts(counts: xr.Dataset, comparison: Comparison, horizon) -> Counts:
    """``(y_t, n_t, y_c, n_c)`` at one horizon."""
    c = counts.sel(horizon=horizon)
    t, k = c.sel(arm=comparison.treatment), c.sel(arm=comparison.control)
    return (
        float(t["employed"]),
        float(t["n_analysed"]),
        float(k["employed"]),
        float(k["n_analysed"]),
    )


def posteriors(
    counts: xr.Dataset,
    effect: Effect,
    comparison: Comparison,
    control: ControlPrior | None = None,
    alpha_mean: float = 0.0,
    alpha_sd: float = ALPHA_SD,
) -> dict:
    """The exact posterior of the log OR at every horizon, by horizon."""
    return {
        h: posterior(horizon_counts(counts, comparison, h), effect, alpha_sd, control, alpha_mean)
        for h in counts["horizon"].to_numpy().tolist()
    }


def prob_benefit(posts: dict) -> dict:
    """Exact P(benefit) per horizon."""
    return {h: post.prob_benefit() for h, post in posts.items()}


def draw_alpha(
    counts: Counts,
    theta: np.ndarray,
    u: np.ndarray,
    alpha_sd: float = ALPHA_SD,
    control: ControlPrior | None = None,
    alpha_mean: float = 0.0,
):
    """``alpha`` given each ``theta`` by inverse CDF (of ``u``) on a local grid.

    The grid of each draw is the union of its conditional mode ± 12 Laplace SDs and of the mode
    ± ``sqrt(2 * SPAN) * alpha_sd`` (under a stated control-risk prior, ± its
    :meth:`~bayes_ips.priors.core.ControlPrior.logit_reach`); between nodes the log density is
    taken as linear, so the CDF inverts in closed form.
    """
    out = np.empty_like(theta)
    near = 12.0 * np.linspace(-1, 1, 2 * ALPHA_HALF + 1)
    reach = (
        math.sqrt(2 * logodds.SPAN) * alpha_sd
        if control is None
        else control.logit_reach(logodds.SPAN)
    )
    far = reach * np.linspace(-1, 1, 2 * ALPHA_HALF + 1)
    for start in range(0, theta.size, ALPHA_CHUNK):
        t, q = theta[start : start + ALPHA_CHUNK], u[start : start + ALPHA_CHUNK]
        mode, scale = logodds.alpha_mode(*counts, t, alpha_sd, control, alpha_mean)
        wide = np.broadcast_to(far, (t.size, far.size))
        a = mode[:, None] + np.sort(np.concatenate([scale[:, None] * near, wide], axis=1), axis=1)
        with np.errstate(all="ignore"):  # far nodes at huge n: log densities of −inf or nan
            lf = logodds.log_joint(*counts, a, t[:, None], alpha_sd, control, alpha_mean)
            lf = np.where(np.isfinite(lf), lf, -np.inf)
            lf = np.maximum(lf - lf.max(axis=1, keepdims=True), -FLOOR)
        h, slope = np.diff(a, axis=1), np.diff(lf, axis=1)
        e0, e1 = np.exp(lf[:, :-1]), np.exp(lf[:, 1:])
        small = np.abs(slope) < 1.0
        # mass of exp(linear) over each interval: h (e^lf1 − e^lf0) / d, d the change in log
        with np.errstate(divide="ignore", invalid="ignore"):
            mass = h * np.where(small, e0 * special.exprel(slope), (e1 - e0) / slope)
        cum = np.concatenate([np.zeros((t.size, 1)), np.cumsum(mass, axis=1)], axis=1)
        r = q * cum[:, -1]
        rows = np.arange(t.size)
        i = np.clip((cum < r[:, None]).sum(axis=1) - 1, 0, h.shape[1] - 1)
        # the fraction x of interval i where the mass reaches r: h e^lf0 (e^(d x) − 1) / d = rest
        rest = np.maximum(r - cum[rows, i], 0.0) / h[rows, i]
        d, lf0, base = slope[rows, i], lf[rows, i], e0[rows, i]
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(
                np.abs(d) > 1e-12,
                (np.log(np.maximum(base + rest * d, np.finfo(float).tiny)) - lf0) / d,
                rest / base,
            )
        out[start : start + ALPHA_CHUNK] = a[rows, i] + h[rows, i] * np.clip(np.nan_to_num(x), 0, 1)
    return out


def _rates(theta: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``[p_treatment, p_control]`` stacked on the last axis."""
    return np.stack([special.expit(alpha + theta / 2), special.expit(alpha - theta / 2)], axis=-1)


def _as_array(values: np.ndarray, counts: xr.Dataset, comparison: Comparison) -> xr.DataArray:
    """``values[draw, horizon, (treatment, control)]`` as ``p[chain, draw, arm, horizon]`` with the
    counts' arm order."""
    p = xr.DataArray(
        values[None],
        dims=("chain", "draw", "horizon", "arm"),
        coords={
            "chain": [0],
            "draw": np.arange(values.shape[0]),
            "horizon": counts["horizon"].to_numpy(),
            "arm": [comparison.treatment, comparison.control],
        },
        name="p",
    )
    return p.sel(arm=counts["arm"].to_numpy()).transpose("chain", "draw", "arm", "horizon")


def draw_rates(
    posts: dict, counts: xr.Dataset, comparison: Comparison, draws: int, random_seed: int
) -> xr.DataArray:
    """Independent draws of p[arm, horizon] from the exact joint posterior (one chain)."""
    rng = np.random.default_rng(random_seed)
    values = np.empty((draws, len(posts), 2))
    for k, post in enumerate(posts.values()):
        theta = post.quantile(rng.random(draws))
        alpha = draw_alpha(
            post.counts, theta, rng.random(draws), post.alpha_sd, post.control, post.alpha_mean
        )
        values[:, k] = _rates(theta, alpha)
    return _as_array(values, counts, comparison)


def prior_rates(
    effect: Effect,
    counts: xr.Dataset,
    comparison: Comparison,
    draws: int,
    random_seed: int,
    control: ControlPrior | None = None,
    alpha_mean: float = 0.0,
    alpha_sd: float = ALPHA_SD,
) -> xr.DataArray:
    """Independent draws of p[arm, horizon] from the prior (one chain), for prior predictive
    checks: ``alpha`` from Normal(alpha_mean, alpha_sd²), or, under a stated control-risk prior
    ``control``, the control log-odds from it and ``alpha`` that plus ``theta / 2``."""
    rng = np.random.default_rng([random_seed, 2])
    w, m, s = effect.components()
    shape = (draws, counts.sizes["horizon"])
    k = rng.choice(len(w), size=shape, p=w / w.sum())
    theta = rng.normal(m[k], s[k])
    if control is None:
        alpha = rng.normal(alpha_mean, alpha_sd, size=shape)
    else:
        alpha = special.logit(control.sample_rate(rng, shape)) + theta / 2
    return _as_array(_rates(theta, alpha), counts, comparison)


def log_evidence(
    counts: Counts,
    effect: Effect,
    alpha_sd: float = ALPHA_SD,
    control: ControlPrior | None = None,
    alpha_mean: float = 0.0,
) -> float:
    """``log p(counts)``: the marginal likelihood of one horizon's counts, ``alpha`` and ``theta``
    integrated out (Gauss–Hermite in ``alpha``, the adaptive Simpson grid in ``theta``)."""
    _, means, sds = effect.components()
    centre, se = logodds.likelihood_location(*counts)

    def log_post(theta: np.ndarray) -> np.ndarray:
        loglik = logodds.log_likelihood(*counts, theta, alpha_sd, control, alpha_mean)
        return effect.logpdf(theta) + loglik

    grid, lp = logodds.adaptive_grid(log_post, [(centre, se), *zip(means, sds, strict=True)])
    return logodds.log_integral(lp, grid)


def exact_loo(
    counts: xr.Dataset,
    effect: Effect,
    comparison: Comparison,
    alpha_sd: float = ALPHA_SD,
    control: ControlPrior | None = None,
    alpha_mean: float = 0.0,
) -> xr.DataArray:
    """Exact leave-one-out log predictive density of every arm x horizon count,
    ``log p(y_i | y_-i) = log p(y) − log p(y_-i)``, with dims ``(arm, horizon)`` like ``y``.

    Each horizon is its own model, so leaving a count out leaves that horizon's other arm: the
    left-out arm's count becomes 0 of 0 in the marginal likelihood.
    """
    out = xr.zeros_like(counts["employed"], dtype=float)
    for h in counts["horizon"].to_numpy().tolist():
        y_t, n_t, y_c, n_c = horizon_counts(counts, comparison, h)
        baseline = (alpha_sd, control, alpha_mean)
        full = log_evidence((y_t, n_t, y_c, n_c), effect, *baseline)
        out.loc[{"arm": comparison.treatment, "horizon": h}] = full - log_evidence(
            (0.0, 0.0, y_c, n_c), effect, *baseline
        )
        out.loc[{"arm": comparison.control, "horizon": h}] = full - log_evidence(
            (y_t, n_t, 0.0, 0.0), effect, *baseline
        )
    return out
