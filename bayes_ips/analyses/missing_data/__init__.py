"""Missing outcomes: complete case, missing at random, best/worst case and pattern mixture."""

from pathlib import Path

from bayes_ips.analyses import Analysis
from bayes_ips.analyses.missing_data import compute, options, view
from bayes_ips.report import Section

ANALYSIS = Analysis(
    name="missing_data",
    steps=(("missing_data", compute.analyse),),
    sections=(Section("missing_data", view.missing_section, Path(__file__).parent / "templates"),),
    figures=(view.tipping_figure,),
    figure_data=("missing_data.horizons[].grid", "missing_data.horizons[].curves"),
    options=options.MissingSettings,
)
