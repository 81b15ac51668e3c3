"""The posterior of the benefit, sign · RD, at one horizon, with RD = p_treatment − p_control.

Benefit follows the outcome's direction (:class:`~bayes_ips.data.Comparison`, ``sign``): when a
higher rate is better it is the RD itself; when a lower one is better it is −RD, the difference
of the rates of the *favourable* result, (1 − p_treatment) − (1 − p_control) (participants spared
the outcome). Below, "RD" is this difference of favourable rates, so every decision quantity
reads the same way in both directions. Every one is a functional of this distribution: tail
probabilities P(RD > d), expected excesses E[(RD − d)⁺] and shortfalls E[(d − RD)⁺] (the
building blocks of net benefit and the value of information).
Two implementations share one interface:

- :class:`BetaDifference`, exact, for the conjugate beta-binomial engine: with independent
  posteriors X ~ Beta(a_t, b_t), Y ~ Beta(a_c, b_c),

      P(X − Y > d)   = ∫₀¹ [1 − F_X(F_Y⁻¹(u) + d)] du,
      E[(X − Y − d)⁺] = ∫₀¹ g(F_Y⁻¹(u) + d) du,   g(k) = E[(X − k)⁺],

  where g has the closed form g(k) = m·[1 − I_k(a_t + 1, b_t)] − k·[1 − I_k(a_t, b_t)] on
  [0, 1] (m = a_t / (a_t + b_t), I the regularised incomplete beta function). Substituting
  u = F_Y(y) makes both integrands bounded and monotone whatever the sample size, and
  :func:`scipy.integrate.quad_vec` evaluates them for a whole vector of thresholds at once.
- :class:`DrawsDifference`, for any model, from posterior draws of RD with ArviZ Monte Carlo
  standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import arviz as az
import numpy as np
import xarray as xr
from scipy import integrate, special

from bayes_ips.data import Comparison

SAMPLE_DIMS = ["chain", "draw"]
QUAD_TOL = 1e-8


def beta_excess(k: np.ndarray, a: float, b: float) -> np.ndarray:
    """E[(X − k)⁺] for X ~ Beta(a, b), elementwise in ``k`` (any real)."""
    k = np.asarray(k, dtype=float)
    kc = np.clip(k, 0.0, 1.0)
    mean = a / (a + b)
    inside = mean * special.betaincc(a + 1, b, kc) - kc * special.betaincc(a, b, kc)
    return np.where(k <= 0.0, mean - k, np.where(k >= 1.0, 0.0, inside))


def beta_sf(k: np.ndarray, a: float, b: float) -> np.ndarray:
    """P(X > k) for X ~ Beta(a, b), elementwise in ``k`` (any real)."""
    return special.betaincc(a, b, np.clip(k, 0.0, 1.0))


@dataclass(frozen=True)
class BetaDifference:
    """RD = X − Y with independent X ~ Beta(a_t, b_t), Y ~ Beta(a_c, b_c); exact answers."""

    a_t: float
    b_t: float
    a_c: float
    b_c: float

    exact = True

    def mean(self) -> float:
        return self.a_t / (self.a_t + self.b_t) - self.a_c / (self.a_c + self.b_c)

    def control_mean(self) -> float:
        return self.a_c / (self.a_c + self.b_c)

    def _integrate(self, fn, d: np.ndarray) -> np.ndarray:
        def integrand(u: float) -> np.ndarray:
            return fn(special.betaincinv(self.a_c, self.b_c, u) + d)

        value, _ = integrate.quad_vec(integrand, 0.0, 1.0, epsabs=QUAD_TOL, epsrel=QUAD_TOL)
        return value

    def prob_gt(self, d, mcse: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """P(RD > d) for each threshold, and its Monte Carlo SE (zero: exact)."""
        d = np.atleast_1d(np.asarray(d, dtype=float))
        p = self._integrate(lambda k: beta_sf(k, self.a_t, self.b_t), d)
        return np.clip(p, 0.0, 1.0), np.zeros_like(d)

    def excess(self, d, mcse: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """E[(RD − d)⁺] for each threshold, and its Monte Carlo SE (zero: exact)."""
        d = np.atleast_1d(np.asarray(d, dtype=float))
        value = self._integrate(lambda k: beta_excess(k, self.a_t, self.b_t), d)
        return np.maximum(value, 0.0), np.zeros_like(d)

    def shortfall(self, d, mcse: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """E[(d − RD)⁺] = E[(RD − d)⁺] − (E[RD] − d) for each threshold (exact)."""
        d = np.atleast_1d(np.asarray(d, dtype=float))
        value = self.excess(d)[0] - (self.mean() - d)
        return np.maximum(value, 0.0), np.zeros_like(d)

    def moments(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Beta parameters ``((a_t, b_t), (a_c, b_c))`` of the two arms."""
        return (self.a_t, self.b_t), (self.a_c, self.b_c)


@dataclass(frozen=True)
class DrawsDifference:
    """RD from joint posterior draws of both arms' rates (dims ``chain, draw``)."""

    p_t: xr.DataArray
    p_c: xr.DataArray

    exact = False

    @property
    def rd(self) -> xr.DataArray:
        return self.p_t - self.p_c

    def mean(self) -> float:
        return float(self.rd.mean())

    def control_mean(self) -> float:
        return float(self.p_c.mean())

    def _tail(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Count of draws above each threshold and the sum of their excesses."""
        x = np.sort(self.rd.to_numpy().ravel())
        above_sum = np.concatenate([np.cumsum(x[::-1])[::-1], [0.0]])
        first = np.searchsorted(x, d, side="right")
        count = x.size - first
        return count / x.size, (above_sum[first] - count * d) / x.size

    def _mcse(self, fn, d: np.ndarray) -> np.ndarray:
        rd = self.rd
        out = []
        for t in d:
            values = fn(rd, t)
            same = float(values.max()) == float(values.min())
            out.append(
                0.0 if same else float(az.mcse(values, sample_dims=SAMPLE_DIMS, method="mean"))
            )
        return np.array(out)

    def prob_gt(self, d, mcse: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """P(RD > d) for each threshold, and its ArviZ MCSE (NaN when ``mcse`` is False)."""
        d = np.atleast_1d(np.asarray(d, dtype=float))
        p = self._tail(d)[0]
        if not mcse:
            return p, np.full_like(d, np.nan)
        return p, self._mcse(lambda rd, t: (rd > t).astype(float), d)

    def excess(self, d, mcse: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """E[(RD − d)⁺] for each threshold, and its ArviZ MCSE (NaN when ``mcse`` is False)."""
        d = np.atleast_1d(np.asarray(d, dtype=float))
        value = self._tail(d)[1]
        if not mcse:
            return value, np.full_like(d, np.nan)
        return value, self._mcse(lambda rd, t: np.maximum(rd - t, 0.0), d)

    def shortfall(self, d, mcse: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """E[(d − RD)⁺] for each threshold, and its ArviZ MCSE (NaN when ``mcse`` is False)."""
        d = np.atleast_1d(np.asarray(d, dtype=float))
        value = self._tail(d)[1] - (self.mean() - d)
        if not mcse:
            return np.maximum(value, 0.0), np.full_like(d, np.nan)
        return np.maximum(value, 0.0), self._mcse(lambda rd, t: np.maximum(t - rd, 0.0), d)

    def moments(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Beta parameters matched to each arm's posterior mean and variance (method of
        moments): the approximation used where a conjugate update is needed."""
        return _match_beta(self.p_t), _match_beta(self.p_c)


def _match_beta(x: xr.DataArray) -> tuple[float, float]:
    m, v = float(x.mean()), float(x.var())
    v = min(v, m * (1 - m) * 0.999)
    size = m * (1 - m) / v - 1
    return m * size, (1 - m) * size


EffectPosterior = BetaDifference | DrawsDifference


def favourable(rate, comparison: Comparison):
    """The rate of the favourable result from the outcome's rate: the rate itself when a higher
    rate is better, 1 − rate when a lower one is (and back: the map is its own inverse)."""
    return rate if comparison.sign > 0 else 1 - rate


def benefit_interval(rd: dict, comparison: Comparison) -> dict:
    """An RD interval (``median, lo, hi``) as the interval of the benefit sign · RD."""
    if comparison.sign > 0:
        return rd
    return {"median": -rd["median"], "lo": -rd["hi"], "hi": -rd["lo"]}


def effect_posterior(
    fit, horizon: float, comparison: Comparison, exact: bool = True
) -> EffectPosterior:
    """The posterior of the benefit sign · RD (module docstring) of one fit at one horizon:
    exact where the fit carries Beta posterior parameters (group ``exact_posterior``) and
    ``exact`` is True, from its draws otherwise. Its arms are the rates of the favourable
    result (:func:`favourable`): for a lower-is-better outcome Beta(a, b) becomes Beta(b, a)
    and a draw p becomes 1 − p, so ``control_mean`` and ``moments`` are on that scale too."""
    if exact and "exact_posterior" in fit.tree.children:
        post = fit.tree["exact_posterior"].to_dataset().sel(horizon=horizon)
        t, c = post.sel(arm=comparison.treatment), post.sel(arm=comparison.control)
        (a_t, b_t), (a_c, b_c) = ((float(x["a"]), float(x["b"])) for x in (t, c))
        if comparison.sign < 0:
            (a_t, b_t), (a_c, b_c) = (b_t, a_t), (b_c, a_c)
        return BetaDifference(a_t, b_t, a_c, b_c)
    p = fit.p.sel(horizon=horizon)
    return DrawsDifference(
        favourable(p.sel(arm=comparison.treatment, drop=True), comparison),
        favourable(p.sel(arm=comparison.control, drop=True), comparison),
    )
