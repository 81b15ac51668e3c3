"""Exact quadrature on the log odds ratio scale: the binomial likelihood of a two-arm comparison as
a function of the log OR alone, adaptive grids on which its posteriors are exact, and the
posterior summaries read off such a grid.

For treatment and control counts ``(y_t, n_t)``, ``(y_c, n_c)``, log odds ratio ``theta`` and
the midpoint of the two arms' log-odds ``alpha`` (symmetric parameterisation)::

    y_t   ~ Binomial(n_t, invlogit(alpha + theta/2))
    y_c   ~ Binomial(n_c, invlogit(alpha − theta/2))
    alpha ~ Normal(alpha_mean, alpha_sd²)           (default Normal(0, 1.5²))

the integrated likelihood ``L(theta) = ∫ p(y_t, y_c | alpha, theta) N(alpha; alpha_mean,
alpha_sd²) dalpha``
is computed at any ``theta`` by Laplace-centred Gauss–Hermite quadrature (the integrand is
log-concave in ``alpha``; the nodes are placed around its mode and scaled by its curvature, so the
rule is accurate for a handful of patients and for ten million). Swapping the arms gives
``L(−theta)``: every answer mirrors, and identical arms have a likelihood symmetric about 0. The
joint density is log-concave in ``(alpha, theta)``, so ``L`` is log-concave in ``theta``.

**The grid rule** (:func:`adaptive_grid`). A posterior ``pi(theta) L(theta)`` is integrated on a
grid built for it, not on a fixed one:

1. *Coarse grid*: the union of patches ``centre ± 12 scale`` (97 nodes each) around the
   likelihood (its continuity-corrected Wald estimate and SE, :func:`likelihood_location`) and
   around every normal component of the prior, a uniform cover of their hull (so a posterior
   between them, under prior-data conflict, is seen), and the required nodes (0 and any
   threshold). The grid is a mirror image of itself when the inputs are.
2. *Range*: each end is pushed outwards until the log posterior there is at least
   :data:`SPAN` (40) below its maximum, so the mass left outside is below ``e^-40`` per unit of
   the posterior's scale.
3. *Refinement*: every interval that touches the region within :data:`SPAN` of the maximum is
   halved until the log density changes by at most :data:`MAX_LOG_STEP` across it and its
   midpoint lies within :data:`MAX_BEND` of the chord (both tolerances widen by ``e^(d/4)`` where
   the interval lies ``d`` below the maximum, where its mass is negligible).

Every interval that passed is a Simpson panel (its midpoint's value is known from the check), so
integrals use Simpson's rule on the nonuniform panels; the tail beyond a panel end and the
quantiles are those of the piecewise-quadratic density Simpson's rule integrates. With these
tolerances ``P(theta > 0)`` and the quantiles of ``theta`` agree with an independent two-dimensional
quadrature to better than 1e-5 (tests: n = 10⁷ per arm, complete separation with a Normal(0, 10²)
prior, the IPS rows under every grid prior). When no grid meets the rule (a posterior that does
not fall away, such as a flat prior under complete separation, which is improper) an
:class:`~bayes_ips.errors.InputError` says so instead of returning a wrong number.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

import numpy as np
from scipy import special

from bayes_ips.errors import InputError

CONTROL_LOGIT_SD = 1.5
"""Prior SD of ``alpha`` in the logistic models, the arms' midpoint log-odds (the control
log-odds where a model has no contrast): 95% of the mass on rates between 5% and 95%."""
HERMITE_NODES = 40
NEWTON_STEPS = 200
NEWTON_MAX_STEP = 2.0
NEWTON_TOLERANCE = 1e-12
SPAN = 40.0
"""How far (in log density) below its maximum a posterior is followed before it counts as zero."""
PATCH_SDS = 12.0
PATCH_HALF = 48
"""A coarse patch has ``2 * PATCH_HALF + 1`` nodes over ``centre ± PATCH_SDS * scale``."""
HULL_HALF = 100
MAX_LOG_STEP = 0.1
MAX_BEND = 0.01
TOLERANCE_GROWTH = 4.0
REFINE_ROUNDS = 60
WIDEN_ROUNDS = 8

LogDensity = Callable[[np.ndarray], np.ndarray]


def _log_binom(y, n, eta):
    """log Binomial(y | n, invlogit(eta)) = const + y eta − n log(1 + e^eta), stable for large
    |eta|."""
    const = special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)
    return const + (y * eta - n * np.logaddexp(0, eta))


def _baseline_prior(alpha, half, alpha_sd: float, control, alpha_mean: float = 0.0):
    """The first two derivatives in ``alpha`` of the log prior density of the baseline at
    midpoint ``alpha``: Normal(alpha_mean, alpha_sd²) on ``alpha`` itself, or, when a
    control-risk prior ``control`` (:class:`bayes_ips.priors.core.ControlPrior`) is stated, that
    prior on the control log-odds ``alpha − theta/2``."""
    if control is None:
        prec = 1.0 / alpha_sd**2
        return -(alpha - alpha_mean) * prec, np.full_like(alpha, -prec)
    return control.logit_derivatives(alpha - half)


def _alpha_bracket(y_t, n_t, y_c, n_c, theta, alpha_sd: float, control, alpha_mean: float = 0.0):
    """Midpoints below which the conditional log density of ``alpha`` rises and above which it
    falls (its gradient is decreasing, and at most the events, at least minus the non-events,
    from the likelihood)."""
    events, nonevents = y_t + y_c, n_t - y_t + n_c - y_c
    if control is None:
        return (
            np.full_like(theta, alpha_mean - nonevents * alpha_sd**2 - 1.0),
            np.full_like(theta, alpha_mean + events * alpha_sd**2 + 1.0),
        )
    half = theta / 2
    if control.family == "logit_normal":
        m, s2 = control.a, control.b**2
        return half + m - nonevents * s2 - 1.0, half + m + events * s2 + 1.0
    # Beta(a, b) on the control risk, x = alpha − theta/2 its logit and N = n_t + n_c + a + b:
    # below x = min(−theta, 0) + log(a / N) − 1 both rates are below a / (e N), so the gradient
    # is at least events + a − a / e > 0; above max(−theta, 0) + log(N / b) + 1 it is negative.
    total = n_t + n_c + control.a + control.b
    lo = np.minimum(-theta, 0.0) + np.log(control.a / total) - 1.0
    hi = np.maximum(-theta, 0.0) + np.log(total / control.b) + 1.0
    return lo + half, hi + half


def alpha_mode(
    y_t: float,
    n_t: float,
    y_c: float,
    n_c: float,
    theta: np.ndarray,
    alpha_sd: float,
    control=None,
    alpha_mean: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The mode of ``alpha`` given each ``theta`` (and the data) and its Laplace SD.

    Newton's method on the log-concave conditional density, started from the pooled log-odds and
    safeguarded by a bracket (:func:`_alpha_bracket`; for the Normal(alpha_mean, alpha_sd²) prior
    the gradient is positive below ``alpha_mean − (n_t − y_t + n_c − y_c) alpha_sd²`` and
    negative above ``alpha_mean + (y_t + y_c) alpha_sd²``). A step that would leave the current
    bracket, or one longer than :data:`NEWTON_MAX_STEP` while the bracket is wider than four such
    steps, bisects the bracket instead, so the mode is found however far a large ``|theta|``
    puts it. ``control`` is a stated control-risk prior (:func:`log_joint`); both of its
    families are log-concave in the control log-odds. Under a midpoint prior both arms enter
    symmetrically, so swapped arms give the same ``alpha`` at ``−theta``.
    """
    theta = np.asarray(theta, dtype=float)
    half = theta / 2
    pooled = special.logit((y_t + y_c + 0.5) / (n_t + n_c + 1.0))
    lo, hi = _alpha_bracket(y_t, n_t, y_c, n_c, theta, alpha_sd, control, alpha_mean)
    alpha = np.clip(np.full_like(theta, pooled), lo, hi)
    step = np.full_like(theta, np.inf)
    for _ in range(NEWTON_STEPS):
        pt, pc = special.expit(alpha + half), special.expit(alpha - half)
        prior_grad, prior_hess = _baseline_prior(alpha, half, alpha_sd, control, alpha_mean)
        grad = (y_t - n_t * pt) + (y_c - n_c * pc) + prior_grad
        hess = (n_t * pt * (1 - pt) + n_c * pc * (1 - pc)) - prior_hess
        lo, hi = np.where(grad > 0, alpha, lo), np.where(grad > 0, hi, alpha)
        newton = grad / hess
        step = np.clip(newton, -NEWTON_MAX_STEP, NEWTON_MAX_STEP)
        inside = (alpha + step > lo) & (alpha + step < hi)
        long = (step != newton) & (hi - lo > 4 * NEWTON_MAX_STEP)
        keep = (inside & ~long) | (np.abs(step) < NEWTON_TOLERANCE)
        step = np.where(keep, step, (lo + hi) / 2 - alpha)
        alpha = alpha + step
        if np.max(np.abs(step), initial=0.0) < NEWTON_TOLERANCE:
            break
    pt, pc = special.expit(alpha + half), special.expit(alpha - half)
    _, prior_hess = _baseline_prior(alpha, half, alpha_sd, control, alpha_mean)
    scale = 1.0 / np.sqrt((n_t * pt * (1 - pt) + n_c * pc * (1 - pc)) - prior_hess)
    # a mode not found (not met in practice) poisons the values instead of misplacing the nodes
    alpha = np.where(np.abs(step) < NEWTON_TOLERANCE * 1e3, alpha, np.nan)
    return alpha, scale


def log_joint(
    y_t,
    n_t,
    y_c,
    n_c,
    alpha,
    theta,
    alpha_sd: float = CONTROL_LOGIT_SD,
    control=None,
    alpha_mean: float = 0.0,
):
    """``log p(y_t, y_c | alpha, theta)`` plus the log prior of the baseline (broadcasting):
    ``log N(alpha; alpha_mean, alpha_sd²)`` by default, or the stated control-risk prior ``control``
    (:class:`bayes_ips.priors.core.ControlPrior`) at the control log-odds ``alpha − theta/2``.
    The change of variables from the control log-odds to ``alpha`` at fixed ``theta`` has unit
    Jacobian."""
    half = np.asarray(theta, dtype=float) / 2
    lik = _log_binom(y_t, n_t, alpha + half) + _log_binom(y_c, n_c, alpha - half)
    if control is None:
        z = (alpha - alpha_mean) / alpha_sd
        return lik - 0.5 * z**2 - np.log(alpha_sd * np.sqrt(2 * np.pi))
    return lik + control.logpdf_logit(alpha - half)


def log_likelihood(
    y_t: float,
    n_t: float,
    y_c: float,
    n_c: float,
    theta: np.ndarray,
    alpha_sd: float = CONTROL_LOGIT_SD,
    control=None,
    alpha_mean: float = 0.0,
) -> np.ndarray:
    """``log L(theta)``: the two-arm binomial likelihood with ``alpha`` integrated out.

    Parameters
    ----------
    y_t, n_t, y_c, n_c : float
        Events and patients in the treatment and control arms.
    theta : numpy.ndarray
        Log odds ratios at which to evaluate.
    alpha_sd : float
        SD of the Normal(alpha_mean, alpha_sd²) prior on the arms' midpoint log-odds (the
        baseline prior unless ``control`` is given).
    control : ControlPrior, optional
        A stated control-risk prior, which then replaces the default: its density at the
        control log-odds ``alpha − theta/2``.
    alpha_mean : float
        Mean of the midpoint prior (default 0).

    Returns
    -------
    numpy.ndarray
        The log integrated likelihood at each ``theta`` (normalising constants included).
    """
    theta = np.asarray(theta, dtype=float)
    alpha, scale = alpha_mode(y_t, n_t, y_c, n_c, theta, alpha_sd, control, alpha_mean)
    x, log_w = _hermite()
    a = alpha[..., None] + np.sqrt(2.0) * scale[..., None] * x
    log_f = log_joint(y_t, n_t, y_c, n_c, a, theta[..., None], alpha_sd, control, alpha_mean)
    return special.logsumexp(log_f + log_w, axis=-1) + np.log(np.sqrt(2.0) * scale)


@functools.cache
def _hermite() -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Hermite nodes and the log of their weights times ``e^(x²)``."""
    x, w = np.polynomial.hermite.hermgauss(HERMITE_NODES)
    return x, x**2 + np.log(w)


def likelihood_location(y_t: float, n_t: float, y_c: float, n_c: float) -> tuple[float, float]:
    """Where the likelihood of ``theta`` lies: the continuity-corrected (+0.5) log OR and its SE.

    Used only to place the coarse grid; finite under separation, and exactly mirrored (``−``
    the estimate, same SE) when the arms are swapped.
    """
    lt = np.log((y_t + 0.5) / (n_t - y_t + 0.5))
    lc = np.log((y_c + 0.5) / (n_c - y_c + 0.5))
    se = np.sqrt(1 / (y_t + 0.5) + 1 / (n_t - y_t + 0.5) + 1 / (y_c + 0.5) + 1 / (n_c - y_c + 0.5))
    return float(lt - lc), float(se)


def _symmetric(half: int) -> np.ndarray:
    """``2 * half + 1`` evenly spaced points on [-1, 1], an exact mirror image of themselves."""
    v = np.arange(1, half + 1) / half
    return np.concatenate([-v[::-1], [0.0], v])


def coarse_grid(components: Iterable[tuple[float, float]], nodes: Iterable[float] = (0.0,)):
    """Step 1 of the grid rule: patches around ``(centre, scale)`` pairs, a cover of their hull
    and the required ``nodes``, sorted and unique."""
    comps = list(components)
    parts = [np.asarray(list(nodes), dtype=float)]
    parts += [c + PATCH_SDS * s * _symmetric(PATCH_HALF) for c, s in comps]
    lo = min(c - PATCH_SDS * s for c, s in comps)
    hi = max(c + PATCH_SDS * s for c, s in comps)
    parts.append((lo + hi) / 2 + (hi - lo) / 2 * _symmetric(HULL_HALF))
    return np.unique(np.concatenate(parts))


def _widen(x: np.ndarray, lp: np.ndarray, f: LogDensity) -> tuple[np.ndarray, np.ndarray, bool]:
    """Step 2 of the grid rule: push each end whose log density is within :data:`SPAN` of the
    maximum outwards by the current width (coarse steps). Returns the panel ends, their values
    and whether the range was widened."""
    top = lp.max()
    width = x[-1] - x[0]
    new = []
    if lp[0] > top - SPAN:
        new.append(x[0] - width * np.arange(HULL_HALF, 0, -1) / HULL_HALF)
    if lp[-1] > top - SPAN:
        new.append(x[-1] + width * np.arange(1, HULL_HALF + 1) / HULL_HALF)
    if not new:
        return x, lp, False
    extra = np.concatenate(new)
    x, lp = np.concatenate([x, extra]), np.concatenate([lp, f(extra)])
    order = np.argsort(x)
    return x[order], lp[order], True


def _refine(x: np.ndarray, lp: np.ndarray, f: LogDensity):
    """Step 3 of the grid rule: halve the panels that fail the tolerances until none does.

    Returns the panel ends, their values, the values at the panels' midpoints and whether every
    panel passed.
    """
    mid = np.full(x.size - 1, np.nan)
    passed = np.zeros(x.size - 1, dtype=bool)
    for _ in range(REFINE_ROUNDS):
        top = max(lp.max(), np.nanmax(mid, initial=-np.inf))
        upper = np.maximum(lp[:-1], lp[1:])
        idx = np.flatnonzero((upper >= top - SPAN) & ~passed)
        if idx.size == 0:
            break
        xm = (x[idx] + x[idx + 1]) / 2
        mid[idx] = f(xm)
        loosen = np.exp(np.minimum((top - upper[idx]) / TOLERANCE_GROWTH, 10.0))
        fail = (np.abs(lp[idx + 1] - lp[idx]) > MAX_LOG_STEP * loosen) | (
            np.abs(mid[idx] - (lp[idx] + lp[idx + 1]) / 2) > MAX_BEND * loosen
        )
        passed[idx[~fail]] = True
        split = idx[fail]
        x, lp = np.insert(x, split + 1, xm[fail]), np.insert(lp, split + 1, mid[split])
        # a halved panel: two unchecked ones, midpoints not yet known
        mid[split] = np.nan
        mid, passed = np.insert(mid, split, np.nan), np.insert(passed, split, False)
    else:
        return x, lp, mid, False
    todo = np.flatnonzero(np.isnan(mid))  # panels whose mass is negligible: only their midpoints
    mid[todo] = f((x[todo] + x[todo + 1]) / 2)
    return x, lp, mid, True


def adaptive_grid(
    log_density: LogDensity,
    components: Iterable[tuple[float, float]],
    nodes: Iterable[float] = (0.0,),
    quantity: str = "log OR",
) -> tuple[np.ndarray, np.ndarray]:
    """A grid on which ``exp(log_density)`` integrates exactly (the module's grid rule).

    Parameters
    ----------
    log_density : callable
        Unnormalised log posterior of ``theta``, vectorised.
    components : iterable of (centre, scale)
        Where the posterior's parts may lie: the likelihood's and each prior component's.
    nodes : iterable of float
        Values that must be panel ends (0, thresholds).
    quantity : str
        What ``theta`` is (``"log OR"`` or ``"log RR"``), for the error messages.

    Returns
    -------
    grid, log_values : numpy.ndarray
        The sorted grid of Simpson panels (odd length: ends at even indices, each panel's
        midpoint between them) and the log density at its nodes.

    Raises
    ------
    InputError
        When the density does not fall :data:`SPAN` below its maximum within
        :data:`WIDEN_ROUNDS` widenings of the range, or the refinement does not converge.
    """

    def f(theta: np.ndarray) -> np.ndarray:
        values = log_density(theta)
        if np.any(np.isnan(values) | (values == np.inf)):
            raise InputError("quadrature", f"the log posterior of the {quantity} is not finite")
        return values

    x = coarse_grid(components, nodes)
    lp = f(x)
    for _ in range(WIDEN_ROUNDS):
        x, lp, widened = _widen(x, lp, f)
        if widened:
            continue
        x, lp, mid, converged = _refine(x, lp, f)
        if not converged:
            break
        x, lp, widened = _widen(x, lp, f)
        if not widened:
            values = np.empty(2 * x.size - 1)
            values[::2], values[1::2] = lp, mid
            return with_midpoints(x), values
    raise InputError(
        "quadrature",
        f"the posterior of the {quantity} cannot be bounded on a finite grid (it does not fall "
        "away in at least one direction, e.g. a flat or very wide prior with complete "
        f"separation); use a proper, narrower prior on the {quantity}",
    )


def with_midpoints(ends: np.ndarray) -> np.ndarray:
    """A grid of Simpson panels from sorted panel ends (each panel's midpoint inserted)."""
    grid = np.empty(2 * ends.size - 1)
    grid[::2], grid[1::2] = ends, (ends[:-1] + ends[1:]) / 2
    return grid


def simpson_weights(grid: np.ndarray) -> np.ndarray:
    """Weights of Simpson's rule on a grid of panels (odd length; ends at even indices, each
    panel's midpoint between them), exact for piecewise-cubic integrands."""
    h = grid[2::2] - grid[:-2:2]
    w = np.zeros(grid.shape)
    w[:-2:2] += h / 6
    w[1::2] += 4 * h / 6
    w[2::2] += h / 6
    return w


def log_integral(log_values: np.ndarray, grid: np.ndarray) -> float:
    """``log ∫ exp(log_values)`` over a grid of Simpson panels, without overflow."""
    top = float(log_values.max())
    return top + float(np.log(np.exp(log_values - top) @ simpson_weights(grid)))


def normalised(log_values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Density on ``grid`` (last axis) from unnormalised log values: integrates to 1 (Simpson)."""
    dens = np.exp(log_values - log_values.max(axis=-1, keepdims=True))
    return dens / (dens @ simpson_weights(grid))[..., None]


def _panel_mass(density: np.ndarray, grid: np.ndarray) -> np.ndarray:
    h = grid[2::2] - grid[:-2:2]
    return h / 6 * (density[:-2:2] + 4 * density[1::2] + density[2::2])


def panel_cdf(density: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The CDF at the panel ends (even nodes) of a density, from 0 to 1."""
    c = np.concatenate([[0.0], np.cumsum(_panel_mass(density, grid))])
    return c / c[-1]


def panel_end(grid: np.ndarray, value: float) -> int:
    """The index of ``value`` among the panel ends of ``grid``, which must hold it as one."""
    ends = grid[::2]
    i = int(np.searchsorted(ends, value))
    if i == ends.size or ends[i] != value:
        raise ValueError(f"{value} is not a panel end of the grid")
    return i


def upper_tail(density: np.ndarray, grid: np.ndarray, threshold: float = 0.0) -> float:
    """``P(theta > threshold)`` of a normalised density (``threshold`` a panel end)."""
    i = panel_end(grid, threshold)
    return float(np.clip(1.0 - panel_cdf(density, grid)[i], 0.0, 1.0))


QUANTILE_BISECTIONS = 60


def quantile(density: np.ndarray, grid: np.ndarray, q) -> np.ndarray:
    """Quantiles of the density Simpson's rule integrates (quadratic through each panel's three
    nodes), by bisection on its cubic CDF within the panel."""
    q = np.asarray(q, dtype=float)
    mass = _panel_mass(density, grid)
    total = mass.sum()
    c = np.concatenate([[0.0], np.cumsum(mass)]) / total
    ends = grid[::2]
    k = np.clip(np.searchsorted(c, q, side="right") - 1, 0, ends.size - 2)
    h = ends[k + 1] - ends[k]
    f0, fm, f1 = density[2 * k], density[2 * k + 1], density[2 * k + 2]
    b, a = -3 * f0 + 4 * fm - f1, 2 * f0 - 4 * fm + 2 * f1
    target = (q - c[k]) * total
    lo, hi = np.zeros_like(h), np.ones_like(h)
    for _ in range(QUANTILE_BISECTIONS):
        t = (lo + hi) / 2
        below = h * t * (f0 + t * (b / 2 + t * a / 3)) < target
        lo, hi = np.where(below, t, lo), np.where(below, hi, t)
    return ends[k] + h * (lo + hi) / 2


def prob_benefit_normal(
    means: np.ndarray, sds: np.ndarray, loglik: np.ndarray, grid: np.ndarray
) -> np.ndarray:
    """``P(theta > 0)`` under Normal(mean, sd²) priors (broadcast ``means`` against ``sds``).

    The same quadrature as ``upper_tail(normalised(...))``, written for a heat map's thousands of
    priors: one array of unnormalised posterior densities, updated in place, and the upper tail
    and the total as two weighted sums. ``grid`` is a grid of Simpson panels with 0 a panel end,
    reaching far enough for every prior (:func:`bayes_ips.analyses.sensitivity.heatmap.map_grid`
    builds one).
    """
    m = np.asarray(means, dtype=float)[..., None]
    s = np.asarray(sds, dtype=float)[..., None]
    dens = (grid - m) / s
    np.square(dens, out=dens)
    dens *= -0.5
    dens += loglik
    dens -= dens.max(axis=-1, keepdims=True)
    np.exp(dens, out=dens)
    weights = simpson_weights(grid)
    zero = 2 * panel_end(grid, 0.0)
    tail = np.zeros_like(weights)
    tail[zero:] = simpson_weights(grid[zero:])
    return (dens @ tail) / (dens @ weights)
