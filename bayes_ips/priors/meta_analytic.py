"""The meta-analytic-predictive (MAP) prior (Neuenschwander et al., Clin Trials 2010; Schmidli et
al., Biometrics 2014; the RBesT idea) for the log odds ratio of a new trial.

Model over the external trials ``i`` with counts (rows of the evidence table that give them)::

    y_t[i] ~ Binomial(n_t[i], invlogit(alpha[i] + theta[i] / 2))
    y_c[i] ~ Binomial(n_c[i], invlogit(alpha[i] − theta[i] / 2))
    alpha[i] ~ Normal(0, alpha_sd²)           trial-specific midpoint log-odds (nuisance)
    theta[i] ~ Normal(mu, tau²)               trial log ORs, exchangeable
    mu ~ Normal(0, mu_sd²),  tau ~ HalfNormal(tau_scale)

The MAP prior is the predictive distribution of a new trial's ``theta* ~ Normal(mu, tau²)`` given
the data. It is computed **exactly by quadrature**, not by MCMC: each trial's likelihood of
``theta[i]`` with ``alpha[i]`` integrated out comes from :func:`bayes_ips.logodds.log_likelihood`;
``theta[i]`` is integrated against Normal(mu, tau²) cell by cell (differences of normal CDFs over
the cells of a fine ``theta`` grid, exact for any ``tau`` including 0); the posterior of
``(mu, tau)`` lives on a 161 × 60 grid; the predictive is the posterior mixture of
Normal(mu, tau²). With three to a few dozen trials this is faster than sampling, deterministic, and
its error is controlled by the grid (checked in the tests against closed forms and, in the slow
tests, against NUTS via :func:`bayes_ips.inference.sample`).

The predictive density is then approximated by a mixture of normals fitted by weighted EM on the
grid (the smallest number of components, up to ``max_components``, whose CDF is within
:data:`KS_TOLERANCE` of the exact one), and robustified by mixing in a vague component with weight
``robust_weight`` (0.2 by default): Normal(robust_mean, robust_sd²), by default centred on no effect
with the SD of one patient per arm's worth of information at the anchor control rate (RBesT's
unit-information choice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from bayes_ips import logodds
from bayes_ips.priors.community import effect_prior
from bayes_ips.priors.core import MixtureEffect, Prior
from bayes_ips.priors.evidence import Study

NAME = "map"
THETA_LIMIT = 6.0
THETA_POINTS = 601
MU_LIMIT = 4.0
MU_POINTS = 161
TAU_POINTS = 60
TAU_SCALES = 4.0
KS_TOLERANCE = 0.005
EM_STEPS = 500


@dataclass(frozen=True)
class MapSettings:
    """Settings of the MAP prior (``[priors]`` keys ``map_*``)."""

    mu_sd: float = 2.0
    tau_scale: float = 0.5
    alpha_sd: float = 2.0
    robust_weight: float = 0.2
    robust_mean: float = 0.0
    robust_sd: float | None = None
    """None: the unit-information SD at the anchor control rate."""
    max_components: int = 3


@dataclass(frozen=True)
class Predictive:
    """The exact predictive distribution of a new trial's log OR on a grid."""

    grid: np.ndarray
    probabilities: np.ndarray
    """Probability of each grid cell (sums to 1)."""
    mean: float
    sd: float
    mu_mean: float
    mu_sd: float
    tau_mean: float

    def cdf_at_edges(self) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(self.probabilities)])

    @property
    def edges(self) -> np.ndarray:
        step = self.grid[1] - self.grid[0]
        return np.concatenate([self.grid - step / 2, [self.grid[-1] + step / 2]])


def predictive(
    logliks: np.ndarray,
    grid: np.ndarray,
    *,
    mu_sd: float,
    tau_scale: float | None = None,
    tau_fixed: float | None = None,
    mu_limit: float = MU_LIMIT,
    mu_points: int = MU_POINTS,
) -> Predictive:
    """Predictive distribution of ``theta* ~ Normal(mu, tau²)`` given trial likelihoods.

    Parameters
    ----------
    logliks : numpy.ndarray
        ``(trials, len(grid))`` log likelihood of each trial's own log OR on ``grid``.
    grid : numpy.ndarray
        Uniform grid of log OR values.
    mu_sd : float
        SD of the Normal(0, mu_sd²) prior on ``mu``.
    tau_scale, tau_fixed : float, optional
        HalfNormal(tau_scale) prior on ``tau``, or ``tau`` known and equal to ``tau_fixed``.
    mu_limit, mu_points : float, int
        The ``mu`` grid: ``mu_points`` points from ``-mu_limit`` to ``mu_limit``.
    """
    step = grid[1] - grid[0]
    edges = np.concatenate([grid - step / 2, [grid[-1] + step / 2]])
    mu = np.linspace(-mu_limit, mu_limit, mu_points)
    if tau_fixed is not None:
        tau, log_tau_prior = np.array([max(tau_fixed, 1e-12)]), np.zeros(1)
    else:
        assert tau_scale is not None
        t_max = TAU_SCALES * tau_scale
        tau = (np.arange(TAU_POINTS) + 0.5) * t_max / TAU_POINTS
        log_tau_prior = stats.halfnorm.logpdf(tau, scale=tau_scale)
    lik = np.exp(logliks - logliks.max(axis=1, keepdims=True)).T  # (grid, trials)

    def kernel(t: float) -> np.ndarray:
        return np.diff(special.ndtr((edges[None, :] - mu[:, None]) / t), axis=1)

    kernels = [kernel(t) for t in tau]
    with np.errstate(divide="ignore"):
        log_post = np.array([np.log(k @ lik).sum(axis=1) for k in kernels])
    log_post += log_tau_prior[:, None] + stats.norm.logpdf(mu, 0, mu_sd)[None, :]
    post = np.exp(log_post - log_post.max())
    post /= post.sum()
    probs = sum(post[k] @ kernels[k] for k in range(len(tau)))
    probs /= probs.sum()
    p_mu, p_tau = post.sum(0), post.sum(1)
    mu_mean = float(p_mu @ mu)
    mu_var = float(p_mu @ mu**2) - mu_mean**2
    return Predictive(
        grid=grid,
        probabilities=probs,
        mean=mu_mean,
        sd=math.sqrt(mu_var + float(p_tau @ tau**2)),
        mu_mean=mu_mean,
        mu_sd=math.sqrt(mu_var),
        tau_mean=float(p_tau @ tau),
    )


def _em(x: np.ndarray, p: np.ndarray, k: int, floor: float) -> MixtureEffect:
    """Weighted EM for a k-component normal mixture on points ``x`` with probabilities ``p``."""
    cdf = np.cumsum(p)
    means = np.array([x[np.searchsorted(cdf, (i + 0.5) / k)] for i in range(k)])
    total_sd = math.sqrt(p @ x**2 - (p @ x) ** 2)
    sds = np.full(k, total_sd / math.sqrt(k))
    weights = np.full(k, 1.0 / k)
    last = -np.inf
    for _ in range(EM_STEPS):
        log_c = np.log(weights) + stats.norm.logpdf(x[:, None], means, sds)
        norm = special.logsumexp(log_c, axis=1, keepdims=True)
        r = np.exp(log_c - norm) * p[:, None]
        nk = r.sum(0)
        weights = nk / nk.sum()
        means = (r * x[:, None]).sum(0) / nk
        sds = np.maximum(np.sqrt((r * (x[:, None] - means) ** 2).sum(0) / nk), floor)
        ll = float(p @ norm[:, 0])
        if ll - last < 1e-9:
            break
        last = ll
    order = np.argsort(-weights)
    return MixtureEffect(
        tuple(float(v) for v in weights[order] / weights.sum()),
        tuple(float(v) for v in means[order]),
        tuple(float(v) for v in sds[order]),
    )


def ks_distance(mixture: MixtureEffect, pred: Predictive) -> float:
    """Largest absolute difference between the mixture's CDF and the exact predictive CDF."""
    return float(np.max(np.abs(mixture.cdf(pred.edges) - pred.cdf_at_edges())))


def fit_mixture(pred: Predictive, max_components: int) -> tuple[MixtureEffect, float]:
    """The smallest normal mixture within :data:`KS_TOLERANCE` (or the best with
    ``max_components``), and its Kolmogorov distance to the exact predictive."""
    step = pred.grid[1] - pred.grid[0]
    best = None
    for k in range(1, max_components + 1):
        mix = _em(pred.grid, pred.probabilities, k, step)
        ks = ks_distance(mix, pred)
        if best is None or ks < best[1]:
            best = (mix, ks)
        if ks < KS_TOLERANCE:
            break
    assert best is not None
    return best


def robustify(mix: MixtureEffect, weight: float, mean: float, sd: float) -> MixtureEffect:
    """Mix in a vague Normal(mean, sd²) component with weight ``weight``."""
    if weight == 0:
        return mix
    return MixtureEffect(
        (*(w * (1 - weight) for w in mix.weights), weight),
        (*mix.means, mean),
        (*mix.sds, sd),
    )


def unit_information_sd(control_rate: float) -> float:
    """SD of one patient per arm's information about the log OR at ``theta = 0``."""
    return math.sqrt(2.0 / (control_rate * (1 - control_rate)))


def trials_with_counts(studies: list[Study]) -> list[Study]:
    return [s for s in studies if s.counts is not None]


def external_predictive(studies: list[Study], settings: MapSettings) -> Predictive:
    """The exact MAP predictive from the evidence rows that give counts."""
    grid = np.linspace(-THETA_LIMIT, THETA_LIMIT, THETA_POINTS)
    logliks = np.array(
        [
            logodds.log_likelihood(*s.counts, grid, alpha_sd=settings.alpha_sd)  # type: ignore[misc]
            for s in trials_with_counts(studies)
        ]
    )
    return predictive(logliks, grid, mu_sd=settings.mu_sd, tau_scale=settings.tau_scale)


def map_prior(studies: list[Study], settings: MapSettings, control_rate: float) -> Prior:
    """The robust MAP prior.

    Raises
    ------
    ValueError
        When no row of the evidence table gives counts.
    """
    trials = trials_with_counts(studies)
    if not trials:
        raise ValueError("no study in the evidence table gives trial counts")
    pred = external_predictive(studies, settings)
    mix, ks = fit_mixture(pred, settings.max_components)
    robust_sd = settings.robust_sd or unit_information_sd(control_rate)
    effect = robustify(mix, settings.robust_weight, settings.robust_mean, robust_sd)
    listed = "; ".join(
        f"{s.study} ({s.counts[0]}/{s.counts[1]} vs {s.counts[2]}/{s.counts[3]}, "  # type: ignore[index]
        f"{s.outcome}, {s.counts_status or 'status not stated'})"
        for s in trials
    )
    recipe = (
        f"Meta-analytic-predictive prior from {len(trials)} external trial(s) with counts: "
        f"{listed}. Hierarchical model: binomial arms with log-odds alpha ± theta / 2, trial "
        f"midpoint log-odds alpha ~ N(0, {settings.alpha_sd:g}²), trial log ORs theta ~ "
        f"N(mu, tau²), mu ~ N(0, {settings.mu_sd:g}²), "
        f"tau ~ HalfNormal({settings.tau_scale:g}). The predictive distribution of a new trial's "
        f"log OR (mean {pred.mean:.3f}, SD {pred.sd:.3f}; posterior mean of tau "
        f"{pred.tau_mean:.2f}) is computed exactly by quadrature and approximated by a "
        f"{len(mix.weights)}-component normal mixture (weighted EM; largest CDF error "
        f"{ks:.4f}), then robustified with weight {settings.robust_weight:g} on a vague "
        f"N({settings.robust_mean:g}, {robust_sd:.2f}²) component"
        + (
            " (its SD is that of one patient per arm's information about the log OR at the "
            "control rate and no effect: RBesT's unit-information choice)."
            if settings.robust_sd is None
            else "."
        )
        + " The trials are in other populations (mental-health conditions) with different "
        "employment outcomes and horizons."
    )
    return effect_prior(NAME, recipe, effect, "meta-analytic")
