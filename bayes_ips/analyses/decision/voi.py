"""Expected value of sample information (EVSI) and expected net benefit of sampling (ENBS).

For a trial with ``n`` participants per arm, EVSI per patient is

    EVSI(n) = E_y[ max(E[INB | y], 0) ] − max(E[INB], 0),   INB = V·RD − C,

the expected gain from deciding after the trial instead of now (RD the benefit sign · RD, and the
Beta posteriors those of each arm's rate of the favourable result,
:func:`~bayes_ips.analyses.decision.posterior.favourable`). It is computed by conjugacy and
exact enumeration, without nested simulation: with each arm's current posterior Beta(a, b), the
trial's outcome in that arm is beta-binomial, and after observing y the posterior mean rate is
(a + y) / (a + b + n). So E[INB | y_t, y_c] = V·(m_t(y_t) − m_c(y_c)) − C, and the outer
expectation is a finite double sum over y_t, y_c = 0..n, evaluated in O(n log n) because m_c is
increasing in y_c (for each y_t only the y_c below a threshold contribute).

For the conjugate beta-binomial engine the Beta posteriors are exact. For other models each arm's
posterior at the horizon is replaced by the Beta with the same mean and variance and the arms are
treated as independent (an approximation; the report says so). EVSI is between 0 and the EVPI of
the same Beta posteriors and tends to it as n grows.

ENBS(n) = population × EVSI(n) − (trial fixed cost + 2n × cost per participant); the trial size
with the largest ENBS is the economically best one, and none is worth running when every ENBS ≤ 0.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from bayes_ips.analyses.decision.options import Economics


def _posterior_means(n: int, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n + 1)
    return stats.betabinom.pmf(y, n, a, b), (a + y) / (a + b + n)


def evsi(
    beta_t: tuple[float, float], beta_c: tuple[float, float], n: int, value: float, cost: float
) -> float:
    """EVSI per patient of a trial with ``n`` per arm (exact for independent Beta posteriors).

    Parameters
    ----------
    beta_t, beta_c : (a, b)
        Current Beta posteriors of the treatment and control rates of the favourable result.
    n : int
        Participants per arm.
    value, cost : float
        Value of one participant who gains (is spared) the outcome, incremental cost per
        patient.
    """
    w_t, m_t = _posterior_means(n, *beta_t)
    w_c, m_c = _posterior_means(n, *beta_c)
    cum_w = np.concatenate([[0.0], np.cumsum(w_c)])
    cum_wm = np.concatenate([[0.0], np.cumsum(w_c * m_c)])
    bound = m_t - cost / value
    j = np.searchsorted(m_c, bound, side="left")
    inner = value * (bound * cum_w[j] - cum_wm[j])
    preposterior = float(w_t @ inner)
    mean_rd = beta_t[0] / sum(beta_t) - beta_c[0] / sum(beta_c)
    return max(preposterior - max(value * mean_rd - cost, 0.0), 0.0)


def sampling_value(
    beta_t: tuple[float, float], beta_c: tuple[float, float], n_grid, econ: Economics
) -> dict:
    """EVSI per patient and for the population, trial cost and ENBS over the sample sizes."""
    per_patient = [
        evsi(beta_t, beta_c, int(n), econ.value_per_employed, econ.cost_per_patient) for n in n_grid
    ]
    population = [v * econ.population for v in per_patient]
    cost = [econ.trial_cost(int(n)) for n in n_grid]
    enbs = [p - c for p, c in zip(population, cost, strict=True)]
    best = int(np.argmax(enbs))
    return {
        "n_per_arm": [int(n) for n in n_grid],
        "evsi_per_patient": per_patient,
        "evsi_population": population,
        "trial_cost": cost,
        "enbs": enbs,
        "n_best": int(n_grid[best]) if enbs[best] > 0 else None,
        "enbs_best": enbs[best],
        "beta_treatment": list(beta_t),
        "beta_control": list(beta_c),
    }
