"""One reanalysis: spec → validated data → fits for every model × prior → tidy results.

This module orchestrates; it does not sample (:mod:`bayes_ips.inference` does) and does not
render (:mod:`bayes_ips.report` does).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

import numpy as np
import pandas as pd
import xarray as xr

from bayes_ips import conjugate
from bayes_ips.data import TrialData, load_trial
from bayes_ips.estimands import key, summarise
from bayes_ips.priors import BetaRate, Prior, anchor, get_prior
from bayes_ips.spec import Spec

Progress = Callable[[str, int, int], None]

STEPS: list[tuple[str, str]] = [("sensitivity", "bayes_ips.sensitivity:summarise")]
"""Analyses run after the fits, in order: ``(summary_key, "module:function")``. ``function``
takes the :class:`Analysis` and returns a JSON-ready dict stored under ``summary_key`` in
summary.json, or None when the spec did not ask for it. Imported on first use."""


@dataclass
class Fit:
    """One model fitted under one prior.

    Attributes
    ----------
    model, prior : str, Prior
    seed : int
        The seed this fit used (derived from the spec's seed, the model and the prior).
    tree : xarray.DataTree
        The saved result: ``posterior`` holds ``p[chain, draw, arm, horizon]``.
    p_benefit_exact : dict or None
        Exact P(benefit) per horizon where the model has a closed form.
    """

    model: str
    prior: Prior
    seed: int
    tree: xr.DataTree
    p_benefit_exact: dict | None = None

    @property
    def label(self) -> str:
        return f"{self.model}__{self.prior.name}"

    @property
    def p(self) -> xr.DataArray:
        return self.tree["posterior"]["p"]


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
    tree = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset({"p": p}),
            "exact_posterior": post,
            "observed_data": counts[["employed", "n_analysed"]].astype("int64"),
        }
    )
    return Fit(conjugate.MODEL, prior, seed, tree, conjugate.prob_benefit(post, spec.comparison))


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
        table.insert(0, "model", fit.model)
        table.insert(1, "prior", fit.prior.name)
        table.insert(3, "treatment", spec.comparison.treatment)
        table.insert(4, "control", spec.comparison.control)
        table["verified_data"] = [bool(verified.sel(horizon=h)) for h in table["horizon_months"]]
        table["seed"] = fit.seed
        table["draws"] = int(fit.p.sizes["chain"] * fit.p.sizes["draw"])
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def run_analysis(spec: Spec, progress: Progress | None = None) -> Analysis:
    """Validate the data and fit every model × prior the spec asks for.

    Parameters
    ----------
    spec : Spec
    progress : callable, optional
        Called as ``progress(label, done, total)`` before each fit.
    """
    data = load_trial(spec.data_path)
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
    jobs = [(m, get_prior(p, context)) for m, priors in spec.models.items() for p in priors]
    fits = []
    for i, (model, prior) in enumerate(jobs):
        if progress is not None:
            progress(f"{model} / {prior.name}", i, len(jobs))
        seed = fit_seed(spec.seed, model, prior.name)
        fits.append(_exact_fit(counts, prior, spec, seed))
    if progress is not None:
        progress("done", len(jobs), len(jobs))
    analysis = Analysis(
        spec, data, counts, primary, fits, results_table(fits, counts, spec), warnings
    )
    for summary_key, target in STEPS:
        module, function = target.split(":")
        result = getattr(import_module(module), function)(analysis)
        if result is not None:
            analysis.extras[summary_key] = result
    return analysis
