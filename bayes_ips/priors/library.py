"""The library of named priors for one analysis.

Some recipes need a control rate to convert between scales (the MCID's risk difference, the
evidence priors' risk ratios, the MAP prior's vague component, every ESS). That **anchor** is the
trial's observed control proportion at the primary horizon (for the IPS in Pain trial 7/18 = 38.9%
at 12 months), unless the spec sets ``[priors] control_rate``. Using the observed proportion only
fixes the scale on which external beliefs are expressed; it does not feed the trial's effect into
any prior. The names of the priors do not depend on the anchor, so a spec is validated before any
data are read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import xarray as xr

from bayes_ips.errors import InputError
from bayes_ips.priors.community import (
    MCID_NAMES,
    grid_priors,
    mcid_odds_ratio,
    mcid_priors,
    reference_priors,
)
from bayes_ips.priors.core import BetaRate, ControlPrior, Prior
from bayes_ips.priors.evidence import Study, evidence_priors
from bayes_ips.priors.meta_analytic import NAME as MAP_NAME
from bayes_ips.priors.meta_analytic import MapSettings, map_prior
from bayes_ips.priors.settings import PriorSettings, default_settings


@dataclass(frozen=True)
class PriorContext:
    """What the data-dependent recipes need: the settings and the anchor control rate."""

    settings: PriorSettings
    control_rate: float
    control_rate_source: str
    sign: int = 1
    """-1 when a lower outcome rate is better (:attr:`bayes_ips.data.Comparison.sign`): the
    community grid and the MCID priors then state belief about a reduction."""


def anchor(
    settings: PriorSettings | None, counts: xr.Dataset, primary_horizon: float, sign: int = 1
) -> PriorContext:
    """The prior context of an analysis: the spec's control rate, or the observed one.

    Parameters
    ----------
    settings : PriorSettings or None
        The spec's ``options["priors"]``; None for the defaults.
    counts : xarray.Dataset
        Counts with dims ``(arm, horizon)``, the control arm second.
    primary_horizon : float
    sign : int
        -1 when a lower outcome rate is better.
    """
    settings = settings or default_settings()
    if settings.control_rate is not None:
        return PriorContext(settings, settings.control_rate, "set in the spec ([priors])", sign)
    control = counts.isel(arm=1).sel(horizon=primary_horizon)
    y, n = int(control["employed"]), int(control["n_analysed"])
    rate = (y + 0.5) / (n + 1) if y in (0, n) else y / n
    how = f"observed control proportion {y}/{n} at {primary_horizon:g} months"
    if y in (0, n):
        how += " (with 0.5 added, as the raw proportion is 0 or 1)"
    return PriorContext(settings, rate, how, sign)


@lru_cache(maxsize=16)
def _map(evidence: tuple[Study, ...], settings: MapSettings, control_rate: float) -> Prior | str:
    try:
        return map_prior(list(evidence), settings, control_rate)
    except ValueError as exc:
        return str(exc)


@lru_cache(maxsize=16)
def _build(context: PriorContext, *, with_map: bool) -> tuple[dict[str, Prior], dict[str, str]]:
    """The priors and the reasons for unavailable ones; the MAP prior (a second or two of
    quadrature and EM) only when asked for."""
    s = context.settings
    priors = [*reference_priors(), *grid_priors(context.sign)]
    unavailable: dict[str, str] = {}
    try:
        priors += mcid_priors(
            *mcid_odds_ratio(s.mcid_rd, context.control_rate, s.mcid_or, context.sign)
        )
    except ValueError as exc:
        unavailable.update(dict.fromkeys(MCID_NAMES, str(exc)))
    evidence, missing = evidence_priors(list(s.evidence), context.control_rate, s.evidence_weight)
    priors += evidence
    unavailable.update(missing)
    if with_map:
        built = _map(s.evidence, s.map, context.control_rate)
        if isinstance(built, Prior):
            priors.append(built)
        else:
            unavailable[MAP_NAME] = built
    priors += list(s.user)
    if s.control is not None:
        priors = [with_control(p, s.control) for p in priors]
    if s.midpoint is not None:
        priors = [replace(p, midpoint=s.midpoint) for p in priors]
    return {p.name: p for p in priors}, unavailable


def with_control(prior: Prior, control: ControlPrior) -> Prior:
    """``prior`` under the control-risk prior stated in ``[priors]``: every prior carries it
    (the logistic and log-binomial models put it on their control parameter), and a Beta
    ``control`` also replaces the control arm's Beta of a rate prior (its conjugate form; the
    treatment arm keeps its own)."""
    rate = prior.rate
    if rate is not None and control.family == "beta":
        rate = BetaRate(control.a, control.b, *rate.treatment)
    return replace(prior, rate=rate, control=control)


def _fixed() -> dict[str, Prior]:
    return {p.name: p for p in [*reference_priors(), *grid_priors()]}


def library(context: PriorContext | None = None) -> dict[str, Prior]:
    """Every prior that can be built in this context, by name, in a stable order.

    Without a context: only the priors that need no anchor control rate (``reference``,
    ``jeffreys`` and the 3 × 3 grid).
    """
    if context is None:
        return _fixed()
    return dict(_build(context, with_map=True)[0])


def unavailable(context: PriorContext) -> dict[str, str]:
    """Priors that cannot be built in this context, with the reason."""
    return dict(_build(context, with_map=True)[1])


def get_prior(name: str, context: PriorContext | None = None) -> Prior:
    """Look up a prior; an unknown or unavailable name is an input error saying why.

    Without a context only the priors that need no anchor control rate (``reference``,
    ``jeffreys`` and the 3 × 3 grid) can be looked up.
    """
    if context is None:
        fixed = _fixed()
        if name in fixed:
            return fixed[name]
        raise InputError(
            "spec",
            "this prior depends on the anchor control rate; look it up with a PriorContext",
            field="priors",
            value=name,
        )
    known, missing = _build(context, with_map=name == MAP_NAME)
    if name in known:
        return known[name]
    if name in missing:
        raise InputError(
            "spec", f"prior cannot be built: {missing[name]}", field="priors", value=name
        )
    raise InputError(
        "spec", f"unknown prior; known priors: {', '.join(known)}", field="priors", value=name
    )
