"""Named priors as data: family, parameters, scale and the recipe in words.

- :mod:`~bayes_ips.priors.core`: the data types (:class:`Prior`, :class:`BetaRate`,
  :class:`NormalEffect`, :class:`MixtureEffect`);
- :mod:`~bayes_ips.priors.calibration`: from stated beliefs to parameters;
- :mod:`~bayes_ips.priors.community`: reference priors, the 3 × 3 belief × strength grid and the
  MCID priors;
- :mod:`~bayes_ips.priors.evidence`: the external evidence table and ``evidence_*`` priors;
- :mod:`~bayes_ips.priors.meta_analytic`: the robust meta-analytic-predictive prior ``map``;
- :mod:`~bayes_ips.priors.rates`: rate priors consistent with an effect prior;
- :mod:`~bayes_ips.priors.ess`: prior effective sample sizes;
- :mod:`~bayes_ips.priors.settings`: the ``[priors]`` spec section and user-defined priors;
- :mod:`~bayes_ips.priors.library`: the library of one analysis (anchor control rate, lookup).
"""

from bayes_ips.priors.calibration import sd_from_interval, sd_from_tail
from bayes_ips.priors.core import BetaRate, Effect, MixtureEffect, NormalEffect, Prior
from bayes_ips.priors.library import PriorContext, anchor, get_prior, library, unavailable
from bayes_ips.priors.settings import PriorSettings, prior_names

__all__ = [
    "BetaRate",
    "Effect",
    "MixtureEffect",
    "NormalEffect",
    "Prior",
    "PriorContext",
    "PriorSettings",
    "anchor",
    "get_prior",
    "library",
    "prior_names",
    "sd_from_interval",
    "sd_from_tail",
    "unavailable",
]
