"""Property-based test (hypothesis) of the exact engines, the estimands and the outputs over random
small tables: 1–3 horizons, counts including 0 and n, and extreme legal priors (Beta shapes down
to 0.01, normal SDs up to 1000). Whatever the table, the run ends in exit 0 or 2; probabilities lie
in [0, 1] and risk differences in [−1, 1]; intervals are ordered; report.md holds no NaN and no
number longer than 15 significant digits; summary.json is strict JSON; and no arithmetic warning
is raised.

A short smoke version runs in the default test run; the longer one is marked slow.
"""

from __future__ import annotations

import json
import math
import re
import warnings

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bayes_ips.cli import main

from .conftest import write_table
from .test_boundaries import long_numbers

NAN = re.compile(r"\bnan\b", re.IGNORECASE)
BETA_SHAPES = st.sampled_from([0.01, 0.1, 0.5, 1.0, 30.0])
EFFECT_SDS = st.sampled_from([0.05, 0.5, 2.0, 40.0, 1000.0])


@st.composite
def tables(draw):
    """A same-cohort table: cumulative counts that never fall, n the same at every horizon."""
    n_h = draw(st.integers(1, 3))
    horizons = sorted(
        draw(st.lists(st.sampled_from([3, 6, 12, 24]), min_size=n_h, max_size=n_h, unique=True))
    )
    rows = []
    for arm in ("A", "B"):
        n = draw(st.integers(1, 30))
        k = 0
        for h in horizons:
            k = draw(st.sampled_from([k, n, draw(st.integers(k, n))]))
            rows.append(f"{arm},{h},{k},{n},{n},true,s")
    return rows


@st.composite
def specs(draw):
    a, b = draw(BETA_SHAPES), draw(BETA_SHAPES)
    mean = draw(st.sampled_from([0.0, -1.0, 2.0]))
    sd = draw(EFFECT_SDS)
    return f"""
[models.beta_binomial]
priors = ["edge_rate"]
[models.exact_logistic]
priors = ["edge_effect"]
[priors.edge_rate]
rate_a = {a}
rate_b = {b}
[priors.edge_effect]
log_or_mean = {mean}
log_or_sd = {sd}
[decision]
enabled = false
[missing_data]
enabled = false
"""


def _strict(text: str):
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def _numbers(d: dict):
    return [d[k] for k in ("lo", "median", "hi") if d.get(k) is not None]


def check_run(tmp_path, rows: list[str], spec_text: str) -> None:
    data = write_table(tmp_path, rows)
    spec = tmp_path / "spec.toml"
    spec.write_text(f'[data]\npath = "{data}"\ntreatment = "A"\ncontrol = "B"\n' + spec_text)
    out = tmp_path / "run"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["run", str(spec), "--out", str(out), "--quick"])
    arithmetic = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert arithmetic == []
    assert code in (0, 2)
    if code == 2:
        assert not out.exists()
        return
    summary = _strict((out / "summary.json").read_text(encoding="utf-8"))
    report = (out / "report.md").read_text(encoding="utf-8")
    assert not NAN.search(report)
    assert long_numbers(report) == []
    for r in summary["results"]:
        assert 0.0 <= r["p_benefit"] <= 1.0
        for v in r["p_rd_gt"].values():
            assert 0.0 <= v <= 1.0
        rd = _numbers(r["rd"])
        assert len(rd) == 3 and all(-1.0 <= x <= 1.0 for x in rd)
        assert rd == sorted(rd)
        for name in ("rr", "or"):
            values = _numbers(r[name])
            assert values == sorted(values) and all(x >= 0 for x in values)
            for k in ("lo", "median", "hi"):
                if r[name].get(k) is None:
                    assert r[name]["null_reasons"][k]
        for arm in r["p_rate"].values():
            rate = _numbers(arm)
            assert rate == sorted(rate) and all(0.0 <= x <= 1.0 for x in rate)
        n = r["nnt"]
        assert n["direction"] in ("benefit", "harm", "none")
        if n["point"] is not None:
            assert math.isfinite(n["point"]) and n["point"] >= 1.0


SETTINGS = dict(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings(max_examples=3, phases=[Phase.explicit, Phase.reuse, Phase.generate], **SETTINGS)
@given(rows=tables(), spec_text=specs())
def test_random_small_tables_smoke(tmp_path_factory, rows, spec_text):
    check_run(tmp_path_factory.mktemp("prop"), rows, spec_text)


@pytest.mark.slow
@settings(max_examples=60, **SETTINGS)
@given(rows=tables(), spec_text=specs())
def test_random_small_tables(tmp_path_factory, rows, spec_text):
    check_run(tmp_path_factory.mktemp("prop"), rows, spec_text)
