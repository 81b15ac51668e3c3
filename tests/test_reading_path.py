"""The report's reading path: the answer first, result sections, then collapsed appendices;
report.md in the same order; no table twice; labels from the data; methods for readers.

Pure-Python checks of the rendered files (the browser checks of the same report, at 1280 px, are
in test_browser.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from markupsafe import escape

from bayes_ips import models
from bayes_ips.analyses.decision.view import first_screen, rules_plot
from bayes_ips.cli import main
from bayes_ips.report.format import pct
from bayes_ips.report.methods import WORDS, model_method
from bayes_ips.report.sections import question, without_rule
from bayes_ips.report.style import arms, short
from tests.conftest import EXACT_SPEC, IPS_CSV

RELABELLED_SPEC = """
title = "Coaching trial: Bayesian reanalysis"
[data]
path = "trial.csv"
treatment = "Coaching"
control = "Usual care"
[models.beta_binomial]
priors = ["reference"]
[models.exact_logistic]
priors = ["reference", "neutral_moderate", "pessimistic_strong"]
"""
CODE_LIKE = [
    re.compile(r"\b[a-z]+_[a-z_]+\("),  # a snake_case call
    re.compile(r"`[^`]*\b[a-z]+_[a-z_]+\b[^`]*`"),  # a snake_case name in backticks
    re.compile(r"<code>"),
    re.compile(r"\bpm\.|generated_quantities|MIXTURE_COMPONENTS|pooled=|design notes|\bdocs\b"),
]


def _summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text("utf-8"))


def _main_sections(html: str) -> list[str]:
    """The ids of <main>'s sections outside the appendices, in order."""
    body = html[html.index("<main>") : html.index('id="h-appendices"')]
    return re.findall(r'<section id="(sec-[a-z_-]+)"', body)


def test_the_answer_comes_first_with_the_primary_horizon_first(report_run):
    html = (report_run / "report.html").read_text("utf-8")
    s = _summary(report_run)
    assert _main_sections(html)[:2] == ["sec-summary", "sec-results"]
    answer = html[html.index('id="sec-summary"') : html.index('id="sec-results"')]
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", answer, re.S)
    primary = s["run"]["primary_horizon"]
    assert rows[0].startswith(f"{primary:g} months (primary)")
    at = [r for r in s["results"] if r["horizon_months"] == primary]
    head = next(r for r in at if (r["model"], r["prior"]) == ("beta_binomial", "reference"))
    # the range over the fits that carry the named effect priors, else over every fit
    named = [r for r in at if models.CARRIES.get(r["model"]) == "effect"] or at
    low, high = min(r["p_benefit"] for r in named), max(r["p_benefit"] for r in named)
    assert f"<strong>{pct(head['p_benefit'], 0)}</strong>" in rows[0]
    # one value when both ends read the same, and "1 fit" for a single fit
    shown = pct(low, 0) if pct(low, 0) == pct(high, 0) else f"{pct(low, 0)}–{pct(high, 0)}"
    fits = f"{len(named)} fit{'' if len(named) == 1 else 's'}"
    assert f'{shown} <span class="small">({fits})</span>' in rows[0]
    dec = first_screen(s)
    assert str(escape(dec["sentence"])) in answer
    rule = next(
        r
        for r in s["decision"]["rules"]
        if (r["model"], r["prior"], r["horizon_months"]) == ("beta_binomial", "reference", primary)
    )
    if rule["dual"] != "go":
        assert "not proven means" in dec["sentence"] and "not proven" in rows[0]


def test_appendices_are_collapsed_and_hold_methods_diagnostics_and_every_fit(report_run):
    html = (report_run / "report.html").read_text("utf-8")
    tail = html[html.index('id="h-appendices"') :]
    for sec in ("sec-data", "sec-methods", "sec-results-tables", "sec-repro"):
        assert f'id="{sec}"' in tail and f'id="{sec}"' not in html[: html.index(tail)]
    assert tail.count('<details class="appendix">') >= 4 and "<details open" not in tail


def test_markdown_has_the_order_and_sections_of_the_html(report_run):
    html = (report_run / "report.html").read_text("utf-8")
    md = (report_run / "report.md").read_text("utf-8")
    html_h2 = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html)]
    md_h2 = [h[3:].replace("\\", "").strip() for h in md.splitlines() if h.startswith("## ")]
    assert html_h2[:2] == ["The answer", "Results by horizon"] and "Appendices" in html_h2
    assert md_h2 == html_h2


def _tables_per_html_section(html: str) -> dict[str, int]:
    """Each <h2> section's heading and its number of data tables (layout tables excluded)."""
    out = {}
    for part in re.split(r"<h2[^>]*>", html)[1:]:
        title = re.sub(r"<[^>]+>", "", part[: part.index("</h2>")]).strip()
        out[title] = len(re.findall(r'<table(?![^>]*role="presentation")', part))
    return out


def _tables_per_md_section(md: str) -> dict[str, int]:
    """Each ``##`` section's heading and its number of tables (counted by delimiter rows)."""
    out = {}
    for part in re.split(r"^## ", md, flags=re.M)[1:]:
        title = part.splitlines()[0].replace("\\", "").strip()
        out[title] = len(re.findall(r"^\|(?:\s*:?-+:?\s*\|)+$", part, re.M))
    return out


@pytest.mark.parametrize("fixture", ["report_run", "default_quick_run"])
def test_markdown_carries_the_tables_of_every_html_section(fixture, request):
    run = request.getfixturevalue(fixture)
    html = _tables_per_html_section((run / "report.html").read_text("utf-8"))
    md = _tables_per_md_section((run / "report.md").read_text("utf-8"))
    assert sum(html.values()) > 5
    assert md == html


def test_no_table_appears_twice(report_run):
    html = (report_run / "report.html").read_text("utf-8")
    tables = re.findall(r"<table.*?</table>", html, re.S)
    assert len(tables) > 5 and len(set(tables)) == len(tables)
    md = (report_run / "report.md").read_text("utf-8")
    blocks = re.findall(r"(?:^\|.*\|\n)+", md, re.M)
    assert len(set(blocks)) == len(blocks)


def test_a_no_go_reads_not_proven_never_no_effect(report_run):
    s = _summary(report_run)
    dec = s["decision"]
    for r in dec["rules"]:
        r["dual"] = "no-go"
    out = first_screen(s)
    assert set(out["by_horizon"].values()) == {"not proven (no-go)"}
    assert "not proven means the evidence has not reached the rule's bar" in out["sentence"]
    assert f"not that {s['run']['treatment']} has no effect" in out["sentence"]


def _not_proven_but_adopted(summary: dict) -> tuple[dict, dict]:
    """The summary with the headline's primary rule indeterminate and adoption favoured (the case
    whose sentence speaks of a confirmatory trial), and the headline fit's next-trial block."""
    dec = summary["decision"]
    key = (dec["headline"]["model"], dec["headline"]["prior"])
    for r in dec["rules"]:
        if (r["model"], r["prior"]) == key:
            r["dual"] = "indeterminate"
    fit = next(f for f in dec["fits"] if (f["model"], f["prior"]) == key)
    fit["net_benefit"]["adopt"] = True
    return summary, fit["next_trial"]


def test_the_decision_sentence_names_the_trial_that_reaches_the_first_assurance_target(report_run):
    summary, nt = _not_proven_but_adopted(_summary(report_run))
    settings = summary["decision"]["settings"]["next_trial"]
    first = f"{settings['assurance_targets'][0]:.2f}"
    for targets in (nt["frequentist"]["n_for_target"], nt["bayesian"]["n_for_target"]):
        for k in targets:
            targets[k] = None
    none = first_screen(summary)["sentence"]
    assert "larger trial would settle" not in none
    assert (
        f"no trial of up to {settings['n_per_arm'][-1]} per arm reaches "
        f"{pct(settings['assurance_targets'][0], 0)} assurance" in none
    )
    assert f"can exceed about {pct(nt['design_p_benefit'], 0)}." in none
    # the smaller of the two criteria's sizes, with its criterion
    nt["frequentist"]["n_for_target"][first] = 500
    nt["bayesian"]["n_for_target"][first] = 300
    some = first_screen(summary)["sentence"]
    assert "a trial of 300 per arm would have at least a" in some
    assert "a convincing Bayesian result." in some and "no trial of up to" not in some


def test_the_first_screen_shortens_long_arm_labels_and_gives_them_in_full_once(report_run):
    """Arm labels over the figures' limit are shortened on the first screen (the figures' one
    helper); the question names them in full once."""
    s = _summary(report_run)
    full = "Individual placement and support delivered by trained specialists in pain teams"
    s["run"]["treatment"] = full
    s["data"] = [d | {"arm": full} if d["arm"] == "IPS" else d for d in s["data"]]
    shown = arms(s)[0]
    assert shown == short(full) != full
    sentence = first_screen(s)["sentence"]
    assert full not in sentence and f"offering {shown} is" in sentence
    assert full not in without_rule(s)["sentence"] and shown in without_rule(s)["sentence"]
    q = question(s)
    assert q["treatment"] == full and q["randomised"][0][0] == shown


@pytest.fixture(scope="module")
def no_decision_run(tmp_path_factory) -> Path:
    """The exact-model quick run with the decision analysis switched off."""
    folder = tmp_path_factory.mktemp("no_decision")
    spec = folder / "spec.toml"
    spec.write_text(EXACT_SPEC + "[decision]\nenabled = false\n", encoding="utf-8")
    assert main(["run", str(spec), "--quick", "--out", str(folder / "run")]) == 0
    return folder / "run"


def test_without_a_decision_rule_the_first_screen_still_has_a_bottom_line(no_decision_run):
    s = _summary(no_decision_run)
    assert "decision" not in s
    h = s["run"]["primary_horizon"]
    head = next(
        r
        for r in s["results"]
        if (r["model"], r["prior"], r["horizon_months"]) == ("beta_binomial", "reference", h)
    )
    html = (no_decision_run / "report.html").read_text("utf-8")
    answer = html[html.index('id="sec-summary"') : html.index('id="sec-results"')]
    line = re.search(r'<p class="verdict decision">(.*?)</p>', answer, re.S).group(1)
    assert f"is {pct(head['p_benefit'], 0)}; this run sets no decision rule" in line
    assert "Decision rule</th>" not in answer
    md = (no_decision_run / "report.md").read_text("utf-8")
    assert f"is {pct(head['p_benefit'], 0)}; this run sets no decision rule" in md


@pytest.fixture(scope="module")
def relabelled_run(tmp_path_factory) -> Path:
    """The bundled counts under other arm labels and sources, with a decision analysis."""
    folder = tmp_path_factory.mktemp("relabelled")
    rows = IPS_CSV.read_text("utf-8").splitlines()
    table = [rows[0]]
    for row in rows[1:]:
        arm, rest = row.split(",", 1)
        count = ",".join(rest.split(",")[:5])
        table.append(f"{'Coaching' if arm == 'IPS' else 'Usual care'},{count},source table 2")
    (folder / "trial.csv").write_text("\n".join(table) + "\n", encoding="utf-8")
    (folder / "spec.toml").write_text(RELABELLED_SPEC, encoding="utf-8")
    assert main(["run", str(folder / "spec.toml"), "--quick", "--out", str(folder / "run")]) == 0
    return folder / "run"


def test_arm_and_outcome_labels_come_from_the_data(relabelled_run):
    texts = {
        name: (relabelled_run / name).read_text("utf-8") for name in ("report.html", "report.md")
    }
    texts |= {f.name: f.read_text("utf-8") for f in (relabelled_run / "figures").glob("*.svg")}
    assert len(texts) > 4
    for name, text in texts.items():
        assert not re.search(r"\bIPS\b|\bTAU\b", text), name
        assert "employment" not in text.lower(), name
    for name in ("report.html", "report.md"):
        assert "Coaching" in texts[name] and "Usual care" in texts[name]
    decision = texts["report.md"][texts["report.md"].index("## Decision analysis") :]
    assert decision.startswith("## Decision analysis: offer Coaching now")


@pytest.mark.parametrize("model", sorted(WORDS))
def test_every_model_is_described_in_notation_and_words_without_code(model):
    method = model_method(model)
    texts = [method.words, *(r.text for r in method.relations), *(r.note for r in method.relations)]
    assert method.words and len(method.relations) >= 2
    for text in texts:
        for pattern in CODE_LIKE:
            assert not pattern.search(text), (model, pattern.pattern, text)
        assert text.count("(") == text.count(")"), text


def test_the_methods_appendix_has_no_code_names(report_run):
    html = (report_run / "report.html").read_text("utf-8")
    md = (report_run / "report.md").read_text("utf-8")
    methods = [
        html[
            html.index('id="sec-methods"') : html.index(
                "</section>", html.index('id="sec-methods"')
            )
        ],
        md[md.index("## Methods") : md.index("### Priors")],
    ]
    for text in methods:
        text = re.sub(r"<img [^>]*>", "", text)
        for pattern in CODE_LIKE:
            assert not pattern.search(text), pattern.pattern
    assert not CODE_LIKE[-1].search(html) and not CODE_LIKE[-1].search(md)


def test_a_no_go_cell_of_the_dual_rule_says_not_proven(report_run):
    dec = _summary(report_run)["decision"]
    for r in dec["rules"]:
        r["dual"], r["rope"] = "no-go", "no-go"
    fig = rules_plot(dec)
    dual, rope = ([t.get_text() for t in ax.texts] for ax in fig.axes[:2])
    plt.close(fig)
    assert len(dual) == len(rope) == len(dec["rules"])
    assert all(t.startswith("no-go:\nnot proven") for t in dual)
    # a ROPE no-go is evidence against a meaningful effect, not a failure to show one
    assert all(t.startswith("no-go") and "not proven" not in t for t in rope)


def test_report_and_figures_name_the_outcome_never_employed(default_quick_run):
    """One outcome wording (report.format.OUTCOME) in the report's text and the figures; the
    word "employed" appears only as the data column's name."""
    html = (default_quick_run / "report.html").read_text("utf-8")
    html = re.sub(r"<img[^>]*>", "", html).replace("<code>employed</code>", "")
    md = (default_quick_run / "report.md").read_text("utf-8").replace("`employed`", "")
    md = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", md)
    svgs = [
        " ".join(re.findall(r"<text\b[^>]*>([^<]*)</text>", p.read_text("utf-8")))
        for p in (default_quick_run / "figures").glob("*.svg")
    ]
    assert svgs
    for text in [re.sub(r"<[^>]+>", " ", html), md, *svgs]:
        assert re.findall(r".{0,40}\bemployed\b.{0,20}", text, re.I) == []
