"""Trial tables: loading, validation and provenance.

The aggregate format has one row per arm x horizon with the columns
``arm, horizon_months, employed, n_analysed, n_randomised, verified, source``; the individual
participant data (IPD) format has one row per participant (:mod:`bayes_ips.data.ipd`). Read
either with :func:`load_trial`; check a file without analysing it with ``bayes-ips check-data``.

Bundled tables: ``ips_in_pain.csv`` (the trial's aggregate counts; only the 12-month rows are
verified) and ``ips_in_pain_synthetic_ipd.csv``, SYNTHETIC participant rows constructed so that
their aggregate table equals ``ips_in_pain.csv`` exactly (event months spread evenly inside each
interval, made-up baseline covariates ``age`` and ``female``): for tests and demonstrations of the
IPD models, never for inference about the trial.
"""

from bayes_ips.data.ipd import IpdSettings, IpdTrialData
from bayes_ips.data.load import load_trial
from bayes_ips.data.trial import COLUMNS, PACKAGE_PREFIX, Comparison, TrialData, resolve_path

__all__ = [
    "COLUMNS",
    "PACKAGE_PREFIX",
    "Comparison",
    "IpdSettings",
    "IpdTrialData",
    "TrialData",
    "load_trial",
    "resolve_path",
]
