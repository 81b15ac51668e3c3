"""Reading a trial table of either format: aggregate (:mod:`~bayes_ips.data.trial`) or
individual participant data (:mod:`~bayes_ips.data.ipd`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bayes_ips.data import ipd as ipd_format
from bayes_ips.data.ipd import IpdSettings
from bayes_ips.data.trial import TrialData, read_bytes, read_frame, validate_table


def load_trial(path: str | Path, ipd: IpdSettings | None = None) -> TrialData:
    """Read and validate a trial table: aggregate, or individual participant data (IPD).

    A header with ``event_month`` or ``followup_month`` marks the IPD format
    (:mod:`bayes_ips.data.ipd`); its aggregate table is derived at the horizons of ``ipd``.

    Parameters
    ----------
    path : str or path-like
        A CSV file (UTF-8), a Parquet file (``.parquet``), an Excel workbook (``.xlsx``; first
        sheet), or ``package:NAME`` for a bundled table (``package:ips_in_pain.csv``).
    ipd : IpdSettings, optional
        Horizons and covariates for an IPD file (the spec's ``[ipd]`` section); ignored for an
        aggregate table.

    Returns
    -------
    TrialData
        An :class:`~bayes_ips.data.ipd.IpdTrialData` for an IPD file.

    Raises
    ------
    InputError
        When the table breaks a rule listed in :mod:`bayes_ips.data.trial` or
        :mod:`bayes_ips.data.ipd`.
    """
    raw, origin = read_bytes(path)
    frame = read_frame(raw, origin)
    sha = hashlib.sha256(raw).hexdigest()
    if ipd_format.is_ipd(frame.columns):
        return ipd_format.from_frame(frame, origin, sha, ipd or ipd_format.IpdSettings())
    table, warnings = validate_table(frame, origin)
    if ipd is not None and ipd.covariates:
        warnings.append(
            f"{origin}: the table is aggregate, so the covariates of the [ipd] section "
            f"({', '.join(ipd.covariates)}) are not used"
        )
    return TrialData(table, origin, sha, tuple(warnings))
