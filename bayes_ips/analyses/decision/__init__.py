"""Decision analysis: decision rules, net benefit, value of information and the next trial.

Modules, in the order of the flow:

- :mod:`~.options` the ``[decision]`` spec section;
- :mod:`~.posterior` the posterior of the benefit, the risk difference in the outcome's direction
  (exact or from draws);
- :mod:`~.rules` dual-criterion and ROPE decision rules;
- :mod:`~.economics` net monetary benefit, CEAC and EVPI;
- :mod:`~.trial` success criteria, assurance and operating characteristics;
- :mod:`~.voi` EVSI and the expected net benefit of sampling;
- :mod:`~.compute` the step writing summary.json's ``decision`` key;
- :mod:`~.view` its report section and figures.
"""

from pathlib import Path

from bayes_ips.analyses import Analysis
from bayes_ips.analyses.decision import compute, view
from bayes_ips.analyses.decision.economics import ceac, evpi, net_benefit
from bayes_ips.analyses.decision.options import DecisionSettings, Economics, NextTrial
from bayes_ips.analyses.decision.posterior import BetaDifference, DrawsDifference, effect_posterior
from bayes_ips.analyses.decision.rules import decide, dual_criterion, rope_rule
from bayes_ips.analyses.decision.trial import (
    Criteria,
    assurance,
    operating_characteristics,
    success_probability,
)
from bayes_ips.analyses.decision.voi import evsi, sampling_value
from bayes_ips.report import Section

ANALYSIS = Analysis(
    name="decision",
    steps=(("decision", compute.run),),
    sections=(Section("decision", view.section, Path(__file__).parent / "templates"),),
    figures=(view.rules_figure, view.ceac_figure, view.assurance_figure, view.oc_figure),
    figure_data=(
        "decision.fits[].net_benefit.ceac",
        # the next trial's curves over the sample-size grid (n_for_target and n_best stay)
        "decision.fits[].next_trial.n_per_arm",
        "decision.fits[].next_trial.frequentist.assurance",
        "decision.fits[].next_trial.frequentist.mcse",
        "decision.fits[].next_trial.bayesian.assurance",
        "decision.fits[].next_trial.bayesian.mcse",
        "decision.fits[].next_trial.value_of_sampling.n_per_arm",
        "decision.fits[].next_trial.value_of_sampling.evsi_per_patient",
        "decision.fits[].next_trial.value_of_sampling.evsi_population",
        "decision.fits[].next_trial.value_of_sampling.trial_cost",
        "decision.fits[].next_trial.value_of_sampling.enbs",
    ),
    options=DecisionSettings,
    check=compute.check,
)

__all__ = [
    "ANALYSIS",
    "BetaDifference",
    "Criteria",
    "DecisionSettings",
    "DrawsDifference",
    "Economics",
    "NextTrial",
    "assurance",
    "ceac",
    "decide",
    "dual_criterion",
    "effect_posterior",
    "evpi",
    "evsi",
    "net_benefit",
    "operating_characteristics",
    "rope_rule",
    "sampling_value",
    "success_probability",
]
