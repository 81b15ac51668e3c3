"""One reanalysis: spec → run context → fits for every model × prior → post-fit analyses.

This module orchestrates; it does not sample (:mod:`bayes_ips.inference` does), does not
analyse (:mod:`bayes_ips.analyses` do) and does not render (:mod:`bayes_ips.report` does).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import xarray as xr

from bayes_ips import (
    conjugate,
    diagnostics,
    exact_log_binomial,
    exact_logistic,
    inference,
    models,
)
from bayes_ips import spec as spec_module
from bayes_ips.analyses import registry
from bayes_ips.context import Fitted, RunContext, prepare, results_table
from bayes_ips.fit import Fit, exact_tree, fit_seed
from bayes_ips.priors import BetaRate, MixtureEffect, NormalEffect, Prior
from bayes_ips.report.summary import build_summary
from bayes_ips.runner import Runner
from bayes_ips.spec import DEFAULT_SPEC, Spec

Progress = Callable[[str, int, int], None]


@dataclass
class Run:
    """A finished reanalysis: its context, its fits and the post-fit analyses' results.

    Attributes
    ----------
    ctx : RunContext
    fitted : Fitted
    extras : dict
        The analyses' results by summary key (``decision``, ``sensitivity``, ...), in the
        order of :data:`bayes_ips.analyses.registry.ANALYSES`.
    """

    ctx: RunContext
    fitted: Fitted
    extras: dict[str, dict] = field(default_factory=dict)

    def summary(self, command: str) -> dict:
        """The report data (what summary.json holds)."""
        return build_summary(self.ctx, self.fitted, self.extras, command)


def load_spec(path: str | Path = DEFAULT_SPEC) -> Spec:
    """Read and validate a spec (default: the bundled one) with every analysis's section."""
    return spec_module.load_spec(path, registry.option_schemas())


def _exact_fit(name: str, counts: xr.Dataset, prior: Prior, spec: Spec, seed: int) -> Fit:
    """Fit one exact model (:data:`bayes_ips.models.EXACT_MODELS`) under one prior."""
    if name == exact_logistic.MODEL:
        effect = prior.require("effect", name)
        assert isinstance(effect, NormalEffect | MixtureEffect)
        base = exact_logistic.baseline(prior)
        posts = exact_logistic.posteriors(counts, effect, spec.comparison, **base)
        p = exact_logistic.draw_rates(posts, counts, spec.comparison, spec.exact_draws, seed)
        before = exact_logistic.prior_rates(
            effect, counts, spec.comparison, spec.exact_draws, seed, **base
        )
        loo_y = exact_logistic.exact_loo(counts, effect, spec.comparison, **base)
        tree = exact_tree(
            p, counts, seed, prior=xr.Dataset({"p": before}), exact_loo=xr.Dataset({"y": loo_y})
        )
        return Fit(name, prior, seed, tree, exact_logistic.prob_benefit(posts))
    if name == exact_log_binomial.MODEL:
        effect = models.effect_for(name, prior)
        assert isinstance(effect, NormalEffect)
        control, draws = prior.control_risk, spec.exact_draws
        posts = exact_log_binomial.posteriors(counts, effect, control, spec.comparison)
        args = (counts, effect, control, spec.comparison)
        p = exact_log_binomial.draw_rates(posts, *args, draws, seed)
        before = exact_log_binomial.prior_rates(
            effect, control, counts, spec.comparison, draws, seed
        )
        loo_y = exact_log_binomial.exact_loo(*args)
        tree = exact_tree(
            p, counts, seed, prior=xr.Dataset({"p": before}), exact_loo=xr.Dataset({"y": loo_y})
        )
        return Fit(name, prior, seed, tree, exact_logistic.prob_benefit(posts))
    rate = prior.require("rate", conjugate.MODEL)
    assert isinstance(rate, BetaRate)
    post = conjugate.posterior_parameters(counts, rate)
    p = conjugate.draw_rates(post, spec.exact_draws, seed)
    loo_y = conjugate.exact_loo(counts, post)
    tree = exact_tree(p, counts, seed, exact_posterior=post, exact_loo=xr.Dataset({"y": loo_y}))
    return Fit(conjugate.MODEL, prior, seed, tree, conjugate.prob_benefit(post, spec.comparison))


Tick = Callable[..., None]
"""``tick(label, fits=1)``: report ``label`` as under way, then count ``fits`` fits as done."""


def _no_tick(label: str, fits: int = 1) -> None:
    pass


def _fit_families(
    families: dict[str, list[Prior]], counts: xr.Dataset, spec: Spec, tick: Tick, runner: Runner
) -> list[Fit]:
    """Fit every model family under its priors; the fits come back in the spec's order.

    With two or more MCMC families and helper processes (``runner`` of two or more jobs) the
    families are fitted side by side: this process fits the one with the most priors (each later
    prior reuses its compiled model) and the helpers fit the others. Each fit samples up to
    ``runner.cores`` chains at once. A fit's numbers do not depend on where it ran.
    """
    mcmc = [name for name in families if name not in models.EXACT_MODELS]
    here = max(mcmc, key=lambda name: len(families[name]), default=None)
    others = [name for name in mcmc if name != here]
    away = others if others and runner.start() else []
    cores = runner.cores
    tasks = {
        name: partial(_pymc_fits, name, families[name], counts, spec, cores=cores) for name in away
    }
    pending = {name: runner.submit(task) for name, task in tasks.items()}
    done: dict[str, list[Fit]] = {}
    for name, priors in families.items():
        if name in models.EXACT_MODELS:
            done[name] = []
            for prior in priors:
                tick(f"{name} / {prior.name}")
                seed = fit_seed(spec.seed, name, prior.name)
                done[name].append(_exact_fit(name, counts, prior, spec, seed))
        elif name not in pending:
            done[name] = _pymc_fits(name, priors, counts, spec, tick, cores=cores)
    for name, future in pending.items():
        done[name] = runner.collect(future, tasks[name])
        tick(f"{name} (fitted in a helper process)", len(done[name]))
    return [fit for name in families for fit in done[name]]


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
    name: str,
    priors: list[Prior],
    counts: xr.Dataset,
    spec: Spec,
    tick: Tick = _no_tick,
    *,
    cores: int = 1,
) -> list[Fit]:
    """Fit one PyMC model family under each prior: one model graph per prior structure (normal
    or mixture, see ``structure`` in the family's module) and data, priors swapped as data. Each
    fit samples up to ``cores`` chains at once."""
    family = models.module(name)
    generated = getattr(family, "generated_quantities", None)
    data = _digest(counts)
    fits = []
    for prior in priors:
        tick(f"{name} / {prior.name}")
        model = _model(family, name, counts, data, prior)
        seed = fit_seed(spec.seed, name, prior.name)
        tree = inference.sample(model, spec.sampler, seed, cores=cores, generated=generated)
        check = diagnostics.convergence(tree, spec.thresholds)
        check["retried"] = False
        if not check["passed"]:
            retry = _retry_settings(spec)
            tick(f"{name} / {prior.name} (re-run: {'; '.join(check['messages'])})", 0)
            tree = inference.sample(
                model, spec.sampler, seed, cores=cores, generated=generated, **retry
            )
            first = check["messages"]
            check = diagnostics.convergence(tree, spec.thresholds)
            check.update(retried=True, first_attempt=first, retry_settings=retry)
        fits.append(Fit(name, prior, seed, tree, diagnostics=check))
    return fits


def run_analysis(spec: Spec, progress: Progress | None = None, runner: Runner | None = None) -> Run:
    """Validate the data, fit every model × prior the spec asks for, and run the analyses.

    Parameters
    ----------
    spec : Spec
    progress : callable, optional
        Called as ``progress(label, done, total)`` once the inputs are checked (``done`` 0,
        before any fit), then before each fit (after it, for the model families fitted in
        helper processes).
    runner : Runner, optional
        The processes to work in (default: this one alone, with the cores it may use). With two
        or more jobs, its helper processes are started when the spec has two or more MCMC model
        families, which they fit beside this process; helpers already running also take a share
        of the analyses after the fits. The numbers do not depend on it.
    """
    runner = Runner(1) if runner is None else runner
    ctx = prepare(spec)
    for analysis in registry.ANALYSES:
        if analysis.check is not None:
            analysis.check(ctx)
    families = ctx.families
    total = sum(len(p) for p in families.values())
    done = 0
    if progress is not None:
        progress("inputs checked", 0, total)

    def tick(label: str, fits: int = 1) -> None:
        nonlocal done
        if progress is not None:
            progress(label, done, total)
        done += fits

    with runner.guarded():
        fits = _fit_families(families, ctx.counts, spec, tick, runner)
        if progress is not None:
            progress("done", total, total)
        fitted = Fitted(fits, results_table(fits, ctx.counts, spec))
        steps = [(key, step) for a in registry.ANALYSES for key, step in a.steps]
        calls = [partial(step, ctx, fitted) for _, step in steps]
        results = runner.share(calls)
    extras = {key: r for (key, _), r in zip(steps, results, strict=True) if r is not None}
    return Run(ctx, fitted, extras)
