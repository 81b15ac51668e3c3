"""Time the prior machinery: library (with the MAP prior), ESS, heat map, exact per-prior
posteriors. Prints figures; asserts nothing. Run with `make bench`."""

from __future__ import annotations

import time

from bayes_ips.analyses.sensitivity.exact import effect_posteriors
from bayes_ips.analyses.sensitivity.heatmap import benefit_map
from bayes_ips.data import Comparison, load_trial
from bayes_ips.priors import PriorContext, library
from bayes_ips.priors.ess import prior_ess
from bayes_ips.priors.meta_analytic import MapSettings, external_predictive, fit_mixture
from bayes_ips.priors.settings import parse


def timed(label: str, fn, repeat: int = 3):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<55s} {best:8.3f} s")
    return out


def main() -> None:
    settings = parse({}, "package:default.toml")
    counts = load_trial("package:ips_in_pain.csv").counts(Comparison())
    context = PriorContext(settings, 7 / 18, "benchmark")
    pred = timed(
        "MAP predictive, exact quadrature (3 trials)",
        lambda: external_predictive(list(settings.evidence), MapSettings()),
    )
    timed("MAP normal-mixture fit (EM, up to 3 components)", lambda: fit_mixture(pred, 3))
    lib = timed("whole library, first build (cached afterwards)", lambda: library(context), 1)
    timed(f"ESS of all {len(lib)} priors", lambda: [prior_ess(p, 7 / 18) for p in lib.values()])
    hm = timed("heat map 61 x 59 with 0.9 / 0.975 contours", lambda: benefit_map(19, 36, 7, 18))
    print(f"{'':<55s} ({len(hm['prior_mean'])} x {len(hm['prior_sd'])} cells)")
    timed(
        f"exact posteriors, {len(lib)} priors x 3 horizons",
        lambda: effect_posteriors(counts, list(lib.values()), Comparison()),
    )


if __name__ == "__main__":
    main()
