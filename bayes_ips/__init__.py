"""bayes_ips: Bayesian reanalysis of randomised trials with a binary outcome at several horizons.

Start with :func:`reanalyze`::

    import bayes_ips
    results = bayes_ips.reanalyze()          # the bundled IPS in Pain analysis
    results.summary()                        # one row per model x prior x horizon
    results.report("reports/ips-in-pain")    # report.html, report.md, summary.json, fits/

The heavy scientific stack is imported on first use, so ``import bayes_ips`` is fast.
"""

from bayes_ips._version import __version__

__all__ = ["__version__", "load_run", "reanalyze", "rerender"]


def __getattr__(name: str):
    if name in ("reanalyze", "rerender", "load_run"):
        from bayes_ips import api

        return getattr(api, name)
    raise AttributeError(f"module 'bayes_ips' has no attribute {name!r}")
