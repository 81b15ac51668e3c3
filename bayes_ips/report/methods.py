"""The methods section: each fitted model in mathematical notation and in words, for readers.

The notation comes from the model's own docstring (its ``::`` literal block, one relation per
line, e.g. ``kappa[a]  ~ LogNormal(log 10, 1)     prior sample size``), so the report and the code
cannot drift apart. The source is read without importing the module (no PyMC import on a
re-render). Each relation is rendered twice: as MathML for HTML (no scripts, no network) and as
plain text with Greek letters for Markdown. The words beside it (:data:`WORDS`) are written for
a reader of the report: no code names, no files the reader does not have.

The notation understood: ``name[i, j]`` is a subscripted variable, trailing digits are a
subscript (``a0``), ``²`` a square, ``**`` a power, lower-case Greek names (``alpha``, ``kappa``,
...) become Greek letters and the names in :data:`SYMBOLS` their symbols, ``~`` reads "is
distributed as", ``*`` is a product; anything else is shown as is.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from markupsafe import Markup

GREEK = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "eta": "η",
    "theta": "θ",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "psi": "ψ",
    "omega": "ω",
}
SYMBOLS = {
    "invlogit": "logit⁻¹",
    "sum_k": "Σₖ",
    "at_risk": "R",
    "events": "E",
    "pbar": "p̄",
    "length_k": "Δt[k]",
    "dt": "Δt",
}
"""Names of the notation shown as a reader's symbols (see :data:`WORDS`)."""
NAMES = GREEK | SYMBOLS
OPERATORS = {"~": "∼", "*": "·", "-": "−", "−": "−", "+": "+", "=": "=", "/": "/", "|": "|"}
DOC_MODULES = {
    "beta_binomial": "bayes_ips.conjugate",
    "exact_logistic": "bayes_ips.exact_logistic",
    "exact_log_binomial": "bayes_ips.exact_log_binomial",
}
"""Where a model's docstring lives when it is not ``bayes_ips.models.<name>``."""

FALLBACK_NOTATION = {
    "beta_binomial": """
y[a, h]   ~ Binomial(n[a, h], p[a, h])
p[a, h]   ~ Beta(a0, b0)                     independently for every arm and horizon
p[a, h] | y   ~ Beta(a0 + y[a, h], b0 + n[a, h] − y[a, h])   the exact posterior
""",
}
"""Notation for models whose docstring has no ``::`` block (the exact engine states it in prose)."""

WORDS = {
    "beta_binomial": "Each arm's count at each horizon is binomial, with an independent Beta "
    "prior on each arm's rate (a0 = b0 = 1 for the reference prior: uniform). The posterior of "
    "each rate is again a Beta, so every probability is computed exactly: P(benefit) (which arm's "
    "rate is the better, see Effect measures) by one-dimensional quadrature, and the risk "
    "difference, risk ratio, odds ratio and NNT from independent draws of the exact posteriors, "
    "with their Monte Carlo error. Horizons are analysed separately.",
    "exact_logistic": "Each horizon is analysed on its own. The two arms' log odds are α ± θ/2, "
    "so θ is the log odds ratio and swapping the arms only changes its sign. θ has the named "
    "effect prior (a normal distribution, or a mixture of normals for a robust prior); α, the "
    "midpoint of the arms' log odds, has a Normal(0, 1.5²) prior or the midpoint prior the spec "
    "states, unless the spec states a control-risk prior, which then holds for the control arm's "
    "log odds α − θ/2 (see below). Nothing is sampled: α is integrated out and θ's posterior is "
    "computed on an adaptive grid, so P(benefit) (the sign of θ on the side of benefit) and the "
    "odds ratio are exact; the risk difference, risk ratio and NNT come from exact independent "
    "draws.",
    "hierarchical_beta_binomial": "The cumulative counts of one cohort are written on the "
    "intervals between horizons, so each participant counts once: E[a, k] of the R[a, k] "
    "participants still without the outcome at the start of interval k get it during the "
    "interval. Each interval's hazard h[a, k] has a Beta prior centred on the arm's typical "
    "hazard m[a] (adjusted for the interval's length), which carries the named rate prior; κ[a] "
    "says how closely the intervals' hazards cluster. The cumulative rate p[a, k] is one minus "
    "the product of the chances of not getting the outcome, so it never falls. With one horizon "
    "the model is the exact beta-binomial, sampled by MCMC as a check.",
    "hierarchical_logistic": "The cumulative counts are modelled through the events in each "
    "interval among those still at risk (E of R), so each participant counts once. At every "
    "horizon the arms' log odds of the cumulative outcome are α[k] ± θ[k]/2: θ[k], the log odds "
    "ratio at horizon k, has exactly the named effect prior at every horizon, and the horizons "
    "share the effect through the correlation ρ (12 months apart). α[k] rises from horizon to "
    "horizon by at least the smallest step that keeps both arms' cumulative rates from falling; "
    "δ[k] is that step's size on the hazard scale. Sampled by MCMC (NUTS).",
    "discrete_time_hazard": "The chance of a first occurrence of the outcome in each interval "
    "between horizons, among those still without it (E of R), follows a grouped-time "
    "proportional-hazards model (s[a] is +½ for the treatment arm and −½ for the control): "
    "exp(γ[k] ± β[k]/2) is each arm's constant monthly rate in interval k of length Δt[k] months, "
    "so β[k] is the log hazard ratio in that interval. The intervals' baseline rates vary around "
    "a typical monthly rate of about 3%; the log hazard ratios vary around μ with spread τ. The "
    "model carries only its own reference prior (Normal(0, 2.5²) on μ): the named priors are "
    "priors of the log odds ratio, a different quantity. The cumulative rate p[a, k] can never "
    "fall. Sampled by MCMC (NUTS).",
    "exact_log_binomial": "Each horizon is analysed on its own. The treatment arm's risk is RR · "
    "p[C], so φ = log RR; φ has the named effect prior on the log RR, restricted to risk ratios "
    "that keep the treatment risk at most 1 (RR ≤ 1/p[C]), and the control risk p[C] has the "
    "control-risk prior (see below). Nothing is sampled: p[C] is integrated out for every φ and "
    "φ's posterior is computed on an adaptive grid, so P(benefit) (the sign of φ on the side of "
    "benefit) and the risk ratio are exact; the risk difference, odds ratio and NNT come from "
    "exact independent draws.",
    "log_binomial": "The cumulative counts are modelled through the events in each interval among "
    "those still at risk, so each participant counts once. At every horizon the treatment arm's "
    "cumulative risk is RR[k] times the control arm's: φ[k] = log RR[k] has the named effect "
    "prior on the log RR, restricted to risks that stay at most 1 and never fall, and the "
    "horizons share the effect through the correlation ρ (12 months apart). The control arm's "
    "first risk has the control-risk prior (see below) and rises from horizon to horizon by a "
    "cumulative hazard λ[k]. With one horizon it is the exact log-binomial model. Sampled by MCMC "
    "(NUTS).",
    "adjusted_logistic": "The hierarchical logistic model written per participant, with "
    "standardised baseline covariates x[i] entering every horizon's log odds through the "
    "coefficients η (Normal(0, 1) per standard deviation of a covariate); s[i] is +½ in the "
    "treatment arm and −½ in the control arm. θ is the log odds ratio given the covariates; every "
    "reported effect is the marginal one, averaging each participant's predicted probabilities "
    "over everyone randomised (including those without an outcome).",
}
"""Each model's likelihood and priors in words, beside its notation (the methods section's
opening says what y, n and p are)."""

_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<num>\d+(?:\.\d+)?)|(?P<ident>[A-Za-z][A-Za-z_]*\d*)"
    r"|(?P<sup>[²³])|(?P<other>.)"
)
_LINE = re.compile(r"^(?P<lhs>\S.*?)\s+(?P<rel>[~=])\s+(?P<rhs>.*?)(?:\s{3,}(?P<note>\S.*))?$")


@dataclass(frozen=True)
class Relation:
    """One line of a model: ``lhs rel rhs`` with an optional note in words."""

    lhs: str
    rel: str
    rhs: str
    note: str = ""

    @property
    def html(self) -> Markup:
        """The relation as one inline MathML element."""
        return to_mathml(f"{self.lhs} {self.rel} {self.rhs}")

    @property
    def text(self) -> str:
        return f"{to_text(self.lhs)} {to_text(self.rel)} {to_text(self.rhs)}"


@dataclass(frozen=True)
class ModelMethod:
    """A model as the report describes it: its relations and, in words, its likelihood and
    priors."""

    name: str
    words: str
    relations: tuple[Relation, ...]


def _ident(token: str) -> tuple[str, str]:
    """An identifier split into its base (Greek where named) and a numeric subscript."""
    m = re.fullmatch(r"([A-Za-z_]+?)(\d*)", token)
    assert m is not None
    base, digits = m.groups()
    return NAMES.get(base, base), digits


def _mi(base: str) -> Markup:
    return Markup("<mi>{}</mi>").format(base)


def to_mathml(expr: str) -> Markup:
    """Inline MathML for one expression of the notation (all text escaped)."""
    return Markup('<math display="inline">{}</math>').format(_mathml_items(_powers(expr)))


def _powers(expr: str) -> str:
    return expr.replace("**", "^")


def _mathml_items(expr: str) -> Markup:
    out: list[Markup] = []
    previous = ""
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(expr.strip())]
    i = 0
    while i < len(tokens):
        kind, tok = tokens[i]
        i += 1
        if kind == "space":
            continue
        if kind == "num":
            item = Markup("<mn>{}</mn>").format(tok)
        elif kind == "ident":
            base, digits = _ident(tok)
            item = _mi(base)
            if i < len(tokens) and tokens[i][1] == "[":
                close = next((j for j in range(i, len(tokens)) if tokens[j][1] == "]"), len(tokens))
                index = "".join(t for _, t in tokens[i + 1 : close])
                i = close + 1
                item = Markup("<msub>{}<mrow>{}</mrow></msub>").format(item, _mathml_items(index))
            elif digits:
                item = Markup("<msub>{}<mn>{}</mn></msub>").format(item, digits)
        elif kind == "sup" and out:
            power = "2" if tok == "²" else "3"
            out[-1] = Markup("<msup>{}<mn>{}</mn></msup>").format(out[-1], power)
            continue
        else:
            item = Markup("<mo>{}</mo>").format(OPERATORS.get(tok, tok))
        if kind in ("ident", "num") and previous in ("ident", "num"):
            out.append(Markup('<mspace width="0.25em"></mspace>'))
        previous = kind
        out.append(item)
    return Markup("").join(out)


def to_text(expr: str) -> str:
    """Plain-text form of the notation: Greek names become Greek letters."""
    return re.sub(
        r"\b([a-z_]+)(?=\b|\d)",
        lambda m: NAMES.get(m.group(1), m.group(1)),
        " ".join(_powers(expr).split()),
    ).replace("~", "∼")


def parse_relations(block: str) -> tuple[Relation, ...]:
    """Relations from a notation block; a line that is not ``lhs ~|= rhs`` is skipped."""
    out = []
    for line in block.strip().splitlines():
        m = _LINE.match(line.strip())
        if m:
            # a note that runs on to the next line ends with a comma: not shown
            note = to_text((m["note"] or "").rstrip(",;"))
            out.append(Relation(m["lhs"], m["rel"], m["rhs"], note))
    return tuple(out)


def _docstring(module: str) -> str:
    spec = find_spec(module)
    if spec is None or spec.origin is None:
        return ""
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    return ast.get_docstring(tree) or ""


@cache
def model_method(name: str) -> ModelMethod:
    """The methods entry of a model: its notation from its docstring, and :data:`WORDS`."""
    try:
        doc = _docstring(DOC_MODULES.get(name, f"bayes_ips.models.{name}"))
    except (ModuleNotFoundError, OSError, SyntaxError):
        doc = ""
    _, _, body = doc.partition("\n")
    if "::" in body:
        lines = body.partition("::")[2].splitlines()
        block_end = next(
            (
                k
                for k, line in enumerate(lines)
                if k > 1 and line.strip() and not line.startswith((" ", "\t"))
            ),
            len(lines),
        )
        block = "\n".join(lines[:block_end])
    else:
        block = FALLBACK_NOTATION.get(name, "")
    return ModelMethod(name, WORDS.get(name, ""), parse_relations(block))
