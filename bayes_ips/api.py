"""The Python entry points: :func:`reanalyze` for notebooks and scripts, :func:`rerender` for runs.

Everything the ``bayes-ips`` command line does goes through these functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bayes_ips.analysis import Fit, Progress, run_analysis
from bayes_ips.errors import EXIT_NOT_CONVERGED, EXIT_OK, InputError
from bayes_ips.inference import load_fit, save_fit
from bayes_ips.report import build_summary, write_report
from bayes_ips.report.figures import rd_density_plot
from bayes_ips.report.sections import pct, pp
from bayes_ips.rundir import atomic_dir
from bayes_ips.spec import DEFAULT_SPEC, Spec, load_spec


@dataclass
class Results:
    """A finished reanalysis.

    Attributes
    ----------
    summary_data : dict
        The report data (what summary.json holds).
    fits : list of Fit
        Each fit's DataTree is ``fit.tree``.
    """

    summary_data: dict
    fits: list[Fit]

    @property
    def passed(self) -> bool:
        """True when every convergence check passed."""
        return all(d["passed"] for d in self.summary_data["diagnostics"])

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.passed else EXIT_NOT_CONVERGED

    def summary(self) -> pd.DataFrame:
        """One row per model × prior × horizon: P(benefit) and RD, RR, OR medians and intervals."""
        rows = []
        for r in self.summary_data["results"]:
            row = {
                k: r[k]
                for k in (
                    "model",
                    "prior",
                    "horizon_months",
                    "p_benefit",
                    "p_benefit_mcse",
                    "verified_data",
                )
            }
            for est in ("rd", "rr", "or"):
                for part in ("median", "lo", "hi"):
                    row[f"{est}_{part}"] = r[est][part]
            rows.append(row)
        return pd.DataFrame(rows)

    def plot_rd(self):
        """Posterior densities of the risk difference per horizon (a matplotlib Figure)."""
        return rd_density_plot(self.fits, self.summary_data)

    def report(self, path: str | Path) -> Path:
        """Write the run folder (report.html, report.md, summary.json, fits/, figures/)."""
        return write_run(Path(path), self)

    def headline(self) -> list[str]:
        """One line per horizon of the first fit, as printed by the command line."""
        first = self.summary_data["run"]["fits"][0]
        lines = []
        for r in self.summary_data["results"]:
            if (r["model"], r["prior"]) != (first["model"], first["prior"]):
                continue
            flag = "" if r["verified_data"] else "  [UNVERIFIED placeholder data]"
            lines.append(
                f"{r['horizon_months']:>4g} months  P(benefit) {pct(r['p_benefit'])}  "
                f"RD {pp(r['rd']['median'])} pp ({pp(r['rd']['lo'])} to {pp(r['rd']['hi'])})"
                f"{flag}"
            )
        return lines

    def _repr_html_(self) -> str:
        table = self.summary()[
            [
                "model",
                "prior",
                "horizon_months",
                "p_benefit",
                "rd_median",
                "rd_lo",
                "rd_hi",
                "verified_data",
            ]
        ]
        status = (
            "all convergence checks passed" if self.passed else "NOT CONVERGED: see diagnostics"
        )
        return (
            f"<p><strong>{self.summary_data['run']['title']}</strong> — {status}</p>"
            + table.to_html(index=False, float_format=lambda x: f"{x:.3f}")
        )


def _spec(spec: str | Path | Spec | None) -> Spec:
    if isinstance(spec, Spec):
        return spec
    return load_spec(DEFAULT_SPEC if spec is None else spec)


def reanalyze(
    spec: str | Path | Spec | None = None,
    *,
    data: str | Path | None = None,
    treatment: str | None = None,
    control: str | None = None,
    seed: int | None = None,
    quick: bool = False,
    progress: Progress | None = None,
    command: str | None = None,
) -> Results:
    """Run a reanalysis and return its results (nothing is written until ``.report(path)``).

    Parameters
    ----------
    spec : path, Spec or None
        A TOML spec; None runs the bundled default (``models/default.toml``).
    data : path, optional
        Replace the spec's data with a table in the same format.
    treatment, control : str, optional
        Arm labels overriding the spec's.
    seed : int, optional
        Overrides the spec's seed.
    quick : bool, default False
        Few draws, for smoke tests and demos; every output says so.
    progress : callable, optional
        ``progress(label, done, total)`` before each fit.
    command : str, optional
        The command recorded in the report (the CLI passes its own).
    """
    effective = _spec(spec).with_overrides(
        data=data, treatment=treatment, control=control, seed=seed, quick=quick
    )
    analysis = run_analysis(effective, progress)
    summary = build_summary(
        analysis, command or _python_command(spec, data, treatment, control, seed, quick)
    )
    return Results(summary, analysis.fits)


def _python_command(spec, data, treatment, control, seed, quick) -> str:
    args = [repr(str(spec))] if spec is not None and not isinstance(spec, Spec) else []
    for name, value in (
        ("data", data),
        ("treatment", treatment),
        ("control", control),
        ("seed", seed),
    ):
        if value is not None:
            args.append(f"{name}={str(value)!r}" if name != "seed" else f"seed={value}")
    if quick:
        args.append("quick=True")
    return f"bayes_ips.reanalyze({', '.join(args)})"


def write_run(target: Path, results: Results) -> Path:
    """Write a run folder atomically: fits, figures, report.html, report.md, summary.json."""
    run = results.summary_data["run"]
    with atomic_dir(target) as tmp:
        fits_dir = tmp / "fits"
        fits_dir.mkdir()
        for fit in results.fits:
            save_fit(fit, fits_dir, data_sha256=run["data_sha256"], spec_sha256=run["spec_sha256"])
        write_report(tmp, results.summary_data, results.fits)
    return target


def load_run(run_dir: str | Path) -> Results:
    """Load a finished run (summary.json and fits), verifying each fit against the summary."""
    folder = Path(run_dir)
    path = folder / "summary.json"
    if not path.is_file():
        raise InputError(str(folder), "not a bayes_ips run folder (no summary.json)")
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        run = summary["run"]
        entries = run["fits"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise InputError(str(path), "not a readable bayes_ips summary.json") from None
    checks = {(d["model"], d["prior"]): d for d in summary.get("diagnostics", [])}
    fits = []
    for entry in entries:
        fit_path = folder / entry["file"]
        if not fit_path.resolve().is_relative_to(folder.resolve()):
            raise InputError(
                str(path),
                "fit file path leaves the run folder",
                field="run.fits.file",
                value=entry["file"],
            )
        if not fit_path.is_file():
            raise InputError(str(fit_path), "saved fit is missing")
        fit = load_fit(
            fit_path,
            model=entry["model"],
            prior=entry["prior"],
            seed=entry["seed"],
            data_sha256=run["data_sha256"],
        )
        fit.diagnostics = checks.get((fit.model, fit.prior.name))
        fits.append(fit)
    return Results(summary, fits)


def rerender(run_dir: str | Path) -> Results:
    """Rebuild report.html, report.md, summary.json and figures of a run without sampling."""
    results = load_run(run_dir)
    write_run(Path(run_dir), results)
    return results
