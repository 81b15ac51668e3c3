"""Intervals between follow-up horizons and who is at risk of a first employment in each.

The horizons h₁ < … < h_K cut follow-up into intervals (0, h₁], (h₁, h₂], …, (h_{K−1}, h_K].
A participant is *at risk* in interval k when not employed by its start; an *event* is a first
employment inside it.

- From **individual data** the risk sets are exact: a participant counts in interval k when not
  employed by its start and either employed inside it or followed up to its end; one whose
  follow-up ends inside the interval without employment is censored there (left out of that
  interval and the later ones).
- From **aggregate cumulative counts** they are derived under the assumption that the same
  analysed cohort of n participants is followed to every horizon, so that
  ``at_risk[k] = n − employed[k−1]`` and ``events[k] = employed[k] − employed[k−1]``
  (``employed[0] = 0``). Under that assumption the product of the interval binomials is exactly
  the likelihood of the cumulative counts. The assumption is checked: an arm whose ``n_analysed``
  changes between horizons, or whose cumulative count falls, is an input error (individual data,
  or per-horizon models, are then needed).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayes_ips.data.ipd import has_participants
from bayes_ips.errors import InputError

COHORT = "aggregate counts, same analysed cohort followed to every horizon (assumption)"
EXACT = "individual participant data (exact risk sets, censoring inside an interval)"


def interval_labels(horizons) -> list[str]:
    """Labels ``"0–6"``, ``"6–12"``, … of the intervals ending at each horizon."""
    starts = [0, *horizons[:-1]]
    return [f"{a:g}–{b:g}" for a, b in zip(starts, horizons, strict=True)]


def _check_cohort(counts: xr.Dataset) -> None:
    origin = counts.attrs.get("origin", "data")
    horizons = counts["horizon"].to_numpy()
    for arm in counts["arm"].to_numpy().tolist():
        n = counts["n_analysed"].sel(arm=arm).to_numpy()
        y = counts["employed"].sel(arm=arm).to_numpy()
        for j in range(1, len(horizons)):
            if n[j] != n[0]:
                raise InputError(
                    origin,
                    f"arm {arm!r}: n_analysed changes from {n[0]} at {horizons[0]:g} months to "
                    f"{n[j]} at {horizons[j]:g} months, but deriving interval risk sets from "
                    "aggregate counts assumes the same analysed cohort at every horizon; supply "
                    "individual participant data or fit only per-horizon models",
                    field="n_analysed",
                    value=int(n[j]),
                )
            if y[j] < y[j - 1]:
                raise InputError(
                    origin,
                    f"arm {arm!r}: employed falls from {y[j - 1]} at {horizons[j - 1]:g} months "
                    f"to {y[j]} at {horizons[j]:g} months; employment attained is cumulative, so "
                    "interval risk sets cannot be derived",
                    field="employed",
                    value=int(y[j]),
                )


def _exact(counts: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    pp = person_periods(counts)
    k = counts.sizes["horizon"]
    at_risk = np.stack(
        [np.bincount(pp["interval"][pp["treated"] == t], minlength=k) for t in (1, 0)]
    )
    events = np.stack(
        [
            np.bincount(pp["interval"][pp["treated"] == t], pp["event"][pp["treated"] == t], k)
            for t in (1, 0)
        ]
    )
    return at_risk, events


def risk_sets(counts: xr.Dataset) -> xr.Dataset:
    """Events and risk sets per arm and interval.

    Parameters
    ----------
    counts : xarray.Dataset
        Counts with dims ``(arm, horizon)``, arm 0 the treatment; with participant rows
        (:meth:`~bayes_ips.data.ipd.IpdTrialData.counts`) the risk sets are exact.

    Returns
    -------
    xarray.Dataset
        ``at_risk`` and ``events`` (int64) with dims ``(arm, interval)``; ``attrs["method"]`` says
        how they were obtained.

    Raises
    ------
    InputError
        When aggregate counts break the cohort assumption (see the module docstring).
    """
    horizons = counts["horizon"].to_numpy().tolist()
    if has_participants(counts):
        at_risk, events = _exact(counts)
        method = EXACT
    else:
        _check_cohort(counts)
        y = counts["employed"].to_numpy()
        n = counts["n_analysed"].to_numpy()
        before = np.concatenate([np.zeros((2, 1), dtype=y.dtype), y[:, :-1]], axis=1)
        at_risk, events = n - before, y - before
        method = COHORT
    coords = {"arm": counts["arm"].to_numpy().tolist(), "interval": interval_labels(horizons)}
    return xr.Dataset(
        {
            "at_risk": (("arm", "interval"), np.asarray(at_risk, dtype="int64")),
            "events": (("arm", "interval"), np.asarray(events, dtype="int64")),
        },
        coords=coords,
        attrs={"method": method},
    )


def person_periods(counts: xr.Dataset) -> dict[str, np.ndarray]:
    """One record per participant x interval at risk (exact, from participant rows).

    Returns
    -------
    dict
        Arrays ``participant`` (row index into the participant dim), ``interval`` (index),
        ``treated`` (0/1) and ``event`` (0/1), all of equal length.
    """
    horizons = counts["horizon"].to_numpy().astype(float)
    starts = np.concatenate([[0.0], horizons[:-1]])
    event = counts["event_month"].to_numpy()
    follow = counts["followup_month"].to_numpy()
    in_interval = (event[:, None] > starts[None, :]) & (event[:, None] <= horizons[None, :])
    at_risk = ~(event[:, None] <= starts[None, :]) & (
        in_interval | (follow[:, None] >= horizons[None, :])
    )
    person, interval = np.nonzero(at_risk)
    return {
        "participant": person,
        "interval": interval,
        "treated": counts["treated"].to_numpy()[person],
        "event": in_interval[person, interval].astype("int64"),
    }
