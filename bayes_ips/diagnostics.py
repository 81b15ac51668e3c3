"""Convergence checks, posterior-predictive checks and model comparison of fitted DataTrees.

Pure functions of DataTrees; every statistic comes from ArviZ (``rhat`` rank-normalised split
R-hat, ``ess`` bulk and tail, ``bfmi`` E-BFMI, ``loo`` PSIS-LOO, ``compare``, ``loo_pit``).
Nothing here samples.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import xarray as xr

from bayes_ips.spec import Thresholds

PARETO_K_OK = 0.7
ADVICE = {
    "rhat": "chains disagree: run longer (more draws and tuning) or reparameterise",
    "ess": "too few effective draws: increase draws",
    "divergences": "divergent transitions bias the posterior: raise target_accept, or "
    "reparameterise the hierarchy",
    "ebfmi": "low E-BFMI: the sampler explores the energy poorly; reparameterise or use "
    "stronger priors on scale parameters",
    "treedepth": "tree depth saturated: raise max_treedepth or reparameterise",
}


def _max(ds: xr.DataTree | xr.Dataset) -> float:
    ds = ds.to_dataset() if isinstance(ds, xr.DataTree) else ds
    return float(max(np.nanmax(v.to_numpy()) for v in ds.data_vars.values()))


def _min(ds: xr.DataTree | xr.Dataset) -> float:
    ds = ds.to_dataset() if isinstance(ds, xr.DataTree) else ds
    return float(min(np.nanmin(v.to_numpy()) for v in ds.data_vars.values()))


def convergence(tree: xr.DataTree, thresholds: Thresholds) -> dict:
    """Convergence checks of one fit against the thresholds.

    Returns
    -------
    dict
        ``passed``, ``rhat_max``, ``ess_bulk_min``, ``ess_tail_min``, ``divergences``,
        ``ebfmi_min``, ``treedepth_saturated`` (fraction of draws), ``messages`` (what failed,
        with values) and ``advice`` (what to do).
    """
    stats = tree["sample_stats"]
    row = {
        "rhat_max": _max(az.rhat(tree)),
        "ess_bulk_min": _min(az.ess(tree, method="bulk")),
        "ess_tail_min": _min(az.ess(tree, method="tail")),
        "divergences": int(stats["diverging"].sum()),
        "ebfmi_min": _min(az.bfmi(tree)),
    }
    depth = next(
        (stats[k] for k in ("reached_max_treedepth", "maxdepth_reached") if k in stats), None
    )
    row["treedepth_saturated"] = 0.0 if depth is None else float(depth.mean())
    failed = []
    if not row["rhat_max"] <= thresholds.rhat_max:
        failed.append(("rhat", f"R-hat {row['rhat_max']:.3f} > {thresholds.rhat_max}"))
    if not min(row["ess_bulk_min"], row["ess_tail_min"]) >= thresholds.ess_min:
        failed.append(
            (
                "ess",
                f"ESS bulk {row['ess_bulk_min']:.0f} / tail "
                f"{row['ess_tail_min']:.0f} < {thresholds.ess_min:g}",
            )
        )
    if row["divergences"] > thresholds.divergences_max:
        failed.append(
            (
                "divergences",
                f"{row['divergences']} divergent transitions "
                f"(allowed {thresholds.divergences_max})",
            )
        )
    if not row["ebfmi_min"] >= thresholds.ebfmi_min:
        failed.append(("ebfmi", f"E-BFMI {row['ebfmi_min']:.2f} < {thresholds.ebfmi_min}"))
    if row["treedepth_saturated"] > 0.01:
        failed.append(
            (
                "treedepth",
                f"{100 * row['treedepth_saturated']:.1f}% of draws hit the maximum tree depth",
            )
        )
    row["passed"] = not failed
    row["messages"] = [m for _, m in failed]
    row["advice"] = list(dict.fromkeys(ADVICE[k] for k, _ in failed))
    return row


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    return result, [str(w.message) for w in caught]


def constant_observations(tree: xr.DataTree) -> np.ndarray:
    """Flat mask of the observations whose log-likelihood is the same in every draw (an empty
    risk set: nobody left to be newly employed)."""
    ll = tree["log_likelihood"]["y"]
    sample = ("chain", "draw")
    return (ll.max(sample) == ll.min(sample)).to_numpy().ravel()


def loo(tree: xr.DataTree, leave_out: np.ndarray | None = None):
    """PSIS-LOO of a fit with its Pareto-k values (warnings captured, not printed).

    An observation whose log-likelihood is the same in every draw is left out of the importance
    sampling, which cannot smooth a constant: its leave-one-out predictive is that constant
    exactly, added to ``elpd``. ``leave_out`` (a flat mask) leaves further observations out of
    the comparison altogether (:func:`compare`: those constant in another fit). The result's
    ``n_constant`` and ``n_left_out`` say how many were so treated.
    """
    constant = constant_observations(tree)
    dropped = constant if leave_out is None else constant | leave_out
    if not dropped.any():
        result, _ = _quiet(az.loo, tree, pointwise=True)
        result.n_constant = result.n_left_out = 0
        return result
    ll = tree["log_likelihood"]["y"]
    sample = ("chain", "draw")
    obs = [d for d in ll.dims if d not in sample]
    flat = ll.transpose(*sample, *obs).to_numpy().reshape(ll.sizes["chain"], ll.sizes["draw"], -1)
    kept = xr.DataArray(flat[:, :, ~dropped], dims=(*sample, "observation"))
    sub = xr.DataTree.from_dict(
        {"posterior": tree["posterior"].to_dataset(), "log_likelihood": xr.Dataset({"y": kept})}
    )
    result, _ = _quiet(az.loo, sub, pointwise=True)
    exact = constant & dropped if leave_out is None else constant & ~leave_out
    result.elpd += float(flat[0, 0, exact].sum())
    result.n_constant = int(exact.sum())
    result.n_left_out = int((dropped & ~exact).sum())
    return result


def on_cumulative_counts(tree: xr.DataTree) -> bool:
    """True when a fit's likelihood is on the arm x horizon counts (what :func:`ppc` checks and
    the model comparison compares); the hazard and individual-data models' are not, and
    are checked in :mod:`bayes_ips.analyses.horizons.compute`."""
    return tuple(tree["observed_data"]["y"].dims) == ("arm", "horizon")


def ppc(tree: xr.DataTree, interval: float = 0.95) -> list[dict]:
    """Posterior-predictive check per arm x horizon cell.

    For each observed count: the replicated counts' mean and equal-tailed interval, the
    posterior-predictive mid-p-value P(y_rep > y) + ½ P(y_rep = y) (near 0 or 1 flags misfit),
    and the LOO-PIT value from ArviZ.
    """
    y = tree["observed_data"]["y"]
    rep = tree["posterior_predictive"]["y"]
    pit, _ = _quiet(az.loo_pit, tree)
    pit = pit["y"] if isinstance(pit, xr.Dataset | xr.DataTree) else pit
    cells = []
    for arm in y["arm"].to_numpy().tolist():
        for h in y["horizon"].to_numpy().tolist():
            obs = int(y.sel(arm=arm, horizon=h))
            r = rep.sel(arm=arm, horizon=h).to_numpy().ravel()
            cells.append(
                {
                    "arm": arm,
                    "horizon_months": h,
                    **count_check(r, obs, interval),
                    "loo_pit": float(pit.sel(arm=arm, horizon=h)),
                }
            )
    return cells


def count_check(replicated: np.ndarray, observed: int, interval: float) -> dict:
    """One observed count against its replicated draws: ``observed``, the replicates' mean and
    equal-tailed interval (``rep_lo``, ``rep_hi``: counts, by the inverted CDF) and the mid-p-value
    ``ppp`` = P(y_rep > y) + ½ P(y_rep = y)."""
    lo, hi = (1 - interval) / 2, (1 + interval) / 2
    return {
        "observed": observed,
        "rep_mean": float(replicated.mean()),
        "rep_lo": float(np.quantile(replicated, lo, method="inverted_cdf")),
        "rep_hi": float(np.quantile(replicated, hi, method="inverted_cdf")),
        "ppp": float((replicated > observed).mean() + 0.5 * (replicated == observed).mean()),
    }


def compare(trees: dict[str, xr.DataTree]) -> list[dict]:
    """PSIS-LOO comparison (ArviZ ``compare``), one row per fit, best first, with Pareto-k counts.

    Only meaningful between fits of the same observations (here: the same arm x horizon counts).
    """
    # an observation constant in one fit (an empty risk set) is left out of every fit's sum
    leave_out = np.logical_or.reduce([constant_observations(t) for t in trees.values()])
    loos = {label: loo(tree, leave_out) for label, tree in trees.items()}
    table, _ = _quiet(az.compare, loos, round_to="none")
    rows = []
    for label, rec in table.iterrows():
        k = np.asarray(loos[label].pareto_k).ravel()
        rows.append(
            {
                "fit": label,
                "rank": int(rec["rank"]),
                "elpd_loo": float(rec["elpd"]),
                "se": float(rec["se"]),
                "p_loo": float(rec["p"]),
                "elpd_diff": float(rec["elpd_diff"]),
                "dse": float(rec["dse"]),
                "weight": float(rec["weight"]),
                "pareto_k_max": float(np.nanmax(k)),
                "n_high_k": int((k > PARETO_K_OK).sum()),
                "n_obs": int(k.size),
                "n_left_out": int(leave_out.sum()),
            }
        )
    return rows
