"""The post-fit analyses, in report order: the one list the pipeline, the spec loader and the
report read.

Each entry brings its steps (summary.json keys, in this order), its report sections and figures
(after the core ones, in this order) and its spec section, if any.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from bayes_ips.analyses import (
    Analysis,
    checks,
    decision,
    horizons,
    missing_data,
    sensitivity,
)
from bayes_ips.report import Layout
from bayes_ips.report.figures import CORE_FIGURES

ANALYSES: tuple[Analysis, ...] = (
    checks.ANALYSIS,
    sensitivity.ANALYSIS,
    horizons.ANALYSIS,
    missing_data.ANALYSIS,
    decision.ANALYSIS,
)


def layout(analyses: Sequence[Analysis] | None = None) -> Layout:
    """The report's sections and figures: the core figures, then each analysis's (default:
    :data:`ANALYSES`)."""
    analyses = ANALYSES if analyses is None else analyses
    return Layout(
        sections=tuple(sec for a in analyses for sec in a.sections),
        figures=CORE_FIGURES + tuple(fig for a in analyses for fig in a.figures),
        figure_data=tuple(path for a in analyses for path in a.figure_data),
    )


def option_schemas(analyses: Sequence[Analysis] | None = None) -> dict[str, type[BaseModel]]:
    """The spec sections the analyses own, ``{section: schema}`` (default: :data:`ANALYSES`)."""
    analyses = ANALYSES if analyses is None else analyses
    return {a.name: a.options for a in analyses if a.options is not None}
