"""Across horizons: cumulative-model checks, horizon-to-horizon change and LOO by likelihood."""

from pathlib import Path

from bayes_ips.analyses import Analysis
from bayes_ips.analyses.horizons import compute, view
from bayes_ips.report import Section

ANALYSIS = Analysis(
    name="horizons",
    steps=(("horizons", compute.summarise_horizons),),
    sections=(Section("horizons", view.horizons_section, Path(__file__).parent / "templates"),),
    figures=(view.cumulative_figure,),
)
