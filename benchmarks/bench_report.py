"""How long re-rendering a report takes: ``bayes-ips report RUN_DIR`` end to end, and its parts.

Usage::

    python benchmarks/bench_report.py [RUN_DIR] [--repeat N]

Without RUN_DIR a quick run of the bundled analysis is made in a temporary folder first. Prints
wall times (best and median of N) for the whole command in a fresh process (imports included)
and, in this process, for loading the run, drawing the figures, rendering HTML and Markdown, and
writing the run folder; plus the sizes of report.html and the figures. No assertions: figures to
read, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _timed(fn, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def _row(label: str, best: float, median: float) -> None:
    print(f"{label:<38} best {best:6.2f} s   median {median:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", help="a finished run folder (default: make one)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(args.run_dir) if args.run_dir else Path(tmp) / "run"
        if not args.run_dir:
            cmd = [sys.executable, "-m", "bayes_ips.cli", "run", "--quick", "--out", str(run_dir)]
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            print(f"made a quick run in {time.perf_counter() - start:.1f} s: {run_dir}")

        def command():
            subprocess.run(
                [sys.executable, "-m", "bayes_ips.cli", "report", str(run_dir)],
                check=True,
                capture_output=True,
            )

        _row("bayes-ips report RUN_DIR (new process)", *_timed(command, args.repeat)[:2])

        from bayes_ips import api
        from bayes_ips.analyses.registry import layout
        from bayes_ips.report import render_html, render_markdown
        from bayes_ips.report.figures import all_figures

        best, med, results = _timed(lambda: api.load_run(run_dir), args.repeat)
        _row("  load summary.json and fits", best, med)
        best, med, figures = _timed(
            lambda: all_figures(results.fits, results.summary_data, layout().figures), args.repeat
        )
        _row(f"  draw {len(figures)} figures", best, med)
        best, med, html = _timed(
            lambda: render_html(results.summary_data, figures, layout()), args.repeat
        )
        _row("  render HTML", best, med)
        best, med, _ = _timed(
            lambda: render_markdown(results.summary_data, figures, layout()), args.repeat
        )
        _row("  render Markdown", best, med)
        best, med, _ = _timed(lambda: api.write_run(run_dir, results), args.repeat)
        _row("  write the run folder (fits, figures, reports)", best, med)

        fits = len(results.fits)
        print(f"fits: {fits}; report.html {len(html.encode()) / 1e6:.2f} MB")
        for fig in figures:
            print(f"  figures/{fig.name}.svg {len(fig.svg.encode()) / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
