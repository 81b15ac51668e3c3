"""The post-fit analyses: one folder each, listed once in :mod:`bayes_ips.analyses.registry`.

An analysis runs after every model × prior has been fitted. Its folder holds all of it:

- ``options.py``: the schema of its spec section (``[decision]``, ``[missing_data]``), if it
  has one;
- compute modules: from the run context and the fits to a JSON-ready dict, stored in
  summary.json under the analysis's summary key;
- ``view.py``: its report sections, built from summary.json alone (so a finished run
  re-renders without its analyses), and its figures, drawn from the saved fits;
- ``templates/``: ``<section>.html.j2`` and ``<section>.md.j2`` for each section;
- ``__init__.py``: the :class:`Analysis` that ties them together.

To add an analysis, make its folder and add its :class:`Analysis` to
:data:`bayes_ips.analyses.registry.ANALYSES`; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from bayes_ips.context import Fitted, RunContext
from bayes_ips.report import Section
from bayes_ips.report.figures import FigureBuilder

Step = Callable[[RunContext, Fitted], dict | None]
"""``step(ctx, fitted) -> dict | None``: one summary.json entry (None: not run for this spec)."""
Check = Callable[[RunContext], None]
"""``check(ctx)``: raise :class:`~bayes_ips.errors.InputError` for a setting that only the data or
the prior library can show to be unusable, before anything is fitted."""


@dataclass(frozen=True)
class Analysis:
    """One post-fit analysis.

    Attributes
    ----------
    name : str
        Its folder, and its spec section's name when it has one.
    steps : tuple of (str, Step)
        ``(summary key, step)`` in order; each result is stored under its key in summary.json.
    sections : tuple of Section
        Its report sections, in order.
    figures : tuple of FigureBuilder
        Its report figures, in order: ``builder(fits, summary) -> Figure | None``.
    figure_data : tuple of str
        Paths of its summary arrays that only its figures draw (a heat-map grid, a curve):
        they are written to ``figures/figure_data.json`` rather than summary.json, as
        :func:`bayes_ips.report.summary.split_figure_data` reads them (``"key.sub[].array"``).
    options : type of pydantic.BaseModel, optional
        The schema of its spec section ``[name]``, a :class:`bayes_ips.schema.Section` whose
        fields are the section's keys with their defaults; the spec loader validates the section
        with the rest of the spec (an absent section as an empty table), and the instance reaches
        the steps as ``ctx.options(name)``.
    check : Check, optional
        Run on the prepared run context before any fit (:data:`Check`).
    """

    name: str
    steps: tuple[tuple[str, Step], ...]
    sections: tuple[Section, ...] = ()
    figures: tuple[FigureBuilder, ...] = ()
    figure_data: tuple[str, ...] = ()
    options: type[BaseModel] | None = None
    check: Check | None = None
