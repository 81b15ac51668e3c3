"""Power-scaling prior and likelihood sensitivity (Kallioinen, Paananen, Bürkner and Vehtari,
"Detecting and diagnosing prior and likelihood sensitivity with power-scaling", Stat Comput 34
(2024) 57), computed with ArviZ's ``psense`` for every MCMC fit and put into words.

The quantity judged is the risk difference at each horizon (added to a copy of the posterior as
``rd = p[treatment] − p[control]``), so every model family is judged on the same scale. The prior
is power-scaled as a whole (all ``log_prior`` terms) and, separately, only the named prior's
component (:data:`NAMED_PRIOR_VARIABLE`); the likelihood
as a whole. A value at or above :data:`THRESHOLD` (0.05, ArviZ's and the paper's default) counts
as sensitive. The verdict in words uses the joint prior, as the paper recommends for a first
check; the named prior's own value says whether the chosen prior, rather than the model's other
priors (control rates, between-horizon variation), is the one that matters.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import xarray as xr
from arviz_stats import psense

from bayes_ips.report.format import UNVERIFIED_DATA

THRESHOLD = 0.05
NAMED_PRIOR_VARIABLE = {
    "hierarchical_logistic": (("z",), ("theta1", "eps"), ("theta",)),
    "adjusted_logistic": (("z",), ("theta1", "eps"), ("theta",)),
    "hierarchical_beta_binomial": (("m",),),
    "discrete_time_hazard": (("mu",),),
}
"""The variables whose prior is the named prior, first group present taken (those of it present):
in the logistic models the standard-normal ``z`` of ``theta = m + s · L z`` (a normal prior,
non-centred; scaling its prior is scaling theta's, up to the correlation's Jacobian), ``theta1``
and the changes ``eps`` of a wide normal prior's centred form, or ``theta`` itself (a mixture);
in the pooled beta-binomial model ``m``."""


def _with_rd(tree: xr.DataTree, treatment: str, control: str) -> xr.DataTree:
    post = tree["posterior"].to_dataset()
    p = post["p"]
    post["rd"] = p.sel(arm=treatment, drop=True) - p.sel(arm=control, drop=True)
    out = tree.copy()
    out["posterior"] = post
    return out


VERDICTS = {
    "both": "responds to both the prior and the data (a possible prior-data conflict)",
    "prior": "is driven by the prior, not the data",
    "data": "is driven by the data; the prior has little influence",
    "neither": "responds little to either (set mostly by the model's structure)",
    "not_computed": "could not be power-scaled",
}
NOT_COMPUTED = (
    "not computed: the power-scaled importance weights have a tail of tied values, which "
    "Pareto smoothing cannot fit (a log density that takes few distinct values over the draws, "
    "as at 0% or 100% events)"
)


def verdict(values: dict) -> str:
    """``both``, ``prior``, ``data`` or ``neither`` from the joint-prior and likelihood values
    (``not_computed`` when either is ``None``)."""
    if values["prior_sensitivity"] is None or values["likelihood_sensitivity"] is None:
        return "not_computed"
    prior = values["prior_sensitivity"] >= THRESHOLD
    data = values["likelihood_sensitivity"] >= THRESHOLD
    return {(True, True): "both", (True, False): "prior", (False, True): "data"}.get(
        (prior, data), "neither"
    )


def sentence(model: str, prior: str, horizon, verified: bool, values: dict) -> str:
    """The plain-language reading of one fit's sensitivities at one horizon.

    The verdict uses the joint prior (the standard check); the named prior's own value follows,
    so a reader can tell whether the chosen effect prior or the model's other priors matter.
    """
    where = f"At {horizon:g} months ({model}, {prior} prior)"
    if not verified:
        where += f" [{UNVERIFIED_DATA}]"
    if verdict(values) == "not_computed":
        return f"{where} the risk difference {VERDICTS['not_computed']} ({NOT_COMPUTED})."
    text = (
        f"{where} the risk difference {VERDICTS[verdict(values)]} (power-scaling sensitivity: "
        f"prior {values['prior_sensitivity']:.3f}, likelihood "
        f"{values['likelihood_sensitivity']:.3f}"
    )
    named = values.get("named_prior_sensitivity")
    if named is not None:
        text += f"; the {prior} prior alone {named:.3f}"
    return text + ")."


def _sensitivity(data: xr.DataTree, group: str, names: list[str] | None = None) -> xr.DataArray:
    """``psense`` of ``rd``; exactly 0 where the scaled log density is constant over the draws
    (a flat prior is unchanged by power-scaling, and PSIS cannot be fitted to equal weights)."""
    source = data["log_prior" if group == "prior" else "log_likelihood"].to_dataset()
    if names is not None:
        source = source[names]
    total = sum(v.sum([d for d in v.dims if d not in ("chain", "draw")]) for v in source.values())
    if float(total.max() - total.min()) == 0.0:
        return xr.zeros_like(data["posterior"]["rd"].isel(chain=0, draw=0, drop=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return psense(data, var_names=["rd"], group=group, group_var_names=names)["rd"]
        except ValueError:  # ArviZ: "All tail values are the same" (see NOT_COMPUTED)
            return xr.full_like(data["posterior"]["rd"].isel(chain=0, draw=0, drop=True), np.nan)


def power_scaling(fits, counts: xr.Dataset, verified: dict[tuple, bool]) -> list[dict]:
    """One row per MCMC fit × horizon with ``psense`` values, a diagnosis and a sentence.

    ``verified`` maps (model, prior, horizon) to the result's ``verified_data`` (summary.json
    ``results``): a pooled model's answer at a verified horizon still rests on the others.
    """
    treatment, control = counts["arm"].to_numpy().tolist()
    rows = []
    for fit in fits:
        tree = fit.tree
        if "log_prior" not in tree.children or "log_likelihood" not in tree.children:
            continue
        data = _with_rd(tree, treatment, control)
        present = (
            [v for v in group if v in tree["log_prior"]]
            for group in NAMED_PRIOR_VARIABLE.get(fit.model, ())
        )
        named = next((group for group in present if group), None)
        prior_all = _sensitivity(data, "prior")
        lik = _sensitivity(data, "likelihood")
        prior_named = None if named is None else _sensitivity(data, "prior", named)
        for h in prior_all["horizon"].to_numpy().tolist():
            computed = {
                "prior_sensitivity": prior_all,
                "likelihood_sensitivity": lik,
                "named_prior_sensitivity": prior_named,
            }
            values, reasons = {}, {}
            for key, sens in computed.items():
                value = None if sens is None else float(sens.sel(horizon=h))
                values[key] = None if value is None or math.isnan(value) else value
                if value is not None and values[key] is None:
                    reasons[key] = NOT_COMPUTED
            ok = verified[(fit.model, fit.prior.name, h)]
            rows.append(
                {
                    "model": fit.model,
                    "prior": fit.prior.name,
                    "horizon_months": h,
                    "variable": "rd",
                    **values,
                    "verdict": verdict(values),
                    "threshold": THRESHOLD,
                    "verified_data": ok,
                    "sentence": sentence(fit.model, fit.prior.name, h, ok, values),
                    **({"null_reasons": reasons} if reasons else {}),
                }
            )
    return rows
