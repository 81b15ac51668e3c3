"""Report section and figure for statements across horizons (summary.json ``horizons``).

The section answers "does the benefit hold at every horizon?" in one sentence (also shown in the
report's summary), from the discrete-time hazard fit when there is one, else from the first fit
of a model that pools horizons, else from the first fit.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from bayes_ips.report.format import UNVERIFIED, UNVERIFIED_DATA, Wording, pct, pp
from bayes_ips.report.style import STYLE, Figure, arms, arms_note, legend_below, render
from bayes_ips.report.summary import verified_data

HEADLINE_MODEL = "discrete_time_hazard"
"""The model the joint answer and the cumulative figure come from when it was fitted: its
cumulative rates come from interval hazards that respect the intervals' lengths."""
TITLES = {
    "beta_binomial": "independent beta-binomial model",
    "exact_logistic": "exact single-horizon logistic model",
    "hierarchical_beta_binomial": "hierarchical beta-binomial model",
    "hierarchical_logistic": "hierarchical logistic model",
    "discrete_time_hazard": "discrete-time hazard model",
    "adjusted_logistic": "covariate-adjusted logistic model",
    "exact_log_binomial": "exact single-horizon log-binomial model",
    "log_binomial": "log-binomial model",
}


def _months(hs) -> str:
    names = [f"{h:g}" for h in hs]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def verdict(p: float) -> str:
    """Words for a posterior probability that a statement holds."""
    if p >= 0.95:
        return "Yes, with high probability"
    if p >= 0.8:
        return "Probably"
    if p >= 0.5:
        return "More likely than not, but far from certain"
    return "No: it is more likely than not that the benefit fails at some horizon"


def _answer(hz: dict, summary: dict, head: dict) -> str:
    run = summary["run"]
    t, c = run["treatment"], run["control"]
    w = Wording.of(run)
    rows = {
        r["horizon_months"]: r
        for r in summary["results"]
        if r["model"] == head["model"] and r["prior"] == head["prior"]
    }
    hs = hz["horizons_months"]
    each = ", ".join(pct(rows[h]["p_benefit"]) for h in hs)
    how = (
        f"a model of the cumulative {w.outcome} that counts each participant once, so it never "
        "falls"
        if head["cumulative"]
        else "horizons analysed as separate data, as no cumulative model was fitted"
    )
    text = (
        f"{verdict(head['p_benefit_all'])}: under the {TITLES.get(head['model'], head['model'])} "
        f"({how}) with the {head['prior']} prior, the posterior probability that {t} has a "
        f"{'lower' if w.lower else 'higher'} {w.rate()} than {c} at every horizon "
        f"({_months(hs)} months) together is "
        f"{pct(head['p_benefit_all'])} (at each horizon separately: {each})."
    )
    last = head["rd_increase"][-1]
    text += (
        f" The probability that the benefit at {last['to']:g} months exceeds the benefit at "
        f"{last['from']:g} months is {pct(last['p'])}."
    )
    if hz["unverified_horizons"]:
        text += (
            f" The counts at {_months(hz['unverified_horizons'])} months are "
            f"{UNVERIFIED}s, and a joint statement uses every horizon, so this answer is "
            "illustrative until they are replaced."
        )
    return text


def _interval(d: dict, fmt) -> str:
    return f"{fmt(d['median'])} ({fmt(d['lo'])} to {fmt(d['hi'])})"


def _months_or_beyond(x: float | None, last: float) -> str:
    return f"beyond {last:g}" if x is None else f"{x:.1f}"


def horizons_section(summary: dict) -> dict | None:
    """Template data of the section across horizons; None when there is one horizon."""
    hz = summary.get("horizons")
    if not hz:
        return None
    run = summary["run"]
    t, c = run["treatment"], run["control"]
    cumulative = [f for f in hz["fits"] if f["cumulative"]]
    head = next(
        (f for f in cumulative if f["model"] == HEADLINE_MODEL),
        cumulative[0] if cumulative else hz["fits"][0],
    )
    last = hz["horizons_months"][-1]
    joint_rows = [
        {
            "model": f["model"],
            "prior": f["prior"],
            "cumulative": f["cumulative"],
            "p_all": pct(f["p_benefit_all"]) + f" ± {100 * f['p_benefit_all_mcse']:.1f}",
            "increases": [pct(s["p"]) for s in f["rd_increase"]],
            "monotone": pct(f["p_monotone"]),
        }
        for f in hz["fits"]
    ]
    first_of = {}
    for r in summary["results"]:
        first_of.setdefault(r["model"], r["prior"])
    compare_rows = []
    for h in hz["horizons_months"]:
        cells = []
        for model, prior in first_of.items():
            r = next(
                x
                for x in summary["results"]
                if (x["model"], x["prior"], x["horizon_months"]) == (model, prior, h)
            )
            cells.append(
                {
                    "text": f"{pct(r['p_benefit'])}; {_interval(r['rd'], pp)}",
                    "verified": r["verified_data"],
                }
            )
        # the row is flagged when every cell is; otherwise each unverified cell is
        compare_rows.append(
            {"horizon": f"{h:g}", "verified": any(c["verified"] for c in cells), "cells": cells}
        )
    detail = None
    hazard_fits = [f for f in cumulative if "hazard" in f]
    if hazard_fits:
        f = hazard_fits[0]
        sets = {(r["arm"], r["interval"]): r for r in hz["risk_sets"]["rows"]}
        detail = {
            "model": f["model"],
            "prior": f["prior"],
            "half": [
                {
                    "arm": arm,
                    "p_reached": pct(h["p_reached"]),
                    "median": _months_or_beyond(h["median"], last),
                    "interval": f"{_months_or_beyond(h['lo'], last)} to "
                    f"{_months_or_beyond(h['hi'], last)}",
                }
                for arm, h in f["half_time"].items()
            ],
            "p_earlier": pct(f["p_treatment_half_earlier"]),
            "intervals": [
                {
                    "interval": lab,
                    "arms": [
                        {
                            "events": sets[(arm, lab)]["events"] if (arm, lab) in sets else "–",
                            "at_risk": sets[(arm, lab)]["at_risk"] if (arm, lab) in sets else "–",
                            "hazard": _interval(f["hazard"][arm][lab], pct),
                        }
                        for arm in (t, c)
                    ],
                    "hazard_ratio": _interval(f["hazard_ratio"][lab], lambda x: f"{x:.2f}"),
                }
                for lab in hz["intervals"]
            ],
            "ppc": [
                {
                    **cell,
                    "replicated": f"{cell['rep_mean']:.1f} ({cell['rep_lo']:.0f} to "
                    f"{cell['rep_hi']:.0f})",
                    "ppp_text": f"{cell['ppp']:.2f}",
                    "flag": not 0.025 <= cell["ppp"] <= 0.975,
                }
                for cell in f["interval_ppc"]
            ],
        }
    return {
        "title": "across horizons",
        "question": "Does the benefit hold at every horizon?",
        "answer": _answer(hz, summary, head),
        "horizons": [f"{h:g}" for h in hz["horizons_months"]],
        "pairs": [f"{s['to']:g} > {s['from']:g}" for s in head["rd_increase"]],
        # rd_increase compares the benefit sign · RD across horizons
        "benefit_rd": "−RD" if Wording.of(summary["run"]).lower else "RD",
        "joint": joint_rows,
        "compare_models": [f"{m} / {p}" for m, p in first_of.items()],
        "compare": compare_rows,
        "risk_method": hz["risk_sets"]["method"],
        "risk_problem": hz["risk_sets"].get("not_derivable"),
        "detail": detail,
        "half_assumption": hz["half_time_assumption"],
        "unverified": _months(hz["unverified_horizons"]) if hz["unverified_horizons"] else "",
        "loo_elsewhere": bool(summary.get("comparison")),
        "treatment": t,
        "control": c,
    }


def _survival_paths(p: np.ndarray, horizons: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Cumulative employment on ``grid`` per draw, log-linear survival between horizons."""
    knots = np.concatenate([[0.0], horizons])
    surv = np.concatenate([np.ones((p.shape[0], 1)), 1.0 - p], axis=1)
    log_s = np.log(np.clip(surv, 1e-300, None))
    out = np.stack([np.interp(grid, knots, row) for row in log_s])
    return 1.0 - np.exp(out)


def cumulative_figure(fits, summary: dict) -> Figure | None:
    """Cumulative employment over follow-up from the cumulative fit, with per-horizon answers."""
    hz = summary.get("horizons")
    chosen = next((f for f in fits if f.model == HEADLINE_MODEL), None)
    if not hz or chosen is None:
        return None
    run = summary["run"]
    t, c = run["treatment"], run["control"]
    outcome = Wording.of(run).outcome
    horizons = np.asarray(hz["horizons_months"], float)
    grid = np.linspace(0, horizons[-1], 97)
    other = next((f for f in fits if f.model != HEADLINE_MODEL), None)
    observed = {
        (d["arm"], d["horizon_months"]): (d["employed"] / d["n_analysed"], d["verified"])
        for d in summary["data"]
    }
    colours = {t: "#0072B2", c: "#E69F00"}
    shown = dict(zip((t, c), arms(summary), strict=True))
    paths = {}
    with plt.rc_context(STYLE):
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained", sharex=True)
        for arm in (t, c):
            draws = chosen.p.sel(arm=arm).stack(s=("chain", "draw")).transpose("s", "horizon")
            paths[arm] = _survival_paths(draws.to_numpy(), horizons, grid)
            lo, med, hi = np.quantile(paths[arm], [0.025, 0.5, 0.975], axis=0)
            ax.fill_between(grid, 100 * lo, 100 * hi, color=colours[arm], alpha=0.2, lw=0)
            ax.plot(grid, 100 * med, color=colours[arm], label=f"{shown[arm]}: {HEADLINE_MODEL}")
            for h in horizons:
                rate, verified = observed[(arm, h)]
                ax.plot(
                    h,
                    100 * rate,
                    "o",
                    color=colours[arm] if verified else "white",
                    mec=colours[arm],
                    ms=6,
                )
        rd = paths[t] - paths[c]
        lo, med, hi = np.quantile(rd, [0.025, 0.5, 0.975], axis=0)
        bx.fill_between(grid, 100 * lo, 100 * hi, color="#009E73", alpha=0.2, lw=0)
        bx.plot(grid, 100 * med, color="#009E73", label=f"{HEADLINE_MODEL} / {chosen.prior.name}")
        if other is not None:
            diff = (other.p.sel(arm=t) - other.p.sel(arm=c)).stack(s=("chain", "draw"))
            q = np.quantile(diff.transpose("horizon", "s").to_numpy(), [0.025, 0.5, 0.975], axis=1)
            bx.errorbar(
                horizons + 0.4,
                100 * q[1],
                yerr=100 * np.abs(q[[0, 2]] - q[1]),
                fmt="s",
                color="#CC79A7",
                ms=4,
                capsize=2,
                label=f"{other.model} / {other.prior.name} (per horizon)",
            )
        bx.axhline(0, color="0.3", lw=0.8, ls="--")
        # a horizon is flagged when a result drawn at it rests on placeholder rows: the hazard
        # curves pool every horizon, so they carry any horizon's placeholders
        drawn = [(f.model, f.prior.name) for f in (chosen, other) if f is not None]
        for axis in (ax, bx):
            axis.set_xticks(
                horizons,
                [
                    f"{h:g}" + ("" if verified_data(summary, drawn, [float(h)]) else " ⚠")
                    for h in horizons
                ],
            )
            axis.set_xlabel(f"months since enrolment\n(⚠ {UNVERIFIED_DATA})")
        ax.set_ylabel(f"with the {outcome} (%)")
        ax.set_title(f"Cumulative {outcome};\ndots observed (hollow: unverified)")
        bx.set_ylabel(f"risk difference (pp),\n{shown[t]}\n− {shown[c]}")
        bx.set_title("Risk difference over follow-up")
        legend_below(fig)
    return render(
        fig,
        "cumulative_employment",
        f"Cumulative {outcome} and risk difference over follow-up (discrete-time hazard model; "
        "curves between horizons assume a constant hazard within each interval)."
        + arms_note(summary),
        f"Left: posterior median and 95% band of the share of {t} and {c} participants with the "
        f"{outcome}, from enrolment to the last horizon, with the observed proportions as "
        "dots (hollow where the counts are unverified placeholders). Right: the risk difference "
        "over follow-up with its 95% band, and the per-horizon model's intervals as squares.",
    )
