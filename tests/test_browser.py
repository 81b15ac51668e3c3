"""report.html in a real browser: headless Chromium (the Debian package) driven by Playwright.

Checks that the page loads offline with no console errors and no network requests, that every
figure and formula rendered with a non-zero size and every figure's text is at least 10 px as
shown, that nothing overflows 1280 px, that the first 800 px answer the question (the primary
horizon's P(benefit), its range across priors and the decision sentence), that the body is at
most 10,000 px with the appendices collapsed, and that the print stylesheet applies; saves a
screenshot under the test's tmp folder. ``make test`` installs Chromium (the ``browser`` target);
where it cannot be installed the test is skipped and says why.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bayes_ips.report.style import MIN_TEXT_PX

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed (Debian package `chromium`; `make browser`)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright not installed (pip install -e '.[dev]')"
    )
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def _check(browser, html: Path, shot: Path) -> int:
    """Open a report; assert it loads clean and every figure and formula rendered. Returns the
    number of figures."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: requests.append(req.url))
    page.goto(html.as_uri(), wait_until="load")

    assert errors == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    # the first 800 px: the primary horizon's P(benefit), its range across priors and the
    # decision sentence
    first = page.evaluate(
        """() => {
               const row = document.querySelector('#sec-summary table.answer tbody tr');
               const cells = [...row.cells].map(c => c.getBoundingClientRect().bottom);
               const decision = document.querySelector('#sec-summary .decision');
               return {primary: row.cells[0].textContent,
                       bottom: Math.max(...cells.slice(0, 3)),
                       decision: decision ? decision.getBoundingClientRect().bottom : 0};
           }"""
    )
    assert "(primary)" in first["primary"], first
    assert 0 < first["bottom"] <= 800 and 0 < first["decision"] <= 800, first
    # the length budget: at most about 12 screens with the appendices collapsed
    assert page.evaluate("document.querySelectorAll('details[open]').length") == 0
    assert page.evaluate("document.body.scrollHeight") <= 10_000
    # every appendix and collapsed table open: figures, formulas and tables rendered in full
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    figures = page.eval_on_selector_all(
        "figure img",
        """imgs => imgs.map(i => ({alt: i.alt, complete: i.complete, natural: i.naturalWidth,
                                   w: i.getBoundingClientRect().width,
                                   h: i.getBoundingClientRect().height}))""",
    )
    for fig in figures:
        assert fig["complete"] and fig["natural"] > 0, fig["alt"]
        assert fig["w"] > 100 and fig["h"] > 50, fig["alt"]
    # every figure's smallest text at the size the page shows it: the SVG's font size in its
    # viewBox units times the displayed width over the viewBox width
    text = page.eval_on_selector_all(
        "figure img",
        r"""imgs => imgs.map(i => {
               const svg = atob(i.src.split(',')[1]);
               const box = /viewBox="[^"]*?\s([\d.]+)\s[\d.]+"/.exec(svg)[1];
               const fonts = [...svg.matchAll(/font(?:-size)?:[^;"]*?([\d.]+)px/g)]
                   .map(m => +m[1]);
               return Math.min(...fonts) * i.getBoundingClientRect().width / +box;
           })""",
    )
    assert text and all(MIN_TEXT_PX <= px < 40 for px in text), text
    formulas = page.eval_on_selector_all(
        "math", "ms => ms.map(m => m.getBoundingClientRect().width)"
    )
    assert formulas and min(formulas) > 0
    # no horizontal overflow anywhere, with everything open
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.evaluate(
        """() => [...document.querySelectorAll('table')].every(t =>
               t.getBoundingClientRect().width <= t.parentElement.clientWidth + 1)"""
    )
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    page.emulate_media(media="print")
    assert page.eval_on_selector("nav", "n => getComputedStyle(n).display") == "none"
    page.close()
    return len(figures)


def test_report_renders_offline_without_errors(browser, report_run, tmp_path):
    files = list((report_run / "figures").glob("*.svg"))
    assert len(files) >= 4  # forest, threshold curves, densities, posterior-predictive plot
    assert _check(browser, report_run / "report.html", tmp_path / "report.png") == len(files)


@pytest.mark.slow
def test_default_run_with_mcmc_fits_renders(browser, tmp_path):
    from bayes_ips.cli import main

    assert main(["run", "--quick", "--out", str(tmp_path / "run")]) == 0
    n = _check(browser, tmp_path / "run" / "report.html", tmp_path / "report.png")
    assert n >= 6  # results figures, rank plots, posterior- and prior-predictive plots


def _headline(model: str, prior: str) -> dict:
    """A batch headline (:func:`bayes_ips.batch.headline`) with long names."""
    return {
        "model": model,
        "prior": prior,
        "horizon_months": 12,
        "treatment": "IPS",
        "control": "TAU",
        "p_benefit": 0.8257,
        "p_benefit_mcse": 0.0,
        "rd": {"median": 0.1293, "lo": -0.1375, "hi": 0.3849, "level": 0.95, "unit": "proportion"},
        "verified_data": False,
        "p_benefit_range": {
            "min": 0.5123,
            "max": 0.9345,
            "min_fit": f"{model}/{prior}",
            "max_fit": f"{model}/{prior}",
            "fits": 26,
        },
        "title": "IPS in Pain trial: evidence-based priors from other IPS populations",
        "quick": True,
        "fits": 26,
    }


def test_batch_index_fits_a_1280_px_window(browser, tmp_path):
    from bayes_ips.batch import BatchResults, RunRecord, write_index

    spec = "/home/someone/projects/a-rather-long-folder-name/models/verified_12_month_only.toml"
    runs = [
        RunRecord(spec, "verified-12-month-only", 0, "ok", seconds=12.5, headline=_headline(m, p))
        for m, p in (
            ("hierarchical_beta_binomial", "evidence_hellstrom_2017"),
            ("discrete_time_hazard", "reference"),
        )
    ]
    runs.append(
        RunRecord(
            spec,
            "failed-run",
            3,
            "not converged",
            message="hierarchical_logistic / pessimistic_strong: R-hat 1.070 > 1.01; "
            "bulk ESS 84 < 100; tail ESS 77 < 100 (" + "x" * 80 + ")",
        )
    )
    write_index(BatchResults(tmp_path, runs))
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto((tmp_path / "index.html").as_uri(), wait_until="load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.close()
