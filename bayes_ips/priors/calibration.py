"""Calibration helpers: from stated beliefs (tail probabilities, intervals, risk ratios, risk
differences) to distribution parameters. Pure functions, no data."""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special, stats

Z95 = float(stats.norm.isf(0.025))


def sd_from_tail(mean: float, threshold: float, tail: float) -> float:
    """SD of a normal with the given mean that puts probability ``tail`` beyond ``threshold``."""
    return abs(mean - threshold) / stats.norm.isf(tail)


def sd_from_interval(lo: float, hi: float, mass: float = 0.95) -> float:
    """SD of a normal centred between ``lo`` and ``hi`` that puts ``mass`` between them."""
    return (hi - lo) / (2 * stats.norm.isf((1 - mass) / 2))


def logit(p: float) -> float:
    return float(special.logit(p))


def or_from_rd(rd: float, control_rate: float) -> float:
    """The odds ratio of a risk difference ``rd`` at the control rate ``control_rate``.

    Raises
    ------
    ValueError
        When ``control_rate + rd`` is not a rate strictly between 0 and 1.
    """
    treated = control_rate + rd
    if not 0.0 < treated < 1.0:
        raise ValueError(
            f"a risk difference of {rd:g} at a control rate of {control_rate:.3f} leaves (0, 1)"
        )
    return math.exp(logit(treated) - logit(control_rate))


def or_from_rr(rr: float, control_rate: float) -> float:
    """The odds ratio of a risk ratio ``rr`` at the control rate ``control_rate``.

    With treatment rate ``rr * p0``: OR = RR (1 − p0) / (1 − RR p0) (Zhang and Yu, JAMA 1998, read
    backwards). Monotone in RR, so interval ends map to interval ends.

    Raises
    ------
    ValueError
        When ``rr * control_rate >= 1`` (the implied treatment rate is not a probability).
    """
    treated = rr * control_rate
    if not 0.0 < treated < 1.0:
        raise ValueError(
            f"a risk ratio of {rr:g} at a control rate of {control_rate:.3f} implies a treatment "
            f"rate of {treated:.3f}, which is not a probability"
        )
    return rr * (1 - control_rate) / (1 - treated)


def normal_from_median_interval(
    median: float, lo: float, hi: float, *, mass: float = 0.95, tolerance: float = 0.1
) -> tuple[float, float]:
    """Normal (mean, SD) with the given median and central interval (all on the normal's scale).

    The SD comes from the interval's width; the median must sit in the middle of the interval
    (a normal is symmetric) to within ``tolerance`` of the half-width.

    Raises
    ------
    ValueError
        When ``lo < median < hi`` fails or the median is off-centre.
    """
    if not lo < median < hi:
        raise ValueError("the interval must contain the median (lower < median < upper)")
    half = (hi - lo) / 2
    if abs(median - (lo + hi) / 2) > tolerance * half:
        raise ValueError(
            "a normal is symmetric: the median must lie in the middle of the interval "
            f"(here {(lo + hi) / 2:.3f} on the modelling scale)"
        )
    return median, sd_from_interval(lo, hi, mass)


def beta_from_moments(mean: float, var: float) -> tuple[float, float]:
    """Beta(a, b) with the given mean and variance (``0 < var < mean (1 − mean)``)."""
    if not 0 < mean < 1 or not 0 < var < mean * (1 - mean):
        raise ValueError(f"no Beta has mean {mean:g} and variance {var:g}")
    size = mean * (1 - mean) / var - 1
    return mean * size, (1 - mean) * size


def beta_from_median_interval(
    median: float, lo: float, hi: float, *, mass: float = 0.95
) -> tuple[float, float]:
    """Beta(a, b) whose median and central ``mass`` interval best match the given ones.

    Least squares on the logit scale over the three quantiles (two parameters, three
    conditions); the achieved quantiles are the caller's to report.

    Raises
    ------
    ValueError
        When ``0 < lo < median < hi < 1`` fails.
    """
    if not 0 < lo < median < hi < 1:
        raise ValueError("need 0 < lower < median < upper < 1")
    qs = np.array([(1 - mass) / 2, 0.5, (1 + mass) / 2])
    target = special.logit([lo, median, hi])

    def loss(log_ab):
        a, b = np.exp(log_ab)
        return special.logit(stats.beta.ppf(qs, a, b)) - target

    m = median
    size = max(m * (1 - m) / ((hi - lo) / (2 * Z95)) ** 2 - 1, 0.5)
    fit = optimize.least_squares(loss, np.log([m * size, (1 - m) * size]))
    a, b = np.exp(fit.x)
    return float(a), float(b)
