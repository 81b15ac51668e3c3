"""Decision rules on the posterior of the risk difference (RD), each with three outcomes.

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
    """Outcome of the dual criterion from P(RD > 0) and P(RD > MCID)."""
    met = (p_benefit >= gamma_benefit) + (p_mcid >= gamma_mcid)
    return {2: GO, 1: INDETERMINATE, 0: NO_GO}[int(met)]


def rope_rule(p_above: float, gamma: float) -> str:
    """Outcome of the ROPE rule from P(RD > r), the mass above the ROPE's upper bound."""
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
) -> dict:
    """Both rules on one posterior, with the probabilities they rest on and their MCSEs.

    ``exact_p_benefit`` is the fit's exact P(RD > 0) where the results carry one (an exact
    model's ``p_benefit``): the benefit criterion then uses it, with MCSE 0, so a decision never
    shows another value of P(benefit) than the results; ``exact`` stays true only when every
    probability of the row is exact.

    Returns
    -------
    dict
        ``p_rd_gt_0, p_rd_gt_mcid, p_rope_above, p_rope_below`` (P(RD < −r)), ``p_rope_inside``,
        each probability's ``*_mcse`` (0 when exact), ``benefit_met``, ``mcid_met``, ``dual`` and
        ``rope`` outcomes.
    """
    probs, mcse = post.prob_gt([0.0, mcid, rope, -rope])
    p0, pm, above, not_below = (float(x) for x in probs)
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
        "p_rope_above_mcse": float(mcse[2]),
        "p_rope_inside": max(not_below - above, 0.0),
        "p_rope_below": 1.0 - not_below,
        "benefit_met": p0 >= gamma_benefit,
        "mcid_met": pm >= gamma_mcid,
        "dual": dual_criterion(p0, pm, gamma_benefit, gamma_mcid),
        "rope": rope_rule(above, gamma_rope),
    }
