"""Time the default reanalysis: import, exact-only run, full run cold and warm, sampling alone.

Prints figures; asserts nothing. Run with `make bench` (or `.venv/bin/python
benchmarks/bench_run.py`). "Cold" uses an empty PyTensor compile cache, "warm" the user's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXACT_SPEC = """name = "bench-exact"
[models.beta_binomial]
priors = ["reference", "jeffreys"]
"""


def timed(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=False, capture_output=True, env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "bayes_ips.cli", *args]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bare = min(timed([sys.executable, "-c", "pass"]) for _ in range(3))
        imp = min(timed([sys.executable, "-c", "import bayes_ips"]) for _ in range(3))
        print(f"import bayes_ips: {imp - bare:.3f} s (interpreter start excluded)")

        spec = tmp / "exact.toml"
        spec.write_text(EXACT_SPEC)
        t = min(timed(cli("run", str(spec), "--out", str(tmp / "exact"))) for _ in range(3))
        print(f"bayes-ips run, exact engine only (2 priors x 3 horizons): {t:.2f} s")

        cold_cache = tmp / "pytensor"
        cold = timed(
            cli("run", "--out", str(tmp / "cold")),
            env={"PYTENSOR_FLAGS": f"compiledir={cold_cache}"},
        )
        print(f"bayes-ips run, default spec, cold compile cache: {cold:.1f} s")
        warm = timed(cli("run", "--out", str(tmp / "warm")))
        warm = min(warm, timed(cli("run", "--out", str(tmp / "warm"))))
        print(f"bayes-ips run, default spec, warm compile cache: {warm:.1f} s")
        t = timed(cli("report", str(tmp / "warm")))
        print(f"bayes-ips report (re-render, no sampling): {t:.2f} s")

    sampling_alone()


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
    model = family.build_model(counts, get_prior("reference"))
    settings = SamplerSettings()
    for i, prior in enumerate(["reference", "neutral_moderate", "optimistic_weak"]):
        pm.set_data(family.prior_data(get_prior(prior)), model=model)
        start = time.perf_counter()
        tree = inference.sample(model, settings, seed=i)
        total = time.perf_counter() - start
        sampling = float(tree["posterior"].attrs.get("sampling_time", float("nan")))
        ess = float(az.ess(tree, var_names=["mu"], method="bulk")["mu"])
        print(
            f"hierarchical_logistic / {prior} (same compiled model, prior swapped as data): "
            f"fit {total:.1f} s, of which NUTS sampling {sampling:.1f} s; "
            f"ESS(mu) {ess:.0f}, {ess / sampling:.0f} ESS/s of sampling"
        )


if __name__ == "__main__":
    main()
