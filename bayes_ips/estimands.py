"""From posterior draws of the employment rate p[arm, horizon] to the estimands users report.

Every model (exact or MCMC) ends in draws of ``p`` with sample dims ``(chain, draw)`` and dims
``arm`` (labels from the data) and ``horizon`` (months). This module turns them into the risk
difference (RD), risk ratio (RR), odds ratio (OR) and number needed to treat (NNT) of treatment
versus control, with medians, equal-tailed intervals, threshold probabilities, a region of
practical equivalence (ROPE) probability, and ArviZ Monte Carlo standard errors.
"""

from __future__ import annotations

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
    """What to report: interval mass, thresholds and the ROPE half-width on the RD scale."""

    interval: float = 0.95
    rd_thresholds: tuple[float, ...] = RD_THRESHOLDS
    rr_thresholds: tuple[float, ...] = RR_THRESHOLDS
    rope: float = 0.05


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
    """The summary.json key of a threshold: two decimals (``"0.05"``, ``"1.25"``)."""
    return f"{threshold:.2f}"


def _interval(x: xr.DataArray, mass: float) -> dict[str, float]:
    flat = x.stack(sample=SAMPLE_DIMS).to_numpy()
    finite = flat[np.isfinite(flat)] if not np.isfinite(flat).all() else flat
    lo, med, hi = np.quantile(finite, [(1 - mass) / 2, 0.5, (1 + mass) / 2])
    return {
        "median": float(med),
        "lo": float(lo),
        "hi": float(hi),
        "mean": float(np.mean(finite)),
        "sd": float(np.std(finite)),
    }


def prob_mcse(indicator: xr.DataArray) -> tuple[float, float]:
    """Probability (mean of an indicator) and its ArviZ MCSE."""
    ind = indicator.astype(float)
    mean = float(ind.mean())
    if mean in (0.0, 1.0):
        return mean, 0.0
    return mean, float(az.mcse(ind, sample_dims=list(SAMPLE_DIMS), method="mean"))


def _nnt(rd: dict[str, float]) -> dict[str, float | None]:
    """NNT from the RD summary (Altman 1998): finite bounds only where the RD interval excludes 0.

    ``lo`` and ``hi`` are the NNT (benefit) bounds from the RD interval's upper and lower ends; an
    end is ``None`` (unbounded) when the RD interval includes 0.
    """
    med = rd["median"]
    return {
        "median": 1 / med if med > 0 else None,
        "lo": 1 / rd["hi"] if rd["hi"] > 0 else None,
        "hi": 1 / rd["lo"] if rd["lo"] > 0 else None,
    }


def summarise(
    p: xr.DataArray,
    comparison: Comparison,
    settings: EstimandSettings = EstimandSettings(),
) -> pd.DataFrame:
    """Summaries per horizon, one row each.

    Returns
    -------
    pandas.DataFrame
        Columns ``horizon_months, p_benefit, p_benefit_mcse, rd, rr, or, nnt, p_rd_gt,
        p_rd_gt_mcse, p_rr_gt, p_rr_gt_mcse, p_rope, p_rope_mcse, p_rate`` where the interval
        columns hold dicts ``{median, lo, hi, mean, sd}`` and the threshold columns dicts keyed
        by :func:`key`; every probability has its ArviZ MCSE.
        ``p_rate`` holds each arm's rate summary.
    """
    eff = effects(p, comparison)
    rows = []
    for h in eff["horizon"].to_numpy().tolist():
        e = eff.sel(horizon=h)
        rd = _interval(e["rd"], settings.interval)
        p_benefit, p_benefit_mcse = prob_mcse(e["rd"] > 0)
        p_rd, p_rd_mcse = {}, {}
        for d in settings.rd_thresholds:
            p_rd[key(d)], p_rd_mcse[key(d)] = prob_mcse(e["rd"] > d)
        p_rr = {key(r): prob_mcse(e["rr"] > r) for r in settings.rr_thresholds}
        p_rope = prob_mcse(abs(e["rd"]) < settings.rope)
        rows.append(
            {
                "horizon_months": h,
                "p_benefit": p_benefit,
                "p_benefit_mcse": p_benefit_mcse,
                "rd": rd,
                "rr": _interval(e["rr"], settings.interval),
                "or": _interval(e["or"], settings.interval),
                "nnt": _nnt(rd),
                "p_rd_gt": p_rd,
                "p_rd_gt_mcse": p_rd_mcse,
                "p_rr_gt": {k: v[0] for k, v in p_rr.items()},
                "p_rr_gt_mcse": {k: v[1] for k, v in p_rr.items()},
                "p_rope": p_rope[0],
                "p_rope_mcse": p_rope[1],
                "p_rate": {
                    str(arm): _interval(p.sel(arm=arm, horizon=h), settings.interval)
                    for arm in (comparison.treatment, comparison.control)
                },
            }
        )
    return pd.DataFrame(rows)
