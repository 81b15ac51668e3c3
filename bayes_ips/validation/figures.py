"""SBC figures: rank histograms and ECDF-difference plots, one panel per parameter component.

Both use the report's matplotlib style and render to SVG (:class:`bayes_ips.report.figures.Figure`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from bayes_ips.report.style import OKABE_ITO, STYLE, Figure, render
from bayes_ips.validation.sbc import SBCResult
from bayes_ips.validation.uniformity import components, simultaneous_band

MAX_BINS = 20
PER_BIN = 10
"""Rank histograms use up to 20 bins with at least 10 expected simulations in each."""
COLUMNS = 5
PASS_COLOUR, FAIL_COLOUR, BAND_COLOUR = OKABE_ITO[0], OKABE_ITO[5], "0.85"


def _grid(n: int):
    rows = -(-n // COLUMNS)
    cols = min(n, COLUMNS)
    fig, axes = plt.subplots(
        rows, cols, figsize=(2.4 * cols, 2.1 * rows), squeeze=False, sharex=True, sharey=True
    )
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def rank_histograms(result: SBCResult) -> Figure:
    """Histograms of the fractional ranks with a pointwise 99% binomial band per bin."""
    comps = components(result.pit)
    verdict = {c["parameter"]: c["passed"] for c in result.checks}
    n = result.pit.sizes["simulation"]
    bins = max(2, min(MAX_BINS, n // PER_BIN))
    lo, hi = stats.binom.ppf([0.005, 0.995], n, 1 / bins)
    edges = np.linspace(0, 1, bins + 1)
    with plt.rc_context(STYLE):
        fig, axes = _grid(len(comps))
        for ax, (label, da) in zip(axes, comps, strict=False):
            ax.axhspan(lo, hi, color=BAND_COLOUR, lw=0)
            ax.axhline(n / bins, color="0.4", lw=0.8, ls="--")
            colour = PASS_COLOUR if verdict[label] else FAIL_COLOUR
            ax.hist(da.to_numpy(), bins=edges, color=colour, alpha=0.85)
            ax.set_title(label, fontsize=8, color="black" if verdict[label] else FAIL_COLOUR)
            ax.grid(False)
        for ax in axes[-COLUMNS:]:
            ax.set_xlabel("fractional rank", fontsize=8)
        fig.tight_layout()
    return render(
        fig,
        f"sbc_ranks_{result.model}",
        f"{result.model}: rank histograms of {n} simulations ({bins} bins); the grey band holds "
        "99% of bin counts of uniform ranks (pointwise), the dashed line the expected count.",
        f"Histograms of the fractional ranks of each parameter of {result.model} over {n} "
        "simulations, with the range expected for uniform ranks shaded.",
    )


def ecdf_differences(result: SBCResult) -> Figure:
    """ECDF of the fractional ranks minus the uniform CDF, with the simultaneous band."""
    comps = components(result.pit)
    verdict = {c["parameter"]: c["passed"] for c in result.checks}
    n = result.pit.sizes["simulation"]
    band = simultaneous_band(n, 1 - result.settings.alpha)
    with plt.rc_context(STYLE):
        fig, axes = _grid(len(comps))
        for ax, (label, da) in zip(axes, comps, strict=False):
            ax.fill_between(
                band.x, band.lower - band.x, band.upper - band.x, step="post", color=BAND_COLOUR
            )
            ax.axhline(0, color="0.4", lw=0.8, ls="--")
            u = np.sort(da.to_numpy())
            x = np.concatenate([[0.0], u, [1.0]])
            ecdf = np.concatenate([[0.0], np.arange(1, n + 1) / n, [1.0]])
            colour = PASS_COLOUR if verdict[label] else FAIL_COLOUR
            ax.step(x, ecdf - x, where="post", color=colour, lw=1.2)
            ax.set_title(label, fontsize=8, color="black" if verdict[label] else FAIL_COLOUR)
        for ax in axes[-COLUMNS:]:
            ax.set_xlabel("fractional rank", fontsize=8)
        fig.tight_layout()
    return render(
        fig,
        f"sbc_ecdf_{result.model}",
        f"{result.model}: ECDF of the fractional ranks minus the uniform CDF; the grey area is "
        f"the simultaneous {band.prob:.0%} band for {n} uniform values (ArviZ ecdf_pit).",
        f"Difference between the empirical CDF of each parameter's fractional ranks and the "
        f"uniform CDF for {result.model}, with the band a calibrated model stays inside.",
    )
