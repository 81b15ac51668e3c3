"""``python -m bayes_ips.validation``: simulation-based calibration of every PyMC model family.

Simulates trials of the bundled IPS in Pain shape (two arms, horizons 6/12/24 months, 36 and 18
analysed; models that need individual participant data use the bundled synthetic participant
table of the same trial, its follow-up and covariates), refits each model to each, and writes
``report.html`` and ``sbc.json`` to ``--out`` (default ``reports/validation``). Exit code 0 when
every model passes, 3 when one fails, 2 for invalid arguments.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from dataclasses import replace

from pydantic import ValidationError

from bayes_ips.data import Comparison, load_trial
from bayes_ips.errors import EXIT_INPUT, EXIT_NOT_CONVERGED, EXIT_OK, InputError
from bayes_ips.models import IPD_MODELS, PYMC_MODELS
from bayes_ips.priors import get_prior
from bayes_ips.validation import report
from bayes_ips.validation.sbc import SBC_SAMPLER, SBCSettings, run_sbc

AGGREGATE_SHAPE = "package:ips_in_pain.csv"
PARTICIPANT_SHAPE = "package:ips_in_pain_synthetic_ipd.csv"


def trial_counts(model: str):
    """The counts whose shape the simulated trials of ``model`` take."""
    shape = PARTICIPANT_SHAPE if model in IPD_MODELS else AGGREGATE_SHAPE
    return load_trial(shape).counts(Comparison())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bayes_ips.validation",
        description="Simulation-based calibration of the PyMC model families.",
    )
    add = parser.add_argument
    add("--simulations", type=int, default=SBCSettings.simulations, help="N per model (1000)")
    add("--models", nargs="+", choices=PYMC_MODELS, default=list(PYMC_MODELS), help="(all)")
    add("--prior", default="reference", help="named prior: reference, jeffreys or the 3 x 3 grid")
    add("--workers", type=int, default=min(2, os.cpu_count() or 1), help="local processes")
    add("--backend", choices=("nutpie", "pymc"), default=SBC_SAMPLER.backend, help="(nutpie)")
    add("--chains", type=int, default=SBC_SAMPLER.chains, help="per refit (2)")
    add("--draws", type=int, default=SBC_SAMPLER.draws, help="per chain (500)")
    add("--tune", type=int, default=SBC_SAMPLER.tune, help="per chain (500)")
    add("--alpha", type=float, default=SBCSettings.alpha, help="family-wise, per model (0.01)")
    add("--seed", type=int, default=SBCSettings.seed)
    add("--out", default="reports/validation", help="report folder (reports/validation)")
    return parser


def _progress(label: str, done: int, total: int) -> None:
    """A live counter on a terminal; elsewhere (make, CI logs) one line per tenth done."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{label}: {done}/{total}" + ("\n" if done == total else ""))
    elif done * 10 // total != (done - 1) * 10 // total:
        sys.stderr.write(f"{label}: {done}/{total} simulations refitted\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """Run the calibration and write the report; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_INPUT if exc.code else EXIT_OK
    if args.simulations < 2 or not 0 < args.alpha < 1 or min(args.chains, args.workers) < 1:
        print(
            "error: need --simulations >= 2, 0 < --alpha < 1, --chains, --workers >= 1",
            file=sys.stderr,
        )
        return EXIT_INPUT
    try:
        sampler = replace(
            SBC_SAMPLER, backend=args.backend, chains=args.chains, draws=args.draws, tune=args.tune
        )
    except ValidationError as exc:  # the [sampler] rules: e.g. at least 50 draws
        for error in exc.errors():
            print(f"error: --{error['loc'][0]}: {error['msg']}", file=sys.stderr)
        return EXIT_INPUT
    settings = SBCSettings(
        simulations=args.simulations,
        sampler=sampler,
        alpha=args.alpha,
        workers=args.workers,
        seed=args.seed,
    )
    try:
        prior = get_prior(args.prior)
        results = [run_sbc(m, trial_counts(m), prior, settings, _progress) for m in args.models]
    except InputError as exc:  # e.g. a prior without the component a model needs
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_INPUT
    command = shlex.join(["python", "-m", "bayes_ips.validation", *(argv or sys.argv[1:])])
    data = report.write(args.out, results, command)
    for m in data["models"]:
        verdict = "pass" if m["passed"] else "FAIL"
        worst = min(m["checks"], key=lambda c: c["p_holm"])
        print(
            f"{m['model']} / {m['prior']}: {verdict} (N = {m['simulations']}, smallest Holm "
            f"p = {worst['p_holm']:.3f} for {worst['parameter']}, {m['seconds']:.0f} s)"
        )
    print(f"report: {os.path.join(args.out, 'report.html')}")
    return EXIT_OK if data["passed"] else EXIT_NOT_CONVERGED


if __name__ == "__main__":
    sys.exit(main())
