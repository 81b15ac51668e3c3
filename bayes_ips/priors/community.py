"""The community of priors: reference priors, the belief × strength grid and the MCID priors.

Calibrations follow the design notes on priors. The SDs of the 3 × 3 grid (Zampieri-style:
optimistic / neutral / pessimistic × strong / moderate / weak) are computed from the stated tail
probabilities, never typed in:

- optimistic: mean log 1.25, SD such that P(OR < 1) = 5%, 15%, 30% (strong, moderate, weak);
- pessimistic: the mirror image (mean −log 1.25, P(OR > 1) = 5%, 15%, 30%);
- for an outcome where lower is better (``[data] direction = "lower"``) belief is about benefit,
  so optimistic means fewer events: mean −log 1.25 (an OR of 0.8), and pessimistic the mirror;
- neutral: mean 0, 95% of the mass for the OR in 0.67–1.5 (strong) or 0.5–2 (moderate); weak is
  vague with SD :data:`NEUTRAL_WEAK_SD`.

Spiegelhalter-style priors calibrated on a minimal clinically important difference (MCID), given
as an odds ratio ``OR_mcid`` (directly, or converted from a risk difference at the anchor control
rate, see :func:`mcid_odds_ratio`):

- ``sceptical_mcid``: mean 0, SD = |log(OR_mcid)| / 1.645 (5% prior chance the effect exceeds
  the MCID);
- ``enthusiastic_mcid``: mean log(OR_mcid), SD such that P(OR < 1) = 5% (P(OR > 1) when lower is
  better: the MCID is then a reduction, an odds ratio below 1).

An effect prior is a prior of the log OR of cumulative employment at every horizon, in every model
that carries it (``exact_logistic``, ``hierarchical_logistic``, ``adjusted_logistic``). It has no
rate component: the beta-binomial models take rate priors only (``reference``, ``jeffreys`` and
user Betas).
"""

from __future__ import annotations

import math

from bayes_ips.priors.calibration import or_from_rd, sd_from_interval, sd_from_tail
from bayes_ips.priors.core import BetaRate, NormalEffect, Prior

OR_OPTIMISTIC = 1.25
NEUTRAL_WEAK_SD = 2.0
REFERENCE_EFFECT_SD = 2.5
TAILS = {"strong": 0.05, "moderate": 0.15, "weak": 0.30}
NEUTRAL_INTERVALS = {"strong": (1 / 1.5, 1.5), "moderate": (0.5, 2.0)}
BELIEFS = ("optimistic", "neutral", "pessimistic")
STRENGTHS = tuple(TAILS)
GRID_NAMES = tuple(f"{b}_{s}" for b in BELIEFS for s in STRENGTHS)
MCID_NAMES = ("sceptical_mcid", "enthusiastic_mcid")
REFERENCE_NAMES = ("reference", "jeffreys")


def effect_prior(name: str, recipe: str, effect: NormalEffect, group: str) -> Prior:
    """A prior on the log OR of cumulative employment (no rate component)."""
    return Prior(name, recipe, effect=effect, group=group)


def reference_priors() -> list[Prior]:
    return [
        Prior(
            "reference",
            "each model's weakly informative default: uniform Beta(1, 1) on each arm's rate "
            "(beta-binomial models); Normal(0, "
            f"{REFERENCE_EFFECT_SD:g}²) on the log OR of the cumulative outcome at every horizon "
            "(logistic models; on the log RR in the log-binomial models); on the log hazard "
            "ratio, the discrete-time hazard model's own default (see its methods)",
            rate=BetaRate(1.0, 1.0),
            effect=NormalEffect(0.0, REFERENCE_EFFECT_SD),
        ),
        Prior(
            "jeffreys",
            "Jeffreys prior Beta(0.5, 0.5) on each arm's rate",
            rate=BetaRate(0.5, 0.5),
        ),
    ]


def grid_priors(sign: int = 1) -> list[Prior]:
    """The 3 × 3 belief × strength grid, in :data:`GRID_NAMES` order; ``sign`` is -1 when a
    lower outcome rate is better (:attr:`bayes_ips.data.Comparison.sign`), which mirrors the
    optimistic and pessimistic priors so that optimism is always about benefit."""
    log_opt = sign * math.log(OR_OPTIMISTIC)
    hopeful, doubtful = ("−log", "log") if sign < 0 else ("log", "−log")
    below, above = ("OR > 1", "OR < 1") if sign < 0 else ("OR < 1", "OR > 1")
    out = {}
    for strength, tail in TAILS.items():
        sd = sd_from_tail(log_opt, 0.0, tail)
        out[f"optimistic_{strength}"] = effect_prior(
            f"optimistic_{strength}",
            f"Mean {hopeful} {OR_OPTIMISTIC}; SD chosen so that P({below}) = {tail:.0%} "
            "(Zampieri-style community of priors).",
            NormalEffect(log_opt, sd),
            "community",
        )
        out[f"pessimistic_{strength}"] = effect_prior(
            f"pessimistic_{strength}",
            f"Mean {doubtful} {OR_OPTIMISTIC}; SD chosen so that P({above}) = {tail:.0%} "
            "(mirror of the optimistic prior).",
            NormalEffect(-log_opt, sd),
            "community",
        )
    for strength, (lo, hi) in NEUTRAL_INTERVALS.items():
        out[f"neutral_{strength}"] = effect_prior(
            f"neutral_{strength}",
            f"Mean 0; SD chosen so that 95% of the mass has the OR in {lo:.2f}–{hi:.2f}.",
            NormalEffect(0.0, sd_from_interval(math.log(lo), math.log(hi))),
            "community",
        )
    out["neutral_weak"] = effect_prior(
        "neutral_weak",
        f"Mean 0; vague, SD {NEUTRAL_WEAK_SD:g} on the log OR (95% of the mass for the OR "
        f"between {math.exp(-1.96 * NEUTRAL_WEAK_SD):.2f} and "
        f"{math.exp(1.96 * NEUTRAL_WEAK_SD):.0f}).",
        NormalEffect(0.0, NEUTRAL_WEAK_SD),
        "community",
    )
    return [out[name] for name in GRID_NAMES]


def mcid_odds_ratio(
    mcid_rd: float, control_rate: float, mcid_or: float | None = None, sign: int = 1
) -> tuple[float, str]:
    """The MCID as an odds ratio, and how it was obtained (in words). ``mcid_rd`` and
    ``mcid_or`` are sizes of benefit (a risk difference > 0, an odds ratio > 1); when a lower
    rate is better (``sign`` -1) the MCID is that reduction: a risk difference of −``mcid_rd``,
    an odds ratio of 1/``mcid_or``."""
    if mcid_or is not None:
        value = mcid_or**sign
        return value, f"MCID set as an odds ratio of {value:.3g}"
    value = or_from_rd(sign * mcid_rd, control_rate)
    return value, (
        f"MCID a risk difference of {100 * sign * mcid_rd:g} percentage points at the control "
        f"rate {100 * control_rate:.1f}% (treatment rate "
        f"{100 * (control_rate + sign * mcid_rd):.1f}%), an odds ratio of {value:.3f}"
    )


def mcid_priors(or_mcid: float, how: str) -> list[Prior]:
    """``sceptical_mcid`` and ``enthusiastic_mcid`` for an MCID given as an odds ratio (above 1
    when a higher rate is better, below 1 when a lower one is)."""
    log_mcid = math.log(or_mcid)
    sd = sd_from_tail(0.0, log_mcid, 0.05)
    away = "OR > 1" if log_mcid < 0 else "OR < 1"
    return [
        effect_prior(
            "sceptical_mcid",
            f"Mean 0; SD = log(OR_mcid) / 1.645, so the prior chance that the effect exceeds "
            f"the MCID is 5% (Spiegelhalter's sceptical prior); {how}.",
            NormalEffect(0.0, sd),
            "clinical",
        ),
        effect_prior(
            "enthusiastic_mcid",
            f"Mean log(OR_mcid); SD such that P({away}) = 5% (Spiegelhalter's enthusiastic "
            f"prior); {how}.",
            NormalEffect(log_mcid, sd_from_tail(log_mcid, 0.0, 0.05)),
            "clinical",
        ),
    ]
