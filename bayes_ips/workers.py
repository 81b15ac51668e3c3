"""Local worker processes: a run's model families, analyses and figures, a batch's specs and the
simulation-based calibration's refits, run side by side.

A run uses *helpers*: ``jobs`` - 1 worker processes beside its own (:func:`helpers`), started on
first use and kept for later runs in the same process, so that a notebook's next run finds them
with the package imported and the sampler's compiler warmed up. The command line starts them
first thing (:func:`warm_up`), so they import while the main process does. A batch and the
calibration use a pool of their own for the length of the call (:func:`pool`).

Workers are started by ``multiprocessing``'s spawn method: fresh interpreters, not forks of a
parent that may be running threads (a notebook kernel, a sampler), on every platform. Starting one
does not wait for its imports, so the caller goes on with its own work meanwhile. As with any
spawned process, a worker imports the caller's main module: a script that starts workers (through
:func:`bayes_ips.reanalyze`, :func:`bayes_ips.run_batch` or calibration) must guard its top level
with ``if __name__ == "__main__":``, or pass ``jobs=1``.

A process that is itself one of several analyses running side by side (a batch worker, a Dask
worker) uses one core: it samples a fit's chains one after another and fits every model family
itself. Where work runs never changes a number: every fit's seed derives from the spec's seed,
the model and the prior only.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import partial

from bayes_ips.errors import InputError

SINGLE_CORE = False
"""Set in a batch worker: this process is one of several analyses running side by side."""

PR_SET_PDEATHSIG = 1
"""Linux ``prctl`` option: the signal a process receives when its parent dies."""

_helpers: ProcessPoolExecutor | None = None
_helper_count = 0
_board = None
"""Shared by this process and its helpers: ``[front, back]``, the calls of the current
:func:`share` not yet taken (``front`` to ``back`` - 1), updated under the array's lock. In a
helper, set by the pool's initializer."""
TAKE_TIMEOUT = 10.0
"""Seconds to wait for the board's lock, which is held for microseconds at a time."""


def cores() -> int:
    """Cores this process may use: 1 in a batch worker or in a daemonic process (a Dask worker,
    which may not start children), else the CPUs it may run on."""
    if SINGLE_CORE or multiprocessing.current_process().daemon:
        return 1
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def collect_less() -> None:
    """Run Python's cyclic garbage collector less often in this process.

    The default thresholds suit small heaps. With PyMC, PyTensor and the sampler's compiler
    loaded (about a million objects) each full collection takes about 0.1 s, and a three-model
    run triggered eight of them. With a young generation of 10,000 objects instead of 700 it
    triggers none, and peak memory stays the same. Called by the command line for its own
    process and in every worker; a notebook's kernel keeps its own settings.
    """
    gc.set_threshold(10_000, 10, 10)


def jobs(requested: int | None) -> int:
    """Processes to run side by side: ``requested`` (validated), or :func:`cores` when None.

    Raises
    ------
    InputError
        ``requested`` is not a whole number of at least 1 (named as the ``--jobs`` option).
    """
    if requested is None:
        return cores()
    if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
        raise InputError(
            "argument", "must be a whole number of at least 1", field="--jobs", value=requested
        )
    return requested


def helpers(jobs: int, *, start: bool = True) -> ProcessPoolExecutor | None:
    """The helper workers of a run with ``jobs`` processes: ``jobs`` - 1 beside this one.

    None when ``jobs`` is 1, or when none are running and ``start`` is False (a caller that
    would gain nothing from helpers that still have to import the package). A pool with fewer
    helpers than asked for is replaced. Use them inside :func:`guarded`.
    """
    global _helpers, _helper_count, _board
    if jobs <= 1 or (_helpers is None and not start):
        return None
    if _helpers is None or _helper_count < jobs - 1:
        if _helpers is not None:
            _helpers.shutdown(wait=False)
        _board = multiprocessing.get_context("spawn").Array("q", 2)
        _helpers = _executor(jobs - 1, _board)
        _helper_count = jobs - 1
    return _helpers


def prepare() -> None:
    """Import what a helper needs for fits, analyses and figures (:func:`warm_up` sends it)."""
    import nutpie  # noqa: F401
    import pymc  # noqa: F401

    import bayes_ips.api  # noqa: F401


def warm_up(jobs: int) -> None:
    """Start the helpers of a run with ``jobs`` processes now, so they import in the
    background while this process does its own start-up."""
    pool = helpers(jobs)
    if pool is not None:
        for _ in range(_helper_count):
            pool.submit(prepare)


@contextmanager
def guarded() -> Iterator[None]:
    """Use the helpers in this block: on any exception (an interrupt, a helper that died) they
    are stopped, so no work runs on after the caller has given up, and the next
    :func:`helpers` call starts new ones."""
    try:
        yield
    except BaseException:
        stop()
        raise


def stop() -> None:
    """Kill the helpers now, busy or idle (an idle one would otherwise take a second or so
    to tear down when this process exits)."""
    global _helpers
    if _helpers is not None:
        _kill(_helpers)
        _helpers = None


def share[T](calls: Sequence[Callable[[], T]], pool: ProcessPoolExecutor | None) -> list[T]:
    """Results of ``calls`` (argument-free, picklable callables), in order.

    This process takes calls from the front of the list and the helpers of ``pool`` (from
    :func:`helpers`) from the back, each taking the next one as soon as it is free, so the work
    balances however uneven the calls are. Each helper is sent the list once, so what the calls
    share (an analysis and its fits) crosses to it once. All run here when ``pool`` is None.
    """
    count = min(_helper_count, len(calls) - 1) if pool is not None else 0
    if count < 1:
        return [call() for call in calls]
    with _board.get_lock():
        _board[:] = [0, len(calls)]
    task = partial(_take_from_back, calls)
    futures = [pool.submit(task) for _ in range(count)]
    results = {}
    while (index := _take(from_back=False)) is not None:
        results[index] = calls[index]()
    for future in futures:
        results.update(collect(future, dict))
    # the calls a helper took before it died run here
    return [results[i] if i in results else calls[i]() for i in range(len(calls))]


def _take(*, from_back: bool) -> int | None:
    """Take the next call of the current :func:`share` from one end (None: none left, or the
    board's lock is held by a helper that died holding it, whose calls then run here)."""
    lock = _board.get_lock()
    if not lock.acquire(timeout=TAKE_TIMEOUT):
        return None
    try:
        front, back = _board[:]
        if front >= back:
            return None
        _board[:] = [front, back - 1] if from_back else [front + 1, back]
        return back - 1 if from_back else front
    finally:
        lock.release()


def _take_from_back[T](calls: Sequence[Callable[[], T]]) -> dict[int, T]:
    """In a helper: run calls taken from the back until none are left."""
    results = {}
    while (index := _take(from_back=True)) is not None:
        results[index] = calls[index]()
    return results


def collect[T](future: Future[T], task: Callable[[], T]) -> T:
    """The result of ``task`` sent to a helper as ``future``; if the helper died (killed, out of
    memory), the helpers are stopped and ``task`` runs here instead. An error raised by the task
    itself is raised here."""
    try:
        return future.result()
    except BrokenProcessPool:
        stop()
        return task()


@contextmanager
def pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` processes, shut down on leaving the block.

    Leaving normally does not wait for the idle workers to exit (a worker that has imported the
    sampler takes a second or so to tear down). On any exception (an interrupt included) queued
    tasks are cancelled and running workers are killed, so no work runs on after the caller
    has given up.
    """
    executor = _executor(workers)
    try:
        yield executor
    except BaseException:
        _kill(executor)
        raise
    executor.shutdown(wait=False)


def _executor(workers: int, board=None) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(), board),
    )


def _start_worker(parent: int, board) -> None:
    """In a new worker: keep the helpers' :data:`_board` (None in a pool of its own), collect
    garbage less often (:func:`collect_less`), and on Linux have the worker killed when the
    process that started it dies, so a killed ``bayes-ips run`` leaves no sampler running on
    (elsewhere a worker finishes its task first). SIGKILL, because the sampler catches
    SIGTERM."""
    global _board
    _board = board
    collect_less()
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before that took effect
        os._exit(1)


def _kill(executor: ProcessPoolExecutor) -> None:
    """Kill the workers (SIGKILL: the sampler catches SIGTERM) and free the pool."""
    if hasattr(executor, "kill_workers"):  # Python >= 3.14
        executor.kill_workers()
        return
    # Python 3.12-3.13 has no public way to stop a running worker: take the processes before
    # shutdown() forgets them.
    processes = list((executor._processes or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
