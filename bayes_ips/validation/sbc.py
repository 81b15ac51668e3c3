"""Simulation-based calibration (SBC) of a PyMC model family (Talts et al. 2018; Modrák et al.
2023).

For each of N simulations:

1. draw the parameters and the data from the model's prior predictive at the trial's shape (its
   arms, horizons and numbers analysed; the observed outcomes are not used), with
   :func:`bayes_ips.inference.sample_prior`;
2. condition the model on the simulated data with :func:`pymc.observe` and refit it by NUTS
   through :func:`bayes_ips.inference.sample_posterior`. Any family whose module has
   ``build_model(counts, prior)`` works unchanged: whatever its observed variables are, they are
   replaced by their simulated values. The data enter as shared variables, so each worker
   compiles the model once;
3. thin the posterior draws to about their effective sample size (ArviZ's ``thin_factor``, the
   smaller of bulk and tail ESS of the slowest parameter; Säilynoja et al. 2022), and record the
   rank of each true value among the L retained draws and its randomised fractional rank
   ``u = (rank + V) / (L + 1)``, ``V ~ Uniform(0, 1)``.

When the model, its prior and the sampler are all correct, every ``u`` is Uniform(0, 1) whatever
L is; :mod:`bayes_ips.validation.uniformity` tests that. Every simulation is kept, divergent or
not (dropping fits would bias the ranks); divergences, R-hat and ESS are recorded beside the ranks.

Simulations run in local worker processes (the pool of a :class:`~bayes_ips.runner.Runner` of
``SBCSettings.workers`` jobs), each fitting its chains one after another.
"""

from __future__ import annotations

import hashlib
import logging
import time
import warnings
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from arviz_stats import ess, rhat

from bayes_ips import inference
from bayes_ips.models import module
from bayes_ips.priors import Prior
from bayes_ips.runner import Runner, available_cores
from bayes_ips.spec import SamplerSettings
from bayes_ips.validation.uniformity import SAMPLE_DIM, evaluate

SBC_SAMPLER = SamplerSettings(chains=2, draws=500, tune=500, target_accept=0.95)
"""NUTS settings of each refit: 1000 draws, thinned to about their ESS."""

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SBCSettings:
    """How many simulations, how each is fitted, and the test's family-wise error rate."""

    simulations: int = 1000
    sampler: SamplerSettings = SBC_SAMPLER
    alpha: float = 0.01
    workers: int = 1
    seed: int = 20221

    def __post_init__(self) -> None:
        if self.simulations < 2:
            raise ValueError(f"SBC needs at least 2 simulations, not {self.simulations}")


@dataclass
class SBCResult:
    """The outcome of SBC for one model under one prior.

    Attributes
    ----------
    model, prior : str
    settings : SBCSettings
    shape : dict
        The simulated trial's arms, horizons and numbers analysed.
    pit : xarray.Dataset
        Fractional ranks, dims ``(simulation, ...)``.
    ranks : xarray.Dataset
        Integer ranks among the retained draws (``0..L``), dims ``(simulation, ...)``.
    fits : pandas.DataFrame
        One row per simulation: thinning factor, L, divergences, R-hat and ESS, seconds.
    checks : list of dict
        One row per parameter component (see :func:`~bayes_ips.validation.uniformity.evaluate`).
    seconds : float
        Wall time of the whole calibration.
    """

    model: str
    prior: str
    settings: SBCSettings
    shape: dict
    pit: xr.Dataset
    ranks: xr.Dataset
    fits: pd.DataFrame
    checks: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(c["passed"] for c in self.checks)


@dataclass(frozen=True)
class _Job:
    model: str
    prior: Prior
    counts: xr.Dataset
    key: str
    sampler: SamplerSettings
    index: int
    truth: dict[str, np.ndarray]
    data: dict[str, np.ndarray]
    seed: int


def fractional_ranks(
    truth: xr.Dataset, posterior: xr.Dataset, rng: np.random.Generator
) -> tuple[xr.Dataset, xr.Dataset, int, int]:
    """Ranks of the true values among thinned posterior draws.

    Parameters
    ----------
    truth : xarray.Dataset
        The true value of each parameter (no sample dims).
    posterior : xarray.Dataset
        Draws with dims ``(chain, draw, ...)`` for the same variables.
    rng : numpy.random.Generator
        For the randomisation of the fractional ranks.

    Returns
    -------
    pit, ranks, thin, retained
        Fractional ranks ``(rank + V) / (L + 1)``, integer ranks, the thinning factor and L.
    """
    post = posterior[list(truth.data_vars)]
    thin = max(int(post[[v]].azstats.thin_factor(reduce_func="min")) for v in post.data_vars)
    kept = post.isel(draw=slice(None, None, max(thin, 1)))
    retained = kept.sizes["chain"] * kept.sizes["draw"]
    ranks = (kept < truth).sum(("chain", "draw"))
    pit = ranks.map(lambda r: (r + rng.uniform(size=r.shape)) / (retained + 1))
    return pit, ranks.astype("int64"), max(thin, 1), retained


_MODELS: dict[str, tuple] = {}
"""Per worker process: ``key -> (conditioned model, shared data variables)``."""


def _conditioned(job: _Job):
    if job.key not in _MODELS:
        import pymc as pm
        import pytensor

        model = module(job.model).build_model(job.counts, job.prior)
        shared = {
            name: pytensor.shared(np.asarray(value), name=f"{name}_simulated")
            for name, value in job.data.items()
        }
        _MODELS[job.key] = (pm.observe(model, shared), shared)
    return _MODELS[job.key]


def _refit(job: _Job) -> dict:
    start = time.perf_counter()
    model, shared = _conditioned(job)
    for name, value in job.data.items():
        shared[name].set_value(np.asarray(value, dtype=shared[name].dtype))
    with _quiet():
        generated = getattr(module(job.model), "generated_quantities", None)
        tree = inference.sample_posterior(model, job.sampler, job.seed, generated=generated)
    posterior = tree["posterior"].to_dataset()
    truth = xr.Dataset(
        {
            name: (posterior[name].dims[2:], value)
            for name, value in job.truth.items()
            if name in posterior
        }
    )
    pit, ranks, thin, retained = fractional_ranks(
        truth, posterior, np.random.default_rng([job.seed, 1])
    )
    names = list(truth.data_vars)
    return {
        "index": job.index,
        "pit": {k: v.to_numpy() for k, v in pit.items()},
        "ranks": {k: v.to_numpy() for k, v in ranks.items()},
        "thin": thin,
        "retained": retained,
        "divergences": int(tree["sample_stats"]["diverging"].sum()),
        "rhat_max": float(rhat(posterior[names]).to_array().max()),
        "ess_bulk_min": float(ess(posterior[names], method="bulk").to_array().min()),
        "ess_tail_min": float(ess(posterior[names], method="tail").to_array().min()),
        "seconds": time.perf_counter() - start,
    }


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence PyMC's progress logging and sampler warnings during the refits."""
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _seeds(seed: int, model: str, prior: str, n: int) -> list[int]:
    entropy = [seed, zlib.crc32(model.encode()), zlib.crc32(prior.encode())]
    return [int(s) for s in np.random.SeedSequence(entropy).generate_state(n)]


def _shape(counts: xr.Dataset) -> dict:
    return {
        "data": str(counts.attrs.get("origin", "")),
        "participants": "participant" in counts.dims,
        "arms": counts["arm"].to_numpy().tolist(),
        "horizons": counts["horizon"].to_numpy().tolist(),
        "n_analysed": counts["n_analysed"].to_numpy().tolist(),
    }


def _digest(counts: xr.Dataset) -> str:
    """A fingerprint of everything in ``counts`` (a worker compiles one model per fingerprint)."""
    h = hashlib.sha256()
    for name in sorted(map(str, counts.variables)):
        values = counts[name].to_numpy()
        h.update(f"{name}{values.shape}".encode())
        numeric = values.dtype.kind in "biuf"
        h.update(values.tobytes() if numeric else repr(values.tolist()).encode())
    return h.hexdigest()[:16]


def _assemble(outcomes: list[dict], kind: str, template: xr.Dataset) -> xr.Dataset:
    outcomes = sorted(outcomes, key=lambda o: o["index"])
    out = {}
    for name in outcomes[0][kind]:
        da = template[name]
        dims = (SAMPLE_DIM, *da.dims[2:])
        coords = {d: da[d].to_numpy() for d in da.dims[2:] if d in da.coords}
        out[name] = xr.DataArray(np.stack([o[kind][name] for o in outcomes]), dims=dims)
        out[name] = out[name].assign_coords(coords)
    return xr.Dataset(out).assign_coords({SAMPLE_DIM: np.arange(len(outcomes))})


def _run_jobs(jobs: list[_Job], runner: Runner, progress: Progress | None, label: str):
    outcomes = []
    if runner.jobs <= 1:
        for job in jobs:
            outcomes.append(_refit(job))
            if progress is not None:
                progress(label, len(outcomes), len(jobs))
        return outcomes
    with runner.pool() as pool:
        for future in as_completed([pool.submit(_refit, job) for job in jobs]):
            outcomes.append(future.result())
            if progress is not None:
                progress(label, len(outcomes), len(jobs))
    return outcomes


def run_sbc(
    model: str,
    counts: xr.Dataset,
    prior: Prior,
    settings: SBCSettings = SBCSettings(),
    progress: Progress | None = None,
) -> SBCResult:
    """Simulation-based calibration of one PyMC model family under one prior.

    Parameters
    ----------
    model : str
        A PyMC model family (:data:`bayes_ips.models.PYMC_MODELS`). Its module's
        ``KEY_PARAMETERS`` (those present in the built model) are calibrated.
    counts : xarray.Dataset
        Counts with dims ``(arm, horizon)``; their shape and ``n_analysed`` set the simulated
        trials, their outcomes are replaced.
    prior : Prior
    settings : SBCSettings
    progress : callable, optional
        ``progress(label, done, total)`` after each refit.
    """
    start = time.perf_counter()
    family = module(model)
    built = family.build_model(counts, prior)
    seeds = _seeds(settings.seed, model, prior.name, settings.simulations + 1)
    with _quiet():
        draws = inference.sample_prior(
            built,
            settings.simulations,
            seeds[0],
            generated=getattr(family, "generated_quantities", None),
        )
    params = draws["prior"].to_dataset()
    names = [v for v in getattr(family, "KEY_PARAMETERS", params.data_vars) if v in params]
    observed = [rv.name for rv in built.observed_RVs]
    data = draws["prior_predictive"].to_dataset()
    digest = _digest(counts)
    jobs = [
        _Job(
            model=model,
            prior=prior,
            counts=counts,
            key=f"{model}/{prior.name}/{digest}",
            sampler=settings.sampler,
            index=i,
            truth={v: params[v].isel(chain=0, draw=i).to_numpy() for v in names},
            data={v: data[v].isel(chain=0, draw=i).to_numpy() for v in observed},
            seed=seeds[i + 1],
        )
        for i in range(settings.simulations)
    ]
    runner = Runner(min(settings.workers, available_cores(), len(jobs)), cores=1)
    outcomes = _run_jobs(jobs, runner, progress, f"{model} / {prior.name}")
    pit = _assemble(outcomes, "pit", params)
    fits = pd.DataFrame(
        [{k: v for k, v in o.items() if k not in ("pit", "ranks")} for o in outcomes]
    )
    return SBCResult(
        model=model,
        prior=prior.name,
        settings=settings,
        shape=_shape(counts),
        pit=pit,
        ranks=_assemble(outcomes, "ranks", params),
        fits=fits.sort_values("index").reset_index(drop=True),
        checks=evaluate(pit, settings.alpha),
        seconds=time.perf_counter() - start,
    )
