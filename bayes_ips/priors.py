"""Named priors as data: family, parameters, scale and the recipe in words.

A :class:`Prior` may carry two components:

- ``rate``: a Beta(a, b) prior on each arm's employment rate (used by ``beta_binomial`` and as the
  prior of each arm's mean rate in ``hierarchical_beta_binomial``);
- ``effect``: a Normal(mean, sd) prior on the treatment effect as a log odds ratio (used by
  ``hierarchical_logistic`` as the prior of the mean effect across horizons).

A model that needs a component the prior lacks raises an :class:`~bayes_ips.errors.InputError`
naming both. Calibrations follow ``shared/design/priors.md``: the standard deviations of the
belief x strength grid are computed from the stated tail probabilities, never typed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from bayes_ips.errors import InputError

OR_OPTIMISTIC = 1.25
NEUTRAL_WEAK_SD = 2.0
REFERENCE_EFFECT_SD = 2.5


@dataclass(frozen=True)
class BetaRate:
    """Independent Beta(a, b) priors on each arm's rate."""

    a: float
    b: float

    def describe(self) -> str:
        return f"Beta({self.a:g}, {self.b:g}) on each arm's rate"


@dataclass(frozen=True)
class NormalEffect:
    """Normal(mean, sd) prior on the log odds ratio (treatment vs control)."""

    mean: float
    sd: float

    def describe(self) -> str:
        lo, hi = (math.exp(self.mean + z * self.sd) for z in (-1.959964, 1.959964))
        return (
            f"Normal({self.mean:.3f}, {self.sd:.3f}²) on the log OR "
            f"(95% prior interval for the OR {lo:.2f} to {hi:.2f})"
        )

    def prob_benefit(self) -> float:
        """Prior probability that the OR exceeds 1."""
        return float(stats.norm.sf(0.0, self.mean, self.sd))


@dataclass(frozen=True)
class Prior:
    """A named prior: what it is, on which scale, and the recipe that produced it."""

    name: str
    recipe: str
    rate: BetaRate | None = None
    effect: NormalEffect | None = None

    def describe(self) -> str:
        parts = [c.describe() for c in (self.rate, self.effect) if c is not None]
        return "; ".join(parts)

    def as_dict(self) -> dict:
        out: dict = {"name": self.name, "recipe": self.recipe}
        if self.rate is not None:
            out["rate"] = {"family": "beta", "a": self.rate.a, "b": self.rate.b}
        if self.effect is not None:
            out["effect"] = {
                "family": "normal",
                "scale": "log_or",
                "mean": self.effect.mean,
                "sd": self.effect.sd,
            }
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Prior:
        """Inverse of :meth:`as_dict`."""
        rate = d.get("rate")
        effect = d.get("effect")
        return cls(
            d["name"],
            d["recipe"],
            rate=None if rate is None else BetaRate(rate["a"], rate["b"]),
            effect=None if effect is None else NormalEffect(effect["mean"], effect["sd"]),
        )

    def require(self, component: str, model: str) -> BetaRate | NormalEffect:
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


def sd_from_tail(mean: float, threshold: float, tail: float) -> float:
    """SD of a normal with the given mean that puts probability ``tail`` beyond ``threshold``."""
    return abs(mean - threshold) / stats.norm.isf(tail)


def sd_from_interval(lo: float, hi: float, mass: float = 0.95) -> float:
    """SD of a normal centred between ``lo`` and ``hi`` that puts ``mass`` between them."""
    return (hi - lo) / (2 * stats.norm.isf((1 - mass) / 2))


def _grid() -> list[Prior]:
    log_opt = math.log(OR_OPTIMISTIC)
    tails = {"strong": 0.05, "moderate": 0.15, "weak": 0.30}
    priors = []
    for strength, tail in tails.items():
        sd = sd_from_tail(log_opt, 0.0, tail)
        priors.append(
            Prior(
                f"optimistic_{strength}",
                f"mean log {OR_OPTIMISTIC}; SD chosen so that P(OR < 1) = {tail:.0%} "
                "(Zampieri-style community of priors)",
                effect=NormalEffect(log_opt, sd),
            )
        )
        priors.append(
            Prior(
                f"pessimistic_{strength}",
                f"mean −log {OR_OPTIMISTIC}; SD chosen so that P(OR > 1) = {tail:.0%} "
                "(mirror of the optimistic prior)",
                effect=NormalEffect(-log_opt, sd),
            )
        )
    for strength, (lo, hi) in {"strong": (1 / 1.5, 1.5), "moderate": (0.5, 2.0)}.items():
        priors.append(
            Prior(
                f"neutral_{strength}",
                f"mean 0; SD chosen so that 95% of the mass has the OR in {lo:.2f}–{hi:.2f}",
                effect=NormalEffect(0.0, sd_from_interval(math.log(lo), math.log(hi))),
            )
        )
    priors.append(
        Prior(
            "neutral_weak",
            f"mean 0; vague, SD {NEUTRAL_WEAK_SD:g} on the log OR (95% of the mass for OR "
            f"between {math.exp(-1.96 * NEUTRAL_WEAK_SD):.2f} and "
            f"{math.exp(1.96 * NEUTRAL_WEAK_SD):.0f})",
            effect=NormalEffect(0.0, NEUTRAL_WEAK_SD),
        )
    )
    return priors


def library() -> dict[str, Prior]:
    """All named priors, by name."""
    base = [
        Prior(
            "reference",
            "uniform Beta(1, 1) on each arm's rate; for the logistic model a weakly informative "
            f"Normal(0, {REFERENCE_EFFECT_SD:g}²) on the log OR",
            rate=BetaRate(1.0, 1.0),
            effect=NormalEffect(0.0, REFERENCE_EFFECT_SD),
        ),
        Prior(
            "jeffreys",
            "Jeffreys prior Beta(0.5, 0.5) on each arm's rate",
            rate=BetaRate(0.5, 0.5),
        ),
    ]
    return {p.name: p for p in [*base, *_grid()]}


def get_prior(name: str) -> Prior:
    """Look up a named prior; an unknown name is an input error listing the known ones."""
    known = library()
    if name not in known:
        raise InputError(
            "spec", f"unknown prior; known priors: {', '.join(known)}", field="priors", value=name
        )
    return known[name]
