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
    map_alpha_sd = 2.0        # MAP: prior SD of each external trial's control log-odds
    map_robust_weight = 0.2   # MAP: weight of the vague component
    map_robust_mean = 0.0     # MAP: mean of the vague component (log OR)
    map_robust_sd = 2.9       # MAP: SD of the vague component; default unit information
    map_components = 3        # MAP: most normal components of the approximation (1-4)

Each sub-table ``[priors.NAME]`` defines a prior ``NAME`` (lower-case letters, digits and ``_``)
that ``models.X.priors`` lists may then use::

    [priors.my_sceptic]
    recipe = "why these numbers"          # shown in the report
    log_or_mean = 0.0                     # effect by parameters (normal on the log OR) ...
    log_or_sd = 0.3
    or_median = 1.1                       # ... or by median and 95% interval of the OR
    or_lower = 0.6
    or_upper = 2.0
    rate_a = 2                            # rate: Beta(a, b) on each arm ...
    rate_b = 3
    rate_median = 0.4                     # ... or by median and 95% interval of the rate
    rate_lower = 0.2
    rate_upper = 0.6

A prior needs an effect or a rate (or both); an effect without a rate gets the consistent rate
prior of :mod:`bayes_ips.priors.rates`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from bayes_ips.errors import InputError
from bayes_ips.priors import calibration
from bayes_ips.priors.community import effect_prior
from bayes_ips.priors.core import BetaRate, NormalEffect, Prior
from bayes_ips.priors.evidence import DEFAULT_EVIDENCE, Study, evidence_sha256, load_evidence
from bayes_ips.priors.meta_analytic import MapSettings

SECTION = "priors"
MAX_MAP_COMPONENTS = 4
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_FLOAT = (int, float)
_SCALARS: dict[str, tuple[type | tuple, object, str]] = {
    # key: (type, valid(value), rule in words)
    "mcid_rd": (_FLOAT, lambda v: 0 < v < 1, "between 0 and 1 (exclusive)"),
    "mcid_or": (_FLOAT, lambda v: v > 1, "> 1"),
    "control_rate": (_FLOAT, lambda v: 0 < v < 1, "between 0 and 1 (exclusive)"),
    "evidence": (str, lambda v: bool(v.strip()), "a non-empty path"),
    "evidence_weight": (_FLOAT, lambda v: 0 < v <= 1, "in (0, 1]"),
    "map_mu_sd": (_FLOAT, lambda v: v > 0, "> 0"),
    "map_tau_scale": (_FLOAT, lambda v: v > 0, "> 0"),
    "map_alpha_sd": (_FLOAT, lambda v: v > 0, "> 0"),
    "map_robust_weight": (_FLOAT, lambda v: 0 <= v < 1, "in [0, 1)"),
    "map_robust_mean": (_FLOAT, lambda v: abs(v) < 10, "a log OR between -10 and 10"),
    "map_robust_sd": (_FLOAT, lambda v: v > 0, "> 0"),
    "map_components": (int, lambda v: 1 <= v <= MAX_MAP_COMPONENTS, "1 to 4"),
}
_USER_KEYS = (
    "recipe",
    "log_or_mean",
    "log_or_sd",
    "or_median",
    "or_lower",
    "or_upper",
    "rate_a",
    "rate_b",
    "rate_median",
    "rate_lower",
    "rate_upper",
)


@dataclass(frozen=True)
class PriorSettings:
    """Parsed ``[priors]`` section (defaults when absent)."""

    mcid_rd: float = 0.10
    mcid_or: float | None = None
    control_rate: float | None = None
    evidence_path: str = DEFAULT_EVIDENCE
    evidence_sha256: str = ""
    evidence: tuple[Study, ...] = ()
    evidence_weight: float = 0.5
    map: MapSettings = field(default_factory=MapSettings)
    user: tuple[Prior, ...] = ()


def _scalar(key: str, value, origin: str):
    want, valid, rule = _SCALARS[key]
    name = f"{SECTION}.{key}"
    if isinstance(value, bool) or not isinstance(value, want):
        kind = "a string" if want is str else ("an integer" if want is int else "a number")
        raise InputError(origin, f"must be {kind}", field=name, value=value)
    if (isinstance(value, float) and not math.isfinite(value)) or not valid(value):
        raise InputError(origin, f"must be {rule}", field=name, value=value)
    return float(value) if want is _FLOAT else value


def _number(table: dict, key: str, origin: str, prefix: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(origin, "must be a number", field=f"{prefix}.{key}", value=value)
    return float(value)


def _group(table: dict, keys: tuple[str, ...], origin: str, prefix: str) -> list | None:
    values = [_number(table, k, origin, prefix) for k in keys]
    given = [k for k, v in zip(keys, values, strict=True) if v is not None]
    if not given:
        return None
    if len(given) != len(keys):
        missing = [k for k in keys if k not in given]
        raise InputError(
            origin, f"also give {', '.join(missing)}", field=f"{prefix}.{given[0]}", value=None
        )
    return values


def _user_prior(name: str, table: dict, origin: str) -> Prior:
    prefix = f"{SECTION}.{name}"
    for key in table:
        if key not in _USER_KEYS:
            raise InputError(
                origin,
                f"unknown key; allowed here: {', '.join(_USER_KEYS)}",
                field=f"{prefix}.{key}",
            )
    recipe = table.get("recipe", "user-defined in the analysis spec")
    if not isinstance(recipe, str):
        raise InputError(origin, "must be a string", field=f"{prefix}.recipe", value=recipe)
    params = _group(table, ("log_or_mean", "log_or_sd"), origin, prefix)
    interval = _group(table, ("or_median", "or_lower", "or_upper"), origin, prefix)
    if params is not None and interval is not None:
        raise InputError(
            origin,
            "give the effect either by log_or_mean/log_or_sd or by or_median/or_lower/or_upper",
            field=f"{prefix}.or_median",
        )
    effect, how = None, ""
    if params is not None:
        if params[1] <= 0:
            raise InputError(origin, "must be > 0", field=f"{prefix}.log_or_sd", value=params[1])
        effect = NormalEffect(params[0], params[1])
        how = f"Normal({params[0]:g}, {params[1]:g}²) on the log OR as given."
    elif interval is not None:
        med, lo, hi = interval
        if min(interval) <= 0:
            raise InputError(
                origin, "odds ratios must be > 0", field=f"{prefix}.or_median", value=med
            )
        try:
            mean, sd = calibration.normal_from_median_interval(
                math.log(med), math.log(lo), math.log(hi)
            )
        except ValueError as exc:
            raise InputError(origin, str(exc), field=f"{prefix}.or_median", value=med) from None
        effect = NormalEffect(mean, sd)
        how = (
            f"Normal on the log OR with median OR {med:g} and 95% interval {lo:g}–{hi:g} as "
            f"given: mean log {med:g} = {mean:.3f}, SD (log {hi:g} − log {lo:g}) / 3.92 = "
            f"{sd:.3f}."
        )
    rate = None
    beta = _group(table, ("rate_a", "rate_b"), origin, prefix)
    beta_interval = _group(table, ("rate_median", "rate_lower", "rate_upper"), origin, prefix)
    if beta is not None and beta_interval is not None:
        raise InputError(
            origin,
            "give the rate either by rate_a/rate_b or by rate_median/rate_lower/rate_upper",
            field=f"{prefix}.rate_median",
        )
    if beta is not None:
        if min(beta) <= 0:
            raise InputError(origin, "must be > 0", field=f"{prefix}.rate_a", value=beta[0])
        rate = BetaRate(*beta)
    elif beta_interval is not None:
        try:
            rate = BetaRate(*calibration.beta_from_median_interval(*beta_interval))
        except ValueError as exc:
            raise InputError(
                origin, str(exc), field=f"{prefix}.rate_median", value=beta_interval[0]
            ) from None
        how += (
            f" Beta on each arm's rate fitted to median {beta_interval[0]:g} and 95% interval "
            f"{beta_interval[1]:g}–{beta_interval[2]:g}: Beta({rate.a:.3g}, {rate.b:.3g})."
        )
    if effect is None and rate is None:
        raise InputError(
            origin,
            "a prior needs an effect (log_or_mean/log_or_sd or or_median/or_lower/or_upper) "
            "or a rate (rate_a/rate_b or rate_median/rate_lower/rate_upper)",
            field=prefix,
        )
    full = f"{recipe} ({how.strip()})" if how.strip() else recipe
    if effect is not None and rate is None:
        return effect_prior(name, full, effect, "user")
    return Prior(name, full, rate=rate, effect=effect, group="user")


def _base(origin: str) -> Path | None:
    if origin.startswith("package:"):
        return None
    return Path(origin).resolve().parent


def parse(table: dict, origin: str) -> PriorSettings:
    """Validate the ``[priors]`` section (see the module docstring).

    Raises
    ------
    InputError
        Naming ``priors.KEY`` or ``priors.NAME.KEY`` and the rule broken.
    """
    from bayes_ips.priors.library import builtin_names

    scalars, users = {}, []
    for key, value in table.items():
        if isinstance(value, dict):
            if not NAME.match(key):
                raise InputError(
                    origin,
                    "a prior name uses lower-case letters, digits and '_', starts with a letter "
                    "and has at most 40 characters",
                    field=f"{SECTION}.{key}",
                )
            users.append((key, value))
        elif key in _SCALARS:
            scalars[key] = _scalar(key, value, origin)
        else:
            raise InputError(
                origin,
                f"unknown key; allowed here: {', '.join(_SCALARS)} or a table [priors.NAME]",
                field=f"{SECTION}.{key}",
            )
    path = scalars.get("evidence", DEFAULT_EVIDENCE)
    evidence = tuple(load_evidence(path, _base(origin)))
    taken = set(builtin_names(evidence))
    user = []
    for name, sub in users:
        if name in taken:
            raise InputError(
                origin,
                "this name belongs to a built-in prior; choose another",
                field=f"{SECTION}.{name}",
            )
        user.append(_user_prior(name, sub, origin))
    defaults = MapSettings()
    return PriorSettings(
        mcid_rd=scalars.get("mcid_rd", 0.10),
        mcid_or=scalars.get("mcid_or"),
        control_rate=scalars.get("control_rate"),
        evidence_path=path,
        evidence_sha256=evidence_sha256(path, _base(origin)),
        evidence=evidence,
        evidence_weight=scalars.get("evidence_weight", 0.5),
        map=MapSettings(
            mu_sd=scalars.get("map_mu_sd", defaults.mu_sd),
            tau_scale=scalars.get("map_tau_scale", defaults.tau_scale),
            alpha_sd=scalars.get("map_alpha_sd", defaults.alpha_sd),
            robust_weight=scalars.get("map_robust_weight", defaults.robust_weight),
            robust_mean=scalars.get("map_robust_mean", defaults.robust_mean),
            robust_sd=scalars.get("map_robust_sd"),
            max_components=scalars.get("map_components", defaults.max_components),
        ),
        user=tuple(user),
    )
