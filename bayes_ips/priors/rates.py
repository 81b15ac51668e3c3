"""Rate priors for the beta-binomial models that are consistent with an effect prior.

The beta-binomial models put independent Beta priors on the two arms' rates, so they cannot hold
a belief about the *contrast* between arms. The construction used here keeps what they can hold:

1. the control rate gets the reference prior Beta(1, 1);
2. the effect prior on the log OR, ``theta``, together with that control prior implies a
   distribution for the treatment rate, ``p_t = invlogit(logit p_c + theta)``;
3. the treatment rate gets the Beta with the same mean and variance as that implied distribution
   (moments computed by quadrature: midpoint rule over ``p_c``, Gauss–Hermite over each normal
   component of ``theta``).

So the marginal distribution of each rate agrees (to two moments) with the logistic model's under
a uniform control rate. Because the control rate is vague, the implied treatment rate is vague too:
these Betas are close to Beta(1, 1) (an ESS of about 2 patients), and an effect prior's influence
on the exact engine is small. That is the honest consequence of independence; the logistic model
and the prior-sensitivity heat map carry the effect priors in full.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from bayes_ips.priors.calibration import beta_from_moments
from bayes_ips.priors.core import BetaRate, _Effect

CONTROL = (1.0, 1.0)
CONTROL_POINTS = 2000
HERMITE_NODES = 60


def implied_treatment_moments(effect: _Effect) -> tuple[float, float]:
    """Mean and variance of ``invlogit(logit p_c + theta)`` for ``p_c ~ U(0, 1)`` and
    ``theta ~ effect``."""
    u = (np.arange(CONTROL_POINTS) + 0.5) / CONTROL_POINTS
    x, wx = np.polynomial.hermite.hermgauss(HERMITE_NODES)
    w, m, s = effect.components()
    theta = m[:, None] + np.sqrt(2.0) * s[:, None] * x[None, :]
    weight = w[:, None] * wx[None, :] / np.sqrt(np.pi)
    pt = special.expit(special.logit(u)[:, None, None] + theta[None])
    mean = float((pt * weight).sum((1, 2)).mean())
    second = float((pt**2 * weight).sum((1, 2)).mean())
    return mean, second - mean**2


def consistent_rate(effect: _Effect) -> BetaRate:
    """Control Beta(1, 1) and the moment-matched treatment Beta (see the module docstring)."""
    ta, tb = beta_from_moments(*implied_treatment_moments(effect))
    return BetaRate(*CONTROL, treatment_a=ta, treatment_b=tb)


RECIPE = (
    "Rate prior for the beta-binomial models: Beta(1, 1) on the control rate and, on the "
    "treatment rate, the Beta with the mean and variance implied by this effect prior and a "
    "uniform control rate."
)
