"""bayes_ips: Bayesian reanalysis of randomised trials with a binary outcome at several horizons.

Start with :func:`reanalyze`::

    import bayes_ips
    results = bayes_ips.reanalyze()          # the bundled IPS in Pain analysis
    results.summary()                        # one row per model x prior x horizon
    results.report("reports/ips-in-pain")    # report.html, report.md, summary.json, fits/

Every command-line verb has a function here: :func:`reanalyze` (``run``), :func:`check_data`,
:func:`list_priors` (``priors``), :func:`rerender` (``report``) with :func:`load_run`, and
:func:`run_batch` (``batch``).

The heavy scientific stack is imported on first use, so ``import bayes_ips`` is fast.
"""

from bayes_ips._version import __version__

__all__ = [
    "Results",
    "__version__",
    "check_data",
    "list_priors",
    "load_run",
    "reanalyze",
    "rerender",
    "run_batch",
]

_LAZY = {
    "Results": "api",
    "check_data": "api",
    "load_run": "api",
    "list_priors": "api",
    "reanalyze": "api",
    "rerender": "api",
    "run_batch": "batch",
}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"bayes_ips.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'bayes_ips' has no attribute {name!r}")
