"""Exact beta-binomial answers: the reference every MCMC model is checked against.

With independent Beta(a, b) priors on each arm's rate at each horizon (the arms' Betas may
differ) and a binomial likelihood, the posterior of each rate is Beta(a + y, b + n − y). The
posterior probability of benefit, P(p_treatment > p_control), is computed exactly by
one-dimensional quadrature of

    P = ∫₀¹ F_c(F_t⁻¹(u)) du,

the control posterior CDF evaluated at the treatment posterior's quantiles. The integrand is
bounded and monotone on [0, 1] whatever the sample size, so the quadrature stays accurate even for
very concentrated posteriors (n = 10⁶ per arm). When the rates sit above 1/2 the problem is
reflected, P(X > Y) = P(1 − Y > 1 − X), so the mass lies near 0 where floating point resolves it:
posteriors piled up at 1 (all events under a Beta(0.01, 0.01) prior) stay exact. Summaries of
RD, RR, OR and NNT use seeded independent draws from the exact posteriors, with their Monte Carlo
standard errors.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import integrate, special

from bayes_ips.data import Comparison
from bayes_ips.priors import BetaRate

MODEL = "beta_binomial"


def prior_parameters(counts: xr.Dataset, prior: BetaRate) -> xr.Dataset:
    """Prior Beta parameters ``a`` and ``b`` with dim ``arm`` (treatment first, as in counts)."""
    (ta, tb), (ca, cb) = prior.treatment, prior.control
    arm = counts["arm"]
    return xr.Dataset(
        {
            "a": xr.DataArray([ta, ca], dims="arm", coords={"arm": arm}),
            "b": xr.DataArray([tb, cb], dims="arm", coords={"arm": arm}),
        }
    )


def posterior_parameters(counts: xr.Dataset, prior: BetaRate) -> xr.Dataset:
    """Posterior Beta parameters ``a`` and ``b`` with dims ``(arm, horizon)``."""
    y, n = counts["employed"], counts["n_analysed"]
    p = prior_parameters(counts, prior)
    return xr.Dataset({"a": p["a"] + y, "b": p["b"] + n - y}).astype(float).transpose(*y.dims)


def prob_greater(a_t: float, b_t: float, a_c: float, b_c: float) -> float:
    """Exact P(X > Y) for independent X ~ Beta(a_t, b_t), Y ~ Beta(a_c, b_c)."""
    if a_t / (a_t + b_t) + a_c / (a_c + b_c) > 1:
        a_t, b_t, a_c, b_c = b_c, a_c, b_t, a_t

    def integrand(u: float) -> float:
        return special.betainc(a_c, b_c, special.betaincinv(a_t, b_t, u))

    value, _ = integrate.quad(integrand, 0.0, 1.0, epsabs=1e-12, epsrel=1e-12, limit=500)
    return float(min(max(value, 0.0), 1.0))


def prob_benefit(post: xr.Dataset, comparison: Comparison) -> dict:
    """Exact P(p_treatment > p_control) per horizon."""
    t = post.sel(arm=comparison.treatment)
    c = post.sel(arm=comparison.control)
    return {
        h: prob_greater(
            float(t["a"].sel(horizon=h)),
            float(t["b"].sel(horizon=h)),
            float(c["a"].sel(horizon=h)),
            float(c["b"].sel(horizon=h)),
        )
        for h in post["horizon"].to_numpy().tolist()
    }


def draw_rates(post: xr.Dataset, draws: int, random_seed: int) -> xr.DataArray:
    """Independent draws of p[arm, horizon] from the exact posterior (one chain)."""
    rng = np.random.default_rng(random_seed)
    a, b = post["a"].to_numpy(), post["b"].to_numpy()
    values = rng.beta(a, b, size=(1, draws, *a.shape))
    return xr.DataArray(
        values,
        dims=("chain", "draw", "arm", "horizon"),
        coords={
            "chain": [0],
            "draw": np.arange(draws),
            "arm": post["arm"].to_numpy(),
            "horizon": post["horizon"].to_numpy(),
        },
        name="p",
    )


def exact_loo(counts: xr.Dataset, post: xr.Dataset) -> xr.DataArray:
    """Exact leave-one-out log predictive density of every arm x horizon count.

    Each count has its own Beta rate, so leaving it out leaves that rate's prior Beta(a0, b0) and
    ``p(y_i | y_-i)`` is the beta-binomial ``C(n, y) B(a, b) / B(a0, b0)`` with ``(a, b)`` the
    posterior (closed form).
    """
    y = counts["employed"].astype(float)
    n = counts["n_analysed"].astype(float)
    a, b = post["a"], post["b"]
    a0, b0 = a - y, b - (n - y)
    log_choose = special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)
    return log_choose + special.betaln(a, b) - special.betaln(a0, b0)
