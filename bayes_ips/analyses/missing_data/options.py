"""The ``[missing_data]`` spec section: the δ grid, the tipping-point thresholds and the prior."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import AfterValidator, PlainValidator, model_validator

from bayes_ips.priors.settings import default_settings, prior_names
from bayes_ips.schema import Bool, Float, Section, Str, rule, rule_error

SEARCH_LIMIT = 12.0
"""The largest |δ| (log odds ratio) searched for a tipping point: e¹² is practically "all" or
"none"."""

Delta = Annotated[
    Float,
    rule(
        lambda v: -SEARCH_LIMIT <= v <= SEARCH_LIMIT,
        f"must be between {-SEARCH_LIMIT:g} and {SEARCH_LIMIT:g} (log odds ratio)",
    ),
]


def _thresholds(values) -> tuple[float, ...]:
    if not isinstance(values, list | tuple):
        raise rule_error("must be of type list", value=values)
    ok = all(not isinstance(t, bool) and isinstance(t, int | float) and 0 < t < 1 for t in values)
    if not values or not ok:
        raise rule_error("list at least one probability strictly between 0 and 1", value=values)
    return tuple(float(t) for t in values)


def _rate_prior(name: str) -> str:
    known = prior_names(default_settings())
    if name not in known:
        raise rule_error(
            f"must name a built-in prior with a rate component: {', '.join(known)}", value=name
        )
    return name


class MissingSettings(Section):
    """The ``[missing_data]`` spec section.

    Attributes
    ----------
    enabled : bool
        Run the missing-outcome analyses (default True).
    delta_min, delta_max, delta_step : float
        The δ grid (log odds ratio, missing vs observed) of the curves and the heat map: it
        holds δ = 0 (MAR) and at most 241 points.
    thresholds : tuple of float
        P(benefit) levels whose tipping points are reported.
    prior : str
        A named prior with a rate component (Beta on each arm's rate).
    """

    enabled: Bool = True
    delta_min: Delta = -3.0
    delta_max: Delta = 3.0
    delta_step: Float = 0.25
    thresholds: Annotated[tuple[float, ...], PlainValidator(_thresholds)] = (0.9, 0.8)
    prior: Annotated[Str, AfterValidator(_rate_prior)] = "reference"

    @model_validator(mode="after")
    def _grid(self) -> MissingSettings:
        if not self.delta_min < 0 < self.delta_max:
            raise rule_error(
                "delta_min must be below 0 and delta_max above 0 (the grid contains δ = 0, MAR)",
                key="delta_min",
                value=self.delta_min,
            )
        step = self.delta_step
        span = (self.delta_max - self.delta_min) / step if step > 0 else -1
        if not 2 <= span <= 240 or abs(span - round(span)) > 1e-9:
            raise rule_error(
                "delta_step must be positive, divide delta_max − delta_min evenly and give at "
                "most 241 grid points",
                key="delta_step",
                value=step,
            )
        if abs(self.delta_min / step - round(self.delta_min / step)) > 1e-9:
            raise rule_error(
                "delta_min must be a multiple of delta_step, so that δ = 0 is on the grid",
                key="delta_min",
                value=self.delta_min,
            )
        return self

    @property
    def deltas(self) -> np.ndarray:
        n = round((self.delta_max - self.delta_min) / self.delta_step)
        return np.round(self.delta_min + self.delta_step * np.arange(n + 1), 10)
