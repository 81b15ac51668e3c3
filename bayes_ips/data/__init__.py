"""Trial tables: loading, validation and provenance.

The aggregate format has one row per arm x horizon with the columns
``arm, horizon_months, employed, n_analysed, n_randomised, verified, source``.
Read it with :func:`load_trial`; check a file without analysing it with ``bayes-ips check-data``.
"""

from bayes_ips.data.trial import (
    COLUMNS,
    PACKAGE_PREFIX,
    Comparison,
    TrialData,
    load_trial,
    resolve_path,
)

__all__ = ["COLUMNS", "PACKAGE_PREFIX", "Comparison", "TrialData", "load_trial", "resolve_path"]
