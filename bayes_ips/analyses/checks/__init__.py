"""Posterior-predictive checks and PSIS-LOO model comparison of the fits."""

from pathlib import Path

from bayes_ips.analyses import Analysis
from bayes_ips.analyses.checks import compute, view
from bayes_ips.report import Section

TEMPLATES = Path(__file__).parent / "templates"

ANALYSIS = Analysis(
    name="checks",
    steps=(("ppc", compute.ppc_summary), ("comparison", compute.comparison_summary)),
    sections=(
        Section(
            "ppc",
            view.ppc_section,
            TEMPLATES,
            title="Posterior-predictive checks",
            before_results=True,
        ),
        Section(
            "comparison",
            view.comparison_section,
            TEMPLATES,
            title="Model comparison",
            before_results=True,
        ),
    ),
    figures=(view.ppc_plot, view.prior_predictive_plot),
)
