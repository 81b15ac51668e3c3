"""Decision analysis: decision rules, net benefit, value of information and the next trial.

Modules, in the order of the flow:

- :mod:`~bayes_ips.analyses.decision.options` the ``[decision]`` spec section;
- :mod:`~bayes_ips.analyses.decision.posterior` the risk difference's posterior (exact or from draws);
- :mod:`~bayes_ips.analyses.decision.rules` dual-criterion and ROPE decision rules;
- :mod:`~bayes_ips.analyses.decision.economics` net monetary benefit, CEAC and EVPI;
- :mod:`~bayes_ips.analyses.decision.trial` success criteria, assurance and operating characteristics;
- :mod:`~bayes_ips.analyses.decision.voi` EVSI and the expected net benefit of sampling;
- :mod:`~bayes_ips.analyses.decision.step` the post-fit step writing summary.json's ``decision`` key.
"""

from bayes_ips.analyses.decision.economics import ceac, evpi, net_benefit
from bayes_ips.analyses.decision.options import DecisionSettings, Economics, NextTrial, parse
from bayes_ips.analyses.decision.posterior import BetaDifference, DrawsDifference, effect_posterior
from bayes_ips.analyses.decision.rules import decide, dual_criterion, rope_rule
from bayes_ips.analyses.decision.trial import (
    Criteria,
    assurance,
    operating_characteristics,
    sceptical_sd,
    success_probability,
)
from bayes_ips.analyses.decision.voi import evsi, sampling_value

__all__ = [
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
    "parse",
    "rope_rule",
    "sampling_value",
    "sceptical_sd",
    "success_probability",
]
