"""One reanalysis: spec → validated data → fits for every model × prior → tidy results.

This module orchestrates; it does not sample (:mod:`bayes_ips.inference` does) and does not
render (:mod:`bayes_ips.report` does).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from importlib import import_module

import numpy as np
import pandas as pd
import xarray as xr

from bayes_ips import conjugate, diagnostics, inference, models, workers
from bayes_ips.data import TrialData, load_trial
from bayes_ips.estimands import key, summarise
from bayes_ips.fit import Fit
from bayes_ips.priors import BetaRate, Prior, anchor, get_prior
from bayes_ips.spec import Spec

Progress = Callable[[str, int, int], None]

STEPS: list[tuple[str, str]] = [
    ("ppc", "bayes_ips.diagnostics:ppc_summary"),
    ("comparison", "bayes_ips.diagnostics:comparison_summary"),
    ("sensitivity", "bayes_ips.analyses.sensitivity:summarise"),
    ("horizons", "bayes_ips.analyses.horizons.compute:summarise_horizons"),
    ("missing_data", "bayes_ips.analyses.missing_data.compute:analyse"),
    ("decision", "bayes_ips.analyses.decision.step:run"),
]
"""Analyses run after the fits, in order: ``(summary_key, "module:function")``. ``function``
takes the :class:`Analysis` and returns a JSON-ready dict stored under ``summary_key`` in
summary.json, or None when the spec did not ask for it. Imported on first use."""


@dataclass
class Analysis:
    """Everything a report needs: the spec, the data, the fits and the tidy results."""

    spec: Spec
    data: TrialData
    counts: xr.Dataset
    primary_horizon: float
    fits: list[Fit]
    results: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    extras: dict[str, dict] = field(default_factory=dict)
    """Results of the analyses run after the fits (decision, sensitivity, ...), by summary key."""


def fit_seed(seed: int, model: str, prior: str) -> int:
    """A seed for one fit, stable across runs and independent of the order of fits."""
    entropy = [seed, zlib.crc32(model.encode()), zlib.crc32(prior.encode())]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def _exact_fit(counts: xr.Dataset, prior: Prior, spec: Spec, seed: int) -> Fit:
    rate = prior.require("rate", conjugate.MODEL)
    assert isinstance(rate, BetaRate)
    post = conjugate.posterior_parameters(counts, rate)
    p = conjugate.draw_rates(post, spec.exact_draws, seed)
    tree = conjugate.as_tree(p, post, counts, seed)
    return Fit(conjugate.MODEL, prior, seed, tree, conjugate.prob_benefit(post, spec.comparison))


Tick = Callable[..., None]
"""``tick(label, fits=1)``: report ``label`` as under way, then count ``fits`` fits as done."""


def _no_tick(label: str, fits: int = 1) -> None:
    pass


def _fit_families(
    families: dict[str, list[Prior]], counts: xr.Dataset, spec: Spec, tick: Tick, pool
) -> list[Fit]:
    """Fit every model family under its priors; the fits come back in the spec's order.

    With helper processes (``pool``, :func:`bayes_ips.workers.helpers`) the MCMC families are
    fitted side by side: this process fits the one with the most priors (each later prior
    reuses its compiled model) and the helpers fit the others. A fit's numbers do not depend on
    where it ran.
    """
    mcmc = [name for name in families if name not in models.EXACT_MODELS]
    here = max(mcmc, key=lambda name: len(families[name]), default=None)
    away = [name for name in mcmc if name != here] if pool is not None else []
    tasks = {name: partial(_pymc_fits, name, families[name], counts, spec) for name in away}
    pending = {name: pool.submit(task) for name, task in tasks.items()}
    done: dict[str, list[Fit]] = {}
    for name, priors in families.items():
        if name in models.EXACT_MODELS:
            done[name] = []
            for prior in priors:
                tick(f"{name} / {prior.name}")
                seed = fit_seed(spec.seed, name, prior.name)
                done[name].append(_exact_fit(counts, prior, spec, seed))
        elif name not in pending:
            done[name] = _pymc_fits(name, priors, counts, spec, tick)
    for name, future in pending.items():
        done[name] = workers.collect(future, tasks[name])
        tick(f"{name} (fitted in a helper process)", len(done[name]))
    return [fit for name in families for fit in done[name]]


def _step(target: str, analysis: Analysis) -> dict | None:
    module, function = target.split(":")
    return getattr(import_module(module), function)(analysis)


def _retry_settings(spec: Spec) -> dict:
    """Sampler settings of the one automatic re-run of a fit that failed its checks."""
    ta = spec.sampler.target_accept
    return {"target_accept": min(0.995, ta + (1 - ta) / 2), "tune": 2 * spec.sampler.tune}


MODEL_CACHE_SIZE = 16
_MODELS: dict[tuple[str, str, str], object] = {}
"""PyMC models built in this process, by family, prior structure and data: a later fit on the
same data (the next prior, a notebook's next run) reuses the model and so its compiled form
(:func:`bayes_ips.inference.sample`), with the prior's values set as data before each fit. Holds
the :data:`MODEL_CACHE_SIZE` most recently used."""


def _digest(counts: xr.Dataset) -> str:
    """SHA-256 of a dataset's variables (names, dims, types and values) and attributes."""
    h = hashlib.sha256(json.dumps(counts.attrs, sort_keys=True, default=str).encode())
    for name, var in sorted({**counts.coords, **counts.data_vars}.items()):
        values = var.to_numpy()
        h.update(f"{name} {var.dims} {values.dtype} {values.shape}".encode())
        h.update(repr(values.tolist()).encode() if values.dtype == object else values.tobytes())
    return h.hexdigest()


def _model(family, name: str, counts: xr.Dataset, data: str, prior: Prior):
    """The family's model of ``counts`` (digest ``data``) with the values of ``prior``: a model
    from the cache, given the prior's values as data, or a new one built with them."""
    import pymc as pm

    structure = getattr(family, "structure", lambda prior: "")
    key = (name, structure(prior), data)
    model = _MODELS.pop(key, None)
    if model is None:
        model = family.build_model(counts, prior)
    else:
        pm.set_data(family.prior_data(prior), model=model)
    _MODELS[key] = model  # now the most recently used
    while len(_MODELS) > MODEL_CACHE_SIZE:
        del _MODELS[next(iter(_MODELS))]
    return model


def _pymc_fits(
    name: str, priors: list[Prior], counts: xr.Dataset, spec: Spec, tick: Tick = _no_tick
) -> list[Fit]:
    """Fit one PyMC model family under each prior: one model graph per prior structure (normal
    or mixture, see ``structure`` in the family's module) and data, priors swapped as data."""
    family = models.module(name)
    generated = getattr(family, "generated_quantities", None)
    data = _digest(counts)
    fits = []
    for prior in priors:
        tick(f"{name} / {prior.name}")
        model = _model(family, name, counts, data, prior)
        seed = fit_seed(spec.seed, name, prior.name)
        tree = inference.sample(model, spec.sampler, seed, generated=generated)
        check = diagnostics.convergence(tree, spec.thresholds)
        check["retried"] = False
        if not check["passed"]:
            retry = _retry_settings(spec)
            tick(f"{name} / {prior.name} (re-run: {'; '.join(check['messages'])})", 0)
            tree = inference.sample(model, spec.sampler, seed, generated=generated, **retry)
            first = check["messages"]
            check = diagnostics.convergence(tree, spec.thresholds)
            check.update(retried=True, first_attempt=first, retry_settings=retry)
        fits.append(Fit(name, prior, seed, tree, diagnostics=check))
    return fits


def results_table(fits: list[Fit], counts: xr.Dataset, spec: Spec) -> pd.DataFrame:
    """Tidy results: one row per model × prior × horizon (summary.json ``results`` rows)."""
    frames = []
    for fit in fits:
        table = summarise(fit.p, spec.comparison, spec.estimands)
        if fit.p_benefit_exact is not None:
            exact = table["horizon_months"].map(fit.p_benefit_exact)
            table["p_benefit"] = exact
            table["p_benefit_mcse"] = 0.0
            zero = key(0.0)
            for col, value in (("p_rd_gt", exact), ("p_rd_gt_mcse", 0.0)):
                table[col] = [
                    {**d, zero: (v if col == "p_rd_gt" else value)} if zero in d else d
                    for d, v in zip(table[col], exact, strict=True)
                ]
        verified = counts["verified"].all("arm")
        if fit.model not in models.EXACT_MODELS:
            # pooled models borrow strength across horizons: every estimate rests on every row
            verified = verified & verified.all("horizon")
        table.insert(0, "model", fit.model)
        table.insert(1, "prior", fit.prior.name)
        table.insert(3, "treatment", spec.comparison.treatment)
        table.insert(4, "control", spec.comparison.control)
        table["verified_data"] = [bool(verified.sel(horizon=h)) for h in table["horizon_months"]]
        table["seed"] = fit.seed
        table["draws"] = int(fit.p.sizes["chain"] * fit.p.sizes["draw"])
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def run_analysis(spec: Spec, progress: Progress | None = None, jobs: int | None = None) -> Analysis:
    """Validate the data and fit every model × prior the spec asks for.

    Parameters
    ----------
    spec : Spec
    progress : callable, optional
        Called as ``progress(label, done, total)`` before each fit (after it, for the model
        families fitted in helper processes).
    jobs : int, optional
        Processes working side by side (default: the cores this process may use,
        :func:`bayes_ips.workers.cores`; 1 does everything here). Helper processes are started
        when the spec has two or more MCMC model families, which they fit beside this process;
        helpers already running also take a share of the analyses after the fits.
    """
    data = load_trial(spec.data_path, spec.options.get("ipd"))
    if spec.verified_only:
        data = data.verified_only()
    warnings = [*data.warnings, *data.check_comparison(spec.comparison)]
    counts = data.counts(spec.comparison)
    horizons = counts["horizon"].to_numpy().tolist()
    primary = spec.primary_horizon
    if primary not in horizons:
        primary = max(horizons)
        warnings.append(
            f"primary horizon {spec.primary_horizon:g} months is not in the data; "
            f"using {primary} months"
        )
    context = anchor(spec.options.get("priors"), counts, primary)
    families = {
        name: [get_prior(p, context) for p in prior_names]
        for name, prior_names in spec.models.items()
    }
    total = sum(len(p) for p in families.values())
    done = 0

    def tick(label: str, fits: int = 1) -> None:
        nonlocal done
        if progress is not None:
            progress(label, done, total)
        done += fits

    mcmc = sum(name not in models.EXACT_MODELS for name in families)
    pool = workers.helpers(workers.jobs(jobs), start=mcmc > 1)
    with workers.guarded():
        fits = _fit_families(families, counts, spec, tick, pool)
        if progress is not None:
            progress("done", total, total)
        analysis = Analysis(
            spec, data, counts, primary, fits, results_table(fits, counts, spec), warnings
        )
        steps = [partial(_step, target, analysis) for _, target in STEPS]
        for (summary_key, _), result in zip(STEPS, workers.share(steps, pool), strict=True):
            if result is not None:
                analysis.extras[summary_key] = result
    return analysis
