"""The Python entry points, one per command-line verb.

- :func:`reanalyze` (``bayes-ips run``) returns a :class:`Results` for notebooks and scripts;
- :func:`check_data` (``bayes-ips check-data``) validates a trial table;
- :func:`list_priors` (``bayes-ips priors``) lists the named priors;
- :func:`rerender` (``bayes-ips report``) and :func:`load_run` work on finished run folders;
- :func:`bayes_ips.batch.run_batch` (``bayes-ips batch``) runs many specs.

Setting the environment variable ``BAYES_IPS_QUICK=1`` makes :func:`reanalyze` default to
``quick=True`` (few draws), so notebooks can be smoke-run in CI; an explicit ``quick=`` wins.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import matplotlib.figure
import matplotlib.pyplot as plt
import pandas as pd
import xarray as xr

from bayes_ips import session
from bayes_ips.analyses.registry import layout
from bayes_ips.context import check_model_rules, model_rules, prepare
from bayes_ips.data import TrialData, load_trial
from bayes_ips.errors import EXIT_NOT_CONVERGED, EXIT_OK, InputError
from bayes_ips.fit import Fit
from bayes_ips.inference import load_fit, save_fit
from bayes_ips.pipeline import Progress, load_spec, run_analysis
from bayes_ips.priors import library
from bayes_ips.priors.ess import prior_ess
from bayes_ips.priors.library import PriorContext
from bayes_ips.report import render_notebook_html, write_report
from bayes_ips.report.figures import Figure, all_figures, figure_calls, rd_density_plot
from bayes_ips.report.format import QUICK_RUN, UNVERIFIED_DATA, pct, pp
from bayes_ips.report.summary import (
    FIGURE_DATA,
    SCHEMA_VERSION,
    headline_fit,
    merge_figure_data,
    schema_errors,
)
from bayes_ips.rundir import atomic_dir
from bayes_ips.runner import Runner
from bayes_ips.spec import DEFAULT_SPEC, Spec

SAFE_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
"""What ``<model>__<prior>`` of a saved run must look like: a plain file name."""
FIT_KEYS = ("model", "prior", "file")
QUICK_ENV = "BAYES_IPS_QUICK"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
KEEP_ON_RERENDER = ("run-key.json",)
"""Files in a run folder that re-rendering carries over unchanged (the batch's content key)."""


@dataclass
class Results:
    """A finished reanalysis, as returned by :func:`reanalyze` and :func:`load_run`.

    In a notebook the object shows itself as the headline table with the convergence status.

    Attributes
    ----------
    summary_data : dict
        The report data: what summary.json holds, with the arrays that only draw figures
        (``figures/figure_data.json`` in a run folder) in their places.
    fits : list of Fit
        One per model × prior; ``fit.tree`` is its :class:`xarray.DataTree` (``posterior`` holds
        ``p[chain, draw, arm, horizon]``). :attr:`trees` has the same trees by label.
    """

    summary_data: dict
    fits: list[Fit]
    _figures: dict[str, Figure] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        """True when every convergence check passed."""
        return all(d["passed"] for d in self.summary_data["diagnostics"])

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.passed else EXIT_NOT_CONVERGED

    @property
    def trees(self) -> dict[str, xr.DataTree]:
        """The fitted DataTrees by ``"model/prior"`` label, in the order they were fitted."""
        return {f"{fit.model}/{fit.prior.name}": fit.tree for fit in self.fits}

    def summary(self) -> pd.DataFrame:
        """One row per model × prior × horizon: P(benefit) and RD, RR, OR medians and intervals.

        ``verified_data`` is False where the horizon's counts are unverified placeholders.
        """
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

    def data(self) -> pd.DataFrame:
        """The trial table as analysed: counts, whether each row is verified, and its source."""
        return pd.DataFrame(self.summary_data["data"])

    def diagnostics(self) -> pd.DataFrame:
        """One row per MCMC fit with its convergence checks (exact fits need none)."""
        columns = ["model", "prior", "passed", "messages"]
        rows = self.summary_data["diagnostics"]
        return pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns)

    def figures(self) -> dict[str, Figure]:
        """The report's figures that apply to this run, by name (rendered once, then cached)."""
        if self._figures is None:
            self._figures = {
                f.name: f for f in all_figures(self.fits, self.summary_data, layout().figures)
            }
        return self._figures

    def plot(self, name: str) -> matplotlib.figure.Figure:
        """The report figure ``name`` as a matplotlib figure; ``results.plot_<name>()`` is the same.

        The names are those of :meth:`figures` (``rd_density``, ``ppc``, ...); each figure is
        drawn by the one builder the report uses.
        """
        figures = self.figures()
        if name not in figures:
            raise InputError(
                "argument",
                f"no figure of that name; this run has: {', '.join(figures)}",
                value=name,
            )
        return figures[name].mpl

    def plot_rd(self) -> matplotlib.figure.Figure:
        """Posterior densities of the risk difference per horizon (a matplotlib figure)."""
        fig = rd_density_plot(self.fits, self.summary_data)
        plt.close(fig)  # returned, not left open in pyplot: a notebook shows it once
        return fig

    def __getattr__(self, attr: str):
        if attr.startswith("plot_") and not attr.startswith("plot__"):
            name = attr[len("plot_") :]
            if name in self.figures():
                return partial(self.plot, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")

    def report(self, path: str | Path, jobs: int | None = None) -> Path:
        """Write the run folder (report.html, report.md, summary.json, fits/, figures/);
        ``jobs`` as in :func:`write_run`."""
        return write_run(Path(path), self, jobs=jobs)

    def headline(self) -> list[str]:
        """One line per horizon of the first fit, as printed by the command line; marked
        QUICK RUN for a quick run."""
        headline = headline_fit(self.summary_data)
        quick = f"  [{QUICK_RUN}]" if self.summary_data["run"]["quick"] else ""
        lines = []
        for r in self.summary_data["results"]:
            if (r["model"], r["prior"]) != headline:
                continue
            flag = ("" if r["verified_data"] else f"  [{UNVERIFIED_DATA}]") + quick
            lines.append(
                f"{r['horizon_months']:>4g} months  P(benefit) {pct(r['p_benefit'])}  "
                f"RD {pp(r['rd']['median'])} pp ({pp(r['rd']['lo'])} to {pp(r['rd']['hi'])})"
                f"{flag}"
            )
        return lines

    def status(self) -> str:
        """The convergence status in words."""
        checks = self.summary_data["diagnostics"]
        if not checks:
            return "exact (conjugate) fits only: no MCMC convergence checks apply"
        failed = [d for d in checks if not d["passed"]]
        if not failed:
            return f"all convergence checks passed ({len(checks)} MCMC fits)"
        names = ", ".join(f"{d['model']} / {d['prior']}" for d in failed)
        return f"NOT CONVERGED: {len(failed)} of {len(checks)} MCMC fits failed ({names})"

    def __repr__(self) -> str:
        run = self.summary_data["run"]
        quick = f" [{QUICK_RUN}: few draws]" if run["quick"] else ""
        model, prior = headline_fit(self.summary_data)
        lines = [
            f"<Results {run['title']!r}{quick}: {len(self.fits)} fits; {self.status()}>",
            f"  headline {model} / {prior}:",
            *(f"  {line}" for line in self.headline()),
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return render_notebook_html(self.summary_data, self.status(), self.passed)


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
    quick: bool | None = None,
    progress: Progress | None = None,
    command: str | None = None,
    jobs: int | None = None,
    runner: Runner | None = None,
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
    quick : bool, optional
        Few draws, for smoke tests and demos; every output says so. Default: False, or True when
        the environment variable ``BAYES_IPS_QUICK`` is ``1``/``true``/``yes``/``on``.
    progress : callable, optional
        ``progress(label, done, total)`` before each fit.
    command : str, optional
        The command recorded in the report (the CLI passes its own).
    jobs : int, optional
        Processes working side by side: helper processes fit MCMC model families beside this
        one and share the analyses after the fits (default: the cores this process may use; 1
        does everything in this process). The numbers do not depend on it. The helpers are this
        session's (:func:`bayes_ips.session.runner`): started on first use and kept, so the next
        call finds them with the package imported.
    runner : Runner, optional
        The processes to work in instead of the session's for ``jobs`` (a batch worker passes
        ``Runner(1, cores=1)``); give ``jobs`` or ``runner``, not both.
    """
    if quick is None:
        quick = quick_from_environment()
    effective = _spec(spec).with_overrides(
        data=data, treatment=treatment, control=control, seed=seed, quick=quick
    )
    run = run_analysis(effective, progress, _runner(jobs, runner))
    summary = run.summary(command or _python_command(spec, data, treatment, control, seed, quick))
    return Results(summary, run.fitted.fits)


def _runner(jobs: int | None, runner: Runner | None) -> Runner:
    """``runner``, or this session's runner for ``jobs``."""
    if runner is None:
        return session.runner(jobs)
    if jobs is not None:
        raise ValueError(f"give jobs or runner, not both (jobs={jobs}, {runner})")
    return runner


def quick_from_environment() -> bool:
    """Whether ``BAYES_IPS_QUICK`` asks for quick runs (unset: no)."""
    value = os.environ.get(QUICK_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(
        "environment",
        f"must be one of {', '.join(_TRUE)} (quick) or {', '.join(repr(v) for v in _FALSE)}",
        field=QUICK_ENV,
        value=os.environ[QUICK_ENV],
    )


def check_data(path: str | Path, spec: str | Path | Spec | None = None) -> TrialData:
    """Validate a trial table (``bayes-ips check-data``) and return it: the rules of every table,
    and those the models of ``spec`` (default: the bundled analysis) need (:func:`data_rules`),
    checked on every arm; with ``spec`` given, also its treatment and control labels. A table
    that passes here passes them in a run of ``spec``.

    Returns
    -------
    TrialData
        ``.table`` (one row per arm × horizon, with ``verified`` and ``source``), ``.warnings``,
        ``.arms``, ``.horizons`` and ``.sha256`` of the file's bytes.

    Raises
    ------
    InputError
        Naming the file, line, field, value and the rule broken (and the models that need it).
    """
    effective = _spec(spec)
    data = load_trial(path, effective.options.get("ipd"))
    if spec is not None:
        data.check_comparison(effective.comparison)
    check_model_rules(effective, data)
    return data


def data_rules(spec: str | Path | Spec | None = None) -> dict[str, list[str]]:
    """The data rules that the models of ``spec`` (default: the bundled analysis) add to those
    of every table, each with the models that need it."""
    return model_rules(_spec(spec))


def list_priors(spec: str | Path | None = None, data: str | Path | None = None) -> pd.DataFrame:
    """The named priors (``bayes-ips priors``): name, group, distribution, ESS and recipe.

    Priors anchored on the trial (MCID, evidence-based) use the control rate of ``spec``'s data
    (default: the bundled analysis), or of ``data`` when given.
    """
    context = prior_context(spec, data)
    return pd.DataFrame(
        [
            {
                "name": p.name,
                "group": p.group,
                "description": p.describe(),
                "ess": prior_ess(p, context.control_rate),
                "recipe": p.recipe,
            }
            for p in library(context).values()
        ]
    )


def prior_context(spec: str | Path | None = None, data: str | Path | None = None) -> PriorContext:
    """The prior library's context of a run of ``spec`` (default: the bundled analysis), or of
    that spec on ``data``: the prior settings and the anchor control rate."""
    return prepare(_spec(spec).with_overrides(data=data)).priors


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


def write_run(
    target: Path,
    results: Results,
    extra: dict[str, bytes] | None = None,
    jobs: int | None = None,
    *,
    runner: Runner | None = None,
) -> Path:
    """Write a run folder atomically: fits, figures, report.html, report.md, summary.json.

    Parameters
    ----------
    extra : dict, optional
        More files for the folder, ``{file name: bytes}`` (the batch's content key).
    jobs : int, optional
        Processes saving the fits and rendering the figures side by side, if this session's
        helper processes for ``jobs`` are already running (:func:`bayes_ips.session.runner`;
        default: the cores this process may use).
    runner : Runner, optional
        The processes to work in instead of the session's for ``jobs``; give ``jobs`` or
        ``runner``, not both.
    """
    runner = _runner(jobs, runner)
    run = results.summary_data["run"]
    with atomic_dir(target) as tmp:
        fits_dir = tmp / "fits"
        fits_dir.mkdir()
        hashes = {"data_sha256": run["data_sha256"], "spec_sha256": run["spec_sha256"]}
        calls = [partial(save_fit, fit, fits_dir, **hashes) for fit in results.fits]
        if results._figures is None:
            calls += figure_calls(results.fits, results.summary_data, layout().figures)
        with runner.guarded():
            done = runner.share(calls)
        if results._figures is None:
            figures = [fig for fig in done[len(results.fits) :] if fig is not None]
        else:
            figures = list(results._figures.values())
        write_report(tmp, results.summary_data, results.fits, layout(), figures)
        for name, content in (extra or {}).items():
            (tmp / name).write_bytes(content)
    return target


def load_run(run_dir: str | Path) -> Results:
    """Load a finished run (summary.json, figures/figure_data.json and fits), verifying each fit
    against the summary."""
    folder = Path(run_dir)
    path = folder / "summary.json"
    if not path.is_file():
        raise InputError(str(folder), "not a bayes_ips run folder (no summary.json)")
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        run = summary["run"]
        entries = run["fits"]
        well_formed = (
            isinstance(run["data_sha256"], str)
            and isinstance(summary["diagnostics"], list)
            and all(isinstance(entry[k], str) for entry in entries for k in FIT_KEYS)
        )
        if not well_formed:
            raise TypeError
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise InputError(str(path), "not a readable bayes_ips summary.json") from None
    major = SCHEMA_VERSION.split(".")[0]
    if not str(summary.get("schema_version")).startswith(f"{major}."):
        raise InputError(
            str(path),
            f"written by another bayes_ips (summary.json schema {major}.x is read): run it again",
            field="schema_version",
            value=summary.get("schema_version"),
        )
    errors = schema_errors(summary)
    if errors:
        raise InputError(
            str(path),
            f"does not follow the summary.json schema {SCHEMA_VERSION} "
            f"(bayes_ips/schemas/summary.schema.json): {errors[0].message}",
            field=errors[0].json_path,
        )
    figure_path = folder / FIGURE_DATA
    if not figure_path.is_file():
        raise InputError(str(figure_path), "missing (the arrays the figures are drawn from)")
    try:
        merge_figure_data(summary, json.loads(figure_path.read_text(encoding="utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError, TypeError, ValueError):
        raise InputError(
            str(figure_path), "not readable figure data of this run's summary.json"
        ) from None
    checks = {(d["model"], d["prior"]): d for d in summary.get("diagnostics", [])}
    fits = []
    for entry in entries:
        label = f"{entry['model']}__{entry['prior']}"
        if not SAFE_LABEL.match(label):
            raise InputError(
                str(path),
                "a fit's model or prior is not a plain name (re-rendering writes fits/<model>__"
                "<prior>.nc)",
                field="run.fits",
                value=label,
            )
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


def rerender(run_dir: str | Path, loaded: Callable[[], None] | None = None) -> Results:
    """Rebuild report.html, report.md, summary.json and figures of a run without sampling
    (``loaded``, if given, is called once the run has loaded and before anything is written)."""
    folder = Path(run_dir)
    results = load_run(folder)
    if loaded is not None:
        loaded()
    kept = {
        name: (folder / name).read_bytes() for name in KEEP_ON_RERENDER if (folder / name).is_file()
    }
    write_run(folder, results, kept)
    return results
