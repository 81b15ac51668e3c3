"""The next trial: success criteria, Bayesian assurance and exact operating characteristics.

A confirmatory two-arm trial randomises ``n`` participants per arm and observes the number
employed in each arm, y_t ~ Binomial(n, p_t) and y_c ~ Binomial(n, p_c). Two success criteria:

- **frequentist**: the pooled two-proportion z test (equivalently Pearson's χ² test without
  continuity correction) is significant at two-sided level α with the treatment ahead,
  z > z_{1−α/2};
- **Bayesian**: P(log OR > 0 | new trial) > the success probability (default 0.975), the new trial
  analysed on its own with the **exact** single-horizon logistic posterior
  (:mod:`bayes_ips.exact_logistic`: y_t ~ Bin(n, invlogit(α + θ/2)), y_c ~ Bin(n, invlogit(α −
  θ/2)), α ~ Normal(0, 1.5²)) under a named analysis prior on θ, by default the library's
  ``sceptical_mcid``. There is no continuity correction: 100/100 against 40/100 is a success.

Everything here is written for a higher-is-better outcome. When a lower rate is better the caller
passes the rates of the favourable result (1 − p, :func:`~bayes_ips.analyses.decision.posterior.
favourable`) and the analysis prior with its mean negated: the counts without the outcome are
n − y, their log OR is −θ and their midpoint log-odds −α (whose Normal(0, 1.5²) prior is
symmetric), so "the treatment ahead" and P(θ > 0) below mean ahead on the benefit side.

**Success regions.** For each sample size the Bayesian rule is computed once, for every outcome:
P(θ > 0 | y_t, y_c) increases in y_t and decreases in y_c, so the successes are
``y_t ≥ t_n(y_c)`` and the thresholds ``t_n`` are found by bisection over y_t for all y_c at once.
Each probability comes from a vectorised quadrature (Gauss–Legendre in θ on both sides of 0,
Gauss–Hermite in α around its conditional mode); every outcome whose value lies within
:data:`VERIFY_BAND` of the success probability, or whose quadrature window did not contain the
posterior, is recomputed with :func:`bayes_ips.exact_logistic.posterior` (adaptive quadrature),
so the region is the exact rule's. The z test's region is enumerated outright.

**Assurance** (probability of success) is the design prior's average of the conditional success
probability g(p_t, p_c) of the rule above. The design prior is the reanalysis's posterior draws
at the primary horizon, each used as it is (no resampling) and each given the same number of
simulated trials, ``ceil(simulations / draws)``; a draw's share of successes estimates its
g(p_t, p_c). Optionally the design prior is robustified with weight w by independent uniform
Beta(1, 1) rates, under which every outcome has probability 1/(n + 1)², so that part is the share
of outcomes in the success region, exactly: assurance = (1 − w) · mean over the draws of their
shares + w · |region| / (n + 1)². Its Monte Carlo SE is (1 − w) times ArviZ's MCSE of the mean of
the per-draw shares over the chains and draws: it counts both the simulation noise and the design
prior's own finite, autocorrelated sample. As n grows, frequentist assurance tends to the design
prior's P(RD > 0), the ceiling no trial size can pass.

**Operating characteristics** (type-I error at p_t = p_c, power at p_t = p_c + RD) are computed
exactly by enumerating every trial outcome (y_t, y_c) with its binomial probability, not by
simulation; outcomes with probability below 1e-13 per arm are left out (at most (n + 1)·1e-13 of
the probability).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import arviz as az
import numpy as np
import xarray as xr
from scipy import special, stats

from bayes_ips import exact_logistic, logodds
from bayes_ips.priors import NormalEffect

TAIL = 1e-13
VERIFY_BAND = 1e-6
"""Outcomes whose fast P(benefit) is this close to the success probability are recomputed with
the adaptive quadrature of :mod:`bayes_ips.exact_logistic` (the two agree to about 2e-7 over
sample sizes 40–2000, see the tests)."""
THETA_NODES = 20
ALPHA_NODES = 12
WINDOW_SDS = 12.0
CHUNK = 4096
SAMPLE_DIMS = ("chain", "draw")


def _normal_approximation(y_t, y_c, n: int, effect: NormalEffect):
    """Mean and precision of an approximate posterior of θ: the empirical log OR with 0.5
    added to every cell and its Woolf variance, combined with the normal prior. It only
    places the quadrature window and the first guess of a success threshold; no decision
    rests on it."""
    lt = np.log((y_t + 0.5) / (n - y_t + 0.5)) - np.log((y_c + 0.5) / (n - y_c + 0.5))
    v = 1 / (y_t + 0.5) + 1 / (n - y_t + 0.5) + 1 / (y_c + 0.5) + 1 / (n - y_c + 0.5)
    prec = 1 / v + 1 / effect.sd**2
    return (lt / v + effect.mean / effect.sd**2) / prec, prec


def _fast_prob_benefit(y_t, y_c, n: int, effect: NormalEffect, alpha_sd: float):
    """P(θ > 0 | y_t, y_c) of the single-horizon logistic model for arrays of outcomes.

    Returns the probabilities and a flag per outcome: True where the log posterior at the
    quadrature window's ends is not at least 25 below its largest node value (the window may
    have missed mass; the caller recomputes those outcomes adaptively).
    """
    y_t = np.asarray(y_t, dtype=float)[:, None]
    y_c = np.asarray(y_c, dtype=float)[:, None]
    centre, prec = _normal_approximation(y_t, y_c, n, effect)
    half = WINDOW_SDS / np.sqrt(prec)
    lo, hi = centre - half, centre + half
    x, w = np.polynomial.legendre.leggauss(THETA_NODES)
    # the window split at 0: [lo, min(0, hi)] and [max(0, lo), hi]; an empty side has width 0
    a1, b1 = lo, np.minimum(0.0, hi)
    a2, b2 = np.maximum(0.0, lo), hi
    w1 = np.maximum(b1 - a1, 0.0) / 2
    w2 = np.maximum(b2 - a2, 0.0) / 2
    theta = np.concatenate([(a1 + b1) / 2 + w1 * x, (a2 + b2) / 2 + w2 * x], axis=1)
    log_w = np.log(np.concatenate([w1 * w, w2 * w], axis=1) + 1e-300)
    alpha, scale = logodds.alpha_mode(y_t, n, y_c, n, theta, alpha_sd)
    hx, hw = np.polynomial.hermite.hermgauss(ALPHA_NODES)
    a = alpha[..., None] + math.sqrt(2.0) * scale[..., None] * hx
    t3 = theta[..., None] / 2
    yt3, yc3 = y_t[..., None], y_c[..., None]
    log_f = (
        yt3 * (a + t3)
        - n * np.logaddexp(0, a + t3)
        + yc3 * (a - t3)
        - n * np.logaddexp(0, a - t3)
        - 0.5 * (a / alpha_sd) ** 2
        + hx**2
    )
    log_lik = special.logsumexp(log_f, axis=-1, b=hw) + np.log(scale)
    lp = log_lik - 0.5 * ((theta - effect.mean) / effect.sd) ** 2
    top = lp.max(axis=1, keepdims=True)
    mass = np.exp(lp - top + log_w)
    right = mass[:, THETA_NODES:].sum(axis=1)
    p = right / mass.sum(axis=1)
    # the window's outer ends: the first node of the left side (of the right side when the left
    # is empty) and the last node of the right side (of the left side when the right is empty)
    left_end = np.where(w1[:, 0] > 0, lp[:, 0], lp[:, THETA_NODES])
    right_end = np.where(w2[:, 0] > 0, lp[:, -1], lp[:, THETA_NODES - 1])
    edge = np.maximum(left_end, right_end) - top[:, 0]
    return p, ~(edge < -25.0) | ~np.isfinite(p)


@dataclass
class BayesianRule:
    """The exact Bayesian success rule: P(θ > 0 | y_t, y_c) > ``success_probability`` under the
    single-horizon logistic model with the Normal effect prior ``effect``; success regions are
    cached per sample size."""

    effect: NormalEffect
    success_probability: float
    alpha_sd: float = exact_logistic.ALPHA_SD
    _thresholds: dict = field(default_factory=dict, repr=False)
    verified: int = 0

    def prob_benefit(self, y_t: int, y_c: int, n: int) -> float:
        """Exact P(θ > 0) of one outcome (adaptive quadrature)."""
        post = exact_logistic.posterior((y_t, n, y_c, n), self.effect, self.alpha_sd)
        return post.prob_benefit()

    def _success(self, y_t: np.ndarray, y_c: np.ndarray, n: int) -> np.ndarray:
        out = np.empty(y_t.size, dtype=bool)
        for s in range(0, y_t.size, CHUNK):
            t, c = y_t[s : s + CHUNK], y_c[s : s + CHUNK]
            p, doubtful = _fast_prob_benefit(t, c, n, self.effect, self.alpha_sd)
            doubtful |= np.abs(p - self.success_probability) < VERIFY_BAND
            for i in np.flatnonzero(doubtful):
                self.verified += 1
                p[i] = self.prob_benefit(int(t[i]), int(c[i]), n)
            out[s : s + CHUNK] = p > self.success_probability
        return out

    def _guess(self, n: int) -> np.ndarray:
        """First guess of ``t_n(y_c)`` for y_c = 0..n: the threshold of the normal
        approximation (:func:`_normal_approximation`), by bisection (it is cheap)."""
        y_c = np.arange(n + 1, dtype=float)
        z = stats.norm.ppf(self.success_probability)
        lo, hi = np.full(n + 1, -1), np.full(n + 1, n + 1)
        while np.any(hi - lo > 1):
            mid = (lo + hi) // 2
            centre, prec = _normal_approximation(mid.astype(float), y_c, n, self.effect)
            ok = (centre * np.sqrt(prec) > z) | (hi - lo <= 1)
            hi, lo = np.where(ok, mid, hi), np.where(ok, lo, mid)
        return hi

    def thresholds(self, n: int) -> np.ndarray:
        """``t_n(y_c)`` for y_c = 0..n: the smallest y_t that succeeds (n + 1 when none).

        Every y_c is searched from the normal approximation's threshold: galloping (steps 1,
        2, 4, ...) until a success and a failure bracket it, then bisection; the brackets of
        neighbouring y_c tighten each other (``t_n`` is non-decreasing in y_c). The exact
        threshold is usually within a step of the guess, so most y_c cost two evaluations.
        """
        n = int(n)
        if n not in self._thresholds:
            y_c = np.arange(n + 1)
            lo = np.full(n + 1, -1)  # fails (y_t = −1 always does)
            hi = np.full(n + 1, n + 1)  # succeeds (y_t = n + 1 always does)
            probe = np.clip(self._guess(n), 0, n)
            step = np.ones(n + 1, dtype=int)
            while True:
                active = np.flatnonzero(hi - lo > 1)
                if active.size == 0:
                    break
                at = probe[active]
                ok = self._success(at, y_c[active], n)
                hi[active[ok]] = np.minimum(hi[active[ok]], at[ok])
                lo[active[~ok]] = np.maximum(lo[active[~ok]], at[~ok])
                # t_n is non-decreasing in y_c: a success at y_c + 1 is one at y_c, a failure
                # at y_c − 1 one at y_c
                hi = np.minimum.accumulate(hi[::-1])[::-1]
                lo = np.maximum.accumulate(lo)
                a_lo, a_hi, a_step = lo[active], hi[active], step[active]
                gallop = np.where(ok, a_hi - a_step, a_lo + a_step)
                bisect = (a_lo + a_hi) // 2
                next_probe = np.where(a_hi - a_lo <= 2 * a_step, bisect, gallop)
                probe[active] = np.clip(next_probe, a_lo + 1, np.maximum(a_hi - 1, a_lo + 1))
                step[active] = 2 * a_step
            self._thresholds[n] = hi
        return self._thresholds[n]

    def __call__(self, y_t, y_c, n) -> np.ndarray:
        """Success of each outcome (broadcasting ``y_t`` against ``y_c``)."""
        thr = self.thresholds(int(n))
        y_t, y_c = np.asarray(y_t), np.asarray(y_c)
        return y_t >= thr[y_c]


@dataclass
class Criteria:
    """The two success criteria of the next trial.

    Parameters
    ----------
    alpha : float
        Two-sided level of the z test.
    success_probability : float
        Bayesian success threshold on P(log OR > 0 | data).
    effect : NormalEffect
        The analysis prior on the log OR (by default the library's ``sceptical_mcid``).
    """

    alpha: float
    success_probability: float
    effect: NormalEffect
    _bayes: BayesianRule | None = field(default=None, repr=False)

    @property
    def prior_sd(self) -> float:
        return self.effect.sd

    @property
    def bayes_rule(self) -> BayesianRule:
        if self._bayes is None:
            self._bayes = BayesianRule(self.effect, self.success_probability)
        return self._bayes

    def frequentist(self, y_t, y_c, n) -> np.ndarray:
        """Success of the pooled z test, elementwise (broadcasting)."""
        y_t, y_c, n = (np.asarray(x, dtype=float) for x in (y_t, y_c, n))
        pooled = (y_t + y_c) / (2 * n)
        var = pooled * (1 - pooled) * 2 / n
        diff = (y_t - y_c) / n
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(var > 0, diff / np.sqrt(var), 0.0)
        return z > stats.norm.isf(self.alpha / 2)

    def bayesian(self, y_t, y_c, n) -> np.ndarray:
        """Success of the exact Bayesian rule, elementwise."""
        return self.bayes_rule(y_t, y_c, n)

    def rule(self, name: str):
        return {"frequentist": self.frequentist, "bayesian": self.bayesian}[name]

    def region(self, name: str, n: int) -> tuple[np.ndarray | None, np.ndarray]:
        """The success region at ``n``: thresholds ``t_n(y_c)`` when it is ``y_t ≥ t_n(y_c)``
        (else None) and the full boolean matrix [y_t, y_c] when not (else an empty array)."""
        if name == "bayesian":
            return self.bayes_rule.thresholds(n), np.empty(0)
        y = np.arange(n + 1)
        hit = self.frequentist(y[:, None], y[None, :], n)
        thr = np.where(hit.any(axis=0), hit.argmax(axis=0), n + 1)
        if np.array_equal(hit, y[:, None] >= thr[None, :]):
            return thr, np.empty(0)
        return None, hit


CRITERIA = ("frequentist", "bayesian")


def region_share(criteria: Criteria, name: str, n: int) -> float:
    """The share of the (n + 1)² outcomes that succeed: P(success) under uniform rates."""
    thr, hit = criteria.region(name, n)
    count = hit.sum() if thr is None else np.maximum(n + 1 - thr, 0).sum()
    return float(count) / (n + 1) ** 2


def _mcse(values: np.ndarray) -> np.ndarray:
    """ArviZ MCSE of the mean of values shaped (chain, draw, ...) over the chains and draws,
    one call for all the trailing entries (0 where the values are constant)."""
    flat = values.reshape(*values.shape[:2], -1)
    out = np.zeros(flat.shape[2])
    varying = np.flatnonzero(np.ptp(flat, axis=(0, 1)) > 0)
    if varying.size and flat.shape[0] * flat.shape[1] >= 4:
        da = xr.DataArray(flat[..., varying], dims=[*SAMPLE_DIMS, "entry"])
        out[varying] = az.mcse(da, sample_dims=list(SAMPLE_DIMS), method="mean").to_numpy()
    return out.reshape(values.shape[2:])


def assurance(
    p_t,
    p_c,
    n_per_arm,
    criteria: Criteria,
    simulations: int,
    rng: np.random.Generator,
    robust_weight: float = 0.0,
) -> dict:
    """Probability of success of each criterion at each sample size (module docstring).

    Parameters
    ----------
    p_t, p_c : numpy.ndarray
        Draws of the two rates from the design prior, shaped (chain, draw) or flat (one chain).
    n_per_arm : sequence of int
    criteria : Criteria
    simulations : int
        Simulated trials per sample size, at least: every design draw gets
        ``ceil(simulations / draws)`` of them.
    rng : numpy.random.Generator
    robust_weight : float
        Weight w of the independent uniform rates mixed into the design prior.

    Returns
    -------
    dict
        ``n_per_arm``, ``simulations`` (simulated trials per sample size), ``design_draws``,
        ``trials_per_draw`` and, per criterion, ``assurance`` and ``mcse`` lists.
    """
    p_t, p_c = np.atleast_2d(np.asarray(p_t, float)), np.atleast_2d(np.asarray(p_c, float))
    per_draw = max(1, math.ceil(simulations / p_t.size))
    shape = (*p_t.shape, per_draw)
    w = float(robust_weight)
    out: dict = {
        "n_per_arm": [int(n) for n in n_per_arm],
        "simulations": int(p_t.size * per_draw),
        "design_draws": int(p_t.size),
        "trials_per_draw": per_draw,
        **{name: {"assurance": [], "mcse": []} for name in CRITERIA},
    }
    shares = np.empty((*p_t.shape, len(n_per_arm), len(CRITERIA)))
    for i, n in enumerate(n_per_arm):
        y_t = rng.binomial(int(n), p_t[..., None], shape)
        y_c = rng.binomial(int(n), p_c[..., None], shape)
        for j, name in enumerate(CRITERIA):
            # each draw's share of successes estimates its conditional success probability
            shares[..., i, j] = criteria.rule(name)(y_t, y_c, int(n)).mean(axis=-1)
    errors = (1 - w) * _mcse(shares)
    for j, name in enumerate(CRITERIA):
        for i, n in enumerate(n_per_arm):
            uniform = region_share(criteria, name, int(n)) if w > 0 else 0.0
            out[name]["assurance"].append((1 - w) * float(shares[..., i, j].mean()) + w * uniform)
            out[name]["mcse"].append(float(errors[i, j]))
    return out


def smallest_n(n_per_arm, values, target: float) -> int | None:
    """The smallest sample size in the grid whose value reaches ``target`` (None: none does)."""
    for n, v in zip(n_per_arm, values, strict=True):
        if v >= target:
            return int(n)
    return None


def _outcomes(n: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes 0..n of Binomial(n, p) with probability above ``TAIL``, and their probabilities
    (a contiguous range: the binomial is unimodal)."""
    w = stats.binom.pmf(np.arange(n + 1), n, p)
    keep = np.flatnonzero(w > TAIL)
    y = np.arange(keep[0], keep[-1] + 1)
    return y, w[y]


def success_probability(rule, n: int, p_t: float, p_c: float) -> float:
    """Exact P(success) of ``rule(y_t, y_c, n)`` by enumerating the outcomes of one trial."""
    (y_t, w_t), (y_c, w_c) = _outcomes(n, p_t), _outcomes(n, p_c)
    hit = rule(y_t[:, None], y_c[None, :], n).astype(float)
    return float(w_t @ hit @ w_c)


def operating_characteristics(
    criteria: Criteria,
    null_rate: float,
    n_grid,
    oc_n,
    rd_grid: np.ndarray,
) -> dict:
    """Exact type-I error over ``n_grid`` and power curves over ``rd_grid`` at each ``oc_n``.

    Power at RD is computed at p_c = ``null_rate`` and p_t = ``null_rate`` + RD (RDs that would
    put p_t at or above 1 are left out).
    """
    rds = [float(d) for d in rd_grid if null_rate + d < 1]
    type1 = {
        name: [success_probability(criteria.rule(name), n, null_rate, null_rate) for n in n_grid]
        for name in CRITERIA
    }
    power = []
    for n in oc_n:
        power.append(
            {
                "n_per_arm": int(n),
                **{
                    name: [
                        success_probability(criteria.rule(name), n, null_rate + d, null_rate)
                        for d in rds
                    ]
                    for name in CRITERIA
                },
            }
        )
    return {
        "null_rate": null_rate,
        "n_per_arm": [int(n) for n in n_grid],
        "type1": type1,
        "rd": rds,
        "power": power,
    }
