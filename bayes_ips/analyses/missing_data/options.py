"""The ``[missing_data]`` spec section: the δ grid, the tipping-point thresholds and the prior."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayes_ips.errors import InputError
from bayes_ips.priors.library import default_settings, prior_names
from bayes_ips.spec import check_keys

SEARCH_LIMIT = 12.0
"""The largest |δ| (log odds ratio) searched for a tipping point: e¹² is practically "all" or
"none"."""


@dataclass(frozen=True)
class MissingSettings:
    """The ``[missing_data]`` spec section.

    Attributes
    ----------
    enabled : bool
        Run the missing-outcome analyses (default True).
    delta_min, delta_max, delta_step : float
        The δ grid (log odds ratio, missing vs observed) of the curves and the heat map.
    thresholds : tuple of float
        P(benefit) levels whose tipping points are reported.
    prior : str
        A named prior with a rate component (Beta on each arm's rate).
    """

    enabled: bool = True
    delta_min: float = -3.0
    delta_max: float = 3.0
    delta_step: float = 0.25
    thresholds: tuple[float, ...] = (0.9, 0.8)
    prior: str = "reference"

    @property
    def deltas(self) -> np.ndarray:
        n = round((self.delta_max - self.delta_min) / self.delta_step)
        return np.round(self.delta_min + self.delta_step * np.arange(n + 1), 10)


_KEYS = {
    "enabled": bool,
    "delta_min": float,
    "delta_max": float,
    "delta_step": float,
    "thresholds": list,
    "prior": str,
}


def parse_options(table: dict, origin: str) -> MissingSettings:
    """Validate the ``[missing_data]`` spec section (see :class:`MissingSettings`)."""
    check_keys(table, _KEYS, origin, "missing_data.")
    s = MissingSettings(
        enabled=table.get("enabled", True),
        delta_min=float(table.get("delta_min", -3.0)),
        delta_max=float(table.get("delta_max", 3.0)),
        delta_step=float(table.get("delta_step", 0.25)),
        thresholds=tuple(float(t) for t in table.get("thresholds", [0.9, 0.8])),
        prior=table.get("prior", "reference"),
    )
    for name in ("delta_min", "delta_max"):
        value = getattr(s, name)
        if not -SEARCH_LIMIT <= value <= SEARCH_LIMIT:
            raise InputError(
                origin,
                f"must be between {-SEARCH_LIMIT:g} and {SEARCH_LIMIT:g} (log odds ratio)",
                field=f"missing_data.{name}",
                value=value,
            )
    if not s.delta_min < 0 < s.delta_max:
        raise InputError(
            origin,
            "delta_min must be below 0 and delta_max above 0 (the grid contains δ = 0, MAR)",
            field="missing_data.delta_min",
            value=s.delta_min,
        )
    span = (s.delta_max - s.delta_min) / s.delta_step if s.delta_step > 0 else -1
    if not 2 <= span <= 240 or abs(span - round(span)) > 1e-9:
        raise InputError(
            origin,
            "delta_step must be positive, divide delta_max − delta_min evenly and give at most "
            "241 grid points",
            field="missing_data.delta_step",
            value=s.delta_step,
        )
    if abs(s.delta_min / s.delta_step - round(s.delta_min / s.delta_step)) > 1e-9:
        raise InputError(
            origin,
            "delta_min must be a multiple of delta_step, so that δ = 0 is on the grid",
            field="missing_data.delta_min",
            value=s.delta_min,
        )
    if not s.thresholds or not all(0 < t < 1 for t in s.thresholds):
        raise InputError(
            origin,
            "list at least one probability strictly between 0 and 1",
            field="missing_data.thresholds",
            value=list(s.thresholds),
        )
    known = prior_names(default_settings())
    if s.prior not in known:
        raise InputError(
            origin,
            f"must name a built-in prior with a rate component: {', '.join(known)}",
            field="missing_data.prior",
            value=s.prior,
        )
    return s
