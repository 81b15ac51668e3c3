"""The figures a reader can decode: one look per prior, legends off the data, text of at least
10 px on the page, shared x axes, long arm labels shortened with the full label in the caption.

The figures are checked as matplotlib built them (renderer extents, axis limits) and as the page
shows them (the SVG's font sizes at its displayed scale); tests/test_browser.py measures the same
in Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from bayes_ips.api import reanalyze
from bayes_ips.priors.community import BELIEFS, GRID_NAMES, STRENGTHS
from bayes_ips.report.style import (
    BELIEF_COLOURS,
    MIN_TEXT_PX,
    PAGE_WIDTH_PX,
    STRENGTH_LINES,
    prior_class,
    prior_looks,
    text_px,
)

TEMPLATE = Path(__file__).parents[1] / "bayes_ips" / "report" / "templates" / "report.html.j2"
LONG = (
    "Individual Placement and Support delivered alongside interdisciplinary pain "
    "rehabilitation (IPS)"
)
"""A 97-character arm label (the data rules allow 100)."""
PRIORS = [
    "reference",
    *GRID_NAMES,
    "sceptical_mcid",
    "enthusiastic_mcid",
    "evidence_probyn_2021",
    "evidence_hellstrom_2017",
    "mine",
]
SPEC = f"""
[models.beta_binomial]
priors = ["reference", "jeffreys"]
[models.exact_logistic]
priors = {PRIORS!r}
[priors.mine]
recipe = "a user prior leaning towards benefit"
log_or_mean = 0.1
log_or_sd = 0.5
"""
HORIZON_PANELS = ("forest", "rd_density", "p_rd_threshold")
SHARED_X = (*HORIZON_PANELS, "effect_by_prior", "threshold_by_prior", "ppc")


def test_the_page_width_is_the_report_column():
    css = TEMPLATE.read_text(encoding="utf-8")
    body = re.search(r"body \{[^}]*\}", css).group(0)
    width = float(re.search(r"max-width: ([\d.]+)rem", body).group(1))
    side = float(re.search(r"padding: [\d.]+rem ([\d.]+)rem", body).group(1))
    assert 16 * (width - 2 * side) == PAGE_WIDTH_PX


def _svg(width_pt: float, *fonts: float) -> str:
    texts = "".join(f'<text style="font-size: {f}px; font-family: x">a</text>' for f in fonts)
    return (
        f'<svg width="{width_pt}pt" height="100pt" viewBox="0 0 {width_pt} 100" '
        f'xmlns="http://www.w3.org/2000/svg">{texts}<text style="font: bold 8.5px x">b</text></svg>'
    )


def test_text_px_is_the_font_at_its_displayed_scale():
    # unscaled (600 pt = 800 px < the column): 4/3 px a unit
    assert text_px(_svg(600, 9, 12)) == pytest.approx(8.5 * 4 / 3)
    # 1704 pt = 2272 px, shown at 1136 px: half the natural size
    assert text_px(_svg(1704, 7, 9)) == pytest.approx(7 * 1136 / 1704)
    with pytest.raises(ValueError, match="no width"):
        text_px("<svg></svg>")


def _summary(priors: list[dict]) -> dict:
    return {"priors": priors, "run": {"fits": []}}


def test_grid_priors_take_hue_from_belief_and_line_from_strength():
    priors = [{"name": n, "group": "community"} for n in GRID_NAMES]
    looks = prior_looks(_summary(priors))
    for belief in BELIEFS:
        for strength in STRENGTHS:
            look = looks[f"{belief}_{strength}"]
            assert look == {"color": BELIEF_COLOURS[belief], "ls": STRENGTH_LINES[strength]}


def test_other_priors_follow_their_group_or_the_sign_of_their_mean():
    effect = {"family": "normal", "mean": 0.0, "sd": 0.3}
    assert prior_class({"name": "jeffreys", "group": "reference"}) == ("reference", None)
    assert prior_class({"name": "map", "group": "meta-analytic"}) == ("evidence", None)
    assert prior_class({"name": "sceptical_mcid", "group": "clinical", "effect": effect}) == (
        "neutral",
        None,
    )
    leaning = {"name": "u", "group": "user", "effect": {**effect, "mean": -0.2}}
    assert prior_class(leaning) == ("pessimistic", None)
    # rate only: treatment prior mean 3/4 against control 1/2
    rate = {"family": "beta", "a": 1, "b": 1, "treatment_a": 3, "treatment_b": 1}
    assert prior_class({"name": "r", "group": "user", "rate": rate}) == ("optimistic", None)
    # a named grid prior outside the community group is not graded by its name
    assert prior_class({"name": "optimistic_strong", "group": "user", "effect": effect})[1] is None


def test_every_prior_of_a_run_has_its_own_look(run):
    looks = prior_looks(run.summary_data)
    fitted = {f.prior.name for f in run.fits}
    shown = {(look["color"], str(look["ls"])) for name, look in looks.items() if name in fitted}
    assert len(shown) == len(fitted)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Many priors, a 97-character treatment label; exact models only (no sampler)."""
    folder = tmp_path_factory.mktemp("figures")
    source = Path(__file__).parents[1] / "bayes_ips" / "data" / "ips_in_pain.csv"
    rows = source.read_text(encoding="utf-8").splitlines()
    data = folder / "long.csv"
    data.write_text(
        "\n".join(re.sub(r"^IPS,", f"{LONG},", r) for r in rows) + "\n", encoding="utf-8"
    )
    spec = folder / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    return reanalyze(spec, data=data, treatment=LONG, control="TAU", quick=True, jobs=1)


@pytest.fixture(scope="module")
def figures(run):
    out = {}
    for name, fig in run.figures().items():
        FigureCanvasAgg(fig.mpl)
        fig.mpl.draw_without_rendering()
        out[name] = fig
    return out


def test_the_run_draws_every_figure_it_should(figures):
    assert {*SHARED_X, "prior_likelihood_posterior", "decision_ceac", "tipping_point"} <= set(
        figures
    )


def test_every_figure_text_is_at_least_10_px_on_the_page(figures):
    small = {name: round(text_px(f.svg), 1) for name, f in figures.items()}
    assert min(small.values()) >= MIN_TEXT_PX, small


def test_no_legend_covers_the_data(figures):
    for name, f in figures.items():
        fig = f.mpl
        renderer = fig.canvas.get_renderer()
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
        for legend in legends:
            box = legend.get_window_extent(renderer)
            for ax in fig.axes:
                if ax.get_visible():
                    inside = box.intersection(box, ax.get_window_extent(renderer))
                    assert inside is None or inside.width * inside.height < 1, name


def test_panels_share_their_x_range(figures):
    for name in SHARED_X:
        axes = [ax for ax in figures[name].mpl.axes if ax.get_visible()]
        assert len(axes) > 1, name
        assert len({ax.get_xlim() for ax in axes}) == 1, name


def test_legends_name_every_prior_of_the_figure(figures, run):
    fitted = {f.prior.name for f in run.fits}
    for name in ("effect_by_prior", "threshold_by_prior", "rd_density", "decision_ceac"):
        (legend,) = figures[name].mpl.legends
        assert fitted <= {t.get_text() for t in legend.get_texts()}, name


def test_long_arm_labels_are_shortened_and_given_in_full_in_the_caption(figures):
    for name in (*HORIZON_PANELS, "ppc", "tipping_point", "decision_ceac"):
        f = figures[name]
        assert LONG not in f.svg and "Individual Placement and Su…" in f.svg, name
        assert f"is {LONG}." in f.caption, name
