"""Prior sensitivity: the post-fit analysis behind summary.json's ``sensitivity`` key.

- :mod:`~.heatmap`: P(benefit) over prior mean × prior SD and its contours;
- :mod:`~.exact`: exact posteriors of the log OR under every effect prior;
- :mod:`~.predictive`: prior predictive checks of every fit;
- :mod:`~.power_scaling`: ArviZ ``psense`` of every MCMC fit, in words.
"""

from pathlib import Path

from bayes_ips.analyses import Analysis
from bayes_ips.analyses.sensitivity import compute, view
from bayes_ips.report import Section

ANALYSIS = Analysis(
    name="sensitivity",
    steps=(("sensitivity", compute.summarise),),
    sections=(Section("sensitivity", view.section, Path(__file__).parent / "templates"),),
    figures=(
        view.effect_density_figure,
        view.threshold_figure,
        view.overlay_figure,
        view.heatmap_figure,
    ),
    figure_data=(
        "sensitivity.heatmap.p_benefit",
        "sensitivity.likelihood",
        # the prior-predictive draws' intervals (the verdict, `holds`, and P(RD > 0) stay)
        "sensitivity.prior_predictive[].p_treatment",
        "sensitivity.prior_predictive[].p_control",
        "sensitivity.prior_predictive[].rd",
    ),
)
