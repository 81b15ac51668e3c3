"""The report data: one JSON-serialisable dict (summary.json, schema_version 1).

HTML, Markdown and summary.json are all views of this dict, so a finished run can be re-rendered
from summary.json and the saved fits alone. The top-level keys follow
``shared/design/outputs.md``; later analyses add keys, never rename them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

from bayes_ips._version import __version__
from bayes_ips.context import Fitted, RunContext

SCHEMA_VERSION = 1
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
    }
    summary.update(extras)
    return json_safe(summary)


def dumps(summary: dict) -> str:
    """The canonical summary.json text (stable across re-renders)."""
    return json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def headline_fit(summary: dict) -> tuple[str, str]:
    """The headline fit of a summary, ``(model, prior)``: the first one the run lists."""
    first = summary["run"]["fits"][0]
    return first["model"], first["prior"]
