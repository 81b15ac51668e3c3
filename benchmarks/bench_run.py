"""Time the reanalysis: import, exact-only run, the three-model run and the default run (cold
and warm; warm also with `--jobs 1`, no helper process), a second run in the same Python
process (a notebook's next cell), and the sampling alone.

Prints figures; asserts nothing. Run with `make bench` (or `.venv/bin/python
benchmarks/bench_run.py`). "Cold" uses empty PyTensor and numba compile caches, "warm" the
user's. The three-model run is the configuration of the speed target: the exact beta-binomial,
the hierarchical beta-binomial and the hierarchical logistic model under the reference prior,
with posterior-predictive checks, PSIS-LOO comparison and the report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

EXACT_SPEC = """name = "bench-exact"
[models.beta_binomial]
priors = ["reference", "jeffreys"]
"""
THREE_MODEL_SPEC = """name = "bench-three-models"
[models.beta_binomial]
priors = ["reference"]
[models.hierarchical_beta_binomial]
priors = ["reference"]
[models.hierarchical_logistic]
priors = ["reference"]
"""


def timed(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=False, capture_output=True, env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def cold_caches(tmp: Path) -> dict:
    """Environment with fresh, empty PyTensor and numba caches."""
    cache = Path(tempfile.mkdtemp(dir=tmp))
    return {"PYTENSOR_FLAGS": f"compiledir={cache / 'pytensor'}", "NUMBA_CACHE_DIR": str(cache)}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "bayes_ips.cli", *args]


def machine_speed() -> float:
    """Seconds for a fixed pure-Python loop: the machine's speed at the moment, so that timings
    taken at different times can be compared (on a shared 2-core machine it varies up to 2x)."""
    start = time.perf_counter()
    total = 0
    for i in range(30_000_000):
        total += i
    return time.perf_counter() - start


def main() -> None:
    print(f"machine speed: fixed Python loop {machine_speed():.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bare = min(timed([sys.executable, "-c", "pass"]) for _ in range(3))
        imp = min(timed([sys.executable, "-c", "import bayes_ips"]) for _ in range(3))
        print(f"import bayes_ips: {imp - bare:.3f} s (interpreter start excluded)")

        spec = tmp / "exact.toml"
        spec.write_text(EXACT_SPEC)
        t = min(timed(cli("run", str(spec), "--out", str(tmp / "exact"))) for _ in range(3))
        print(f"bayes-ips run, exact engine only (2 priors x 3 horizons): {t:.2f} s")

        three = tmp / "three.toml"
        three.write_text(THREE_MODEL_SPEC)
        for label, args in (
            ("three models, reference prior", [str(three)]),
            ("default spec (25 fits)", []),
        ):
            cold = timed(cli("run", *args, "--out", str(tmp / "cold")), env=cold_caches(tmp))
            print(f"bayes-ips run, {label}, cold compile caches: {cold:.1f} s")
            warm = sorted(timed(cli("run", *args, "--out", str(tmp / "warm"))) for _ in range(5))
            print(
                f"bayes-ips run, {label}, warm compile caches (5 runs): median {warm[2]:.1f} s, "
                f"range {warm[0]:.1f}-{warm[-1]:.1f} s"
            )
            serial = timed(cli("run", *args, "--jobs", "1", "--out", str(tmp / "serial")))
            print(f"bayes-ips run, {label}, warm, --jobs 1 (no helper process): {serial:.1f} s")
        t = timed(cli("report", str(tmp / "warm")))
        print(f"bayes-ips report (re-render, no sampling): {t:.2f} s")
        again = [sys.executable, "-c", SECOND_RUN, str(three), str(tmp / "again")]
        t = float(subprocess.run(again, check=True, capture_output=True, text=True).stdout)
        print(f"three models, second run in the same Python process (reanalyze, report): {t:.1f} s")

    sampling_alone()
    print(f"machine speed: fixed Python loop {machine_speed():.2f} s")


SECOND_RUN = """
import sys, time
import bayes_ips

if __name__ == "__main__":
    bayes_ips.reanalyze(sys.argv[1]).report(sys.argv[2])
    start = time.perf_counter()
    bayes_ips.reanalyze(sys.argv[1]).report(sys.argv[2])
    print(time.perf_counter() - start)
"""


def sampling_alone() -> None:
    import arviz as az
    import pymc as pm

    from bayes_ips import inference
    from bayes_ips.data import Comparison, load_trial
    from bayes_ips.models import module
    from bayes_ips.priors import get_prior
    from bayes_ips.spec import SamplerSettings

    counts = load_trial("package:ips_in_pain.csv").counts(Comparison())
    family = module("hierarchical_logistic")
    for backend in ("nutpie", "pymc"):
        model = family.build_model(counts, get_prior("reference"))
        settings = replace(SamplerSettings(), backend=backend)
        for i, prior in enumerate(["reference", "neutral_moderate", "optimistic_weak"]):
            pm.set_data(family.prior_data(get_prior(prior)), model=model)
            start = time.perf_counter()
            tree = inference.sample(model, settings, seed=i)
            total = time.perf_counter() - start
            sampling = float(tree["posterior"].attrs.get("sampling_time", float("nan")))
            ess = float(az.ess(tree, var_names=["mu"], method="bulk")["mu"])
            first = "first prior, compiles the model" if i == 0 else "same compiled model"
            print(
                f"hierarchical_logistic / {prior}, {backend} ({first}): fit {total:.1f} s, of "
                f"which NUTS sampling {sampling:.2f} s; ESS(mu) {ess:.0f}, "
                f"{ess / sampling:.0f} ESS/s of sampling"
            )


if __name__ == "__main__":
    main()
