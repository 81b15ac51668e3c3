"""The post-fit analyses follow the outcome's direction (``[data] direction = "lower"``).

The mirror identity: the counts without the outcome are n − y, their log OR is minus the
outcome's and their rates are 1 − p. So data (y_t, y_c) with a lower rate better and a prior
N(m, s²) on the log OR must give every benefit quantity of data (n − y_t, n − y_c) with a higher
rate better and N(−m, s²). Beside it, independent checks: complements of the higher-direction
answers on the same data, and scipy integrals of the Beta posteriors.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
from scipy import integrate, stats

from bayes_ips import conjugate, exact_logistic, logodds
from bayes_ips.analyses.decision import Criteria, Economics, decide, net_benefit
from bayes_ips.analyses.decision.compute import favourable_effect
from bayes_ips.analyses.decision.posterior import effect_posterior
from bayes_ips.analyses.horizons.compute import joint
from bayes_ips.analyses.missing_data import compute as missing
from bayes_ips.analyses.missing_data.compute import ArmData, PatternMixture
from bayes_ips.analyses.registry import layout
from bayes_ips.analyses.sensitivity import heatmap as hm
from bayes_ips.analyses.sensitivity.exact import effect_posteriors
from bayes_ips.analyses.sensitivity.view import _crossing_sentences
from bayes_ips.data import Comparison
from bayes_ips.pipeline import load_spec, run_analysis
from bayes_ips.priors import NormalEffect
from bayes_ips.priors.core import Prior
from bayes_ips.report import render_markdown
from bayes_ips.report.format import Wording

HIGHER = Comparison("T", "C")
LOWER = Comparison("T", "C", direction="lower", outcome="death within 60 days")
COUNTS = (9, 40, 17, 42)  # y_t, n_t, y_c, n_c: fewer events in the treatment arm
RULES = {"mcid": 0.1, "rope": 0.05, "gamma_benefit": 0.9, "gamma_mcid": 0.5, "gamma_rope": 0.9}
ECON = Economics(value_per_employed=20_000.0, cost_per_patient=1_500.0)


def mirror(counts):
    y_t, n_t, y_c, n_c = counts
    return (n_t - y_t, n_t, n_c - y_c, n_c)


def beta_fit(counts, a0: float = 1.0, b0: float = 1.0):
    """A fit carrying exact Beta posteriors (as the beta-binomial engine's) at one horizon."""
    y_t, n_t, y_c, n_c = counts
    a = [[a0 + y_t], [a0 + y_c]]
    b = [[b0 + n_t - y_t], [b0 + n_c - y_c]]
    post = xr.Dataset(
        {"a": (("arm", "horizon"), a), "b": (("arm", "horizon"), b)},
        coords={"arm": ["T", "C"], "horizon": [12.0]},
    )
    return SimpleNamespace(tree=xr.DataTree.from_dict({"exact_posterior": post}))


def draws_fit(p_t: np.ndarray, p_c: np.ndarray):
    """A fit with posterior draws only (shape chain × draw)."""
    p = xr.DataArray(
        np.stack([p_t, p_c], axis=-1)[..., None],
        dims=("chain", "draw", "arm", "horizon"),
        coords={"arm": ["T", "C"], "horizon": [12.0]},
    )
    return SimpleNamespace(tree=xr.DataTree(), p=p)


def prob_rd_below(counts, d: float) -> float:
    """P(p_t − p_c < d) under Beta(1 + y, 1 + n − y) posteriors, by scipy quadrature."""
    y_t, n_t, y_c, n_c = counts
    t, c = stats.beta(1 + y_t, 1 + n_t - y_t), stats.beta(1 + y_c, 1 + n_c - y_c)
    value, _ = integrate.quad(lambda x: c.pdf(x) * t.cdf(x + d), 0, 1, epsabs=1e-11)
    return value


# --------------------------------------------------------------------------- decision


def test_decision_rules_are_those_of_the_mirrored_counts():
    lower = decide(effect_posterior(beta_fit(COUNTS), 12.0, LOWER), **RULES, sign=LOWER.sign)
    higher = decide(effect_posterior(beta_fit(mirror(COUNTS)), 12.0, HIGHER), **RULES)
    for key in ("p_rd_gt_0", "p_rd_gt_mcid", "p_rope_inside", "dual", "rope"):
        assert lower[key] == pytest.approx(higher[key], abs=1e-12)
    # the ROPE's masses stay on the outcome's RD scale, so they swap sides
    assert lower["p_rope_below"] == pytest.approx(higher["p_rope_above"], abs=1e-12)
    assert lower["p_rope_above"] == pytest.approx(higher["p_rope_below"], abs=1e-12)


def test_decision_probabilities_match_scipy_on_the_benefit_side():
    out = decide(effect_posterior(beta_fit(COUNTS), 12.0, LOWER), **RULES, sign=LOWER.sign)
    # quad_vec and quad both to about 1e-8
    assert out["p_rd_gt_0"] == pytest.approx(prob_rd_below(COUNTS, 0.0), abs=1e-7)
    assert out["p_rd_gt_mcid"] == pytest.approx(prob_rd_below(COUNTS, -0.1), abs=1e-7)
    assert out["p_rope_below"] == pytest.approx(prob_rd_below(COUNTS, -0.05), abs=1e-7)
    assert out["p_rope_above"] == pytest.approx(1 - prob_rd_below(COUNTS, 0.05), abs=1e-7)
    y_t, n_t, y_c, n_c = COUNTS
    exact = conjugate.prob_greater(1 + y_c, 1 + n_c - y_c, 1 + y_t, 1 + n_t - y_t)
    assert out["p_rd_gt_0"] == pytest.approx(exact, abs=1e-7)


def test_decision_from_draws_counts_the_benefit_side():
    rng = np.random.default_rng(3)
    p_t, p_c = rng.beta(10, 31, (2, 500)), rng.beta(18, 26, (2, 500))
    out = decide(effect_posterior(draws_fit(p_t, p_c), 12.0, LOWER), **RULES, sign=LOWER.sign)
    assert out["p_rd_gt_0"] == np.mean(p_t < p_c)
    assert out["p_rd_gt_mcid"] == np.mean(p_t - p_c < -0.1)
    assert out["p_rope_below"] == np.mean(p_t - p_c < -0.05)
    assert out["p_rope_above"] == pytest.approx(np.mean(p_t - p_c > 0.05), abs=1e-12)
    same = decide(effect_posterior(draws_fit(p_t, p_c), 12.0, HIGHER), **RULES)
    assert same == decide(effect_posterior(draws_fit(p_t, p_c), 12.0, HIGHER), **RULES, sign=1)
    assert same["p_rd_gt_0"] == np.mean(p_t > p_c)


def test_net_benefit_values_participants_spared_the_outcome():
    post = effect_posterior(beta_fit(COUNTS), 12.0, LOWER)
    out = net_benefit(post, ECON)
    y_t, n_t, y_c, n_c = COUNTS
    rd = (1 + y_t) / (2 + n_t) - (1 + y_c) / (2 + n_c)
    v, c = ECON.value_per_employed, ECON.cost_per_patient
    assert out["inb_mean"] == pytest.approx(v * -rd - c, rel=1e-12)
    assert out["adopt"] is bool(v * -rd - c > 0)
    assert out["p_cost_effective"] == pytest.approx(prob_rd_below(COUNTS, -c / v), abs=1e-7)
    mirrored = net_benefit(effect_posterior(beta_fit(mirror(COUNTS)), 12.0, HIGHER), ECON)
    for key in ("inb_mean", "p_cost_effective", "evpi_per_patient"):
        assert out[key] == pytest.approx(mirrored[key], rel=1e-9, abs=1e-9)


def test_next_trial_success_is_judged_on_the_benefit_side():
    """The step judges a lower-is-better trial on its counts without the outcome under the
    negated prior: success must be P(log OR < 0 | y) > 0.975 on the outcome's own counts, and a
    significant z test with fewer events in the treatment arm."""
    effect = NormalEffect(0.3, 0.5)  # a prior on the outcome's log OR
    crit = Criteria(0.05, 0.975, favourable_effect(effect, LOWER))
    n = 60
    y_t = np.array([5, 10, 12, 20, 30, 8, 25])
    y_c = np.array([20, 22, 18, 21, 28, 30, 10])
    bayes = crit.bayesian(n - y_t, n - y_c, n)
    freq = crit.frequentist(n - y_t, n - y_c, n)
    for i in range(y_t.size):
        post = exact_logistic.posterior((y_t[i], n, y_c[i], n), effect)
        p_lower = 1 - post.prob_benefit()
        if abs(p_lower - 0.975) > 1e-4:  # the rule's region is exact; stay off its boundary
            assert bayes[i] == (p_lower > 0.975)
        table = [[y_t[i], n - y_t[i]], [y_c[i], n - y_c[i]]]
        p_value = stats.chi2_contingency(table, correction=False).pvalue
        assert freq[i] == (p_value < 0.05 and y_t[i] < y_c[i])
    assert bayes.any() and not bayes.all() and freq.any() and not freq.all()


def test_the_higher_direction_leaves_the_analysis_prior_alone():
    effect = NormalEffect(0.3, 0.5)
    assert favourable_effect(effect, HIGHER) is effect
    assert favourable_effect(effect, LOWER) == NormalEffect(-0.3, 0.5)


# --------------------------------------------------------------------------- sensitivity


def test_heat_map_is_the_complement_and_the_mirror():
    higher = hm.benefit_map(*COUNTS)
    lower = hm.benefit_map(*COUNTS, sign=-1)
    mirrored = hm.benefit_map(*mirror(COUNTS))
    p = np.array(lower["p_benefit"])
    # a continuous posterior: P(log OR < 0) = 1 − P(log OR > 0), on the map's own grid
    np.testing.assert_allclose(p, 1 - np.array(higher["p_benefit"]), atol=1e-12)
    # prior mean m on the outcome's log OR is −m on the non-events' (MEANS is symmetric)
    np.testing.assert_allclose(p, np.array(mirrored["p_benefit"])[:, ::-1], atol=1e-12)
    assert lower["flat_p_benefit"] == pytest.approx(1 - higher["flat_p_benefit"], abs=1e-7)


def test_heat_map_crossings_are_prior_means_of_the_outcomes_log_or():
    lower = hm.benefit_map(*COUNTS, sign=-1)
    grid = hm.map_grid(*COUNTS)
    loglik = logodds.log_likelihood(*COUNTS, grid)
    for ref in lower["reference"]:
        for level in lower["levels"]:
            m = ref[f"{level:g}"]
            assert m is not None
            p_higher = logodds.prob_benefit_normal(m, ref["prior_sd"], loglik, grid)
            # 40 halvings of an interval of 8 leave the mean within 1e-11
            assert 1 - float(p_higher) == pytest.approx(level, abs=1e-6)
        # P(benefit) falls as the prior mean rises: a sceptical mean is above 0 here
        assert ref["0.975"] < ref["0.9"]
    text = " ".join(_crossing_sentences({**lower, "horizon_months": 12}, Wording("death", True)))
    # the crossings checked above, in words: below 0 a prior must favour the treatment to reach
    # the level; above 0 even a sceptical one does
    for ref in lower["reference"]:
        for level in lower["levels"]:
            m = ref[f"{level:g}"]
            words = "prior mean is at most" if m < 0 else "for any prior mean below"
            assert f"{words} {m:.2f}" in text
    assert "at least" not in text and "mean above" not in text


def _counts_dataset(counts) -> xr.Dataset:
    y_t, n_t, y_c, n_c = counts
    return xr.Dataset(
        {
            "employed": (("arm", "horizon"), [[y_t], [y_c]]),
            "n_analysed": (("arm", "horizon"), [[n_t], [n_c]]),
            "verified": (("arm", "horizon"), [[True], [True]]),
        },
        coords={"arm": ["T", "C"], "horizon": [12.0]},
    )


def test_exact_posteriors_under_each_prior_are_the_mirrors():
    m, s = 0.4, 0.6
    lower = effect_posteriors(
        _counts_dataset(COUNTS), [Prior("p", "test", effect=NormalEffect(m, s))], LOWER
    )[0]
    higher = effect_posteriors(
        _counts_dataset(mirror(COUNTS)), [Prior("p", "test", effect=NormalEffect(-m, s))], HIGHER
    )[0]
    # two adaptive grids, each accurate to about 1e-7
    assert lower["p_benefit"] == pytest.approx(higher["p_benefit"], abs=1e-6)
    assert lower["prior_p_benefit"] == pytest.approx(stats.norm.cdf(-m / s), abs=1e-12)
    assert higher["prior_p_benefit"] == pytest.approx(stats.norm.cdf(-m / s), abs=1e-12)


# --------------------------------------------------------------------------- horizons


def test_joint_statements_follow_the_direction():
    rng = np.random.default_rng(5)
    values = rng.uniform(0.1, 0.6, (2, 300, 2, 3))
    p = xr.DataArray(
        values,
        dims=("chain", "draw", "arm", "horizon"),
        coords={"arm": ["T", "C"], "horizon": [6.0, 12.0, 24.0]},
    )
    lower = joint(p, "T", "C", sign=-1)
    rd = values[..., 0, :] - values[..., 1, :]
    assert lower["p_benefit_all"] == np.mean((rd < 0).all(axis=-1))
    assert lower["rd_increase"][0]["p"] == np.mean(-rd[..., 1] > -rd[..., 0])
    mirrored = joint(1 - p, "T", "C")
    assert lower["p_benefit_all"] == mirrored["p_benefit_all"]
    assert joint(p, "T", "C") == joint(p, "T", "C", sign=1)


# --------------------------------------------------------------------------- missing data

ARMS = (ArmData(1 + 9, 1 + 31, 4), ArmData(1 + 17, 1 + 25, 3))


def _mirror_arm(a: ArmData) -> ArmData:
    return ArmData(a.beta, a.alpha, a.missing)


def test_missing_outcomes_are_moved_against_the_treatment():
    lower = PatternMixture(*ARMS, draws=1000, seed=1, sign=-1)
    higher = PatternMixture(*(_mirror_arm(a) for a in ARMS), draws=1000, seed=1)
    lb, hb = lower.bounds(), higher.bounds()
    for key in ("complete", "worst", "best"):
        assert lb[key] == pytest.approx(hb[key], abs=1e-9)
    t, c = ARMS
    # worst case: every missing treatment participant has the outcome, no missing control one
    worst = conjugate.prob_greater(c.alpha, c.beta + c.missing, t.alpha + t.missing, t.beta)
    assert lb["worst"] == pytest.approx(worst, abs=1e-12)
    assert lb["worst"] < lb["complete"] < lb["best"]
    deltas = np.linspace(-2, 2, 9)
    for direction in ("treatment", "control", "both"):
        np.testing.assert_allclose(
            lower.along(deltas, direction), higher.along(-deltas, direction), atol=1e-9
        )
    for direction in ("treatment", "control", "both"):
        tip = lower.tipping(0.94, direction)
        assert tip["status"] == "reached"
        mirrored = higher.tipping(0.94, direction)
        assert tip["delta"] == pytest.approx(-mirrored["delta"], abs=1e-3)
        # unfavourable to the treatment: its missing participants more likely to have it
        assert (tip["delta"] > 0) == (direction != "control")


def test_missing_data_monte_carlo_path_follows_the_direction(monkeypatch):
    monkeypatch.setattr(missing, "EXACT_MAX_PAIRS", 0)
    mc = PatternMixture(*ARMS, draws=20000, seed=3, sign=-1)
    monkeypatch.undo()
    exact = PatternMixture(*ARMS, draws=20000, seed=3, sign=-1)
    assert not mc.exact and exact.exact
    d = [-1.0, 0.0, 1.0]
    # P(benefit) from 20,000 draws: MCSE at most 0.5 / √20000 = 0.0036, so 4 MCSE
    np.testing.assert_allclose(mc.grid(d, d), exact.grid(d, d), atol=0.015)


# --------------------------------------------------------------------------- the report

EVENTS = "arm,horizon_months,employed,n_analysed,n_randomised,verified,source\n"


@pytest.fixture(scope="module")
def lower_summary(tmp_path_factory):
    """A quick run of a mortality-like trial at two horizons, a lower rate better."""
    folder = tmp_path_factory.mktemp("lower")
    y_t, n_t, y_c, n_c = COUNTS
    (folder / "deaths.csv").write_text(
        EVENTS
        + f"Drug,6,5,{n_t},{n_t + 3},true,test counts\n"
        + f"Placebo,6,10,{n_c},{n_c + 2},true,test counts\n"
        + f"Drug,12,{y_t},{n_t},{n_t + 3},true,test counts\n"
        + f"Placebo,12,{y_c},{n_c},{n_c + 2},true,test counts\n"
    )
    spec = folder / "lower.toml"
    spec.write_text(
        '[data]\npath = "deaths.csv"\ntreatment = "Drug"\ncontrol = "Placebo"\n'
        'primary_horizon = 12\noutcome = "death within 60 days"\ndirection = "lower"\n'
        '[models.beta_binomial]\npriors = ["reference"]\n'
        "[decision.next_trial]\nn_per_arm = [20, 50, 100]\noc_n_per_arm = [50]\n"
    )
    return run_analysis(load_spec(spec).with_overrides(quick=True)).summary("test")


def _section(md: str, heading: str) -> str:
    start = md.index(heading)
    end = md.find("\n## ", start + 1)
    return md[start : end if end > 0 else None]


def test_lower_direction_sections_speak_of_fewer_outcomes(lower_summary):
    md = render_markdown(lower_summary, [], layout())
    for heading in (
        "## Decision analysis",
        "## Prior sensitivity",
        "How bad would the missing outcomes",
        "Does the benefit hold at every horizon?",
    ):
        text = _section(md, heading)
        assert "death within 60 days" in text, heading
        assert "increases the" not in text and "extra person" not in text, heading
    decision = _section(md, "## Decision analysis")
    assert "Drug reduces the rate of death within 60 days" in decision
    assert "person spared the death within 60 days" in decision
    assert "P(RD < 0)" in decision and "P(RD > 0)" not in decision
    assert "Worst case: every missing Drug participant with the death within 60 days" in md
    assert "has a lower rate of death within 60 days than Placebo" in md


def test_lower_direction_summary_is_on_the_benefit_side(lower_summary):
    dec = lower_summary["decision"]
    (result,) = [r for r in lower_summary["results"] if r["horizon_months"] == 12]
    (rule,) = [r for r in dec["rules"] if r["horizon_months"] == 12]
    # one value of P(benefit) in every section: the results' exact P(p_T < p_C)
    assert rule["p_rd_gt_0"] == result["p_benefit"]
    y_t, n_t, y_c, n_c = COUNTS
    assert result["p_benefit"] == pytest.approx(
        conjugate.prob_greater(1 + y_c, 1 + n_c - y_c, 1 + y_t, 1 + n_t - y_t), abs=1e-9
    )
    fit = dec["fits"][0]
    assert fit["rd_mean"] == pytest.approx((1 + y_t) / (2 + n_t) - (1 + y_c) / (2 + n_c), rel=1e-12)
    # the reference control rate is the death rate; the OC are at p_t = p_c − RD
    assert dec["operating_characteristics"]["null_rate"] == pytest.approx(
        (1 + y_c) / (2 + n_c), rel=1e-12
    )
    assert "direction" in dec["methods"]
    sens = lower_summary["sensitivity"]
    assert sens["heatmap"]["p_benefit"] == hm.benefit_map(*COUNTS, sign=-1)["p_benefit"]
