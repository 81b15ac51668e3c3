"""The decision-analysis report section and its figures, from summary.json's ``decision`` key.

:func:`section` gives the templates ``templates/decision.*.j2`` plain sentences for a decision maker
first and the detailed tables after; the figure builders draw the decision by prior, the
cost-effectiveness acceptability curve, assurance and the operating characteristics.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from bayes_ips.report.format import UNVERIFIED_DATA, Wording, model_title, pct
from bayes_ips.report.style import (
    PRIOR_LEGEND_TITLE,
    STYLE,
    Figure,
    arms,
    arms_note,
    legend_below,
    log_x,
    model_markers,
    panel_flag,
    prior_handles,
    prior_looks,
    render,
)

OUTCOME_COLOURS = {"go": "#009E73", "indeterminate": "#F0E442", "no-go": "#D55E00"}
OUTCOME_ORDER = ("go", "indeterminate", "no-go")


def person(w: Wording) -> str:
    """Whom the value per participant is for: "extra person with the outcome" or "person
    spared the death within 60 days"."""
    return f"person spared the {w.outcome}" if w.lower else f"extra person with the {w.outcome}"


def input_labels(w: Wording) -> dict:
    """The economic inputs' labels, the value per participant in the outcome's direction."""
    return {
        "currency": "Currency",
        "value_per_employed": f"Value of one {person(w)}",
        "cost_per_patient": "Incremental cost of the treatment per patient",
        "population_per_year": "Patients the decision affects per year",
        "years": "Years the decision stands",
        "discount_rate": "Annual discount rate",
        "trial_fixed_cost": "Fixed cost of a confirmatory trial",
        "trial_cost_per_participant": "Cost per trial participant",
    }


def events(dec: dict, w: Wording) -> dict:
    """The rules' events in the outcome's direction: benefit (``gt0``), by at least the MCID
    (``mcid``), beyond the ROPE on the benefit side (``rope_go``) and not (``rope_no_go``), the
    summary key of the ROPE rule's probability (``rope_key``), the benefit's size in words
    (``size``, ``size_short``) and as the INB formula's factor (``inb_rd``)."""
    s = dec["settings"]
    rope = f"{100 * s['rope']:g}"
    if w.lower:
        return {
            "gt0": "RD < 0",
            "mcid": w.rd_threshold(s["mcid"]),
            "mcid_word": "RD < −MCID",
            "rope_go": f"RD < −{rope} pp",
            "rope_no_go": f"RD ≥ −{rope} pp",
            "rope_short": "P(RD < −ROPE)",
            "rope_key": "p_rope_below",
            "size": "risk reduction (−RD)",
            "size_short": "risk reduction (−RD)",
            "inb_rd": "(−RD)",
        }
    return {
        "gt0": "RD > 0",
        "mcid": w.rd_threshold(s["mcid"]),
        "mcid_word": "RD > MCID",
        "rope_go": f"RD > {rope} pp",
        "rope_no_go": f"RD ≤ {rope} pp",
        "rope_short": "P(RD > ROPE)",
        "rope_key": "p_rope_above",
        "size": "risk difference",
        "size_short": "RD",
        "inb_rd": "RD",
    }


def money(x: float | None, currency: str) -> str:
    if x is None:
        return "–"
    sign = "−" if x < 0 else ""
    return f"{sign}{currency} {abs(x):,.0f}"


def _fit_label(d: dict) -> str:
    return f"{d['model']} / {d['prior']}"


def _dual_sentence(rule: dict, dec: dict, treatment: str, w: Wording) -> str:
    s = dec["settings"]
    p0 = (
        f"the probability that {treatment} {w.improves()} is "
        f"{pct(rule['p_rd_gt_0'])} (the rule asks for at least {pct(s['gamma_benefit'], 0)})"
    )
    pm = (
        f"the probability that it {w.improves()} by at least {100 * s['mcid']:g} "
        f"percentage points, the minimal clinically important difference, is "
        f"{pct(rule['p_rd_gt_mcid'])} (the rule asks for at least {pct(s['gamma_mcid'], 0)})"
    )
    verdict = {
        "go": "both criteria are met",
        "no-go": "both criteria fail",
        "indeterminate": "one criterion is met and the other is not",
    }[rule["dual"]]
    return f"the decision rule says {OUTCOME_WORDS[rule['dual']]}: {verdict}. Here {p0}, and {pm}."


def _trial_sentences(nt: dict, dec: dict, treatment: str, w: Wording) -> list[str]:
    """How large a confirmatory trial must be, in words, for each assurance target."""
    n_max = nt["n_per_arm"][-1]
    out, missed = [], []
    for t in dec["settings"]["next_trial"]["assurance_targets"]:
        nf = nt["frequentist"]["n_for_target"][f"{t:.2f}"]
        nb = nt["bayesian"]["n_for_target"][f"{t:.2f}"]
        if nf is None and nb is None:
            missed.append(pct(t, 0))
            continue
        bayes = f"{nb} per arm" if nb is not None else f"more than {n_max} per arm"
        out.append(
            f"To reach {pct(t, 0)} assurance (probability of success) with a statistically "
            f"significant benefit, a confirmatory trial needs "
            f"{nf if nf is not None else f'more than {n_max}'} participants per arm; for a "
            f"convincing Bayesian result under the sceptical prior "
            f"({dec['analysis_prior'].get('name', 'sceptical')}) it needs {bayes}."
        )
    if missed:
        out.append(
            f"No confirmatory trial of up to {n_max} participants per arm reaches "
            f"{' or '.join(missed)} assurance (probability of success): with {n_max} per arm the "
            f"chance of a statistically significant benefit is "
            f"{pct(nt['frequentist']['assurance'][-1], 0)}, and of a convincing Bayesian result "
            f"{pct(nt['bayesian']['assurance'][-1], 0)}."
        )
    ceiling = nt["design_p_benefit"]
    out.append(
        f"Even a very large trial fails if {treatment} does not "
        f"{'reduce' if w.lower else 'raise'} the {w.rate()} at all, "
        f"and the current evidence gives that a probability of {pct(1 - ceiling, 0)}; so no "
        f"trial's chance of success can exceed about {pct(ceiling, 0)}."
    )
    return out


def _plain(dec: dict, run: dict) -> list[str]:
    treatment, control = run["treatment"], run["control"]
    w = Wording.of(run)
    h = dec["primary_horizon"]
    head = dec["headline"]
    econ = dec["economics"]
    cur = econ["inputs"]["currency"]["value"]
    fit = next(f for f in dec["fits"] if (f["model"], f["prior"]) == (head["model"], head["prior"]))
    rule = next(
        r
        for r in dec["rules"]
        if (r["model"], r["prior"], r["horizon_months"]) == (head["model"], head["prior"], h)
    )
    out = [
        f"Should {treatment} be offered instead of {control} alone? On the trial's "
        f"{h:g}-month data, under the {head['prior']} prior ({model_title(head['model'])}), "
        + _dual_sentence(rule, dec, treatment, w)
    ]
    at_h = [r for r in dec["rules"] if r["horizon_months"] == h]
    counts = {o: sum(r["dual"] == o for r in at_h) for o in OUTCOME_ORDER}
    if len(at_h) > 1:
        out.append(
            f"Across the {len(at_h)} model and prior combinations fitted, at {h:g} months "
            f"{counts['go']} reach go, {counts['indeterminate']} are indeterminate and "
            f"{counts['no-go']} reach no-go, that is, benefit not proven (table and figure below)."
        )
    nb = fit["net_benefit"]
    inputs = econ["inputs"]
    label = (
        "Under ILLUSTRATIVE economic assumptions, which are not facts (replace them in the "
        "spec's [decision.economics] section)"
        if econ["illustrative"]
        else "Under the economic inputs set in the spec"
    )
    out.append(
        f"{label}: a value of {money(inputs['value_per_employed']['value'], cur)} for each "
        f"{person(w)} and an extra cost of "
        f"{money(inputs['cost_per_patient']['value'], cur)} per patient, offering {treatment} "
        "has an expected net benefit of "
        f"{money(nb['inb_mean'], cur)} per patient "
        f"(so {'' if nb['adopt'] else 'not '}adopting it is the better bet now), "
        f"and the probability that it is cost-effective is {pct(nb['p_cost_effective'])}. "
        f"Knowing the true effect would be worth {money(nb['evpi_per_patient'], cur)} per patient "
        f"(expected value of perfect information), {money(nb['evpi_population'], cur)} for the "
        f"{econ['population_discounted']:,.0f} patients (discounted) the decision affects."
    )
    out.extend(_trial_sentences(fit["next_trial"], dec, treatment, w))
    vos = fit["next_trial"]["value_of_sampling"]
    if vos["n_best"] is None:
        out.append(
            "Weighing what a trial would teach against its cost, no trial size considered has a "
            "positive expected net benefit of sampling under these economic inputs."
        )
    else:
        out.append(
            f"Weighing what a trial would teach against its cost, the trial size with the largest "
            f"expected net benefit of sampling is {vos['n_best']} per arm "
            f"({money(vos['enbs_best'], cur)})."
        )
    if not dec["primary_verified"]:
        out.insert(
            0,
            f"WARNING: the {h:g}-month counts are UNVERIFIED illustrative placeholders, so every "
            "number in this section is illustrative too.",
        )
    return out


OUTCOME_WORDS = {
    "go": "go: benefit shown",
    "indeterminate": "not proven (indeterminate)",
    "no-go": "not proven (no-go)",
}
"""How a decision rule's outcome reads for a decision maker: no-go means "not proven", never
"no effect"."""
CELL_WORDS = {"go": "go", "indeterminate": "indeterminate", "no-go": "no-go:\nnot proven"}
"""A dual-criterion cell's words in the rules figure: a vermillion no-go cell says "not
proven"."""
NOT_PROVEN = (
    "not proven means the evidence has not reached the rule's bar for benefit, not that "
    "{treatment} has no effect"
)


def _next_trial_clause(nt: dict, dec: dict) -> str:
    """What a confirmatory trial could do, in a clause: the smallest size per arm that reaches
    the first assurance target (by either success criterion), else that no size considered
    reaches it and the ceiling on any trial's chance of success."""
    settings = dec["settings"]["next_trial"]
    target = settings["assurance_targets"][0]
    key = f"{target:.2f}"
    sizes = [
        (n, words)
        for n, words in (
            (nt["frequentist"]["n_for_target"][key], "a statistically significant benefit"),
            (nt["bayesian"]["n_for_target"][key], "a convincing Bayesian result"),
        )
        if n is not None
    ]
    if sizes:
        n, words = min(sizes)
        return f"a trial of {n} per arm would have at least a {pct(target, 0)} chance of {words}"
    return (
        f"no trial of up to {settings['n_per_arm'][-1]} per arm reaches {pct(target, 0)} "
        f"assurance, and no trial's chance of success can exceed about "
        f"{pct(nt['design_p_benefit'], 0)}"
    )


def first_screen(summary: dict) -> dict | None:
    """The report's answer box: the headline fit's dual-criterion outcome at each horizon in
    words, and one sentence at the primary horizon that sets the rule's outcome beside the
    expected net benefit and says what "not proven" means. Arm labels are shortened
    (:func:`~bayes_ips.report.style.short`); the question line above gives them in full."""
    dec = summary.get("decision")
    if dec is None:
        return None
    treatment = arms(summary)[0]
    head = dec["headline"]
    key = (head["model"], head["prior"])
    rules = {r["horizon_months"]: r for r in dec["rules"] if (r["model"], r["prior"]) == key}
    h = dec["primary_horizon"]
    rule = rules[h]
    fit = next(f for f in dec["fits"] if (f["model"], f["prior"]) == key)
    nb = fit["net_benefit"]
    econ = dec["economics"]
    cur = econ["inputs"]["currency"]["value"]
    s = dec["settings"]
    shown = rule["dual"] == "go"
    reason = (
        f"P(benefit) {pct(rule['p_rd_gt_0'], 0)} "
        f"{'≥' if rule['p_rd_gt_0'] >= s['gamma_benefit'] else '<'} the "
        f"{pct(s['gamma_benefit'], 0)} it asks for, "
        f"P({Wording.of(summary['run']).rd_threshold(s['mcid'])}) "
        f"{pct(rule['p_rd_gt_mcid'], 0)} {'≥' if rule['p_rd_gt_mcid'] >= s['gamma_mcid'] else '<'}"
        f" {pct(s['gamma_mcid'], 0)}"
    )
    inputs = (
        "ILLUSTRATIVE economic assumptions"
        if econ["illustrative"]
        else "the spec's economic inputs"
    )
    sentence = (
        f"Decision at {h:g} months ({head['prior']} prior, {model_title(head['model'])}): the "
        f"pre-set rule says {OUTCOME_WORDS[rule['dual']]} ({reason})"
        + ("" if shown else f"; {NOT_PROVEN.format(treatment=treatment)}")
        + f"; under {inputs} the expected net benefit of offering {treatment} is "
        f"{money(nb['inb_mean'], cur)} per patient, so adopting it "
        f"{'is' if nb['adopt'] else 'is not'} the better bet now"
        + (
            f", although its benefit is not proven: {_next_trial_clause(fit['next_trial'], dec)}"
            if nb["adopt"] and not shown
            else ""
        )
        + "."
    )
    return {
        "sentence": sentence,
        "verified": rule["verified_data"],
        "by_horizon": {f"{k:g}": OUTCOME_WORDS[r["dual"]] for k, r in rules.items()},
    }


def _rule_rows(dec: dict) -> list[dict]:
    return [
        {
            "fit": _fit_label(r),
            "horizon": f"{r['horizon_months']:g}",
            "verified": r["verified_data"],
            "p0": pct(r["p_rd_gt_0"]),
            "pm": pct(r["p_rd_gt_mcid"]),
            "dual": r["dual"],
            "p_above": pct(r["p_rope_above"]),
            "p_inside": pct(r["p_rope_inside"]),
            "p_below": pct(r["p_rope_below"]),
            "rope": r["rope"],
            "exact": r["exact"],
        }
        for r in dec["rules"]
    ]


def _tally(dec: dict) -> list[dict]:
    out = []
    for h in sorted({r["horizon_months"] for r in dec["rules"]}):
        at_h = [r for r in dec["rules"] if r["horizon_months"] == h]
        unverified = sum(not r["verified_data"] for r in at_h)
        out.append(
            {
                "horizon": f"{h:g}",
                "verified": not unverified,
                "unverified_of": ""
                if unverified in (0, len(at_h))
                else f"{unverified} of {len(at_h)} fits: ",
                **{
                    f"{rule}_{o.replace('-', '_')}": sum(r[rule] == o for r in at_h)
                    for rule in ("dual", "rope")
                    for o in OUTCOME_ORDER
                },
            }
        )
    return out


def _economics_rows(dec: dict, w: Wording) -> list[dict]:
    inputs = dec["economics"]["inputs"]
    labels = input_labels(w)
    rows = []
    for k, d in inputs.items():
        v = d["value"]
        if k == "discount_rate":
            shown = pct(v)
        elif k in ("currency", "years", "population_per_year"):
            shown = f"{v:,.0f}" if isinstance(v, float) else str(v)
        else:
            shown = money(v, inputs["currency"]["value"])
        rows.append(
            {
                "label": labels[k],
                "key": k,
                "value": shown,
                "illustrative": d["source"] != "spec",
            }
        )
    return rows


def _nb_rows(dec: dict) -> list[dict]:
    cur = dec["economics"]["inputs"]["currency"]["value"]
    rows = []
    for f in dec["fits"]:
        nb = f["net_benefit"]
        inb = nb.get("inb")
        rows.append(
            {
                "fit": _fit_label(f),
                "verified": f["verified_data"],
                "inb_mean": money(nb["inb_mean"], cur),
                "inb_interval": "–"
                if inb is None
                else f"{money(inb['lo'], cur)} to {money(inb['hi'], cur)}",
                "adopt": "adopt" if nb["adopt"] else "do not adopt",
                "p_ce": pct(nb["p_cost_effective"]),
                "evpi": money(nb["evpi_per_patient"], cur),
                "evpi_pop": money(nb["evpi_population"], cur),
                "exact": nb["exact"],
            }
        )
    return rows


def _assurance_rows(dec: dict, fit: dict) -> list[dict]:
    nt = fit["next_trial"]
    cur = dec["economics"]["inputs"]["currency"]["value"]
    vos = nt["value_of_sampling"]
    rows = []
    for i, n in enumerate(nt["n_per_arm"]):
        rows.append(
            {
                "n": n,
                "freq": f"{pct(nt['frequentist']['assurance'][i])} "
                f"(±{100 * nt['frequentist']['mcse'][i]:.1f})",
                "bayes": f"{pct(nt['bayesian']['assurance'][i])} "
                f"(±{100 * nt['bayesian']['mcse'][i]:.1f})",
                "evsi": money(vos["evsi_per_patient"][i], cur),
                "cost": money(vos["trial_cost"][i], cur),
                "enbs": money(vos["enbs"][i], cur),
            }
        )
    return rows


def _target_rows(dec: dict) -> list[dict]:
    rows = []
    targets = dec["settings"]["next_trial"]["assurance_targets"]
    for f in dec["fits"]:
        nt = f["next_trial"]
        cells = []
        for t in targets:
            for name in ("frequentist", "bayesian"):
                n = nt[name]["n_for_target"][f"{t:.2f}"]
                cells.append("not reached" if n is None else str(n))
        rows.append(
            {
                "fit": _fit_label(f),
                "verified": f["verified_data"],
                "cells": cells,
                "ceiling": pct(nt["design_p_benefit"]),
                "n_best": "none"
                if nt["value_of_sampling"]["n_best"] is None
                else str(nt["value_of_sampling"]["n_best"]),
                "seed": nt["seed"],
            }
        )
    return rows


def _oc(dec: dict) -> dict:
    oc = dec["operating_characteristics"]
    alpha = dec["settings"]["next_trial"]["alpha"]
    mcid = dec["settings"]["mcid"]
    i_mcid = int(np.argmin(np.abs(np.array(oc["rd"]) - mcid)))
    return {
        "null_rate": pct(oc["null_rate"]),
        "type1_bayes_max": pct(max(oc["type1"]["bayesian"]), 2),
        "type1_freq_max": pct(max(oc["type1"]["frequentist"]), 2),
        "one_sided": pct(alpha / 2, 1),
        "rd_mcid": f"{100 * oc['rd'][i_mcid]:g}",
        "power_rows": [
            {
                "n": p["n_per_arm"],
                "freq": pct(p["frequentist"][i_mcid]),
                "bayes": pct(p["bayesian"][i_mcid]),
            }
            for p in oc["power"]
        ],
    }


def section(summary: dict) -> dict | None:
    """Template data of the decision section (None when the analysis did not run)."""
    dec = summary.get("decision")
    if dec is None:
        return None
    head = dec["headline"]
    fit = next(f for f in dec["fits"] if (f["model"], f["prior"]) == (head["model"], head["prior"]))
    targets = dec["settings"]["next_trial"]["assurance_targets"]
    prior = dec["analysis_prior"]
    w = Wording.of(summary["run"])
    return {
        "plain": _plain(dec, summary["run"]),
        "events": events(dec, w),
        "first_screen": first_screen(summary),
        "illustrative": dec["economics"]["illustrative"],
        "primary": f"{dec['primary_horizon']:g}",
        "primary_verified": dec["primary_verified"],
        "fits_flag": _fits_flag(dec),
        "settings": dec["settings"],
        "mcid_pp": f"{100 * dec['settings']['mcid']:g}",
        "rope_pp": f"{100 * dec['settings']['rope']:g}",
        "gamma_benefit": pct(dec["settings"]["gamma_benefit"], 0),
        "gamma_mcid": pct(dec["settings"]["gamma_mcid"], 0),
        "gamma_rope": pct(dec["settings"]["gamma_rope"], 0),
        "rules": _rule_rows(dec),
        "tally": _tally(dec),
        "economics": _economics_rows(dec, w),
        "population": f"{dec['economics']['population_discounted']:,.0f}",
        "net_benefit": _nb_rows(dec),
        "headline_fit": _fit_label(fit),
        "assurance": _assurance_rows(dec, fit),
        "target_headers": [
            f"{pct(t, 0)} {name}" for t in targets for name in ("frequentist", "Bayesian")
        ],
        "targets": _target_rows(dec),
        "oc": _oc(dec),
        "analysis_prior": f"{prior.get('name', 'sceptical')}: Normal({prior['mean']:.3f}, "
        f"{prior['sd']:.3f}²) on the log OR, the exact single-horizon logistic posterior; "
        f"{prior['recipe']}",
        "control_rate": f"{pct(dec['reference_control_rate']['value'])} "
        f"({dec['reference_control_rate']['source']})",
        "simulations": _simulations_text(fit["next_trial"]),
        "robust_weight": dec["settings"]["next_trial"]["robust_weight"],
        "methods": dec["methods"],
    }


def _fits_flag(dec: dict) -> str:
    """The caption's unverified flag of the figures that draw every fit at the primary horizon
    (their hollow markers are the fits that rest on unverified counts): "" when none does, else
    the flag and how many do."""
    bad = sum(not f["verified_data"] for f in dec["fits"])
    if not bad:
        return ""
    if bad == len(dec["fits"]):
        return f"{UNVERIFIED_DATA} (every fit: hollow markers)"
    return f"{bad} of {len(dec['fits'])} fits (hollow markers): {UNVERIFIED_DATA}"


def _simulations_text(nt: dict) -> str:
    """How many trials each assurance value rests on (runs from before ``design_draws`` say
    only the total)."""
    text = f"{nt['simulations']} simulated trials per size"
    if "design_draws" in nt:
        text += (
            f" ({nt['trials_per_draw']} for each of the design prior's {nt['design_draws']} "
            "posterior draws)"
        )
    return text


def _title_flag(summary: dict) -> str:
    """The flag of a panel that draws every fit at the primary horizon, on lines of its own
    (:func:`~bayes_ips.report.style.panel_flag`)."""
    dec = summary["decision"]
    keys = [(f["model"], f["prior"]) for f in dec["fits"]]
    flag = panel_flag(summary, dec["primary_horizon"], keys)
    return f"\n{flag}" if flag else ""


def rules_plot(dec: dict, w: Wording | None = None):
    """A grid of decisions: rows model × prior, columns horizons, one panel per rule; each cell
    shows the probability its rule rests on, on the benefit side of ``w`` (default: a higher
    rate is better)."""
    ev = events(dec, w or Wording())
    fits = list(dict.fromkeys(_fit_label(r) for r in dec["rules"]))
    horizons = sorted({r["horizon_months"] for r in dec["rules"]})
    # a column is flagged when every cell is; otherwise each unverified cell is
    unverified = {
        h
        for h in horizons
        if not any(r["verified_data"] for r in dec["rules"] if r["horizon_months"] == h)
    }
    cell = {(_fit_label(r), r["horizon_months"]): r for r in dec["rules"]}
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, axes = plt.subplots(
            1,
            2,
            figsize=(2.2 + 2.4 * len(horizons), 0.9 + 0.46 * len(fits)),
            squeeze=False,
            layout="constrained",
        )
        for ax, (rule, title, prob) in zip(
            axes[0],
            (
                ("dual", "Dual criterion", "p_rd_gt_0"),
                ("rope", "ROPE rule", ev["rope_key"]),
            ),
            strict=True,
        ):
            for i, f in enumerate(fits):
                for j, h in enumerate(horizons):
                    r = cell.get((f, h))
                    if r is None:
                        continue
                    ax.add_patch(
                        plt.Rectangle(
                            (j, i), 1, 1, color=OUTCOME_COLOURS[r[rule]], ec="white", lw=2
                        )
                    )
                    mark = "" if r["verified_data"] or h in unverified else " ⚠"
                    # a ROPE no-go is evidence against a meaningful effect; a dual no-go is not
                    word = CELL_WORDS[r[rule]] if rule == "dual" else r[rule]
                    ax.text(
                        j + 0.5,
                        i + 0.5,
                        f"{word}{mark}\n{pct(r[prob], 0)}",
                        ha="center",
                        va="center",
                        fontsize=8,
                    )
            ax.set_xlim(0, len(horizons))
            ax.set_ylim(len(fits), 0)
            ax.set_xticks(
                np.arange(len(horizons)) + 0.5,
                [f"{h:g} mo" + (" ⚠" if h in unverified else "") for h in horizons],
            )
            ax.set_yticks(np.arange(len(fits)) + 0.5, fits if ax is axes[0][0] else [])
            ax.tick_params(length=0)
            for side in ("left", "bottom"):
                ax.spines[side].set_visible(False)
            label = f"P({ev['gt0']})" if rule == "dual" else ev["rope_short"]
            ax.set_title(f"{title}\n(cell: outcome, {label})")
        if any(not r["verified_data"] for r in dec["rules"]):
            fig.supxlabel(f"⚠ {UNVERIFIED_DATA}", color="#D55E00")
    return fig


def rules_figure(fits, summary: dict) -> Figure | None:
    dec = summary.get("decision")
    if dec is None:
        return None
    s = dec["settings"]
    ev = events(dec, Wording.of(summary["run"]))
    return render(
        rules_plot(dec, Wording.of(summary["run"])),
        "decision_rules",
        "Decision by model, prior and horizon",
        f"Two grids of coloured cells, one row per model and prior and one column per horizon: "
        f"left, the dual criterion (go when P({ev['gt0']}) ≥ {pct(s['gamma_benefit'], 0)} and "
        f"P({ev['mcid']}) ≥ {pct(s['gamma_mcid'], 0)}); right, the ROPE rule "
        f"(ROPE ±{100 * s['rope']:g} pp, γ = {pct(s['gamma_rope'], 0)}). Green go, yellow "
        "indeterminate, red no-go; each cell also names the outcome.",
    )


def _fit_lines(summary: dict) -> list[tuple[dict, dict]]:
    """Each fit at the primary horizon with its line keywords: the prior's look and the model's
    marker, hollow when the fit's result rests on unverified counts (as in the forest plot)."""
    looks, markers = prior_looks(summary), model_markers(summary)
    out = []
    for f in summary["decision"]["fits"]:
        look = looks[f["prior"]]
        face = look["color"] if f["verified_data"] else "white"
        out.append((f, {**look, "marker": markers[f["model"]], "markevery": 0.2, "mfc": face}))
    return out


def _fit_legend(fig, summary: dict) -> None:
    """The legend of a figure with one line per fit: priors by look, models by marker."""
    dec = summary["decision"]
    handles = prior_handles(summary, [f["prior"] for f in dec["fits"]])
    markers = model_markers(summary)
    handles += [
        Line2D([], [], color="0.3", ls="none", marker=markers[m], label=m)
        for m in dict.fromkeys(f["model"] for f in dec["fits"])
    ]
    legend_below(fig, handles, title=f"{PRIOR_LEGEND_TITLE}; model (marker)")


def ceac_plot(summary: dict):
    """CEAC and EVPI per patient over the willingness to pay, one line per fit."""
    dec = summary["decision"]
    econ = dec["economics"]
    cur = econ["inputs"]["currency"]["value"]
    value = econ["inputs"]["value_per_employed"]["value"]
    w = Wording.of(summary["run"])
    whom = f"person spared\nthe {w.outcome}" if w.lower else f"extra person\nwith the {w.outcome}"
    with plt.rc_context(STYLE):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
        for f, line in _fit_lines(summary):
            c = f["net_benefit"]["ceac"]
            wtp = np.array(c["wtp"]) / 1000
            a1.plot(wtp, c["p_cost_effective"], lw=1.2, ms=4, **line)
            a2.plot(wtp, c["evpi_per_patient"], lw=1.2, ms=4, **line)
        for ax in (a1, a2):
            ax.axvline(value / 1000, color="0.3", lw=0.8, ls="--")
            ax.set_xlabel(f"value of one {whom} ({cur} thousand)")
        a1.set_ylim(0, 1)
        a1.set_ylabel(f"probability {arms(summary)[0]}\nis cost-effective")
        a2.set_ylabel(f"EVPI per patient ({cur})")
        tag = "\nILLUSTRATIVE inputs" if econ["illustrative"] else ""
        a1.set_title(f"Acceptability curve{tag}{_title_flag(summary)}")
        a2.set_title(f"Value of perfect information{_title_flag(summary)}")
        _fit_legend(fig, summary)
    return fig


def ceac_figure(fits, summary: dict) -> Figure | None:
    dec = summary.get("decision")
    if dec is None:
        return None
    econ = dec["economics"]
    return render(
        ceac_plot(summary),
        "decision_ceac",
        "Cost-effectiveness acceptability curve and value of perfect information"
        + (" (illustrative economic inputs)" if econ["illustrative"] else "")
        + "."
        + arms_note(summary),
        f"Left: probability that {summary['run']['treatment']} is cost-effective against the "
        f"value placed on one {person(Wording.of(summary['run']))}, one line per model and prior "
        "(coloured and dashed by prior, marked by model, as named in the legend), rising from "
        "zero. Right: "
        "expected value of perfect information per patient over the same axis. The dashed line "
        "marks the value set in the spec.",
    )


def assurance_plot(summary: dict):
    """Assurance against sample size per arm (both criteria) and ENBS against sample size."""
    dec = summary["decision"]
    econ = dec["economics"]
    cur = econ["inputs"]["currency"]["value"]
    targets = dec["settings"]["next_trial"]["assurance_targets"]
    with plt.rc_context(STYLE):
        fig, (a1, a2, a3) = plt.subplots(
            1, 3, figsize=(10.8, 3.4), layout="constrained", sharex=True
        )
        for f, line in _fit_lines(summary):
            nt = f["next_trial"]
            a1.plot(nt["n_per_arm"], nt["frequentist"]["assurance"], lw=1.2, ms=4, **line)
            a2.plot(nt["n_per_arm"], nt["bayesian"]["assurance"], lw=1.2, ms=4, **line)
            vos = nt["value_of_sampling"]
            a3.plot(vos["n_per_arm"], np.array(vos["enbs"]) / 1e6, lw=1.2, ms=4, **line)
        for ax, title in ((a1, "significant z test"), (a2, "convincing Bayesian result")):
            for t in targets:
                ax.axhline(t, color="0.5", lw=0.7, ls=":")
            ax.set_ylim(0, 1)
            ax.set_title(f"Assurance: {title}{_title_flag(summary)}")
        log_x(a1)
        a1.set_ylabel("assurance (probability of success)")
        a2.set_xlabel("participants per arm of a confirmatory trial")
        a3.axhline(0, color="0.3", lw=0.8)
        a3.set_ylabel(f"ENBS ({cur} million)")
        tag = "\nILLUSTRATIVE inputs" if econ["illustrative"] else ""
        a3.set_title(f"Expected net benefit of sampling{tag}")
        _fit_legend(fig, summary)
    return fig


def assurance_figure(fits, summary: dict) -> Figure | None:
    dec = summary.get("decision")
    if dec is None:
        return None
    return render(
        assurance_plot(summary),
        "decision_assurance",
        "Assurance and expected net benefit of sampling against the size of a confirmatory trial",
        "Probability that a confirmatory trial succeeds against participants per arm on a log "
        "scale, with a significant z test (left) and with a convincing Bayesian result "
        "(middle), dotted lines at the assurance targets; right: expected net benefit of "
        "sampling against participants per arm. One line per model and prior, drawn as in the "
        "other figures by prior and named in the legend.",
    )


def oc_plot(dec: dict, w: Wording | None = None):
    """Type-I error against sample size and power against the true benefit (the RD, or −RD
    when ``w`` says a lower rate is better), both criteria."""
    size = events(dec, w or Wording())["size"]
    oc = dec["operating_characteristics"]
    alpha = dec["settings"]["next_trial"]["alpha"]
    with plt.rc_context(STYLE):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
        a1.plot(oc["n_per_arm"], oc["type1"]["frequentist"], label="z test")
        a1.plot(oc["n_per_arm"], oc["type1"]["bayesian"], ls="--", label="Bayesian rule")
        a1.axhline(alpha / 2, color="0.5", lw=0.7, ls=":")
        log_x(a1)
        a1.set_xlabel("participants per arm")
        a1.set_ylabel("type-I error (one-sided success)")
        a1.set_title(f"No true effect, control rate {pct(oc['null_rate'])}")
        rd = 100 * np.array(oc["rd"])
        for i, p in enumerate(oc["power"]):
            colour = f"C{i % 8}"
            a2.plot(rd, p["frequentist"], color=colour, label=f"{p['n_per_arm']} per arm")
            a2.plot(rd, p["bayesian"], color=colour, ls="--")
        a2.axvline(100 * dec["settings"]["mcid"], color="0.3", lw=0.8, ls="--")
        a2.set_ylim(0, 1)
        a2.set_xlabel(f"true {size} (percentage points)")
        a2.set_ylabel("power")
        a2.set_title("Power: z test solid, Bayesian rule dashed")
        legend_below(fig)
    return fig


def oc_figure(fits, summary: dict) -> Figure | None:
    dec = summary.get("decision")
    if dec is None:
        return None
    w = Wording.of(summary["run"])
    return render(
        oc_plot(dec, w),
        "decision_oc",
        "Operating characteristics of the success criteria (exact)",
        "Left: type-I error of the z test and of the Bayesian rule against participants per "
        f"arm when the treatment has no effect. Right: power against the true "
        f"{events(dec, w)['size']}, "
        "one colour per trial size, solid for the z test and dashed for the Bayesian rule; the "
        "dashed vertical line marks the MCID.",
    )
