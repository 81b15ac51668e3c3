"""The prior library in words, as ``bayes-ips priors`` prints it."""

from __future__ import annotations

from bayes_ips.priors.ess import DEFINITIONS, prior_ess, shape_warning
from bayes_ips.priors.library import PriorContext, library, unavailable


def _elir(value: float) -> str:
    return "∞ (beyond the float range)" if value == float("inf") else f"{value:.1f}"


def _ess_line(ess: dict) -> str:
    parts = []
    if ess["effect_rate_scale"] is not None:
        parts.append(
            f"effect {ess['effect_rate_scale']:.1f} (rate scale) / {_elir(ess['effect_elir'])} "
            f"(ELIR) / {ess['effect_local']:.1f} (local) patients per arm"
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
        "ESS of an effect prior, in patients per arm of a 1:1 trial at the anchor control rate:",
        f"    rate scale: {DEFINITIONS['effect_rate_scale']}",
        f"    ELIR: {DEFINITIONS['effect_elir']}",
        f"    local: {DEFINITIONS['effect_local']}",
        f"ESS of a rate prior: {DEFINITIONS['rate']}",
        "",
    ]
    for prior in library(context).values():
        ess = prior_ess(prior, context.control_rate)
        warning = shape_warning(ess["effect_rate_shape"])
        lines += [
            f"{prior.name}  [{prior.group}]",
            f"    {prior.describe()}",
            f"    ESS: {_ess_line(ess)}",
            *([f"    {warning}"] if warning else []),
            f"    recipe: {prior.recipe}",
        ]
    for name, reason in unavailable(context).items():
        lines += [f"{name}  [unavailable]", f"    {reason}"]
    return lines
