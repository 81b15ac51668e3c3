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
from scipy import special

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


def loo(tree: xr.DataTree, exclude: np.ndarray | None = None):
    """Leave-one-out ELPD of a fit, pointwise, with every degenerate case handled and counted.

    Per observation (in the order of ``log_likelihood/y`` flattened):

    - **exact**: the fit carries an ``exact_loo`` group (the conjugate beta-binomial's closed
      form, the exact logistic model's ratio of marginal likelihoods): its value is used;
    - **constant**: the log-likelihood is the same in every draw (an empty risk set, nobody left to
      be newly employed): its leave-one-out predictive is that constant exactly;
    - **psis**: PSIS-LOO (ArviZ), when its Pareto k is at most :data:`PARETO_K_OK`;
    - **excluded**: Pareto k above :data:`PARETO_K_OK` with no exact value, or listed in
      ``exclude`` (a boolean mask; :func:`compare` passes the union over the fits it compares so
      that all are scored on the same observations): left out of ``elpd``, ``se`` and ``p``.

    The result is ArviZ's ``ELPDData`` on the kept observations, with added attributes
    ``methods`` (one of the words above per observation), ``n_constant``, ``n_exact``,
    ``n_excluded`` and ``pareto_k_all`` (PSIS k of every observation, NaN where not computed:
    an exact fit has no Pareto k).
    """
    ll = tree["log_likelihood"]["y"]
    sample = ("chain", "draw")
    obs = [d for d in ll.dims if d not in sample]
    flat = ll.transpose(*sample, *obs).to_numpy().reshape(ll.sizes["chain"], ll.sizes["draw"], -1)
    n_obs = flat.shape[-1]
    constant = (flat.max(axis=(0, 1)) == flat.min(axis=(0, 1))) | ~np.isfinite(flat).all((0, 1))
    constant &= np.isfinite(flat[0, 0])
    exact = None
    if "exact_loo" in tree.children:
        exact = tree["exact_loo"]["y"].transpose(*obs).to_numpy().ravel()
    elpd_i = np.full(n_obs, np.nan)
    k = np.full(n_obs, np.nan)
    psis = ~constant if exact is None else np.zeros(n_obs, dtype=bool)
    if psis.any():
        kept = xr.DataArray(flat[:, :, psis], dims=(*sample, "observation"))
        sub = xr.DataTree.from_dict(
            {
                "posterior": tree["posterior"].to_dataset(),
                "log_likelihood": xr.Dataset({"y": kept}),
            }
        )
        with np.errstate(all="ignore"):
            result, _ = _quiet(az.loo, sub, pointwise=True)
        elpd_i[psis] = np.asarray(result.elpd_i).ravel()
        k[psis] = np.asarray(result.pareto_k).ravel()
    methods = np.where(constant, "constant", "psis").astype(object)
    elpd_i[constant] = flat[0, 0, constant]
    if exact is not None:
        methods[:] = "exact"
        elpd_i = exact.astype(float)
    high = (methods == "psis") & ~(k <= PARETO_K_OK)
    methods[high] = "excluded"
    if exclude is not None:
        methods[np.asarray(exclude, dtype=bool)] = "excluded"
    use = methods != "excluded"
    s_total = flat.shape[0] * flat.shape[1]
    with np.errstate(all="ignore"):
        lppd_i = special.logsumexp(flat, axis=(0, 1)) - np.log(s_total)
    n_use = int(use.sum())
    elpd = float(elpd_i[use].sum()) if n_use else float("nan")
    result = az.ELPDData(
        elpd=elpd,
        se=float(np.sqrt(n_use * np.var(elpd_i[use]))) if n_use else float("nan"),
        p=float((lppd_i[use] - elpd_i[use]).sum()) if n_use else float("nan"),
        n_samples=s_total,
        n_data_points=n_use,
        scale="log",
        warning=False,
        good_k=PARETO_K_OK,
        elpd_i=xr.DataArray(elpd_i[use], dims=("observation",)),
        pareto_k=xr.DataArray(k[use], dims=("observation",)),
    )
    result.methods = [str(m) for m in methods]
    result.n_constant = int((methods == "constant").sum())
    result.n_exact = int((methods == "exact").sum())
    result.n_excluded = int((methods == "excluded").sum())
    result.pareto_k_all = k
    return result


def on_cumulative_counts(tree: xr.DataTree) -> bool:
    """True when a fit's likelihood is on the arm x horizon counts (what :func:`ppc` checks and
    the model comparison compares); the hazard and individual-data models' are not, and
    are checked in :mod:`bayes_ips.analyses.horizons.compute`."""
    return tuple(tree["observed_data"]["y"].dims) == ("arm", "horizon")


OBSERVATIONS = {
    ("arm", "horizon"): "cumulative counts with the outcome per arm and horizon",
    ("arm", "interval"): "first occurrences of the outcome per arm and interval, among those at "
    "risk",
    ("person_period",): "one 0/1 outcome per participant and interval at risk",
    ("obs",): "one 0/1 outcome per participant and horizon",
}
"""What a likelihood is written on, in words, by the dims of its observations."""


def observation_key(tree: xr.DataTree) -> tuple:
    """What a fit's likelihood is written on: its observations' dims, shape and values. Two fits
    with the same key score the same data, so their leave-one-out ELPDs are on one scale."""
    y = tree["observed_data"]["y"]
    return tuple(y.dims), y.shape, np.asarray(y).tobytes()


def observations_text(tree: xr.DataTree) -> str:
    """:data:`OBSERVATIONS` of a fit's likelihood (its dims joined when not listed)."""
    dims = tuple(tree["observed_data"]["y"].dims)
    return OBSERVATIONS.get(dims, " × ".join(dims))


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


def loo_counts(res) -> dict:
    """How a :func:`loo` result was obtained: observations in all and by method, and the worst
    Pareto k (summary.json's LOO rows). ``pareto_k_max`` is ``None`` when no observation was
    scored by PSIS, with the reason in ``null_reasons``."""
    row = {
        "n_constant": res.n_constant,
        "n_exact": res.n_exact,
        "n_excluded": res.n_excluded,
        "n_obs": len(res.methods),
        "pareto_k_max": _nanmax(res.pareto_k_all),
        "n_high_k": int((res.pareto_k_all > PARETO_K_OK).sum()),
    }
    if row["pareto_k_max"] is None:
        row["null_reasons"] = {
            "pareto_k_max": "no observation is scored by PSIS (exact or constant leave-one-out "
            "values have no Pareto k)"
        }
    return row


def loo_row(tree: xr.DataTree) -> dict:
    """One fit's own leave-one-out score, not compared with any other: ``elpd_loo``, ``se`` and
    ``p_loo`` (None when no observation is left to score) and :func:`loo_counts`."""
    res = loo(tree)
    scored = bool(res.n_data_points)
    return {
        "elpd_loo": float(res.elpd) if scored else None,
        "se": float(res.se) if scored else None,
        "p_loo": float(res.p) if scored else None,
        **loo_counts(res),
    }


def compare(trees: dict[str, xr.DataTree]) -> list[dict]:
    """LOO comparison (ArviZ ``compare``), one row per fit, best first, with Pareto-k counts.

    Only meaningful between fits of the same observations (here: the same arm x horizon counts).
    An observation that any fit must leave out (Pareto k above 0.7 and no exact value) is left
    out of every fit's score, so all are scored on the same observations; ``n_excluded`` says how
    many. When none is left, the rows carry ``None`` scores and ``not_compared`` says why.
    """
    first = {label: loo(tree) for label, tree in trees.items()}
    union = np.zeros(len(next(iter(first.values())).methods), dtype=bool)
    for res in first.values():
        union |= np.array(res.methods) == "excluded"
    loos = {label: loo(tree, union) for label, tree in trees.items()} if union.any() else first
    base = {label: loo_counts(res) for label, res in loos.items()}
    if union.all():
        reason = (
            "every observation has Pareto k above 0.7 in some fit and no exact leave-one-out "
            "value, so no observation is left to compare on"
        )
        return [
            {
                "fit": label,
                "rank": None,
                "elpd_loo": None,
                "se": None,
                "p_loo": None,
                "elpd_diff": None,
                "dse": None,
                "weight": None,
                **base[label],
                "not_compared": reason,
            }
            for label in loos
        ]
    table, _ = _quiet(az.compare, loos, round_to="none")
    rows = []
    for label, rec in table.iterrows():
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
                **base[label],
            }
        )
    return rows


def _nanmax(k: np.ndarray) -> float | None:
    k = np.asarray(k, dtype=float)
    return float(np.nanmax(k)) if np.isfinite(k).any() else None
