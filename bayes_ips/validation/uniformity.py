"""Are fractional ranks uniform? The pass/fail test of simulation-based calibration.

The decision, for each scalar parameter (every component of a vector parameter separately):

- ArviZ's ``uniformity_test`` with method ``pot_c`` (pointwise order-statistic tests combined by
  the truncated Cauchy combination) gives a p-value for H0: the fractional ranks are
  Uniform(0, 1);
- Holm's step-down adjustment over all components of one model controls the family-wise error:
  a calibrated model fails anywhere with probability at most ``alpha`` (default 0.01);
- a component passes when its Holm-adjusted p-value is at least ``alpha``; a model passes when
  every component does.

Shown beside it, not used for the decision: whether the empirical CDF of the ranks stays inside
ArviZ's simultaneous ``1 - alpha`` band for N uniform values (``ecdf_pit``; Säilynoja, Bürkner
and Vehtari 2022), the band drawn in the ECDF-difference plots.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
import xarray as xr
from arviz_stats.base import array_stats
from arviz_stats.ecdf_utils import compute_ecdf, ecdf_pit

SAMPLE_DIM = "simulation"
BAND_SIMULATIONS = 2000
BAND_SEED = 214


@dataclass(frozen=True)
class Band:
    """A simultaneous band for the ECDF of N Uniform(0, 1) values, at ``x``."""

    x: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    prob: float


def simultaneous_band(n: int, prob: float) -> Band:
    """ArviZ's simultaneous ``prob`` band for the ECDF of ``n`` independent uniform values."""
    x, _, lower, upper = ecdf_pit(
        np.linspace(0, 1, n),
        prob,
        BAND_SIMULATIONS,
        rng=np.random.default_rng(BAND_SEED),
    )
    return Band(x, lower, upper, prob)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control, any dependence)."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    order = np.argsort(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def components(pit: xr.Dataset) -> list[tuple[str, xr.DataArray]]:
    """Every scalar component of every variable: ``("theta[12]", values over simulations)``."""
    out = []
    for name, da in pit.data_vars.items():
        dims = [d for d in da.dims if d != SAMPLE_DIM]
        if not dims:
            out.append((str(name), da))
            continue
        for labels in product(*(da[d].to_numpy().tolist() for d in dims)):
            sel = dict(zip(dims, labels, strict=True))
            text = ", ".join(f"{v:g}" if isinstance(v, int | float) else str(v) for v in labels)
            out.append((f"{name}[{text}]", da.sel(sel)))
    return out


def evaluate(pit: xr.Dataset, alpha: float) -> list[dict]:
    """Test every component's fractional ranks for uniformity.

    Parameters
    ----------
    pit : xarray.Dataset
        Fractional ranks in (0, 1) with dim ``simulation`` (one value per simulation).
    alpha : float
        Family-wise error rate over all components.

    Returns
    -------
    list of dict
        One row per component: ``parameter``, ``variable``, ``p_value`` (pot_c), ``p_holm``,
        ``passed`` (``p_holm >= alpha``), ``inside_band`` (the ECDF stays inside the
        simultaneous ``1 - alpha`` band).
    """
    comps = components(pit)
    values = [da.to_numpy() for _, da in comps]
    n = pit.sizes[SAMPLE_DIM]
    band = simultaneous_band(n, 1 - alpha)
    p = np.array([float(array_stats.uniformity_test(v, method="pot_c")[0]) for v in values])
    adjusted = holm(p)
    rows = []
    for (label, da), v, p_i, adj in zip(comps, values, p, adjusted, strict=True):
        ecdf = compute_ecdf(v, band.x)
        rows.append(
            {
                "parameter": label,
                "variable": str(da.name),
                "p_value": float(p_i),
                "p_holm": float(adj),
                "passed": bool(adj >= alpha),
                "inside_band": bool(np.all((ecdf >= band.lower) & (ecdf <= band.upper))),
            }
        )
    return rows
