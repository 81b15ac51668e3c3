"""Hierarchical beta-binomial model: each arm's interval hazards are partially pooled.

"Employed by 6 / 12 / 24 months" are cumulative counts of one cohort, so the model is written on
the intervals between horizons, (0, h₁], (h₁, h₂], …, where each participant counts once: in the
interval of their first employment, or as not employed by the last horizon
(:func:`bayes_ips.data.intervals.risk_sets`). Interval k lasts Δt[k] months and
``r[k] = Δt[k] / Δt[1]`` is its length in units of the first interval. For arm a and interval k::

    events[a, k]  ~ Binomial(at_risk[a, k], h[a, k])
    h[a, k]       ~ Beta(q[a, k] * kappa[a], (1 − q[a, k]) * kappa[a])   interval hazard
    q[a, k]       = 1 − (1 − m[a]) ^ r[k]         its prior mean, for the interval's length
    m[a]          ~ Beta(a0[a], b0[a])            typical hazard over Δt[1] months: the named prior
    kappa[a]      ~ LogNormal(log 10, 1)          prior sample size of the pooling
    p[a, k]       = 1 − (1 − h[a, 1]) * … * (1 − h[a, k])   cumulative rate by horizon k

``h[a, k]`` is the hazard of a first employment in interval k among the arm's participants not
yet employed at its start. The named prior's rate component Beta(a0, b0) is the prior of ``m``,
the arm's *typical interval hazard*: the share of those at risk who find work over an interval as
long as the first one (h₁ months), which for the first interval is its cumulative employment.
It is not the prior of cumulative employment at later horizons. ``kappa`` is how tightly the
intervals' hazards cluster around their means (median 10, 95% between 1.4 and 71): the weakly
informative mean / log-concentration alternative to BDA3's improper p(α, β) ∝ (α + β)^(−5/2).
Every estimand uses ``p``; since each factor ``1 − h`` lies in [0, 1], every draw's cumulative
employment is non-decreasing across horizons.

Assumptions. (1) The same analysed cohort is followed to every horizon, so that
``at_risk = n − employed before`` and ``events = difference of cumulative counts``; the product
of interval binomials is then exactly the likelihood of the cumulative counts, each participant
counted once. Counts that fall, or an ``n_analysed`` that changes, are an input error; individual
participant data give exact risk sets instead (censoring inside an interval). (2) Within an arm
the interval hazards are exchangeable once their length is allowed for: intervals may differ in
length, and each hazard is centred on what one constant rate, ``m`` per Δt[1] months, gives over
that interval's length (so a one-month interval is expected to see few first employments and an
empty one says little); beyond that, nothing in the prior says which interval has the higher
hazard. Intervals of equal length are exchangeable.

Computation. NUTS samples ``m`` and ``kappa`` only, under the likelihood with each hazard
integrated out (each interval's events are beta-binomial given ``m`` and ``kappa``): the joint
posterior of ``m``, ``kappa`` and the hazards has a funnel where ``kappa`` is large, which NUTS
explores badly, while the marginal posterior is smooth. After sampling, each hazard is drawn
exactly from its conditional posterior, Beta(q[a, k]·kappa + events, (1 − q[a, k])·kappa +
at_risk − events), once per draw, and ``p`` follows (:func:`generated_quantities`); in the
``prior`` group the draw's own simulated events take the place of the observed ones, so ``p``
there is drawn from its prior. The log-likelihood for PSIS-LOO is the beta-binomial one per arm
and interval, and a replicated count comes from a fresh draw of the interval's hazard from the
arm's hierarchy (a mixed-predictive check, Marshall & Spiegelhalter 2007), given the observed
risk set.

With one horizon there is nothing to pool: ``kappa`` is left out and
``p[a] ~ Beta(a0[a], b0[a])`` with ``y[a] ~ Binomial(n[a], p[a])``, the exact ``beta_binomial``
model, sampled by NUTS (the check of the sampler against the closed form). The prior's
``a0, b0`` enter as data (``pm.Data``).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import xarray as xr

from bayes_ips.data.intervals import risk_sets
from bayes_ips.priors import BetaRate, Prior

NAME = "hierarchical_beta_binomial"
KAPPA_LOG_MEDIAN = float(np.log(10.0))
KAPPA_LOG_SD = 1.0
KEY_PARAMETERS = ("m", "kappa", "p")
SHAPE_FLOOR = 1e-300
"""The smallest interval hazard (and 1 − hazard) in the beta-binomial shapes."""


def prior_data(prior: Prior) -> dict[str, np.ndarray]:
    """Values of the model's prior ``pm.Data`` containers for a named prior (dim ``arm``,
    treatment first)."""
    rate = prior.require("rate", NAME)
    assert isinstance(rate, BetaRate)
    (ta, tb), (ca, cb) = rate.treatment, rate.control
    return {"prior_rate_a": np.array([ta, ca]), "prior_rate_b": np.array([tb, cb])}


def build_model(counts: xr.Dataset, prior: Prior) -> pm.Model:
    """The PyMC model for counts with dims ``(arm, horizon)``, arm 0 the treatment.

    With two or more horizons its posterior draws need :func:`generated_quantities` to gain
    ``p``, and its observations are the interval events (dims ``arm, interval``); with one they
    are the counts themselves (dims ``arm, horizon``).

    Raises
    ------
    InputError
        When aggregate counts break the same-cohort assumption.
    """
    values = prior_data(prior)
    horizons = counts["horizon"].to_numpy().tolist()
    coords = {"arm": counts["arm"].to_numpy().tolist(), "horizon": horizons}
    with pm.Model(coords=coords) as model:
        a0 = pm.Data("prior_rate_a", values["prior_rate_a"], dims="arm")
        b0 = pm.Data("prior_rate_b", values["prior_rate_b"], dims="arm")
        if len(horizons) == 1:
            dims = ("arm", "horizon")
            n = pm.Data("n_analysed", counts["n_analysed"].to_numpy(), dims=dims)
            p = pm.Beta("p", a0[:, None], b0[:, None], dims=dims)
            pm.Binomial("y", n=n, p=p, observed=counts["employed"].to_numpy(), dims=dims)
        else:
            rs = risk_sets(counts)
            dims = ("arm", "interval")
            model.add_coord("interval", rs["interval"].to_numpy().tolist())
            n = pm.Data("at_risk", rs["at_risk"].to_numpy(), dims=dims)
            pm.Data("horizon_months", np.asarray(horizons, dtype=float), dims="horizon")
            m = pm.Beta("m", a0, b0, dims="arm")
            kappa = pm.LogNormal("kappa", KAPPA_LOG_MEDIAN, KAPPA_LOG_SD, dims="arm")
            length = np.diff(np.asarray([0.0, *horizons], dtype=float))
            r = pm.Data("length_ratio", length / length[0], dims="interval")
            log_stay = r[None, :] * pm.math.log1p(-m[:, None])
            # q and 1 − q, floored at SHAPE_FLOOR: under a Beta prior with shapes near 0 (0.01) a
            # draw of m can be exactly 0 or 1 in floating point, and a beta-binomial shape of
            # exactly 0 is outside its domain (issue 18)
            q = pm.math.maximum(-pm.math.expm1(log_stay), SHAPE_FLOOR)
            stay = pm.math.maximum(pm.math.exp(log_stay), SHAPE_FLOOR)
            pm.BetaBinomial(
                "y",
                n=n,
                alpha=q * kappa[:, None],
                beta=stay * kappa[:, None],
                observed=rs["events"].to_numpy(),
                dims=dims,
            )
    return model


def generated_quantities(tree: xr.DataTree, seed: int) -> None:
    """Add the hazards ``hazard`` and cumulative rates ``p`` to a pooled fit's ``posterior`` and
    ``prior`` groups, in place.

    Each draw of ``hazard[a, k]`` is an exact draw from
    ``Beta(q[a, k] * kappa + events, (1 − q[a, k]) * kappa + at_risk − events)``, with
    ``q[a, k] = 1 − (1 − m[a]) ^ r[k]``, given that draw's ``m`` and ``kappa``; ``events`` are
    the observed interval events for the posterior and the draw's own simulated events
    (``prior_predictive``) for the prior, so hazards and events keep their joint distribution in
    both groups; ``p = 1 − cumprod(1 − hazard)`` over the intervals, labelled by
    the horizon that ends each. Groups that already hold ``p`` (one horizon) are left alone.
    """
    rng = np.random.default_rng(seed)
    sources = {"posterior": "observed_data", "prior": "prior_predictive"}
    for group, source in sources.items():
        if group not in tree.children or source not in tree.children or "p" in tree[group]:
            continue
        draws = tree[group].to_dataset()
        events = tree[source]["y"]
        at_risk = tree["constant_data"]["at_risk"]
        horizon = tree["constant_data"]["horizon"].to_numpy()
        with np.errstate(divide="ignore"):  # m of exactly 1 in floating point
            log_stay = tree["constant_data"]["length_ratio"] * np.log1p(-draws["m"])
        # q and 1 − q floored as in the model (SHAPE_FLOOR): a Beta shape of exactly 0 is invalid
        q = np.maximum(-np.expm1(log_stay), SHAPE_FLOOR)
        stay = np.maximum(np.exp(log_stay), SHAPE_FLOOR)
        alpha = np.fmax(q * draws["kappa"] + events, SHAPE_FLOOR)
        beta = np.fmax(stay * draws["kappa"] + at_risk - events, SHAPE_FLOOR)
        alpha, beta = xr.broadcast(alpha, beta)
        dims = ("chain", "draw", "arm", "interval")
        alpha, beta = alpha.transpose(*dims), beta.transpose(*dims)
        hazard = rng.beta(alpha.to_numpy(), beta.to_numpy())
        with np.errstate(divide="ignore"):  # a hazard of exactly 1: p = 1 from there on
            p = -np.expm1(np.cumsum(np.log1p(-hazard), axis=-1))
        tree[group] = draws.assign(
            hazard=xr.DataArray(hazard, coords=alpha.coords, dims=dims),
            p=xr.DataArray(
                p,
                coords={**alpha.drop_vars("interval").coords, "horizon": horizon},
                dims=(*dims[:3], "horizon"),
            ),
        )
