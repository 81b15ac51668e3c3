"""The next trial: success criteria, Bayesian assurance and exact operating characteristics.

A confirmatory two-arm trial randomises ``n`` participants per arm and observes the number
employed in each arm, y_t ~ Binomial(n, p_t) and y_c ~ Binomial(n, p_c). Two success criteria:

- **frequentist**: the pooled two-proportion z test (equivalently Pearson's χ² test without
  continuity correction) is significant at two-sided level α with the treatment ahead,
  z > z_{1−α/2};
- **Bayesian**: P(log OR > 0 | new trial) > the success probability (default 0.975) under a
  sceptical analysis prior log OR ~ Normal(0, s²), the new trial analysed on its own. The
  posterior uses the normal approximation of the log odds ratio's likelihood with 0.5 added to
  every cell (estimate θ̂, variance v̂ = Σ 1/(cell + 0.5)); then θ | data ~ Normal(θ̂·s²/(s² + v̂),
  s²v̂/(s² + v̂)). This is an approximation, checked against exact two-dimensional quadrature
  of the binomial likelihood in the tests; the operating characteristics below are exact for the
  rule as stated.

**Assurance** (probability of success) averages the success indicator over the design prior:
rates (p_t, p_c) are resampled from the reanalysis posterior draws (optionally robustified: with
probability w both rates are instead drawn from independent uniform Beta(1, 1) distributions),
trials are simulated from them, and assurance is the success fraction, with binomial Monte Carlo
SE √(A(1 − A)/M). One set of design draws is shared by every sample size, so the curve over n is
smooth. As n grows, frequentist assurance tends to the design prior's P(RD > 0), the ceiling no
trial size can pass.

**Operating characteristics** (type-I error at p_t = p_c, power at p_t = p_c + RD) are computed
exactly by enumerating every trial outcome (y_t, y_c) with its binomial probability, not by
simulation; outcomes with probability below 1e-13 per arm are left out (at most (n + 1)·1e-13 of
the probability).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

TAIL = 1e-13


def sceptical_sd(control_rate: float, mcid: float, tail: float = 0.05) -> float:
    """Spiegelhalter's sceptical prior SD on the log OR: P(OR > OR_mcid) = ``tail`` under
    Normal(0, s²), where OR_mcid is the odds ratio of ``control_rate + mcid`` versus
    ``control_rate`` (the MCID on the odds-ratio scale at the control rate)."""
    treated = min(control_rate + mcid, 0.999)
    log_or = math.log(treated / (1 - treated)) - math.log(control_rate / (1 - control_rate))
    return log_or / stats.norm.isf(tail)


@dataclass(frozen=True)
class Criteria:
    """The two success criteria of the next trial.

    Parameters
    ----------
    alpha : float
        Two-sided level of the z test.
    success_probability : float
        Bayesian success threshold on P(log OR > 0 | data).
    prior_sd : float
        SD of the sceptical Normal(0, s²) analysis prior on the log OR.
    """

    alpha: float
    success_probability: float
    prior_sd: float

    def frequentist(self, y_t, y_c, n) -> np.ndarray:
        """Success of the pooled z test, elementwise (broadcasting)."""
        y_t, y_c, n = (np.asarray(x, dtype=float) for x in (y_t, y_c, n))
        pooled = (y_t + y_c) / (2 * n)
        var = pooled * (1 - pooled) * 2 / n
        diff = (y_t - y_c) / n
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(var > 0, diff / np.sqrt(var), 0.0)
        return z > stats.norm.isf(self.alpha / 2)

    def posterior_benefit(self, y_t, y_c, n) -> np.ndarray:
        """Approximate P(log OR > 0 | data) under the sceptical prior, elementwise."""
        y_t, y_c, n = (np.asarray(x, dtype=float) for x in (y_t, y_c, n))
        theta = (
            np.log(y_t + 0.5) - np.log(n - y_t + 0.5) - np.log(y_c + 0.5) + np.log(n - y_c + 0.5)
        )
        v = 1 / (y_t + 0.5) + 1 / (n - y_t + 0.5) + 1 / (y_c + 0.5) + 1 / (n - y_c + 0.5)
        s2 = self.prior_sd**2
        return special.ndtr(theta * s2 / (s2 + v) / np.sqrt(s2 * v / (s2 + v)))

    def bayesian(self, y_t, y_c, n) -> np.ndarray:
        """Success of the Bayesian rule, elementwise."""
        return self.posterior_benefit(y_t, y_c, n) > self.success_probability

    def rule(self, name: str):
        return {"frequentist": self.frequentist, "bayesian": self.bayesian}[name]


CRITERIA = ("frequentist", "bayesian")


def design_draws(
    p_t: np.ndarray, p_c: np.ndarray, size: int, robust_weight: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Resample ``size`` rate pairs from posterior draws, robustified with weight ``w``."""
    idx = rng.integers(0, len(p_t), size)
    t, c = p_t[idx].copy(), p_c[idx].copy()
    vague = rng.random(size) < robust_weight
    t[vague], c[vague] = rng.random(vague.sum()), rng.random(vague.sum())
    return t, c


def assurance(
    p_t: np.ndarray,
    p_c: np.ndarray,
    n_per_arm,
    criteria: Criteria,
    rng: np.random.Generator,
) -> dict:
    """Simulated probability of success of each criterion at each sample size.

    Parameters
    ----------
    p_t, p_c : numpy.ndarray
        Design draws of the two rates (one simulated trial per pair at each sample size).
    n_per_arm : sequence of int
    criteria : Criteria
    rng : numpy.random.Generator

    Returns
    -------
    dict
        ``n_per_arm``, ``simulations`` and, per criterion, ``assurance`` and ``mcse`` lists.
    """
    m = len(p_t)
    out: dict = {"n_per_arm": [int(n) for n in n_per_arm], "simulations": m}
    hits = {name: [] for name in CRITERIA}
    for n in n_per_arm:
        y_t, y_c = rng.binomial(n, p_t), rng.binomial(n, p_c)
        for name in CRITERIA:
            hits[name].append(float(criteria.rule(name)(y_t, y_c, n).mean()))
    for name in CRITERIA:
        a = np.array(hits[name])
        out[name] = {"assurance": a.tolist(), "mcse": np.sqrt(a * (1 - a) / m).tolist()}
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
