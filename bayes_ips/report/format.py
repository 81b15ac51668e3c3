"""How the report writes numbers, names and the unverified-data flag: one place for each.

Every section, figure caption, terminal line and exporter formats through these, so a number
reads the same wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

UNVERIFIED = "UNVERIFIED placeholder"
"""The words that mark a number resting on unverified (placeholder) counts."""
UNVERIFIED_FLAG = f"⚠ {UNVERIFIED}"
"""The flag beside a table, heading or value that rests on unverified counts."""
UNVERIFIED_DATA = f"{UNVERIFIED} data"
"""The same, where it qualifies a result or a panel."""
UNVERIFIED_COUNTS = f"{UNVERIFIED} counts"
"""The same, where it qualifies the counts themselves."""
UNVERIFIED_PANEL = "⚠ UNVERIFIED data"
"""The flag in a figure panel's title (panels are narrow; the caption says placeholder)."""
OUTCOME = "outcome"
"""The outcome's name in report text when the spec names none (``[data] outcome``): the data's
counts column is ``employed``, but the report never assumes what it counts."""
QUICK_RUN = "QUICK RUN"
"""The mark of every output of a quick run (few draws, for smoke tests and demos)."""

MODEL_TITLES = {
    "beta_binomial": "exact independent beta-binomial",
    "exact_logistic": "exact single-horizon logistic",
    "hierarchical_beta_binomial": "hierarchical beta-binomial",
    "hierarchical_logistic": "hierarchical logistic",
    "discrete_time_hazard": "discrete-time hazard",
    "adjusted_logistic": "covariate-adjusted logistic",
    "exact_log_binomial": "exact single-horizon log-binomial",
    "log_binomial": "log-binomial",
}


@dataclass(frozen=True)
class Wording:
    """How report text names the outcome and says which way is better, from summary.json's
    ``run`` (``outcome`` and ``direction``; files without them read as "outcome", higher is
    better). Every sentence about benefit is written through one of these, so a mortality trial
    with ``direction = "lower"`` reads as fewer deaths everywhere."""

    outcome: str = OUTCOME
    lower: bool = False

    @classmethod
    def of(cls, run: dict) -> Wording:
        return cls(run.get("outcome", OUTCOME), run.get("direction", "higher") == "lower")

    @property
    def sign(self) -> int:
        """+1 when a higher rate is better, -1 when a lower one is."""
        return -1 if self.lower else 1

    @property
    def subject(self) -> str:
        """The outcome as a noun phrase: "the outcome" or "death within 60 days"."""
        return f"the {OUTCOME}" if self.outcome == OUTCOME else self.outcome

    @property
    def Subject(self) -> str:
        """The same at the start of a sentence: "The outcome", "Death within 60 days"."""
        return self.subject[:1].upper() + self.subject[1:]

    @property
    def want(self) -> str:
        """The question's verb: "increase" or "reduce"."""
        return "reduce" if self.lower else "increase"

    @property
    def verb(self) -> str:
        """What benefit does to the rate: "increases" or "reduces"."""
        return "reduces" if self.lower else "increases"

    def improves(self) -> str:
        """ "increases the outcome rate" / "reduces the rate of death within 60 days"."""
        return f"{self.verb} the {self.rate()}"

    def rate(self) -> str:
        """ "outcome rate" / "rate of death within 60 days"."""
        return f"{self.outcome} rate" if self.outcome == OUTCOME else f"rate of {self.outcome}"

    @property
    def gain(self) -> str:
        """A benefit's size in words: "gain" or "reduction"."""
        return "reduction" if self.lower else "gain"

    @property
    def benefit_event(self) -> str:
        """P(benefit)'s event on the arms' rates: "p_T > p_C" or "p_T < p_C"."""
        return "p_T < p_C" if self.lower else "p_T > p_C"

    def rd_threshold(self, d: float) -> str:
        """A benefit threshold on the RD as an event: "RD > 5 pp" / "RD < −5 pp"."""
        size = f"{100 * d:g}"
        if not self.lower:
            return f"RD > {size} pp"
        return f"RD < −{size} pp" if d else "RD < 0 pp"

    def rr_threshold(self, r: float) -> str:
        """A benefit threshold on the RR as an event: "RR > 1.25" / "RR < 0.8"."""
        return f"RR < {1 / r:.3g}" if self.lower else f"RR > {r:g}"


def pct(p: float | None, digits: int = 1) -> str:
    """A probability as a percentage (``–`` when missing)."""
    return "–" if p is None else f"{100 * p:.{digits}f}%"


def mcse_text(
    mcse: float | None, exact: bool, p: float | None = None, draws: int | None = None
) -> str:
    """The Monte Carlo SE column beside a probability: "exact" for a closed-form value, else
    "±0.4" (percentage points); a value from draws that all agree (MCSE 0) says so, e.g.
    "> 99.9% (all 1,000 draws)" or "< 0.1% (no draw)", never "exact"."""
    if exact:
        return "exact"
    if mcse is None:
        return "–"
    if mcse == 0 and p in (0.0, 1.0):
        of = "" if draws is None else f" {num(draws)}"
        return f"> 99.9% (all{of} draws)" if p == 1 else "< 0.1% (no draw)"
    return f"±{100 * mcse:.1f}"


def pp(x: float | None) -> str:
    """A risk difference in signed percentage points (a value that rounds to zero reads +0.0,
    never -0.0)."""
    return "–" if x is None else f"{100 * x:+z.1f}"


def ratio(x: float | None) -> str:
    """A risk or odds ratio: two decimals, three significant digits beyond 1000 or below 0.01
    (never a long run of digits)."""
    if x is None:
        return "–"
    if x != 0 and not 0.01 <= abs(x) < 1000:
        return f"{x:.3g}"
    return f"{x:.2f}"


def ratio_interval(d: dict) -> str:
    """A ratio summary: ``median (lo to hi)``, "unbounded" for an infinite end, or "not
    estimable (reason)" when the interval is undefined or spans many orders of magnitude."""
    if d.get("estimable") is False:
        return f"not estimable ({d.get('not_estimable_reason') or 'undefined'})"
    reasons = d.get("null_reasons") or {}

    def end(k: str) -> str:
        if d.get(k) is None and k in reasons:
            return "unbounded" if reasons[k].startswith("unbounded") else "–"
        return ratio(d.get(k))

    return f"{end('median')} ({end('lo')} to {end('hi')})"


def nnt_value(x: float | None) -> str:
    """One NNT: one decimal up to 10,000, three significant digits beyond."""
    if x is None:
        return "∞"
    return f"{x:.1f}" if x < 1e4 else f"{x:.3g}"


def num(x: float | None, digits: int = 0) -> str:
    """A count or an amount with thousands separators."""
    return "–" if x is None else f"{x:,.{digits}f}"


def interval(d: dict, fmt=pp) -> str:
    """``median (lo to hi)`` of a summary.json estimand."""
    return f"{fmt(d['median'])} ({fmt(d['lo'])} to {fmt(d['hi'])})"


def pp_interval(d: dict) -> str:
    """``+1.1 pp (-19.1 to +19.5)``: a risk difference's median and interval, as the command line
    prints it."""
    return f"{pp(d['median'])} pp ({pp(d['lo'])} to {pp(d['hi'])})"


def nnt(d: dict) -> str:
    """The number needed to treat by Altman's convention (BMJ 1998): NNTB or NNTH by the sign of
    the RD point, "∞" when that point is only Monte Carlo noise around 0, and an interval that
    passes through ∞ when the RD interval spans 0, e.g. "NNTB 22.1 (NNTH 6.6 to ∞ to NNTB 4.0)"."""
    direction = d.get("direction")
    if direction is None:  # a summary.json from before Altman's convention
        if d["median"] is None:
            return "– (no benefit at the median)"
        lo = "–" if d["lo"] is None else nnt_value(d["lo"])
        return f"{nnt_value(d['median'])} ({lo} to {nnt_value(d['hi'])})"
    point = {
        "benefit": f"NNTB {nnt_value(d['point'])}",
        "harm": f"NNTH {nnt_value(d['point'])}",
        "none": "∞",
    }[direction]
    b, h = d.get("nntb_bound"), d.get("nnth_bound")
    if d.get("through_infinity"):
        left = "∞" if h is None else f"NNTH {nnt_value(h)}"
        right = "∞" if b is None else f"NNTB {nnt_value(b)}"
        if h is None or b is None:  # an RD interval end exactly at 0
            return f"{point} ({left} to {right})"
        return f"{point} ({left} to ∞ to {right})"
    if b is not None:  # benefit throughout: NNTB from 1/RD hi to 1/RD lo
        return f"{point} (NNTB {nnt_value(b)} to {nnt_value(d['hi'])})"
    # harm throughout: NNTH from 1/|RD lo| to 1/|RD hi|
    return f"{point} (NNTH {nnt_value(h)} to {nnt_value(d.get('nnth_far'))})"


def model_title(name: str) -> str:
    """A model family's name in words."""
    return MODEL_TITLES.get(name, name.replace("_", " "))


def level(run: dict) -> int:
    """The run's credible-interval level in percent (summary.json ``run.interval``)."""
    return round(100 * run.get("interval", 0.95))


def elpd(r: dict) -> str:
    """``ELPD ± SE`` of a summary.json LOO row ("not compared" when no observation was left),
    with how many observations it sums over when some were left out: "-2.5 ± 0.0 (1 of 6
    observations)"."""
    if r.get("elpd_loo") is None:
        return "not compared"
    text = f"{r['elpd_loo']:.1f} ± {r['se']:.1f}"
    if r.get("n_excluded"):
        text += f" ({r['n_obs'] - r['n_excluded']} of {r['n_obs']} observations)"
    return text


def loo_notes(r: dict) -> str:
    """How a LOO row scored its observations beyond PSIS: "4 exact, 1 excluded" (or "")."""
    notes = []
    if r.get("n_exact"):
        notes.append(f"{r['n_exact']} exact")
    if r.get("n_constant"):
        notes.append(f"{r['n_constant']} constant (exact)")
    if r.get("n_excluded"):
        # a fit compared with others is scored on the observations every one of them can score:
        # it also drops those where another fit's Pareto k is above 0.7
        others = r["n_excluded"] - r.get("n_high_k", 0)
        why = (
            "Pareto k > 0.7, no exact value"
            if others <= 0
            else f"{others} for the Pareto k > 0.7 of other fits compared with it"
        )
        notes.append(f"{r['n_excluded']} excluded ({why})")
    return ", ".join(notes)


def pareto_k(r: dict) -> str:
    """A LOO row's worst Pareto k, or why it has none ("none (exact LOO)")."""
    if r.get("pareto_k_max") is not None:
        return f"{r['pareto_k_max']:.2f}"
    if r.get("n_exact") or r.get("n_constant"):
        return "none (exact LOO)"
    return "–"


def loo_k(r: dict) -> str:
    """A LOO row's Pareto k and how each observation was scored: "0.98 (4 of 4 > 0.7)", or
    "none (exact LOO); 4 exact" for a fit that PSIS did not score."""
    notes = loo_notes(r)
    if r.get("pareto_k_max") is None:
        return pareto_k(r) + (f"; {notes}" if notes else "")
    high = f"{r['n_high_k']} of {r['n_obs']} > 0.7"
    return f"{pareto_k(r)} ({high})" + (f"; {notes}" if notes else "")


def headline_text(head: dict) -> str:
    """summary.json's ``headline`` in one line: the fit, P(benefit), the risk difference with its
    interval and level, the range of P(benefit) across the run's fits, and the unverified flag.

    "exact_logistic / neutral_moderate, 12 months: P(benefit) 74.1%, RD +11.0 pp (95% CrI -14.4
    to +36.1); 58.8% to 82.6% across 9 fits"
    """
    rd, spread = head["rd"], head["p_benefit_range"]
    text = (
        f"{head['model']} / {head['prior']}, {head['horizon_months']:g} months: "
        f"P(benefit) {pct(head['p_benefit'])}, RD {pp(rd['median'])} pp "
        f"({100 * rd['level']:g}% CrI {pp(rd['lo'])} to {pp(rd['hi'])})"
    )
    if spread["fits"] > 1:
        text += f"; {pct(spread['min'])} to {pct(spread['max'])} across {spread['fits']} fits"
    return text + ("" if head["verified_data"] else f"  [{UNVERIFIED_DATA}]")
