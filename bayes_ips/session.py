"""This Python session's runners, one per number of processes, kept between calls.

A notebook's next :func:`bayes_ips.reanalyze` should find helper processes with the package imported
and the sampler's compiler warmed up, and the command line starts its helpers before it imports the
API, so they import meanwhile. Both need a runner that outlives a call: this module keeps one per
``jobs`` count until :func:`stop` (or the end of the process); at most one of them has helpers
running. It belongs to the API layer (:mod:`bayes_ips.api`, :mod:`bayes_ips.batch`,
:mod:`bayes_ips.cli`); everything below it is handed a :class:`~bayes_ips.runner.Runner`.
"""

from __future__ import annotations

from bayes_ips.runner import Runner, check_jobs

_RUNNERS: dict[int, Runner] = {}
"""The session's runners by ``jobs``."""


def runner(jobs: int | None = None) -> Runner:
    """The session's runner for ``jobs`` processes (validated; default: the cores this process
    may use), made on first use. Asking for one with helpers (``jobs`` > 1) stops the helpers of
    the others, so a session never holds idle helpers it no longer uses.

    Raises
    ------
    InputError
        ``jobs`` is not a whole number of at least 1 (named as the ``--jobs`` option).
    """
    count = check_jobs(jobs)
    if count not in _RUNNERS:
        _RUNNERS[count] = Runner(count)
    if count > 1:
        for other, each in _RUNNERS.items():
            if other != count:
                each.stop()
    return _RUNNERS[count]


def stop() -> None:
    """Kill the helpers of every session runner (the command line does, before it exits)."""
    for each in _RUNNERS.values():
        each.stop()
