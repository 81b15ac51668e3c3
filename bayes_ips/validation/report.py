"""The SBC report: ``sbc.json`` (the data) and ``report.html`` (a self-contained view of it).

Written atomically (:func:`bayes_ips.rundir.atomic_dir`) into one folder, by default
``reports/validation/``, with the figures also as SVG files under ``figures/``.
"""

from __future__ import annotations

import base64
from pathlib import Path

import jinja2

from bayes_ips.report.summary import created_utc, dumps, environment, json_safe
from bayes_ips.rundir import atomic_dir
from bayes_ips.validation.figures import ecdf_differences, rank_histograms
from bayes_ips.validation.sbc import SBCResult
from bayes_ips.validation.uniformity import components

SCHEMA_VERSION = 1
TEST = (
    "ArviZ uniformity_test (method pot_c) of the randomised fractional ranks of each parameter "
    "component; Holm's adjustment over all components of a model; a component passes when its "
    "adjusted p-value is at least alpha, a model when every component does"
)
THINNING = (
    "each refit's draws are thinned by ArviZ's thin_factor (the smaller of bulk and tail ESS of "
    "the slowest calibrated parameter) before ranking"
)


def summarise(result: SBCResult) -> dict:
    """The JSON-ready record of one model's calibration."""
    fits = result.fits
    s = result.settings
    return {
        "model": result.model,
        "prior": result.prior,
        "passed": result.passed,
        "simulations": int(result.pit.sizes["simulation"]),
        "alpha": s.alpha,
        "seed": s.seed,
        "seconds": round(result.seconds, 1),
        "sampler": {
            "backend": s.sampler.backend,
            "chains": s.sampler.chains,
            "draws": s.sampler.draws,
            "tune": s.sampler.tune,
            "target_accept": s.sampler.target_accept,
        },
        "trial_shape": result.shape,
        "checks": result.checks,
        "fits": {
            "retained_draws_median": float(fits["retained"].median()),
            "retained_draws_min": int(fits["retained"].min()),
            "with_divergences": int((fits["divergences"] > 0).sum()),
            "rhat_above_1_01": int((fits["rhat_max"] > 1.01).sum()),
            "rhat_max": float(fits["rhat_max"].max()),
            "ess_bulk_min": float(fits["ess_bulk_min"].min()),
            "seconds_per_fit_median": round(float(fits["seconds"].median()), 2),
        },
        "fractional_ranks": {
            row["parameter"]: [round(float(v), 6) for v in da.to_numpy()]
            for row, (_, da) in zip(result.checks, components(result.pit), strict=True)
        },
    }


def build(results: list[SBCResult], command: str) -> dict:
    """The whole report's data (``sbc.json``)."""
    return json_safe(
        {
            "schema_version": SCHEMA_VERSION,
            "kind": "simulation-based calibration",
            "created_utc": created_utc(),
            "command": command,
            "passed": all(r.passed for r in results),
            "test": TEST,
            "thinning": THINNING,
            "models": [summarise(r) for r in results],
            "environment": environment(),
        }
    )


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def render_html(data: dict, figures: dict) -> str:
    """The self-contained HTML report; ``figures`` maps model name to its two figures."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bayes_ips", "validation/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    uris = {
        model: [{"f": f, "href": _data_uri(f.svg)} for f in figs] for model, figs in figures.items()
    }
    return env.get_template("sbc.html.j2").render(d=data, figures=uris)


def write(folder: str | Path, results: list[SBCResult], command: str) -> dict:
    """Write ``sbc.json``, ``report.html`` and ``figures/*.svg`` into ``folder`` atomically."""
    data = build(results, command)
    figures = {r.model: [rank_histograms(r), ecdf_differences(r)] for r in results}
    with atomic_dir(Path(folder)) as tmp:
        (tmp / "figures").mkdir()
        for figs in figures.values():
            for f in figs:
                (tmp / "figures" / f"{f.name}.svg").write_text(f.svg, encoding="utf-8")
        (tmp / "sbc.json").write_text(dumps(data), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(data, figures), encoding="utf-8")
    return data
