"""Benchmark: the helper processes' sharing of a run's work, and a whole warm run.

Times, for the package on ``PYTHONPATH`` and optionally for an older checkout of it
(``--baseline DIR``, e.g. the tree before :mod:`bayes_ips.runner` replaced ``workers.py``'s
shared-memory board), in a fresh process each:

- the two shares of the default analysis with ``jobs=2`` (one helper, warm): the post-fit analyses
  of ``bayes_ips.reanalyze("models/default.toml")`` and the fit saving and figure rendering of
  ``results.report(...)``; each repeat in the same Python process, as a notebook's next cell would;
  with ``jobs=1`` (everything in this process) for reference;
- ``bayes-ips run models/default.toml`` from the shell, after one run that warms the compile
  caches.

The shares are measured twice per fresh process (the second as a notebook's next cell would), in
``--rounds`` processes; jobs=1 in one. Prints medians; asserts nothing. Run (about 25 minutes with
a baseline, on 2 cores)::

    mkdir /tmp/base && git archive <commit> | tar -x -C /tmp/base   # the tree to compare with
    PYTHONPATH=. python benchmarks/bench_runner.py --baseline /tmp/base [--rounds 3]

Figures on 2 shared cores (Python 3.12, loky 3.7; baseline: the board at commit d58c796; medians
of 6 shares and 3 runs):

==========================================  ===========  ============  =============
median seconds                              board (old)  runner (new)  jobs=1 (new)
==========================================  ===========  ============  =============
share: post-fit analyses, 6 calls           4.73         4.69          7.31
share: fit saving and figures, 41 calls     5.83         5.75          9.83
``bayes-ips run models/default.toml``, warm 28.97        28.83
==========================================  ===========  ============  =============
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = "models/default.toml"
IN_PROCESS = r"""
import json, sys, tempfile, time
import bayes_ips

shares = []


def timing(share, calls_at):
    def timed(*args):
        start = time.perf_counter()
        result = share(*args)
        shares.append((len(args[calls_at]), time.perf_counter() - start))
        return result

    return timed


if __name__ == "__main__":
    try:
        from bayes_ips.runner import Runner

        Runner.share = timing(Runner.share, 1)  # share(self, calls)
    except ImportError:  # the tree with the board
        from bayes_ips import workers

        workers.share = timing(workers.share, 0)  # share(calls, pool)
    jobs, repeats = int(sys.argv[1]), int(sys.argv[2])
    rounds = []
    for _ in range(repeats):
        shares.clear()
        results = bayes_ips.reanalyze(sys.argv[3], jobs=jobs)
        with tempfile.TemporaryDirectory() as tmp:
            results.report(tmp + "/run", jobs=jobs)
        rounds.append(list(shares))
    print(json.dumps(rounds))
"""


def in_process(tree: Path, jobs: int, repeats: int) -> list[list[tuple[int, float]]]:
    """Per repeat: (calls, seconds) of each share, from a fresh process on ``tree``."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(IN_PROCESS)
    try:
        out = subprocess.run(
            [sys.executable, script.name, str(jobs), str(repeats), SPEC],
            env={**os.environ, "PYTHONPATH": str(tree)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    return json.loads(out.strip().splitlines()[-1])


def whole_run(tree: Path, out: Path) -> float:
    """Seconds of one ``bayes-ips run`` of the default spec."""
    cmd = [sys.executable, "-m", "bayes_ips.cli", "run", SPEC, "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(
        cmd, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, check=True
    )
    return time.perf_counter() - start


def line(what: str, seconds: list[float]) -> str:
    each = ", ".join(f"{s:.2f}" for s in seconds)
    return f"  {what}: median {statistics.median(seconds):.2f} s  ({each})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="an older checkout to compare with")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per figure")
    args = parser.parse_args()
    trees = {"this tree": Path(__file__).resolve().parents[1]}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()
    shares = {(label, jobs): [] for label in trees for jobs in (2, 1)}
    runs = {label: [] for label in trees}
    # Trees take turns in every round, so a drift in the machine's speed touches both alike.
    for r in range(args.rounds):
        for label, tree in trees.items():
            for jobs in (2, 1) if r == 0 else (2,):
                shares[label, jobs] += in_process(tree, jobs, 2)
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds + 1):  # the first run of each warms the compile caches
            for label, tree in trees.items():
                seconds = whole_run(tree, Path(tmp) / f"{label}-{r}".replace(" ", "-"))
                if r:
                    runs[label].append(seconds)
    for label, tree in trees.items():
        print(f"{label} ({tree}):")
        for jobs in (2, 1):
            rounds = shares[label, jobs]
            for k, what in enumerate(("post-fit analyses", "fits and figures")):
                calls = rounds[0][k][0]
                print(
                    line(f"share, {what} ({calls} calls), jobs={jobs}", [x[k][1] for x in rounds])
                )
        print(line(f"bayes-ips run {SPEC}, warm", runs[label]))


if __name__ == "__main__":
    main()
