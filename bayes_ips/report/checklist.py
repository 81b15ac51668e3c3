"""A WAMBS-style checklist (Depaoli & van de Schoot 2017) derived from the report data.

The WAMBS checklist ("When to worry and how to Avoid the Misuse of Bayesian Statistics",
Psychological Methods 22(2):240–261) lists ten questions to answer before trusting a Bayesian
analysis. Each item here states what this run did about it, from summary.json alone: ``checked``
(done, nothing to worry about), ``flagged`` (done, and it found a problem), ``not applicable``
(e.g. no sampler ran, so there is no convergence to check) or ``not checked`` (this run did not
do it). Nothing is marked checked that the summary does not show.
"""

from __future__ import annotations

from bayes_ips.report.format import UNVERIFIED_FLAG, pct
from bayes_ips.report.summary import verified_data

CHECKED, FLAGGED, NOT_APPLICABLE, NOT_CHECKED = (
    "checked",
    "flagged",
    "not applicable",
    "not checked",
)
PPC_TAIL = 0.025


def surprising(cell: dict) -> bool:
    """A posterior-predictive check outside the band: its mid-p-value or its LOO-PIT value (when
    there is one) outside [PPC_TAIL, 1 − PPC_TAIL]."""
    values = [cell.get("ppp"), cell.get("loo_pit")]
    return any(v is not None and not PPC_TAIL <= v <= 1 - PPC_TAIL for v in values)


"""A posterior-predictive p-value below this or above 1 − this flags an observed count."""


def _fits(summary: dict) -> list[tuple[str, str]]:
    return [(f["model"], f["prior"]) for f in summary["run"]["fits"]]


def _mcmc_rows(summary: dict) -> list[dict]:
    return list(summary.get("diagnostics") or [])


def ppc_cells(summary: dict) -> list[dict]:
    """Every posterior-predictive cell of the run, each with its ``fit`` label ("model / prior")
    and ``key`` (model, prior).

    Reads summary.json ``ppc``: ``{"statistic": ..., "fits": [{"model", "prior", "cells"}]}``.
    """
    ppc = summary.get("ppc") or {}
    return [
        {
            **cell,
            "fit": f"{entry['model']} / {entry['prior']}",
            "key": (entry["model"], entry["prior"]),
        }
        for entry in ppc.get("fits", [])
        for cell in entry["cells"]
    ]


def cumulative_cells(summary: dict) -> list[dict]:
    """Every cell of the check on the cumulative counts (summary.json ``ppc.cumulative``), each
    with its ``fit`` label ("model / prior") and ``key`` (model, prior)."""
    block = (summary.get("ppc") or {}).get("cumulative") or {}
    return [
        {
            **cell,
            "fit": f"{entry['model']} / {entry['prior']}",
            "key": (entry["model"], entry["prior"]),
        }
        for entry in block.get("fits", [])
        for cell in entry["cells"]
    ]


def checked_counts(summary: dict) -> list[dict]:
    """Every posterior-predictive cell of the run: the per-count check of the models written on
    the arm x horizon counts and the check on the cumulative counts of the pooled models."""
    return ppc_cells(summary) + cumulative_cells(summary)


def _priors(summary: dict) -> dict:
    priors = summary.get("priors") or []
    missing = [p["name"] for p in priors if not p.get("recipe")]
    with_ess = [p["name"] for p in priors if p.get("ess") is not None]
    evidence = f"{len(priors)} named priors, each stated as a distribution with its recipe"
    if with_ess:
        evidence += f"; prior effective sample size given for {len(with_ess)}"
    if missing:
        return {"status": FLAGGED, "evidence": f"no recipe for {', '.join(missing)}"}
    return {"status": CHECKED, "evidence": evidence + " (Methods)."}


def _rhat(summary: dict) -> dict:
    rows = _mcmc_rows(summary)
    if not rows:
        return {"status": NOT_APPLICABLE, "evidence": "All fits are exact: no sampler ran."}
    worst = max(r["rhat_max"] for r in rows)
    failed = [r for r in rows if any("R-hat" in m for m in r.get("messages", []))]
    return {
        "status": FLAGGED if failed else CHECKED,
        "evidence": f"Rank-normalised split R-hat of every parameter, {len(rows)} MCMC fits; "
        f"worst {worst:.3f}" + (f"; {len(failed)} fits above the threshold." if failed else "."),
    }


def _doubling(summary: dict) -> dict:
    rows = _mcmc_rows(summary)
    if not rows:
        return {"status": NOT_APPLICABLE, "evidence": "All fits are exact: no sampler ran."}
    retried = [r for r in rows if r.get("retried")]
    rerun = (
        f" {len(retried)} fits that failed were re-run with longer tuning and a higher target "
        "acceptance rate (Convergence diagnostics)."
        if retried
        else ""
    )
    return {
        "status": NOT_CHECKED,
        "evidence": "Fits were not repeated with twice the draws; R-hat across chains and "
        "bulk/tail ESS stand in for it." + rerun,
    }


def _ess(summary: dict) -> dict:
    rows = _mcmc_rows(summary)
    mcse = max(
        [r["p_benefit_mcse"] or 0.0 for r in summary["results"]]
        + [v or 0.0 for r in summary["results"] for v in (r.get("p_rd_gt_mcse") or {}).values()]
    )
    mcse_text = f"largest Monte Carlo SE of a reported probability {100 * mcse:.1f} pp"
    if not rows:
        return {
            "status": CHECKED,
            "evidence": f"Exact posteriors; summaries from independent draws, {mcse_text}.",
        }
    ess = min(min(r["ess_bulk_min"], r["ess_tail_min"]) for r in rows)
    failed = [r for r in rows if any("ESS" in m for m in r.get("messages", []))]
    return {
        "status": FLAGGED if failed else CHECKED,
        "evidence": f"Smallest bulk or tail ESS {ess:.0f}; {mcse_text}"
        + (f"; {len(failed)} fits below the threshold." if failed else "."),
    }


def _autocorrelation(summary: dict) -> dict:
    rows = _mcmc_rows(summary)
    if not rows:
        return {"status": NOT_APPLICABLE, "evidence": "Exact posteriors: independent draws."}
    draws = {(r["model"], r["prior"]): r["draws"] for r in summary["results"] if "draws" in r}
    ratios = [
        min(r["ess_bulk_min"], r["ess_tail_min"]) / draws[(r["model"], r["prior"])]
        for r in rows
        if draws.get((r["model"], r["prior"]))
    ]
    if not ratios:
        return {"status": NOT_CHECKED, "evidence": "Draw counts are not in the summary."}
    divergent = sum(r["divergences"] for r in rows)
    return {
        "status": CHECKED,
        "evidence": f"Lowest ESS per draw {min(ratios):.2f} (1 = independent draws); "
        f"{divergent} divergent transitions in total; lowest E-BFMI "
        f"{min(r['ebfmi_min'] for r in rows):.2f}.",
    }


def _sense(summary: dict) -> dict:
    cells = checked_counts(summary)
    if not cells:
        return {
            "status": NOT_CHECKED,
            "evidence": "No posterior-predictive check in this run.",
        }
    tails = [c for c in cells if surprising(c)]
    return {
        "status": FLAGGED if tails else CHECKED,
        "evidence": f"Posterior-predictive check of {len(cells)} observed counts across fits; "
        f"{len(tails)} surprising (mid-p-value or LOO-PIT outside {PPC_TAIL:g}–{1 - PPC_TAIL:g}).",
    }


def _hyperpriors(summary: dict) -> dict:
    if "sensitivity" in summary:
        return {
            "status": CHECKED,
            "evidence": "Power-scaling sensitivity of the whole prior, scale priors included "
            "(Prior sensitivity).",
        }
    models = {m for m, _ in _fits(summary)}
    if not models - {"beta_binomial"}:
        return {"status": NOT_APPLICABLE, "evidence": "No hierarchical variance parameters."}
    return {
        "status": NOT_CHECKED,
        "evidence": "The between-horizon scale priors are fixed (Methods); their influence was "
        "not varied in this run.",
    }


def _vs_reference(summary: dict) -> dict:
    results = summary["results"]
    base = {
        (r["model"], r["horizon_months"]): r["p_benefit"]
        for r in results
        if r["prior"] == "reference"
    }
    diffs = [
        (abs(r["p_benefit"] - base[(r["model"], r["horizon_months"])]), r)
        for r in results
        if r["prior"] != "reference" and (r["model"], r["horizon_months"]) in base
    ]
    if not diffs:
        return {
            "status": NOT_CHECKED,
            "evidence": "No other prior was fitted beside the reference prior under one model.",
        }
    d, r = max(diffs, key=lambda x: x[0])
    shown = [(r["model"], r["prior"]), (r["model"], "reference")]
    flag = "" if verified_data(summary, shown, [r["horizon_months"]]) else f" {UNVERIFIED_FLAG}"
    return {
        "status": CHECKED,
        "evidence": f"Largest change in P(benefit) from the reference prior under the same model "
        f"and horizon: {100 * d:.1f} pp ({r['model']} / {r['prior']}, "
        f"{r['horizon_months']:g} months){flag}.",
    }


def _stability(summary: dict) -> dict:
    priors = {p for _, p in _fits(summary)}
    extra = " and power-scaling sensitivity (Prior sensitivity)" if "sensitivity" in summary else ""
    if len(priors) < 2 and not extra:
        return {"status": NOT_CHECKED, "evidence": "Only one prior was fitted."}
    spread = []
    for h in sorted({r["horizon_months"] for r in summary["results"]}):
        ps = [r["p_benefit"] for r in summary["results"] if r["horizon_months"] == h]
        flag = "" if verified_data(summary, horizons=[h]) else f" {UNVERIFIED_FLAG}"
        spread.append(f"{h:g} months {pct(min(ps), 0)}–{pct(max(ps), 0)}{flag}")
    return {
        "status": CHECKED,
        "evidence": f"Community of {len(priors)} priors{extra}; P(benefit) ranges "
        + ", ".join(spread)
        + ".",
    }


def _interpretation(summary: dict) -> dict:
    level = round(100 * summary["run"].get("interval", 0.95))
    return {
        "status": CHECKED,
        "evidence": f"Results are posterior probabilities and {level}% credible intervals with "
        "their Monte Carlo error; no p-values or significance language.",
    }


ITEMS = (
    ("Before fitting", "Do you understand the priors?", _priors),
    ("After fitting", "Does the trace plot exhibit convergence?", _rhat),
    ("After fitting", "Does convergence remain after doubling the iterations?", _doubling),
    ("After fitting", "Does the posterior have enough information?", _ess),
    ("After fitting", "Do the chains show strong autocorrelation?", _autocorrelation),
    ("After fitting", "Does the posterior make substantive sense?", _sense),
    (
        "Influence of the priors",
        "Do the variance (hyper)priors influence the results?",
        _hyperpriors,
    ),
    ("Influence of the priors", "Is there a notable effect of the prior?", _vs_reference),
    ("Influence of the priors", "Are the results stable in a sensitivity analysis?", _stability),
    ("Interpretation", "Are the results interpreted the Bayesian way?", _interpretation),
)


def wambs(summary: dict) -> list[dict]:
    """The ten WAMBS items: ``stage``, ``question``, ``status`` and ``evidence``."""
    return [
        {"number": i, "stage": stage, "question": question, **check(summary)}
        for i, (stage, question, check) in enumerate(ITEMS, start=1)
    ]
