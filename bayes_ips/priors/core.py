"""A prior as data: what it is, on which scale, and the recipe that produced it.

A :class:`Prior` may carry two components:

- ``rate``: Beta priors on the employment rates, carried by the beta-binomial models. The
  control arm's and the treatment arm's Beta may differ;
- ``effect``: a prior on the effect at every horizon, carried by the models whose link matches
  its **scale** (:data:`SCALES`): on the log odds ratio (the logistic models) a
  :class:`NormalEffect` or a :class:`MixtureEffect` (a finite mixture of normals, e.g. a robust
  meta-analytic-predictive prior); on the log risk ratio (the log-binomial models) a
  :class:`NormalEffect` with ``scale="log_rr"``.

Which model carries which component is :data:`bayes_ips.models.CARRIES`; a model given a prior
without its component is an :class:`~bayes_ips.errors.InputError` naming both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from bayes_ips.errors import InputError
from bayes_ips.logodds import CONTROL_LOGIT_SD


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


SCALES = {"log_or": ("log OR", "OR"), "log_rr": ("log RR", "RR")}
"""The scales an effect prior may be stated on: key → (the log scale's name, the ratio's name)."""


class _Effect:
    """Shared behaviour of effect priors, written for a mixture of normals on the log ratio of
    :attr:`scale`."""

    scale: str = "log_or"

    @property
    def scale_name(self) -> str:
        """``"log OR"`` or ``"log RR"``."""
        return SCALES[self.scale][0]

    @property
    def ratio_name(self) -> str:
        """``"OR"`` or ``"RR"``."""
        return SCALES[self.scale][1]

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
        """Prior probability that the ratio (OR or RR) exceeds 1."""
        return float(1.0 - self.cdf(0.0))

    def or_interval(self, mass: float = 0.95) -> tuple[float, float]:
        """Equal-tailed prior interval of the ratio (OR or RR, by :attr:`scale`)."""
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
    """Normal(mean, sd) prior on the log odds ratio (treatment vs control), or on the log risk
    ratio with ``scale="log_rr"``."""

    mean: float
    sd: float
    scale: str = "log_or"

    def __post_init__(self):
        if self.scale not in SCALES:
            raise ValueError(f"unknown effect scale {self.scale!r}; known: {', '.join(SCALES)}")

    def components(self):
        return np.ones(1), np.array([self.mean]), np.array([self.sd])

    def describe(self) -> str:
        lo, hi = self.or_interval()
        return (
            f"Normal({self.mean:.3f}, {self.sd:.3f}²) on the {self.scale_name} "
            f"(95% prior interval for the {self.ratio_name} {or_text(lo)} to {or_text(hi)})"
        )

    def as_dict(self) -> dict:
        return {"family": "normal", "scale": self.scale, "mean": self.mean, "sd": self.sd}


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


@dataclass(frozen=True)
class ControlPrior:
    """The prior of the control arm's risk (at the first horizon), stated in ``[priors]``:
    Normal(``a``, ``b``²) on its logit (``family="logit_normal"``) or Beta(``a``, ``b``) on the
    rate itself (``family="beta"``), whose logit ``x`` then has the logit-Beta density
    ``a·log σ(x) + b·log σ(−x) − log B(a, b)``. Every model with a control parameter uses it
    (the log-binomial and logistic models; in the beta-binomial models a Beta is the control
    arm's conjugate prior). :data:`DEFAULT_CONTROL` is the log-binomial models' prior when none
    is stated; the logistic models then keep their Normal(0, 1.5²) on the arms' midpoint
    log-odds."""

    family: str
    a: float
    b: float

    def __post_init__(self):
        if self.family not in ("logit_normal", "beta"):
            raise ValueError(f"unknown control-risk prior family {self.family!r}")

    def logpdf_logit(self, x) -> np.ndarray:
        """The log density of the control risk's logit ``x``."""
        x = np.asarray(x, dtype=float)
        if self.family == "logit_normal":
            return stats.norm.logpdf(x, self.a, self.b)
        # Beta(a, b) on p = invlogit(x), times the Jacobian p (1 − p)
        return (
            -self.a * np.logaddexp(0, -x)
            - self.b * np.logaddexp(0, x)
            - special.betaln(self.a, self.b)
        )

    def logit_derivatives(self, x) -> tuple[np.ndarray, np.ndarray]:
        """The first and second derivatives of :meth:`logpdf_logit` at ``x`` (both families are
        log-concave)."""
        x = np.asarray(x, dtype=float)
        if self.family == "logit_normal":
            return -(x - self.a) / self.b**2, np.full_like(x, -1.0 / self.b**2)
        p = special.expit(x)
        return self.a - (self.a + self.b) * p, -(self.a + self.b) * p * special.expit(-x)

    def logit_reach(self, span: float) -> float:
        """A half-width about the mode of the logit's density beyond which that density is more
        than ``span`` below its peak: ``sqrt(2 span) · SD`` for the normal; for the logit-Beta,
        whose log density falls at least at the rate min(a, b) far out, ``span / min(a, b)``
        more."""
        if self.family == "logit_normal":
            return math.sqrt(2 * span) * self.b
        _, sd = self.logit_location()
        return math.sqrt(2 * span) * sd + span / min(self.a, self.b)

    def logit_location(self) -> tuple[float, float]:
        """The mean and SD of the logit of the control risk (for placing quadrature grids)."""
        if self.family == "logit_normal":
            return self.a, self.b
        mean = special.digamma(self.a) - special.digamma(self.b)
        var = special.polygamma(1, self.a) + special.polygamma(1, self.b)
        return float(mean), float(math.sqrt(var))

    def sample_rate(self, rng: np.random.Generator, size) -> np.ndarray:
        """Draws of the control risk."""
        if self.family == "logit_normal":
            return special.expit(rng.normal(self.a, self.b, size=size))
        return rng.beta(self.a, self.b, size=size)

    def describe(self) -> str:
        if self.family == "logit_normal":
            lo, hi = special.expit(stats.norm.ppf([0.025, 0.975], self.a, self.b))
            return (
                f"Normal({self.a:g}, {self.b:g}²) on the logit of the control risk (95% prior "
                f"interval {100 * lo:.1f}% to {100 * hi:.1f}%)"
            )
        lo, hi = stats.beta.ppf([0.025, 0.975], self.a, self.b)
        return (
            f"Beta({self.a:g}, {self.b:g}) on the control risk (95% prior interval "
            f"{100 * lo:.1f}% to {100 * hi:.1f}%)"
        )

    def as_dict(self) -> dict:
        return {"family": self.family, "a": self.a, "b": self.b}


DEFAULT_CONTROL = ControlPrior("logit_normal", 0.0, CONTROL_LOGIT_SD)
"""The documented default control-risk prior: Normal(0, 1.5²) on the control log-odds (95% of
the mass on risks between 5% and 95%)."""


@dataclass(frozen=True)
class MidpointPrior:
    """A stated prior of the logistic models' baseline ``alpha``, the midpoint of the two arms'
    log-odds (``logit p = alpha ± theta / 2``): Normal(``mean``, ``sd``²), independent of the
    effect ``theta``. It replaces the default Normal(0, :data:`CONTROL_LOGIT_SD`²) on ``alpha``.
    This is brms's prior on the *centred* intercept (``class = Intercept``) of a two-arm binomial
    regression with a ±½ treatment code, or with a 0/1 code in a trial of equal arms (the
    intercept is then the log-odds at the mean code, ``alpha + (x̄ − ½) theta``)."""

    mean: float
    sd: float

    def describe(self) -> str:
        lo, hi = special.expit(stats.norm.ppf([0.025, 0.975], self.mean, self.sd))
        return (
            f"Normal({self.mean:g}, {self.sd:g}²) on the arms' midpoint log-odds (95% prior "
            f"interval of the midpoint risk {100 * lo:.1f}% to {100 * hi:.1f}%)"
        )

    def as_dict(self) -> dict:
        return {"mean": self.mean, "sd": self.sd}


def effect_from_dict(d: dict) -> Effect:
    """Inverse of ``as_dict`` for either effect family."""
    if d.get("family") == "normal_mixture":
        return MixtureEffect(tuple(d["weights"]), tuple(d["means"]), tuple(d["sds"]))
    return NormalEffect(d["mean"], d["sd"], d.get("scale", "log_or"))


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
    control : ControlPrior or None
        The control-risk prior stated in the spec (``[priors] control_*``), set by the library
        on every effect prior; None for the default :data:`DEFAULT_CONTROL`.
    midpoint : MidpointPrior or None
        The logistic models' midpoint prior stated in the spec (``[priors] midpoint_logit_*``),
        set by the library on every prior; None for the default Normal(0, 1.5²).
    """

    name: str
    recipe: str
    rate: BetaRate | None = None
    effect: Effect | None = None
    group: str = "reference"
    control: ControlPrior | None = None
    midpoint: MidpointPrior | None = None

    @property
    def control_risk(self) -> ControlPrior:
        """The control-risk prior: the stated one or :data:`DEFAULT_CONTROL`."""
        return DEFAULT_CONTROL if self.control is None else self.control

    def describe(self) -> str:
        parts = [
            c.describe()
            for c in (self.effect, self.rate, self.control, self.midpoint)
            if c is not None
        ]
        return "; ".join(parts)

    def as_dict(self) -> dict:
        out: dict = {"name": self.name, "recipe": self.recipe, "group": self.group}
        if self.rate is not None:
            out["rate"] = self.rate.as_dict()
        if self.effect is not None:
            out["effect"] = self.effect.as_dict()
        if self.control is not None:
            out["control"] = self.control.as_dict()
        if self.midpoint is not None:
            out["midpoint"] = self.midpoint.as_dict()
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Prior:
        """Inverse of :meth:`as_dict`."""
        rate = d.get("rate")
        effect = d.get("effect")
        control = d.get("control")
        midpoint = d.get("midpoint")
        return cls(
            d["name"],
            d["recipe"],
            rate=None if rate is None else BetaRate.from_dict(rate),
            effect=None if effect is None else effect_from_dict(effect),
            group=d.get("group", "reference"),
            control=None if control is None else ControlPrior(**control),
            midpoint=None if midpoint is None else MidpointPrior(**midpoint),
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
