"""The ``bayes-ips`` command line: parse, call :mod:`bayes_ips.api`, print, exit.

Exit codes: 0 finished and converged; 1 internal error (a bug: a short message and the path of a
log with the traceback); 2 invalid input (one line naming file, field, value and rule; nothing
written); 3 finished but a convergence check failed. ``batch`` returns the most severe of its
runs' codes (1, then 2, then 3, else 0) after attempting every run.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import gc
import os
import re
import shlex
import signal
import sys
import traceback
from pathlib import Path

from bayes_ips import session
from bayes_ips.errors import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    InputError,
    route_warnings,
    write_log,
)
from bayes_ips.runner import children_die_with_parent, collect_less

PROG = "bayes-ips"


_ERROR_CODES = """
  1  internal error (a bug: a short message and the path of a log with the traceback)
  2  invalid input: data, spec or arguments (one line per mistake; nothing written)"""

EXIT_CODES = f"""exit codes:
  0  finished; every convergence check passed{_ERROR_CODES}
  3  finished, but a convergence check failed (the report and summary say which fit)"""
"""The exit codes, as ``run``'s ``--help`` (and the top level's) lists them."""

CHECK_EXIT_CODES = f"""exit codes:
  0  done (check-data: the table is valid){_ERROR_CODES}"""
"""The exit codes of the commands that fit nothing (``check-data``, ``report``, ``priors``):
no convergence check, so no 3."""

DEFAULT_SPEC_HELP = "the bundled IPS in Pain analysis, as models/default.toml"

BATCH_EXIT_CODES = """exit codes: the most severe of the runs' codes, once every run was attempted
  1  a run hit an internal error (tracebacks in OUT/batch-errors.log)
  2  a run had invalid input (or the batch's own arguments are invalid; nothing run)
  3  a run did not converge
  0  every run finished and converged"""
"""The exit codes of ``batch``, as its ``--help`` lists them."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2: ``argument --seed: invalid
    int value: 'abc'``, or the command's name and argparse's message."""

    def error(self, message: str):
        option = _ARGUMENT.match(message)
        if option:
            raise InputError("argument", option["rule"], field=option["name"])
        command = self.prog.removeprefix(PROG).strip() or "command line"
        raise InputError(command, message)


_ARGUMENT = re.compile(r"argument (?P<name>[^:]+): (?P<rule>.*)", re.DOTALL)
"""An argparse message about one argument (``argument --jobs: invalid int value: 'x'``)."""


def _check_command(argv: list[str]) -> None:
    """Refuse an unknown command before argparse does, suggesting the nearest one
    (``bayes-ips rnu``: did you mean 'run'?)."""
    if not argv or argv[0].startswith("-") or argv[0] in COMMANDS:
        return
    near = difflib.get_close_matches(argv[0], COMMANDS, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise InputError(
        "command line",
        f"unknown command{hint} (commands: {', '.join(COMMANDS)})",
        value=argv[0],
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Bayesian reanalysis of randomised trials with a "
        "binary outcome at several follow-up horizons.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from bayes_ips._version import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    command = functools.partial(
        sub.add_parser, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter
    )

    run = command("run", help="run a reanalysis (default: the bundled IPS in Pain spec)")
    run.add_argument("spec", nargs="?", help=f"analysis spec (TOML); default {DEFAULT_SPEC_HELP}")
    run.add_argument("--data", help="replace the spec's data with this table (CSV/Parquet/XLSX)")
    run.add_argument("--treatment", help="label of the treatment arm")
    run.add_argument("--control", help="label of the control arm")
    run.add_argument("--out", help="run folder (default reports/<spec name>)")
    run.add_argument("--seed", type=int, help="random seed (overrides the spec)")
    run.add_argument(
        "--quick",
        action="store_true",
        help="few draws, for smoke tests and demos (marked in every output)",
    )
    run.add_argument(
        "--jobs",
        type=int,
        help="processes fitting model families side by side (default: number of CPUs; "
        "the numbers do not depend on it)",
    )

    check = command(
        "check-data", help="validate a trial table and print what it holds", epilog=CHECK_EXIT_CODES
    )
    check.add_argument(
        "path", help="the trial table (CSV/Parquet/XLSX), or package:NAME for a bundled one"
    )
    check.add_argument(
        "--spec",
        help=f"check also this spec's arm labels and the rules its models need (default: "
        f"{DEFAULT_SPEC_HELP}, without its arm labels)",
    )

    report = command(
        "report", help="re-render a finished run without resampling", epilog=CHECK_EXIT_CODES
    )
    report.add_argument(
        "run_dir", help="the folder of a finished run (holding summary.json and fits/)"
    )

    priors = command(
        "priors", help="list the named priors with their recipes", epilog=CHECK_EXIT_CODES
    )
    priors.add_argument(
        "spec", nargs="?", help=f"analysis spec (TOML); default {DEFAULT_SPEC_HELP}"
    )
    priors.add_argument("--data", help="the trial table that anchors the control rate")
    batch = command(
        "batch",
        help="run many specs; skip unchanged ones; write an index of all runs",
        description="Run every SPEC into OUT/<spec name>/, skipping specs whose spec, data and\n"
        "package version are unchanged since their last successful run, and write\n"
        "OUT/index.html and OUT/index.csv.",
        epilog=BATCH_EXIT_CODES,
    )
    batch.add_argument("specs", nargs="+", metavar="SPEC", help="analysis specs (TOML)")
    batch.add_argument("--out", default="reports", help="folder for the runs (default reports)")
    batch.add_argument(
        "--jobs", type=int, help="local processes running at once (default: number of CPUs)"
    )
    batch.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="send the runs to this Dask scheduler (tcp://host:8786) instead of local "
        "processes; default: $BAYES_IPS_SCHEDULER",
    )
    batch.add_argument(
        "--quick",
        action="store_true",
        help="few draws for every run, for smoke tests and demos (marked in every output)",
    )
    batch.add_argument("--force", action="store_true", help="run every spec, even those unchanged")
    return parser


def _progress(label: str, done: int, total: int) -> None:
    if sys.stderr.isatty():
        end = "\n" if done == total else ""
        sys.stderr.write(f"\r\033[K[{done}/{total}] {label}{end}")
        sys.stderr.flush()


def _recorded_command(args: argparse.Namespace) -> str:
    """The command as it reproduces the analysis (the output folder is left out)."""
    parts = [PROG, "run"]
    if args.spec:
        parts.append(args.spec)
    for flag in ("data", "treatment", "control", "seed"):
        value = getattr(args, flag)
        if value is not None:
            parts += [f"--{flag}", str(value)]
    if args.quick:
        parts.append("--quick")
    return shlex.join(parts)


def _prepare_helper() -> None:
    """Import what a helper needs for fits, analyses and figures: the warm-up task the command
    line sends to its helpers (:meth:`bayes_ips.runner.Runner.warm_up`)."""
    import nutpie  # noqa: F401
    import pymc  # noqa: F401

    import bayes_ips.api  # noqa: F401


def _run(args: argparse.Namespace) -> int:
    from bayes_ips import api
    from bayes_ips.rundir import check_replaceable

    if args.out:
        check_replaceable(Path(args.out))  # before any fit: a user's folder is never replaced
    runner = session.runner(args.jobs)
    started = False

    def progress(label: str, done: int, total: int) -> None:
        nonlocal started
        if not started:  # the inputs are valid: helpers import while this process goes on
            started = True
            runner.warm_up(_prepare_helper)
        _progress(label, done, total)

    results = api.reanalyze(
        args.spec,
        data=args.data,
        treatment=args.treatment,
        control=args.control,
        seed=args.seed,
        quick=args.quick,
        progress=progress,
        command=_recorded_command(args),
        jobs=args.jobs,
    )
    out = Path(args.out) if args.out else Path("reports") / results.summary_data["run"]["name"]
    api.write_run(out, results, jobs=args.jobs)
    args.run_folder = out  # a crash from here on is logged in the run's own folder
    _print_outcome(out, results)
    return results.exit_code


def _print_outcome(out: Path, results) -> None:
    from bayes_ips.report.format import Wording
    from bayes_ips.report.summary import headline_fit

    print(f"report: {out / 'report.html'}")
    print(f"        {out / 'report.md'}")
    print(f"summary: {out / 'summary.json'}")
    model, prior = headline_fit(results.summary_data)
    words = Wording.of(results.summary_data["run"])
    print(f"P(benefit: {words.verb} the {words.rate()}) and risk difference, {model} / {prior}:")
    for line in results.headline():
        print(f"  {line}")
    for w in results.summary_data["warnings"]:
        print(f"warning: {w}", file=sys.stderr)
    for d in results.summary_data["diagnostics"]:
        if not d["passed"]:
            print(
                f"NOT CONVERGED: {d['model']} / {d['prior']}: {'; '.join(d['messages'])}",
                file=sys.stderr,
            )


def _check_data(args: argparse.Namespace) -> int:
    from bayes_ips import api

    data = api.check_data(args.path, args.spec)
    print(
        f"{data.origin}: valid; {len(data.table)} rows, arms {', '.join(data.arms)}, "
        f"horizons {', '.join(f'{h:g}' for h in data.horizons)} months"
    )
    unverified = data.table[~data.table["verified"]]
    if not unverified.empty:
        cells = ", ".join(f"{r.arm} {r.horizon_months:g} mo" for r in unverified.itertuples())
        print(f"unverified rows: {cells}")
    print(f"sha256: {data.sha256}")
    spec = args.spec or "models/default.toml"
    for rule, models in api.data_rules(args.spec).items():
        print(f"{', '.join(models)} of {spec} need: {rule}; met")
    for w in data.warnings:
        print(f"warning: {w}")
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from bayes_ips import api

    args.run_folder = Path(args.run_dir) if Path(args.run_dir).is_dir() else None
    # once the run folder has loaded, helpers import while this process starts the report
    results = api.rerender(args.run_dir, loaded=lambda: session.runner().warm_up(_prepare_helper))
    print(f"report: {Path(args.run_dir) / 'report.html'}")
    return results.exit_code


def _priors(args: argparse.Namespace) -> int:
    from bayes_ips import api
    from bayes_ips.priors.listing import describe_library

    for line in describe_library(api.prior_context(args.spec, args.data)):
        print(line)
    return EXIT_OK


def _bar(done: int, total: int, label: str) -> None:
    """One progress bar for the whole batch, on a terminal only."""
    if not sys.stderr.isatty():
        return
    width = 24
    filled = width * done // total if total else width
    end = "\n" if done == total else ""
    sys.stderr.write(
        f"\r\033[K[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}{end}"
    )
    sys.stderr.flush()


def _batch(args: argparse.Namespace) -> int:
    from bayes_ips.batch import run_batch
    from bayes_ips.report.format import QUICK_RUN, headline_text

    try:
        results = run_batch(
            args.specs,
            args.out,
            jobs=args.jobs,
            scheduler=args.scheduler,
            quick=args.quick,
            force=args.force,
            progress=_bar,
        )
    except KeyboardInterrupt:
        print(
            f"{PROG}: interrupted; runs that had finished were written, the index was not",
            file=sys.stderr,
        )
        return 130
    for run in results.runs:
        name = run.name or "-"
        line = f"{run.status:<20} {name:<28} {run.spec}"
        if run.headline is not None:
            line += f"\n{'':<21}{headline_text(run.headline)}"
            line += f" [{QUICK_RUN}]" if run.headline["quick"] else ""
        if run.message:
            line += f"\n{'':<21}{run.message}"
        print(line)
    print(f"index: {results.out / 'index.html'}")
    print(f"       {results.out / 'index.csv'}")
    return results.exit_code


COMMANDS = {
    "run": _run,
    "check-data": _check_data,
    "report": _report,
    "priors": _priors,
    "batch": _batch,
}


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bayes-ips`` console script (``argv``: the arguments, default
    ``sys.argv[1:]``). Called with ``argv``, as from Python, it leaves the helper processes
    running for the caller's next run (:mod:`bayes_ips.session`), and the caller's signal
    handlers, garbage-collector settings and warnings display as they were."""
    if argv is None:  # the command's own process: a caller from Python keeps its own handlers
        signal.signal(signal.SIGTERM, _interrupt)
        collect_less()
        route_warnings()
        children_die_with_parent()
    args = None
    try:
        _check_command(sys.argv[1:] if argv is None else argv)
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except InputError as exc:
        for line in exc.message.splitlines():  # several lines: every mistake in a spec
            print(f"{PROG}: error: {line}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception:
        log = write_log(traceback.format_exc(), "error", getattr(args, "run_folder", None))
        print(
            f"{PROG}: internal error (a bug, please report it); details in {log}", file=sys.stderr
        )
        return EXIT_INTERNAL
    finally:
        if argv is None:  # the command's own process, about to exit
            session.stop()  # idle helpers would delay the exit
            # Leave every object out of the collector's passes at interpreter shutdown: with the
            # sampler's compiler loaded they take about a second, and free nothing the ending
            # process needs freed.
            gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
