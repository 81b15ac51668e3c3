"""The integrated likelihood of the log OR (Laplace-centred Gauss–Hermite quadrature) against an
independent adaptive quadrature, where the rule is hardest: a million patients per arm, where the
integrand in ``alpha`` is a needle, and very few events, where it is far from normal."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from bayes_ips import logodds
from bayes_ips.errors import InputError

ALPHA_SD = logodds.CONTROL_LOGIT_SD
DROP = 60.0
"""The reference integrates ``alpha`` over the range where the integrand is within ``e^-60`` of
its maximum: the mass left outside is negligible at any tolerance used here."""


def _log_integrand(y_t, n_t, y_c, n_c, theta, alpha_sd=ALPHA_SD):
    """``log p(y_t, y_c | alpha, theta) + log N(alpha; 0, alpha_sd²)`` from scipy's densities."""

    def f(alpha: float) -> float:
        return float(
            stats.binom.logpmf(y_t, n_t, special.expit(alpha + theta / 2))
            + stats.binom.logpmf(y_c, n_c, special.expit(alpha - theta / 2))
            + stats.norm.logpdf(alpha, 0, alpha_sd)
        )

    return f


def reference_log_likelihood(y_t, n_t, y_c, n_c, theta: float, alpha_sd=ALPHA_SD) -> float:
    """``log ∫ exp(f(alpha)) dalpha`` in log space: the maximum of ``f`` by bounded scalar
    minimisation, the range by root-finding where ``f`` falls :data:`DROP` below it, then
    ``quad`` of ``exp(f − max)`` over that range (no curvature, no Gauss–Hermite nodes)."""
    f = _log_integrand(y_t, n_t, y_c, n_c, theta, alpha_sd)
    best = optimize.minimize_scalar(
        lambda a: -f(a), bounds=(-40.0, 40.0), method="bounded", options={"xatol": 1e-12}
    )
    mode, top = float(best.x), -float(best.fun)

    def below(a: float) -> float:
        return f(a) - (top - DROP)

    step = 1e-4
    while below(mode - step) > 0:
        step *= 2
    lo = optimize.brentq(below, mode - step, mode, xtol=1e-14)
    step = 1e-4
    while below(mode + step) > 0:
        step *= 2
    hi = optimize.brentq(below, mode, mode + step, xtol=1e-14)
    value, _ = integrate.quad(
        lambda a: math.exp(f(a) - top), lo, hi, points=[mode], epsabs=0, epsrel=1e-10, limit=500
    )
    return top + math.log(value)


THETAS = (-3.0, -0.4, 0.0, 0.04, 1.5)


@pytest.mark.parametrize(
    "counts",
    [
        (500_000, 1_000_000, 480_000, 1_000_000),  # half employed: a needle in alpha
        (30, 1_000_000, 12, 1_000_000),  # rare at a million: alpha far out, posterior narrow
        (999_990, 1_000_000, 999_000, 1_000_000),  # nearly everyone
    ],
)
def test_a_million_per_arm_matches_an_independent_quadrature(counts):
    got = logodds.log_likelihood(*counts, np.array(THETAS))
    want = [reference_log_likelihood(*counts, t) for t in THETAS]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "counts",
    [
        (0, 12, 0, 15),  # no events at all
        (1, 40, 0, 40),
        (2, 3, 0, 200),  # two events, tiny treatment arm
        (0, 1, 1, 1),  # one patient per arm
        (2, 1_000_000, 0, 1_000_000),  # two events in two million
    ],
)
def test_very_few_events_match_an_independent_quadrature(counts):
    thetas = np.array([-8.0, -2.0, 0.0, 0.7, 4.0, 10.0])
    got = logodds.log_likelihood(*counts, thetas)
    want = [reference_log_likelihood(*counts, t) for t in thetas]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)


@pytest.mark.parametrize("alpha_sd", [0.4, 6.0])
def test_the_prior_sd_of_the_arms_midpoint_log_odds_is_the_one_given(alpha_sd):
    counts, thetas = (3, 40, 9, 38), np.array([-2.0, 0.0, 1.0])
    got = logodds.log_likelihood(*counts, thetas, alpha_sd=alpha_sd)
    want = [reference_log_likelihood(*counts, t, alpha_sd) for t in thetas]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)


def test_a_scalar_or_a_grid_of_log_ors_keeps_its_shape():
    counts, thetas = (3, 40, 9, 38), np.array([[-2.0, 0.0], [1.0, 0.5]])
    want = [[reference_log_likelihood(*counts, t) for t in row] for row in thetas]
    np.testing.assert_allclose(logodds.log_likelihood(*counts, thetas), want, rtol=0, atol=1e-7)
    assert logodds.log_likelihood(*counts, 0.5) == pytest.approx(want[1][1], abs=1e-7)


def test_swapped_arms_mirror_the_likelihood():
    thetas = np.array([-2.5, -0.3, 0.0, 0.3, 2.5])
    got = logodds.log_likelihood(2, 1_000_000, 0, 900_000, thetas)
    mirrored = logodds.log_likelihood(0, 900_000, 2, 1_000_000, -thetas)
    np.testing.assert_allclose(got, mirrored, rtol=0, atol=1e-9)


# --- quantiles and P(benefit) read off a grid of Simpson panels ----------------------------------


def _power_density(ends: np.ndarray, scale: float = 5.0):
    """``scale * x²`` on panels with the given ends in [0, 1]: Simpson's piecewise quadratic is
    the density itself, so its quantiles are those of the CDF ``x³``, ``q^(1/3)``, exactly."""
    grid = logodds.with_midpoints(ends)
    return scale * grid**2, grid


@pytest.mark.parametrize(
    "ends",
    [np.linspace(0.0, 1.0, 5), np.array([0.0, 0.5, 0.6, 0.62, 0.9, 1.0])],
    ids=["uniform", "uneven"],
)
def test_quantiles_of_a_quadratic_density_are_exact_in_every_panel(ends):
    density, grid = _power_density(ends)
    # in the first panel, on a panel end, inside the last panel, and both ends of the range
    q = np.array([0.0, 1e-4, 0.003, 0.125, 0.5, 0.8, 0.95, 1.0])
    got = logodds.quantile(density, grid, q)
    np.testing.assert_allclose(got, np.cbrt(q), rtol=0, atol=1e-14)


@pytest.mark.parametrize("ends", [np.linspace(0.0, 1.0, 5), np.array([0.0, 0.3, 0.31, 1.0])])
def test_the_cdf_and_upper_tail_at_every_panel_end_are_exact(ends):
    density, grid = _power_density(ends)  # unnormalised: 5/3 in all
    np.testing.assert_allclose(logodds.panel_cdf(density, grid), ends**3, rtol=0, atol=1e-15)
    normalised = logodds.normalised(np.log(np.maximum(density, 1e-300)), grid)
    tails = [logodds.upper_tail(normalised, grid, e) for e in ends]
    np.testing.assert_allclose(tails, 1 - ends**3, rtol=0, atol=1e-15)


def test_each_row_of_log_values_is_normalised_on_its_own_at_any_level():
    # rows of log(5 x²) at levels 0, +800 (e^800 overflows) and -2000 (e^-2000 underflows, and
    # is e^-2800 of the top row): each is the density 3 x², which integrates to 1
    density, grid = _power_density(np.linspace(0.0, 1.0, 5))
    with np.errstate(divide="ignore"):  # log 0 at x = 0: density 0 there
        log_values = np.log(density) + np.array([[0.0], [800.0], [-2000.0]])
    got = logodds.normalised(log_values, grid)
    # log values near 2000 are rounded by about 2000 * 2.2e-16 = 4.4e-13: relative, after exp
    np.testing.assert_allclose(got, np.broadcast_to(3 * grid**2, got.shape), rtol=1e-12, atol=0)


def test_a_threshold_off_the_panel_ends_is_refused_by_name():
    grid = logodds.with_midpoints(np.linspace(0.0, 1.0, 5))  # ends 0, 0.25, ..., 1
    assert [logodds.panel_end(grid, e) for e in (0.0, 0.5, 1.0)] == [0, 2, 4]
    for value in (0.125, 0.3, 1.5, -0.1):  # a midpoint, between nodes, beyond either end
        with pytest.raises(ValueError, match=f"^{value} is not a panel end of the grid$"):
            logodds.panel_end(grid, value)


def test_a_quantile_of_zero_is_where_the_density_starts():
    # no mass on [0, 1]; then scale * (x - 1)² on [1, 2]: CDF (x - 1)³
    ends = np.linspace(0.0, 2.0, 9)
    grid = logodds.with_midpoints(ends)
    density = np.where(grid > 1.0, 3.0 * (grid - 1.0) ** 2, 0.0)
    got = logodds.quantile(density, grid, [0.0, 0.001, 1.0])
    np.testing.assert_allclose(got, [1.0, 1.1, 2.0], rtol=0, atol=1e-14)


def test_p_benefit_under_normal_priors_is_the_conjugate_normal_answer_even_in_conflict():
    # a normal likelihood, theta ~ N(5, 0.1²) up to a constant, so each posterior is normal with
    # a closed form. The second prior conflicts with the data by 50 SDs: its posterior density is
    # e^-2450 of the first one's, far below the float range unless each row is scaled by its own
    # maximum. The constant added to the log-likelihood must not matter either.
    ends = np.arange(-2400, 2401) / 200  # [-12, 12], steps of 0.005, 0 a panel end
    grid = logodds.with_midpoints(ends)
    like_mean, like_sd = 5.0, 0.1
    loglik = -0.5 * ((grid - like_mean) / like_sd) ** 2
    means, sds = np.array([0.0, -4.9, 5.0]), np.array([1.0, 0.1, 2.0])
    precision = 1 / sds**2 + 1 / like_sd**2
    post_mean = (means / sds**2 + like_mean / like_sd**2) / precision
    want = stats.norm.sf(0.0, post_mean, 1 / np.sqrt(precision))
    for shift in (0.0, -900.0, 900.0):
        got = logodds.prob_benefit_normal(means, sds, loglik + shift, grid)
        # Simpson's error on panels of 0.01 for posterior SDs of at least 0.07: below 1e-7
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)
    assert 0.7 < want[1] < 0.8  # the conflicting prior's posterior straddles 0


# --- the grid rule, step by step (module docstring of logodds) ---------------------------------


@pytest.mark.parametrize("half", [1, 2, 3, logodds.PATCH_HALF, logodds.HULL_HALF])
def test_symmetric_points_are_even_on_minus_one_to_one_and_an_exact_mirror(half):
    x = logodds._symmetric(half)
    assert x.shape == (2 * half + 1,)
    np.testing.assert_allclose(x, np.linspace(-1.0, 1.0, 2 * half + 1), rtol=0, atol=1e-15)
    assert np.array_equal(x, -x[::-1])  # bit for bit
    assert (x[0], x[half], x[-1]) == (-1.0, 0.0, 1.0)


def _merged(points: np.ndarray, tol: float) -> np.ndarray:
    """Sorted points with those within ``tol`` of the previous one dropped (rounding twins)."""
    points = np.sort(points)
    return points[np.concatenate([[True], np.diff(points) > tol])]


def test_the_coarse_grid_is_the_nodes_the_patches_and_a_cover_of_their_hull():
    # three patches: [-8.74, 2.54], [0.7, 7.9] and [-0.426, 0.846]; the hull's ends come from the
    # first two
    comps = [(-3.1, 0.47), (4.3, 0.3), (0.21, 0.053)]
    nodes = (0, 2, 0.1)  # integers among them
    got = logodds.coarse_grid(comps, nodes)
    k = logodds.PATCH_SDS
    patches = [np.linspace(c - k * s, c + k * s, 2 * logodds.PATCH_HALF + 1) for c, s in comps]
    hull = np.linspace(-3.1 - k * 0.47, 4.3 + k * 0.3, 2 * logodds.HULL_HALF + 1)
    want = np.unique(np.concatenate([nodes, *patches, hull]))
    assert got.dtype == np.float64
    assert np.all(np.diff(got) > 0)  # sorted and unique
    assert set(nodes) <= set(got.tolist())  # required nodes are there exactly
    # points computed two ways differ by rounding (1e-15): compare after merging such twins
    tol = 1e-12
    assert np.diff(want).max() > 1e3 * tol  # no real neighbours are merged
    got, want = _merged(got, tol), _merged(want, tol)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)


def test_exact_numbers_as_required_nodes_give_a_float_grid():
    from decimal import Decimal
    from fractions import Fraction

    got = logodds.coarse_grid([(0.0, 1.0)], (Fraction(1, 3), Decimal("0.05")))
    assert got.dtype == np.float64
    assert {1 / 3, 0.05} <= set(got.tolist())


class _Counted:
    """A log density ``-t/7 - t²/50`` (any smooth function would do) that records its calls."""

    def __init__(self):
        self.calls: list[np.ndarray] = []

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        self.calls.append(t.copy())
        return -t / 7 - t**2 / 50


WIDEN_ENDS = {  # log density at the left and right end; the maximum, 0, is inside
    "left": (-39.5, -40.0),  # exactly SPAN below counts as far enough
    "right": (-45.0, -1.0),
    "both": (-3.0, -39.999),
    "neither": (-40.0, -80.0),
}


@pytest.mark.parametrize("case", WIDEN_ENDS)
def test_widening_pushes_out_each_end_still_within_span_of_the_maximum(case):
    x = np.linspace(-1.0, 2.0, 31)  # width 3, not centred on 0
    lp = np.linspace(-2.0, -3.0, 31)
    lp[0], lp[-1] = WIDEN_ENDS[case]
    lp[17] = 0.0
    f = _Counted()
    got_x, got_lp, widened = logodds._widen(x, lp, f)
    n = logodds.HULL_HALF
    left = np.linspace(-4.0, -1.0, n + 1)[:-1]  # n even steps out to x[0] - width
    right = np.linspace(2.0, 5.0, n + 1)[1:]
    new = {"left": left, "right": right, "both": np.concatenate([left, right]), "neither": []}
    new = np.asarray(new[case], dtype=float)
    if case == "neither":
        assert widened is False and got_x is x and got_lp is lp and f.calls == []
        return
    assert widened is True
    assert len(f.calls) == 1 and f.calls[0].size == new.size  # one call, the new points only
    assert got_x.shape == got_lp.shape == (x.size + new.size,)
    assert np.all(np.diff(got_x) > 0)
    old = np.isin(got_x, x)
    assert old.sum() == x.size
    np.testing.assert_array_equal(got_lp[old], lp)  # the known values kept, in order
    np.testing.assert_allclose(got_x[~old], new, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(got_lp[~old], f(got_x[~old]))  # each value at its own point


def _passes(a: float, b: float, fa: float, fm: float, fb: float, top: float) -> bool:
    """The refinement's tolerances for one panel, as the module docstring states them."""
    loosen = math.exp((top - max(fa, fb)) / logodds.TOLERANCE_GROWTH)
    step_ok = abs(fb - fa) <= logodds.MAX_LOG_STEP * loosen
    return step_ok and abs(fm - (fa + fb) / 2) <= logodds.MAX_BEND * loosen


def _halved_until_passing(x: np.ndarray, f, top: float) -> np.ndarray:
    """Panel ends after halving, depth first, each panel that touches the region within SPAN of
    ``top`` until it passes: the minimal refinement when the maximum ``top`` is at a node."""

    def value(t: float) -> float:
        return float(f(np.array([t]))[0])

    def ends(a: float, b: float) -> list[float]:
        fa, fb, m = value(a), value(b), (a + b) / 2
        if max(fa, fb) < top - logodds.SPAN or _passes(a, b, fa, value(m), fb, top):
            return [a]
        return ends(a, m) + ends(m, b)

    out = [e for a, b in itertools.pairwise(x) for e in ends(a, b)]
    return np.array([*out, x[-1]])


def _check_refined(x, lp, mid, f):
    """Postconditions of a refinement: values at every end and midpoint, and every panel within
    SPAN of the maximum within the (loosened) tolerances."""
    assert np.all(np.diff(x) > 0)
    # f is evaluated on other arrays than here: allow for a rounding difference
    np.testing.assert_allclose(lp, f(x), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(mid, f((x[:-1] + x[1:]) / 2), rtol=1e-15, atol=1e-15)
    top = max(lp.max(), mid.max())
    for i in np.flatnonzero(np.maximum(lp[:-1], lp[1:]) >= top - logodds.SPAN):
        assert _passes(x[i], x[i + 1], lp[i], mid[i], lp[i + 1], top), (x[i], x[i + 1])


REFINE_CASES = {  # log densities with their maximum at 0, a node of the starting grid
    "normal": (lambda t: -0.5 * (t / 0.7) ** 2, np.linspace(-30.0, 30.0, 13)),
    "skewed": (lambda t: t - np.expm1(t), np.linspace(-60.0, 6.0, 23)),  # Gumbel: e^t tail
    "far tail": (lambda t: -3 * np.log1p(t**2 / 5), np.linspace(-4000.0, 4000.0, 41)),
    "flat top": (lambda t: -0.5 * (t / 3) ** 2, np.linspace(-10.0, 10.0, 5)),  # all within SPAN
}


@pytest.mark.parametrize("case", REFINE_CASES)
def test_refinement_halves_exactly_the_panels_that_fail_until_all_pass(case):
    f, x0 = REFINE_CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning reaches the user
        x, lp, mid, converged = logodds._refine(x0, f(x0), f)
    assert converged is True
    _check_refined(x, lp, mid, f)
    # the minimal refinement: a panel that passes is not split
    np.testing.assert_array_equal(x, _halved_until_passing(x0, f, top=float(f(np.zeros(1))[0])))
    assert x.size > 3 * x0.size
    if case != "flat top":  # negligible panels, left as they were (only their midpoints known)
        assert np.any(np.maximum(lp[:-1], lp[1:]) < lp.max() - logodds.SPAN)


def test_a_grid_that_already_passes_comes_back_unchanged():
    x0 = np.linspace(-12.0, 12.0, 481)  # steps of 0.05 for N(0, 1): |Δlp| <= 0.061 e^(d/4)

    def f(t):
        return -0.5 * t**2

    x, lp, mid, converged = logodds._refine(x0, f(x0), f)
    assert converged is True
    assert np.array_equal(x, x0)
    np.testing.assert_array_equal(lp, f(x0))
    np.testing.assert_allclose(mid, f((x0[:-1] + x0[1:]) / 2), rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize(
    "bump",  # on [1, 2] only: too steep (0.15 > 0.1), or bent at its midpoint (0.025 > 0.01)
    [lambda t: 0.15 * np.clip(t - 1, 0, 1), lambda t: -0.05 * np.clip(0.5 - np.abs(t - 1.5), 0, 1)],
    ids=["step", "bend"],
)
def test_one_failing_panel_gets_exactly_one_split(bump):
    x0 = np.array([-1.0, 0.0, 1.0, 2.0, 3.0])
    x, lp, mid, converged = logodds._refine(x0, bump(x0), bump)
    assert converged is True
    assert np.array_equal(x, [-1.0, 0.0, 1.0, 1.5, 2.0, 3.0])
    np.testing.assert_array_equal(lp, bump(x))
    np.testing.assert_array_equal(mid, bump(np.array([-0.5, 0.5, 1.25, 1.75, 2.5])))


@pytest.mark.parametrize(
    "bump",  # on [1, 2] at the maximum: a change of exactly 0.1, or a bend of exactly 0.01
    [lambda t: 0.1 * np.clip(t - 1, 0, 1), lambda t: -0.02 * np.clip(0.5 - np.abs(t - 1.5), 0, 1)],
    ids=["step", "bend"],
)
def test_a_panel_exactly_at_a_tolerance_passes(bump):
    x0 = np.array([-1.0, 0.0, 1.0, 2.0, 3.0])
    x, _, _, converged = logodds._refine(x0, bump(x0), bump)
    assert converged is True
    assert np.array_equal(x, x0)  # "at most": equality passes


def test_a_refinement_that_cannot_converge_says_so():
    def jump(t):  # a log density that jumps by 5 at 0.3: no panel across it ever passes
        return np.where(t < 0.3, 0.0, -5.0)

    x0 = np.linspace(-1.0, 1.0, 9)
    *_, converged = logodds._refine(x0, jump(x0), jump)
    assert converged is False


def _integral(grid: np.ndarray, log_values: np.ndarray) -> float:
    return float(np.exp(log_values) @ logodds.simpson_weights(grid))


def _quad(f, lo: float, hi: float, points=()) -> float:
    value, _ = integrate.quad(
        lambda t: math.exp(f(np.array([t]))[0]),
        lo,
        hi,
        points=points,
        epsabs=0,
        epsrel=1e-12,
        limit=500,
    )
    return value


GRID_RTOL = 1e-6
"""The grid rule's Simpson integral against quad (measured: 6e-8 for a normal, 3e-8 for a far
mixture, 3e-10 for a Gumbel); its documented accuracy is 1e-5 for probabilities and quantiles."""


def test_the_grid_integrates_a_normal():
    def f(t):
        return stats.norm.logpdf(t, 1.3, 0.7)

    grid, values = logodds.adaptive_grid(f, [(1.3, 0.7)], nodes=(0.0, 0.25))
    assert grid.size % 2 == 1
    np.testing.assert_array_equal(values, f(grid))
    assert {0.0, 0.25} <= set(grid[::2].tolist())
    want = _quad(f, 1.3 - 20, 1.3 + 20, points=[1.3])
    assert _integral(grid, values) == pytest.approx(want, rel=GRID_RTOL, abs=0)


def test_the_range_is_widened_to_a_mode_the_components_missed():
    # the components know only the first normal, so the coarse grid is [-12, 12]: the second,
    # centred at 20, is reached by widening to the right only
    def f(t):
        return np.logaddexp(stats.norm.logpdf(t, 0, 1), stats.norm.logpdf(t, 20, 3)) - math.log(2)

    grid, values = logodds.adaptive_grid(f, [(0.0, 1.0)])
    top = values.max()
    assert grid[0] == -12.0  # not widened on the left
    assert grid[-1] > 20 + 3 * math.sqrt(2 * logodds.SPAN)  # beyond where the second falls SPAN
    assert values[0] <= top - logodds.SPAN and values[-1] <= top - logodds.SPAN
    want = _quad(f, -20, 12, points=[0]) + _quad(f, 12, 80, points=[20])
    assert _integral(grid, values) == pytest.approx(want, rel=GRID_RTOL, abs=0)


@pytest.mark.parametrize("mirror", [1, -1], ids=["left", "right"])
def test_the_range_is_widened_on_the_side_where_the_mass_is_missed(mirror):
    # Gumbel log density m t - e^(m t) (maximum -1 at 0): a long linear tail on the left (on the
    # right when mirrored), a steep one on the other side. The coarse grid m (1 ± 3.6) already
    # reaches e^-95 on the steep side; widening must follow the linear tail below -41
    def f(t):
        return mirror * t - np.exp(mirror * t)

    grid, values = logodds.adaptive_grid(f, [(mirror * 1.0, 0.3)])
    steep_end, tail_end = (grid[-1], grid[0]) if mirror == 1 else (grid[0], grid[-1])
    assert steep_end == pytest.approx(mirror * 4.6, abs=1e-12)  # the coarse grid's end, kept
    assert mirror * tail_end < -1 - logodds.SPAN
    want = _quad(f, *sorted([mirror * -60.0, mirror * 4.6]), points=[0.0])
    assert _integral(grid, values) == pytest.approx(want, rel=GRID_RTOL, abs=0)


UNBOUNDED = (
    "the posterior of the log OR cannot be bounded on a finite grid (it does not fall away in at "
    "least one direction, e.g. a flat or very wide prior with complete separation); use a "
    "proper, narrower prior on the log OR"
)
"""The whole message a user reads (exit 2) when the grid rule gives up, written out here."""


def test_a_density_that_never_falls_away_is_refused():
    with pytest.raises(InputError) as flat:
        logodds.adaptive_grid(lambda t: -np.abs(t) / 1e6, [(0.0, 1.0)])
    with pytest.raises(InputError) as jump:  # no convergence
        logodds.adaptive_grid(lambda t: np.where(t < 0.3, 0.0, -5.0) - t**2, [(0.0, 1.0)])
    for err in (flat.value, jump.value):
        assert (err.source, err.rule) == ("quadrature", UNBOUNDED)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_log_density_that_is_not_finite_is_refused(bad):
    def f(t):
        return np.where(t > 3, bad, -0.5 * t**2)

    with pytest.raises(InputError) as err:
        logodds.adaptive_grid(f, [(0.0, 1.0)])
    assert (err.value.source, err.value.rule) == (
        "quadrature",
        "the log posterior of the log OR is not finite",
    )


def _mode_by_root_finding(y_t, n_t, y_c, n_c, theta, alpha_sd):
    """The conditional mode of ``alpha`` as the root of its gradient, by scipy's ``brentq`` over
    a bracket wide enough for any data (the gradient is decreasing in ``alpha``)."""

    def grad(a):
        return (
            (y_t - n_t * special.expit(a + theta / 2))
            + (y_c - n_c * special.expit(a - theta / 2))
            - a / alpha_sd**2
        )

    wide = (n_t + n_c) * alpha_sd**2 + abs(theta) + 10.0
    return optimize.brentq(grad, -wide, wide, xtol=1e-13, rtol=1e-15, maxiter=2000)


MODE_CASES = [
    (19, 36, 7, 18),  # the trial at 12 months
    (0, 10, 0, 10),  # no events
    (10, 10, 10, 10),  # every participant an event
    (10**4, 10**4, 10**4, 10**4),  # ... of 10,000 per arm
    (1, 1, 0, 1),  # one per arm
    (0, 10**6, 2, 10**6),  # rare events at a million per arm
    (5 * 10**6, 10**7, 1, 10**7),  # ten million per arm, one arm nearly without events
]


@pytest.mark.parametrize(("y_t", "n_t", "y_c", "n_c"), MODE_CASES)
@pytest.mark.parametrize("alpha_sd", [0.1, ALPHA_SD, 1000.0])
def test_alpha_mode_is_the_root_of_the_conditional_gradient_for_any_theta(
    y_t, n_t, y_c, n_c, alpha_sd
):
    """The safeguarded Newton search finds the mode (and its Laplace SD) from the pooled start,
    for log ORs from 0 to millions, where the mode lies up to about its bracket's end (the
    docstring's "however far a large |theta| puts it"): the same answer as a bracketing
    root-finder, never a NaN."""
    theta = np.array([-3e6, -1e4, -3000.0, -200.0, -20.0, -1.0, 0.0, 0.5, 20.0, 200.0, 1e4, 3e6])
    alpha, scale = logodds.alpha_mode(y_t, n_t, y_c, n_c, theta, alpha_sd)
    want = np.array([_mode_by_root_finding(y_t, n_t, y_c, n_c, t, alpha_sd) for t in theta])
    np.testing.assert_allclose(alpha, want, rtol=1e-10, atol=1e-9)
    # p(1 - p) as expit(x) expit(-x), without cancellation; the search forms 1 - p, which loses
    # digits where p is within about 1e-9 of 1 (10,000 events of 10,000): 1e-6 relative is ample
    # for a scale that only places the Gauss-Hermite nodes
    x_t, x_c = want + theta / 2, want - theta / 2
    info = (
        n_t * special.expit(x_t) * special.expit(-x_t)
        + n_c * special.expit(x_c) * special.expit(-x_c)
        + 1 / alpha_sd**2
    )
    np.testing.assert_allclose(scale, 1 / np.sqrt(info), rtol=1e-6)
    # both arms enter symmetrically: swapped arms give the same alpha at -theta
    swapped, _ = logodds.alpha_mode(y_c, n_c, y_t, n_t, -theta, alpha_sd)
    np.testing.assert_allclose(swapped, alpha, rtol=1e-10, atol=1e-9)


def test_alpha_mode_of_no_log_or_is_empty():
    alpha, scale = logodds.alpha_mode(19, 36, 7, 18, np.array([]), ALPHA_SD)
    assert alpha.shape == scale.shape == (0,)


def test_alpha_mode_takes_integer_log_ors_as_numbers():
    """An integer array of log ORs gives the same modes as the same values in floating point
    (the search must not inherit the integer dtype)."""
    theta = np.array([-40, -3, 0, 2, 25])
    got = logodds.alpha_mode(19, 36, 7, 18, theta, ALPHA_SD)
    want = logodds.alpha_mode(19, 36, 7, 18, theta.astype(float), ALPHA_SD)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
