"""Hierarchical beta-binomial model: each arm's rates across horizons are partially pooled.

For arm a and horizon h::

    y[a, h]   ~ Binomial(n[a, h], p[a, h])
    p[a, h]   ~ Beta(m[a] * kappa[a], (1 − m[a]) * kappa[a])
    m[a]      ~ Beta(a0[a], b0[a])                the named prior's rate component (per arm)
    kappa[a]  ~ LogNormal(log 10, 1)

``m`` is the arm's typical employment rate across horizons and ``kappa`` how tightly the horizons
cluster around it (a prior "sample size": median 10, 95% between 1.4 and 71). This is the weakly
informative mean / log-concentration alternative to BDA3's improper p(α, β) ∝ (α + β)^(−5/2)
(see the design notes on priors).

NUTS samples m and kappa only, under the likelihood with each rate integrated out (each count is
beta-binomial given m and kappa): the joint posterior of m, kappa and the rates has a funnel
where kappa is large, which NUTS explores badly (divergences; simulation-based calibration
fails), while the marginal posterior is smooth. After sampling, each rate is drawn exactly from
its conditional posterior, Beta(m·kappa + y, (1 − m)·kappa + n − y), once per posterior draw
(``generated_quantities``), so the rates have the joint posterior of the model above. Two
consequences: the log-likelihood for PSIS-LOO is the beta-binomial one, whose leave-one-out
predictive equals the binomial model's but is far more stable to importance-sample; and a
replicated count is drawn for a new cell from the arm's hierarchy (a mixed-predictive check,
Marshall & Spiegelhalter 2007), which is what LOO-PIT with that log-likelihood needs.

With ``pooled=False`` the hierarchy is removed and ``p[a, h] ~ Beta(a0[a], b0[a])``
independently: the exact ``beta_binomial`` model, used to cross-check the sampler against the
closed form. The prior's ``a0, b0`` enter as data (``pm.Data``).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import xarray as xr

from bayes_ips.priors import BetaRate, Prior

NAME = "hierarchical_beta_binomial"
KAPPA_LOG_MEDIAN = float(np.log(10.0))
KAPPA_LOG_SD = 1.0
KEY_PARAMETERS = ("m", "kappa", "p")


def prior_data(prior: Prior) -> dict[str, np.ndarray]:
    """Values of the model's prior ``pm.Data`` containers for a named prior (dim ``arm``,
    treatment first)."""
    rate = prior.require("rate", NAME)
    assert isinstance(rate, BetaRate)
    (ta, tb), (ca, cb) = rate.treatment, rate.control
    return {"prior_rate_a": np.array([ta, ca]), "prior_rate_b": np.array([tb, cb])}


def build_model(counts: xr.Dataset, prior: Prior, *, pooled: bool = True) -> pm.Model:
    """The PyMC model for counts with dims ``(arm, horizon)``; with ``pooled=True`` (the
    default) its posterior draws need :func:`generated_quantities` to gain ``p``."""
    values = prior_data(prior)
    coords = {
        "arm": counts["arm"].to_numpy().tolist(),
        "horizon": counts["horizon"].to_numpy().tolist(),
    }
    dims = ("arm", "horizon")
    with pm.Model(coords=coords) as model:
        a0 = pm.Data("prior_rate_a", values["prior_rate_a"], dims="arm")
        b0 = pm.Data("prior_rate_b", values["prior_rate_b"], dims="arm")
        n = pm.Data("n_analysed", counts["n_analysed"].to_numpy(), dims=dims)
        y = counts["employed"].to_numpy()
        if pooled:
            m = pm.Beta("m", a0, b0, dims="arm")
            kappa = pm.LogNormal("kappa", KAPPA_LOG_MEDIAN, KAPPA_LOG_SD, dims="arm")
            alpha, beta = m * kappa, (1 - m) * kappa
            pm.BetaBinomial(
                "y", n=n, alpha=alpha[:, None], beta=beta[:, None], observed=y, dims=dims
            )
        else:
            p = pm.Beta("p", a0[:, None], b0[:, None], dims=dims)
            pm.Binomial("y", n=n, p=p, observed=y, dims=dims)
    return model


def generated_quantities(tree: xr.DataTree, seed: int) -> None:
    """Add the rates ``p`` to a pooled fit's ``posterior`` and ``prior`` groups, in place.

    Each draw of ``p[a, h]`` is an exact draw from ``Beta(m * kappa + y, (1 − m) * kappa + n − y)``
    given that draw's ``m`` and ``kappa``, with ``y`` the observed counts for the posterior and the
    draw's own simulated counts (``prior_predictive``) for the prior, so ``p`` and ``y`` keep their
    joint distribution in both groups. Groups that already hold ``p`` are left alone.
    """
    rng = np.random.default_rng(seed)
    n = tree["constant_data"]["n_analysed"]
    sources = {"posterior": "observed_data", "prior": "prior_predictive"}
    for group, source in sources.items():
        if group not in tree.children or source not in tree.children or "p" in tree[group]:
            continue
        draws = tree[group].to_dataset()
        y = tree[source]["y"]
        alpha = draws["m"] * draws["kappa"] + y
        beta = (1 - draws["m"]) * draws["kappa"] + n - y
        alpha, beta = xr.broadcast(alpha, beta)
        dims = ("chain", "draw", "arm", "horizon")
        alpha, beta = alpha.transpose(*dims), beta.transpose(*dims)
        p = xr.DataArray(
            rng.beta(alpha.to_numpy(), beta.to_numpy()), coords=alpha.coords, dims=dims
        )
        tree[group] = draws.assign(p=p)
