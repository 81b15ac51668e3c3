"""Report section and figure for missing outcomes (summary.json ``missing_data``).

The section answers "how bad would the missing outcomes have to be to overturn it?" in one
sentence (also shown in the report's summary), at the primary horizon.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from bayes_ips.report.format import UNVERIFIED, UNVERIFIED_COUNTS, Wording, mcse_text, pct
from bayes_ips.report.style import STYLE, Figure, arms, arms_note, legend_below, render


def scenario_text(name: str, w: Wording, t: str, c: str, prior: str = "") -> str:
    """One assumption in words. The worst case for the treatment leaves its missing
    participants without the outcome when a higher rate is better and gives it to them when a
    lower one is."""
    if name in ("worst_case", "best_case"):
        against = (
            f"every missing {t} participant without the {w.outcome}, every missing {c} "
            "participant with it"
        )
        favours = (
            f"every missing {t} participant with the {w.outcome}, every missing {c} "
            "participant without it"
        )
        worst, best = (favours, against) if w.lower else (against, favours)
        return f"Worst case: {worst}" if name == "worst_case" else f"Best case: {best}"
    return {
        "complete_case": "Complete case (participants with an outcome only)",
        "mar": "Missing at random (equal to complete case exactly: arm is the only predictor)",
        "mar_covariates": f"Missing at random given covariates (adjusted_logistic, prior {prior})",
    }[name]


VARY = {
    "treatment": "missing {t} participants only",
    "control": "missing {c} participants only",
    "both": "both, in opposite directions",
}


def _level(p: float) -> str:
    return f"{100 * p:g}%"


def _severity(delta: float) -> str:
    size = abs(delta)
    if size < 0.5:
        return "Not very"
    if size < 1.5:
        return "Moderately"
    return "Very"


def _tip_clause(tip: dict, t: str, c: str, arms: dict, outcome: str) -> str:
    rate_t, rate_c = arms[t]["posterior_mean"], arms[c]["posterior_mean"]
    if tip["vary"] == "treatment":
        return (
            f"the {arms[t]['missing']} missing {t} participants' odds of the {outcome} were "
            f"{tip['odds_ratio']:.2f} times those of observed {t} participants (δ = "
            f"{tip['delta']:+.2f}: about {pct(tip['missing_rate_treatment'])} with the {outcome} "
            "instead "
            f"of about {pct(rate_t)}, the posterior mean rate of observed {t} participants; "
            f"{pct(arms[t]['employed'] / arms[t]['analysed'])} were observed with it)"
        )
    if tip["vary"] == "control":
        return (
            f"the {arms[c]['missing']} missing {c} participants' odds were "
            f"{tip['odds_ratio']:.2f} times those of observed {c} participants (δ = "
            f"{tip['delta']:+.2f}: about {pct(tip['missing_rate_control'])} instead of "
            f"{pct(rate_c)}, the posterior mean rate of observed {c} participants; "
            f"{pct(arms[c]['employed'] / arms[c]['analysed'])} were observed with it)"
        )
    return (
        f"both shifted at once by δ = {abs(tip['delta']):.2f} against {t} (odds ratio "
        f"{tip['odds_ratio']:.2f} for missing {t}, {1 / tip['odds_ratio']:.2f} for missing {c})"
    )


def _answer(entry: dict, md: dict, t: str, c: str, outcome: str) -> str:
    arms = entry["arms"]
    h = entry["horizon_months"]
    if arms[t]["missing"] + arms[c]["missing"] == 0:
        return f"No outcome is missing at {h:g} months, so missing outcomes cannot overturn it."
    sc = {s["name"]: s for s in entry["scenarios"]}
    lead = (
        f"At {h:g} months, {arms[t]['missing']} of {arms[t]['randomised']} {t} and "
        f"{arms[c]['missing']} of {arms[c]['randomised']} {c} participants have no outcome; "
        f"P(benefit) is {pct(sc['complete_case']['p_benefit'])} with complete cases, "
        + (
            "exactly the same if they are missing at random (with arm the only predictor the "
            "two are equal by definition), and between "
            if sc["mar"].get("equals") == "complete_case"
            else f"{pct(sc['mar']['p_benefit'])} if they are missing at random, and between "
        )
        + f"{pct(sc['worst_case']['p_benefit'])} (worst case) and "
        f"{pct(sc['best_case']['p_benefit'])} (best case)."
    )
    clauses, smallest = [], None
    for th in sorted(md["thresholds"], reverse=True):
        tips = [x for x in entry["tipping"] if x["threshold"] == th]
        if any(x["status"] == "below_at_mar" for x in tips):
            clauses.append(f"it is below {_level(th)} even if they are missing at random")
            continue
        reached = [x for x in tips if x["status"] == "reached" and x["vary"] != "both"]
        if not reached:
            clauses.append(
                f"no shift of one arm's missing participants alone takes it below {_level(th)}"
            )
            continue
        smallest = min([abs(x["delta"]) for x in reached] + [smallest or np.inf])
        clauses.append(
            f"it falls below {_level(th)} if "
            + ", or if ".join(_tip_clause(x, t, c, arms, outcome) for x in reached)
        )
    head = (
        "No plausible pattern of missing outcomes overturns it"
        if smallest is None
        else f"{_severity(smallest)} bad"
    )
    detail = "; ".join(clauses)
    text = f"{head}. {lead} {detail[:1].upper()}{detail[1:]}."
    if not entry["verified_data"]:
        text += f" These counts are {UNVERIFIED}s."
    return text


def missing_section(summary: dict) -> dict | None:
    """Template data of the missing-outcomes section; None when the analysis was off."""
    md = summary.get("missing_data")
    if not md:
        return None
    run = summary["run"]
    t, c = run["treatment"], run["control"]
    words = Wording.of(run)
    primary = next(e for e in md["horizons"] if e["horizon_months"] == md["primary_horizon"])
    rows = []
    for e in md["horizons"]:
        for s in e["scenarios"]:
            rows.append(
                {
                    "horizon": f"{e['horizon_months']:g}",
                    "verified": e["verified_data"],
                    "scenario": scenario_text(s["name"], words, t, c, s.get("prior", "")),
                    "p_benefit": pct(s["p_benefit"]),
                    # only the covariate-adjusted MAR row comes from an MCMC fit
                    "mcse": mcse_text(
                        s["p_benefit_mcse"], s["name"] != "mar_covariates", s["p_benefit"]
                    ),
                    "rd": f"{100 * s['rd']['median']:+.1f} ({100 * s['rd']['lo']:+.1f} to "
                    f"{100 * s['rd']['hi']:+.1f})",
                }
            )
    tips = []
    for e in md["horizons"]:
        for x in e["tipping"]:
            status = {
                "reached": None,
                "below_at_mar": "already below at δ = 0",
                "not_reached": f"not reached for |δ| ≤ {md['search_limit']:g}",
            }[x["status"]]
            tips.append(
                {
                    "horizon": f"{e['horizon_months']:g}",
                    "verified": e["verified_data"],
                    "threshold": _level(x["threshold"]),
                    "vary": VARY[x["vary"]].format(t=t, c=c),
                    "delta": status or f"{x['delta']:+.2f}",
                    "odds_ratio": "–" if status else f"{x['odds_ratio']:.2f}",
                    "rates": "–"
                    if status
                    else f"{pct(x['missing_rate_treatment'])} / {pct(x['missing_rate_control'])}",
                }
            )
    return {
        "title": "missing outcomes",
        "question": "How bad would the missing outcomes have to be to overturn it?",
        "answer": _answer(primary, md, t, c, words.outcome),
        "primary": f"{md['primary_horizon']:g}",
        "method": primary["method"],
        "prior": md["prior"],
        "prior_description": md["prior_description"],
        "scenarios": rows,
        "tipping": tips,
        "treatment": t,
        "control": c,
        "draws": md["draws"],
        "complete_source": _complete_source(md),
    }


def _complete_source(md: dict) -> str | None:
    """The results' fit ("model / prior") that every complete-case row repeats, else None."""
    rows = [s for e in md["horizons"] for s in e["scenarios"] if s["name"] == "complete_case"]
    fits = {(s["model"], s["prior"]) for s in rows if s.get("source") == "results"}
    if len(fits) != 1 or any(s.get("source") != "results" for s in rows):
        return None
    return " / ".join(fits.pop())


def tipping_figure(fits, summary: dict) -> Figure | None:
    """P(benefit) against δ per arm, and its map over both arms' δ, at the primary horizon."""
    md = summary.get("missing_data")
    if not md:
        return None
    entry = next(e for e in md["horizons"] if e["horizon_months"] == md["primary_horizon"])
    if "grid" not in entry:
        return None
    run = summary["run"]
    t, c = run["treatment"], run["control"]
    w = Wording.of(run)
    ts, cs = arms(summary)
    deltas = np.asarray(md["deltas"])
    grid = np.asarray(entry["grid"])
    sc = {s["name"]: s["p_benefit"] for s in entry["scenarios"]}
    flag = "" if entry["verified_data"] else f" ({UNVERIFIED_COUNTS})"
    with plt.rc_context(STYLE):
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(10.5, 3.8), layout="constrained")
        labels = {
            "treatment": f"δ for missing {ts} (missing {cs} at δ = 0, like observed {cs})",
            "control": f"δ for missing {cs} (missing {ts} at δ = 0, like observed {ts})",
            "both": f"δ for missing {ts}, −δ for missing {cs}",
        }
        for (name, label), colour in zip(
            labels.items(), ("#0072B2", "#E69F00", "#009E73"), strict=True
        ):
            ax.plot(deltas, 100 * np.asarray(entry["curves"][name]), color=colour, label=label)
        for th in md["thresholds"]:
            ax.axhline(100 * th, color="0.4", lw=0.8, ls="--")
        for name, style in (("worst_case", ":"), ("best_case", "-.")):
            ax.axhline(
                100 * sc[name], color="#D55E00", lw=0.9, ls=style, label=name.replace("_", " ")
            )
        ax.axvline(0, color="0.6", lw=0.6)
        ax.set_xlabel(f"δ: log odds ratio of the {w.outcome},\nmissing vs observed")
        ax.set_ylabel("P(benefit) (%)")
        ax.set_title(f"{entry['horizon_months']:g} months{flag}")
        im = bx.pcolormesh(deltas, deltas, 100 * grid, cmap="cividis", shading="nearest")
        contours = bx.contour(
            deltas, deltas, grid, levels=sorted(md["thresholds"]), colors="white", linewidths=1.2
        )
        bx.clabel(contours, fmt=lambda v: f"{100 * v:.0f}%", fontsize=8)
        bx.plot(0, 0, "o", color="white", mec="black")
        bx.set_xlabel(f"δ for missing\n{cs}")
        bx.set_ylabel(f"δ for missing\n{ts}")
        bx.set_title("P(benefit) over both arms' δ;\ncontours at the thresholds")
        fig.colorbar(im, ax=bx, label="P(benefit) (%)")
        legend_below(fig)
    return render(
        fig,
        "tipping_point",
        f"Tipping-point analysis of the missing outcomes at {entry['horizon_months']:g} months."
        + arms_note(summary),
        f"Left: posterior probability that {t} {w.improves()} as the missing "
        f"participants' log odds of the {w.outcome} are shifted by δ from the observed ones', for "
        f"{t} only, {c} only, or both in opposite directions; dashed lines mark the thresholds, "
        "dotted and dash-dotted lines the worst and best cases. Right: the same probability "
        f"over a grid of δ for {t} (vertical) and {c} (horizontal) with contours at the "
        "thresholds; the dot marks missing at random.",
    )
