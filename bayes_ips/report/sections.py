"""Sections of the report as plain data: the formatted numbers and sentences both exporters show.

Every section is built from summary.json alone (figures come with the saved fits). The report
reads in this order: the answer (P(benefit), its range across the named priors, the risk
difference and the decision at each horizon), the results by horizon and the analyses' other
sections, warnings, then the appendices (collapsed in HTML, at the end in Markdown): data and
provenance, methods and priors, convergence diagnostics, the analyses' checks of the fits, every
fit's results, and reproducibility with the WAMBS checklist. The analyses' sections come
in a :class:`Layout` (:mod:`bayes_ips.analyses.registry`); a section whose analysis did not run
is None and is left out.

Nothing here escapes text: the HTML exporter autoescapes and the Markdown exporter escapes with its
own filter, so user-supplied strings (arm labels, sources, titles) are safe in both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bayes_ips import models
from bayes_ips.estimands import side_of_half
from bayes_ips.priors.core import ControlPrior, MidpointPrior
from bayes_ips.report.checklist import PPC_TAIL, checked_counts, surprising, wambs
from bayes_ips.report.figures import CORE_FIGURES, FigureBuilder
from bayes_ips.report.format import (
    UNVERIFIED_FLAG,
    Wording,
    interval,
    level,
    mcse_text,
    model_title,
    nnt,
    num,
    pct,
    ratio_interval,
)
from bayes_ips.report.methods import model_method
from bayes_ips.report.style import Figure, arms
from bayes_ips.report.summary import headline_fit, verified_data

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
        # the arms in full once (above); shortened after that
        "randomised": [
            (label, randomised[arm])
            for arm, label in zip((run["treatment"], run["control"]), arms(summary), strict=True)
        ],
        "primary": f"{run['primary_horizon']:g}",
    }


def _by_horizon(summary: dict) -> dict[float, list[dict]]:
    out: dict[float, list[dict]] = {}
    for r in summary["results"]:
        out.setdefault(r["horizon_months"], []).append(r)
    return dict(sorted(out.items()))


def answers(summary: dict) -> list[dict]:
    """Per horizon: the headline fit's P(benefit) and risk difference, the range of P(benefit)
    across every fit and across the fits that carry the named priors, and the data status of
    each."""
    run = summary["run"]
    model, prior = headline_fit(summary)
    out = []
    for h, rs in _by_horizon(summary).items():
        head = next((r for r in rs if (r["model"], r["prior"]) == (model, prior)), rs[0])
        low = min(rs, key=lambda r: r["p_benefit"])
        high = max(rs, key=lambda r: r["p_benefit"])
        named = _named_prior_fits(rs)
        n_low = min(named, key=lambda r: r["p_benefit"])
        n_high = max(named, key=lambda r: r["p_benefit"])
        out.append(
            {
                "horizon": f"{h:g}",
                "primary": h == run["primary_horizon"],
                "verified": head["verified_data"],
                "range_verified": verified_data(summary, horizons=[h]),
                "prior_range": _range(n_low["p_benefit"], n_high["p_benefit"]),
                "prior_range_fits": f"{len(named)} fit{'' if len(named) == 1 else 's'}",
                "prior_range_verified": all(r["verified_data"] for r in named),
                "p_benefit": pct(head["p_benefit"], 0),
                "range": _range(low["p_benefit"], high["p_benefit"]),
                "rd": interval(head["rd"]),
            }
        )
    return out


def _range(low: float, high: float) -> str:
    """A range of P(benefit) in whole percent; one value when both ends read the same."""
    a, b = pct(low, 0), pct(high, 0)
    return a if a == b else f"{a}–{b}"


def _named_prior_fits(rs: list[dict]) -> list[dict]:
    """The fits of one horizon that carry the named effect priors with their stated meaning (the
    log OR of cumulative employment: :data:`bayes_ips.models.CARRIES`); every fit when no model
    carries them."""
    return [r for r in rs if models.CARRIES.get(r["model"]) == "effect"] or rs


TIE = "within numerical or Monte Carlo error"
"""How a P(benefit) at 1/2 by :func:`bayes_ips.estimands.side_of_half` is worded."""


def prior_dependence(summary: dict) -> str:
    """How far P(benefit) at the primary horizon moves with the prior, in words.

    Each range is taken over the models that carry the priors with one meaning
    (:data:`bayes_ips.models.CARRIES`): effect priors on the log OR in the logistic models and
    on the log RR in the log-binomial models (:data:`bayes_ips.models.EFFECT_SCALE`), rate priors
    in the beta-binomial models. The sentence says plainly when a reader holding the most
    sceptical prior fitted would not conclude benefit; a P(benefit) at 1/2 within numerical or
    Monte Carlo error (:func:`bayes_ips.estimands.side_of_half`) is on neither side.
    """
    run = summary["run"]
    h = run["primary_horizon"]
    rs = _by_horizon(summary).get(h) or next(iter(_by_horizon(summary).values()))
    h = rs[0]["horizon_months"]
    if len(rs) == 1:
        return (
            "Only one model and prior were fitted, so this run cannot show how much the answer "
            "depends on the prior."
        )
    words = Wording.of(run)
    parts = []
    for component, scale, what in (
        ("effect", "log_or", f"effect priors (on the log OR of the cumulative {words.outcome})"),
        ("effect", "log_rr", "effect priors on the log RR (the log-binomial models)"),
        ("rate", None, "rate priors (Beta priors of the beta-binomial models)"),
        ("reference", None, "the hazard model's own prior"),
    ):
        group = [
            r
            for r in rs
            if models.CARRIES.get(r["model"]) == component
            and models.EFFECT_SCALE.get(r["model"]) == scale
        ]
        if not group:
            continue
        low = min(group, key=lambda r: r["p_benefit"])
        high = max(group, key=lambda r: r["p_benefit"])
        if low is high:
            parts.append(f"under {what}, {pct(low['p_benefit'], 0)} ({_fit(low)})")
        elif pct(low["p_benefit"], 0) == pct(high["p_benefit"], 0):
            parts.append(
                f"under {what}, {pct(low['p_benefit'], 0)} for every fit ({_fit(low)} to "
                f"{_fit(high)}, equal to the nearest percent)"
            )
        else:
            parts.append(
                f"under {what}, from {pct(low['p_benefit'], 0)} ({_fit(low)}) to "
                f"{pct(high['p_benefit'], 0)} ({_fit(high)})"
            )
    low = min(rs, key=lambda r: r["p_benefit"])
    sides = [side_of_half(r["p_benefit"], r["p_benefit_mcse"]) for r in rs]
    below, above = sides.count(-1), sides.count(1)
    if above == len(rs):
        verdict = (
            f"every fit puts it above 50%; the most sceptical, {_fit(low)}, at "
            f"{pct(low['p_benefit'], 0)}"
        )
    elif below == len(rs):
        verdict = "every fit puts it below 50%"
    elif below and above:
        verdict = (
            f"{below} of the {len(rs)} fits put it below 50%: a reader who holds the "
            f"{low['prior']} prior ({pct(low['p_benefit'], 0)} under {_model(low)}"
            f"{_flag(low)}) would not "
            "conclude benefit, so the conclusion depends on prior belief"
        )
    elif below or above:
        verdict = (
            f"{below or above} of the {len(rs)} fits put it {'below' if below else 'above'} "
            f"50% and the others at 50% {TIE}: no fit points to "
            f"{'benefit' if below else 'harm'}"
        )
    else:
        verdict = f"every fit puts it at 50% {TIE}: the data and priors favour neither arm"
    return f"P(benefit) at {h:g} months: {'; '.join(parts)}. So {verdict}."


def _flag(row: dict) -> str:
    """The flag of a number from one result row: ", ⚠ UNVERIFIED placeholder" or ""."""
    return "" if row["verified_data"] else f", {UNVERIFIED_FLAG}"


def _fit(row: dict) -> str:
    """A fit named beside its number, flagged when that number rests on unverified rows."""
    return f"{row['prior']}, {_model(row)}{_flag(row)}"


def _model(row: dict) -> str:
    return model_title(row["model"])


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
    cells = checked_counts(summary)
    if cells:
        tails = [c for c in cells if surprising(c)]
        band = f"{PPC_TAIL:g}–{1 - PPC_TAIL:g}"
        text += (
            f" Posterior-predictive checks: every mid-p-value and LOO-PIT value lies within {band}."
            if not tails
            else f" Posterior-predictive checks: {len(tails)} of {len(cells)} observed counts "
            f"are surprising under their fit (mid-p-value or LOO-PIT outside {band})."
        )
    return {"text": text, "failed": bool(failed), "mcmc": bool(rows)}


def without_rule(summary: dict) -> dict:
    """The answer box's bottom line when the run has no decision analysis: the primary
    horizon's P(benefit) under the headline fit and what it means without a decision rule (arm
    labels shortened, as on the whole first screen)."""
    model, prior = headline_fit(summary)
    h = summary["run"]["primary_horizon"]
    treatment, control = arms(summary)
    words = Wording.of(summary["run"])
    head = next(
        r
        for r in summary["results"]
        if (r["model"], r["prior"], r["horizon_months"]) == (model, prior, h)
    )
    return {
        "sentence": (
            f"At {h:g} months ({prior} prior, {model_title(model)}) the probability that "
            f"{treatment}'s {words.rate()} {'is below' if words.lower else 'exceeds'} "
            f"{control}'s is "
            f"{pct(head['p_benefit'], 0)}; this run sets no decision rule, so that probability "
            "is the answer: how strongly the data and prior favour a benefit, not a go/no-go "
            "verdict."
        ),
        "verified": head["verified_data"],
    }


def executive(summary: dict) -> dict:
    model, prior = headline_fit(summary)
    return {
        "question": question(summary),
        # the primary horizon first, then the others in order
        "answers": sorted(answers(summary), key=lambda a: not a["primary"]),
        "prior_dependence": prior_dependence(summary),
        "trust": trust(summary),
        "headline_model": model_title(model),
        "headline_prior": prior,
        "level": level(summary["run"]),
        # the first screen names the arms shortened; the question line gives them in full
        "arms": arms(summary),
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
        "control_prior": control_prior_text(summary),
        "priors": priors,
        "any_ess": any(p["ess_text"] is not None for p in priors),
        "level": level(summary["run"]),
        "rope": summary["run"].get("rope"),
    }


def control_prior_text(summary: dict) -> str:
    """The control-risk prior of the run's fits in words (:data:`bayes_ips.models.CONTROL_MODELS`
    says which models use it and how), or the logistic models' stated midpoint prior
    (:data:`bayes_ips.models.MIDPOINT_MODELS`), which excludes it."""
    midpoint = next((p["midpoint"] for p in summary["priors"] if p.get("midpoint")), None)
    if midpoint is not None:
        stated_midpoint = MidpointPrior(**midpoint)
        return (
            "Baseline prior, stated in the spec's [priors]: "
            f"{stated_midpoint.describe()} in the logistic models, in place of their default "
            "Normal(0, 1.5²) on α (brms's prior on the centred intercept); no control-risk prior "
            "is stated."
        )
    stated = next((p["control"] for p in summary["priors"] if p.get("control")), None)
    if stated is None:
        return (
            "Control-risk prior: none stated in the spec, so the defaults apply: Normal(0, 1.5²) "
            "on the control arm's log-odds in the log-binomial models and on the arms' midpoint "
            "log-odds in the logistic models; in the beta-binomial models the control arm's "
            "Beta is the rate prior's."
        )
    control = ControlPrior(**stated)
    where = "on the control arm's first log-odds in the logistic and log-binomial models"
    if control.family == "beta":
        where += ", and as the control arm's conjugate Beta in the beta-binomial models"
    return f"Control-risk prior, stated in the spec's [priors]: {control.describe()}, {where}."


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


# -- results ---------------------------------------------------------------------------------------


def result_row(r: dict, words: Wording | None = None) -> dict:
    """One result row as tables show it; thresholds worded by ``words`` (higher is better when
    not given)."""
    words = words or Wording()
    return {
        "model": r["model"],
        "prior": r["prior"],
        "horizon": f"{r['horizon_months']:g}",
        "verified": r["verified_data"],
        "p_benefit": pct(r["p_benefit"]),
        "p_benefit_mcse": mcse_text(
            r["p_benefit_mcse"],
            r["model"] in models.EXACT_MODELS,
            r["p_benefit"],
            r.get("draws"),
        ),
        "rd": interval(r["rd"]),
        "arr": interval(r["arr_at_baseline"]) if "arr_at_baseline" in r else None,
        "rr": ratio_interval(r["rr"]),
        "or": ratio_interval(r["or"]),
        "nnt": nnt(r["nnt"]),
        "p_rd_gt": [(words.rd_threshold(float(k)), pct(v, 0)) for k, v in r["p_rd_gt"].items()],
        "p_rr_gt": [(words.rr_threshold(float(k)), pct(v, 0)) for k, v in r["p_rr_gt"].items()],
        "p_rope": pct(r.get("p_rope")),
        "seed": r.get("seed"),
    }


def results_section(summary: dict) -> dict:
    run = summary["run"]
    horizons = []
    for h, rs in _by_horizon(summary).items():
        rows = [result_row(r, Wording.of(run)) for r in rs]
        horizons.append(
            {
                "horizon": f"{h:g}",
                "primary": h == run["primary_horizon"],
                # the heading is flagged when every row is; otherwise each unverified row is
                "unverified": not any(r["verified"] for r in rows),
                "rows": rows,
                "rd_keys": [k for k, _ in rows[0]["p_rd_gt"]],
                "rr_keys": [k for k, _ in rows[0]["p_rr_gt"]],
            }
        )
    baseline = next(
        (r["arr_at_baseline"]["baseline"] for r in summary["results"] if "arr_at_baseline" in r),
        None,
    )
    return {
        "horizons": horizons,
        "level": level(run),
        "rope": run.get("rope"),
        "baseline": None if baseline is None else pct(baseline),
    }


# -- the analyses' sections ------------------------------------------------------------------------

SectionBuilder = Callable[[dict], dict | None]


@dataclass(frozen=True)
class Section:
    """A report section brought by a post-fit analysis (:mod:`bayes_ips.analyses`).

    Attributes
    ----------
    name : str
        The section's anchor (``sec-<name>``) and the stem of its templates.
    build : callable
        ``build(summary) -> dict | None``: the section's template data from summary.json alone
        (so a finished run re-renders), or None when the analysis did not run (the section is
        then left out).
    templates : Path
        The folder holding ``<name>.html.j2`` and ``<name>.md.j2``.
    title : str, optional
        Its entry in the table of contents; default: the data's ``title``, else the name.
    before_results : bool
        Shown between the convergence diagnostics and the results (a check of the fits), rather
        than after the results.

    Notes
    -----
    The templates start with their own ``<h2>`` / ``##`` heading. A section after the results
    is followed by the figures placed in it (``Figure.section``), and its HTML is wrapped in
    ``<section id="sec-<name>">`` unless the template carries that id; a section before the
    results carries its own ``<section>`` element and places its figures itself, from
    ``placed[sec.name]``. Templates see the section data as ``sec.data``, the figures by name
    as ``figs`` (``figs[name].href``, ``.f.alt``, ``.f.caption``), the summary as ``s``,
    ``run``, the filters ``pct``, ``pp``, ``ratio``, ``wbr`` and, in Markdown, ``md`` and
    ``mdcode``.
    """

    name: str
    build: SectionBuilder
    templates: Path
    title: str | None = None
    before_results: bool = False


@dataclass(frozen=True)
class Layout:
    """What a report shows beyond its core sections: the analyses' sections and every figure
    builder, in order (:func:`bayes_ips.analyses.registry.layout`)."""

    sections: tuple[Section, ...] = ()
    figures: tuple[FigureBuilder, ...] = CORE_FIGURES
    figure_data: tuple[str, ...] = ()
    """Paths of the summary's arrays that only draw figures (written to figure_data.json; see
    :func:`bayes_ips.report.summary.split_figure_data`)."""


def analysis_sections(summary: dict, layout: Layout) -> list[dict]:
    """Every section of ``layout`` with its data (None: nothing to show) and its title."""
    out = []
    for sec in layout.sections:
        data = sec.build(summary)
        title = sec.title or (data.get("title") if isinstance(data, dict) else None)
        out.append(
            {
                "name": sec.name,
                "data": data,
                "title": title or sec.name.replace("_", " "),
                "before_results": sec.before_results,
            }
        )
    return out


# -- the whole report ------------------------------------------------------------------------------


def context(summary: dict, figures: list[Figure], figure_href, layout: Layout) -> dict:
    """Everything the templates need.

    Parameters
    ----------
    figure_href : callable
        ``figure_href(figure) -> str``: how the exporter refers to a figure (a data URI for
        HTML, a relative file path for Markdown).
    layout : Layout
        The analyses' sections.
    """
    figs = {f.name: {"f": f, "href": figure_href(f)} for f in figures}
    placed: dict[str, list[dict]] = {}
    for fig in figs.values():
        placed.setdefault(fig["f"].section, []).append(fig)
    core = {
        "data": data_section(summary),
        "methods": methods_section(summary),
        "diagnostics": diagnostics_section(summary),
        "results": results_section(summary),
    }
    sections = analysis_sections(summary, layout)
    before = [sec for sec in sections if sec["before_results"]]
    after = [sec for sec in sections if not sec["before_results"] and sec["data"] is not None]
    # the reading path: the answer, the result sections, then the appendices
    toc = [("summary", "The answer"), ("results", "Results by horizon")]
    toc += [(sec["name"], sec["title"].capitalize()) for sec in after]
    if summary.get("warnings"):
        toc.append(("warnings", "Warnings"))
    toc += [("data", "Appendix: data"), ("methods", "Appendix: methods")]
    if core["diagnostics"] is not None:
        toc.append(("diagnostics", "Appendix: convergence"))
    toc += [(sec["name"], f"Appendix: {sec['title']}") for sec in before if sec["data"] is not None]
    toc += [("results-tables", "Appendix: every fit"), ("repro", "Appendix: reproducibility")]
    decision = next(
        (
            sec["data"]["first_screen"]
            for sec in sections
            if (sec["data"] or {}).get("first_screen")
        ),
        None,
    )
    return {
        "s": summary,
        "run": summary["run"],
        "exec": executive(summary)
        | {"decision": decision, "bottom_line": decision or without_rule(summary)},
        **core,
        "figs": figs,
        "placed": {name: placed.get(name, []) for name in ("methods", "results", "diagnostics")}
        | {sec["name"]: placed.get(sec["name"], []) for sec in sections},
        "before_results": before,
        "sections": after,
        "toc": toc,
        "wambs": wambs(summary),
        "unverified_flag": UNVERIFIED_FLAG,
        "outcome": Wording.of(summary["run"]).outcome,
        "words": Wording.of(summary["run"]),
        "model_title": model_title,
    }
