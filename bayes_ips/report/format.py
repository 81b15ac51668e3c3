"""How the report writes numbers, names and the unverified-data flag: one place for each.

Every section, figure caption, terminal line and exporter formats through these, so a number
reads the same wherever it is shown.
"""

from __future__ import annotations

UNVERIFIED = "UNVERIFIED placeholder"
"""The words that mark a number resting on unverified (placeholder) counts."""
UNVERIFIED_FLAG = f"⚠ {UNVERIFIED}"
"""The flag beside a table, heading or value that rests on unverified counts."""
UNVERIFIED_DATA = f"{UNVERIFIED} data"
"""The same, where it qualifies a result or a panel."""
UNVERIFIED_COUNTS = f"{UNVERIFIED} counts"
"""The same, where it qualifies the counts themselves."""

MODEL_TITLES = {
    "beta_binomial": "exact independent beta-binomial",
    "exact_logistic": "exact single-horizon logistic",
    "hierarchical_beta_binomial": "hierarchical beta-binomial",
    "hierarchical_logistic": "hierarchical logistic",
    "discrete_time_hazard": "discrete-time hazard",
    "adjusted_logistic": "covariate-adjusted logistic",
}


def pct(p: float | None, digits: int = 1) -> str:
    """A probability as a percentage (``–`` when missing)."""
    return "–" if p is None else f"{100 * p:.{digits}f}%"


def pp(x: float | None) -> str:
    """A risk difference in signed percentage points."""
    return "–" if x is None else f"{100 * x:+.1f}"


def ratio(x: float | None) -> str:
    """A risk or odds ratio."""
    return "–" if x is None else f"{x:.2f}"


def num(x: float | None, digits: int = 0) -> str:
    """A count or an amount with thousands separators."""
    return "–" if x is None else f"{x:,.{digits}f}"


def interval(d: dict, fmt=pp) -> str:
    """``median (lo to hi)`` of a summary.json estimand."""
    return f"{fmt(d['median'])} ({fmt(d['lo'])} to {fmt(d['hi'])})"


def nnt(d: dict) -> str:
    """The number needed to treat with its interval (∞ where the interval reaches no effect)."""
    if d["median"] is None:
        return "– (no benefit at the median)"
    lo = "–" if d["lo"] is None else f"{d['lo']:.1f}"
    hi = "∞" if d["hi"] is None else f"{d['hi']:.1f}"
    return f"{d['median']:.1f} ({lo} to {hi})"


def model_title(name: str) -> str:
    """A model family's name in words."""
    return MODEL_TITLES.get(name, name.replace("_", " "))


def level(run: dict) -> int:
    """The run's credible-interval level in percent (summary.json ``run.interval``)."""
    return round(100 * run.get("interval", 0.95))
