"""From posterior draws of the employment rate p[arm, horizon] to the estimands users report.

Every model (exact or MCMC) ends in draws of ``p`` with sample dims ``(chain, draw)`` and dims
``arm`` (labels from the data) and ``horizon`` (months). This module turns them into the risk
difference (RD), risk ratio (RR), odds ratio (OR) and number needed to treat (NNT) of treatment
versus control, with medians, equal-tailed intervals, threshold probabilities, a region of
practical equivalence (ROPE) probability, and ArviZ Monte Carlo standard errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayes_ips.data import Comparison

SAMPLE_DIMS = ("chain", "draw")
RD_THRESHOLDS = (0.0, 0.05, 0.10, 0.15, 0.20)
RR_THRESHOLDS = (1.0, 1.1, 1.25, 1.5, 2.0)


@dataclass(frozen=True)
class EstimandSettings:
    """What to report: interval mass, thresholds, the ROPE half-width on the RD scale and,
    when set, a baseline risk at which to state the absolute risk reduction of the posterior RR
    (:func:`arr_at_baseline`)."""

    interval: float = 0.95
    rd_thresholds: tuple[float, ...] = RD_THRESHOLDS
    rr_thresholds: tuple[float, ...] = RR_THRESHOLDS
    rope: float = 0.05
    baseline_risk: float | None = None


def effects(p: xr.DataArray, comparison: Comparison) -> xr.Dataset:
    """RD, RR, OR and NNT draws of treatment versus control.

    Parameters
    ----------
    p : xarray.DataArray
        Employment-rate draws with dims ``(chain, draw, arm, horizon)``.
    comparison : Comparison
        Arm labels of the treatment and control.

    Returns
    -------
    xarray.Dataset
        Variables ``rd``, ``rr``, ``or``, ``nnt`` with dims ``(chain, draw, horizon)``; ``nnt`` is
        ``1 / rd`` (positive: patients treated per extra person employed; negative: per person
        fewer employed).
    """
    pt = p.sel(arm=comparison.treatment, drop=True)
    pc = p.sel(arm=comparison.control, drop=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        rd = pt - pc
        return xr.Dataset(
            {
                "rd": rd,
                "rr": pt / pc,
                "or": (pt / (1 - pt)) / (pc / (1 - pc)),
                "nnt": 1 / rd,
            }
        )


def key(threshold: float) -> str:
    """The summary.json key of a threshold: two decimals (``"0.05"``, ``"1.25"``), or as many
    significant digits as it needs, up to six, when two decimals would change it
    (``"0.011"``)."""
    two = f"{threshold:.2f}"
    return two if float(two) == threshold else f"{threshold:.6g}"


RATIO_SPAN_MAX = 1e6
"""A ratio interval wider than this factor (hi / lo) is reported as not estimable."""
RATE_EDGE = 1e-3
"""A rate whose interval end lies within this of 0 or 1 is "≈ 0" or "≈ 1" in the reason."""
NOISE_MCSE = 2.0
"""P(benefit) within this many Monte Carlo SEs of 1/2: the RD median's sign is noise, no NNT."""
EXACT_TOL = 1e-9
"""An exact probability within this of 1/2 is 1/2 (rounding error of the closed form)."""


def quantiles(values: np.ndarray, qs) -> np.ndarray:
    """Quantiles of draws that may be ±∞ (numpy's linear method on the sorted draws).

    Infinite draws are ordinary draws here (design rule 5): a quantile that falls among them is
    infinite, and one between a finite and an infinite draw is the finite draw when it falls on it
    exactly. Finite draws further apart than the float range (beyond ±1.8e308) interpolate to an
    infinite value. Call only with no NaN draws.
    """
    x = np.sort(np.ravel(values))
    h = (x.size - 1) * np.asarray(qs, dtype=float)
    i = np.floor(h).astype(int)
    j = np.minimum(i + 1, x.size - 1)
    frac = h - i  # in [0, 1): exact, as floor(h) is within a factor 2 of h or 0
    a, b = x[i], x[j]
    with np.errstate(over="ignore", invalid="ignore"):
        out = a + (b - a) * frac
    return np.where((a == b) | (frac == 0), a, out)


OVERFLOW_REASONS = {
    "median": "overflow: the draws on either side are too far apart to interpolate",
    "lo": "overflow: the draws on either side are too far apart to interpolate",
    "hi": "overflow: the draws on either side are too far apart to interpolate",
    "mean": "overflow: the draws' sum exceeds the float range",
    "sd": "overflow: the draws are too large to square",
}
"""Why a summary of finite draws is null (summary.json ``null_reasons``)."""


def _interval(x: xr.DataArray, mass: float) -> dict:
    """``median``, ``lo``, ``hi``, ``mean``, ``sd`` of draws, every draw kept.

    Draws of ±∞ (a ratio whose denominator rate is exactly 0) are counted in the quantiles; a
    non-finite value is stored as ``None`` in summary.json with its reason in ``null_reasons``,
    and ``infinite_draws`` counts them. NaN draws (0/0: both rates exactly 0, or both 1) have no
    order: then the interval is undefined and says so.
    """
    flat = x.stack(sample=SAMPLE_DIMS).to_numpy().astype(float)
    qs = [(1 - mass) / 2, 0.5, (1 + mass) / 2]
    n_nan = int(np.isnan(flat).sum())
    if n_nan:
        reason = f"undefined: {n_nan} of {flat.size} draws are 0/0 (both rates exactly 0 or 1)"
        keys = ("median", "lo", "hi", "mean", "sd")
        return {
            **dict.fromkeys(keys),
            "infinite_draws": int(np.isinf(flat).sum()),
            "undefined_draws": n_nan,
            "null_reasons": dict.fromkeys(keys, reason),
        }
    lo, med, hi = (float(v) for v in quantiles(flat, qs))
    out = {"median": med, "lo": lo, "hi": hi}
    n_inf = int(np.isinf(flat).sum())
    if n_inf:
        out["infinite_draws"] = n_inf
        reasons = {}
        for k in ("median", "lo", "hi"):
            if not math.isfinite(out[k]):
                sign = "+" if out[k] > 0 else "-"
                reasons[k] = f"unbounded ({sign}∞): {n_inf} of {flat.size} draws are infinite"
                out[k] = None
        reasons["mean"] = reasons["sd"] = f"undefined: {n_inf} of {flat.size} draws are infinite"
        out.update(mean=None, sd=None, null_reasons=reasons)
        return out
    with np.errstate(over="ignore", invalid="ignore"):
        mean, sd = float(np.mean(flat)), float(np.std(flat))
    out.update(mean=mean, sd=sd)
    # finite draws whose gaps, sum or squares exceed the float range
    reasons = {}
    for key, reason in OVERFLOW_REASONS.items():
        if not math.isfinite(out[key]):
            out[key] = None
            reasons[key] = reason
    if reasons:
        out["null_reasons"] = reasons
    return out


def _ratio_estimability(
    summary: dict, name: str, rates: dict[str, dict], comparison: Comparison
) -> dict:
    """Add ``estimable`` (bool) and, when not, ``not_estimable_reason`` to a ratio summary.

    A ratio is not estimable when its interval is undefined, reaches 0 or ∞, or spans more than
    :data:`RATIO_SPAN_MAX`: the rates it divides by can be arbitrarily close to 0 (or to 1 for the
    odds). The reason names the rates at an edge.
    """
    lo, hi = summary.get("lo"), summary.get("hi")
    ok = lo is not None and hi is not None and lo > 0 and hi / lo <= RATIO_SPAN_MAX
    summary["estimable"] = bool(ok)
    if ok:
        return summary
    edges = []
    arms = (("control", comparison.control), ("treatment", comparison.treatment))
    for role, arm in arms:
        r = rates[str(arm)]
        if r["lo"] is not None and r["lo"] < RATE_EDGE:
            edges.append(f"{role} rate ≈ 0")
        if name == "or" and r["hi"] is not None and r["hi"] > 1 - RATE_EDGE:
            edges.append(f"{role} rate ≈ 1")
    summary["not_estimable_reason"] = (
        ", ".join(edges)
        if edges
        else f"interval spans more than {RATIO_SPAN_MAX:.0e}-fold".replace("e+0", "e")
    )
    return summary


def prob_mcse(indicator: xr.DataArray) -> tuple[float, float]:
    """Probability (mean of an indicator) and its ArviZ MCSE."""
    ind = indicator.astype(float)
    mean = float(ind.mean())
    if mean in (0.0, 1.0):
        return mean, 0.0
    return mean, float(az.mcse(ind, sample_dims=list(SAMPLE_DIMS), method="mean"))


def side_of_half(p: float, mcse: float = 0.0) -> int:
    """On which side of 1/2 a probability lies: +1 above, -1 below, 0 when not established.

    0 when ``p`` is within :data:`NOISE_MCSE` Monte Carlo SEs of 1/2, or within
    :data:`EXACT_TOL` of it (an exact value, MCSE 0). The NNT direction and the report's
    "above / below 50%" wording both read P(benefit) through this rule.
    """
    if abs(p - 0.5) <= max(NOISE_MCSE * mcse, EXACT_TOL):
        return 0
    return 1 if p > 0.5 else -1


def nnt(rd: dict, p_benefit: float, p_benefit_mcse: float = 0.0) -> dict:
    """NNT from the RD summary, by Altman's convention (BMJ 1998; 317: 1309-12).

    The point is the NNTB (RD median > 0) or the NNTH (RD median < 0), or none (``direction``
    ``"none"``, NNT ∞) when the sign of the RD median is not established: the median is above 0
    exactly when P(RD > 0) > 1/2, so the direction is read from ``p_benefit`` (exact where the
    model has it) and is "none" when its side of 1/2 is not established (:func:`side_of_half`).
    When the RD interval spans 0 the NNT interval passes through
    ∞: from NNTH ``1/|RD lo|`` to ∞ to NNTB ``1/RD hi``.

    Keys (summary.json): ``median``, ``lo``, ``hi`` are the benefit side as before (``median`` the
    NNTB point, now None also when the direction is "none"; ``lo`` = 1/RD hi when RD hi > 0;
    ``hi`` = 1/RD lo when RD lo > 0, else None: unbounded). Added: ``direction``, ``point`` (NNTB
    or NNTH), ``nntb_bound`` (1/RD hi, None when RD hi <= 0), ``nnth_bound`` (1/|RD lo|, None when
    RD lo >= 0), ``nnth_far`` (1/|RD hi| when RD hi < 0) and ``through_infinity``.
    """
    med, lo, hi = rd["median"], rd["lo"], rd["hi"]
    noise = side_of_half(p_benefit, p_benefit_mcse) == 0
    # the draws' median disagreeing in sign with P(benefit) is Monte Carlo noise too
    noise = noise or med == 0 or (med > 0) != (p_benefit > 0.5)
    direction = "none" if noise else ("benefit" if med > 0 else "harm")
    return {
        "median": 1 / med if direction == "benefit" else None,
        "lo": 1 / hi if hi > 0 else None,
        "hi": 1 / lo if lo > 0 else None,
        "direction": direction,
        "point": None if direction == "none" else 1 / abs(med),
        "nntb_bound": 1 / hi if hi > 0 else None,
        "nnth_bound": 1 / abs(lo) if lo < 0 else None,
        "nnth_far": 1 / abs(hi) if hi < 0 else None,
        "through_infinity": bool(lo <= 0 <= hi),
    }


def arr_at_baseline(rr: xr.DataArray, baseline: float, mass: float) -> dict:
    """The absolute risk reduction ``ARR = baseline × (1 − RR)`` at a stated baseline (control)
    risk, from the posterior draws of the RR: how many fewer events per person the trial's
    relative effect means in a population whose risk without treatment is ``baseline``
    (negative: more events). Summarised like the RD, with ``baseline`` in the dict."""
    with np.errstate(invalid="ignore"):
        return {"baseline": baseline, **_interval(baseline * (1 - rr), mass)}


def summarise(
    p: xr.DataArray,
    comparison: Comparison,
    settings: EstimandSettings = EstimandSettings(),
    p_rd_gt_0_exact: dict | None = None,
) -> pd.DataFrame:
    """Summaries per horizon, one row each.

    Benefit follows ``comparison.direction`` (:class:`~bayes_ips.data.Comparison`): P(benefit) =
    P(sign · RD > 0), and the thresholds are sizes of benefit: ``p_rd_gt[d]`` is P(sign · RD > d)
    and ``p_rr_gt[r]`` P(RR^sign > r), so for a lower-is-better outcome P(RD < −d) and
    P(RR < 1/r). The NNTB counts patients treated per participant who gains the outcome
    (``higher``) or is spared it (``lower``).

    P(benefit) = P(sign · RD > 0) = P(RR^sign > 1) is one event, so the ``0.00`` RD threshold and
    the ``1.00`` RR threshold carry P(benefit) and its MCSE: the closed-form value (MCSE 0) at the
    horizons of ``p_rd_gt_0_exact`` (an exact model's P(RD > 0) by horizon, turned into
    P(benefit) here), else the draws'.

    Returns
    -------
    pandas.DataFrame
        Columns ``horizon_months, p_benefit, p_benefit_mcse, rd, rr, or, nnt, p_rd_gt,
        p_rd_gt_mcse, p_rr_gt, p_rr_gt_mcse, p_rope, p_rope_mcse, p_rate`` where the interval
        columns hold dicts ``{median, lo, hi, mean, sd}`` and the threshold columns dicts keyed
        by :func:`key`; every probability has its ArviZ MCSE.
        ``p_rate`` holds each arm's rate summary; with a ``baseline_risk`` in ``settings``,
        ``arr_at_baseline`` (:func:`arr_at_baseline`) follows ``rd``.
    """
    eff = effects(p, comparison)
    rows = []
    for h in eff["horizon"].to_numpy().tolist():
        e = eff.sel(horizon=h)
        rd = _interval(e["rd"], settings.interval)
        rates = {
            str(arm): _interval(p.sel(arm=arm, horizon=h), settings.interval)
            for arm in (comparison.treatment, comparison.control)
        }
        sign = comparison.sign
        gain = sign * e["rd"]
        if p_rd_gt_0_exact is None:
            benefit = prob_mcse(gain > 0)
        else:
            # a continuous posterior: P(RD < 0) = 1 − P(RD > 0)
            p0 = float(p_rd_gt_0_exact[h])
            benefit = (p0 if sign > 0 else 1.0 - p0, 0.0)
        p_benefit, p_benefit_mcse = benefit
        p_rd = {key(d): benefit if d == 0 else prob_mcse(gain > d) for d in settings.rd_thresholds}
        with np.errstate(divide="ignore"):
            ratio = e["rr"] ** sign
        p_rr = {key(r): benefit if r == 1 else prob_mcse(ratio > r) for r in settings.rr_thresholds}
        p_rope = prob_mcse(abs(e["rd"]) < settings.rope)
        baseline = settings.baseline_risk
        arr = (
            {}
            if baseline is None
            else {"arr_at_baseline": arr_at_baseline(e["rr"], baseline, settings.interval)}
        )
        rows.append(
            {
                "horizon_months": h,
                "p_benefit": p_benefit,
                "p_benefit_mcse": p_benefit_mcse,
                "rd": rd,
                **arr,
                "rr": _ratio_estimability(
                    _interval(e["rr"], settings.interval), "rr", rates, comparison
                ),
                "or": _ratio_estimability(
                    _interval(e["or"], settings.interval), "or", rates, comparison
                ),
                "nnt": nnt(
                    rd if sign > 0 else {"median": -rd["median"], "lo": -rd["hi"], "hi": -rd["lo"]},
                    p_benefit,
                    p_benefit_mcse,
                ),
                "p_rd_gt": {k: v[0] for k, v in p_rd.items()},
                "p_rd_gt_mcse": {k: v[1] for k, v in p_rd.items()},
                "p_rr_gt": {k: v[0] for k, v in p_rr.items()},
                "p_rr_gt_mcse": {k: v[1] for k, v in p_rr.items()},
                "p_rope": p_rope[0],
                "p_rope_mcse": p_rope[1],
                "p_rate": rates,
            }
        )
    return pd.DataFrame(rows)
