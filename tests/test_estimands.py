"""Estimands from rate draws, on seeded fake posteriors with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from bayes_ips.data import Comparison
from bayes_ips.estimands import EstimandSettings, effects, side_of_half, summarise


def fake_p(pt: np.ndarray, pc: np.ndarray) -> xr.DataArray:
    values = np.stack([pt, pc], axis=-2)  # (chain, draw, arm, horizon)
    return xr.DataArray(
        values,
        dims=("chain", "draw", "arm", "horizon"),
        coords={"arm": ["T", "C"], "horizon": [6, 12][: values.shape[-1]]},
    )


def test_effects_are_the_textbook_transforms():
    p = fake_p(np.full((1, 3, 1), 0.6), np.full((1, 3, 1), 0.4))
    e = effects(p, Comparison("T", "C")).isel(chain=0, draw=0, horizon=0)
    assert float(e["rd"]) == pytest.approx(0.2)
    assert float(e["rr"]) == pytest.approx(1.5)
    assert float(e["or"]) == pytest.approx((0.6 / 0.4) / (0.4 / 0.6))
    assert float(e["nnt"]) == pytest.approx(5)


def test_summaries_match_numpy_on_independent_draws():
    rng = np.random.default_rng(7)
    pt = rng.beta(20, 18, size=(2, 5000, 2))
    pc = rng.beta(8, 12, size=(2, 5000, 2))
    table = summarise(
        fake_p(pt, pc),
        Comparison("T", "C"),
        EstimandSettings(rd_thresholds=(0.0, 0.1), rr_thresholds=(1.0,), rope=0.05),
    )
    rd = (pt - pc)[..., 1].ravel()
    row = table.iloc[1]
    assert row["horizon_months"] == 12
    assert row["p_benefit"] == pytest.approx((rd > 0).mean())
    assert row["p_rd_gt"]["0.10"] == pytest.approx((rd > 0.1).mean())
    assert row["p_rope"] == pytest.approx((abs(rd) < 0.05).mean())
    assert row["rd"]["lo"] == pytest.approx(np.quantile(rd, 0.025))
    # iid draws: the ArviZ MCSE is close to the binomial standard error
    se = np.sqrt(row["p_benefit"] * (1 - row["p_benefit"]) / rd.size)
    assert row["p_benefit_mcse"] == pytest.approx(se, rel=0.15)


def test_nnt_is_unbounded_when_the_interval_includes_zero():
    rng = np.random.default_rng(1)
    pt = rng.beta(20, 18, size=(1, 4000, 1))
    pc = rng.beta(8, 12, size=(1, 4000, 1))
    row = summarise(fake_p(pt, pc), Comparison("T", "C")).iloc[0]
    assert row["rd"]["lo"] < 0 < row["rd"]["median"]
    assert row["nnt"]["hi"] is None
    assert row["nnt"]["median"] == pytest.approx(1 / row["rd"]["median"])


def test_rr_above_one_is_p_benefit_from_draws_and_from_the_closed_form():
    """RD > 0 and RR > 1 are one event: one value and one MCSE, whichever the source."""
    rng = np.random.default_rng(3)
    pt = rng.beta(12, 10, size=(2, 1500, 2))
    pc = rng.beta(10, 12, size=(2, 1500, 2))
    settings = EstimandSettings(rd_thresholds=(0.0, 0.1), rr_thresholds=(1.0, 1.25))
    # an MCMC fit: every probability from the draws
    for h, row in summarise(fake_p(pt, pc), Comparison("T", "C"), settings).iterrows():
        rd, rr = (pt - pc)[..., h].ravel(), (pt / pc)[..., h].ravel()
        assert row["p_benefit"] == pytest.approx((rd > 0).mean(), abs=1e-12)
        assert row["p_rr_gt"]["1.00"] == row["p_rd_gt"]["0.00"] == row["p_benefit"]
        assert row["p_rr_gt_mcse"]["1.00"] == row["p_rd_gt_mcse"]["0.00"] == row["p_benefit_mcse"]
        assert row["p_benefit_mcse"] > 0
        assert row["p_rr_gt"]["1.25"] == pytest.approx((rr > 1.25).mean(), abs=1e-12)
    # an exact fit: the closed-form P(benefit) (here a stand-in value) at both thresholds
    exact = {6: 0.6125, 12: 0.4375}
    table = summarise(fake_p(pt, pc), Comparison("T", "C"), settings, exact)
    for _, row in table.iterrows():
        value = exact[row["horizon_months"]]
        assert row["p_benefit"] == row["p_rd_gt"]["0.00"] == row["p_rr_gt"]["1.00"] == value
        assert row["p_benefit_mcse"] == row["p_rd_gt_mcse"]["0.00"] == 0.0
        assert row["p_rr_gt_mcse"]["1.00"] == 0.0
        assert row["nnt"]["direction"] == "none" or (row["nnt"]["direction"] == "benefit") == (
            value > 0.5
        )


@pytest.mark.parametrize(
    ("p", "mcse", "side"),
    [
        (0.49999999999999967, 0.0, 0),  # an exact 1/2 with rounding error
        (0.5 + 2e-9, 0.0, 1),
        (0.5 - 2e-9, 0.0, -1),
        (0.485, 0.01, 0),  # within 2 MCSE
        (0.475, 0.01, -1),
        (0.53, 0.01, 1),
        (1.0, 0.0, 1),
        (0.0, 0.0, -1),
    ],
)
def test_side_of_half_allows_for_rounding_and_monte_carlo_error(p, mcse, side):
    assert side_of_half(p, mcse) == side


def test_side_of_half_without_an_mcse_reads_the_value_as_exact():
    assert (side_of_half(0.5 + 2e-9), side_of_half(0.5 - 2e-9), side_of_half(0.5)) == (1, -1, 0)


def test_a_draw_exactly_at_a_threshold_is_not_above_it():
    # control 0.5; treatment 0.75 (RD 0.25 and RR 1.5 exactly in floating point), 0.9 or 0.6
    rng = np.random.default_rng(11)
    pt = rng.choice([0.6, 0.75, 0.9], p=[0.2, 0.5, 0.3], size=(2, 400, 1))
    pc = np.full_like(pt, 0.5)
    assert np.all(pt[pt == 0.75] - 0.5 == 0.25) and np.all(pt[pt == 0.75] / 0.5 == 1.5)
    settings = EstimandSettings(rd_thresholds=(0.25,), rr_thresholds=(1.5,))
    row = summarise(fake_p(pt, pc), Comparison("T", "C"), settings).iloc[0]
    above = np.count_nonzero(pt == 0.9) / pt.size  # only the 0.9 draws are above either threshold
    assert 0.2 < above < 0.4 and np.count_nonzero(pt == 0.75) > 300
    assert row["p_rd_gt"]["0.25"] == above
    assert row["p_rr_gt"]["1.50"] == above
