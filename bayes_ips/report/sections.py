"""Sections of the report as plain data: the formatted numbers and sentences both exporters show.

Every section is built from summary.json alone (figures come with the saved fits), in the order
the report shows them: executive summary, data and provenance, methods and priors, convergence
diagnostics, posterior-predictive checks, model comparison, results by horizon, the optional
sections (:data:`SECTIONS`), warnings, and the reproducibility appendix with the WAMBS checklist.
A section whose analysis did not run is None and is left out.

Nothing here escapes text: the HTML exporter autoescapes and the Markdown exporter escapes with its
own filter, so user-supplied strings (arm labels, sources, titles) are safe in both.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from bayes_ips.report.checklist import PPC_TAIL, ppc_cells, wambs
from bayes_ips.report.figures import Figure, load_registrations
from bayes_ips.report.methods import model_method

MODEL_TITLES = {
    "beta_binomial": "exact independent beta-binomial",
    "hierarchical_beta_binomial": "hierarchical beta-binomial",
    "hierarchical_logistic": "hierarchical logistic",
    "discrete_time_hazard": "discrete-time hazard",
    "adjusted_logistic": "covariate-adjusted logistic",
}
UNVERIFIED_FLAG = "⚠ UNVERIFIED placeholder"
MIXED_PREDICTIVE = ("hierarchical_beta_binomial",)
"""Models whose replicated counts come from a new draw of the cell's rate (see the model)."""


# -- number formats -------------------------------------------------------------------------------


def pct(p: float | None, digits: int = 1) -> str:
    return "–" if p is None else f"{100 * p:.{digits}f}%"


def pp(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:+.1f}"


def ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def num(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def interval(d: dict, fmt=pp) -> str:
    return f"{fmt(d['median'])} ({fmt(d['lo'])} to {fmt(d['hi'])})"


def nnt(d: dict) -> str:
    if d["median"] is None:
        return "– (no benefit at the median)"
    lo = "–" if d["lo"] is None else f"{d['lo']:.1f}"
    hi = "∞" if d["hi"] is None else f"{d['hi']:.1f}"
    return f"{d['median']:.1f} ({lo} to {hi})"


def model_title(name: str) -> str:
    return MODEL_TITLES.get(name, name.replace("_", " "))


def _level(run: dict) -> int:
    return round(100 * run.get("interval", 0.95))


# -- executive summary ----------------------------------------------------------------------------


def question(summary: dict) -> dict:
    """What was asked: the comparison, the outcome's horizons and the sample."""
    run = summary["run"]
    rows = [d for d in summary["data"] if d.get("compared", True)]
    randomised = {}
    for d in rows:
        randomised[d["arm"]] = max(randomised.get(d["arm"], 0), d["n_randomised"])
    return {
        "treatment": run["treatment"],
        "control": run["control"],
        "horizons": ", ".join(f"{h:g}" for h in sorted({d["horizon_months"] for d in rows})),
        "randomised": [(arm, randomised[arm]) for arm in (run["treatment"], run["control"])],
        "primary": f"{run['primary_horizon']:g}",
    }


def _headline_fit(summary: dict) -> tuple[str, str]:
    first = summary["run"]["fits"][0]
    return first["model"], first["prior"]


def _by_horizon(summary: dict) -> dict[float, list[dict]]:
    out: dict[float, list[dict]] = {}
    for r in summary["results"]:
        out.setdefault(r["horizon_months"], []).append(r)
    return dict(sorted(out.items()))


def answers(summary: dict) -> list[dict]:
    """Per horizon: the headline fit's answer in words and the range across every fit."""
    run = summary["run"]
    model, prior = _headline_fit(summary)
    level = _level(run)
    out = []
    for h, rs in _by_horizon(summary).items():
        head = next((r for r in rs if (r["model"], r["prior"]) == (model, prior)), rs[0])
        low = min(rs, key=lambda r: r["p_benefit"])
        high = max(rs, key=lambda r: r["p_benefit"])
        text = (
            f"Under the {head['prior']} prior, the probability that {run['treatment']} increases "
            f"employment compared with {run['control']} at {h:g} months is "
            f"{pct(head['p_benefit'], 0)} (risk difference {pp(head['rd']['median'])} percentage "
            f"points, {level}% credible interval {pp(head['rd']['lo'])} to "
            f"{pp(head['rd']['hi'])})"
        )
        if len(rs) > 1:
            text += (
                f"; the most sceptical of the {len(rs)} fits ({low['model']} / {low['prior']}) "
                f"puts it at {pct(low['p_benefit'], 0)}, the most enthusiastic "
                f"({high['model']} / {high['prior']}) at {pct(high['p_benefit'], 0)}"
            )
        if head["verified_data"] and not all(r["verified_data"] for r in rs):
            text += (
                "; the fits that pool across horizons also rest on the UNVERIFIED placeholder "
                "rows of other horizons"
            )
        out.append(
            {
                "horizon": f"{h:g}",
                "primary": h == run["primary_horizon"],
                "verified": head["verified_data"],
                "text": text + ".",
                "p_benefit": pct(head["p_benefit"], 0),
                "range": f"{pct(low['p_benefit'], 0)}–{pct(high['p_benefit'], 0)}",
                "rd": interval(head["rd"]),
            }
        )
    return out


def prior_dependence(summary: dict) -> str:
    """One sentence: how far P(benefit) at the primary horizon moves across models and priors."""
    run = summary["run"]
    h = run["primary_horizon"]
    rs = _by_horizon(summary).get(h) or next(iter(_by_horizon(summary).values()))
    h = rs[0]["horizon_months"]
    priors = {r["prior"] for r in rs}
    if len(rs) == 1:
        return (
            "Only one model and prior were fitted, so this run cannot show how much the answer "
            "depends on the prior."
        )
    ps = [r["p_benefit"] for r in rs]
    below = sum(p < 0.5 for p in ps)
    direction = (
        "every one of them puts it above 50%"
        if below == 0
        else f"{below} of them put it below 50%, so the direction depends on the prior"
        if below < len(ps)
        else "every one of them puts it below 50%"
    )
    n_models = len({r["model"] for r in rs})
    spread = 100 * (max(ps) - min(ps))
    return (
        f"Across the {len(rs)} combinations of {_count(n_models, 'model')} and "
        f"{_count(len(priors), 'prior')}, P(benefit) at {h:g} months ranges from "
        f"{pct(min(ps), 0)} to {pct(max(ps), 0)} (a spread of "
        f"{spread:.{1 if spread < 10 else 0}f} percentage points); {direction}."
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def thresholds_text(summary: dict) -> str | None:
    """The convergence thresholds of the run in words, or None when the summary has none."""
    th = summary["run"].get("thresholds")
    if not th:
        return None
    return (
        f"R-hat ≤ {th['rhat_max']:g}, bulk and tail ESS ≥ {th['ess_min']:g}, "
        f"divergent transitions ≤ {th['divergences_max']:g}, E-BFMI ≥ {th['ebfmi_min']:g}"
    )


def trust(summary: dict) -> dict:
    """Whether the fits can be trusted, in one or two sentences, and whether any fit failed."""
    rows = summary.get("diagnostics") or []
    n_fits = len(summary["run"]["fits"])
    failed = [r for r in rows if not r["passed"]]
    if not rows:
        text = (
            f"All {n_fits} fits are exact closed-form posteriors: there is no sampler whose "
            "convergence could fail, and the Monte Carlo error of every reported probability "
            "is shown beside it."
        )
    elif failed:
        names = "; ".join(
            f"{r['model']} / {r['prior']} ({'; '.join(r.get('messages') or ['failed'])})"
            for r in failed
        )
        text = (
            f"NOT CONVERGED: {len(failed)} of {len(rows)} MCMC fits failed a convergence check"
            + (" even after an automatic re-run" if all(r.get("retried") for r in failed) else "")
            + f": {names}. Do not rely on their numbers until they are re-run as advised under "
            "Convergence diagnostics."
        )
    else:
        exact = n_fits - len(rows)
        retried = sum(bool(r.get("retried")) for r in rows)
        text = (
            f"All {len(rows)} MCMC fits passed every convergence check"
            + (f", {retried} of them after an automatic re-run" if retried else "")
            + " (worst R-hat "
            f"{max(r['rhat_max'] for r in rows):.3f}, smallest bulk/tail ESS "
            f"{min(min(r['ess_bulk_min'], r['ess_tail_min']) for r in rows):.0f}, "
            f"{sum(r['divergences'] for r in rows)} divergent transitions, lowest E-BFMI "
            f"{min(r['ebfmi_min'] for r in rows):.2f})"
            + (f"; the other {exact} fits are exact and need none." if exact else ".")
        )
    cells = ppc_cells(summary)
    if cells:
        tails = [c for c in cells if not PPC_TAIL <= c["ppp"] <= 1 - PPC_TAIL]
        text += (
            " Posterior-predictive checks: no observed count is surprising under its fit."
            if not tails
            else f" Posterior-predictive checks: {len(tails)} of {len(cells)} observed counts "
            f"lie in the outer {2 * PPC_TAIL:.0%} of their fit's predictive distribution."
        )
    return {"text": text, "failed": bool(failed), "mcmc": bool(rows)}


def executive(summary: dict) -> dict:
    model, prior = _headline_fit(summary)
    return {
        "question": question(summary),
        "answers": answers(summary),
        "prior_dependence": prior_dependence(summary),
        "trust": trust(summary),
        "headline_model": model_title(model),
        "headline_prior": prior,
        "level": _level(summary["run"]),
    }


# -- data, methods --------------------------------------------------------------------------------


def data_section(summary: dict) -> dict:
    rows = []
    for d in summary["data"]:
        rows.append(
            {
                **d,
                "compared": d.get("compared", True),
                "rate": pct(d["employed"] / d["n_analysed"]) if d["n_analysed"] else "–",
                "horizon": f"{d['horizon_months']:g}",
                "missing": d["n_randomised"] - d["n_analysed"],
            }
        )
    compared = [d for d in rows if d["compared"]]
    missing = []
    for arm in dict.fromkeys(d["arm"] for d in compared):
        ms = [d["missing"] for d in compared if d["arm"] == arm]
        n = max(d["n_randomised"] for d in compared if d["arm"] == arm)
        span = f"{min(ms)}" if min(ms) == max(ms) else f"{min(ms)}–{max(ms)}"
        missing.append({"arm": arm, "missing": span, "randomised": n, "any": max(ms) > 0})
    return {
        "rows": rows,
        "any_unverified": any(not d["verified"] for d in compared),
        "missing": missing,
        "any_missing": any(m["any"] for m in missing),
    }


def _component(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_component(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def methods_section(summary: dict) -> dict:
    fits = summary["run"]["fits"]
    models = list(dict.fromkeys(f["model"] for f in fits))
    used_by: dict[str, list[str]] = {}
    for f in fits:
        used_by.setdefault(f["prior"], []).append(f["model"])
    priors = [
        {
            **p,
            "used_by": ", ".join(dict.fromkeys(used_by.get(p["name"], []))),
            "ess_text": None if p.get("ess") is None else _component(p["ess"]),
        }
        for p in summary["priors"]
    ]
    return {
        "models": [model_method(m) for m in models],
        "model_names": models,
        "priors": priors,
        "any_ess": any(p["ess_text"] is not None for p in priors),
        "level": _level(summary["run"]),
        "rope": summary["run"].get("rope"),
    }


# -- diagnostics, PPC, comparison ------------------------------------------------------------------


def diagnostics_section(summary: dict) -> dict | None:
    rows = summary.get("diagnostics") or []
    if not rows:
        return None
    mcmc = {(r["model"], r["prior"]) for r in rows}
    exact = [f"{m} / {p}" for m, p in _fits_of(summary) if (m, p) not in mcmc]
    return {
        "rows": [
            {
                "model": r["model"],
                "prior": r["prior"],
                "passed": r["passed"],
                "rhat": f"{r['rhat_max']:.3f}",
                "ess_bulk": num(r["ess_bulk_min"]),
                "ess_tail": num(r["ess_tail_min"]),
                "divergences": str(r["divergences"]),
                "ebfmi": f"{r['ebfmi_min']:.2f}",
                "treedepth": pct(r.get("treedepth_saturated")),
                "messages": list(r.get("messages") or []),
                "advice": list(r.get("advice") or []),
                "retried": "; ".join(r.get("first_attempt") or []) if r.get("retried") else None,
                "retry_settings": ", ".join(
                    f"{k} {v:g}" for k, v in (r.get("retry_settings") or {}).items()
                ),
            }
            for r in rows
        ],
        "thresholds": thresholds_text(summary),
        "exact": exact,
        "n_failed": sum(not r["passed"] for r in rows),
        "n_retried": sum(bool(r.get("retried")) for r in rows),
    }


def _fits_of(summary: dict) -> list[tuple[str, str]]:
    return [(f["model"], f["prior"]) for f in summary["run"]["fits"]]


def _ppc_flag(ppp: float) -> bool:
    return not PPC_TAIL <= ppp <= 1 - PPC_TAIL


def ppc_section(summary: dict) -> dict | None:
    cells = ppc_cells(summary)
    if not cells:
        return None
    fits: dict[str, list[dict]] = {}
    for c in cells:
        fits.setdefault(c["fit"], []).append(c)
    per_fit = [
        {
            "fit": fit,
            "cells": len(cs),
            "flagged": sum(_ppc_flag(c["ppp"]) for c in cs),
            "ppp_range": f"{min(c['ppp'] for c in cs):.2f}–{max(c['ppp'] for c in cs):.2f}",
            "pit_range": (
                f"{min(c['loo_pit'] for c in cs):.2f}–{max(c['loo_pit'] for c in cs):.2f}"
                if all(c.get("loo_pit") is not None for c in cs)
                else "–"
            ),
        }
        for fit, cs in fits.items()
    ]
    unverified = {d["horizon_months"] for d in summary["data"] if not d["verified"]}
    detail = [
        {
            "fit": c["fit"],
            "arm": c["arm"],
            "horizon": f"{c['horizon_months']:g}",
            "verified": c["horizon_months"] not in unverified,
            "observed": c["observed"],
            "replicated": f"{c['rep_mean']:.1f} ({c['rep_lo']:g} to {c['rep_hi']:g})",
            "ppp": f"{c['ppp']:.2f}",
            "loo_pit": "–" if c.get("loo_pit") is None else f"{c['loo_pit']:.2f}",
            "flagged": _ppc_flag(c["ppp"]),
        }
        for c in cells
    ]
    return {
        "per_fit": per_fit,
        "detail": detail,
        "n_flagged": sum(d["flagged"] for d in detail),
        "n_cells": len(detail),
        "mixed": [
            MODEL_TITLES[m]
            for m in MIXED_PREDICTIVE
            if any(e["model"] == m for e in summary["ppc"]["fits"])
        ],
        "tail": PPC_TAIL,
        "level": _level(summary["run"]),
    }


def comparison_section(summary: dict) -> dict | None:
    """PSIS-LOO comparison from summary.json ``comparison`` (``method``, ``note``, ``rows``)."""
    comp = summary.get("comparison")
    if not comp or not comp.get("rows"):
        return None
    rows = [
        {
            "rank": r["rank"],
            "fit": f"{r['model']} / {r['prior']}",
            "elpd": f"{r['elpd_loo']:.1f} ± {r['se']:.1f}",
            "diff": "best" if r["rank"] == 0 else f"{-r['elpd_diff']:.1f} ± {r['dse']:.1f}",
            "distinct": r["rank"] != 0 and r["elpd_diff"] > 2 * r["dse"],
            "p_loo": f"{r['p_loo']:.1f}",
            "weight": f"{r['weight']:.2f}",
            "k_max": f"{r['pareto_k_max']:.2f}",
            "n_high_k": r["n_high_k"],
            "n_obs": r["n_obs"],
        }
        for r in comp["rows"]
    ]
    return {
        "method": comp.get("method", "PSIS-LOO"),
        "note": comp.get("note", ""),
        "rows": rows,
        "any_high_k": any(r["n_high_k"] for r in rows),
    }


# -- results ---------------------------------------------------------------------------------------


def result_row(r: dict) -> dict:
    return {
        "model": r["model"],
        "prior": r["prior"],
        "horizon": f"{r['horizon_months']:g}",
        "verified": r["verified_data"],
        "p_benefit": pct(r["p_benefit"]),
        "p_benefit_mcse": "exact"
        if r["p_benefit_mcse"] == 0
        else f"±{100 * r['p_benefit_mcse']:.1f}",
        "rd": interval(r["rd"]),
        "rr": interval(r["rr"], ratio),
        "or": interval(r["or"], ratio),
        "nnt": nnt(r["nnt"]),
        "p_rd_gt": [(f"{100 * float(k):g}", pct(v, 0)) for k, v in r["p_rd_gt"].items()],
        "p_rr_gt": [(f"{float(k):g}", pct(v, 0)) for k, v in r["p_rr_gt"].items()],
        "p_rope": pct(r.get("p_rope")),
        "seed": r.get("seed"),
    }


def results_section(summary: dict) -> dict:
    run = summary["run"]
    horizons = []
    for h, rs in _by_horizon(summary).items():
        rows = [result_row(r) for r in rs]
        horizons.append(
            {
                "horizon": f"{h:g}",
                "primary": h == run["primary_horizon"],
                "verified": all(r["verified"] for r in rows),
                "rows": rows,
                "rd_keys": [k for k, _ in rows[0]["p_rd_gt"]],
                "rr_keys": [k for k, _ in rows[0]["p_rr_gt"]],
            }
        )
    return {"horizons": horizons, "level": _level(run), "rope": run.get("rope")}


# -- optional sections -----------------------------------------------------------------------------

SectionBuilder = Callable[[dict], dict | None]

SECTIONS: list[tuple[str, SectionBuilder | str]] = [
    ("sensitivity", "bayes_ips.analyses.sensitivity.view:section"),
    ("horizons", "bayes_ips.analyses.horizons.view:horizons_section"),
    ("missing_data", "bayes_ips.analyses.missing_data.view:missing_section"),
    ("decision", "bayes_ips.analyses.decision.view:section"),
]
"""Optional report sections: ``(name, builder)``. ``builder(summary)`` returns the section's
template data (a dict), or None when the analysis did not run (the section is then omitted).
``builder`` may be a callable or a ``"module:function"`` string, imported at render time; a
module named in ``analysis.STEPS`` may also register on import (it is imported before every
render, re-renders included). The first registration of a name wins.

Templates ``sections/<name>.html.j2`` and ``sections/<name>.md.j2`` render the section, starting
with their own ``<h2>`` / ``##`` heading; the HTML is wrapped in ``<section id="sec-<name>">``
unless the template already carries that id. They see the section data as ``sec.data``, the
figures by name as ``figs`` (``figs[name].href``, ``.f.alt``, ``.f.caption``), the summary as
``s``, ``run``, the filters ``pct``, ``pp``, ``ratio``, ``wbr`` and, in Markdown, ``md`` and
``mdcode``. The data's optional ``title`` names the section in the table of contents."""

SECTION_ORDER = ("sensitivity", "horizons", "missing_data", "decision")
"""Where known optional sections go, whatever order they were registered in; others follow."""


def _resolve(target: SectionBuilder | str) -> SectionBuilder:
    if isinstance(target, str):
        module, function = target.split(":")
        return getattr(import_module(module), function)
    return target


def optional_sections(summary: dict) -> list[dict]:
    """The registered sections that have something to show, in :data:`SECTION_ORDER`."""
    load_registrations()
    rank = {name: i for i, name in enumerate(SECTION_ORDER)}
    first = {}
    for i, (name, target) in enumerate(SECTIONS):
        first.setdefault(name, (i, target))
    ordered = sorted(first.items(), key=lambda item: (rank.get(item[0], len(rank)), item[1][0]))
    out = []
    for name, (_, target) in ordered:
        data = _resolve(target)(summary)
        if data is not None:
            title = data.get("title") if isinstance(data, dict) else None
            out.append({"name": name, "data": data, "title": title or name.replace("_", " ")})
    return out


# -- the whole report ------------------------------------------------------------------------------


def context(summary: dict, figures: list[Figure], figure_href) -> dict:
    """Everything the templates need.

    Parameters
    ----------
    figure_href : callable
        ``figure_href(figure) -> str``: how the exporter refers to a figure (a data URI for
        HTML, a relative file path for Markdown).
    """
    figs = {f.name: {"f": f, "href": figure_href(f)} for f in figures}

    def placed(section: str) -> list[dict]:
        return [v for v in figs.values() if v["f"].section == section]

    core = {
        "data": data_section(summary),
        "methods": methods_section(summary),
        "diagnostics": diagnostics_section(summary),
        "ppc": ppc_section(summary),
        "comparison": comparison_section(summary),
        "results": results_section(summary),
    }
    optional = optional_sections(summary)
    toc = [("summary", "Summary"), ("data", "Data and provenance"), ("methods", "Methods")]
    toc += [
        (key, title)
        for key, title in (
            ("diagnostics", "Convergence"),
            ("ppc", "Posterior-predictive checks"),
            ("comparison", "Model comparison"),
        )
        if core[key] is not None
    ]
    toc.append(("results", "Results by horizon"))
    toc += [(sec["name"], sec["title"].capitalize()) for sec in optional]
    if summary.get("warnings"):
        toc.append(("warnings", "Warnings"))
    toc.append(("repro", "Reproducibility"))
    return {
        "s": summary,
        "run": summary["run"],
        "exec": executive(summary),
        **core,
        "figs": figs,
        "placed": {
            name: placed(name)
            for name in ("methods", "results", "diagnostics", "ppc", "comparison")
        },
        "sections": optional,
        "toc": toc,
        "wambs": wambs(summary),
        "unverified_flag": UNVERIFIED_FLAG,
        "model_title": model_title,
    }
