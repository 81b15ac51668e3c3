"""Sections of the report as plain data: the formatted numbers and sentences both exporters show.

Nothing here escapes text: the HTML exporter autoescapes and the Markdown exporter escapes with its
own filter, so user-supplied strings (arm labels, sources, titles) are safe in both.
"""

from __future__ import annotations

from bayes_ips.report import checks, decision
from bayes_ips.report.figures import Figure

MODEL_TITLES = {
    "beta_binomial": "Independent beta-binomial (exact, conjugate)",
}
UNVERIFIED_FLAG = "⚠ UNVERIFIED placeholder"
MAIN_FIGURES = ("rd_density",)
"""Figures shown in the results section; other figures belong to optional sections."""


def pct(p: float | None, digits: int = 1) -> str:
    return "–" if p is None else f"{100 * p:.{digits}f}%"


def pp(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:+.1f}"


def ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def interval(d: dict, fmt=pp) -> str:
    return f"{fmt(d['median'])} ({fmt(d['lo'])} to {fmt(d['hi'])})"


def nnt(d: dict) -> str:
    if d["median"] is None:
        return "– (no benefit at the median)"
    lo = "–" if d["lo"] is None else f"{d['lo']:.1f}"
    hi = "∞" if d["hi"] is None else f"{d['hi']:.1f}"
    return f"{d['median']:.1f} ({lo} to {hi})"


def _result_row(r: dict) -> dict:
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
        "p_rr_gt": [(k, pct(v, 0)) for k, v in r["p_rr_gt"].items()],
        "p_rope": pct(r["p_rope"]),
        "seed": r["seed"],
    }


def headline(summary: dict) -> dict:
    """The first fit's answer per horizon, as sentences and a table."""
    run = summary["run"]
    first = run["fits"][0]
    rows = [
        r
        for r in summary["results"]
        if r["model"] == first["model"] and r["prior"] == first["prior"]
    ]
    sentences = []
    for r in rows:
        flag = (
            ""
            if r["verified_data"]
            else (" These counts are UNVERIFIED illustrative placeholders, not the published data.")
        )
        sentences.append(
            f"At {r['horizon_months']:g} months, under the {r['prior']} prior "
            f"({MODEL_TITLES.get(r['model'], r['model'])}), the posterior probability that "
            f"{run['treatment']} increases employment compared with {run['control']} is "
            f"{pct(r['p_benefit'])}; the risk difference is {pp(r['rd']['median'])} percentage "
            f"points (95% credible interval {pp(r['rd']['lo'])} to {pp(r['rd']['hi'])}).{flag}"
        )
    return {
        "model": first["model"],
        "prior": first["prior"],
        "rows": [_result_row(r) for r in rows],
        "sentences": sentences,
    }


def prior_spread(summary: dict) -> list[dict]:
    """Per horizon, the range of P(benefit) across every fitted model and prior."""
    out = []
    for h in sorted({r["horizon_months"] for r in summary["results"]}):
        rs = [r for r in summary["results"] if r["horizon_months"] == h]
        lo = min(rs, key=lambda r: r["p_benefit"])
        hi = max(rs, key=lambda r: r["p_benefit"])
        out.append(
            {
                "horizon": f"{h:g}",
                "lo": pct(lo["p_benefit"]),
                "lo_by": f"{lo['model']} / {lo['prior']}",
                "hi": pct(hi["p_benefit"]),
                "hi_by": f"{hi['model']} / {hi['prior']}",
                "verified": all(r["verified_data"] for r in rs),
            }
        )
    return out


SECTIONS: list[tuple[str, object]] = [
    ("diagnostics", checks.diagnostics_section),
    ("ppc", checks.ppc_section),
    ("comparison", checks.comparison_section),
    ("decision", decision.section),
]
"""Optional report sections, in order: ``(name, builder)``. ``builder(summary)`` returns the
section's template data, or None when the analysis did not run (the section is then omitted).
Templates ``sections/<name>.html.j2`` and ``sections/<name>.md.j2`` render it; they see the
section data as ``sec`` and the figures by name as ``figs``."""


def optional_sections(summary: dict) -> list[dict]:
    out = []
    for name, builder in SECTIONS:
        data = builder(summary)
        if data is not None:
            out.append({"name": name, "data": data})
    return out


def context(summary: dict, figures: list[Figure], figure_href) -> dict:
    """Everything the templates need.

    Parameters
    ----------
    figure_href : callable
        ``figure_href(figure) -> str``: how the exporter refers to a figure (a data URI for
        HTML, a relative file path for Markdown).
    """
    data_rows = []
    for d in summary["data"]:
        data_rows.append(
            {
                **d,
                "rate": pct(d["employed"] / d["n_analysed"]),
                "horizon": f"{d['horizon_months']:g}",
            }
        )
    return {
        "s": summary,
        "run": summary["run"],
        "headline": headline(summary),
        "spread": prior_spread(summary),
        "results": [_result_row(r) for r in summary["results"]],
        "data_rows": data_rows,
        "any_unverified": not all(d["verified"] for d in summary["data"] if d["compared"]),
        "priors": summary["priors"],
        "model_titles": MODEL_TITLES,
        "figures": [{"f": f, "href": figure_href(f)} for f in figures if f.name in MAIN_FIGURES],
        "figs": {f.name: {"f": f, "href": figure_href(f)} for f in figures},
        "sections": optional_sections(summary),
        "unverified_flag": UNVERIFIED_FLAG,
    }
