"""Time one batch of independent runs: local processes against a 2-worker Dask LocalCluster.

Prints figures; asserts nothing. Run with `make bench` (or `.venv/bin/python
benchmarks/bench_batch.py [--runs N] [--spec PATH]`). The batch is N copies of one spec (default
models/quick_demo.toml: one exact and one MCMC fit) that differ only in name and seed. Each mode
runs the batch twice into a fresh folder: "first" includes starting the worker processes and
importing the package in them, "again" (with --force) reuses the warm workers of the Dask
cluster; local processes are started anew by each batch. A third call without --force times the
skip of every unchanged spec. The cluster's own start-up time is printed separately.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

from bayes_ips.batch import run_batch

ROOT = Path(__file__).resolve().parents[1]


def copies(spec: Path, n: int, folder: Path) -> list[Path]:
    """N copies of ``spec`` with distinct names and seeds (data paths resolved as in the source)."""
    text = spec.read_text(encoding="utf-8")
    text = re.sub(
        r'(?m)^path = "(?!package:)(.*)"', lambda m: f'path = "{spec.parent / m[1]}"', text
    )
    out = []
    for i in range(n):
        body = re.sub(r"(?m)^name = .*$", f'name = "bench-{i}"', text)
        body = re.sub(r"(?m)^seed = .*$", f"seed = {1000 + i}", body)
        path = folder / f"bench-{i}.toml"
        path.write_text(body, encoding="utf-8")
        out.append(path)
    return out


def timed(label: str, **kwargs) -> float:
    start = time.perf_counter()
    result = run_batch(**kwargs)
    seconds = time.perf_counter() - start
    statuses = sorted({r.status for r in result.runs})
    print(f"  {label:<44} {seconds:7.1f} s   ({', '.join(statuses)})")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4, help="runs in the batch (default 4)")
    parser.add_argument("--spec", type=Path, default=ROOT / "models" / "quick_demo.toml")
    args = parser.parse_args()
    from distributed import LocalCluster

    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"  # so summary.json can be compared byte for byte

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        specs = copies(args.spec, args.runs, tmp)
        print(f"batch of {args.runs} runs of {args.spec.name}")
        print("local processes (--jobs 2):")
        timed("first", specs=specs, out=tmp / "local", jobs=2)
        timed("again (--force)", specs=specs, out=tmp / "local", jobs=2, force=True)
        timed("again, unchanged (all skipped)", specs=specs, out=tmp / "local", jobs=2)

        start = time.perf_counter()
        with LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        ) as cluster:
            up = time.perf_counter() - start
            print(f"Dask LocalCluster, 2 workers x 1 thread (start-up {up:.1f} s):")
            address = cluster.scheduler_address
            timed("first", specs=specs, out=tmp / "dask", scheduler=address)
            timed(
                "again (--force, warm workers)",
                specs=specs,
                out=tmp / "dask",
                scheduler=address,
                force=True,
            )
            timed(
                "again, unchanged (all skipped)", specs=specs, out=tmp / "dask", scheduler=address
            )
        same = all(
            (tmp / "dask" / f"bench-{i}" / "summary.json").read_bytes()
            == (tmp / "local" / f"bench-{i}" / "summary.json").read_bytes()
            for i in range(args.runs)
        )
        print(f"summary.json byte-identical, local processes vs Dask: {same}")


if __name__ == "__main__":
    main()
