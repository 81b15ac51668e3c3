"""Summaries of rate draws pinned against numpy on the same draws: NNT bounds (Altman) on both
signs of the risk difference, draws of exactly 0 and 1, and the default thresholds and ROPE."""

from __future__ import annotations

import math
import tomllib
import warnings
from importlib import resources

import numpy as np
import pytest
import xarray as xr

from bayes_ips import estimands
from bayes_ips.data import Comparison
from bayes_ips.estimands import EstimandSettings, summarise

T_C = Comparison("T", "C")


def fake_p(pt: np.ndarray, pc: np.ndarray) -> xr.DataArray:
    """Draws ``(chain, draw)`` of each arm's rate at one horizon (12 months)."""
    values = np.stack([pt, pc], axis=-1)[..., None]  # (chain, draw, arm, horizon)
    return xr.DataArray(
        values,
        dims=("chain", "draw", "arm", "horizon"),
        coords={"arm": ["T", "C"], "horizon": [12]},
    )


def _draws(a_t, b_t, a_c, b_c, seed=5, size=(2, 3000)):
    rng = np.random.default_rng(seed)
    return rng.beta(a_t, b_t, size=size), rng.beta(a_c, b_c, size=size)


def _q(x, q):
    return float(np.quantile(np.ravel(x), q))


# --- NNT (Altman 1998) ------------------------------------------------------------------------


def test_nnt_bounds_are_the_reciprocals_of_a_positive_rd_interval():
    pt, pc = _draws(60, 40, 20, 80)  # RD about 0.4, its interval far above 0
    row = summarise(fake_p(pt, pc), T_C).iloc[0]
    rd = pt - pc
    assert _q(rd, 0.025) > 0
    assert row["rd"]["lo"] == pytest.approx(_q(rd, 0.025), rel=1e-12)
    assert row["rd"]["hi"] == pytest.approx(_q(rd, 0.975), rel=1e-12)
    assert row["rd"]["mean"] == pytest.approx(rd.mean(), rel=1e-12)
    assert row["rd"]["sd"] == pytest.approx(rd.std(), rel=1e-12)
    nnt = row["nnt"]
    assert nnt["median"] == pytest.approx(1 / _q(rd, 0.5), rel=1e-12)
    assert nnt["lo"] == pytest.approx(1 / _q(rd, 0.975), rel=1e-12)  # most benefit: fewest treated
    assert nnt["hi"] == pytest.approx(1 / _q(rd, 0.025), rel=1e-12)
    assert 1 < nnt["lo"] < nnt["median"] < nnt["hi"] < math.inf


def test_nnt_is_unbounded_above_when_the_rd_interval_reaches_below_zero():
    pt, pc = _draws(20, 18, 8, 12)  # RD interval through 0, median above it
    row = summarise(fake_p(pt, pc), T_C).iloc[0]
    rd = pt - pc
    assert _q(rd, 0.025) < 0 < _q(rd, 0.5)
    assert row["nnt"]["median"] == pytest.approx(1 / _q(rd, 0.5), rel=1e-12)
    assert row["nnt"]["lo"] == pytest.approx(1 / _q(rd, 0.975), rel=1e-12)
    assert row["nnt"]["hi"] is None


def test_no_benefit_nnt_when_the_rd_median_is_below_zero():
    pc, pt = _draws(20, 18, 8, 12)  # the arms of the previous test swapped: median RD < 0
    row = summarise(fake_p(pt, pc), T_C).iloc[0]
    rd = pt - pc
    assert _q(rd, 0.025) < _q(rd, 0.5) < 0 < _q(rd, 0.975)
    assert row["nnt"]["median"] is None
    assert row["nnt"]["lo"] == pytest.approx(1 / _q(rd, 0.975), rel=1e-12)
    assert row["nnt"]["hi"] is None


def test_no_benefit_nnt_bound_when_the_whole_rd_interval_is_below_zero():
    """Harm throughout: no number treated yields one more person employed, so no finite NNT
    (benefit) bound, never the reciprocal of a negative RD."""
    pt, pc = _draws(20, 80, 60, 40)
    row = summarise(fake_p(pt, pc), T_C).iloc[0]
    assert _q(pt - pc, 0.975) < 0
    assert {k: row["nnt"][k] for k in ("median", "lo", "hi")} == {
        "median": None,
        "lo": None,
        "hi": None,
    }
    # Altman: harm throughout is an NNTH with a finite interval, 1/|RD lo| to 1/|RD hi|
    rd = pt - pc
    assert row["nnt"]["direction"] == "harm"
    assert row["nnt"]["point"] == pytest.approx(1 / abs(_q(rd, 0.5)), rel=1e-12)
    assert row["nnt"]["nnth_bound"] == pytest.approx(1 / abs(_q(rd, 0.025)), rel=1e-12)
    assert row["nnt"]["nnth_far"] == pytest.approx(1 / abs(_q(rd, 0.975)), rel=1e-12)
    assert not row["nnt"]["through_infinity"]


# --- draws of exactly 0 and 1 -----------------------------------------------------------------


def _with_boundaries():
    """Control draws exactly 0 in 1% of draws, treatment exactly 1 in 1% (other draws)."""
    pt, pc = _draws(30, 10, 2, 30, seed=9)
    pc.ravel()[::100] = 0.0
    pt.ravel()[50::100] = 1.0
    return pt, pc


def test_summaries_keep_every_draw_where_the_values_are_finite():
    pt, pc = _with_boundaries()
    settings = EstimandSettings(rd_thresholds=(0.0, 0.5), rr_thresholds=(1.0, 5.0), rope=0.05)
    row = summarise(fake_p(pt, pc), T_C, settings).iloc[0]
    rd = (pt - pc).ravel()
    with np.errstate(divide="ignore"):
        rr = (pt / pc).ravel()
    assert np.isinf(rr).sum() == pc.size // 100
    # the risk difference and every probability use all draws; an infinite RR is above any
    # threshold
    assert row["rd"]["median"] == pytest.approx(np.median(rd), rel=1e-12)
    assert row["rd"]["lo"] == pytest.approx(np.quantile(rd, 0.025), rel=1e-12)
    assert row["p_benefit"] == pytest.approx((rd > 0).mean(), abs=1e-12)
    assert row["p_rd_gt"]["0.50"] == pytest.approx((rd > 0.5).mean(), abs=1e-12)
    assert row["p_rr_gt"]["5.00"] == pytest.approx((rr > 5).mean(), abs=1e-12)
    assert row["p_rope"] == pytest.approx((np.abs(rd) < 0.05).mean(), abs=1e-12)
    # rates of exactly 0 and 1 are ordinary rate draws
    for arm, x in (("T", pt), ("C", pc)):
        rate = row["p_rate"][arm]
        assert rate["lo"] == pytest.approx(np.quantile(x, 0.025), rel=1e-12)
        assert rate["mean"] == pytest.approx(x.mean(), rel=1e-12)
        assert rate["sd"] == pytest.approx(x.std(), rel=1e-12)
    # the ratios' medians and lower ends are finite numbers (few infinite draws)
    for name in ("rr", "or"):
        assert math.isfinite(row[name]["median"]) and math.isfinite(row[name]["lo"])
        assert row[name]["lo"] < row[name]["median"]


def test_ratio_quantiles_count_the_infinite_draws():
    pt, pc = _with_boundaries()
    row = summarise(fake_p(pt, pc), T_C).iloc[0]
    with np.errstate(divide="ignore"):
        rr = (pt / pc).ravel()
    assert row["rr"]["median"] == pytest.approx(np.quantile(rr, 0.5), rel=1e-12)
    assert row["rr"]["lo"] == pytest.approx(np.quantile(rr, 0.025), rel=1e-12)


# --- probabilities at the edges, thresholds and the ROPE ----------------------------------------


def test_a_certain_benefit_has_probability_one_and_no_monte_carlo_error():
    pt, pc = _draws(80, 20, 20, 80)
    row = summarise(fake_p(pt, pc), T_C).iloc[0]
    assert (row["p_benefit"], row["p_benefit_mcse"]) == (1.0, 0.0)
    assert (row["p_rd_gt"]["0.00"], row["p_rd_gt_mcse"]["0.00"]) == (1.0, 0.0)
    assert (row["p_rope"], row["p_rope_mcse"]) == (0.0, 0.0)


def test_default_thresholds_rope_and_interval():
    assert estimands.RD_THRESHOLDS == (0.0, 0.05, 0.10, 0.15, 0.20)
    assert estimands.RR_THRESHOLDS == (1.0, 1.1, 1.25, 1.5, 2.0)
    default = EstimandSettings()
    assert default.interval == 0.95 and default.rope == 0.05
    assert default.rd_thresholds == estimands.RD_THRESHOLDS
    assert default.rr_thresholds == estimands.RR_THRESHOLDS
    # the shipped default spec states the same values
    spec = tomllib.loads(resources.files("bayes_ips").joinpath("specs/default.toml").read_text())
    assert tuple(spec["estimands"]["rd_thresholds"]) == estimands.RD_THRESHOLDS
    assert tuple(spec["estimands"]["rr_thresholds"]) == estimands.RR_THRESHOLDS
    assert (spec["estimands"]["interval"], spec["estimands"]["rope"]) == (0.95, 0.05)
    # the default summary reports each threshold and the ROPE of |RD| < 5 points
    pt, pc = _draws(20, 18, 8, 12)
    row = summarise(fake_p(pt, pc), T_C).iloc[0]
    rd, rr = (pt - pc).ravel(), (pt / pc).ravel()
    assert list(row["p_rd_gt"]) == ["0.00", "0.05", "0.10", "0.15", "0.20"]
    assert list(row["p_rr_gt"]) == ["1.00", "1.10", "1.25", "1.50", "2.00"]
    for d in estimands.RD_THRESHOLDS:
        assert row["p_rd_gt"][f"{d:.2f}"] == pytest.approx((rd > d).mean(), abs=1e-12)
    for r in estimands.RR_THRESHOLDS:
        assert row["p_rr_gt"][f"{r:.2f}"] == pytest.approx((rr > r).mean(), abs=1e-12)
    assert row["p_rope"] == pytest.approx((np.abs(rd) < 0.05).mean(), abs=1e-12)
    assert row["rd"]["hi"] == pytest.approx(np.quantile(rd, 0.975), rel=1e-12)


def test_the_rope_is_open_an_rd_of_exactly_its_half_width_is_outside():
    # RD = ±0.0625 exactly in binary floating point, in a quarter of the draws each
    pt = np.tile([0.375, 0.3125, 0.5, 0.3], (1, 500))
    pc = np.tile([0.3125, 0.375, 0.5, 0.2], (1, 500))
    row = summarise(fake_p(pt, pc), T_C, EstimandSettings(rope=0.0625)).iloc[0]
    assert row["p_rope"] == 0.25  # only RD = 0


def test_a_risk_difference_that_rounds_to_zero_reads_plus_zero():
    from bayes_ips.report.format import pp

    assert [pp(x) for x in (-0.00001, 0.0, -0.0, 0.00049, -0.0006, 0.129)] == [
        "+0.0",
        "+0.0",
        "+0.0",
        "+0.0",
        "-0.1",
        "+12.9",
    ]


# --- a summary's nulls and their reasons ------------------------------------------------------


def _sample(values) -> xr.DataArray:
    return xr.DataArray(np.asarray(values, dtype=float)[None, :], dims=("chain", "draw"))


def test_draws_of_zero_over_zero_make_every_summary_value_null_with_one_reason():
    values = [0.2, np.nan, 0.4, np.inf, np.nan, 0.1]
    reason = "undefined: 2 of 6 draws are 0/0 (both rates exactly 0 or 1)"
    keys = ("median", "lo", "hi", "mean", "sd")
    assert estimands._interval(_sample(values), 0.95) == {
        **dict.fromkeys(keys),
        "infinite_draws": 1,
        "undefined_draws": 2,
        "null_reasons": dict.fromkeys(keys, reason),
    }


@pytest.mark.parametrize("sign", [1, -1])
def test_infinite_draws_null_the_unbounded_end_the_mean_and_the_sd(sign):
    # 95 finite draws and 5 infinite ones at one end: the 95% interval reaches them on that end
    finite = np.linspace(1.0, 95.0, 95) * sign
    values = np.concatenate([finite, np.full(5, sign * np.inf)])
    with np.errstate(invalid="ignore"):  # numpy's inf - inf at the unbounded end
        lo, median, hi = np.quantile(values, [0.025, 0.5, 0.975])
    got = estimands._interval(_sample(values), 0.95)
    infinite = f"unbounded ({'+' if sign > 0 else '-'}∞): 5 of 100 draws are infinite"
    undefined = "undefined: 5 of 100 draws are infinite"
    end, kept = ("hi", "lo") if sign > 0 else ("lo", "hi")
    assert got == {
        "median": pytest.approx(median),
        kept: pytest.approx(lo if sign > 0 else hi),
        end: None,
        "infinite_draws": 5,
        "mean": None,
        "sd": None,
        "null_reasons": {end: infinite, "mean": undefined, "sd": undefined},
    }


def test_draws_too_large_to_square_give_a_null_sd_with_its_reason_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow and invalid-value warnings
        got = estimands._interval(_sample([1e200, -1e200, 3.0]), 0.95)
    assert got["mean"] == 1.0 and got["sd"] is None
    assert got["null_reasons"] == {"sd": "overflow: the draws are too large to square"}


def test_finite_draws_whose_sum_and_gaps_overflow_give_null_summaries_with_their_reasons():
    # 50 draws each of -1e308 and +1e308: numpy's pairwise sum overflows to inf - inf (NaN), and
    # the median, halfway between the two middle draws, is 1e308 - (-1e308) = 2e308 away from one
    values = [1e308, -1e308] * 50
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = estimands._interval(_sample(values), 0.95)
    apart = "overflow: the draws on either side are too far apart to interpolate"
    assert got == {
        "median": None,
        "lo": -1e308,
        "hi": 1e308,
        "mean": None,
        "sd": None,
        "null_reasons": {
            "median": apart,
            "mean": "overflow: the draws' sum exceeds the float range",
            "sd": "overflow: the draws are too large to square",
        },
    }


def test_a_quantile_index_never_lands_past_its_draw():
    # (n - 1) q - floor((n - 1) q) is exact and below 1 for every q in [0, 1]: each quantile
    # lies between its two draws (or on one), so it equals numpy's linear rule on finite draws
    # and is the finite draw itself next to an infinite one when it falls on it
    rng = np.random.default_rng(5)
    qs = np.concatenate([np.linspace(0, 1, 1001), np.nextafter([0.5, 1.0], 0), [1 / 3, 2 / 3]])
    for n in (1, 2, 3, 7, 40, 999, 4000):
        x = np.sort(rng.normal(size=n))
        np.testing.assert_allclose(estimands.quantiles(x, qs), np.quantile(x, qs), rtol=1e-13)
        x[-1] = np.inf
        top = estimands.quantiles(x, [1.0, (n - 2) / (n - 1) if n > 1 else 0.0])
        assert top[0] == np.inf and (n == 1 or top[1] == x[-2])


# --- when a ratio is estimable ----------------------------------------------------------------

RATES = {"T": {"lo": 0.2, "hi": 0.4}, "C": {"lo": 0.1, "hi": 0.3}}


@pytest.mark.parametrize(
    ("lo", "hi", "estimable"),
    [
        (0.5, 2.0, True),  # an interval below and above 1
        (1.0, 1e6, True),  # exactly RATIO_SPAN_MAX-fold: still estimable
        (1.0, 1.000001e6, False),  # just wider
        (1e-3, 2e3, False),  # 2e6-fold about 1
        (0.0, 2.0, False),  # reaches 0
        (None, 2.0, False),  # unbounded below (null)
        (0.5, None, False),  # unbounded above (null)
    ],
)
def test_a_ratio_is_estimable_when_its_interval_is_positive_and_at_most_a_million_fold(
    lo, hi, estimable
):
    assert estimands.RATIO_SPAN_MAX == 1e6
    got = estimands._ratio_estimability({"lo": lo, "hi": hi}, "rr", RATES, T_C)
    assert got["estimable"] is estimable
    if estimable:
        assert "not_estimable_reason" not in got
    else:
        # the rates are away from 0 and 1: the reason is the interval's span
        assert got["not_estimable_reason"] == "interval spans more than 1e6-fold"


@pytest.mark.parametrize(
    ("name", "t", "c", "reason"),
    [
        ("rr", (1e-4, 0.4), (0.1, 0.3), "treatment rate ≈ 0"),
        ("rr", (0.2, 0.9999), (1e-4, 0.3), "control rate ≈ 0"),  # ≈ 1 matters to the OR only
        ("or", (0.2, 0.9999), (0.0, 0.3), "control rate ≈ 0, treatment rate ≈ 1"),
        (
            "or",
            (0.0, 0.9999),
            (0.1, 0.9995),
            "control rate ≈ 1, treatment rate ≈ 0, treatment rate ≈ 1",
        ),
        ("or", (0.001, 0.999), (0.1, 0.3), "interval spans more than 1e6-fold"),  # not within 1e-3
    ],
)
def test_a_ratio_not_estimable_names_the_rates_at_an_edge(name, t, c, reason):
    rates = {"T": {"lo": t[0], "hi": t[1]}, "C": {"lo": c[0], "hi": c[1]}}
    got = estimands._ratio_estimability({"lo": 0.0, "hi": None}, name, rates, T_C)
    assert got["estimable"] is False and got["not_estimable_reason"] == reason


def test_an_rd_of_exactly_zero_is_no_benefit_and_not_above_the_zero_threshold():
    pt, _ = _draws(8, 12, 8, 12)
    row = summarise(fake_p(pt, pt.copy()), T_C).iloc[0]  # identical draws: RD = 0 exactly
    assert row["p_benefit"] == 0.0 and row["p_rd_gt"]["0.00"] == 0.0
    assert row["p_rr_gt"]["1.00"] == 0.0  # RR = 1 exactly: not above the threshold 1
    assert row["p_rope"] == 1.0


def test_each_horizon_summarises_its_own_rate_draws():
    rng = np.random.default_rng(8)
    values = rng.beta([[[[2, 3], [5, 9]]]], [[[[8, 7], [5, 1]]]], size=(2, 1000, 2, 2))
    p = xr.DataArray(
        values,
        dims=("chain", "draw", "arm", "horizon"),
        coords={"arm": ["T", "C"], "horizon": [6, 12]},
    )
    table = summarise(p, T_C)
    for i, h in enumerate((6, 12)):
        row = table.set_index("horizon_months").loc[h]
        for j, arm in enumerate(("T", "C")):
            x = values[:, :, j, i].ravel()
            assert row["p_rate"][arm]["median"] == pytest.approx(np.median(x), rel=1e-12)
            assert row["p_rate"][arm]["mean"] == pytest.approx(x.mean(), rel=1e-12)


# --- every NNT key, at and around the edges (Altman 1998) -------------------------------------

NNT_KEYS = ("median", "lo", "hi", "direction", "point", "nntb_bound", "nnth_bound", "nnth_far")


@pytest.mark.parametrize(
    ("rd", "p_benefit", "want"),
    [
        # spans 0: from NNTH 1/0.05 through ∞ to NNTB 1/0.2
        ((0.1, -0.05, 0.2), 0.8, (10.0, 5.0, None, "benefit", 10.0, 5.0, 20.0, None)),
        # all above 0 (no MCSE given: the direction is exact)
        ((0.1, 0.05, 0.2), 0.99, (10.0, 5.0, 20.0, "benefit", 10.0, 5.0, None, None)),
        # all below 0: harm from NNTH 1/0.2 to NNTH 1/0.05
        ((-0.1, -0.2, -0.05), 0.01, (None, None, None, "harm", 10.0, None, 5.0, 20.0)),
        # an end exactly at 0: no bound on that side, never 1/0
        ((-0.1, -0.2, 0.0), 0.05, (None, None, None, "harm", 10.0, None, 5.0, None)),
        ((0.1, 0.0, 0.2), 0.97, (10.0, 5.0, None, "benefit", 10.0, 5.0, None, None)),
    ],
)
def test_every_nnt_key_is_the_reciprocal_of_the_right_rd_end(rd, p_benefit, want):
    got = estimands.nnt(dict(zip(("median", "lo", "hi"), rd, strict=True)), p_benefit)
    assert tuple(got[k] for k in NNT_KEYS) == pytest.approx(want)
    assert got["through_infinity"] is (rd[1] <= 0 <= rd[2])


def test_a_p_benefit_exactly_two_mcse_from_one_half_has_no_direction():
    rd = {"median": 0.1, "lo": -0.05, "hi": 0.2}
    assert estimands.nnt(rd, 0.75, 0.125)["direction"] == "none"  # |0.25| = 2 x 0.125 exactly
    assert estimands.nnt(rd, 0.75, 0.124)["direction"] == "benefit"


def test_summaries_pass_the_monte_carlo_error_to_the_nnt_and_report_every_mcse():
    import arviz as az

    pt, pc = _draws(10, 10, 10, 10, seed=3)  # identical Betas: P(benefit) near 1/2
    row = summarise(fake_p(pt, pc), T_C).iloc[0]
    rd = xr.DataArray(pt - pc, dims=("chain", "draw"))
    p, mcse = float((rd > 0).mean()), float(az.mcse((rd > 0).astype(float), method="mean"))
    # the case intended: within 2 MCSE of 1/2 but not at it, the RD median on the same side
    assert 1e-9 < abs(p - 0.5) <= 2 * mcse and (np.median(pt - pc) > 0) == (p > 0.5)
    assert row["nnt"]["direction"] == "none"
    rr = xr.DataArray(pt / pc, dims=("chain", "draw"))
    assert row["p_rr_gt_mcse"] == pytest.approx(
        {
            key: float(az.mcse((rr > float(key)).astype(float), method="mean"))
            for key in row["p_rr_gt"]
        }
    )


def test_an_odds_ratio_with_control_rates_of_exactly_one_names_that_rate():
    pt, pc = _draws(8, 12, 99, 1, seed=4)
    pc[:, ::20] = 1.0  # 5% of the control draws: odds infinite, OR exactly 0
    row = summarise(fake_p(pt, pc), T_C).iloc[0]
    assert row["or"]["estimable"] is False
    assert row["or"]["not_estimable_reason"] == "control rate ≈ 1"
    assert row["rr"]["estimable"] is True


# --- quantiles and effects of draws with 0, ∞ and one draw -------------------------------------


@pytest.mark.parametrize(
    ("values", "qs", "want"),
    [
        ([3.0], [0.025, 0.5, 0.975], [3.0, 3.0, 3.0]),  # one draw
        (np.arange(10.0), [0.025, 0.5, 0.975], np.quantile(np.arange(10.0), [0.025, 0.5, 0.975])),
        ([1.0, 2.0, np.inf], [0.5], [2.0]),  # on a finite draw, next to an infinite one
        ([1.0, np.inf, np.inf], [0.5, 0.9], [np.inf, np.inf]),  # among the infinite draws
    ],
)
def test_quantiles_match_numpys_linear_rule_and_never_warn(values, qs, want):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = estimands.quantiles(np.asarray(values), qs)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_effects_of_rates_of_exactly_zero_are_infinite_without_a_warning():
    pt = np.array([[0.2, 0.0, 0.3]])
    pc = np.array([[0.0, 0.0, 0.1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eff = estimands.effects(fake_p(pt, pc), T_C).sel(horizon=12)
    assert eff["rr"].values.ravel()[0] == np.inf and np.isnan(eff["rr"].values.ravel()[1])
    assert eff["nnt"].values.ravel()[1] == np.inf
