"""Missing outcomes: complete case, missing at random, best/worst case, and pattern mixture.

At each horizon, m_a = n_randomised − n_analysed participants of arm a have no outcome. With the
beta-binomial model (Beta(a0, b0) prior on each arm's rate, the ``[missing_data] prior``), the
observed data give the posterior Beta(α, β) = Beta(a0 + y, b0 + n − y). Four analyses:

(a) **Complete case**: Beta(α, β), the default analysis of every other section.
(b) **Missing at random (ignorable)**: the missing outcomes are imputed from the posterior
    predictive and the rate is re-estimated from the completed data (Bayesian data augmentation,
    in principle). With arm as the only predictor this reproduces the complete-case posterior
    exactly (a mixture of Beta(α + k, β + m − k) over the beta-binomial predictive of k is
    Beta(α, β)), so the MAR row *is* the complete-case row (``"equals": "complete_case"``),
    exact, with no simulated value; the pattern-mixture grid at δ = 0 is set to it too. When a
    covariate-adjusted individual-data model (``adjusted_logistic``) was fitted, its marginal
    result, averaged over every randomised participant,
    is the MAR analysis given the covariates and is listed too.
(c) **Best and worst case** for the treatment: every missing treatment participant employed and
    every missing control participant not (best), and the reverse (worst).
(d) **Pattern mixture**: missing participants' log-odds of employment differ from the observed
    ones' by δ_a (arm a): q_a = logit⁻¹(logit p_a + δ_a). The k_a employed among the m_a missing
    then follow Binomial(m_a, q_a) given p_a, and the rate is re-estimated from the completed data,
    Beta(α + k, β + m − k). P(benefit) is computed **exactly** by enumerating the completions:

        P(δ_T, δ_C) = Σ_{k_T, k_C} w_T(k_T; δ_T) w_C(k_C; δ_C) M[k_T, k_C],

    with weights w_a(k; δ) = E[Binomial(k; m_a, q_a)] over p_a ~ Beta(α, β) and
    M[k_T, k_C] = P(Beta(α_T + k_T, β_T + m_T − k_T) > Beta(α_C + k_C, β_C + m_C − k_C)), both
    one-dimensional integrals evaluated by Gauss–Legendre quadrature on the posterior's quantile
    scale (512 nodes; accurate to about 1e-7 against adaptive quadrature). δ = 0 is analysis (b);
    δ → −∞ / +∞ in both arms are the bounds (c), and since M increases in k_T and decreases in
    k_C every pattern-mixture result lies between them. When (m_T + 1)(m_C + 1) exceeds
    :data:`EXACT_MAX_PAIRS` the same quantities are estimated by Monte Carlo with common random
    numbers (the method is recorded).

The **tipping points** are the δ at which P(benefit) falls below each threshold (0.9 and 0.8 by
default), varying the treatment arm's δ (control δ = 0), the control arm's (treatment δ = 0), or
both in opposite directions (δ_T = −δ, δ_C = +δ), found by root finding on the exact function
within |δ| ≤ :data:`SEARCH_LIMIT` (an odds ratio of e¹² is practically "all" or "none").

All of the above is written for a higher-is-better outcome such as employment. When a lower rate
is better (``sign`` = −1, :class:`~bayes_ips.data.Comparison`), benefit is p_T < p_C, and δ keeps
its meaning (the log odds of *the outcome* of the missing versus the observed), so everything
unfavourable to the treatment turns round: the worst case gives every missing treatment
participant the outcome and no missing control participant, the best case the reverse, M
decreases in k_T and increases in k_C, and the tipping points are searched at δ_T > 0, δ_C < 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial

import arviz as az
import numpy as np
import xarray as xr
from scipy import optimize, special, stats

from bayes_ips.analyses.missing_data.options import SEARCH_LIMIT, MissingSettings
from bayes_ips.conjugate import MODEL as CONJUGATE
from bayes_ips.conjugate import prob_greater
from bayes_ips.context import Fitted, RunContext
from bayes_ips.errors import InputError
from bayes_ips.estimands import SAMPLE_DIMS
from bayes_ips.priors import BetaRate, get_prior

EXACT_MAX_PAIRS = 40401
GL_NODES = 512
ARMS = ("treatment", "control")


@dataclass(frozen=True)
class ArmData:
    """One arm at one horizon: observed posterior Beta(alpha, beta) and m missing outcomes."""

    alpha: float
    beta: float
    missing: int


@cache
def _nodes() -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights on (0, 1)."""
    u, w = special.roots_legendre(GL_NODES)
    return (u + 1) / 2, w / 2


@cache
def _logit_quantiles(alpha: float, beta: float) -> np.ndarray:
    """logit of the Beta(alpha, beta) quantiles at the quadrature nodes."""
    return special.logit(stats.beta.ppf(_nodes()[0], alpha, beta))


def completion_weights(arm: ArmData, deltas) -> np.ndarray:
    """w[δ, k]: probability that k of the m missing are employed under the δ shift.

    Parameters
    ----------
    arm : ArmData
    deltas : array_like
        Log odds ratios, missing versus observed participants.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(deltas), m + 1)``; rows sum to 1.
    """
    w = _nodes()[1]
    logit_p = _logit_quantiles(arm.alpha, arm.beta)
    q = special.expit(logit_p[None, :] + np.asarray(deltas, float)[:, None])
    k = np.arange(arm.missing + 1)
    pmf = stats.binom.pmf(k[None, None, :], arm.missing, q[:, :, None])
    weights = np.einsum("j,djk->dk", w, pmf)
    return weights / weights.sum(axis=1, keepdims=True)


def completed_benefit(t: ArmData, c: ArmData) -> np.ndarray:
    """M[k_T, k_C]: P(benefit) given k_T and k_C employed among the missing (exact)."""
    u, w = _nodes()
    kt = np.arange(t.missing + 1)[:, None]
    kc = np.arange(c.missing + 1)[None, :, None]
    xt = stats.beta.ppf(u[None, :], t.alpha + kt, t.beta + t.missing - kt)
    cdf = stats.beta.cdf(xt[:, None, :], c.alpha + kc, c.beta + c.missing - kc)
    return np.clip(np.einsum("j,abj->ab", w, cdf), 0.0, 1.0)


class PatternMixture:
    """P(benefit) under δ shifts for one horizon, exact (enumeration) or by Monte Carlo.

    Parameters
    ----------
    t, c : ArmData
        Treatment and control arm.
    draws : int
        Monte Carlo draws, used only when enumeration is too large.
    seed : int
    sign : int
        The outcome's direction, +1 when a higher rate is better, −1 when a lower one is
        (benefit is then p_T < p_C; module docstring).
    """

    def __init__(self, t: ArmData, c: ArmData, draws: int, seed: int, sign: int = 1):
        self.t, self.c, self.sign = t, c, sign
        self.exact = (t.missing + 1) * (c.missing + 1) <= EXACT_MAX_PAIRS
        if self.exact:
            higher = completed_benefit(t, c)
            # continuous rates: P(p_T < p_C) = 1 − P(p_T > p_C)
            self.m = higher if sign > 0 else 1.0 - higher
        else:
            rng = np.random.default_rng(seed)
            self.uniforms = {
                arm: rng.random((3, draws)) for arm in ARMS
            }  # p draw, completion count, completed-data rate

    @property
    def method(self) -> str:
        if self.exact:
            return f"exact enumeration of completions, Gauss–Legendre quadrature ({GL_NODES} nodes)"
        draws = self.uniforms["treatment"].shape[1]
        return (
            f"Monte Carlo with common random numbers ({draws} draws; MCSE at most "
            f"{0.5 / np.sqrt(draws):.4f})"
        )

    def _completed_draws(self, role: str, deltas) -> np.ndarray:
        arm = self.t if role == "treatment" else self.c
        u = self.uniforms[role]
        logit_p = special.logit(stats.beta.ppf(u[0], arm.alpha, arm.beta))
        q = special.expit(logit_p[:, None] + np.asarray(deltas, float)[None, :])
        k = np.clip(stats.binom.ppf(u[1][:, None], arm.missing, q), 0, arm.missing)
        return stats.beta.ppf(u[2][:, None], arm.alpha + k, arm.beta + arm.missing - k)

    def grid(self, deltas_t, deltas_c) -> np.ndarray:
        """P(benefit)[i, j] at δ_T = deltas_t[i], δ_C = deltas_c[j]."""
        if self.exact:
            wt = completion_weights(self.t, deltas_t)
            wc = completion_weights(self.c, deltas_c)
            out = np.clip(wt @ self.m @ wc.T, 0.0, 1.0)
            # δ = 0 in both arms is MAR, which equals the complete-case posterior exactly
            at_mar = np.outer(np.asarray(deltas_t, float) == 0, np.asarray(deltas_c, float) == 0)
            out[at_mar] = self.bounds()["complete"]
            return out
        xt = self._completed_draws("treatment", deltas_t)
        xc = self._completed_draws("control", deltas_c)
        ahead = np.greater if self.sign > 0 else np.less
        return np.array([ahead(xt[:, i : i + 1], xc).mean(axis=0) for i in range(xt.shape[1])])

    def along(self, deltas, direction: str) -> np.ndarray:
        """P(benefit) along ``direction`` (see :func:`shifts`) at each δ in ``deltas``."""
        d = np.asarray(deltas, float)
        if direction == "treatment":
            return self.grid(d, [0.0])[:, 0]
        if direction == "control":
            return self.grid([0.0], d)[0, :]
        return np.array([self.grid([x], [-x])[0, 0] for x in d])

    def bounds(self) -> dict[str, float]:
        """Exact P(benefit) with complete cases, and in the worst and best case for the
        treatment (:func:`case_completions`)."""
        t, c = self.t, self.c

        def benefit(at: tuple, ac: tuple) -> float:
            return prob_greater(*at, *ac) if self.sign > 0 else prob_greater(*ac, *at)

        def completed(arm: ArmData, k: int) -> tuple[float, float]:
            return arm.alpha + k, arm.beta + (arm.missing - k)

        return {
            "complete": benefit((t.alpha, t.beta), (c.alpha, c.beta)),
            **{
                name.split("_")[0]: benefit(completed(t, kt), completed(c, kc))
                for name, (kt, kc) in case_completions(t, c, self.sign).items()
            },
        }

    def tipping(self, threshold: float, direction: str) -> dict:
        """The δ at which P(benefit) falls below ``threshold`` along ``direction``.

        The search moves in the direction unfavourable to the treatment (δ_T < 0, δ_C > 0 when
        a higher rate is better, δ_T > 0, δ_C < 0 when a lower one is).
        """
        sign = (1.0 if direction == "control" else -1.0) * self.sign

        def f(x: float) -> float:
            return float(self.along([sign * x], direction)[0]) - threshold

        out = {"vary": direction, "threshold": threshold}
        if f(0.0) < 0:
            return {**out, "status": "below_at_mar", "delta": None}
        if f(SEARCH_LIMIT) >= 0:
            return {**out, "status": "not_reached", "delta": None}
        delta = sign * optimize.brentq(f, 0.0, SEARCH_LIMIT, xtol=1e-4)
        d_t, d_c = shifts(direction, delta)
        return {
            **out,
            "status": "reached",
            "delta": delta,
            "odds_ratio": float(np.exp(delta)),
            "missing_rate_treatment": _shifted_mean(self.t, d_t),
            "missing_rate_control": _shifted_mean(self.c, d_c),
        }


def case_completions(t: ArmData, c: ArmData, sign: int = 1) -> dict[str, tuple[int, int]]:
    """How many of the missing (treatment, control) have the outcome in the worst and the best
    case for the treatment: none of the treatment's and all of the control's is the worst case
    when a higher rate is better (``sign`` +1) and the best case when a lower one is."""
    low, high = (0, c.missing), (t.missing, 0)
    worst, best = (low, high) if sign > 0 else (high, low)
    return {"worst_case": worst, "best_case": best}


def shifts(direction: str, delta: float) -> tuple[float, float]:
    """(δ_T, δ_C) of a direction: ``treatment`` (δ, 0), ``control`` (0, δ), ``both`` (δ, −δ)."""
    return {"treatment": (delta, 0.0), "control": (0.0, delta), "both": (delta, -delta)}[direction]


def _shifted_mean(arm: ArmData, delta: float) -> float:
    """Employment rate of the missing participants at the observed posterior mean, shifted."""
    mean = arm.alpha / (arm.alpha + arm.beta)
    return float(special.expit(special.logit(mean) + delta))


def _arm(counts, arm_label, horizon, rate: BetaRate) -> tuple[ArmData, dict]:
    cell = counts.sel(arm=arm_label, horizon=horizon)
    y, n, r = (int(cell[v]) for v in ("employed", "n_analysed", "n_randomised"))
    data = ArmData(rate.a + y, rate.b + n - y, r - n)
    info = {"employed": y, "analysed": n, "randomised": r, "missing": r - n}
    return data, {**info, "posterior_mean": data.alpha / (data.alpha + data.beta)}


def _rd_summary(t_draws: np.ndarray, c_draws: np.ndarray, mass: float) -> dict:
    rd = t_draws - c_draws
    lo, med, hi = np.quantile(rd, [(1 - mass) / 2, 0.5, (1 + mass) / 2])
    return {"median": float(med), "lo": float(lo), "hi": float(hi)}


def _mc_benefit(t_draws: np.ndarray, c_draws: np.ndarray) -> tuple[float, float]:
    """Monte Carlo P(benefit) from independent draws, with its ArviZ MCSE."""
    ind = xr.DataArray((t_draws > c_draws).astype(float)[None, :], dims=SAMPLE_DIMS)
    mean = float(ind.mean())
    if mean in (0.0, 1.0):
        return mean, 0.0
    return mean, float(az.mcse(ind, sample_dims=list(SAMPLE_DIMS), method="mean"))


def _complete_case(
    fitted: Fitted, prior: str, horizon, bounds: dict, draws: tuple[np.ndarray, np.ndarray], mass
) -> dict:
    """The complete-case row: the results table's ``beta_binomial`` row under the same prior
    when that fit exists (``source`` "results", with its ``model`` and ``prior``: the same
    draws, so every section prints the same value), else the exact P(benefit) with the RD from
    this analysis's own draws (``source`` "own draws")."""
    table = fitted.table
    fit = table[
        (table["model"] == CONJUGATE)
        & (table["prior"] == prior)
        & (table["horizon_months"] == horizon)
    ]
    if len(fit):
        row = fit.iloc[0]
        return {
            "name": "complete_case",
            "p_benefit": float(row["p_benefit"]),
            "p_benefit_mcse": 0.0,
            "rd": {k: row["rd"][k] for k in ("median", "lo", "hi")},
            "source": "results",
            "model": CONJUGATE,
            "prior": prior,
        }
    return {
        "name": "complete_case",
        "p_benefit": bounds["complete"],
        "p_benefit_mcse": 0.0,
        "rd": _rd_summary(*draws, mass),
        "source": "own draws",
    }


def _scenarios(
    t: ArmData, c: ArmData, mixture: PatternMixture, rng, draws: int, mass: float, complete
):
    def beta_draws(arm: ArmData, k: int | None) -> np.ndarray:
        if k is None:
            return rng.beta(arm.alpha, arm.beta, draws)
        return rng.beta(arm.alpha + k, arm.beta + arm.missing - k, draws)

    bounds = mixture.bounds()
    rows = [complete(bounds, (beta_draws(t, None), beta_draws(c, None)))]
    # With arm as the only predictor, MAR is the complete-case posterior exactly (docstring (b)):
    # the exact value is shown, not a simulation of it.
    rows.append({**rows[0], "name": "mar", "equals": "complete_case"})
    for name, (kt, kc) in case_completions(t, c, mixture.sign).items():
        rows.append(
            {
                "name": name,
                "p_benefit": bounds[name.split("_")[0]],
                "p_benefit_mcse": 0.0,
                "rd": _rd_summary(beta_draws(t, kt), beta_draws(c, kc), mass),
            }
        )
    return rows


def _covariate_mar(fitted: Fitted, horizon) -> list[dict]:
    table = fitted.table
    rows = table[(table["model"] == "adjusted_logistic") & (table["horizon_months"] == horizon)]
    return [
        {
            "name": "mar_covariates",
            "prior": r["prior"],
            "p_benefit": r["p_benefit"],
            "p_benefit_mcse": r["p_benefit_mcse"],
            "rd": {k: r["rd"][k] for k in ("median", "lo", "hi")},
        }
        for r in rows.to_dict("records")
    ]


def analyse(ctx: RunContext, fitted: Fitted) -> dict | None:
    """The ``missing_data`` entry of summary.json.

    Returns None when the spec turns the analysis off.
    """
    settings: MissingSettings = ctx.options("missing_data", MissingSettings())
    if not settings.enabled:
        return None
    rate = get_prior(settings.prior, ctx.priors).rate
    if rate is None:
        raise InputError(
            ctx.spec.origin,
            "must name a prior with a rate component (Beta priors on each arm's rate)",
            field="missing_data.prior",
            value=settings.prior,
        )
    comparison = ctx.spec.comparison
    counts = ctx.counts
    deltas = settings.deltas
    draws = ctx.spec.exact_draws
    seed = int(np.random.SeedSequence([ctx.spec.seed, 7]).generate_state(1)[0])
    rng = np.random.default_rng(seed)
    horizons = []
    for h in counts["horizon"].to_numpy().tolist():
        t, t_info = _arm(counts, comparison.treatment, h, rate)
        c, c_info = _arm(counts, comparison.control, h, rate)
        verified = bool(counts["verified"].sel(horizon=h).all())
        entry = {
            "horizon_months": h,
            "verified_data": verified,
            "arms": {comparison.treatment: t_info, comparison.control: c_info},
        }
        mixture = PatternMixture(t, c, draws, seed, comparison.sign)
        entry["method"] = mixture.method
        mass = ctx.spec.estimands.interval
        complete = partial(_complete_case, fitted, settings.prior, h, mass=mass)
        entry["scenarios"] = _scenarios(t, c, mixture, rng, draws, mass, complete) + _covariate_mar(
            fitted, h
        )
        if t.missing + c.missing == 0:
            entry["tipping"] = []
            horizons.append(entry)
            continue
        entry["tipping"] = [
            mixture.tipping(th, direction)
            for th in settings.thresholds
            for direction in ("treatment", "control", "both")
        ]
        entry["curves"] = {
            direction: mixture.along(deltas, direction).tolist()
            for direction in ("treatment", "control", "both")
        }
        if h == ctx.primary_horizon:
            entry["grid"] = mixture.grid(deltas, deltas).tolist()
        horizons.append(entry)
    return {
        "prior": settings.prior,
        "prior_description": rate.describe(),
        "deltas": deltas.tolist(),
        "thresholds": list(settings.thresholds),
        "primary_horizon": ctx.primary_horizon,
        "search_limit": SEARCH_LIMIT,
        "draws": draws,
        "seed": seed,
        "horizons": horizons,
    }
