"""The exact beta-binomial engine against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special, stats

from bayes_ips import conjugate


def closed_form_prob_greater(a_t: int, b_t: float, a_c: int, b_c: float) -> float:
    """P(X > Y), X ~ Beta(a_t, b_t), Y ~ Beta(a_c, b_c), integer a_c: a finite sum
    (Cook 2005; Miller 2015), a different method from the engine's quadrature."""
    i = np.arange(a_c)
    terms = np.exp(
        special.betaln(a_t + i, b_t + b_c)
        - np.log(b_c + i)
        - special.betaln(1 + i, b_c)
        - special.betaln(a_t, b_t)
    )
    return float(1 - terms.sum())


@pytest.mark.parametrize(
    "a_t,b_t,a_c,b_c",
    [
        (20, 18, 8, 12),  # IPS in Pain, 12 months, Beta(1, 1) prior
        (1, 1, 1, 1),
        (3, 40, 1, 50),
        (700, 300, 650, 350),
    ],
)
def test_quadrature_equals_closed_form(a_t, b_t, a_c, b_c):
    assert conjugate.prob_greater(a_t, b_t, a_c, b_c) == pytest.approx(
        closed_form_prob_greater(a_t, b_t, a_c, b_c), abs=1e-9
    )


def test_half_integer_parameters_against_direct_quadrature():
    a_t, b_t, a_c, b_c = 19.5, 17.5, 7.5, 11.5  # Jeffreys prior, 12 months
    direct, _ = integrate.quad(
        lambda x: stats.beta.pdf(x, a_t, b_t) * stats.beta.cdf(x, a_c, b_c), 0, 1, epsabs=1e-13
    )
    assert conjugate.prob_greater(a_t, b_t, a_c, b_c) == pytest.approx(direct, abs=1e-9)


def test_huge_samples_stay_accurate():
    # n = 10^6 per arm: posteriors are needles; the normal approximation is then excellent.
    a_t, b_t, a_c, b_c = 500_501, 499_501, 499_001, 501_001
    mt, mc = a_t / (a_t + b_t), a_c / (a_c + b_c)
    vt = mt * (1 - mt) / (a_t + b_t + 1)
    vc = mc * (1 - mc) / (a_c + b_c + 1)
    normal = stats.norm.cdf((mt - mc) / np.sqrt(vt + vc))
    assert conjugate.prob_greater(a_t, b_t, a_c, b_c) == pytest.approx(normal, abs=1e-4)


def test_symmetry():
    p = conjugate.prob_greater(5.5, 9, 7, 3.2)
    assert p + conjugate.prob_greater(7, 3.2, 5.5, 9) == pytest.approx(1, abs=1e-10)
