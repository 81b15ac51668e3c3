"""Benchmark: Bayesian assurance of a confirmatory trial, 20 sample sizes × ≥ 10 000 trials.

Prints wall-clock times for the exact Bayesian success regions at the 20 sizes (computed once
per run), then (median of repeats) the simulated assurance grid of both success criteria, the
exact operating characteristics and the EVSI grid, on the design prior of the IPS in Pain
12-month data under uniform Beta(1, 1) priors, with the library's ``sceptical_mcid`` as the
analysis prior. Run:

    PYTHONPATH=. python benchmarks/bench_assurance.py [--repeats 5] [--simulations 10000 20000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bayes_ips.analyses.decision import Criteria, assurance, operating_characteristics
from bayes_ips.analyses.decision.options import DEFAULT_N_PER_ARM, Economics
from bayes_ips.analyses.decision.voi import sampling_value
from bayes_ips.priors import PriorContext, get_prior
from bayes_ips.priors.settings import default_settings

# Posterior Beta parameters at 12 months: IPS 19/36, TAU 7/18, uniform priors.
BETA_T, BETA_C = (20.0, 18.0), (8.0, 12.0)
POSTERIOR_DRAWS = 20_000


def timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--simulations", type=int, nargs="+", default=[10_000, 20_000])
    args = parser.parse_args()

    rng = np.random.default_rng(20221)
    p_t = rng.beta(*BETA_T, POSTERIOR_DRAWS)
    p_c = rng.beta(*BETA_C, POSTERIOR_DRAWS)
    control = BETA_C[0] / sum(BETA_C)
    sceptic = get_prior("sceptical_mcid", PriorContext(default_settings(), 7 / 18, "7/18"))
    crit = Criteria(0.05, 0.975, sceptic.effect)
    sizes = DEFAULT_N_PER_ARM
    print(f"{len(sizes)} sample sizes per arm: {sizes[0]}–{sizes[-1]}; two success criteria")
    start = time.perf_counter()
    for n in sizes:
        crit.bayes_rule.thresholds(n)
    print(
        f"exact Bayesian success regions at {len(sizes)} sizes: {time.perf_counter() - start:.3f} s"
    )
    for m in args.simulations:

        def run(m=m):
            return assurance(p_t, p_c, sizes, crit, m, np.random.default_rng(1))

        seconds, result = timed(run, args.repeats)
        print(
            f"assurance, {m:>7,} simulated trials × {len(sizes)} sizes "
            f"({m * len(sizes):,} trials): {seconds:.3f} s "
            f"(z test at {sizes[-1]}/arm: {result['frequentist']['assurance'][-1]:.3f})"
        )
    seconds, _ = timed(
        lambda: operating_characteristics(
            crit, control, sizes, (100, 200, 400), np.arange(0.0, 0.301, 0.01)
        ),
        args.repeats,
    )
    print(f"exact operating characteristics (type-I at 20 sizes, 3 power curves): {seconds:.3f} s")
    seconds, _ = timed(lambda: sampling_value(BETA_T, BETA_C, sizes, Economics()), args.repeats)
    print(f"exact EVSI / ENBS at 20 sizes: {seconds:.3f} s")


if __name__ == "__main__":
    main()
