"""The methods section: each fitted model written out in mathematical notation.

The notation comes from the model's own docstring (its ``::`` literal block, one relation per
line, e.g. ``kappa[a]  ~ LogNormal(log 10, 1)     prior sample size``), so the report and the code
cannot drift apart. The source is read without importing the module (no PyMC import on a
re-render). Each relation is rendered twice: as MathML for HTML (no scripts, no network) and as
plain text with Greek letters for Markdown.

The notation understood: ``name[i, j]`` is a subscripted variable, trailing digits are a
subscript (``a0``), ``²`` a square, lower-case Greek names (``alpha``, ``kappa``, ...) become
Greek letters, ``~`` reads "is distributed as", ``*`` is a product; anything else is shown as is.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from markupsafe import Markup, escape

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
    """A model as the report describes it: a title, the relations and the prose around them."""

    name: str
    title: str
    intro: str
    relations: tuple[Relation, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def _ident(token: str) -> tuple[str, str]:
    """An identifier split into its base (Greek where named) and a numeric subscript."""
    m = re.fullmatch(r"([A-Za-z_]+?)(\d*)", token)
    assert m is not None
    base, digits = m.groups()
    return GREEK.get(base, base), digits


def _mi(base: str) -> Markup:
    return Markup("<mi>{}</mi>").format(base)


def to_mathml(expr: str) -> Markup:
    """Inline MathML for one expression of the notation (all text escaped)."""
    return Markup('<math display="inline">{}</math>').format(_mathml_items(expr))


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
        r"\b([a-z]+)(?=\b|\d)",
        lambda m: GREEK.get(m.group(1), m.group(1)),
        " ".join(expr.split()),
    ).replace("~", "∼")


def parse_relations(block: str) -> tuple[Relation, ...]:
    """Relations from a notation block; a line that is not ``lhs ~|= rhs`` is skipped."""
    out = []
    for line in block.strip().splitlines():
        m = _LINE.match(line.strip())
        if m:
            out.append(Relation(m["lhs"], m["rel"], m["rhs"], m["note"] or ""))
    return tuple(out)


_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")


def _docstring(module: str) -> str:
    spec = find_spec(module)
    if spec is None or spec.origin is None:
        return ""
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    return ast.get_docstring(tree) or ""


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


@cache
def model_method(name: str) -> ModelMethod:
    """The methods entry of a model, from its docstring (``title``, notation, notes)."""
    try:
        doc = _docstring(DOC_MODULES.get(name, f"bayes_ips.models.{name}"))
    except (ModuleNotFoundError, OSError, SyntaxError):
        doc = ""
    doc = _ROLE.sub(r"``\1``", doc)  # Sphinx cross-references read as code in the report
    title, _, body = doc.partition("\n")
    title = title.strip().rstrip(".") or name
    if "::" in body:
        intro, _, rest = body.partition("::")
        lines = rest.splitlines()
        block_end = next(
            (
                k
                for k, line in enumerate(lines)
                if k > 1 and line.strip() and not line.startswith((" ", "\t"))
            ),
            len(lines),
        )
        block, notes = "\n".join(lines[:block_end]), "\n".join(lines[block_end:])
        intro = intro.strip()
    else:
        intro, block, notes = "", FALLBACK_NOTATION.get(name, ""), body
    return ModelMethod(
        name,
        title,
        " ".join(intro.split()),
        parse_relations(block),
        tuple(_paragraphs(notes)),
    )


def rst_inline(text: str) -> Markup:
    """Docstring prose as HTML: escaped, with ````code```` shown as code."""
    parts = re.split(r"``(.+?)``", text)
    return Markup("").join(
        Markup("<code>{}</code>").format(p) if k % 2 else escape(p) for k, p in enumerate(parts)
    )


def rst_plain(text: str) -> str:
    """Docstring prose for Markdown: ````code```` becomes single backticks."""
    return re.sub(r"``(.+?)``", r"`\1`", text)
