"""The run context: what every step of a reanalysis works from, built once per run.

:func:`prepare` turns a spec into a :class:`RunContext`: spec → validated data → counts of the
compared arms → primary horizon → prior anchor (the control rate the data-dependent priors use)
→ the named priors of every model → the headline fit. The pipeline fits the models from it, the
priors listing reads it, and every post-fit analysis receives it with the :class:`Fitted`
results, so none of them rebuilds any of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
import xarray as xr

from bayes_ips import models
from bayes_ips.data import Comparison, TrialData, load_trial
from bayes_ips.data.intervals import risk_sets
from bayes_ips.data.ipd import has_participants
from bayes_ips.errors import InputError, InputErrors
from bayes_ips.estimands import summarise
from bayes_ips.fit import Fit
from bayes_ips.priors import NormalEffect, Prior, PriorContext, anchor, get_prior
from bayes_ips.spec import Spec


@dataclass(frozen=True)
class RunContext:
    """One run's inputs, validated and resolved.

    Attributes
    ----------
    spec : Spec
        The effective spec (defaults, the user's file and any overrides).
    data : TrialData
        The trial table as analysed (verified rows only when the spec says so).
    counts : xarray.Dataset
        Counts of the compared arms, dims ``(arm, horizon)``, treatment first.
    primary_horizon : float
        The spec's primary horizon, or the last one in the data when the data lack it.
    priors : PriorContext
        The prior settings and the anchor control rate of the data-dependent priors.
    families : dict
        Each model to fit with its priors, in the spec's order.
    warnings : tuple of str
        Warnings about the data and the comparison, for the report.
    """

    spec: Spec
    data: TrialData
    counts: xr.Dataset
    primary_horizon: float
    priors: PriorContext
    families: dict[str, list[Prior]] = field(repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def headline(self) -> tuple[str, str]:
        """The headline fit, ``(model, prior)``: the spec's first model under its first prior."""
        model, priors = next(iter(self.families.items()))
        return model, priors[0].name

    def options(self, name: str, default=None):
        """The spec's settings of the section ``name`` (``[decision]``, ...), or ``default``."""
        return self.spec.options.get(name, default)


def prepare(spec: Spec) -> RunContext:
    """Validate the spec's data and resolve everything the fits and analyses share.

    Raises
    ------
    InputError
        The data, the comparison or a prior is invalid.
    """
    data = load_trial(spec.data_path, spec.options.get("ipd"))
    if spec.verified_only:
        data = data.verified_only()
    warnings = [*data.warnings, *data.check_comparison(spec.comparison)]
    counts = data.counts(spec.comparison)
    horizons = counts["horizon"].to_numpy().tolist()
    primary = spec.primary_horizon
    if primary not in horizons:
        primary = max(horizons)
        warnings.append(
            f"primary horizon {spec.primary_horizon:g} months is not in the data; "
            f"using {primary} months"
        )
    priors = anchor(spec.options.get("priors"), counts, primary, spec.comparison.sign)
    families = {
        model: [get_prior(name, priors) for name in names] for model, names in spec.models.items()
    }
    _check_families(families, counts, spec.origin, priors.control_rate)
    return RunContext(spec, data, counts, primary, priors, families, tuple(warnings))


COHORT_RULE = (
    "from aggregate counts over several horizons: the same n_analysed at every horizon, and "
    "cumulative employed counts that never fall"
)
"""The data rule of :data:`bayes_ips.models.COHORT_MODELS`, in words."""


def model_rules(spec: Spec) -> dict[str, list[str]]:
    """The data rules that the spec's models add to those of every table, each with the models
    that need it (``bayes-ips check-data`` says so)."""
    needs_cohort = [m for m in spec.models if m in models.COHORT_MODELS]
    return {COHORT_RULE: needs_cohort} if needs_cohort else {}


def check_model_rules(spec: Spec, data: TrialData) -> None:
    """Check :func:`model_rules` on every arm of ``data`` (its verified rows when the spec says
    so), as a run comparing any two of them would (``bayes-ips check-data``): the same error,
    with the same message.

    Raises
    ------
    InputError
        An arm breaks a rule one of the spec's models needs.
    """
    analysed = data.verified_only() if spec.verified_only else data
    first, *others = analysed.arms
    for arm in others:
        error = _cohort_error(list(spec.models), analysed.counts(Comparison(first, arm)))
        if error is not None:
            raise error


def _cohort_error(names: list[str], counts: xr.Dataset) -> InputError | None:
    """The error a run of the models ``names`` on ``counts`` stops with when they count each
    participant once across horizons and the counts break the cohort assumption, else None."""
    needs_cohort = [m for m in names if m in models.COHORT_MODELS]
    if not needs_cohort or counts.sizes["horizon"] < 2 or has_participants(counts):
        return None
    try:
        risk_sets(counts)
    except InputError as exc:
        rule = f"{exc.rule} (needed by {', '.join(needs_cohort)})"
        return InputError(exc.source, rule, field=exc.field, value=exc.value)
    return None


FEASIBLE_MASS_MIN = 1e-3
"""The least prior mass a log-RR prior must put on risk ratios that keep the treatment risk at
most 1 at the anchor control rate (RR ≤ 1/p0): below it the conditioned prior is a sliver at the
edge of the feasible region, a prior that cannot mean what it says."""


def _feasible(model: str, prior: Prior, control_rate: float, origin: str) -> InputError | None:
    """A prior on the log RR that puts (next to) no mass where RR · p0 ≤ 1 is an input error."""
    effect = prior.effect
    if models.EFFECT_SCALE.get(model) != "log_rr" or not isinstance(effect, NormalEffect):
        return None
    cap = -math.log(control_rate)
    mass = float(effect.cdf(cap))
    if mass >= FEASIBLE_MASS_MIN:
        return None
    return InputError(
        origin,
        f"the prior puts {mass:.1e} of its mass on risk ratios up to {math.exp(cap):.3g}, the "
        f"largest that keeps the treatment risk at most 1 at the anchor control rate "
        f"{100 * control_rate:.1f}%; a prior on the log RR must put at least "
        f"{FEASIBLE_MASS_MIN:.1%} there",
        field=f"models.{model}.priors",
        value=prior.name,
    )


def _check_families(
    families: dict[str, list[Prior]], counts: xr.Dataset, origin: str, control_rate: float
) -> None:
    """Before any fit: every prior is one its model carries (and a log-RR prior can hold risks,
    :func:`_feasible`), and the models that count each participant once across horizons from
    aggregate counts find the same analysed cohort at every horizon."""
    errors = []
    for model, priors in families.items():
        for prior in priors:
            try:
                models.check_prior(model, prior, origin)
            except InputError as exc:
                errors.append(exc)
                continue
            feasible = _feasible(model, prior, control_rate, origin)
            if feasible is not None:
                errors.append(feasible)
    cohort = _cohort_error(list(families), counts)
    if cohort is not None:
        errors.append(cohort)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors(errors)


@dataclass
class Fitted:
    """The fits of a run and their tidy results.

    Attributes
    ----------
    fits : list of Fit
        One per model × prior, in the spec's order (so the first is the headline fit).
    table : pandas.DataFrame
        One row per model × prior × horizon (:func:`results_table`).
    """

    fits: list[Fit]
    table: pd.DataFrame

    def fit(self, model: str, prior: str) -> Fit:
        """The fit of ``model`` under the prior named ``prior`` (e.g. ``*ctx.headline``)."""
        return next(f for f in self.fits if (f.model, f.prior.name) == (model, prior))


def results_table(fits: list[Fit], counts: xr.Dataset, spec: Spec) -> pd.DataFrame:
    """Tidy results: one row per model × prior × horizon (summary.json ``results`` rows)."""
    frames = []
    for fit in fits:
        table = summarise(fit.p, spec.comparison, spec.estimands, fit.p_benefit_exact)
        verified = counts["verified"].all("arm")
        if fit.model not in models.EXACT_MODELS:
            # pooled models borrow strength across horizons: every estimate rests on every row
            verified = verified & verified.all("horizon")
        table.insert(0, "model", fit.model)
        table.insert(1, "prior", fit.prior.name)
        table.insert(3, "treatment", spec.comparison.treatment)
        table.insert(4, "control", spec.comparison.control)
        table["verified_data"] = [bool(verified.sel(horizon=h)) for h in table["horizon_months"]]
        table["seed"] = fit.seed
        table["draws"] = int(fit.p.sizes["chain"] * fit.p.sizes["draw"])
        frames.append(table)
    return pd.concat(frames, ignore_index=True)
