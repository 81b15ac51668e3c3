"""A prior as data: what it is, on which scale, and the recipe that produced it.

A :class:`Prior` may carry two components:

- ``rate``: Beta priors on the employment rates, carried by the beta-binomial models. The
  control arm's and the treatment arm's Beta may differ;
- ``effect``: a prior on the log odds ratio of cumulative employment, at every horizon, carried
  by the logistic models: a :class:`NormalEffect` or a :class:`MixtureEffect` (a finite mixture
  of normals, e.g. a robust meta-analytic-predictive prior).

Which model carries which component is :data:`bayes_ips.models.CARRIES`; a model given a prior
without its component is an :class:`~bayes_ips.errors.InputError` naming both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from bayes_ips.errors import InputError


@dataclass(frozen=True)
class BetaRate:
    """Beta(a, b) on the control arm's rate; the treatment arm's is the same unless given."""

    a: float
    b: float
    treatment_a: float | None = None
    treatment_b: float | None = None

    @property
    def treatment(self) -> tuple[float, float]:
        """The treatment arm's (a, b)."""
        if self.treatment_a is None or self.treatment_b is None:
            return self.a, self.b
        return self.treatment_a, self.treatment_b

    @property
    def control(self) -> tuple[float, float]:
        """The control arm's (a, b)."""
        return self.a, self.b

    def describe(self) -> str:
        if self.treatment == self.control:
            return f"Beta({self.a:g}, {self.b:g}) on each arm's rate"
        ta, tb = self.treatment
        return (
            f"Beta({self.a:.3g}, {self.b:.3g}) on the control rate, "
            f"Beta({ta:.3g}, {tb:.3g}) on the treatment rate"
        )

    def as_dict(self) -> dict:
        out = {"family": "beta", "a": self.a, "b": self.b}
        if self.treatment != self.control:
            out["treatment_a"], out["treatment_b"] = self.treatment
        return out

    @classmethod
    def from_dict(cls, d: dict) -> BetaRate:
        return cls(d["a"], d["b"], d.get("treatment_a"), d.get("treatment_b"))


class _Effect:
    """Shared behaviour of effect priors, written for a mixture of normals on the log OR."""

    def components(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weights, means and SDs of the normal components."""
        raise NotImplementedError

    @property
    def mixture_mean(self) -> float:
        w, m, _ = self.components()
        return float(w @ m)

    @property
    def mixture_sd(self) -> float:
        w, m, s = self.components()
        return float(math.sqrt(w @ (s**2 + m**2) - (w @ m) ** 2))

    def pdf(self, x) -> np.ndarray:
        w, m, s = self.components()
        x = np.asarray(x, dtype=float)[..., None]
        return (w * stats.norm.pdf(x, m, s)).sum(-1)

    def logpdf(self, x) -> np.ndarray:
        w, m, s = self.components()
        x = np.asarray(x, dtype=float)[..., None]
        with np.errstate(divide="ignore"):
            return np.logaddexp.reduce(np.log(w) + stats.norm.logpdf(x, m, s), axis=-1)

    def cdf(self, x) -> np.ndarray:
        w, m, s = self.components()
        x = np.asarray(x, dtype=float)[..., None]
        return (w * stats.norm.cdf(x, m, s)).sum(-1)

    def ppf(self, q: float) -> float:
        """Quantile (by root finding for a mixture)."""
        w, m, s = self.components()
        if len(w) == 1:
            return float(stats.norm.ppf(q, m[0], s[0]))
        lo, hi = float((m - 10 * s).min()), float((m + 10 * s).max())
        return float(optimize.brentq(lambda x: float(self.cdf(x)) - q, lo, hi, xtol=1e-12))

    def prob_benefit(self) -> float:
        """Prior probability that the OR exceeds 1."""
        return float(1.0 - self.cdf(0.0))

    def or_interval(self, mass: float = 0.95) -> tuple[float, float]:
        """Equal-tailed prior interval of the OR."""
        return _exp(self.ppf((1 - mass) / 2)), _exp(self.ppf((1 + mass) / 2))


def _exp(x: float) -> float:
    """``e^x``, ``inf`` beyond the float range (a log OR prior with SD up to 1000)."""
    return math.exp(x) if x < 709.0 else math.inf


def or_text(x: float) -> str:
    """An odds ratio in a prior's description: two decimals, three significant digits beyond
    1000 or below 0.01, "∞" beyond the float range (never a long run of digits)."""
    if math.isinf(x):
        return "∞"
    if x != 0 and not 0.01 <= x < 1000:
        return f"{x:.3g}"
    return f"{x:.2f}"


@dataclass(frozen=True)
class NormalEffect(_Effect):
    """Normal(mean, sd) prior on the log odds ratio (treatment vs control)."""

    mean: float
    sd: float

    def components(self):
        return np.ones(1), np.array([self.mean]), np.array([self.sd])

    def describe(self) -> str:
        lo, hi = self.or_interval()
        return (
            f"Normal({self.mean:.3f}, {self.sd:.3f}²) on the log OR "
            f"(95% prior interval for the OR {or_text(lo)} to {or_text(hi)})"
        )

    def as_dict(self) -> dict:
        return {"family": "normal", "scale": "log_or", "mean": self.mean, "sd": self.sd}


@dataclass(frozen=True)
class MixtureEffect(_Effect):
    """A finite mixture of normals on the log odds ratio; weights sum to 1."""

    weights: tuple[float, ...]
    means: tuple[float, ...]
    sds: tuple[float, ...]

    def __post_init__(self):
        if not len(self.weights) == len(self.means) == len(self.sds) >= 1:
            raise ValueError("a mixture needs equally many weights, means and SDs")
        if abs(sum(self.weights) - 1.0) > 1e-9 or min(self.weights) < 0 or min(self.sds) <= 0:
            raise ValueError("mixture weights must be >= 0 and sum to 1; SDs must be > 0")

    def components(self):
        return np.array(self.weights), np.array(self.means), np.array(self.sds)

    def describe(self) -> str:
        parts = " + ".join(
            f"{w:.2f}·N({m:.2f}, {s:.2f}²)"
            for w, m, s in zip(self.weights, self.means, self.sds, strict=True)
        )
        lo, hi = self.or_interval()
        return (
            f"mixture {parts} on the log OR (mean {self.mixture_mean:.3f}, SD "
            f"{self.mixture_sd:.3f}; 95% prior interval for the OR {or_text(lo)} to {or_text(hi)})"
        )

    def as_dict(self) -> dict:
        return {
            "family": "normal_mixture",
            "scale": "log_or",
            "weights": list(self.weights),
            "means": list(self.means),
            "sds": list(self.sds),
            "mean": self.mixture_mean,
            "sd": self.mixture_sd,
        }


Effect = NormalEffect | MixtureEffect


def effect_from_dict(d: dict) -> Effect:
    """Inverse of ``as_dict`` for either effect family."""
    if d.get("family") == "normal_mixture":
        return MixtureEffect(tuple(d["weights"]), tuple(d["means"]), tuple(d["sds"]))
    return NormalEffect(d["mean"], d["sd"])


@dataclass(frozen=True)
class Prior:
    """A named prior: what it is, on which scale, and the recipe that produced it.

    Attributes
    ----------
    name : str
    recipe : str
        How the numbers were obtained, in words (shown in the report and summary.json).
    rate : BetaRate or None
    effect : NormalEffect, MixtureEffect or None
    group : str
        The family of recipes it belongs to (``reference``, ``community``, ``clinical``,
        ``evidence``, ``meta-analytic``, ``user``), for grouping in tables and figures.
    """

    name: str
    recipe: str
    rate: BetaRate | None = None
    effect: Effect | None = None
    group: str = "reference"

    def describe(self) -> str:
        parts = [c.describe() for c in (self.effect, self.rate) if c is not None]
        return "; ".join(parts)

    def as_dict(self) -> dict:
        out: dict = {"name": self.name, "recipe": self.recipe, "group": self.group}
        if self.rate is not None:
            out["rate"] = self.rate.as_dict()
        if self.effect is not None:
            out["effect"] = self.effect.as_dict()
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Prior:
        """Inverse of :meth:`as_dict`."""
        rate = d.get("rate")
        effect = d.get("effect")
        return cls(
            d["name"],
            d["recipe"],
            rate=None if rate is None else BetaRate.from_dict(rate),
            effect=None if effect is None else effect_from_dict(effect),
            group=d.get("group", "reference"),
        )

    def require(self, component: str, model: str) -> BetaRate | Effect:
        """The ``rate`` or ``effect`` component, or an input error naming the model."""
        value = getattr(self, component)
        if value is None:
            raise InputError(
                "spec",
                f"prior {self.name!r} has no {component} component, which model {model!r} needs",
                field="priors",
                value=self.name,
            )
        return value
