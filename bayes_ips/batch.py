"""Many analyses in one call (``bayes-ips batch``): run specs, skip unchanged ones, index them all.

Each spec becomes the run folder ``OUT/<spec name>/``, the folder ``bayes-ips run`` would write,
plus ``run-key.json``: the SHA-256 of the spec's bytes, the data's bytes, the evidence table its
priors read, the package version and the quick flag, with the run's exit code. A later batch
skips a spec whose key is unchanged and whose last run finished with every check passed; a run
that failed is always run again.

Where runs execute
------------------
Runs are independent. By default they go to ``jobs`` local processes (the pool of a
:class:`~bayes_ips.runner.Runner`; with one job, or one run, they run in this process, and a lone
run may use this session's ``jobs`` processes to fit its model families side by side). Given a
scheduler address (``--scheduler``, or the ``BAYES_IPS_SCHEDULER`` environment variable) they go to
a Dask distributed cluster instead. Either way the worker builds the complete run folder in its own
temporary space and returns the files, which are written here atomically, so workers need the spec's
data at the same path (or bundled ``package:`` data) but no shared writable storage. Inside a worker
a run uses one core (it is given ``Runner(1, cores=1)``): its model families are fitted and each
fit's chains sampled one after another. Where a run executes does not change its numbers: every
fit's seed derives from the spec's seed, the model and the prior only, and each chain has its own
seed. That is also why the address is not a spec setting: a spec says what to compute, and editing
it would invalidate its content key.

Outputs and exit code
---------------------
``OUT/index.html`` and ``OUT/index.csv`` list every run of the batch with its status and headline
numbers (P(benefit) and the risk difference of the first fit at the primary horizon). Tracebacks
of internal errors go to ``OUT/batch-errors.log``. The batch's exit code is the most severe of its
runs' codes, in the order 1 (internal error), 2 (invalid input), 3 (not converged), 0 (all
finished and converged); every run is attempted before the batch returns.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import shlex
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bayes_ips import session
from bayes_ips._version import __version__
from bayes_ips.errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_NOT_CONVERGED, EXIT_OK, InputError
from bayes_ips.pipeline import load_spec
from bayes_ips.rundir import atomic_dir
from bayes_ips.runner import Runner
from bayes_ips.spec import Spec

KEY_FILE = "run-key.json"
INDEX_FILES = ("index.html", "index.csv")
ERROR_LOG = "batch-errors.log"
SCHEDULER_ENV = "BAYES_IPS_SCHEDULER"
CONNECT_TIMEOUT = "15s"
SEVERITY = (EXIT_INTERNAL, EXIT_INPUT, EXIT_NOT_CONVERGED, EXIT_OK)
"""Exit codes from most to least severe; the batch returns the first that any run returned."""
STATUS = {
    EXIT_OK: "ok",
    EXIT_NOT_CONVERGED: "not converged",
    EXIT_INPUT: "invalid input",
    EXIT_INTERNAL: "internal error",
}
SKIPPED = "skipped (unchanged)"

BatchProgress = Callable[[int, int, str], None]
"""``progress(done, total, label)``: called once before any run finishes and after each run."""


FORWARDED_ENV = ("SOURCE_DATE_EPOCH",)
"""Environment variables of the batch that a worker applies while it runs (a worker process may
have been started before they were set, or on another machine)."""


@dataclass(frozen=True)
class Task:
    """One run for a worker: the parsed spec and how to run it."""

    spec: Spec
    quick: bool
    command: str
    package_version: str
    env: tuple[tuple[str, str], ...] = ()


@dataclass
class Outcome:
    """What a worker returns: the exit code, a one-line message and the run folder's files."""

    code: int
    message: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    log: str = ""
    seconds: float = 0.0


HEADLINE_KEYS = (
    "title",
    "model",
    "prior",
    "horizon_months",
    "p_benefit",
    "rd_median",
    "rd_lo",
    "rd_hi",
    "verified_data",
    "quick",
    "p_benefit_min",
    "p_benefit_max",
    "fits",
    "rd_level",
)
"""Headline columns of the index (None where a run has no results): summary.json's ``headline``
(the spec's own headline fit at its primary horizon, and the range of P(benefit) there across
every model and prior of the run), flattened."""

INDEX_COLUMNS = [
    "spec",
    "name",
    "status",
    "exit_code",
    *HEADLINE_KEYS,
    "seconds",
    "message",
    "report",
]
"""Columns of index.csv and :meth:`BatchResults.table`."""


@dataclass
class RunRecord:
    """One line of the batch index."""

    spec: str
    name: str | None
    code: int
    status: str
    message: str = ""
    seconds: float = 0.0
    headline: dict | None = None
    """summary.json's ``headline`` with the run's ``title``, ``quick`` and number of ``fits``."""

    def row(self, out: Path) -> dict:
        report = out / self.name / "report.html" if self.name else None
        return {
            "spec": self.spec,
            "name": self.name,
            "status": self.status,
            "exit_code": self.code,
            **_columns(self.headline),
            "seconds": round(self.seconds, 2),
            "message": self.message,
            "report": f"{self.name}/report.html" if report and report.is_file() else None,
        }


@dataclass
class BatchResults:
    """A finished batch: one :class:`RunRecord` per spec, in the order given.

    Attributes
    ----------
    out : Path
        The folder holding the run folders and ``index.html``/``index.csv``.
    runs : list of RunRecord
    """

    out: Path
    runs: list[RunRecord]

    @property
    def exit_code(self) -> int:
        """The most severe of the runs' exit codes (see :data:`SEVERITY`)."""
        codes = {r.code for r in self.runs}
        return next((c for c in SEVERITY if c in codes), EXIT_OK)

    def table(self) -> pd.DataFrame:
        """The index: one row per run with status, exit code and headline numbers."""
        rows = [r.row(self.out) for r in self.runs]
        return pd.DataFrame(rows, columns=INDEX_COLUMNS).convert_dtypes()

    def load(self, name: str):
        """The :class:`~bayes_ips.api.Results` of the run called ``name``."""
        from bayes_ips.api import load_run

        return load_run(self.out / name)

    def _repr_html_(self) -> str:
        counts = pd.Series([r.status for r in self.runs]).value_counts()
        status = ", ".join(f"{n} {s}" for s, n in counts.items())
        return (
            f"<p>Batch in <code>{html.escape(str(self.out))}</code>: {html.escape(status)}</p>"
            + self.table().to_html(index=False, na_rep="", float_format=lambda x: f"{x:.3f}")
        )


def content_key(spec: Spec, data_sha256: str, quick: bool) -> dict:
    """The fields that decide whether a run must be repeated, and their SHA-256 (``key``)."""
    fields = {
        "spec_sha256": spec.sha256,
        "data_sha256": data_sha256,
        "evidence_sha256": spec.options["priors"].evidence_sha256,
        "package_version": __version__,
        "quick": quick,
    }
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
    return {"key": digest, **fields}


def _finished_unchanged(folder: Path, key: dict) -> dict | None:
    """The headline of the run in ``folder`` if it finished converged under the same key."""
    try:
        stored = json.loads((folder / KEY_FILE).read_text(encoding="utf-8"))
        if stored.get("key") != key["key"] or stored.get("exit_code") != EXIT_OK:
            return None
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        return headline(summary)
    except (OSError, ValueError, AttributeError, KeyError, TypeError, StopIteration):
        return None  # missing or unreadable: run it again


def headline(summary: dict) -> dict:
    """A run's headline for the index and the terminal: summary.json's ``headline`` (see
    :func:`bayes_ips.report.summary.headline`) with the run's title, quick flag and fit count."""
    run = summary["run"]
    return {
        **summary["headline"],
        "title": run["title"],
        "quick": run["quick"],
        "fits": len(run["fits"]),
    }


def _columns(head: dict | None) -> dict:
    """The index's headline columns of a :func:`headline` (None each when there is none)."""
    if head is None:
        return dict.fromkeys(HEADLINE_KEYS)
    rd, spread = head["rd"], head["p_benefit_range"]
    return {
        **{k: head[k] for k in ("title", "model", "prior", "horizon_months", "p_benefit")},
        "rd_median": rd["median"],
        "rd_lo": rd["lo"],
        "rd_hi": rd["hi"],
        "verified_data": head["verified_data"],
        "quick": head["quick"],
        "p_benefit_min": spread["min"],
        "p_benefit_max": spread["max"],
        "fits": head["fits"],
        "rd_level": rd["level"],
    }


def _recorded_command(path: str, quick: bool) -> str:
    """The single-run command that reproduces one run of the batch."""
    return shlex.join(["bayes-ips", "run", path, *(["--quick"] if quick else [])])


def build_run(task: Task, runner: Runner | None = None) -> Outcome:
    """Run one analysis and return its run folder as files (executed on a worker).

    ``runner`` is the processes the run works in; by default ``Runner(1, cores=1)``, for a worker
    that is one of several running analyses side by side (a local pool's, a Dask worker).

    Never raises for a failed run: the outcome carries the exit code, a one-line message and,
    for an internal error, the traceback.
    """
    runner = Runner(1, cores=1) if runner is None else runner
    start = time.perf_counter()
    try:
        if task.package_version != __version__:
            raise InputError(
                "argument",
                f"the worker runs bayes_ips {__version__} but the batch {task.package_version}; "
                "install the same version on every worker",
                field="--scheduler",
            )
        from bayes_ips import api

        with _environment(dict(task.env)), tempfile.TemporaryDirectory(prefix="bayes-ips-") as tmp:
            results = api.reanalyze(
                task.spec, quick=task.quick, command=task.command, runner=runner
            )
            folder = api.write_run(Path(tmp) / "run", results, runner=runner)
            files = {
                p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted(folder.rglob("*"))
                if p.is_file()
            }
        failed = [
            f"{d['model']} / {d['prior']}: {'; '.join(d['messages'])}"
            for d in results.summary_data["diagnostics"]
            if not d["passed"]
        ]
        return Outcome(results.exit_code, " | ".join(failed), files, "", _since(start))
    except InputError as exc:
        return Outcome(EXIT_INPUT, exc.message, seconds=_since(start))
    except Exception as exc:
        return Outcome(
            EXIT_INTERNAL, _one_line(exc), log=traceback.format_exc(), seconds=_since(start)
        )


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set the batch's forwarded variables (unset ones are removed) and restore them after."""
    before = {k: os.environ.get(k) for k in FORWARDED_ENV}
    try:
        for k in FORWARDED_ENV:
            if k in values:
                os.environ[k] = values[k]
            else:
                os.environ.pop(k, None)
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _since(start: float) -> float:
    return time.perf_counter() - start


def _one_line(exc: BaseException) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= 200 else text[:197] + "..."


def _local(tasks: dict[int, Task], runner: Runner) -> Iterator[tuple[int, Outcome]]:
    if runner.jobs == 1 or len(tasks) <= 1:  # in this process, which may use every core
        for i, task in tasks.items():
            yield i, build_run(task, runner)
        return
    with runner.pool(min(runner.jobs, len(tasks))) as pool:
        futures = {pool.submit(build_run, task): i for i, task in tasks.items()}
        for future in as_completed(futures):
            yield futures[future], _result(future)


def _result(future) -> Outcome:
    """A future's outcome; a worker that died becomes an internal error of that run."""
    try:
        return future.result()
    except Exception as exc:
        return Outcome(
            EXIT_INTERNAL, f"the worker failed: {_one_line(exc)}", log=traceback.format_exc()
        )


def _dask(tasks: dict[int, Task], scheduler) -> Iterator[tuple[int, Outcome]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise InputError(
            "argument",
            "a Dask scheduler needs dask.distributed: pip install 'bayes_ips[dask]'",
            field="--scheduler",
            value=str(scheduler),
        ) from None
    if hasattr(scheduler, "submit"):  # an open distributed.Client: use it, leave it open
        client, own = scheduler, False
    else:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                "argument",
                f"cannot connect to the Dask scheduler ({_one_line(exc)})",
                field="--scheduler",
                value=str(scheduler),
            ) from None
        own = True
    try:
        futures = {
            client.submit(
                build_run, task, key=f"bayes-ips-{task.spec.name}-{uuid.uuid4().hex}", pure=False
            ): i
            for i, task in tasks.items()
        }
        try:
            for future in dask_completed(futures, loop=client.loop):
                yield futures[future], _result(future)
        except BaseException:
            client.cancel(list(futures))
            raise
    finally:
        if own:
            client.close()


def _store(out: Path, name: str, outcome: Outcome, key: dict, spec: str) -> None:
    """Write a finished run's files and its content key into ``out/name``, atomically."""
    with atomic_dir(out / name) as tmp:
        root = tmp.resolve()
        for rel, content in outcome.files.items():
            path = (tmp / rel).resolve()
            if not path.is_relative_to(root) or rel == KEY_FILE:
                raise ValueError(f"a worker returned an unexpected file name {rel!r}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        record = {**key, "exit_code": outcome.code, "spec": spec}
        (tmp / KEY_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


@dataclass
class _Plan:
    path: str
    record: RunRecord
    spec: Spec | None = None
    key: dict | None = None


def _plan(path: str, out: Path, quick: bool, force: bool) -> _Plan:
    from bayes_ips.data import load_trial

    try:
        spec = load_spec(path)
        data_sha256 = load_trial(spec.data_path).sha256
    except InputError as exc:
        return _Plan(path, RunRecord(path, None, EXIT_INPUT, STATUS[EXIT_INPUT], exc.message))
    key = content_key(spec, data_sha256, quick)
    folder = out / spec.name
    previous = None if force else _finished_unchanged(folder, key)
    if previous is not None:
        return _Plan(path, RunRecord(path, spec.name, EXIT_OK, SKIPPED, "", 0.0, previous))
    return _Plan(path, RunRecord(path, spec.name, EXIT_OK, "pending"), spec, key)


def _check_names(plans: list[_Plan]) -> None:
    seen: dict[str, str] = {}
    for plan in plans:
        name = plan.record.name
        if name is None:
            continue
        if name in INDEX_FILES or name == ERROR_LOG:
            raise InputError(
                plan.path, "this run name is reserved for the batch index", field="name", value=name
            )
        if name in seen:
            raise InputError(
                plan.path,
                f"two specs write the same run folder (also {seen[name]}); give each a distinct "
                "name",
                field="name",
                value=name,
            )
        seen[name] = plan.path


def run_batch(
    specs: Sequence[str | Path],
    out: str | Path = "reports",
    *,
    jobs: int | None = None,
    scheduler=None,
    quick: bool | None = None,
    force: bool = False,
    progress: BatchProgress | None = None,
) -> BatchResults:
    """Run many specs, skipping unchanged ones, and write ``index.html`` and ``index.csv``.

    Parameters
    ----------
    specs : sequence of path
        TOML specs; each writes the run folder ``out/<spec name>``.
    out : path, default "reports"
        Where the run folders and the index go.
    jobs : int, optional
        Local processes (default: the CPUs this process may use). Ignored with a scheduler. A
        lone run uses this session's runner for ``jobs`` (:func:`bayes_ips.session.runner`).
    scheduler : str or distributed.Client, optional
        A Dask scheduler address (``tcp://host:8786``) or an open client; default: the
        ``BAYES_IPS_SCHEDULER`` environment variable, else local processes.
    quick : bool, optional
        Few draws for every run (marked in every output). Default: ``BAYES_IPS_QUICK``.
    force : bool, default False
        Run every spec, even unchanged ones.
    progress : callable, optional
        ``progress(done, total, label)`` as runs finish.

    Returns
    -------
    BatchResults
        Its ``exit_code`` is the most severe of the runs' exit codes.

    Raises
    ------
    InputError
        Before anything is written: no specs, two specs with the same run name, a bad ``jobs``
        value, or a scheduler that cannot be reached. A spec or data file that is invalid is not
        an error of the batch: that run is recorded as invalid input and the others go on.
    """
    from bayes_ips.api import quick_from_environment

    if not specs:
        raise InputError("argument", "name at least one spec file", field="SPEC")
    if quick is None:
        quick = quick_from_environment()
    runner = session.runner(jobs)
    if scheduler is None:
        scheduler = os.environ.get(SCHEDULER_ENV) or None
    out = Path(out)
    plans = [_plan(str(s), out, quick, force) for s in specs]
    _check_names(plans)
    env = tuple((k, os.environ[k]) for k in FORWARDED_ENV if k in os.environ)
    tasks = {
        i: Task(p.spec, quick, _recorded_command(p.path, quick), __version__, env)
        for i, p in enumerate(plans)
        if p.spec is not None
    }
    total = len(plans)
    done = total - len(tasks)
    if progress is not None:
        progress(done, total, f"{done} unchanged or invalid" if done else "starting")
    outcomes = _dask(tasks, scheduler) if scheduler else _local(tasks, runner)
    logs = []
    for i, outcome in outcomes:
        plan = plans[i]
        record = plan.record
        record.code, record.status = outcome.code, STATUS[outcome.code]
        record.message, record.seconds = outcome.message, outcome.seconds
        if outcome.files:
            _store(out, record.name, outcome, plan.key, plan.path)
            record.headline = headline(json.loads(outcome.files["summary.json"]))
        if outcome.log:
            logs.append(f"== {plan.path} ({record.name})\n{outcome.log}")
            record.message += f" (traceback in {out / ERROR_LOG})"
        done += 1
        if progress is not None:
            progress(done, total, f"{record.name}: {record.status}")
    results = BatchResults(out, [p.record for p in plans])
    write_index(results, "".join(logs))
    return results


def write_index(results: BatchResults, log: str = "") -> None:
    """Write ``index.csv``, ``index.html`` (and the error log, if any) into the batch folder."""
    out = results.out
    out.mkdir(parents=True, exist_ok=True)
    table = results.table()
    _replace(out / "index.csv", table.to_csv(index=False))
    _replace(out / "index.html", render_index(results, table))
    if log:
        _replace(out / ERROR_LOG, log)
    else:
        (out / ERROR_LOG).unlink(missing_ok=True)


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def render_index(results: BatchResults, table: pd.DataFrame) -> str:
    """The batch index as a self-contained HTML page."""
    from bayes_ips.report import render_batch_index
    from bayes_ips.report.format import pct, pp

    rows = []
    for rec in table.astype(object).where(table.notna(), None).to_dict("records"):
        has = rec["p_benefit"] is not None
        rows.append(
            {
                **rec,
                "p_benefit_text": pct(rec["p_benefit"]) if has else "",
                "rd_text": f"{pp(rec['rd_median'])} ({100 * rec['rd_level']:g}% CrI "
                f"{pp(rec['rd_lo'])} to {pp(rec['rd_hi'])})"
                if has
                else "",
                "horizon_text": f"{rec['horizon_months']:g}" if has else "",
                "range_text": f"{pct(rec['p_benefit_min'])} to {pct(rec['p_benefit_max'])}"
                if has
                else "",
            }
        )
    return render_batch_index(rows, results.exit_code, STATUS[results.exit_code])
