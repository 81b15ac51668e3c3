"""The exact beta-binomial engine against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special, stats

from bayes_ips import conjugate


def finite_sum(a_x: int, b_x: float, a_y: float, b_y: float) -> float:
    """P(X > Y), X ~ Beta(a_x, b_x), Y ~ Beta(a_y, b_y), integer a_x: a finite sum of positive
    terms (Cook 2005; Miller 2015), a different method from the engine's quadrature, with no
    cancellation however small the probability."""
    i = np.arange(a_x)
    return float(
        np.exp(
            special.betaln(a_y + i, b_y + b_x)
            - np.log(b_x + i)
            - special.betaln(1 + i, b_x)
            - special.betaln(a_y, b_y)
        ).sum()
    )


def closed_form_prob_greater(a_t: float, b_t: float, a_c: int, b_c: float) -> float:
    """P(X > Y), X ~ Beta(a_t, b_t), Y ~ Beta(a_c, b_c), integer a_c: 1 − P(Y > X)."""
    return 1 - finite_sum(a_c, b_c, a_t, b_t)


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


def test_a_tiny_probability_keeps_its_relative_accuracy():
    # P ~ 4e-7: quad's default absolute tolerance (1.5e-8) would leave it 1e-4 off, relatively.
    # The finite sum gives it directly, without cancellation.
    a_t, b_t, a_c, b_c = 5, 95, 30, 70
    direct = finite_sum(a_t, b_t, a_c, b_c)  # P(X_t > X_c) directly
    assert direct == pytest.approx(4.166e-7, rel=1e-3)  # the case is as small as intended
    assert conjugate.prob_greater(a_t, b_t, a_c, b_c) == pytest.approx(direct, rel=1e-6)


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


# --- seeded draws and the fit's tree ----------------------------------------------------------


def _ips_posterior():
    from bayes_ips.data import Comparison, load_trial
    from bayes_ips.priors import BetaRate

    counts = load_trial("package:ips_in_pain.csv").counts(Comparison())
    return counts, conjugate.posterior_parameters(counts, BetaRate(1, 1, 1, 1))


def test_rate_draws_are_reproducible_from_the_seed_and_follow_the_exact_posterior():
    counts, post = _ips_posterior()
    p = conjugate.draw_rates(post, 20_000, 11)
    assert p.dims == ("chain", "draw", "arm", "horizon") and p.name == "p"
    assert list(p["chain"].values) == [0]  # one chain, numbered from 0 as ArviZ does
    assert p.shape == (1, 20_000, 2, 3)
    assert list(p["arm"].values) == ["IPS", "TAU"] and list(p["horizon"].values) == [6, 12, 24]
    np.testing.assert_array_equal(p.to_numpy(), conjugate.draw_rates(post, 20_000, 11).to_numpy())
    assert not np.array_equal(p.to_numpy(), conjugate.draw_rates(post, 20_000, 12).to_numpy())
    # each cell is Beta(1 + y, 1 + n - y), written here from the counts
    for arm in ("IPS", "TAU"):
        for h in (6, 12, 24):
            y = int(counts["employed"].sel(arm=arm, horizon=h))
            n = int(counts["n_analysed"].sel(arm=arm, horizon=h))
            draws = p.sel(arm=arm, horizon=h).to_numpy().ravel()
            assert stats.kstest(draws, stats.beta(1 + y, 1 + n - y).cdf).pvalue > 1e-4


def test_prior_parameters_keep_each_arms_beta_under_its_label():
    from bayes_ips.priors import BetaRate

    counts, _ = _ips_posterior()
    prior = conjugate.prior_parameters(counts, BetaRate(2, 3, treatment_a=5, treatment_b=7))
    assert list(prior["arm"].values) == ["IPS", "TAU"]  # the treatment arm first, as in counts
    assert float(prior["a"].sel(arm="IPS")) == 5 and float(prior["b"].sel(arm="IPS")) == 7
    assert float(prior["a"].sel(arm="TAU")) == 2 and float(prior["b"].sel(arm="TAU")) == 3


def test_exact_tree_is_reproducible_and_its_groups_follow_from_the_draws():
    from bayes_ips.fit import exact_tree

    counts, post = _ips_posterior()
    p = conjugate.draw_rates(post, 4000, 3)
    tree = exact_tree(p, counts, 3, exact_posterior=post)
    again = exact_tree(conjugate.draw_rates(post, 4000, 3), counts, 3, exact_posterior=post)
    assert tree.identical(again)
    rep = tree["posterior_predictive"]["y"]
    assert not np.array_equal(rep, exact_tree(p, counts, 4)["posterior_predictive"]["y"])
    y, n = counts["employed"], counts["n_analysed"]
    np.testing.assert_array_equal(tree["observed_data"]["y"], y)
    np.testing.assert_array_equal(tree["constant_data"]["n"], n)
    xr_post = tree["exact_posterior"].to_dataset()
    np.testing.assert_array_equal(xr_post["a"], post["a"])
    # replicated counts: integers in [0, n], binomial given each rate draw
    r = rep.to_numpy()
    assert r.dtype.kind == "i" and (r >= 0).all() and (r <= n.to_numpy()).all()
    resid = (r - n.to_numpy() * p.to_numpy()).mean(axis=(0, 1))
    se = np.sqrt((n.to_numpy() * p.to_numpy() * (1 - p.to_numpy())).mean(axis=(0, 1)) / 4000)
    assert (np.abs(resid) < 4 * se).all()
    # the pointwise log likelihood, from the binomial pmf written out
    yy, nn, pp = y.to_numpy(), n.to_numpy(), p.to_numpy()
    direct = (
        special.gammaln(nn + 1)
        - special.gammaln(yy + 1)
        - special.gammaln(nn - yy + 1)
        + yy * np.log(pp)
        + (nn - yy) * np.log1p(-pp)
    )
    np.testing.assert_allclose(tree["log_likelihood"]["y"], direct, rtol=1e-12)
