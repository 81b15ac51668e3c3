"""The prior library in words, as ``bayes-ips priors`` prints it."""

from __future__ import annotations

from bayes_ips.priors.ess import prior_ess
from bayes_ips.priors.library import PriorContext, library, unavailable


def _elir(value: float) -> str:
    return "∞ (beyond the float range)" if value == float("inf") else f"{value:.1f}"


def _ess_line(prior, context: PriorContext) -> str:
    ess = prior_ess(prior, context.control_rate)
    parts = []
    if ess["effect_elir"] is not None:
        parts.append(
            f"effect {_elir(ess['effect_elir'])} (ELIR) / {ess['effect_local']:.1f} (local) "
            "patients per arm"
        )
    if ess["rate_control"] is not None:
        parts.append(
            f"rates {ess['rate_treatment']:.1f} (treatment) and {ess['rate_control']:.1f} "
            "(control) patients"
        )
    return "; ".join(parts)


def describe_library(context: PriorContext) -> list[str]:
    """One block of lines per prior of a run's library (:attr:`RunContext.priors
    <bayes_ips.context.RunContext>`): name, distribution, ESS and recipe."""
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
