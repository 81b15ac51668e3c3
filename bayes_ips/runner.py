"""Processes working side by side: a :class:`Runner` is handed to whatever runs work in parallel.

A runner says how many processes work side by side (``jobs``) and how many cores each may use
(``cores``, the chains a fit samples at once). A run's *helpers* are the ``jobs`` - 1 worker
processes beside the caller's own: they fit model families (:meth:`Runner.submit`,
:meth:`Runner.collect`) and take a share of a list of calls (:meth:`Runner.share`). A batch and
the simulation-based calibration use a pool of their own for the length of the call
(:meth:`Runner.pool`). A process that is itself one of several analyses running side by side (a
batch worker, a Dask worker) is given ``Runner(1, cores=1)``: it samples a fit's chains one after
another and does everything itself. Where work runs never changes a number: every fit's seed
derives from the spec's seed, the model and the prior only, and each chain has its own seed.

A runner starts its helpers on first use (:meth:`Runner.start`, or :meth:`Runner.warm_up` with a
task that imports what they will need) and keeps them until :meth:`Runner.stop`, so a runner that
outlives a call (:func:`bayes_ips.session.runner`, the API layer's runner per ``jobs``) gives the
next call helpers with the package imported and the sampler's compiler warmed up. A helper that
dies (killed, out of memory) costs time, not the run: its calls run in this process, the helpers
are stopped and the next call starts new ones. Any exception in a block guarded by
:meth:`Runner.guarded`, an interrupt included, kills the helpers, so no work runs on after the
caller has given up.

Workers are fresh interpreters (loky's fork-then-exec start, like ``multiprocessing``'s spawn),
not forks of a parent that may be running threads (a notebook kernel, a sampler). Starting one does
not wait for its imports, so the caller goes on with its own work meanwhile. Unlike a process of
``multiprocessing``'s spawn or forkserver methods, a loky worker does not import the caller's main
module, so a script that starts workers (through :func:`bayes_ips.reanalyze`,
:func:`bayes_ips.run_batch` or calibration) needs no ``if __name__ == "__main__":`` guard (PyMC's
chain processes are forked: :data:`bayes_ips.inference.CHAIN_START`).

Design
------
The workers are loky's :class:`loky.ProcessPoolExecutor`, a maintained ``concurrent.futures``
executor: it starts workers with an initializer, reports a worker that died as
:class:`loky.BrokenProcessPool` (``TerminatedWorkerError``), and kills busy workers through the
public ``shutdown(kill_workers=True)`` (SIGKILL, and their children), which the standard library's
executor cannot do before Python 3.14 without its private ``_processes``. Its workers never time
out idle, and are not restarted as they grow (:data:`WORKER_ENV`).

:meth:`Runner.share` balances uneven calls without shared memory: this process takes calls from
the front of the list, and each helper is sent one call from the back, the next as soon as it
finishes (a done-callback sends it), so the bookkeeping lives in this process under a thread lock.
The calls of one share hold the same big objects (the run context, every fit's draws: about 60 MB
pickled for the default analysis), so the list is pickled once (about 0.2 s) into a temporary file
that each helper reads once (the payload of its last share, :func:`_shared_calls`), rather than
once per call. The file is removed when the share ends, even on an error; only a process killed
during a share leaves it in the temporary folder.

This replaces a hand-written board (two numbers in shared memory under a lock, the list sent to
each helper) that was no faster. Medians on 2 cores, one helper, loky against the board: the
default analysis's post-fit share 4.69 s against 4.73 s (7.3 s with no helper), its fit-saving and
figure share 5.75 s against 5.83 s (9.3-9.8 s with no helper), a whole warm ``bayes-ips run
models/default.toml`` 28.8 s against 29.0 s (``benchmarks/bench_runner.py``).
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

import loky

from bayes_ips.errors import InputError, route_warnings

PR_SET_PDEATHSIG = 1
"""Linux ``prctl`` option: the signal a process receives when its parent dies."""
WORKER_ENV = {"LOKY_MAX_MEMORY_LEAK_SIZE": "1e15"}
"""Environment of the workers. loky restarts a worker whose memory has grown by more than
``LOKY_MAX_MEMORY_LEAK_SIZE`` bytes (default 300 MB) since its first task, taking it for a leak;
a helper's growth is what keeps it warm (compiled models, the last share's calls), and a restarted
one imports the package again (about 4 s), so the limit is set out of reach."""


def available_cores() -> int:
    """Cores this process may use: 1 in a daemonic process (a Dask worker, which may not start
    children), else the CPUs it may run on."""
    if multiprocessing.current_process().daemon:
        return 1
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def check_jobs(requested: int | None) -> int:
    """Processes to run side by side: ``requested`` (validated), or :func:`available_cores` when
    None.

    Raises
    ------
    InputError
        ``requested`` is not a whole number of at least 1 (named as the ``--jobs`` option).
    """
    if requested is None:
        return available_cores()
    if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
        raise InputError(
            "argument", "must be a whole number of at least 1", field="--jobs", value=requested
        )
    return requested


def collect_less() -> None:
    """Run Python's cyclic garbage collector less often in this process.

    The default thresholds suit small heaps. With PyMC, PyTensor and the sampler's compiler
    loaded (about a million objects) each full collection takes about 0.1 s, and a three-model
    run triggered eight of them. With a young generation of 10,000 objects instead of 700 it
    triggers none, and peak memory stays the same. Called by the command line for its own
    process and in every worker; a notebook's kernel keeps its own settings.
    """
    gc.set_threshold(10_000, 10, 10)


class Runner:
    """Processes working side by side: this one and, when ``jobs`` > 1, helpers started on
    first use and kept until :meth:`stop`.

    Parameters
    ----------
    jobs : int, optional
        Processes working side by side, this one included (default: :func:`available_cores`).
    cores : int, optional
        Cores each process may use, i.e. the chains a fit samples at once (default:
        :func:`available_cores`). 1 in a process that is one of several analyses side by side.

    Raises
    ------
    InputError
        ``jobs`` is not a whole number of at least 1 (see :func:`check_jobs`).

    Examples
    --------
    >>> from functools import partial
    >>> runner = Runner(2)
    >>> runner.start()
    True
    >>> with runner.guarded():
    ...     runner.share([partial(pow, n, 2) for n in range(4)])
    [0, 1, 4, 9]
    >>> runner.stop()
    """

    def __init__(self, jobs: int | None = None, *, cores: int | None = None) -> None:
        self.jobs = check_jobs(jobs)
        self.cores = available_cores() if cores is None else cores
        self._helpers: loky.ProcessPoolExecutor | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"Runner(jobs={self.jobs}, cores={self.cores}; helpers {state})"

    @property
    def running(self) -> bool:
        """Whether the helpers have been started (and not stopped since)."""
        return self._helpers is not None

    def start(self) -> bool:
        """Start the ``jobs`` - 1 helpers unless they are running; returns whether there are any.

        They are started lazily: their processes start with the first task sent to them.
        """
        if self._helpers is None and self.jobs > 1:
            self._helpers = _executor(self.jobs - 1)
        return self._helpers is not None

    def warm_up(self, task: Callable[[], object]) -> None:
        """Start the helpers now and send each of them ``task`` (as a rule, a function that
        imports what they will need), so they prepare in the background while this process
        does its own start-up. Nothing is sent with one job."""
        if self.start():
            for _ in range(self.jobs - 1):
                self._submit(task)

    def submit[T](self, task: Callable[[], T]) -> Future[T]:
        """Send ``task`` (an argument-free, picklable callable) to a helper, starting the helpers
        if needed; pass the future and the task to :meth:`collect`.

        Raises
        ------
        ValueError
            The runner has one job, so no helpers.
        """
        if not self.start():
            raise ValueError("a runner of one job has no helpers")
        return self._submit(task)

    def collect[T](self, future: Future[T], task: Callable[[], T]) -> T:
        """The result of ``task`` sent to a helper as ``future``. If the helper died (killed, out
        of memory), the helpers are stopped and ``task`` runs here instead. An error raised by
        the task itself is raised here."""
        try:
            return future.result()
        except loky.BrokenProcessPool:
            self.stop()
            return task()

    def share[T](self, calls: Sequence[Callable[[], T]]) -> list[T]:
        """Results of ``calls`` (argument-free, picklable callables), in order, each run once.

        This process takes calls from the front of the list and each helper one from the back,
        the next as soon as it is done, so the work balances however uneven the calls are. The
        helpers take part only if they are running (:meth:`start`): helpers that still had to
        start and import the package would gain nothing. If a helper dies, its calls run here.
        An error raised by a call is raised here (use :meth:`guarded` to stop the helpers then).
        """
        count = min(self.jobs - 1, len(calls) - 1)
        if self._helpers is None or count < 1:
            return [call() for call in calls]
        results: dict[int, T] = {}
        died = False
        with _payload(calls) as path:
            sharing = _Sharing(self._helpers, path, len(calls))
            try:
                for _ in range(count):
                    sharing.send()
                while (index := sharing.take_front()) is not None:
                    results[index] = calls[index]()
                for index, outcome in sorted(sharing.away.items()):
                    try:
                        results[index] = outcome.result()
                    except loky.BrokenProcessPool:  # the helper died: its call runs here
                        died = True
                        results[index] = calls[index]()
            finally:
                sharing.close()  # on an error here, the helpers are sent no more calls
        if died:
            self.stop()
        return [results[i] for i in range(len(calls))]

    @contextmanager
    def guarded(self) -> Iterator[Runner]:
        """Use the helpers in this block: on any exception (an interrupt, an error in a task)
        they are stopped, so no work runs on after the caller has given up, and the next use
        starts new ones."""
        try:
            yield self
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Kill the helpers now, busy or idle (SIGKILL, their children included: the sampler
        catches SIGTERM). An idle helper would otherwise take a second or so to tear down when
        this process exits. The next use starts new ones."""
        helpers, self._helpers = self._helpers, None
        if helpers is not None:
            helpers.shutdown(wait=True, kill_workers=True)

    @contextmanager
    def pool(self, workers: int | None = None) -> Iterator[loky.ProcessPoolExecutor]:
        """A pool of ``workers`` processes (default: ``jobs``) of its own, for the length of the
        block: a batch's runs, the calibration's refits. The helpers are not used.

        Leaving normally does not wait for the idle workers to exit (a worker that has imported
        the sampler takes a second or so to tear down). On any exception (an interrupt included)
        queued tasks are cancelled and running workers are killed.
        """
        executor = _executor(workers or self.jobs)
        try:
            yield executor
        except BaseException:
            executor.shutdown(wait=True, kill_workers=True)
            raise
        executor.shutdown(wait=False)

    def _submit(self, task: Callable, *args) -> Future:
        """Send ``task(*args)`` to a helper; helpers found dead since their last task (their
        pool is broken) are replaced first."""
        try:
            return self._helpers.submit(task, *args)
        except loky.BrokenProcessPool:
            self.stop()
            self.start()
            return self._helpers.submit(task, *args)


class _Sharing:
    """The bookkeeping of one :meth:`Runner.share`, all in this process: the calls not yet taken
    are those from ``front`` to ``back`` - 1; this process takes from the front, each helper from
    the back. ``away`` holds, per call sent to a helper, its outcome."""

    def __init__(self, helpers: loky.ProcessPoolExecutor, path: Path, size: int) -> None:
        self._helpers = helpers
        self._path = str(path)
        self._lock = threading.Lock()
        self._front, self._back = 0, size
        self._failed = False
        self.away: dict[int, Future] = {}

    def take_front(self) -> int | None:
        """The next call for this process (None: none left, or a call raised in a helper)."""
        with self._lock:
            if self._front >= self._back or self._failed:
                return None
            self._front += 1
            return self._front - 1

    def close(self) -> None:
        """Send no more calls."""
        with self._lock:
            self._failed = True

    def send(self) -> None:
        """Send the last call not yet taken to a helper. Its outcome is registered under the lock
        before it is sent, so once :meth:`take_front` returns None, :attr:`away` is complete."""
        with self._lock:
            if self._front >= self._back or self._failed:
                return
            self._back -= 1
            index = self._back
            outcome = self.away[index] = Future()
        try:
            future = self._helpers.submit(_call_shared, self._path, index)
        except (loky.BrokenProcessPool, RuntimeError) as exc:  # a helper died; or stopped
            outcome.set_exception(exc)
            return
        future.add_done_callback(functools.partial(self._done, outcome))

    def _done(self, outcome: Future, future: Future) -> None:
        """A done-callback (in the executor's thread): pass the result on, and send the helper
        its next call unless this one failed."""
        error = future.exception() if not future.cancelled() else RuntimeError("cancelled")
        if error is None:
            outcome.set_result(future.result())
            self.send()
            return
        if not isinstance(error, loky.BrokenProcessPool):
            self.close()
        outcome.set_exception(error)


@contextmanager
def _payload(calls: Sequence[Callable]) -> Iterator[Path]:
    """The pickled ``calls`` in a temporary file (unique name), removed on leaving."""
    fd, name = tempfile.mkstemp(prefix=f"bayes-ips-share-{uuid.uuid4().hex}-", suffix=".pickle")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as file:
            pickle.dump(list(calls), file, protocol=pickle.HIGHEST_PROTOCOL)
        yield path
    finally:
        path.unlink(missing_ok=True)


@functools.lru_cache(maxsize=1)
def _shared_calls(path: str) -> list[Callable]:
    """In a helper: the calls of the share whose payload is ``path``, read once per share (the
    payload of the last share stays in memory until the next one)."""
    with open(path, "rb") as file:
        return pickle.load(file)


def _call_shared(path: str, index: int):
    """In a helper: run call ``index`` of the share whose payload is ``path``."""
    return _shared_calls(path)[index]()


def _executor(workers: int) -> loky.ProcessPoolExecutor:
    """``workers`` fresh worker processes (never idle-timed out nor restarted), started on
    first use."""
    return loky.ProcessPoolExecutor(
        workers,
        timeout=None,
        initializer=_start_worker,
        initargs=(os.getpid(),),
        env=WORKER_ENV,
    )


def _start_worker(parent: int) -> None:
    """In a new worker: collect garbage less often (:func:`collect_less`), and on Linux have the
    worker, and every process it forks, killed when the process that started it dies
    (:func:`children_die_with_parent`), so a killed ``bayes-ips run`` leaves no sampler running
    on (elsewhere a worker finishes its task first). Warnings go to the warnings log, not stderr
    (:func:`bayes_ips.errors.route_warnings`)."""
    collect_less()
    route_warnings()
    _die_with_parent(parent)
    children_die_with_parent()


def _die_with_parent(parent: int) -> None:
    """On Linux, have this process receive SIGKILL (the sampler catches SIGTERM) when its parent,
    ``parent``, dies; exit now if it has died already."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before that took effect
        os._exit(1)


_forked_from = os.getpid()
"""The process that forks next (set just before each fork): the parent a forked child checks."""


def _note_parent() -> None:
    global _forked_from
    _forked_from = os.getpid()


@functools.cache
def children_die_with_parent() -> None:
    """Have every process that this one forks from now on (PyMC's chain processes) killed when
    this process dies, on Linux (once per process). Called by the command line for its own process
    and in every worker, so that a SIGKILL of ``bayes-ips run`` leaves no process behind; a forked
    chain would otherwise wait forever for a parent that is gone (its siblings hold the other
    end of its pipe)."""
    if sys.platform.startswith("linux"):
        os.register_at_fork(after_in_child=lambda: _die_with_parent(_forked_from))
        os.register_at_fork(before=_note_parent)
