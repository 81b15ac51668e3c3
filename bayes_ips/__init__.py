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

_API = {"Results", "check_data", "load_run", "list_priors", "reanalyze", "rerender"}


def __getattr__(name: str):
    # Imported on first use, so that `import bayes_ips` stays fast.
    if name in _API:
        from bayes_ips import api

        return getattr(api, name)
    if name == "run_batch":
        from bayes_ips.batch import run_batch

        return run_batch
    raise AttributeError(f"module 'bayes_ips' has no attribute {name!r}")
