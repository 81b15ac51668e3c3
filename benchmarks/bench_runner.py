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

Prints medians; asserts nothing. Run (about 15 minutes with a baseline, on 2 cores)::

    git archive <commit> | tar -x -C /tmp/base     # the tree to compare with
    PYTHONPATH=. python benchmarks/bench_runner.py --baseline /tmp/base [--repeats 3]

Figures on 2 shared cores (Python 3.12, loky 3.7; baseline: the board at commit d58c796):

================================  ===========  ===========
median seconds                    board (old)  runner (new)
================================  ===========  ===========
post-fit analyses, 6 calls        fill         fill
fits and figures, 41 calls        fill         fill
``bayes-ips run`` default, warm   fill         fill
================================  ===========  ===========
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


def whole_run(tree: Path, repeats: int) -> list[float]:
    """Seconds of ``bayes-ips run`` of the default spec (after one unmeasured run)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats + 1):
            cmd = [sys.executable, "-m", "bayes_ips.cli", "run", SPEC, "--out", f"{tmp}/run{i}"]
            start = time.perf_counter()
            subprocess.run(cmd, env=env, capture_output=True, check=True)
            if i:
                times.append(time.perf_counter() - start)
    return times


def report(label: str, tree: Path, repeats: int) -> None:
    print(f"{label} ({tree}):", flush=True)
    for jobs in (2, 1):
        rounds = in_process(tree, jobs, repeats)
        for k, what in enumerate(("post-fit analyses", "fits and figures")):
            seconds = [r[k][1] for r in rounds]
            print(
                f"  share, {what} ({rounds[0][k][0]} calls), jobs={jobs}: median "
                f"{statistics.median(seconds):.2f} s  ({', '.join(f'{s:.2f}' for s in seconds)})",
                flush=True,
            )
    seconds = whole_run(tree, repeats)
    print(
        f"  bayes-ips run {SPEC}, warm: median {statistics.median(seconds):.1f} s  "
        f"({', '.join(f'{s:.1f}' for s in seconds)})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="an older checkout to compare with")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1]
    report("this tree", here, args.repeats)
    if args.baseline is not None:
        report("baseline", args.baseline.resolve(), args.repeats)


if __name__ == "__main__":
    main()
