"""Validation of the model families: simulation-based calibration and its report.

``python -m bayes_ips.validation`` (``make validate``) calibrates every PyMC model family and
writes ``reports/validation/`` (report.html and sbc.json).
"""

from bayes_ips.validation.sbc import SBCResult, SBCSettings, run_sbc

__all__ = ["SBCResult", "SBCSettings", "run_sbc"]
