"""Sampling (the only module that calls a sampler) and fits on disk.

:func:`sample` runs NUTS (nutpie by default, PyMC's own if the spec asks) with
the spec's settings and a seed, and returns one DataTree with the groups ``posterior``,
``sample_stats``, ``log_likelihood``, ``log_prior``, ``posterior_predictive``, ``prior``,
``prior_predictive``, ``observed_data`` and ``constant_data``. :func:`sample_posterior` is the
light entry for many small refits (simulation-based calibration): the same NUTS draws, nothing
else. :func:`sample_prior` draws parameters and data from a model's prior. PyMC is imported on
first use only.

Each fit is written to ``fits/<model>__<prior>.nc`` with root attributes that make it verifiable:
package version, model, prior (JSON), data and spec SHA-256, and seed. :func:`load_fit` checks them
against what the caller expects and raises :class:`~bayes_ips.errors.InputError` on a mismatch or
an unreadable file.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import xarray as xr

from bayes_ips._version import __version__
from bayes_ips.errors import InputError
from bayes_ips.fit import Fit
from bayes_ips.priors import Prior

ENGINE = "netcdf4"
logging.getLogger("pymc").setLevel(logging.WARNING)
PRIOR_DRAWS = 1000
DENSITIES = {"mode": "NUMBA"}
"""PyTensor mode of the log densities computed after sampling (log-likelihood, log prior): numba,
cached on disk between runs. Each is one call over all draws; compiling them to C instead took
about 20 s of a run with empty compile caches, numba about 1 s."""
PREDICTIVE = {"mode": "CVM"}
"""PyTensor mode of the predictive draws: C code, cached on disk between runs. Called once per
draw, it costs less than numba's per-call overhead, and numba has no beta-binomial sampler (it
would fall back to Python objects)."""


def _seeds(seed: int, n: int) -> list[int]:
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n)]


Generated = Callable[[xr.DataTree, int], None]
"""A model family's ``generated_quantities(tree, seed)``: adds, in place, variables that are
drawn exactly given each posterior (and prior) draw rather than sampled by NUTS."""


def sample(
    model,
    settings,
    seed: int,
    *,
    cores: int = 1,
    generated: Generated | None = None,
    target_accept: float | None = None,
    tune: int | None = None,
) -> xr.DataTree:
    """Fit ``model`` by NUTS and add log-likelihood, posterior- and prior-predictive draws.

    Parameters
    ----------
    model : pymc.Model
    settings : bayes_ips.spec.SamplerSettings
        Backend, chains, draws, tune and target_accept.
    seed : int
        Every random stream of the fit derives from it.
    cores : int, default 1
        Cores this fit may use: chains are sampled up to this many at once (nutpie's threads,
        PyMC's processes); 1 samples them one after another. The draws are the same either way:
        each chain has its own seed.
    generated : callable, optional
        The family's ``generated_quantities``, applied once the groups are complete.
    target_accept, tune : optional
        Overrides used for the automatic re-run of a fit that failed its convergence checks.
    """
    import pymc as pm

    # PyMC's import sets its logger to INFO when the root logger has no handler: quiet it after.
    logging.getLogger("pymc").setLevel(logging.WARNING)

    s_nuts, s_ppc, s_prior, s_generated = _seeds(seed, 4)
    with _interrupts_stop_sampling():  # an interrupt stops here, before the draws are used
        tree = _nuts(
            model,
            settings,
            s_nuts,
            cores=min(settings.chains, cores),
            target_accept=target_accept or settings.target_accept,
            tune=tune or settings.tune,
        )
    with _interrupts_stop_sampling(), model, warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        extend = {"extend_inferencedata": True, "progressbar": False}
        pm.stats.compute_log_likelihood(tree, compile_kwargs=DENSITIES, **extend)
        pm.stats.compute_log_prior(tree, compile_kwargs=DENSITIES, **extend)
        pm.sample_posterior_predictive(tree, random_seed=s_ppc, compile_kwargs=PREDICTIVE, **extend)
        prior = pm.sample_prior_predictive(
            draws=PRIOR_DRAWS, random_seed=s_prior, compile_kwargs=PREDICTIVE
        )
    for group in ("prior", "prior_predictive"):
        tree[group] = prior[group]
    if generated is not None:
        generated(tree, s_generated)
    return tree


def sample_posterior(
    model, settings, seed: int, *, generated: Generated | None = None, cores: int = 1
) -> xr.DataTree:
    """Fit ``model`` by NUTS and return only the ``posterior`` and ``sample_stats`` groups.

    The draws equal those of :func:`sample` with the same seed and settings; log-likelihood and
    predictive draws are skipped, so many small refits stay cheap.

    Parameters
    ----------
    model : pymc.Model
    settings : bayes_ips.spec.SamplerSettings
    seed : int
    generated : callable, optional
        The family's ``generated_quantities``; its draws equal those of :func:`sample`.
    cores : int, default 1
        Chains run in parallel on this many processes; 1 runs them one after another (for callers
        that parallelise over fits themselves).
    """
    s_nuts, _, _, s_generated = _seeds(seed, 4)
    with _interrupts_stop_sampling():
        tree = _nuts(
            model,
            settings,
            s_nuts,
            cores=cores,
            target_accept=settings.target_accept,
            tune=settings.tune,
        )
    if generated is not None:
        generated(tree, s_generated)
    return tree


def sample_prior(
    model, draws: int, seed: int, *, generated: Generated | None = None
) -> xr.DataTree:
    """Draw parameters and data from the prior of ``model`` (and the family's
    ``generated_quantities``, if given).

    Returns
    -------
    xarray.DataTree
        Groups ``prior`` (parameters and deterministics) and ``prior_predictive`` (data), each
        with dims ``(chain, draw, ...)`` and one chain.
    """
    import pymc as pm

    s_prior, s_generated = _seeds(seed, 2)
    with model, _interrupts_stop_sampling():
        tree = pm.sample_prior_predictive(draws=draws, random_seed=s_prior)
    if generated is not None:
        generated(tree, s_generated)
    return tree


def _nuts(model, settings, seed: int, *, cores: int, target_accept: float, tune: int):
    if settings.backend == "nutpie":
        return _nutpie(model, settings, seed, cores=cores, target_accept=target_accept, tune=tune)
    import pymc as pm

    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        return pm.sample(
            draws=settings.draws,
            tune=tune,
            chains=settings.chains,
            cores=cores,
            target_accept=target_accept,
            random_seed=seed,
            mp_ctx=CHAIN_START,
            nuts_sampler="pymc",
            progressbar=False,
            compute_convergence_checks=False,
        )


CHAIN_START = "fork" if sys.platform.startswith("linux") else None
"""How PyMC's own NUTS starts its chain processes. On Linux, forked: never the default context of
the calling process, which in a helper is loky's (it cannot carry PyMC's shared memory); and a
forked chain neither imports the caller's main module (so a script needs no ``__main__`` guard)
nor outlives its parent (:func:`bayes_ips.runner.children_die_with_parent`). Elsewhere PyMC's
default."""


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""nutpie's compiled form of each live PyMC model, so a model is compiled once however many
priors (``pm.set_data``) or simulated data sets it is fitted to."""


def _nutpie(model, settings, seed: int, *, cores: int, target_accept: float, tune: int):
    """NUTS by nutpie (Rust) on the model's compiled logp and gradient.

    ``pm.sample(nuts_sampler="nutpie")`` compiles the model with numba on every call (about 5 s);
    here the compiled model is kept with the model object and refreshed with the current values of
    its shared variables (the prior's ``pm.Data``, simulated outcomes) by nutpie's ``with_data``,
    which does not recompile.
    """
    import nutpie
    from pymc.backends.arviz import patch_nutpie_idata

    if model not in _COMPILED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            _COMPILED[model] = nutpie.compile_pymc_model(model)
    compiled = _COMPILED[model]
    current = {var.name: var.get_value() for var in compiled.shared_var_keys}
    start = time.time()
    tree = nutpie.sample(
        compiled.with_data(**current),
        draws=settings.draws,
        tune=tune,
        chains=settings.chains,
        cores=cores,
        seed=seed,
        target_accept=target_accept,
        save_warmup=False,
        progress_bar=False,
    )
    patch_nutpie_idata(tree, model, sampling_time=time.time() - start)
    return tree


@contextmanager
def _interrupts_stop_sampling() -> Iterator[None]:
    """Let Ctrl-C (SIGINT) and SIGTERM during sampling stop the run.

    ``pm.sample``, ``pm.sample_posterior_predictive`` and ``nutpie.sample`` catch
    ``KeyboardInterrupt`` and return the draws made so far (or fail when there are too few); a run
    must never summarise a truncated fit. The signal is remembered and re-raised as
    ``KeyboardInterrupt`` once the sampler returns or fails.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def handler(signum, frame):
        received.append(signum)
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except Exception:
        if received:
            raise KeyboardInterrupt from None
        raise
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    if received:
        raise KeyboardInterrupt


def save_fit(fit: Fit, folder: Path, *, data_sha256: str, spec_sha256: str) -> Path:
    """Write one fit as NetCDF with verifiable attributes; returns the path."""
    tree = fit.tree.copy()
    tree.attrs.update(
        {
            "bayes_ips_version": __version__,
            "model": fit.model,
            "prior": json.dumps(fit.prior.as_dict(), sort_keys=True),
            "data_sha256": data_sha256,
            "spec_sha256": spec_sha256,
            "seed": fit.seed,
            "p_benefit_exact": json.dumps(
                None
                if fit.p_benefit_exact is None
                else [[h, v] for h, v in fit.p_benefit_exact.items()]
            ),
        }
    )
    path = folder / f"{fit.label}.nc"
    tree.to_netcdf(path, engine=ENGINE)
    return path


def load_fit(path: Path, *, model: str, prior: str, seed: int, data_sha256: str) -> Fit:
    """Read a saved fit and check it is the one expected.

    Raises
    ------
    InputError
        When the file is not a readable bayes_ips fit or its attributes do not match.
    """
    try:
        tree = xr.open_datatree(path, engine=ENGINE).load()
    except Exception:
        raise InputError(str(path), "not a readable NetCDF fit saved by bayes_ips") from None
    attrs = tree.attrs
    expected = {"model": model, "seed": seed, "data_sha256": data_sha256}
    if "prior" not in attrs or "posterior" not in tree.children or "p" not in tree["posterior"]:
        raise InputError(str(path), "not a bayes_ips fit (no prior attribute or posterior p)")
    for name, want in expected.items():
        if name not in attrs or (attrs[name] != want and str(attrs[name]) != str(want)):
            raise InputError(
                str(path),
                f"the saved fit does not match summary.json (expected {want!r})",
                field=name,
                value=attrs.get(name),
            )
    prior_obj = Prior.from_dict(json.loads(attrs["prior"]))
    if prior_obj.name != prior:
        raise InputError(
            str(path),
            "the saved fit's prior does not match summary.json",
            field="prior",
            value=prior_obj.name,
        )
    exact = json.loads(attrs.get("p_benefit_exact", "null"))
    return Fit(
        model,
        prior_obj,
        int(attrs["seed"]),
        tree,
        None if exact is None else {h: v for h, v in exact},
    )
