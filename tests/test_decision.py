"""Decision analysis: rules, net benefit, EVPI, assurance, operating characteristics, EVSI.

Stochastic answers are compared with exact or independent computations within tolerance bands
of four Monte Carlo standard errors.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import special, stats

from bayes_ips import conjugate
from bayes_ips.analyses.decision import (
    BetaDifference,
    Criteria,
    DecisionSettings,
    DrawsDifference,
    Economics,
    assurance,
    ceac,
    decide,
    dual_criterion,
    evpi,
    evsi,
    net_benefit,
    rope_rule,
    sampling_value,
    success_probability,
)
from bayes_ips.analyses.decision.compute import run as decision_step
from bayes_ips.analyses.decision.trial import (
    VERIFY_BAND,
    BayesianRule,
    _fast_prob_benefit,
    smallest_n,
)
from bayes_ips.context import Fitted
from bayes_ips.errors import InputError
from bayes_ips.fit import Fit
from bayes_ips.pipeline import Run, load_spec, run_analysis
from bayes_ips.priors import NormalEffect
from bayes_ips.schema import validate


def parse(table: dict, origin: str) -> DecisionSettings:
    return validate(DecisionSettings, table, origin, at=("decision",))


BETA = (20.0, 18.0, 8.0, 12.0)  # IPS 19/36 and TAU 7/18 at 12 months under Beta(1, 1)
EXACT_ONLY = '[models.beta_binomial]\npriors = ["reference", "jeffreys"]\n'


def draws(x: np.ndarray, chains: int = 2) -> xr.DataArray:
    return xr.DataArray(x.reshape(chains, -1), dims=("chain", "draw"))


def draws_posterior(rd: np.ndarray) -> DrawsDifference:
    """A DrawsDifference whose RD draws are exactly ``rd`` (control fixed at 0.5)."""
    return DrawsDifference(draws(rd + 0.5), draws(np.full_like(rd, 0.5)))


# --------------------------------------------------------------------------- settings


def test_defaults_flag_every_economic_input_as_illustrative():
    s = parse({}, "spec.toml")
    econ = s.economics.as_dict()
    assert econ["illustrative"] is True
    assert {d["source"] for d in econ["inputs"].values()} == {"illustrative default"}
    assert len(s.next_trial.n_per_arm) == 20


def test_user_economic_inputs_are_marked_as_from_the_spec():
    inputs = {k: getattr(Economics(), k) for k in Economics.INPUTS}
    s = parse({"economics": {**inputs, "value_per_employed": 40000}}, "spec.toml")
    econ = s.economics.as_dict()
    assert econ["illustrative"] is False
    assert econ["inputs"]["value_per_employed"] == {"value": 40000.0, "source": "spec"}
    partial = parse({"economics": {"cost_per_patient": 1000}}, "spec.toml").economics
    assert partial.illustrative and partial.as_dict()["inputs"]["cost_per_patient"]["source"] == (
        "spec"
    )


def test_population_is_discounted():
    econ = Economics(population_per_year=100, years=3, discount_rate=0.1)
    assert econ.population == pytest.approx(100 + 100 / 1.1 + 100 / 1.21)


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"colour": 1}, "decision.colour"),
        ({"economics": {"price": 1}}, "decision.economics.price"),
        ({"next_trial": {"n_per_arm": [1, 10]}}, "decision.next_trial.n_per_arm"),
        ({"next_trial": {"n_per_arm": [10.5]}}, "decision.next_trial.n_per_arm"),
        ({"gamma_rope": 0.5}, "decision.gamma_rope"),
        ({"mcid": "big"}, "decision.mcid"),
        ({"economics": {"value_per_employed": 0}}, "decision.economics.value_per_employed"),
        ({"next_trial": {"simulations": 10}}, "decision.next_trial.simulations"),
        ({"next_trial": {"robust_weight": 1.5}}, "decision.next_trial.robust_weight"),
    ],
)
def test_bad_settings_name_the_key(table, field):
    with pytest.raises(InputError) as err:
        parse(table, "spec.toml")
    assert err.value.field == field


def test_bad_decision_section_exits_2_and_writes_nothing(tmp_path, cli):
    spec = tmp_path / "s.toml"
    spec.write_text("[decision.economics]\ncost_per_patient = -5\n")
    code, _, err = cli("run", spec, "--quick", "--out", tmp_path / "r")
    assert code == 2
    assert "decision.economics.cost_per_patient" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


# --------------------------------------------------------------------------- posterior


def test_beta_difference_matches_exact_benefit_and_monte_carlo():
    post = BetaDifference(*BETA)
    assert post.prob_gt(0.0)[0][0] == pytest.approx(conjugate.prob_greater(*BETA), abs=1e-7)
    rng = np.random.default_rng(11)
    m = 2_000_000
    rd = rng.beta(*BETA[:2], m) - rng.beta(*BETA[2:], m)
    d = np.array([-0.1, 0.1, 0.25])
    p = post.prob_gt(d)[0]
    exc = post.excess(d)[0]
    short = post.shortfall(d)[0]
    for i, t in enumerate(d):
        ind = rd > t
        assert abs(p[i] - ind.mean()) < 4 * ind.std() / math.sqrt(m)
        x = np.maximum(rd - t, 0)
        assert abs(exc[i] - x.mean()) < 4 * x.std() / math.sqrt(m)
        y = np.maximum(t - rd, 0)
        assert abs(short[i] - y.mean()) < 4 * y.std() / math.sqrt(m)


def test_draws_difference_tail_functions_equal_numpy():
    rng = np.random.default_rng(3)
    rd = rng.normal(0.1, 0.1, 4000)
    post = draws_posterior(rd)
    d = np.array([-0.2, 0.0, 0.05, 0.3])
    p, p_se = post.prob_gt(d)
    np.testing.assert_allclose(p, [(rd + 0.5 - 0.5 > t).mean() for t in d], atol=1e-12)
    exc, exc_se = post.excess(d)
    np.testing.assert_allclose(exc, [np.maximum(rd - t, 0).mean() for t in d], atol=1e-12)
    short, _ = post.shortfall(d)
    np.testing.assert_allclose(short, [np.maximum(t - rd, 0).mean() for t in d], atol=1e-12)
    assert (p_se > 0).all() and (exc_se > 0).all()


def test_moment_matched_beta_recovers_parameters():
    rng = np.random.default_rng(5)
    post = DrawsDifference(draws(rng.beta(30, 20, 200_000)), draws(rng.beta(8, 12, 200_000)))
    (a_t, b_t), (a_c, b_c) = post.moments()
    assert a_t == pytest.approx(30, rel=0.03) and b_t == pytest.approx(20, rel=0.03)
    assert a_c == pytest.approx(8, rel=0.03) and b_c == pytest.approx(12, rel=0.03)


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("p0", "pm", "expected"),
    [
        (0.95, 0.50, "go"),  # thresholds are inclusive
        (0.99, 0.49, "indeterminate"),
        (0.90, 0.70, "indeterminate"),
        (0.90, 0.20, "no-go"),
    ],
)
def test_dual_criterion_outcomes(p0, pm, expected):
    assert dual_criterion(p0, pm, 0.95, 0.50) == expected


@pytest.mark.parametrize(
    ("above", "expected"), [(0.96, "go"), (0.95, "go"), (0.5, "indeterminate"), (0.04, "no-go")]
)
def test_rope_rule_outcomes(above, expected):
    assert rope_rule(above, 0.95) == expected


def test_decide_reports_rope_masses_that_sum_to_one():
    rng = np.random.default_rng(2)
    post = draws_posterior(rng.normal(0.2, 0.05, 8000))
    out = decide(post, mcid=0.1, rope=0.05, gamma_benefit=0.95, gamma_mcid=0.5, gamma_rope=0.95)
    assert out["dual"] == "go" and out["rope"] == "go"
    total = out["p_rope_above"] + out["p_rope_inside"] + out["p_rope_below"]
    assert total == pytest.approx(1.0)
    assert not out["exact"] and out["p_rd_gt_mcid_mcse"] > 0


# --------------------------------------------------------------------------- EVPI


def test_evpi_is_non_negative():
    rng = np.random.default_rng(8)
    for _ in range(20):
        post = draws_posterior(rng.normal(rng.normal(0, 0.1), rng.uniform(0.01, 0.2), 2000))
        value, cost = rng.uniform(1e3, 1e5), rng.uniform(0, 1e4)
        assert evpi(post, value, cost)[0] >= 0
        assert min(ceac(post, Economics(value_per_employed=value))["evpi_per_patient"]) >= 0


def test_evpi_is_zero_when_the_decision_is_certain():
    rng = np.random.default_rng(9)
    helps = draws_posterior(rng.uniform(0.2, 0.4, 2000))
    assert evpi(helps, 25000, 3000) == (0.0, 0.0)  # every draw: INB > 0
    assert evpi(helps, 25000, 20000) == (0.0, 0.0)  # every draw: INB < 0
    assert evpi(BetaDifference(*BETA), 25000, 30000)[0] == pytest.approx(0.0, abs=1e-6)


def test_exact_evpi_matches_direct_monte_carlo():
    value, cost = 25000.0, 3000.0
    exact, _ = evpi(BetaDifference(*BETA), value, cost)
    rng = np.random.default_rng(12)
    m = 2_000_000
    inb = value * (rng.beta(*BETA[:2], m) - rng.beta(*BETA[2:], m)) - cost
    direct = np.maximum(inb, 0).mean() - max(inb.mean(), 0)
    # E[INB] > 0 here, so EVPI = E[max(-INB, 0)]: its SE bounds the error of the estimate
    se = np.maximum(-inb, 0).std() / math.sqrt(m)
    assert inb.mean() > 0 and abs(exact - direct) < 4 * se
    assert exact > 100


def test_draws_evpi_matches_the_normal_closed_form():
    mu, sigma, value, cost = 0.13, 0.12, 25000.0, 3000.0
    rng = np.random.default_rng(13)
    est, se = evpi(draws_posterior(rng.normal(mu, sigma, 400_000)), value, cost)
    s = value * sigma
    z = abs(value * mu - cost) / s
    closed = s * (stats.norm.pdf(z) - z * stats.norm.sf(z))
    assert abs(est - closed) < 4 * se


def test_net_benefit_and_ceac_agree_with_each_other():
    econ = Economics()
    post = BetaDifference(*BETA)
    nb = net_benefit(post, econ)
    assert nb["inb_mean"] == pytest.approx(25000 * post.mean() - 3000)
    assert nb["p_cost_effective"] == pytest.approx(post.prob_gt(0.12)[0][0])
    curve = ceac(post, econ)
    i = curve["wtp"].index(econ.value_per_employed)
    assert curve["p_cost_effective"][i] == pytest.approx(nb["p_cost_effective"], abs=1e-6)
    assert curve["evpi_per_patient"][i] == pytest.approx(nb["evpi_per_patient"], rel=1e-5)
    assert np.all(np.diff(curve["p_cost_effective"]) >= -1e-9)


# --------------------------------------------------------------------------- next trial


def normal_power(n: int, p_t: float, p_c: float, alpha: float) -> float:
    """Textbook normal-approximation power of the pooled z test (one side)."""
    pbar = (p_t + p_c) / 2
    z = stats.norm.isf(alpha / 2)
    num = abs(p_t - p_c) * math.sqrt(n) - z * math.sqrt(2 * pbar * (1 - pbar))
    return float(stats.norm.cdf(num / math.sqrt(p_t * (1 - p_t) + p_c * (1 - p_c))))


SCEPTIC = NormalEffect(0.0, 0.25)


def test_frequentist_rule_is_the_chi_square_test():
    crit = Criteria(0.05, 0.975, SCEPTIC)
    n = 40
    for y_t in range(3, 38, 5):
        for y_c in range(3, 38, 4):
            table = [[y_t, n - y_t], [y_c, n - y_c]]
            p = stats.chi2_contingency(table, correction=False).pvalue
            assert bool(crit.frequentist(y_t, y_c, n)) == (p < 0.05 and y_t > y_c)


def posterior_benefit_2d(y_t: int, y_c: int, n: int, sd: float) -> float:
    """P(theta > 0) by brute 2-D quadrature: alpha ~ N(0, 1.5²), theta ~ N(0, sd²),
    y_t ~ Bin(n, invlogit(alpha + theta/2)), y_c ~ Bin(n, invlogit(alpha − theta/2))."""
    a = np.linspace(-10, 10, 2001)[:, None]
    t = np.linspace(-2.5, 2.5, 2000)[None, :]
    lp = (
        stats.binom.logpmf(y_t, n, special.expit(a + t / 2))
        + stats.binom.logpmf(y_c, n, special.expit(a - t / 2))
        + stats.norm.logpdf(a, 0, 1.5)
        + stats.norm.logpdf(t, 0, sd)
    )
    w = np.exp(lp - lp.max())
    return float(w[:, t[0] > 0].sum() / w.sum())


def test_bayesian_rule_is_exact_at_the_extremes():
    crit = Criteria(0.05, 0.975, NormalEffect(0.0, 0.2478))
    # all treated participants employed: the exact posterior, no continuity correction
    assert bool(crit.bayesian(100, 40, 100))
    assert posterior_benefit_2d(100, 40, 100, 0.2478) > 0.975
    for y_t, y_c, n in [(30, 20, 50), (60, 40, 100), (10, 0, 10)]:
        p = crit.bayes_rule.prob_benefit(y_t, y_c, n)
        assert p == pytest.approx(posterior_benefit_2d(y_t, y_c, n, 0.2478), abs=1e-4)
        assert bool(crit.bayesian(y_t, y_c, n)) == (p > 0.975)


def posterior_benefit_quad(y_t: int, y_c: int, n: int, sd: float) -> float:
    """P(theta > 0) by scipy's adaptive quadrature in theta, alpha integrated out at each theta
    on a dense uniform grid (the model of :func:`posterior_benefit_2d`, for wide priors)."""
    from scipy import integrate

    a = np.linspace(-40, 40, 16_001)

    def post(t: float) -> float:
        lp = (
            stats.binom.logpmf(y_t, n, special.expit(a + t / 2))
            + stats.binom.logpmf(y_c, n, special.expit(a - t / 2))
            + stats.norm.logpdf(a, 0, 1.5)
        )
        return float(np.trapezoid(np.exp(lp + 10), a)) * stats.norm.pdf(t, 0, sd)

    # beyond |theta| = 40 the likelihood of these tables is below e^-30 of its peak
    right = integrate.quad(post, 0, 40, limit=200, epsabs=0, epsrel=1e-9)[0]
    left = integrate.quad(post, -40, 0, limit=200, epsabs=0, epsrel=1e-9)[0]
    return right / (left + right)


@pytest.mark.parametrize("sd", [100.0, 1000.0])
def test_bayesian_rule_computes_under_very_wide_priors(sd):
    """The largest spec SD (100) and a user prior N(0, 1000²): the conditional mode of alpha at
    |theta| in the thousands lies hundreds of units away, and is still found."""
    rule = BayesianRule(NormalEffect(0.0, sd), 0.975)
    for y_t, y_c, n in [(8, 1, 200), (3, 0, 200), (120, 100, 200)]:
        expected = posterior_benefit_quad(y_t, y_c, n, sd)
        assert rule.prob_benefit(y_t, y_c, n) == pytest.approx(expected, abs=1e-5)
    t = int(rule.thresholds(200)[1])  # the smallest success against 1 control event
    assert (
        posterior_benefit_quad(t, 1, 200, sd) > 0.975 >= posterior_benefit_quad(t - 1, 1, 200, sd)
    )


def test_success_region_is_the_exact_rule_by_enumeration():
    crit = Criteria(0.05, 0.975, SCEPTIC)
    n = 20
    rule = crit.bayes_rule
    for y_c in range(n + 1):
        for y_t in range(n + 1):
            assert bool(crit.bayesian(y_t, y_c, n)) == (rule.prob_benefit(y_t, y_c, n) > 0.975)


def exact_conditional_success(crit: Criteria, name: str, n: int, p_t, p_c) -> np.ndarray:
    """g(p_t, p_c) of each design draw by enumerating every outcome (scipy's binomial)."""
    y = np.arange(n + 1)
    hit = crit.rule(name)(y[:, None], y[None, :], n).astype(float)
    ft = stats.binom.pmf(y[None, :], n, np.ravel(p_t)[:, None])
    fc = stats.binom.pmf(y[None, :], n, np.ravel(p_c)[:, None])
    return np.einsum("dt,tc,dc->d", ft, hit, fc)


def test_assurance_agrees_with_exact_enumeration_of_the_predictive():
    crit = Criteria(0.05, 0.975, SCEPTIC)
    rng = np.random.default_rng(3)
    p_t, p_c = rng.beta(30, 20, (2, 50)), rng.beta(20, 30, (2, 50))
    n, w = 30, 0.2
    got = assurance(p_t, p_c, [n], crit, 40_000, np.random.default_rng(4), robust_weight=w)
    assert got["trials_per_draw"] == 400 and got["simulations"] == 40_000
    y = np.arange(n + 1)
    for name in ("frequentist", "bayesian"):
        hit = crit.rule(name)(y[:, None], y[None, :], n)
        exact = (1 - w) * exact_conditional_success(crit, name, n, p_t, p_c).mean() + w * hit.mean()
        mcse = got[name]["mcse"][0]
        assert mcse > 0 and abs(got[name]["assurance"][0] - exact) < 4 * mcse


def test_assurance_mcse_counts_the_design_draws_own_error():
    """Each draw's success share estimates g(p_t, p_c) with variance g (1 − g) / r; the draws
    vary too, so the MCSE of their mean (independent draws) is
    sqrt((Var g + E[g (1 − g)] / r) / draws), not the binomial SE of the trials alone."""
    crit = Criteria(0.05, 0.975, SCEPTIC)
    rng = np.random.default_rng(8)
    draws_, n = 4000, 60
    p_t, p_c = rng.beta(*BETA[:2], draws_), rng.beta(*BETA[2:], draws_)
    got = assurance(p_t, p_c, [n], crit, 4 * draws_, np.random.default_rng(9))
    for name in ("frequentist", "bayesian"):
        g = exact_conditional_success(crit, name, n, p_t, p_c)
        expected = math.sqrt((g.var() + (g * (1 - g)).mean() / 4) / draws_)
        a = got[name]["assurance"][0]
        binomial_only = math.sqrt(a * (1 - a) / (4 * draws_))
        assert got[name]["mcse"][0] == pytest.approx(expected, rel=0.15)
        assert got[name]["mcse"][0] > 1.3 * binomial_only


def test_assurance_with_a_point_mass_design_prior_is_exact_power():
    crit = Criteria(0.05, 0.975, SCEPTIC)
    p_t, p_c = np.full((2, 1000), 0.5), np.full((2, 1000), 0.38)
    got = assurance(p_t, p_c, [50, 200], crit, 20_000, np.random.default_rng(5))
    for i, n in enumerate([50, 200]):
        for name in ("frequentist", "bayesian"):
            exact = success_probability(crit.rule(name), n, 0.5, 0.38)
            mcse = got[name]["mcse"][i]
            assert abs(got[name]["assurance"][i] - exact) < 4 * mcse
            # a point mass: only the simulation noise, the binomial SE of 20 000 trials
            assert mcse == pytest.approx(math.sqrt(exact * (1 - exact) / 20_000), rel=0.15)
    assert success_probability(crit.frequentist, 200, 0.5, 0.38) == pytest.approx(
        normal_power(200, 0.5, 0.38, 0.05), abs=0.01
    )


def test_assurance_approaches_the_ceiling():
    crit = Criteria(0.05, 0.975, SCEPTIC)
    rng = np.random.default_rng(0)
    p_t, p_c = rng.beta(*BETA[:2], 2000), rng.beta(*BETA[2:], 2000)
    a = assurance(p_t, p_c, [50, 5000], crit, 2000, np.random.default_rng(1))
    ceiling = float((p_t > p_c).mean())
    big, mcse = a["frequentist"]["assurance"][1], a["frequentist"]["mcse"][1]
    assert big <= ceiling + 4 * mcse and big > ceiling - 0.05
    assert smallest_n([10, 20, 30], [0.1, 0.85, 0.95], 0.8) == 20
    assert smallest_n([10, 20], [0.1, 0.5], 0.8) is None


def test_fast_quadrature_agrees_with_the_adaptive_one_well_inside_the_verify_band():
    """Outcomes on both sides of each success threshold, at small and large n: the vectorised
    quadrature that decides most outcomes agrees with exact_logistic's adaptive quadrature
    far more closely than VERIFY_BAND, the margin within which outcomes are recomputed."""
    crit = Criteria(0.05, 0.975, SCEPTIC)
    rule = crit.bayes_rule
    for n in (40, 400, 2000):
        thr = rule.thresholds(n)
        y_c = np.arange(0, n + 1, max(1, n // 8))
        y_c = y_c[(thr[y_c] > 0) & (thr[y_c] <= n)]
        for y_t in (thr[y_c], thr[y_c] - 1):
            fast, doubtful = _fast_prob_benefit(y_t, y_c, n, SCEPTIC, rule.alpha_sd)
            for t, c, p, d in zip(y_t, y_c, fast, doubtful, strict=True):
                if not d:
                    assert abs(p - rule.prob_benefit(int(t), int(c), n)) < VERIFY_BAND / 4


# --------------------------------------------------------------------------- EVSI


def test_evsi_by_enumeration_matches_nested_simulation():
    value, cost, n = 25000.0, 3000.0, 50
    exact = evsi(BETA[:2], BETA[2:], n, value, cost)
    rng = np.random.default_rng(31)
    m = 1_000_000
    p_t, p_c = rng.beta(*BETA[:2], m), rng.beta(*BETA[2:], m)
    y_t, y_c = rng.binomial(n, p_t), rng.binomial(n, p_c)
    mean_after = (BETA[0] + y_t) / (sum(BETA[:2]) + n) - (BETA[2] + y_c) / (sum(BETA[2:]) + n)
    gain = np.maximum(value * mean_after - cost, 0)
    prior = max(value * BetaDifference(*BETA).mean() - cost, 0)
    assert abs(exact - (gain.mean() - prior)) < 4 * gain.std() / math.sqrt(m)


def test_evsi_is_bounded_by_evpi_and_grows_with_sample_size():
    value, cost = 25000.0, 3000.0
    full = evpi(BetaDifference(*BETA), value, cost)[0]
    values = [evsi(BETA[:2], BETA[2:], n, value, cost) for n in (10, 100, 1000, 100_000)]
    assert all(0 <= v <= full + 1e-6 for v in values)
    assert values == sorted(values)
    assert values[-1] == pytest.approx(full, rel=0.005)
    assert evsi(BETA[:2], BETA[2:], 100, value, 40000.0) == pytest.approx(0.0, abs=1e-9)


def test_enbs_subtracts_the_trial_cost():
    econ = Economics()
    out = sampling_value(BETA[:2], BETA[2:], [50, 500], econ)
    for i, n in enumerate([50, 500]):
        assert out["enbs"][i] == pytest.approx(
            out["evsi_per_patient"][i] * econ.population - econ.trial_cost(n)
        )
    poor = sampling_value(BETA[:2], BETA[2:], [50], Economics(trial_fixed_cost=1e12))
    assert poor["n_best"] is None


# --------------------------------------------------------------------------- the step


def exact_spec(folder, extra: str = ""):
    """A spec fitting only the exact engine (no sampler), plus ``extra`` TOML."""
    path = folder / "exact.toml"
    path.write_text(EXACT_ONLY + extra)
    return path


@pytest.fixture(scope="module")
def quick_analysis(tmp_path_factory) -> Run:
    spec = exact_spec(tmp_path_factory.mktemp("spec"))
    return run_analysis(load_spec(spec).with_overrides(quick=True))


def test_step_output_is_json_ready_with_provenance(quick_analysis):
    dec = quick_analysis.extras["decision"]
    json.dumps(dec, allow_nan=False)
    horizons = quick_analysis.ctx.counts["horizon"].to_numpy().tolist()
    assert len(dec["rules"]) == len(quick_analysis.fitted.fits) * len(horizons)
    verified = {
        h: bool(quick_analysis.ctx.counts["verified"].sel(horizon=h).all()) for h in horizons
    }
    assert all(r["verified_data"] == verified[r["horizon_months"]] for r in dec["rules"])
    assert dec["economics"]["illustrative"] is True and dec["quick"] is True
    assert dec["primary_horizon"] == 12 and dec["primary_verified"] is True
    for f in dec["fits"]:
        nt = f["next_trial"]
        assert nt["seed"] > 0 and f["fit_seed"] > 0
        assert len(nt["frequentist"]["assurance"]) == 20
        # `simulations`: simulated trials per sample size, at least the (quick-capped) setting,
        # the same number for every design draw
        assert nt["simulations"] == nt["design_draws"] * nt["trials_per_draw"]
        assert nt["simulations"] >= dec["settings"]["next_trial"]["simulations"] == 5000
    exact = conjugate.prob_greater(*BETA)
    head = next(r for r in dec["rules"] if r["prior"] == "reference" and r["horizon_months"] == 12)
    assert head["p_rd_gt_0"] == pytest.approx(exact, abs=1e-7) and head["exact"]


def test_next_trial_rule_uses_the_librarys_sceptical_prior(quick_analysis):
    """One sceptical prior per run: the library's sceptical_mcid (the priors table's), rebuilt
    here from its recipe: mean 0 and P(OR > OR_mcid) = 5%, OR_mcid the odds ratio of a
    10-point gain over the anchor control rate 7/18."""
    dec = quick_analysis.extras["decision"]
    p0 = 7 / 18
    or_mcid = (p0 + 0.10) / (1 - p0 - 0.10) / (p0 / (1 - p0))
    prior = dec["analysis_prior"]
    assert prior["name"] == dec["settings"]["next_trial"]["analysis_prior"] == "sceptical_mcid"
    assert prior["mean"] == 0.0
    assert prior["sd"] == pytest.approx(math.log(or_mcid) / stats.norm.isf(0.05), rel=1e-9)
    assert prior["anchor_control_rate"] == pytest.approx(p0)


def test_bad_analysis_prior_is_refused_when_the_spec_is_read(tmp_path, cli):
    for name, rule in (("scepticall", "known: reference"), ("map", "known: reference")):
        spec = exact_spec(tmp_path, f'[decision.next_trial]\nanalysis_prior = "{name}"\n')
        with pytest.raises(InputError) as err:
            load_spec(spec)  # before any data is read or model fitted
        assert err.value.field == "decision.next_trial.analysis_prior"
        assert err.value.value == name and rule in err.value.rule
        assert "sceptical_mcid" in err.value.rule and "map," not in err.value.rule
        code, _, stderr = cli("run", spec, "--quick", "--out", tmp_path / "r")
        assert code == 2 and str(spec) in stderr and len(stderr.strip().splitlines()) == 1
        assert not (tmp_path / "r").exists()


def test_unbuildable_analysis_prior_is_refused_before_any_fit(tmp_path, monkeypatch):
    """A known name that cannot be built at this run's anchor (a risk ratio that implies a rate
    above 1) is only found with the data: still an input error, before the fits."""
    import bayes_ips.pipeline as pipeline

    def no_fits(*args, **kwargs):
        raise AssertionError("fitted before checking the analysis prior")

    monkeypatch.setattr(pipeline, "_fit_families", no_fits)
    spec = exact_spec(tmp_path, '[decision.next_trial]\nanalysis_prior = "evidence_modini_2016"\n')
    with pytest.raises(InputError) as err:
        run_analysis(load_spec(spec).with_overrides(quick=True))
    assert err.value.field == "decision.next_trial.analysis_prior"
    assert err.value.source == str(spec) and "cannot be built" in err.value.rule
    assert "analysis_prior_sd" in err.value.rule and "enabled = false" in err.value.rule


def test_rules_use_the_results_exact_p_benefit_for_exact_models(tmp_path):
    """One value per estimand: for the exact models the benefit criterion rests on the results'
    exact P(benefit) (MCSE 0), also for exact_logistic, whose other rule probabilities come from
    draws; the rule follows that value."""
    spec = exact_spec(
        tmp_path, '[models.exact_logistic]\npriors = ["reference", "pessimistic_strong"]\n'
    )
    run = run_analysis(load_spec(spec).with_overrides(quick=True))
    dec = run.extras["decision"]
    results = run.fitted.table.set_index(["model", "prior", "horizon_months"])
    logistic = [r for r in dec["rules"] if r["model"] == "exact_logistic"]
    assert len(logistic) == 6 and len(dec["rules"]) == 12
    for r in dec["rules"]:
        row = results.loc[(r["model"], r["prior"], r["horizon_months"])]
        assert row["p_benefit_mcse"] == 0
        assert r["p_rd_gt_0"] == row["p_benefit"] and r["p_rd_gt_0_mcse"] == 0
        g1, g2 = dec["settings"]["gamma_benefit"], dec["settings"]["gamma_mcid"]
        assert r["benefit_met"] == (r["p_rd_gt_0"] >= g1)
        assert r["dual"] == dual_criterion(r["p_rd_gt_0"], r["p_rd_gt_mcid"], g1, g2)
    # exact only when every probability of the row is: exact_logistic's others are from draws
    assert not any(r["exact"] for r in logistic)


def test_step_is_reproducible(quick_analysis):
    again = decision_step(quick_analysis.ctx, quick_analysis.fitted)
    assert json.dumps(again, sort_keys=True) == json.dumps(
        quick_analysis.extras["decision"], sort_keys=True
    )


def test_step_from_draws_agrees_with_the_exact_answers(quick_analysis):
    """A fit without Beta parameters (as from MCMC) takes the draws path: same answers
    within Monte Carlo error."""
    exact_fit = quick_analysis.fitted.fits[0]
    post = exact_fit.tree["exact_posterior"].to_dataset()
    rng = np.random.default_rng(6)
    a, b = post["a"].to_numpy(), post["b"].to_numpy()
    p = xr.DataArray(
        rng.beta(a, b, size=(2, 20_000, *a.shape)),
        dims=("chain", "draw", "arm", "horizon"),
        coords={"arm": post["arm"].to_numpy(), "horizon": post["horizon"].to_numpy()},
    )
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({"p": p})})
    fit = Fit("mcmc_like", exact_fit.prior, exact_fit.seed, tree)
    rows = quick_analysis.fitted.table
    own = rows[(rows["model"] == exact_fit.model) & (rows["prior"] == exact_fit.prior.name)]
    fitted = Fitted(
        [exact_fit, fit], pd.concat([own, own.assign(model="mcmc_like")], ignore_index=True)
    )
    dec = decision_step(quick_analysis.ctx, fitted)
    exact_rules = [r for r in dec["rules"] if r["model"] == exact_fit.model]
    draw_rules = [r for r in dec["rules"] if r["model"] == "mcmc_like"]
    for e, d in zip(exact_rules, draw_rules, strict=True):
        assert e["exact"] and not d["exact"]
        assert abs(e["p_rd_gt_mcid"] - d["p_rd_gt_mcid"]) < 4 * d["p_rd_gt_mcid_mcse"]
    nb_exact, nb_draws = (f["net_benefit"] for f in dec["fits"])
    se = nb_draws["evpi_per_patient_mcse"]
    assert se > 0 and abs(nb_exact["evpi_per_patient"] - nb_draws["evpi_per_patient"]) < 4 * se


def test_report_shows_the_decision_section(tmp_path, cli):
    assert cli("run", exact_spec(tmp_path), "--quick", "--out", tmp_path / "r")[0] == 0
    html = (tmp_path / "r" / "report.html").read_text()
    md = (tmp_path / "r" / "report.md").read_text()
    for text in (html, md):
        assert "Decision analysis" in text and "ILLUSTRATIVE" in text
        assert "decision rule says" in text
    for name in ("decision_rules", "decision_ceac", "decision_assurance", "decision_oc"):
        assert (tmp_path / "r" / "figures" / f"{name}.svg").is_file()
        assert f"figures/{name}.svg" in md
    # the plain sentences come before the detailed tables
    assert md.index("decision rule says") < md.index("### Decision rules by horizon")
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["decision"]["headline"]["prior"] == "reference"


def test_decision_can_be_switched_off(tmp_path, cli):
    spec = exact_spec(tmp_path, "[decision]\nenabled = false\n")
    assert cli("run", spec, "--quick", "--out", tmp_path / "r")[0] == 0
    assert "decision" not in json.loads((tmp_path / "r" / "summary.json").read_text())
    assert "Decision analysis" not in (tmp_path / "r" / "report.html").read_text()
