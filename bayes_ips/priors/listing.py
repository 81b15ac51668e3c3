"""The prior library in words, as ``bayes-ips priors`` prints it."""

from __future__ import annotations

from pathlib import Path

from bayes_ips.priors.ess import prior_ess
from bayes_ips.priors.library import PriorContext, anchor, library, unavailable


def context_for(spec_path: str | Path | None = None, data: str | Path | None = None):
    """The prior context of a spec (default: the bundled one) and its data."""
    from bayes_ips.data import load_trial
    from bayes_ips.spec import DEFAULT_SPEC, load_spec

    spec = load_spec(spec_path or DEFAULT_SPEC).with_overrides(data=data)
    trial = load_trial(spec.data_path)
    counts = trial.counts(spec.comparison)
    horizons = counts["horizon"].to_numpy().tolist()
    primary = spec.primary_horizon if spec.primary_horizon in horizons else max(horizons)
    return anchor(spec.options.get("priors"), counts, primary)


def _ess_line(prior, context: PriorContext) -> str:
    ess = prior_ess(prior, context.control_rate)
    parts = []
    if ess["effect_elir"] is not None:
        parts.append(
            f"effect {ess['effect_elir']:.1f} (ELIR) / {ess['effect_local']:.1f} (local) "
            "patients per arm"
        )
    if ess["rate_control"] is not None:
        parts.append(
            f"rates {ess['rate_treatment']:.1f} (treatment) and {ess['rate_control']:.1f} "
            "(control) patients"
        )
    return "; ".join(parts)


def describe_library(
    spec_path: str | Path | None = None, data: str | Path | None = None
) -> list[str]:
    """One block of lines per prior: name, distribution, ESS and recipe."""
    context = context_for(spec_path, data)
    lines = [
        f"anchor control rate {100 * context.control_rate:.1f}% ({context.control_rate_source})",
        "",
    ]
    for prior in library(context).values():
        lines += [
            f"{prior.name}  [{prior.group}]",
            f"    {prior.describe()}",
            f"    ESS: {_ess_line(prior, context)}",
            f"    recipe: {prior.recipe}",
        ]
    for name, reason in unavailable(context).items():
        lines += [f"{name}  [unavailable]", f"    {reason}"]
    return lines
