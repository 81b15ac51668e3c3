"""The ``[priors]`` spec section: settings of the built-in priors and user-defined priors.

Scalar keys (all optional)::

    [priors]
    mcid_rd = 0.10            # MCID as a risk difference at the anchor control rate
    mcid_or = 1.5             # ... or directly as an odds ratio (overrides mcid_rd)
    control_rate = 0.39       # anchor control rate; default: the trial's observed control
                              # proportion at the primary horizon
    evidence = "package:external_evidence.csv"   # external evidence table
    evidence_weight = 0.5     # w: evidence priors' variance is inflated by 1/w
    map_mu_sd = 2.0           # MAP: prior SD of the mean log OR
    map_tau_scale = 0.5       # MAP: HalfNormal scale of the between-trial SD
    map_alpha_sd = 2.0        # MAP: prior SD of each external trial's midpoint log-odds
    map_robust_weight = 0.2   # MAP: weight of the vague component
    map_robust_mean = 0.0     # MAP: mean of the vague component (log OR)
    map_robust_sd = 2.9       # MAP: SD of the vague component; default unit information
    map_components = 3        # MAP: most normal components of the approximation (1-4)
    control_logit_mean = 0.0  # control-risk prior of every model with a control arm: Normal on the
    control_logit_sd = 1.5    # control risk's logit (the default, Normal(0, 1.5²)) ...
    control_beta_a = 2        # ... or Beta(a, b) on the control risk
    control_beta_b = 8
    midpoint_logit_mean = 0.0 # ... or, for the logistic models only, Normal on the arms' midpoint
    midpoint_logit_sd = 1.5   # log-odds (default Normal(0, 1.5²); brms's centred intercept)

Each sub-table ``[priors.NAME]`` defines a prior ``NAME`` (lower-case letters, digits and ``_``)
that ``models.X.priors`` lists may then use::

    [priors.my_sceptic]
    recipe = "why these numbers"          # shown in the report
    log_or_mean = 0.0                     # effect by parameters (normal on the log OR) ...
    log_or_sd = 0.3
    or_median = 1.1                       # ... or by median and 95% interval of the OR
    or_lower = 0.6
    or_upper = 2.0
    log_rr_mean = 0.0                     # ... or on the log RR, by parameters ...
    log_rr_sd = 0.3
    rr_median = 1.1                       # ... or by median and 95% interval of the RR
    rr_lower = 0.6
    rr_upper = 2.0
    rate_a = 2                            # rate: Beta(a, b) on each arm ...
    rate_b = 3
    rate_median = 0.4                     # ... or by median and 95% interval of the rate
    rate_lower = 0.2
    rate_upper = 0.6

A prior needs an effect or a rate (or both), and states its effect on one scale: the log OR
(carried by the logistic models) or the log RR (carried by the log-binomial models).

The control-risk prior (``control_logit_*`` or ``control_beta_*``) is the prior of the control
arm's risk at the first horizon. When it is set, every prior carries it (and names it in its
description) and every model with a control parameter uses it
(:data:`bayes_ips.models.CONTROL_MODELS` says how); when it is not, the log-binomial models use
Normal(0, 1.5²) on the control log-odds and the logistic models Normal(0, 1.5²) on the arms'
midpoint log-odds.

The midpoint prior (``midpoint_logit_mean``/``midpoint_logit_sd``, defaults 0 and 1.5) changes
that default of the logistic models: Normal(mean, sd²) on the arms' midpoint log-odds ``alpha``
(``logit p = alpha ± theta / 2``), independent of the effect. It is brms's prior on the centred
intercept (``class = Intercept``) of a two-arm binomial regression whose treatment is coded ±½,
or 0/1 with equal arms. It is a prior on the logistic models' own parameter, so it excludes a
stated control-risk prior, and the models without that parameter (beta-binomial, log-binomial,
hazard) refuse it (:data:`bayes_ips.models.MIDPOINT_MODELS`).

The section's schema is :class:`PriorsSection` (each default is that of its field); a spec reads
it as :data:`Priors`, which turns it into the :class:`PriorSettings` the library uses.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    model_validator,
)

from bayes_ips.logodds import CONTROL_LOGIT_SD
from bayes_ips.priors import calibration
from bayes_ips.priors.community import (
    GRID_NAMES,
    MCID_NAMES,
    REFERENCE_NAMES,
    effect_prior,
    reference_priors,
)
from bayes_ips.priors.core import (
    SCALES,
    BetaRate,
    ControlPrior,
    MidpointPrior,
    NormalEffect,
    Prior,
)
from bayes_ips.priors.evidence import (
    DEFAULT_EVIDENCE,
    Study,
    evidence_names,
    evidence_sha256,
    load_evidence,
)
from bayes_ips.priors.meta_analytic import NAME as MAP_NAME
from bayes_ips.priors.meta_analytic import MapSettings
from bayes_ips.schema import (
    SECTION_CONFIG,
    Float,
    Int,
    Section,
    Str,
    rule,
    rule_error,
    rule_errors,
    validate,
)

SECTION = "priors"
MAX_MAP_COMPONENTS = 4
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DEFAULT_ORIGIN = "package:default.toml"

Positive = Annotated[Float, rule(lambda v: v > 0, "must be > 0")]
Probability = Annotated[Float, rule(lambda v: 0 < v < 1, "must be between 0 and 1 (exclusive)")]
Finite = Annotated[Float, rule(math.isfinite, "must be a finite number")]


@dataclass(frozen=True)
class PriorSettings:
    """The ``[priors]`` section as the library uses it: scalars, the evidence table read, the
    MAP settings and the user-defined priors built (:data:`Priors`)."""

    mcid_rd: float
    mcid_or: float | None
    control_rate: float | None
    evidence_path: str
    evidence_sha256: str
    evidence: tuple[Study, ...]
    evidence_weight: float
    map: MapSettings
    user: tuple[Prior, ...]
    control: ControlPrior | None = None
    midpoint: MidpointPrior | None = None


class UserPrior(Section):
    """A user-defined prior ``[priors.NAME]``: an effect, a rate or both (module docstring)."""

    recipe: Str = "user-defined in the analysis spec"
    log_or_mean: Finite | None = None
    log_or_sd: Finite | None = None
    or_median: Finite | None = None
    or_lower: Finite | None = None
    or_upper: Finite | None = None
    rate_a: Finite | None = None
    rate_b: Finite | None = None
    rate_median: Finite | None = None
    rate_lower: Finite | None = None
    rate_upper: Finite | None = None
    log_rr_mean: Finite | None = None
    log_rr_sd: Finite | None = None
    rr_median: Finite | None = None
    rr_lower: Finite | None = None
    rr_upper: Finite | None = None
    _effect: NormalEffect | None = PrivateAttr(None)
    _rate: BetaRate | None = PrivateAttr(None)
    _how: str = PrivateAttr("")

    def _group(self, keys: tuple[str, ...]) -> list[float] | None:
        """The values of keys given together, None when none is given."""
        values = [getattr(self, k) for k in keys]
        given = [k for k, v in zip(keys, values, strict=True) if v is not None]
        if not given:
            return None
        if len(given) != len(keys):
            missing = [k for k in keys if k not in given]
            raise rule_error(f"also give {', '.join(missing)}", key=given[0])
        return values

    @model_validator(mode="after")
    def _build(self) -> UserPrior:
        """The effect and the rate the keys describe, with how they were derived."""
        given = []
        for scale, ratio in (("log_or", "or"), ("log_rr", "rr")):
            params = self._group((f"{scale}_mean", f"{scale}_sd"))
            interval = self._group((f"{ratio}_median", f"{ratio}_lower", f"{ratio}_upper"))
            if params is not None:
                given.append(f"{scale}_mean")
            if interval is not None:
                given.append(f"{ratio}_median")
            self._set_effect(scale, ratio.upper(), params, interval)
        if len(given) > 1:
            raise rule_error(
                "give the effect once, on one scale: by log_or_mean/log_or_sd, "
                "or_median/or_lower/or_upper, log_rr_mean/log_rr_sd or "
                f"rr_median/rr_lower/rr_upper (given: {', '.join(given)})",
                key=given[1],
            )
        beta = self._group(("rate_a", "rate_b"))
        beta_interval = self._group(("rate_median", "rate_lower", "rate_upper"))
        if beta is not None and beta_interval is not None:
            raise rule_error(
                "give the rate either by rate_a/rate_b or by rate_median/rate_lower/rate_upper",
                key="rate_median",
            )
        if beta is not None:
            if min(beta) <= 0:
                raise rule_error("must be > 0", key="rate_a", value=beta[0])
            self._rate = BetaRate(*beta)
        elif beta_interval is not None:
            try:
                self._rate = BetaRate(*calibration.beta_from_median_interval(*beta_interval))
            except ValueError as exc:
                raise rule_error(str(exc), key="rate_median", value=beta_interval[0]) from None
            self._how += (
                f" Beta on each arm's rate fitted to median {beta_interval[0]:g} and 95% "
                f"interval {beta_interval[1]:g}–{beta_interval[2]:g}: "
                f"Beta({self._rate.a:.3g}, {self._rate.b:.3g})."
            )
        if self._effect is None and self._rate is None:
            raise rule_error(
                "a prior needs an effect (log_or_mean/log_or_sd, or_median/or_lower/or_upper, "
                "log_rr_mean/log_rr_sd or rr_median/rr_lower/rr_upper) or a rate (rate_a/rate_b "
                "or rate_median/rate_lower/rate_upper)"
            )
        return self

    def _set_effect(self, scale: str, ratio: str, params, interval) -> None:
        """The effect given on ``scale`` by parameters or by median and interval, if given."""
        name = SCALES[scale][0]
        if params is not None:
            if params[1] <= 0:
                raise rule_error("must be > 0", key=f"{scale}_sd", value=params[1])
            self._effect = NormalEffect(params[0], params[1], scale)
            self._how = f"Normal({params[0]:g}, {params[1]:g}²) on the {name} as given."
        elif interval is not None:
            med, lo, hi = interval
            key = f"{ratio.lower()}_median"
            if min(interval) <= 0:
                words = {"OR": "odds ratios", "RR": "risk ratios"}[ratio]
                raise rule_error(f"{words} must be > 0", key=key, value=med)
            try:
                mean, sd = calibration.normal_from_median_interval(
                    math.log(med), math.log(lo), math.log(hi)
                )
            except ValueError as exc:
                raise rule_error(str(exc), key=key, value=med) from None
            self._effect = NormalEffect(mean, sd, scale)
            self._how = (
                f"Normal on the {name} with median {ratio} {med:g} and 95% interval {lo:g}–{hi:g} "
                f"as given: mean log {med:g} = {mean:.3f}, SD (log {hi:g} − log {lo:g}) / 3.92 = "
                f"{sd:.3f}."
            )

    def prior(self, name: str) -> Prior:
        """The prior ``name`` these keys define."""
        how = self._how.strip()
        full = f"{self.recipe} ({how})" if how else self.recipe
        if self._rate is None:
            return effect_prior(name, full, self._effect, "user")
        return Prior(name, full, rate=self._rate, effect=self._effect, group="user")


def _prior_name(name: str) -> str:
    if not NAME.match(name):
        raise rule_error(
            "a prior name uses lower-case letters, digits and '_', starts with a letter and has "
            "at most 40 characters"
        )
    return name


def _table(value):
    """A key of ``[priors]`` that is not a scalar setting must be a prior's table."""
    if not isinstance(value, dict):
        scalars = ", ".join(PriorsSection.model_fields)
        raise rule_error(f"unknown key; allowed here: {scalars} or a table [priors.NAME]")
    return value


class PriorsSection(Section):
    """The ``[priors]`` table as written: the scalar settings (module docstring) and, as the
    extra keys, the user-defined priors ``[priors.NAME]``."""

    model_config = SECTION_CONFIG | ConfigDict(extra="allow")
    __pydantic_extra__: dict[
        Annotated[str, AfterValidator(_prior_name)],
        Annotated[UserPrior, BeforeValidator(_table)],
    ] = Field(init=False)

    mcid_rd: Probability = 0.10
    mcid_or: Annotated[Float, rule(lambda v: v > 1, "must be > 1")] | None = None
    control_rate: Probability | None = None
    evidence: Annotated[Str, rule(lambda v: bool(v.strip()), "must be a non-empty path")] = (
        DEFAULT_EVIDENCE
    )
    evidence_weight: Annotated[Float, rule(lambda v: 0 < v <= 1, "must be in (0, 1]")] = 0.5
    map_mu_sd: Positive = MapSettings.mu_sd
    map_tau_scale: Positive = MapSettings.tau_scale
    map_alpha_sd: Positive = MapSettings.alpha_sd
    map_robust_weight: Annotated[Float, rule(lambda v: 0 <= v < 1, "must be in [0, 1)")] = (
        MapSettings.robust_weight
    )
    map_robust_mean: Annotated[
        Float, rule(lambda v: abs(v) < 10, "must be a log OR between -10 and 10")
    ] = MapSettings.robust_mean
    map_robust_sd: Positive | None = MapSettings.robust_sd
    map_components: Annotated[
        Int, rule(lambda v: 1 <= v <= MAX_MAP_COMPONENTS, f"must be 1 to {MAX_MAP_COMPONENTS}")
    ] = MapSettings.max_components
    control_logit_mean: Finite | None = None
    control_logit_sd: Positive | None = None
    control_beta_a: Positive | None = None
    control_beta_b: Positive | None = None
    midpoint_logit_mean: Finite | None = None
    midpoint_logit_sd: Positive | None = None

    def midpoint(self) -> MidpointPrior | None:
        """The stated midpoint prior of the logistic models, or None for the default (a key left
        out takes its default: mean 0, SD :data:`~bayes_ips.logodds.CONTROL_LOGIT_SD`)."""
        mean, sd = self.midpoint_logit_mean, self.midpoint_logit_sd
        if mean is None and sd is None:
            return None
        control_keys = (
            "control_logit_mean",
            "control_logit_sd",
            "control_beta_a",
            "control_beta_b",
        )
        stated = next((k for k in control_keys if getattr(self, k) is not None), None)
        if stated is not None:
            midpoint_key = "midpoint_logit_mean" if mean is not None else "midpoint_logit_sd"
            raise rule_error(
                f"give either a control-risk prior ({stated}) or the logistic models' midpoint "
                f"prior ({midpoint_key}), not both: both state the logistic models' baseline",
                key=midpoint_key,
                value=mean if mean is not None else sd,
            )
        return MidpointPrior(0.0 if mean is None else mean, CONTROL_LOGIT_SD if sd is None else sd)

    def control(self) -> ControlPrior | None:
        """The stated control-risk prior, or None for the default."""
        normal = (self.control_logit_mean, self.control_logit_sd)
        beta = (self.control_beta_a, self.control_beta_b)
        stated = [
            (family, keys, values)
            for family, keys, values in (
                ("logit_normal", ("control_logit_mean", "control_logit_sd"), normal),
                ("beta", ("control_beta_a", "control_beta_b"), beta),
            )
            if any(v is not None for v in values)
        ]
        if not stated:
            return None
        if len(stated) > 1:
            raise rule_error(
                "give the control-risk prior once: control_logit_mean/control_logit_sd "
                "(normal on its logit) or control_beta_a/control_beta_b (Beta on the risk)",
                key="control_beta_a",
            )
        family, keys, values = stated[0]
        missing = [k for k, v in zip(keys, values, strict=True) if v is None]
        if missing:
            raise rule_error(f"also give {', '.join(missing)}", key=keys[0])
        return ControlPrior(family, *values)

    def settings(self, base: Path | None) -> PriorSettings:
        """Read the evidence table (relative to the spec's folder ``base``) and build the
        user-defined priors, whose names must not be those of built-in priors."""
        evidence = tuple(load_evidence(self.evidence, base))
        taken = set(builtin_names(evidence))
        clashes = [
            rule_error("this name belongs to a built-in prior; choose another", key=name)
            for name in self.model_extra
            if name in taken
        ]
        if clashes:
            raise rule_errors(clashes)
        control = self.control()
        midpoint = self.midpoint()
        return PriorSettings(
            mcid_rd=self.mcid_rd,
            mcid_or=self.mcid_or,
            control_rate=self.control_rate,
            evidence_path=self.evidence,
            evidence_sha256=evidence_sha256(self.evidence, base),
            evidence=evidence,
            evidence_weight=self.evidence_weight,
            map=MapSettings(
                mu_sd=self.map_mu_sd,
                tau_scale=self.map_tau_scale,
                alpha_sd=self.map_alpha_sd,
                robust_weight=self.map_robust_weight,
                robust_mean=self.map_robust_mean,
                robust_sd=self.map_robust_sd,
                max_components=self.map_components,
            ),
            user=tuple(table.prior(name) for name, table in self.model_extra.items()),
            control=control,
            midpoint=midpoint,
        )


def _settings(section: PriorsSection, info: ValidationInfo) -> PriorSettings:
    return section.settings((info.context or {}).get("base"))


Priors = Annotated[PriorsSection, AfterValidator(_settings)]
"""The ``[priors]`` section as a spec reads it: validated, then :class:`PriorSettings` (the
validation context's ``base`` is the spec's folder, for a relative evidence path)."""


def parse(table: dict, origin: str) -> PriorSettings:
    """The ``[priors]`` table of the spec file ``origin``, validated on its own (a spec validates
    it with the rest of the file, :func:`bayes_ips.spec.load_spec`).

    Raises
    ------
    InputError
        Naming ``priors.KEY`` or ``priors.NAME.KEY`` and the rule broken.
    """
    base = None if origin.startswith("package:") else Path(origin).resolve().parent
    return validate(Priors, table, origin, at=(SECTION,), context={"base": base})


@lru_cache(maxsize=1)
def default_settings() -> PriorSettings:
    """The settings of a spec without a ``[priors]`` section."""
    return parse({}, DEFAULT_ORIGIN)


def builtin_names(evidence: tuple[Study, ...] | list[Study]) -> list[str]:
    """Names of the built-in priors (the evidence table adds ``evidence_*`` names)."""
    return [*REFERENCE_NAMES, *GRID_NAMES, *MCID_NAMES, *evidence_names(list(evidence)), MAP_NAME]


def prior_names(settings: PriorSettings) -> list[str]:
    """Every prior name a spec may use: built-in and user-defined."""
    return [*builtin_names(settings.evidence), *(p.name for p in settings.user)]


def normal_effect_names(settings: PriorSettings) -> list[str]:
    """The prior names a spec may use where a single normal prior on the log OR is needed:
    every built-in or user-defined prior with a normal effect (the MAP mixture and rate-only
    priors are not)."""
    return [
        *(p.name for p in reference_priors() if isinstance(p.effect, NormalEffect)),
        *GRID_NAMES,
        *MCID_NAMES,
        *evidence_names(list(settings.evidence)),
        *(p.name for p in settings.user if isinstance(p.effect, NormalEffect)),
    ]
