"""The report data: one JSON-serialisable dict, written as summary.json and figure_data.json.

HTML, Markdown and the two JSON files are all views of this dict, so a finished run can be
re-rendered from them and the saved fits alone. The top-level keys follow
``shared/design/outputs.md``; later analyses add keys, never rename them. Its JSON Schema is
``bayes_ips/schemas/summary.schema.json`` (the same file as ``docs/summary.schema.json``).

summary.json opens with the answer a reader wants first: ``headline`` (built by
:func:`headline`, the one place that picks the headline numbers, which the batch's terminal
line and index show) and ``status`` (converged, exit code, quick, warnings). The arrays that
only draw figures (heat-map grid, likelihood curve, tipping-point grid and curves, CEAC
curves: the :class:`~bayes_ips.report.sections.Layout`'s ``figure_data`` paths) are written to
``figures/figure_data.json`` instead (:func:`split_figure_data`) and merged back on loading
(:func:`merge_figure_data`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from importlib.metadata import PackageNotFoundError, version

import jsonschema

from bayes_ips._version import __version__
from bayes_ips.context import Fitted, RunContext
from bayes_ips.errors import EXIT_NOT_CONVERGED, EXIT_OK

SCHEMA_VERSION = "2.1.0"
"""Semantic versioning: a new major number removes or renames a key or changes its meaning, a
new minor number adds keys, a new patch number only clarifies the schema's descriptions."""
FIGURE_DATA = "figures/figure_data.json"
"""Where a run folder keeps the arrays that only draw figures, relative to the folder."""
UNITS = {
    "probabilities": "fractions from 0 to 1 (p_benefit, p_rd_gt, p_rope, MCSEs, ppp, weight)",
    "rd": "risk difference as a difference of proportions: 0.129 is 12.9 percentage points",
    "rr": "risk ratio (treatment / control)",
    "or": "odds ratio (treatment vs control)",
    "nnt": "participants treated per extra participant with the outcome (Altman's NNTB/NNTH)",
    "horizon_months": "months since enrolment",
    "intervals": "lo and hi are equal-tailed credible limits at run.interval (0.95: 95%)",
}
"""The units of summary.json's numbers, written into it as ``units``."""
DEPENDENCIES = (
    "numpy",
    "scipy",
    "pandas",
    "xarray",
    "arviz",
    "pymc",
    "pytensor",
    "matplotlib",
    "jinja2",
)


def created_utc() -> str:
    """Now in UTC, or ``SOURCE_DATE_EPOCH`` when set (reproducible builds convention)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def environment() -> dict[str, str]:
    out = {"python": platform.python_version(), "bayes_ips": __version__}
    for name in DEPENDENCIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def json_safe(value):
    """JSON-safe: NaN and infinities become ``None``; numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def build_summary(ctx: RunContext, fitted: Fitted, extras: dict[str, dict], command: str) -> dict:
    """The report data of a finished run.

    Parameters
    ----------
    ctx, fitted : RunContext, Fitted
        The run and its fits.
    extras : dict
        The post-fit analyses' results by summary key, in report order.
    command : str
        The command that ran it.
    """
    spec, data = ctx.spec, ctx.data
    compared = {spec.comparison.treatment, spec.comparison.control}
    rows = []
    for rec in data.table.to_dict("records"):
        row = {
            k: rec[k]
            for k in (
                "arm",
                "horizon_months",
                "employed",
                "n_analysed",
                "n_randomised",
                "verified",
                "source",
            )
        }
        row["compared"] = rec["arm"] in compared
        rows.append(row)
    priors = {}
    for fit in fitted.fits:
        priors.setdefault(
            fit.prior.name, {**fit.prior.as_dict(), "description": fit.prior.describe()}
        )
    summary = {
        "schema_version": SCHEMA_VERSION,
        "package_version": __version__,
        "created_utc": created_utc(),
        "run": {
            "title": spec.title,
            "name": spec.name,
            "spec": spec.origin,
            "spec_sha256": spec.sha256,
            "data": data.origin,
            "data_sha256": data.sha256,
            "seed": spec.seed,
            "quick": spec.quick,
            "verified_only": spec.verified_only,
            "treatment": spec.comparison.treatment,
            "control": spec.comparison.control,
            "outcome": spec.comparison.outcome,
            "direction": spec.comparison.direction,
            "primary_horizon": ctx.primary_horizon,
            "interval": spec.estimands.interval,
            "rope": spec.estimands.rope,
            "command": command,
            "sampler": dataclasses.asdict(spec.sampler),
            "thresholds": dataclasses.asdict(spec.thresholds),
            "fits": [
                {
                    "model": f.model,
                    "prior": f.prior.name,
                    "seed": f.seed,
                    "file": f"fits/{f.label}.nc",
                }
                for f in fitted.fits
            ],
        },
        "data": rows,
        "results": fitted.table.to_dict("records"),
        "diagnostics": [
            {"model": f.model, "prior": f.prior.name, "seed": f.seed, **f.diagnostics}
            for f in fitted.fits
            if f.diagnostics is not None
        ],
        "priors": list(priors.values()),
        "warnings": list(ctx.warnings),
        "environment": environment(),
        "units": UNITS,
    }
    summary.update(extras)
    summary = json_safe(summary)
    return {
        **{k: summary[k] for k in ("schema_version", "package_version", "created_utc")},
        "headline": headline(summary),
        "status": status(summary),
        **summary,
    }


def headline_fit(summary: dict) -> tuple[str, str]:
    """The headline fit of a summary, ``(model, prior)``: the first one the run lists."""
    first = summary["run"]["fits"][0]
    return first["model"], first["prior"]


def headline(summary: dict) -> dict:
    """The answer a reader sees first: the headline fit at the primary horizon.

    P(benefit) with its MCSE, the risk difference (a difference of proportions) with its
    equal-tailed interval and level, whether the counts behind it are verified, and the range of
    P(benefit) at that horizon across every model and prior of the run. When the data lack the
    primary horizon, the headline fit's last horizon is used.
    """
    run = summary["run"]
    model, prior = headline_fit(summary)
    rows = [r for r in summary["results"] if (r["model"], r["prior"]) == (model, prior)]
    row = next(
        (r for r in rows if r["horizon_months"] == run["primary_horizon"]),
        max(rows, key=lambda r: r["horizon_months"]),
    )
    at = [r for r in summary["results"] if r["horizon_months"] == row["horizon_months"]]
    low = min(at, key=lambda r: r["p_benefit"])
    high = max(at, key=lambda r: r["p_benefit"])
    return {
        "model": model,
        "prior": prior,
        "horizon_months": row["horizon_months"],
        "treatment": run["treatment"],
        "control": run["control"],
        "p_benefit": row["p_benefit"],
        "p_benefit_mcse": row["p_benefit_mcse"],
        "rd": {
            **{k: row["rd"][k] for k in ("median", "lo", "hi")},
            "level": run["interval"],
            "unit": "proportion",
        },
        "verified_data": row["verified_data"],
        "p_benefit_range": {
            "min": low["p_benefit"],
            "max": high["p_benefit"],
            "min_fit": f"{low['model']}/{low['prior']}",
            "max_fit": f"{high['model']}/{high['prior']}",
            "fits": len(at),
        },
    }


def verified_data(
    summary: dict,
    fits: Iterable[tuple[str, str]] | None = None,
    horizons: Iterable[float] | None = None,
    models: Iterable[str] | None = None,
) -> bool:
    """Whether a set of results rests on verified rows only: the one rule for the unverified flag.

    A number, a table cell, a heading or a figure panel carries the flag exactly when this is
    False for the results it shows. It reads summary.json ``results[].verified_data``, which is
    per fit × horizon: a single-horizon model's answer at a verified horizon is verified, while a
    model that pools horizons rests at every horizon on every row it pooled.

    Parameters
    ----------
    summary : dict
        summary.json's content.
    fits : iterable of (model, prior), optional
        The fits whose results are shown; default: every fit.
    horizons : iterable of float, optional
        The horizons shown, in months; default: every horizon.
    models : iterable of str, optional
        Only the fits of these model families (with ``fits``: both must match).
    """
    keys = None if fits is None else set(fits)
    hs = None if horizons is None else set(horizons)
    names = None if models is None else set(models)
    return all(
        r["verified_data"]
        for r in summary["results"]
        if (keys is None or (r["model"], r["prior"]) in keys)
        and (hs is None or r["horizon_months"] in hs)
        and (names is None or r["model"] in names)
    )


def status(summary: dict) -> dict:
    """How the run ended: every convergence check passed (exact fits need none), the exit code
    that says so (0, or 3 when a check failed), quick mode and the number of warnings."""
    failed = [f"{d['model']}/{d['prior']}" for d in summary["diagnostics"] if not d["passed"]]
    return {
        "converged": not failed,
        "exit_code": EXIT_NOT_CONVERGED if failed else EXIT_OK,
        "not_converged": failed,
        "mcmc_fits": len(summary["diagnostics"]),
        "quick": summary["run"]["quick"],
        "warnings": len(summary["warnings"]),
    }


def split_figure_data(summary: dict, paths: Iterable[str]) -> tuple[dict, dict]:
    """``summary`` without the arrays at ``paths``, and those arrays as a sparse copy of it.

    A path is keys joined by dots, ``[]`` after a key whose value is a list standing for each of
    its items (``"missing_data.horizons[].grid"``); a path the summary lacks is skipped. The
    sparse copy keeps the summary's shape (a list keeps its length, ``{}`` for an item that holds
    nothing), so :func:`merge_figure_data` puts every array back where it was.
    """
    lean = json.loads(json.dumps(summary))
    figure: dict = {}
    for path in paths:
        _move(lean, figure, path)
    return lean, figure


def _move(lean: dict, figure: dict, path: str) -> None:
    head, _, rest = path.partition(".")
    key = head.removesuffix("[]")
    if not isinstance(lean, dict) or key not in lean:
        return
    if not rest:
        figure[key] = lean.pop(key)
    elif head.endswith("[]"):
        items = figure.get(key) or [{} for _ in lean[key]]
        for item, into in zip(lean[key], items, strict=True):
            _move(item, into, rest)
        if any(items):
            figure[key] = items
    else:
        into = figure.get(key, {})
        _move(lean[key], into, rest)
        if into:
            figure[key] = into


def merge_figure_data(summary: dict, figure: dict) -> dict:
    """``summary`` with the arrays of a sparse copy from :func:`split_figure_data` put back (in
    place; returned for convenience)."""
    for key, value in figure.items():
        if key not in summary:
            summary[key] = value
        elif isinstance(value, dict):
            merge_figure_data(summary[key], value)
        else:
            for item, part in zip(summary[key], value, strict=True):
                merge_figure_data(item, part)
    return summary


def dumps(summary: dict) -> str:
    """The canonical JSON text of summary.json and figure_data.json (stable across re-renders).

    One line per top-level key and per item of a top-level object or list (a result row, a
    diagnostic, an analysis's part), each written compactly: still readable, and about two thirds
    of the size of a fully indented file.
    """

    def compact(value) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)

    def block(value, depth: int) -> str:
        if depth == 0 or not isinstance(value, dict | list) or not value:
            return compact(value)
        pad = "  " * (3 - depth)
        if isinstance(value, dict):
            items = [f"{pad}{compact(k)}: {block(v, depth - 1)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad[2:] + "}"
        items = [f"{pad}{block(v, depth - 1)}" for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad[2:] + "]"

    return block(summary, 2) + "\n"


@cache
def schema() -> dict:
    """The JSON Schema of summary.json (``bayes_ips/schemas/summary.schema.json``, the same file
    as ``docs/summary.schema.json``)."""
    text = resources.files("bayes_ips").joinpath("schemas/summary.schema.json").read_text("utf-8")
    return json.loads(text)


def schema_errors(summary: dict) -> list[jsonschema.ValidationError]:
    """Where ``summary`` (summary.json's content) breaks :func:`schema`, in document order
    (empty when it is valid); each error's ``json_path`` names the field and ``message`` the
    rule."""
    validator = jsonschema.Draft202012Validator(schema())
    return sorted(validator.iter_errors(summary), key=lambda e: list(map(str, e.absolute_path)))
