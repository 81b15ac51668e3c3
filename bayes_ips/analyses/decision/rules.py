"""Decision rules on the posterior of the benefit, each with three outcomes.

Benefit follows the outcome's direction: below, "RD > d" means sign · RD > d, the treatment ahead
by more than d on the benefit side (:mod:`~bayes_ips.analyses.decision.posterior`), so for a
lower-is-better outcome RD < −d. The ROPE's masses below, inside and above are reported on the
RD's own scale.

Dual criterion (the RBesT / Roychoudhury et al. 2018 style), with thresholds γ₁, γ₂ and the
minimal clinically important difference MCID:

- **go** when both criteria hold: P(RD > 0) ≥ γ₁ (statistical: the treatment helps) *and*
  P(RD > MCID) ≥ γ₂ (clinical: it helps by at least the MCID);
- **no-go** when both fail;
- **indeterminate** when exactly one holds (the report says which).

ROPE rule (probability version of Kruschke's region of practical equivalence, half-width r):

- **go** when P(RD > r) ≥ γ: the effect is, with probability γ, larger than practically
  negligible and in favour of the treatment;
- **no-go** when P(RD ≤ r) ≥ γ: with probability γ the treatment is no better than practically
  equivalent (inside the ROPE or harmful);
- **indeterminate** otherwise. γ > 1/2 makes the outcomes mutually exclusive.

Inequalities are inclusive (≥) as written.
"""

from __future__ import annotations

from bayes_ips.analyses.decision.posterior import EffectPosterior

GO, NO_GO, INDETERMINATE = "go", "no-go", "indeterminate"
OUTCOMES = (GO, INDETERMINATE, NO_GO)


def dual_criterion(p_benefit: float, p_mcid: float, gamma_benefit: float, gamma_mcid: float) -> str:
    """Outcome of the dual criterion from P(benefit) and P(sign · RD > MCID)."""
    met = (p_benefit >= gamma_benefit) + (p_mcid >= gamma_mcid)
    return {2: GO, 1: INDETERMINATE, 0: NO_GO}[int(met)]


def rope_rule(p_above: float, gamma: float) -> str:
    """Outcome of the ROPE rule from P(sign · RD > r), the mass beyond the ROPE on the benefit
    side."""
    if p_above >= gamma:
        return GO
    if 1.0 - p_above >= gamma:
        return NO_GO
    return INDETERMINATE


def decide(
    post: EffectPosterior,
    *,
    mcid: float,
    rope: float,
    gamma_benefit: float,
    gamma_mcid: float,
    gamma_rope: float,
    exact_p_benefit: float | None = None,
    sign: int = 1,
) -> dict:
    """Both rules on one posterior, with the probabilities they rest on and their MCSEs.

    ``post`` is the posterior of the benefit sign · RD (``sign`` the outcome's direction,
    :attr:`bayes_ips.data.Comparison.sign`). ``exact_p_benefit`` is the fit's exact P(benefit)
    where the results carry one (an exact model's ``p_benefit``): the benefit criterion then
    uses it, with MCSE 0, so a decision never shows another value of P(benefit) than the
    results; ``exact`` stays true only when every probability of the row is exact.

    Returns
    -------
    dict
        ``p_rd_gt_0`` (P(benefit), P(sign · RD > 0)), ``p_rd_gt_mcid`` (P(sign · RD > MCID)),
        ``p_rope_above`` (P(RD > r)), ``p_rope_below`` (P(RD < −r)), ``p_rope_inside``, the MCSE
        ``*_mcse`` of the first three (0 when exact), ``benefit_met``, ``mcid_met``, ``dual`` and
        ``rope`` outcomes. The ROPE rule's go rests on the mass beyond the ROPE on the benefit
        side: ``p_rope_above`` when a higher rate is better, ``p_rope_below`` when a lower one is.
    """
    probs, mcse = post.prob_gt([0.0, mcid, rope, -rope])
    p0, pm, beyond, not_short = (float(x) for x in probs)
    # the ROPE's masses on the RD's own scale: the benefit side is above it when sign = +1
    short = 1.0 - not_short
    above, below, above_mcse = (
        (beyond, short, float(mcse[2])) if sign > 0 else (short, beyond, float(mcse[3]))
    )
    mcse0 = float(mcse[0])
    if exact_p_benefit is not None:
        p0, mcse0 = float(exact_p_benefit), 0.0
    return {
        "exact": post.exact,
        "p_rd_gt_0": p0,
        "p_rd_gt_0_mcse": mcse0,
        "p_rd_gt_mcid": pm,
        "p_rd_gt_mcid_mcse": float(mcse[1]),
        "p_rope_above": above,
        "p_rope_above_mcse": above_mcse,
        "p_rope_inside": max(not_short - beyond, 0.0),
        "p_rope_below": below,
        "benefit_met": p0 >= gamma_benefit,
        "mcid_met": pm >= gamma_mcid,
        "dual": dual_criterion(p0, pm, gamma_benefit, gamma_mcid),
        "rope": rope_rule(beyond, gamma_rope),
    }
