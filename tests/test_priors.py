"""The prior library: calibrations, conversions, MAP prior, ESS, rate priors, spec section."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from bayes_ips.errors import InputError
from bayes_ips.priors import (
    BetaRate,
    MixtureEffect,
    NormalEffect,
    Prior,
    PriorContext,
    evidence,
    get_prior,
    library,
    meta_analytic,
    unavailable,
)
from bayes_ips.priors import ess as ess_mod
from bayes_ips.priors.settings import parse

P0 = 7 / 18


@pytest.fixture(scope="module")
def context() -> PriorContext:
    return PriorContext(parse({}, "package:default.toml"), P0, "test")


@pytest.fixture(scope="module")
def lib(context):
    return library(context)


# --- the 3 x 3 grid -------------------------------------------------------------------------


def _sd_for_tail(mean: float, tail: float) -> float:
    """Root-find the SD with P(X < 0) = tail for X ~ N(mean, sd²), mean > 0."""
    return optimize.brentq(lambda s: stats.norm.cdf(0.0, mean, s) - tail, 1e-4, 10, xtol=1e-12)


def _sd_for_mass(or_hi: float) -> float:
    """Root-find the SD of N(0, sd²) with 95% of the mass for the OR in [1/or_hi, or_hi]."""
    lo, hi = -math.log(or_hi), math.log(or_hi)

    def mass(s):
        return stats.norm.cdf(hi, 0, s) - stats.norm.cdf(lo, 0, s) - 0.95

    return optimize.brentq(mass, 1e-4, 10, xtol=1e-12)


@pytest.mark.parametrize(
    ("strength", "tail", "table_sd"), [("strong", 0.05, 0.136), ("moderate", 0.15, 0.215)]
)
def test_optimistic_and_pessimistic_sds_follow_the_tail_rule(lib, strength, tail, table_sd):
    want = _sd_for_tail(math.log(1.25), tail)
    for belief, sign in (("optimistic", 1), ("pessimistic", -1)):
        eff = lib[f"{belief}_{strength}"].effect
        assert eff.mean == pytest.approx(sign * math.log(1.25), abs=1e-12)
        assert abs(eff.sd - want) < 1e-3
        assert abs(eff.sd - table_sd) < 1e-3  # the design notes' rounded value
        assert eff.prob_benefit() == pytest.approx(1 - tail if sign > 0 else tail, abs=1e-9)


def test_weak_and_neutral_sds_follow_their_rules(lib):
    assert abs(lib["optimistic_weak"].effect.sd - _sd_for_tail(math.log(1.25), 0.30)) < 1e-3
    assert abs(lib["optimistic_weak"].effect.sd - 0.425) < 1e-3
    for name, or_hi, table_sd in (("neutral_strong", 1.5, 0.207), ("neutral_moderate", 2, 0.354)):
        eff = lib[name].effect
        assert eff.mean == 0
        assert abs(eff.sd - _sd_for_mass(or_hi)) < 1e-3
        assert abs(eff.sd - table_sd) < 1e-3
    assert lib["neutral_weak"].effect.sd >= 1.5
    assert str(lib["neutral_weak"].effect.sd).rstrip("0").rstrip(".") in lib["neutral_weak"].recipe


# --- MCID, evidence ---------------------------------------------------------------------------


def test_mcid_priors_from_a_risk_difference_at_the_control_rate(lib):
    odds = lambda p: p / (1 - p)  # noqa: E731
    or_mcid = odds(P0 + 0.10) / odds(P0)
    sceptical = lib["sceptical_mcid"].effect
    enthusiastic = lib["enthusiastic_mcid"].effect
    assert 1 - stats.norm.cdf(math.log(or_mcid), sceptical.mean, sceptical.sd) == pytest.approx(
        0.05, abs=1e-9
    )
    assert sceptical.mean == 0
    assert enthusiastic.mean == pytest.approx(math.log(or_mcid))
    assert enthusiastic.prob_benefit() == pytest.approx(0.95, abs=1e-9)
    assert "10 percentage points" in lib["sceptical_mcid"].recipe


def test_evidence_prior_converts_rr_at_the_control_rate_and_inflates_variance(lib):
    # Probyn 2021: RR 1.38 (1.00-1.89). Treatment rate RR * p0, OR from the two odds.
    def odds_ratio(rr):
        pt = rr * P0
        return (pt / (1 - pt)) / (P0 / (1 - P0))

    eff = lib["evidence_probyn_2021"].effect
    assert eff.mean == pytest.approx(math.log(odds_ratio(1.38)), abs=1e-9)
    sd = (math.log(odds_ratio(1.89)) - math.log(odds_ratio(1.00))) / (2 * 1.959964)
    assert eff.sd**2 == pytest.approx(sd**2 / 0.5, rel=1e-5)
    hellstrom = lib["evidence_hellstrom_2017"].effect  # an OR: no conversion
    assert hellstrom.mean == pytest.approx(math.log(1.34))
    assert "musculoskeletal" in lib["evidence_probyn_2021"].recipe


def test_unconvertible_risk_ratio_is_unavailable_with_a_reason(context):
    # Modini 2016: RR upper end 2.90 x 0.389 > 1
    reason = unavailable(context)["evidence_modini_2016"]
    assert "not a probability" in reason
    with pytest.raises(InputError, match="cannot be built"):
        get_prior("evidence_modini_2016", context)
    with pytest.raises(InputError, match="unknown prior"):
        get_prior("nope", context)


def test_evidence_table_errors_name_row_and_field(tmp_path):
    header = ",".join(evidence.COLUMNS)
    row = "A,pop,12,work,5,10,12,10,,,,,verified,u,q"
    path = tmp_path / "e.csv"
    path.write_text(f"{header}\n{row}\n")
    with pytest.raises(InputError) as err:
        evidence.load_evidence(path)
    assert "line 2" in err.value.message and "control_n" in err.value.message
    path.write_text(f"{header}\nB,pop,,work,,,,,RR,1.5,1.6,2.0,pooled,u,q\n")
    with pytest.raises(InputError, match="ci_low < estimate"):
        evidence.load_evidence(path)


# --- MAP prior ------------------------------------------------------------------------------

# BDA3 section 5.5 (Rubin 1981): the eight schools' estimated effects and standard errors.
SCHOOLS_Y = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
SCHOOLS_SE = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])


@pytest.mark.parametrize("tau", [0.0, 10.0])
def test_map_predictive_reproduces_the_closed_form_for_known_tau(tau):
    """With tau known and a flat prior on mu, theta_new | y ~ N(mu_hat, 1/sum(w) + tau²),
    w = 1/(se² + tau²) (BDA3 §5.4): the eight-schools example."""
    grid = np.linspace(-100, 100, 2001)
    logliks = -0.5 * ((grid[None, :] - SCHOOLS_Y[:, None]) / SCHOOLS_SE[:, None]) ** 2
    pred = meta_analytic.predictive(
        logliks, grid, mu_sd=1e4, tau_fixed=tau, mu_limit=40, mu_points=801
    )
    w = 1 / (SCHOOLS_SE**2 + tau**2)
    assert pred.mean == pytest.approx((w @ SCHOOLS_Y) / w.sum(), abs=1e-3)
    assert pred.sd == pytest.approx(math.sqrt(1 / w.sum() + tau**2), rel=1e-3)
    mix, ks = meta_analytic.fit_mixture(pred, 3)
    assert len(mix.weights) == 1 and ks < meta_analytic.KS_TOLERANCE
    assert mix.means[0] == pytest.approx(pred.mean, abs=0.05)
    assert mix.sds[0] == pytest.approx(pred.sd, rel=0.01)


def test_map_from_large_trials_matches_the_normal_closed_form():
    """Binomial trials of 20 000 per arm: each log-OR likelihood is normal to O(1/n), so the
    predictive must match the closed form of the normal-normal model for known tau."""
    counts = [(9000, 20000, 8000, 20000), (11000, 20000, 9000, 20000), (7000, 20000, 6500, 20000)]
    grid = np.linspace(-2, 2, 4001)
    from bayes_ips import logodds

    logliks = np.array([logodds.log_likelihood(*c, grid, alpha_sd=10.0) for c in counts])
    est = np.array(
        [math.log(a / (n - a)) - math.log(c / (m - c)) for a, n, c, m in counts], dtype=float
    )
    se = np.array([math.sqrt(1 / a + 1 / (n - a) + 1 / c + 1 / (m - c)) for a, n, c, m in counts])
    tau = 0.1
    pred = meta_analytic.predictive(logliks, grid, mu_sd=100, tau_fixed=tau, mu_limit=1)
    w = 1 / (se**2 + tau**2)
    assert pred.mean == pytest.approx((w @ est) / w.sum(), abs=2e-3)
    assert pred.sd == pytest.approx(math.sqrt(1 / w.sum() + tau**2), rel=1e-2)


def test_map_prior_is_a_robust_mixture_of_the_counted_trials(lib):
    prior = lib["map"]
    eff = prior.effect
    assert isinstance(eff, MixtureEffect)
    assert eff.weights[-1] == pytest.approx(0.2)
    assert eff.means[-1] == 0.0
    assert eff.sds[-1] == pytest.approx(math.sqrt(2 / (P0 * (1 - P0))))
    assert sum(eff.weights) == pytest.approx(1.0)
    for study in ("Hellstrom 2017", "Davis 2012", "Davis 2021"):
        assert study in prior.recipe
    assert prior.group == "meta-analytic"


# --- ESS and rate priors --------------------------------------------------------------------


def test_elir_of_a_normal_matches_its_closed_form_and_numerical_integration():
    normal = NormalEffect(0.3, 0.5)
    as_mixture = MixtureEffect((0.5, 0.5), (0.3, 0.3), (0.5, 0.5))
    # independent: E over the prior of i_prior / i_F by Gauss-Hermite
    x, w = np.polynomial.hermite.hermgauss(80)
    theta = 0.3 + math.sqrt(2) * 0.5 * x
    pt = special.expit(special.logit(P0) + theta)
    inv_info = 1 / (pt * (1 - pt)) + 1 / (P0 * (1 - P0))
    direct = (w @ inv_info) / math.sqrt(math.pi) / 0.25
    assert ess_mod.elir(normal, P0) == pytest.approx(direct, rel=1e-9)
    assert ess_mod.elir(as_mixture, P0) == pytest.approx(direct, rel=1e-6)
    # local ESS at the prior mean: (1/s²) / i_F(mean)
    assert ess_mod.local(normal, P0) == pytest.approx(inv_info_at(0.3) / 0.25, rel=1e-9)


def inv_info_at(theta: float) -> float:
    pt = special.expit(special.logit(P0) + theta)
    return 1 / (pt * (1 - pt)) + 1 / (P0 * (1 - P0))


def _mixture_information(weights, means, sds, theta):
    """``−d² log pi / d theta²`` of a normal mixture from scipy's densities: with
    ``pi' = Σ w φ · (−z / s)`` and ``pi'' = Σ w φ · (z² − 1) / s²`` (``z = (theta − m) / s``),
    ``−(log pi)'' = (pi' / pi)² − pi'' / pi``."""
    theta = np.asarray(theta, dtype=float)[..., None]
    w, m, s = (np.asarray(v, dtype=float) for v in (weights, means, sds))
    z = (theta - m) / s
    phi = w * stats.norm.pdf(theta, m, s)
    pi, d1, d2 = phi.sum(-1), (phi * -z / s).sum(-1), (phi * (z**2 - 1) / s**2).sum(-1)
    return (d1 / pi) ** 2 - d2 / pi


MIXTURE = ((0.6, 0.3, 0.1), (0.4, -0.3, 1.0), (0.3, 0.8, 3.0))
"""Unequal weights, means and SDs (none of them 1 or 0.5, where s² and 2 s or 1 / s coincide)."""


def test_local_ess_of_a_mixture_is_its_curvature_over_the_information_at_the_mean():
    effect = MixtureEffect(*MIXTURE)
    mean = float(np.dot(MIXTURE[0], MIXTURE[1]))
    info = _mixture_information(*MIXTURE, mean)
    # the curvature itself, by central differences of scipy's log density (step 1e-4: 1e-7 off)
    log_pi = lambda t: math.log(np.dot(MIXTURE[0], stats.norm.pdf(t, MIXTURE[1], MIXTURE[2])))  # noqa: E731
    h = 1e-4
    numeric = -(log_pi(mean + h) - 2 * log_pi(mean) + log_pi(mean - h)) / h**2
    assert info == pytest.approx(numeric, rel=1e-5)
    assert ess_mod.local(effect, P0) == pytest.approx(info * inv_info_at(mean), rel=1e-12)


@pytest.mark.parametrize("mixture", [MIXTURE, ((0.7, 0.3), (0.2, -0.5), (1.5, 3.0))])
def test_elir_of_a_mixture_matches_adaptive_quadrature(mixture):
    """ELIR = E_prior[i_prior / i] by scipy's quad over each component's range; the prior
    information is negative between the components, where the mixture's log density is convex."""
    weights, means, sds = mixture

    def integrand(t: float) -> float:
        pdf = np.dot(weights, stats.norm.pdf(t, means, sds))
        return pdf * _mixture_information(*mixture, t) * inv_info_at(t)

    assert min(_mixture_information(*mixture, np.linspace(-3, 3, 601))) < 0
    lo, hi = (
        min(m - 12 * s for m, s in zip(means, sds, strict=True)),
        max(m + 12 * s for m, s in zip(means, sds, strict=True)),
    )
    want = integrate.quad(integrand, lo, hi, points=list(means), limit=500, epsrel=1e-11)[0]
    assert ess_mod.elir(MixtureEffect(*mixture), P0) == pytest.approx(want, rel=1e-6)


def _log_elir_normal(mean: float, sd: float) -> float:
    """The log of the normal prior's closed-form ELIR (module docstring), written out."""
    eta0 = special.logit(P0)
    terms = [math.log(2 + 1 / (P0 * (1 - P0))), eta0 + mean + sd**2 / 2, -eta0 - mean + sd**2 / 2]
    return float(special.logsumexp(terms)) - 2 * math.log(sd)


def test_an_elir_beyond_the_float_range_is_infinite_with_its_reason_and_no_warning():
    # SDs whose ELIR is just above e^709 (finite as a float up to e^709.78) and just above the
    # float range (e^709.9), and a mixture with a component whose odds overflow (e^800): all
    # are returned as inf, never an OverflowError, a NaN or a warning
    sds = [
        optimize.brentq(lambda s, t=t: _log_elir_normal(0.0, s) - t, 30, 45) for t in (709.5, 709.9)
    ]
    assert [_log_elir_normal(0.0, s) for s in sds] == pytest.approx([709.5, 709.9], abs=1e-9)
    below = optimize.brentq(lambda s: _log_elir_normal(0.0, s) - 708.0, 30, 45)
    far = MixtureEffect((0.5, 0.5), (0.0, 800.0), (0.1, 0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ess_mod.elir(NormalEffect(0.0, below), P0) == pytest.approx(math.exp(708.0))
        for effect in [NormalEffect(0.0, s) for s in sds] + [far]:
            assert ess_mod.elir(effect, P0) == math.inf
            got = ess_mod.prior_ess(Prior("wide", "test", effect=effect), P0)
            assert got["effect_elir"] == math.inf
            assert got["effect_elir_reason"] == "beyond the floating-point range (> 1e308)"


def test_prior_ess_reports_every_definition_under_its_key_and_none_for_a_missing_part():
    effect = NormalEffect(0.2, 0.4)
    got = ess_mod.prior_ess(Prior("effect", "test", effect=effect), P0)
    assert got == {
        "effect_rate_scale": pytest.approx(_rate_scale_by_quad((1.0,), (0.2,), (0.4,)), rel=1e-6),
        "effect_rate_shape": ess_mod.rate_shape(effect, P0),
        "effect_elir": pytest.approx(math.exp(_log_elir_normal(0.2, 0.4)), rel=1e-12),
        "effect_local": pytest.approx(inv_info_at(0.2) / 0.4**2, rel=1e-12),
        "rate_control": None,
        "rate_treatment": None,
        "control_rate": P0,
        "unit": "patients per arm (1:1 allocation) at the anchor control rate",
    }
    rate = ess_mod.prior_ess(Prior("rate", "test", rate=BetaRate(2, 3, 4, 6)), 0.3)
    assert rate == {
        **dict.fromkeys(("effect_rate_scale", "effect_rate_shape", "effect_elir")),
        "effect_local": None,
        "rate_control": 5.0,
        "rate_treatment": 10.0,
        "control_rate": 0.3,
        "unit": "patients per arm (1:1 allocation) at the anchor control rate",
    }


def test_beta_ess_is_a_plus_b_and_every_prior_has_an_ess(lib):
    assert ess_mod.rate_ess(BetaRate(2, 3, 4, 6)) == {"control": 5.0, "treatment": 10.0}
    for prior in lib.values():
        e = ess_mod.prior_ess(prior, P0)
        assert e["effect_elir"] is not None or e["rate_control"] is not None
        if prior.effect is not None:
            assert e["effect_elir"] > 0 and e["effect_local"] > 0 and e["effect_rate_scale"] > 0
    assert ess_mod.trial_ess(36, 18) == pytest.approx(24.0)


def _rate_scale_by_quad(weights, means, sds) -> float:
    """Rate-scale ESS from its definition, by adaptive quadrature (independent of the grid)."""

    def moment(k, m, s):
        def f(t):
            return special.expit(special.logit(P0) + t) ** k * stats.norm.pdf(t, m, s)

        return integrate.quad(f, m - 40 * s, m + 40 * s, points=[-special.logit(P0)], limit=500)[0]

    first = sum(w * moment(1, m, s) for w, m, s in zip(weights, means, sds, strict=True))
    second = sum(w * moment(2, m, s) for w, m, s in zip(weights, means, sds, strict=True))
    spread = first * (1 - first)
    beta_count = spread / (second - first**2) - 1  # a + b of the moment-matched Beta
    # treatment-only patients -> patients per arm with the same log-OR information
    return beta_count * (1 + spread / (P0 * (1 - P0)))


@pytest.mark.parametrize(
    "weights, means, sds",
    [((1.0,), (0.0,), (2.5,)), ((1.0,), (0.2,), (0.3,)), ((0.8, 0.2), (0.9, 0.0), (0.5, 3.0))],
)
def test_rate_scale_ess_matches_its_definition(weights, means, sds):
    effect = MixtureEffect(weights, means, sds)
    assert ess_mod.rate_scale(effect, P0) == pytest.approx(
        _rate_scale_by_quad(weights, means, sds), rel=1e-6
    )


def test_rate_scale_ess_ranks_vague_priors_below_informative_ones(lib):
    """Issue 21: ELIR ranks N(0, 2.5²) above N(0, 2²); the rate-scale ESS, shown as "how much it
    claims to know", must not, and both vague priors sit below every strong or moderate one."""
    reference = _rate_scale_by_quad((1.0,), (0.0,), (lib["reference"].effect.sd,))
    weak = _rate_scale_by_quad((1.0,), (0.0,), (lib["neutral_weak"].effect.sd,))
    assert lib["reference"].effect.sd == 2.5 and lib["neutral_weak"].effect.sd == 2.0
    assert reference <= weak
    grid = [
        _rate_scale_by_quad((1.0,), (lib[n].effect.mean,), (lib[n].effect.sd,))
        for n in lib
        if n.endswith(("_strong", "_moderate"))
    ]
    assert len(grid) == 6 and weak < min(grid)
    # the shipped numbers follow the same order
    shown = {n: ess_mod.prior_ess(p, P0)["effect_rate_scale"] for n, p in lib.items()}
    assert shown["reference"] <= shown["neutral_weak"]
    assert shown["neutral_weak"] < min(
        shown[n] for n in lib if n.endswith(("_strong", "_moderate"))
    )
    # ...whereas ELIR inverts the vague pair (the reason it is not the headline ESS)
    assert ess_mod.elir(lib["reference"].effect, P0) > ess_mod.elir(lib["neutral_weak"].effect, P0)


def test_rate_scale_ess_agrees_with_local_information_for_a_tight_prior_and_vanishes_for_vague():
    tight = NormalEffect(0.1, 0.05)
    assert ess_mod.rate_scale(tight, P0) == pytest.approx(ess_mod.local(tight, P0), rel=0.01)
    sds = [2.0, 2.5, 4.0, 40.0, 1000.0]
    values = [ess_mod.rate_scale(NormalEffect(0.0, s), P0) for s in sds]
    assert values == sorted(values, reverse=True) and values[-1] < 0.01


@pytest.mark.parametrize(
    "mean, control_rate",
    [(0.0, P0), (0.7, P0), (-special.logit(P0), P0), (-2.0, 0.02), (0.7, 0.9)],
)
def test_u_shape_warning_follows_the_modes_of_the_implied_rate_density(mean, control_rate):
    """The implied treatment-rate density f(p) has an interior stationary point where
    d/dx [log pi(x - eta0) - log p - log(1 - p)] = 0 with x = logit p, i.e. where
    -(x - eta0 - mean) / s² + 2 p - 1 = 0. The roots alternate between maxima and minima and f
    falls to 0 at both ends, so an odd number of roots holds (roots + 1) / 2 modes. SDs near the
    threshold √2, beyond 12 (modes near logit p = eta0 + mean ± s², outside the ±12 SDs that
    rate_shape scans) and just below 12, where each mode lies in the scan's outermost step."""
    eta0 = special.logit(control_rate)
    cut = special.logit(0.05)
    for sd in (0.5, 1.2, 1.42, 1.45, 1.6, 2.0, 2.5, 6.0, 20.0, 12 - 0.01 / 12):
        x = np.linspace(-(3 * sd**2 + 50), 3 * sd**2 + 50, 2_000_001)
        sign = np.sign(-(x - eta0 - mean) / sd**2 + 2 * special.expit(x) - 1)
        roots = int(np.sum(np.diff(sign[sign != 0]) != 0))  # a root on a node counted once
        shape = ess_mod.rate_shape(NormalEffect(mean, sd), control_rate)
        assert shape["modes"] == (roots + 1) // 2 and shape["u_shaped"] == (roots > 1), sd
        expected = stats.norm.cdf(cut, eta0 + mean, sd) + stats.norm.sf(-cut, eta0 + mean, sd)
        assert shape["extreme_mass"] == pytest.approx(expected, rel=1e-9)
        warning = ess_mod.shape_warning(shape)
        assert warning == (
            None
            if roots == 1
            else f"⚠ U-shaped on the rate scale: {round(100 * expected)}% of the implied treatment "
            "rate lies below 5% or above 95%; vague on the log odds, informative about rates near "
            "0% and 100%"
        )


def test_effect_priors_carry_no_rate_and_rate_models_refuse_them(lib):
    """One meaning per name: an effect prior is never turned into Betas on the rates."""
    from bayes_ips.errors import InputError
    from bayes_ips.models import check_prior

    for prior in lib.values():
        if prior.name != "reference" and prior.effect is not None:
            assert prior.rate is None
            for model in ("beta_binomial", "hierarchical_beta_binomial"):
                with pytest.raises(InputError, match="rate priors only"):
                    check_prior(model, prior)
            check_prior("exact_logistic", prior)
    with pytest.raises(InputError, match="effect priors on the log OR only"):
        check_prior("hierarchical_logistic", lib["jeffreys"])
    with pytest.raises(InputError, match="only the 'reference' prior"):
        check_prior("discrete_time_hazard", lib["neutral_weak"])


def test_prior_round_trips_through_its_dict(lib):
    for prior in lib.values():
        assert Prior.from_dict(prior.as_dict()) == prior


# --- the [priors] spec section --------------------------------------------------------------


def test_user_priors_by_parameters_and_by_median_and_interval():
    settings = parse(
        {
            "mcid_or": 1.8,
            "my_params": {"log_or_mean": 0.1, "log_or_sd": 0.3, "recipe": "from a survey"},
            "my_interval": {"or_median": 1.2, "or_lower": 0.6, "or_upper": 2.4},
            "my_rates": {"rate_median": 0.4, "rate_lower": 0.2, "rate_upper": 0.62},
        },
        "spec.toml",
    )
    user = {p.name: p for p in settings.user}
    assert user["my_params"].effect == NormalEffect(0.1, 0.3)
    assert "from a survey" in user["my_params"].recipe
    eff = user["my_interval"].effect
    assert eff.mean == pytest.approx(math.log(1.2))
    assert stats.norm.ppf(0.975, eff.mean, eff.sd) == pytest.approx(math.log(2.4), abs=1e-9)
    rate = user["my_rates"].rate
    np.testing.assert_allclose(
        stats.beta.ppf([0.025, 0.5, 0.975], rate.a, rate.b), [0.2, 0.4, 0.62], rtol=0.01
    )
    assert user["my_rates"].effect is None
    ctx = PriorContext(settings, P0, "test")
    # equal, not identical: the library is cached per context, so a process that built an equal
    # context before returns the prior it parsed then
    assert get_prior("my_params", ctx) == user["my_params"]
    assert library(ctx)["my_interval"] == user["my_interval"]
    assert library(ctx)["sceptical_mcid"].effect.sd == pytest.approx(math.log(1.8) / 1.644854)


@pytest.mark.parametrize(
    ("table", "field", "rule"),
    [
        ({"mcid_rd": 1.5}, "priors.mcid_rd", "between 0 and 1"),
        ({"evidence_weight": 0}, "priors.evidence_weight", "(0, 1]"),
        ({"bogus": 1}, "priors.bogus", "unknown key"),
        ({"x": {"log_or_mean": 0.1}}, "priors.x.log_or_mean", "also give log_or_sd"),
        ({"x": {"or_median": 1.0, "or_lower": 0.9, "or_upper": 3}}, "priors.x.or_median", "middle"),
        ({"x": {"sd": 1}}, "priors.x.sd", "unknown key"),
        ({"x": {}}, "priors.x", "needs an effect"),
        ({"reference": {"log_or_mean": 0, "log_or_sd": 1}}, "priors.reference", "built-in"),
        ({"Bad-Name": {}}, "priors.Bad-Name", "lower-case"),
        ({"evidence": "missing.csv"}, None, "evidence table not found"),
    ],
)
def test_bad_priors_section_is_a_one_line_input_error(table, field, rule):
    with pytest.raises(InputError) as err:
        parse(table, "/tmp/spec.toml")
    assert rule in err.value.message
    if field is not None:
        assert f"field '{field}'" in err.value.message


def test_spec_accepts_user_defined_prior_names_and_rejects_unknown_ones(tmp_path, cli):
    from bayes_ips.pipeline import load_spec

    spec = tmp_path / "s.toml"
    spec.write_text(
        "[models.beta_binomial]\npriors = ['mine', 'map']\n[priors.mine]\nrate_a = 2\nrate_b = 2\n"
    )
    assert load_spec(spec).models["beta_binomial"] == ("mine", "map")
    spec.write_text("[models.beta_binomial]\npriors = ['mine']\n")
    code, out, err = cli("run", spec, "--out", tmp_path / "r")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "models.beta_binomial.priors" in err and "'mine'" in err
    assert not (tmp_path / "r").exists()


def test_priors_command_lists_every_prior_with_recipe_and_ess(cli, lib):
    code, out, _ = cli("priors")
    assert code == 0
    for name in lib:
        assert f"\n{name}  [" in out
    assert out.count("recipe:") == len(lib)
    assert out.count("ESS:") == len(lib)
    assert "rate scale:" in out and "ELIR:" in out and "local:" in out  # definitions stated
    reference = out[out.index("\nreference  [") : out.index("\njeffreys  [")]
    assert "(rate scale)" in reference and "⚠ U-shaped on the rate scale" in reference
    strong = out[out.index("\nneutral_strong  [") : out.index("\nneutral_moderate  [")]
    assert "U-shaped" not in strong
    assert "evidence_modini_2016  [unavailable]" in out
    assert "observed control proportion 7/18 at 12 months" in out


# --- model support -------------------------------------------------------------------------


def test_logistic_model_takes_mixture_priors_as_data_one_compiled_function(lib):
    """A mixture prior enters as fixed-size pm.Data arrays: swapping in another mixture changes
    the compiled log density of theta exactly as the mixtures' own densities differ."""
    import pymc as pm

    from bayes_ips.data import Comparison, load_trial
    from bayes_ips.models import hierarchical_logistic as hl

    counts = load_trial("package:ips_in_pain.csv").counts(Comparison()).sel(horizon=[12])
    model = hl.build_model(counts, lib["map"])
    assert hl.structure(lib["map"]) == "mixture" and hl.structure(lib["reference"]) == "normal"
    logp_point = model.compile_logp(vars=[model["theta"]])
    point = model.initial_point()

    def logp(x):
        return float(logp_point({**point, "theta": np.asarray([x])}))

    other = Prior("other", "test", effect=MixtureEffect((0.3, 0.7), (-0.5, 1.0), (0.2, 0.6)))
    for x in (-1.0, 0.0, 0.7, 2.5):
        assert logp(x) == pytest.approx(float(lib["map"].effect.logpdf(x)), abs=1e-9)
    with model:
        pm.set_data(hl.prior_data(other))
    for x in (-1.0, 0.0, 0.7, 2.5):
        assert logp(x) == pytest.approx(float(other.effect.logpdf(x)), abs=1e-9)
    dlogp = model.compile_dlogp()(model.initial_point())
    assert np.isfinite(dlogp).all()


def test_beta_binomial_models_use_each_arms_own_beta(lib):
    from bayes_ips import conjugate
    from bayes_ips.data import Comparison, load_trial

    counts = load_trial("package:ips_in_pain.csv").counts(Comparison())
    rate = BetaRate(2.0, 3.0, treatment_a=4.0, treatment_b=6.0)
    post = conjugate.posterior_parameters(counts, rate).sel(horizon=12)
    assert float(post["a"].sel(arm="IPS")) == pytest.approx(4 + 19)
    assert float(post["b"].sel(arm="IPS")) == pytest.approx(6 + 17)
    assert float(post["a"].sel(arm="TAU")) == pytest.approx(2 + 7)
    assert float(post["b"].sel(arm="TAU")) == pytest.approx(3 + 11)


@pytest.mark.slow
def test_map_quadrature_agrees_with_nuts_on_the_external_trials():
    """The exact-quadrature MAP predictive against NUTS (via bayes_ips.inference.sample) on the
    same hierarchical model over the bundled external trials' counts."""
    import arviz as az
    import pymc as pm

    from bayes_ips.inference import sample
    from bayes_ips.spec import SamplerSettings

    settings = meta_analytic.MapSettings()
    studies = meta_analytic.trials_with_counts(evidence.load_evidence())
    counts = np.array([s.counts for s in studies], dtype=float)
    with pm.Model(coords={"trial": [s.study for s in studies]}) as model:
        alpha = pm.Normal("alpha", 0, settings.alpha_sd, dims="trial")
        mu = pm.Normal("mu", 0, settings.mu_sd)
        tau = pm.HalfNormal("tau", settings.tau_scale)
        z = pm.Normal("z", 0, 1, dims="trial")
        theta = mu + tau * z
        pm.Deterministic("theta_new", mu + tau * pm.Normal("z_new", 0, 1))
        pm.Binomial("y_t", n=counts[:, 1], p=pm.math.invlogit(alpha + theta), observed=counts[:, 0])
        pm.Binomial("y_c", n=counts[:, 3], p=pm.math.invlogit(alpha), observed=counts[:, 2])
    tree = sample(model, SamplerSettings(chains=4, draws=1000, tune=1000, target_accept=0.95), 7)
    draws = tree["posterior"]["theta_new"]
    pred = meta_analytic.external_predictive(studies, settings)
    mean_mcse = float(az.mcse(draws, method="mean"))
    sd_mcse = float(az.mcse(draws, method="sd"))
    assert abs(float(draws.mean()) - pred.mean) <= 4 * mean_mcse
    assert abs(float(draws.std()) - pred.sd) <= 4 * sd_mcse
