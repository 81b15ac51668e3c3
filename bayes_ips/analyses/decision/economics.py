"""Net monetary benefit, cost-effectiveness acceptability and the expected value of perfect
information (EVPI), per patient.

With V the value of one participant who gains the outcome (or, when a lower rate is better, is
spared it) and C the incremental cost of the treatment per patient, the incremental net monetary
benefit of adopting the treatment is INB = V·RD − C, where RD is the benefit sign · RD
(:mod:`~bayes_ips.analyses.decision.posterior`). Adopt when E[INB] > 0. The treatment is
cost-effective in a posterior draw when INB > 0, i.e. RD > k = C / V, so

- P(cost-effective) = P(RD > k);
- the cost-effectiveness acceptability curve (CEAC) is P(RD > C / λ) over the willingness to pay
  λ for one participant who gains (is spared) the outcome;
- EVPI = E[max(INB, 0)] − max(E[INB], 0), the expected loss of deciding now rather than with
  the effect known. It equals V·E[(RD − k)⁺] when E[INB] ≤ 0 (the chance that adopting would
  have been right) and V·E[(k − RD)⁺] otherwise, so it is never negative and is zero when every
  posterior draw leads to the same decision.

Population EVPI multiplies by the discounted number of patients the decision affects
(:attr:`~bayes_ips.analyses.decision.options.Economics.population`).
"""

from __future__ import annotations

import numpy as np

from bayes_ips.analyses.decision.options import Economics
from bayes_ips.analyses.decision.posterior import DrawsDifference, EffectPosterior

WTP_POINTS = 100


def evpi(
    post: EffectPosterior, value: float, cost: float, mcse: bool = True
) -> tuple[float, float]:
    """EVPI per patient of adopting (INB = value·RD − cost) versus not, and its MCSE."""
    k = cost / value
    if value * post.mean() - cost > 0:
        loss, se = post.shortfall(k, mcse=mcse)
    else:
        loss, se = post.excess(k, mcse=mcse)
    return float(value * loss[0]), float(value * se[0])


def wtp_grid(econ: Economics) -> np.ndarray:
    """Willingness-to-pay values for the CEAC: ``WTP_POINTS`` equal steps up to ``wtp_max``."""
    return econ.wtp_max * np.arange(1, WTP_POINTS + 1) / WTP_POINTS


def ceac(post: EffectPosterior, econ: Economics) -> dict:
    """P(cost-effective) and EVPI per patient over the willingness to pay per participant who
    gains (is spared) the outcome (the incremental cost per patient held at its setting).

    Curves are drawn from posterior draws (:class:`DrawsDifference`, fast on any grid); the
    values at the spec's inputs (:func:`net_benefit`) are exact where the model allows."""
    wtp = wtp_grid(econ)
    k = econ.cost_per_patient / wtp
    p, _ = post.prob_gt(k, mcse=False)
    above, _ = post.excess(k, mcse=False)
    gain = wtp * above - np.maximum(wtp * post.mean() - econ.cost_per_patient, 0.0)
    return {
        "wtp": wtp.tolist(),
        "p_cost_effective": p.tolist(),
        "evpi_per_patient": np.maximum(gain, 0.0).tolist(),
    }


def net_benefit(
    post: EffectPosterior,
    econ: Economics,
    rd_interval: dict | None = None,
    curve_post: DrawsDifference | None = None,
) -> dict:
    """Expected INB, the adoption decision, P(cost-effective) and EVPI at the spec's inputs,
    and the CEAC.

    Parameters
    ----------
    post : EffectPosterior
        The posterior of the benefit sign · RD; ``threshold_rd`` = C / V is on that scale.
    econ : Economics
    rd_interval : dict, optional
        The benefit's posterior ``median, lo, hi`` (the results table's RD interval, turned by
        :func:`~bayes_ips.analyses.decision.posterior.benefit_interval`); INB is monotone in it,
        so its quantiles follow.
    curve_post : DrawsDifference, optional
        The posterior the CEAC is drawn from (default ``post``).
    """
    v, c = econ.value_per_employed, econ.cost_per_patient
    mean_inb = v * post.mean() - c
    p_ce, p_ce_se = post.prob_gt(c / v)
    loss, loss_se = evpi(post, v, c)
    out = {
        "exact": post.exact,
        "threshold_rd": c / v,
        "inb_mean": mean_inb,
        "adopt": bool(mean_inb > 0),
        "p_cost_effective": float(p_ce[0]),
        "p_cost_effective_mcse": float(p_ce_se[0]),
        "evpi_per_patient": loss,
        "evpi_per_patient_mcse": loss_se,
        "evpi_population": loss * econ.population,
        "ceac": ceac(post if curve_post is None else curve_post, econ),
    }
    if rd_interval is not None:
        out["inb"] = {k: v * rd_interval[k] - c for k in ("median", "lo", "hi")}
    return out
