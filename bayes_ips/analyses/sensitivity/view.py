"""The "Prior sensitivity" report section and its figures.

Everything comes from summary.json's ``sensitivity`` and ``results`` keys plus the saved fits, so
``bayes-ips report RUN_DIR`` re-renders it without sampling.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from bayes_ips.priors import Prior
from bayes_ips.priors.ess import shape_warning
from bayes_ips.report.format import (
    UNVERIFIED_DATA,
    UNVERIFIED_FLAG,
    Wording,
    model_title,
    num,
    pct,
    ratio_interval,
)
from bayes_ips.report.style import (
    OKABE_ITO,
    PRIOR_LEGEND_TITLE,
    STYLE,
    Figure,
    legend_below,
    panel_flag,
    panel_grid,
    panel_xlabel,
    prior_handles,
    prior_looks,
    render,
)
from bayes_ips.report.summary import verified_data


def conclusion_rows(w: Wording) -> tuple:
    """The at-a-glance statements: (results key, level, words), in the outcome's direction."""
    moves = "falls" if w.lower else "rises"
    return (
        ("p_benefit", 0.5, f"P(benefit) > 50%: more likely than not that the {w.rate()} {moves}"),
        ("p_benefit", 0.9, "P(benefit) ≥ 90%: probable benefit"),
        ("p_benefit", 0.975, "P(benefit) ≥ 97.5%: strong evidence of benefit"),
        (
            "p_rd_gt_0.05",
            0.5,
            f"P({w.rd_threshold(0.05)}) > 50%: a {w.gain} of 5 percentage points more likely "
            "than not",
        ),
    )


EXACT_MODEL = "logistic, exact per horizon"
EXACT_FIT = "exact_logistic"
"""The model whose fits are the exact per-horizon posteriors (then no separate column)."""
THRESHOLDS_PP = np.linspace(-10, 30, 161)


def _sens(summary: dict) -> dict | None:
    return summary.get("sensitivity")


def _horizon_title(h, verified: bool) -> str:
    return f"{h:g} months" + ("" if verified else f" ({UNVERIFIED_DATA})")


def _primary_draws(fits, summary: dict):
    """Per model: list of (prior name, RD draws, log-OR draws) at the primary horizon."""
    run = summary["run"]
    h, t, c = run["primary_horizon"], run["treatment"], run["control"]
    out: dict[str, list] = {}
    for fit in fits:
        p = fit.p.sel(horizon=h)
        pt = p.sel(arm=t).to_numpy().ravel()
        pc = p.sel(arm=c).to_numpy().ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            log_or = np.log(pt / (1 - pt)) - np.log(pc / (1 - pc))
        out.setdefault(fit.model, []).append((fit.prior.name, pt - pc, log_or[np.isfinite(log_or)]))
    return out


def _model_title(model: str, fits, summary: dict) -> str:
    """A panel's title: the model and the flag of its fits drawn at the primary horizon."""
    keys = [(f.model, f.prior.name) for f in fits if f.model == model]
    flag = panel_flag(summary, summary["run"]["primary_horizon"], keys)
    return model_title(model) + (f"\n{flag}" if flag else "")


def effect_density_figure(fits, summary: dict) -> Figure | None:
    """Posterior densities of the odds ratio at the primary horizon, one curve per prior."""
    if _sens(summary) is None or not fits:
        return None
    draws = _primary_draws(fits, summary)
    looks = prior_looks(summary)
    h = summary["run"]["primary_horizon"]
    grid = np.linspace(-2.5, 3.5, 601)
    ticks = [0.25, 0.5, 1, 2, 4, 8]
    with plt.rc_context(STYLE):
        fig, axes = panel_grid(len(draws), sharey=False)
        for ax, (model, rows) in zip(axes, draws.items(), strict=True):
            for name, _, log_or in rows:
                if log_or.size < 10 or np.ptp(log_or) == 0:
                    continue
                ax.plot(grid, stats.gaussian_kde(log_or)(grid), lw=1.3, **looks[name])
            ax.axvline(0, color="0.3", lw=0.8, ls="--")
            ax.set_title(_model_title(model, fits, summary))
        axes[0].set_xticks(np.log(ticks), [f"{v:g}" for v in ticks])
        axes[0].set_xlim(grid[0], grid[-1])
        panel_xlabel(axes, "odds ratio (log scale)")
        axes[0].set_ylabel("posterior density\n(per unit log OR)")
        fig.suptitle(f"{h:g} months")
        legend_below(
            fig, prior_handles(summary, [f.prior.name for f in fits]), title=PRIOR_LEGEND_TITLE
        )
    return render(
        fig,
        "effect_by_prior",
        f"Posterior density of the odds ratio at {h:g} months, by prior",
        f"Posterior density curves of the odds ratio at {h:g} months on a log axis, one panel "
        "per model and one curve per prior, named in the legend; the colour says what a prior "
        "believes (green optimistic, blue neutral, vermillion pessimistic, purple "
        "evidence-based, black reference) and the line its strength (solid strong, dashed "
        "moderate, dotted weak, dash-dot not graded); the dashed vertical line marks no effect.",
    )


def threshold_figure(fits, summary: dict) -> Figure | None:
    """P(RD > delta) against delta at the primary horizon, one curve per prior; when a lower
    rate is better, P(−RD > delta), the risk reduction exceeding delta."""
    if _sens(summary) is None or not fits:
        return None
    w = Wording.of(summary["run"])
    size = "risk reduction" if w.lower else "risk difference"
    event = "−RD > δ" if w.lower else "RD > δ"
    draws = _primary_draws(fits, summary)
    looks = prior_looks(summary)
    h = summary["run"]["primary_horizon"]
    with plt.rc_context(STYLE):
        fig, axes = panel_grid(len(draws), sharey=True)
        for ax, (model, rows) in zip(axes, draws.items(), strict=True):
            for name, rd, _ in rows:
                probs = (w.sign * rd[None, :] * 100 > THRESHOLDS_PP[:, None]).mean(1)
                ax.plot(THRESHOLDS_PP, probs, lw=1.3, **looks[name])
            for level in (0.5, 0.9):
                ax.axhline(level, color="0.5", lw=0.6)
            ax.set_title(_model_title(model, fits, summary))
        axes[0].set_xlim(THRESHOLDS_PP[0], THRESHOLDS_PP[-1])
        axes[0].set_ylim(0, 1)
        panel_xlabel(axes, f"δ, {size} threshold (percentage points)")
        axes[0].set_ylabel(f"posterior P({event})")
        fig.suptitle(f"{h:g} months")
        legend_below(
            fig, prior_handles(summary, [f.prior.name for f in fits]), title=PRIOR_LEGEND_TITLE
        )
    return render(
        fig,
        "threshold_by_prior",
        f"Probability that the {size} exceeds δ at {h:g} months, by prior",
        f"Curves of the posterior probability that the {size} at {h:g} months exceeds "
        "a threshold δ from −10 to +30 percentage points, one panel per model and one curve "
        "per prior, named in the legend and drawn as in the other figures by prior; horizontal "
        "lines at 50% and 90%.",
    )


def _effect_priors(sens: dict) -> list[Prior]:
    """The fitted priors with an effect on the log OR (the scale of these figures)."""
    priors = [Prior.from_dict(p) for p in sens["priors"] if p.get("effect") is not None]
    return [p for p in priors if p.effect is not None and p.effect.scale == "log_or"]


def overlay_figure(fits, summary: dict) -> Figure | None:
    """Prior, likelihood and posterior of the log OR at the primary horizon, per effect prior."""
    sens = _sens(summary)
    if sens is None:
        return None
    priors = _effect_priors(sens)
    if not priors:
        return None
    theta = np.array(sens["likelihood"]["theta"])
    loglik = np.array(sens["likelihood"]["log_likelihood"])
    step = theta[1] - theta[0]
    lik = np.exp(loglik)
    lik /= lik.sum() * step
    h = sens["likelihood"]["horizon_months"]
    cols = min(4, len(priors))
    with plt.rc_context(STYLE):
        fig, axes = panel_grid(len(priors), sharey=False, width=2.6, height=2.0, cols=cols)
        for i, (ax, prior) in enumerate(zip(axes, priors, strict=True)):
            assert prior.effect is not None
            dens = prior.effect.pdf(theta)
            post = dens * lik
            post /= post.sum() * step
            ax.plot(theta, dens, color=OKABE_ITO[1], ls="--", label="prior")
            ax.plot(theta, lik, color="0.4", ls=":", label="likelihood")
            ax.plot(theta, post, color=OKABE_ITO[0], label="posterior")
            ax.axvline(0, color="0.3", lw=0.6)
            ax.set_title(prior.name, fontsize=9)
            ax.set_ylim(0, 1.05 * max(dens.max(), lik.max(), post.max()))
            if i + cols >= len(priors):
                ax.set_xlabel("log odds ratio")
        verified = sens["heatmap"]["verified_data"]
        fig.suptitle(_horizon_title(h, verified))
        legend_below(fig)
    return render(
        fig,
        "prior_likelihood_posterior",
        f"Prior, likelihood and posterior of the log odds ratio at {h:g} months",
        f"One small panel per effect prior showing, on the log odds ratio scale at {h:g} "
        "months, the prior (orange dashed), the trial's likelihood (grey dotted, the same in "
        "every panel) and the exact single-horizon posterior (blue solid).",
    )


def _safe_log(x):
    return np.log(np.maximum(x, 1e-12))


def heatmap_figure(fits, summary: dict) -> Figure | None:
    """P(benefit) over prior mean × prior SD with the 0.9 and 0.975 contours."""
    sens = _sens(summary)
    if sens is None:
        return None
    hm = sens["heatmap"]
    means, sds = np.array(hm["prior_mean"]), np.array(hm["prior_sd"])
    p = np.array(hm["p_benefit"])
    looks = prior_looks(summary)
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(7.2, 4.8), layout="constrained")
        mesh = ax.pcolormesh(
            means, sds, p, cmap="cividis", vmin=0, vmax=1, shading="nearest", rasterized=True
        )
        fig.colorbar(mesh, ax=ax, label="posterior P(benefit)")
        for level, ls in zip(hm["levels"], ("--", "-"), strict=True):
            c = hm["contours"][f"{level:g}"]
            xs = np.array([np.nan if m is None else m for m in c["prior_mean"]])
            ax.plot(xs, c["prior_sd"], color="black", ls=ls, lw=2, label=f"P(benefit) = {level:g}")
        for prior in _effect_priors(sens):
            eff = prior.effect
            if eff is None or eff.as_dict()["family"] != "normal":
                continue
            m, s = eff.mixture_mean, eff.mixture_sd
            if means[0] <= m <= means[-1] and sds[0] <= s <= sds[-1]:
                ax.plot(m, s, "o", color=looks[prior.name]["color"], mec="white", ms=6)
                side = np.sign(round(m, 6))  # left of negative means, right of positive, above 0
                ax.annotate(
                    prior.name,
                    (m, s),
                    fontsize=8,
                    xytext=(5 * side, 2 if side else 5),
                    ha={-1.0: "right", 0.0: "center", 1.0: "left"}[float(side)],
                    textcoords="offset points",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
                )
        ax.set_xlim(means[0], means[-1])
        ax.set_ylim(sds[0], sds[-1])
        ticks = [0.3, 0.5, 0.7, 1, 1.5, 2, 3]
        top = ax.secondary_xaxis("top", functions=(np.exp, _safe_log))
        top.set_xticks(ticks)
        top.set_xlabel("prior median odds ratio")
        ax.set_xlabel("prior mean of the log odds ratio")
        ax.set_ylabel("prior SD of the log odds ratio")
        legend_below(fig)
        flag = "" if hm["verified_data"] else f" ({UNVERIFIED_DATA})"
        ax.set_title(f"{hm['horizon_months']:g} months{flag}")
    return render(
        fig,
        "benefit_heatmap",
        f"How P(benefit) at {hm['horizon_months']:g} months depends on a normal prior on the "
        "log odds ratio",
        f"Heat map of the posterior probability of benefit at {hm['horizon_months']:g} months "
        f"over {len(means)} prior means by {len(sds)} prior SDs of the log odds ratio, darker "
        "for lower probability; a dashed black line marks where it crosses 0.9 and a solid "
        "black line 0.975; dots mark the named normal priors, coloured by what each believes as in "
        "the other figures by prior.",
    )


def _holds(value: float, level: float) -> bool:
    return value > level if level == 0.5 else value >= level


def _value(row: dict, key: str) -> float | None:
    if key == "p_benefit":
        return row["p_benefit"]
    return row.get("p_rd_gt", {}).get(key.removeprefix("p_rd_gt_"))


def _verdict(rows: list[dict], key: str, level: float) -> dict | None:
    values = [(r["prior"], _value(r, key)) for r in rows]
    values = [(n, v) for n, v in values if v is not None]
    if not values:
        return None
    yes = [n for n, v in values if _holds(v, level)]
    no = [n for n, v in values if not _holds(v, level)]
    if not no:
        mark, text = (
            "✓",
            (f"holds under all {len(values)} priors" if len(values) > 1 else "holds (one prior)"),
        )
    elif not yes:
        mark, text = (
            "✗",
            (
                f"holds under none of the {len(values)} priors"
                if len(values) > 1
                else "does not hold (one prior)"
            ),
        )
    elif len(yes) <= len(no):
        mark, text = "◐", f"{len(yes)} of {len(values)}: only under {', '.join(yes)}"
    else:
        mark, text = "◐", f"{len(yes)} of {len(values)}: not under {', '.join(no)}"
    return {"mark": mark, "text": text, "all": not no, "none": not yes}


def conclusions(summary: dict) -> dict:
    """Which statements hold under every prior, per horizon and model (the at-a-glance table)."""
    sens = summary["sensitivity"]
    by_model: dict[str, list] = {}
    for r in summary["results"]:
        by_model.setdefault(r["model"], []).append(r)
    if sens["exact"] and EXACT_FIT not in by_model:
        by_model[EXACT_MODEL] = sens["exact"]
    horizons = sorted({r["horizon_months"] for r in summary["results"]})
    rows = []
    for h in horizons:
        for key, level, label in conclusion_rows(Wording.of(summary["run"])):
            cells = []
            for results in by_model.values():
                at = [r for r in results if r["horizon_months"] == h]
                verdict = _verdict(at, key, level) if at else None
                if verdict is not None:
                    verdict["verified"] = all(r["verified_data"] for r in at)
                cells.append(verdict)
            shown = [c for c in cells if c is not None]
            if shown:
                # the row is flagged when every cell is; otherwise each unverified cell is
                rows.append(
                    {
                        "horizon": f"{h:g}",
                        "verified": any(c["verified"] for c in shown),
                        "label": label,
                        "cells": cells,
                    }
                )
    exact = next((m for m in (EXACT_FIT, EXACT_MODEL) if m in by_model), None)
    return {"models": list(by_model), "rows": rows, "exact": exact}


def _ess_text(ess: dict) -> dict:
    """The ESS cells of one prior's row (see :data:`bayes_ips.priors.ess.DEFINITIONS`)."""
    if ess["effect_local"] is None:  # no effect component
        effect, elir = "–", "–"
    else:
        # runs from before the rate-scale ESS have no ``effect_rate_scale``
        scale = ess.get("effect_rate_scale")
        effect = "–" if scale is None else f"{scale:.1f}"
        if ess.get("effect_elir_reason"):  # ELIR beyond the float range: null in summary.json
            elir = f"∞ (local {ess['effect_local']:.3g})"
        else:
            elir = f"{ess['effect_elir']:.1f} (local {ess['effect_local']:.1f})"
    rate = (
        "–"
        if ess["rate_control"] is None
        else f"{ess['rate_treatment']:.1f} / {ess['rate_control']:.1f}"
    )
    return {
        "ess_effect": effect,
        "ess_warning": shape_warning(ess.get("effect_rate_shape")),
        "ess_elir": elir,
        "ess_rate": rate,
    }


def _crossing_sentences(hm: dict, w: Wording) -> list[str]:
    """The heat map's crossings in words. P(benefit) rises with the prior mean of the log OR
    when a higher rate is better and falls with it when a lower one is, so a sceptical prior
    mean is one below 0, or above 0."""
    h = f"{hm['horizon_months']:g}"
    sign = w.sign
    out = [
        f"With a flat prior on the log odds ratio, P(benefit) at {h} months is "
        f"{pct(hm['flat_p_benefit'])}."
        if hm["flat_p_benefit"] is not None
        else f"With a flat prior on the log odds ratio, the posterior at {h} months is improper "
        "(one arm has every outcome and the other none), so it gives no P(benefit)."
    ]
    for ref in hm["reference"]:
        parts = []
        for level in hm["levels"]:
            m = ref[f"{level:g}"]
            if m is None:
                parts.append(f"no prior mean in the range searched reaches {100 * level:g}%")
            elif sign * m <= 0:
                parts.append(
                    f"P(benefit) stays at or above {100 * level:g}% for any prior mean "
                    f"{'below' if w.lower else 'above'} {m:.2f} (prior median OR "
                    f"{math.exp(m):.2f}, i.e. even a sceptical prior)"
                )
            else:
                parts.append(
                    f"P(benefit) reaches {100 * level:g}% only if the prior mean is at "
                    f"{'most' if w.lower else 'least'} {m:.2f} (prior median OR "
                    f"{math.exp(m):.2f})"
                )
        out.append(
            f"With prior SD {ref['prior_sd']:g} on the log OR: a prior centred on no effect "
            f"gives P(benefit) {pct(ref['p_benefit_at_mean_0'])}; " + "; ".join(parts) + "."
        )
    return out


PSENSE_WORDS = {
    "both": "prior and data",
    "prior": "prior-driven",
    "data": "data-driven",
    "neither": "neither",
    "not_computed": "not computed",
}
PSENSE_PHRASES = {
    "both": "sensitive to both prior and data",
    "prior": "driven by the prior, not the data,",
    "data": "driven by the data",
    "neither": "insensitive to both",
    "not_computed": "not computed (tied power-scaling weights)",
}


def _stated_tails(rows: list[dict], horizons: list) -> list[dict]:
    """Per fit with a stated P(benefit): the prior-predictive P(benefit) at every horizon beside
    it, and whether each holds it within Monte Carlo error."""
    by_fit: dict[tuple, dict] = {}
    for r in rows:
        if r.get("stated_p_benefit") is None:
            continue
        entry = by_fit.setdefault(
            (r["model"], r["prior"]),
            {"model": r["model"], "prior": r["prior"], "stated": pct(r["stated_p_benefit"])},
        )
        mark = "✓" if r["holds"] else "✗"
        entry.setdefault("cells", {})[r["horizon_months"]] = f"{pct(r['p_rd_gt_0'])} {mark}"
    return [{**e, "cells": [e["cells"].get(h, "–") for h in horizons]} for e in by_fit.values()]


def psense_view(rows: list[dict], summary: dict) -> dict:
    """Power-scaling results as one sentence per horizon and a fit × horizon table."""
    horizons = sorted({r["horizon_months"] for r in rows})
    fits = list(dict.fromkeys((r["model"], r["prior"]) for r in rows))
    sentences = []
    for h in horizons:
        at = [r for r in rows if r["horizon_months"] == h]
        groups: dict[str, list[str]] = {}
        for r in at:
            groups.setdefault(r["verdict"], []).append(f"{r['model']} / {r['prior']}")
        parts = [
            f"{PSENSE_PHRASES[v]} under {len(names)} of {len(at)} fits ({', '.join(names)})"
            for v, names in sorted(groups.items(), key=lambda kv: -len(kv[1]))
        ]
        flag = "" if verified_data(summary, fits, [h]) else f" {UNVERIFIED_FLAG}"
        sentences.append(f"At {h:g} months{flag}, the risk difference is " + "; ".join(parts) + ".")
    by = {(r["model"], r["prior"], r["horizon_months"]): r for r in rows}
    table = [
        {
            "model": m,
            "prior": p,
            "cells": [
                (
                    PSENSE_WORDS[by[(m, p, h)]["verdict"]],
                    f"{num(by[(m, p, h)]['prior_sensitivity'], 3)} / "
                    f"{num(by[(m, p, h)]['likelihood_sensitivity'], 3)}"
                    + (
                        ""
                        if by[(m, p, h)]["named_prior_sensitivity"] is None
                        else f" / {by[(m, p, h)]['named_prior_sensitivity']:.3f}"
                    ),
                )
                if (m, p, h) in by
                else ("–", "")
                for h in horizons
            ],
        }
        for m, p in fits
    ]
    return {
        "sentences": sentences,
        "horizons": [
            {"h": f"{h:g}", "verified": verified_data(summary, fits, [h])} for h in horizons
        ],
        "table": table,
    }


def _benefit_events(w: Wording) -> dict:
    """Benefit as an event on each scale the section's tables name, in the outcome's
    direction."""
    side = "<" if w.lower else ">"
    return {
        "or": f"OR {side} 1",
        "rd": f"RD {side} 0",
        "rates": f"treatment rate {side} control rate",
    }


def section(summary: dict) -> dict | None:
    """The template data of the "Prior sensitivity" section (None without a sensitivity key)."""
    sens = _sens(summary)
    if sens is None:
        return None
    words = Wording.of(summary["run"])
    priors = []
    for p in sens["priors"]:
        priors.append(
            {
                "name": p["name"],
                "group": p.get("group", ""),
                "description": p["description"],
                "recipe": p["recipe"],
                **_ess_text(p["ess"]),
                "prior_p_benefit": "–"
                if p["prior_p_benefit"] is None
                else pct(p["prior_p_benefit"]),
            }
        )
    exact_by = {(r["prior"], r["horizon_months"]): r for r in sens["exact"]}
    horizons = sorted({r["horizon_months"] for r in summary["results"]})
    # the exact single-horizon posteriors rest on each horizon's own rows only
    verified = {
        h: all(r["verified_data"] for r in sens["exact"] if r["horizon_months"] == h)
        for h in horizons
    }
    exact_rows = [
        {
            "prior": p["name"],
            "cells": [
                (
                    pct(exact_by[(p["name"], h)]["p_benefit"]),
                    ratio_interval(exact_by[(p["name"], h)]["or"]),
                )
                for h in horizons
            ],
        }
        for p in sens["priors"]
        if (p["name"], horizons[0]) in exact_by
    ]
    primary = summary["run"]["primary_horizon"]
    predictive = [
        {
            "model": r["model"],
            "prior": r["prior"],
            "p_treatment": f"{pct(r['p_treatment']['median'], 0)} "
            f"({pct(r['p_treatment']['lo'], 0)}–{pct(r['p_treatment']['hi'], 0)})",
            "p_control": f"{pct(r['p_control']['median'], 0)} "
            f"({pct(r['p_control']['lo'], 0)}–{pct(r['p_control']['hi'], 0)})",
            "rd": f"{100 * r['rd']['median']:+.0f} ({100 * r['rd']['lo']:+.0f} to "
            f"{100 * r['rd']['hi']:+.0f})",
            "p_rd_gt_0": pct(r["p_rd_gt_0"]),
        }
        for r in sens["prior_predictive"]
        if r["horizon_months"] == primary
    ]
    tails = _stated_tails(sens["prior_predictive"], horizons)
    trial = sens["trial"]
    return {
        "title": "prior sensitivity",
        "anchor": f"{pct(sens['anchor']['control_rate'])} ({sens['anchor']['source']})",
        "evidence": f"{sens['evidence']['path']} (SHA-256 {sens['evidence']['sha256']})",
        "trial": f"{trial['n_treatment']} + {trial['n_control']} patients at "
        f"{trial['horizon_months']:g} months, worth {trial['ess_per_arm']:.0f} patients per "
        "arm of a 1:1 trial",
        "priors": priors,
        "conclusions": conclusions(summary),
        "horizons": [{"h": f"{h:g}", "verified": verified[h]} for h in horizons],
        "exact_rows": exact_rows,
        "heatmap_method": sens["heatmap"]["method"],
        "heatmap_verified": sens["heatmap"]["verified_data"],
        "crossings": _crossing_sentences(sens["heatmap"], words),
        "benefit": _benefit_events(words),
        "predictive": predictive,
        "tails": tails,
        "primary": f"{primary:g}",
        "psense": psense_view(sens["psense"], summary) if sens.get("psense") else None,
        "unverified_flag": UNVERIFIED_FLAG,
    }
