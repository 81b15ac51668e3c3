"""Individual participant data (IPD): one row per randomised participant.

Columns (any order; names exact):

- ``id``: a participant label, unique in the file;
- ``arm``: the arm label;
- ``event_month``: months from enrolment to the first employment, empty when no employment was
  observed during follow-up;
- ``followup_month``: months of outcome follow-up (how long employment status was ascertained);
  ``0`` for a participant with no outcome at all;
- ``verified`` (true/false) and ``source``: provenance, as in the aggregate format;
- any other column: a baseline covariate, used only when the spec names it
  (``[ipd] covariates``).

From these rows the aggregate table of the analysis horizons (``[ipd] horizons``, default 6, 12
and 24 months) is derived: at horizon h, ``employed`` counts participants with
``event_month <= h``, ``n_analysed`` those whose status at h is known (employed by h, or followed
up for at least h months) and ``n_randomised`` every row of the arm. The derived table passes the
same checks and warnings as a hand-entered one, so every aggregate model runs unchanged; the
individual rows also reach the models that use them (exact interval risk sets in
``discrete_time_hazard``, covariate adjustment in ``adjusted_logistic``).

Errors (exit code 2; the message names file, line, field, value and rule): a missing required
column; an empty or repeated ``id``; an empty ``arm``; ``event_month`` not empty and not a number
in (0, 1200]; ``followup_month`` missing or not a number in [0, 1200]; an ``event_month`` after
``followup_month``; ``verified`` not a boolean; a covariate named in the spec that is not a
column, has an empty or non-numeric value, or is the same for every participant; fewer than two
arms; an arm with no known outcome at some horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import PlainValidator

from bayes_ips.data.trial import (
    NOT_STATED,
    Comparison,
    TrialData,
    _boolean,
    _check_structure,
    _structure_warnings,
)
from bayes_ips.errors import InputError
from bayes_ips.schema import Section, rule_error

IPD_COLUMNS = ("id", "arm", "event_month", "followup_month", "verified", "source")
IPD_MARKERS = ("event_month", "followup_month")
DEFAULT_HORIZONS = (6, 12, 24)
MAX_MONTHS = 1200.0


def _horizons(values) -> tuple[float, ...]:
    if not isinstance(values, list | tuple) or not values:
        raise rule_error("must list at least one horizon in months")
    for h in values:
        if isinstance(h, bool) or not isinstance(h, int | float) or not 0 < h <= MAX_MONTHS:
            raise rule_error(
                f"each horizon must be a number of months in (0, {MAX_MONTHS:g}]", value=h
            )
    if sorted(set(values)) != list(values):
        raise rule_error(
            "horizons must be listed in increasing order without repeats", value=values
        )
    return tuple(int(h) if h == int(h) else float(h) for h in values)


def _covariates(values) -> tuple[str, ...]:
    if not isinstance(values, list | tuple) or not all(isinstance(c, str) for c in values):
        raise rule_error("must be a list of column names")
    reserved = [c for c in values if c in IPD_COLUMNS]
    if reserved or len(set(values)) != len(values):
        raise rule_error(
            f"covariates must be distinct baseline columns, not {', '.join(IPD_COLUMNS)}",
            value=(reserved or values)[0],
        )
    return tuple(values)


class IpdSettings(Section):
    """The ``[ipd]`` spec section: analysis horizons and the covariates to adjust for.

    Attributes
    ----------
    horizons : tuple of float
        Months, increasing; whole numbers are kept as int (``12``, not ``12.0``).
    covariates : tuple of str
        Baseline columns of the IPD file.
    """

    horizons: Annotated[tuple[float, ...], PlainValidator(_horizons)] = DEFAULT_HORIZONS
    covariates: Annotated[tuple[str, ...], PlainValidator(_covariates)] = ()


@dataclass(frozen=True)
class IpdTrialData(TrialData):
    """A validated IPD file: the derived aggregate ``table`` plus the participant rows.

    Attributes
    ----------
    participants : pandas.DataFrame
        ``id, arm, event_month`` (NaN: none observed), ``followup_month``, ``verified``,
        ``source`` and the selected covariates (float), in file order.
    covariates : tuple of str
        The covariates the adjusted models use.
    """

    participants: pd.DataFrame = field(default_factory=pd.DataFrame)
    covariates: tuple[str, ...] = ()

    def verified_only(self) -> IpdTrialData:
        """The participants marked ``verified`` only, with the aggregate table re-derived."""
        kept = self.participants[self.participants["verified"]].reset_index(drop=True)
        if kept.empty:
            raise InputError(
                self.origin,
                "no participant is marked verified, so a verified-only run has nothing to analyse",
                field="verified",
            )
        table, warnings = _aggregate(kept, self.horizons, self.origin)
        return IpdTrialData(
            table, self.origin, self.sha256, (*self.warnings, *warnings), kept, self.covariates
        )

    def counts(self, comparison: Comparison) -> xr.Dataset:
        """Aggregate counts (dims ``arm, horizon``) plus the compared arms' participant rows.

        Extra variables on dim ``participant``: ``treated`` (1 treatment, 0 control),
        ``event_month`` (NaN: no employment observed), ``followup_month``; and ``x`` with dims
        ``(participant, covariate)`` when covariates are selected.
        """
        ds = super().counts(comparison)
        rows = self.participants[self.participants["arm"].isin(ds["arm"].values.tolist())]
        ds = ds.assign_coords(participant=rows["id"].to_numpy(dtype=str))
        ds["treated"] = ("participant", (rows["arm"] == comparison.treatment).to_numpy(int))
        ds["event_month"] = ("participant", rows["event_month"].to_numpy(float))
        ds["followup_month"] = ("participant", rows["followup_month"].to_numpy(float))
        if self.covariates:
            ds = ds.assign_coords(covariate=list(self.covariates))
            ds["x"] = (("participant", "covariate"), rows[list(self.covariates)].to_numpy(float))
        return ds


def is_ipd(columns) -> bool:
    """True when a header belongs to the IPD format rather than the aggregate one."""
    names = {str(c).strip() for c in columns}
    return any(m in names for m in IPD_MARKERS)


def has_participants(counts: xr.Dataset) -> bool:
    """True when a counts Dataset carries individual participant rows."""
    return "participant" in counts.dims


def standardised_covariates(counts: xr.Dataset) -> np.ndarray | None:
    """Covariates ``x[participant, covariate]`` centred and scaled to SD 1, or None."""
    if "x" not in counts:
        return None
    x = counts["x"].to_numpy().astype(float)
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _month(value: str, origin: str, line: int, column: str, *, optional: bool) -> float:
    text = value.strip()
    if text == "" and optional:
        return math.nan
    if column == "event_month":
        rule = (
            f"event_month must be empty (no employment observed) or a number in (0, {MAX_MONTHS:g}]"
        )
    else:
        rule = (
            f"followup_month must be the months of outcome follow-up, a number in "
            f"[0, {MAX_MONTHS:g}] (0 when no outcome was observed)"
        )
    try:
        number = float(text)
    except ValueError:
        raise InputError(origin, rule, row=line, field=column, value=value) from None
    low_ok = number > 0 if column == "event_month" else number >= 0
    if not np.isfinite(number) or not low_ok or number > MAX_MONTHS:
        raise InputError(origin, rule, row=line, field=column, value=value)
    return number


def _covariate(value: str, origin: str, line: int, column: str) -> float:
    text = value.strip()
    try:
        number = float(text) if text else math.nan
    except ValueError:
        number = math.nan
    if not np.isfinite(number):
        raise InputError(
            origin,
            "a covariate must be a finite number for every participant (code a category as "
            "0/1 indicator columns; impute or drop missing baseline values before the analysis)",
            row=line,
            field=column,
            value=value,
        )
    return number


def _participants(
    frame: pd.DataFrame, origin: str, covariates: tuple[str, ...]
) -> tuple[pd.DataFrame, list[str]]:
    frame = frame.rename(columns=lambda c: str(c).strip())
    missing = [c for c in IPD_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            origin,
            f"individual-data table lacks required column(s) {', '.join(missing)}; expected "
            f"{', '.join(IPD_COLUMNS)} plus optional baseline covariates",
            field=missing[0],
        )
    if frame.empty:
        raise InputError(origin, "the table has a header but no data rows")
    absent = [c for c in covariates if c not in frame.columns]
    if absent:
        found = [c for c in frame.columns if c not in IPD_COLUMNS]
        raise InputError(
            origin,
            "covariate named in the spec ([ipd] covariates) is not a column; baseline columns "
            f"found: {', '.join(found) or 'none'}",
            field=absent[0],
        )
    rows, seen, no_source = [], {}, 0
    for i, rec in enumerate(frame.to_dict("records")):
        line = i + 2
        pid = str(rec["id"]).strip()
        if not pid:
            raise InputError(origin, "id is empty", row=line, field="id", value=rec["id"])
        if pid in seen:
            raise InputError(
                origin,
                f"id appears more than once (first on line {seen[pid]})",
                row=line,
                field="id",
                value=pid,
            )
        seen[pid] = line
        arm = str(rec["arm"]).strip()
        if not arm:
            raise InputError(origin, "arm label is empty", row=line, field="arm", value=rec["arm"])
        event = _month(str(rec["event_month"]), origin, line, "event_month", optional=True)
        follow = _month(str(rec["followup_month"]), origin, line, "followup_month", optional=False)
        if event > follow:
            raise InputError(
                origin,
                f"event_month ({event:g}) is after the end of follow-up "
                f"(followup_month {follow:g}); an employment is only known within follow-up",
                row=line,
                field="event_month",
                value=rec["event_month"],
            )
        source = str(rec["source"]).strip()
        if not source:
            no_source += 1
            source = NOT_STATED
        row = {
            "id": pid,
            "arm": arm,
            "event_month": event,
            "followup_month": follow,
            "verified": _boolean(str(rec["verified"]), origin, line),
            "source": source,
        }
        for c in covariates:
            row[c] = _covariate(str(rec[c]), origin, line, c)
        rows.append(row)
    table = pd.DataFrame(rows)
    for c in covariates:
        if table[c].nunique() < 2:
            raise InputError(
                origin,
                "covariate has the same value for every participant, so it cannot adjust anything",
                field=c,
                value=table[c].iloc[0],
            )
    warnings = []
    if no_source:
        warnings.append(f"{origin}: {no_source} row(s) have no source; shown as '{NOT_STATED}'")
    return table, warnings


def _aggregate(people: pd.DataFrame, horizons, origin: str) -> tuple[pd.DataFrame, list[str]]:
    """The aggregate table (one row per arm x horizon) implied by the participant rows."""
    rows = []
    for arm, group in people.groupby("arm", sort=False):
        event = group["event_month"].to_numpy()
        follow = group["followup_month"].to_numpy()
        sources = "; ".join(dict.fromkeys(group["source"]))
        for h in horizons:
            employed = int(np.sum(event <= h))
            known = int(np.sum((event <= h) | (follow >= h)))
            if known == 0:
                raise InputError(
                    origin,
                    f"no participant of arm {arm!r} has a known outcome at {h:g} months "
                    "(employed by then or followed up that long)",
                    field="followup_month",
                    value=h,
                )
            rows.append(
                {
                    "arm": arm,
                    "horizon_months": h,
                    "employed": employed,
                    "n_analysed": known,
                    "n_randomised": len(group),
                    "verified": bool(group["verified"].all()),
                    "source": f"derived from {len(group)} participant rows: {sources}",
                    "_line": 0,
                }
            )
    table = pd.DataFrame(rows)
    _check_structure(table, origin)
    warnings = _structure_warnings(table, origin)
    table = table.drop(columns="_line").sort_values(["arm", "horizon_months"], kind="stable")
    for column in ("employed", "n_analysed", "n_randomised"):
        table[column] = table[column].astype("int64")
    return table.reset_index(drop=True), warnings


def from_frame(
    frame: pd.DataFrame, origin: str, sha256: str, settings: IpdSettings
) -> IpdTrialData:
    """Validate IPD rows and derive the aggregate table (see the module docstring)."""
    people, warnings = _participants(frame, origin, settings.covariates)
    table, more = _aggregate(people, settings.horizons, origin)
    return IpdTrialData(table, origin, sha256, tuple(warnings + more), people, settings.covariates)
