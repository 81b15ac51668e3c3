"""External evidence: the table of other trials and meta-analyses, and the ``evidence_*`` priors.

The table (bundled as ``package:external_evidence.csv``; a user may supply their own in the same
format) has one row per study with the columns :data:`COLUMNS`. A row may give trial counts
(``ips_events, ips_n, control_events, control_n``: used by the meta-analytic-predictive prior) and
/or a published estimate with its 95% CI (``measure`` OR or RR, ``estimate, ci_low, ci_high``:
turned into an ``evidence_<study>`` prior).

Recipe of an ``evidence_*`` prior:

1. a risk ratio is converted to an odds ratio at the anchor control rate ``p0`` by
   ``OR = RR (1 − p0) / (1 − RR p0)``, applied to the estimate and to both CI ends (the map is
   increasing, so the interval stays an interval); an RR with ``RR · p0 ≥ 1`` cannot be converted
   and the prior is unavailable (the reason is listed);
2. normal on the log OR with mean ``log(OR)`` and SD ``(log hi − log lo) / (2 × 1.96)``;
3. down-weighted by inflating the variance to ``SD² / w`` (``w`` the evidence weight, 0.5 by
   default), i.e. the prior counts as ``w`` times the information of the published estimate.

A row that reports a risk ratio also gives ``evidence_<study>_rr``: the same recipe on the log RR
directly (steps 2 and 3 with ``log RR``, no conversion), for the log-binomial models. The
converted ``evidence_<study>`` stays available for the logistic models.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bayes_ips.data import resolve_path
from bayes_ips.errors import InputError
from bayes_ips.priors.calibration import Z95, or_from_rr
from bayes_ips.priors.community import effect_prior
from bayes_ips.priors.core import NormalEffect, Prior

DEFAULT_EVIDENCE = "package:external_evidence.csv"
COLUMNS = (
    "study",
    "population",
    "horizon_months",
    "outcome",
    "ips_events",
    "ips_n",
    "control_events",
    "control_n",
    "measure",
    "estimate",
    "ci_low",
    "ci_high",
    "counts_status",
    "source_url",
    "quote",
)
COUNTS = ("ips_events", "ips_n", "control_events", "control_n")
MEASURES = ("OR", "RR")
RR_SUFFIX = "_rr"


@dataclass(frozen=True)
class Study:
    """One row of the external evidence table."""

    study: str
    population: str
    outcome: str
    counts: tuple[int, int, int, int] | None
    """``(treatment events, treatment n, control events, control n)`` or None."""
    measure: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    counts_status: str
    source_url: str
    line: int

    @property
    def prior_name(self) -> str:
        """``evidence_<study slug>``: the study label before any parenthesis, lower case."""
        label = self.study.split("(")[0]
        return "evidence_" + re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")

    @property
    def prior_names(self) -> list[str]:
        """The names of the priors the row gives: :attr:`prior_name` on the log OR and, for a
        risk ratio, ``<prior_name>_rr`` on the log RR."""
        if not self.measure:
            return []
        return [self.prior_name] + ([self.prior_name + RR_SUFFIX] if self.measure == "RR" else [])


def _number(value: str, origin: str, line: int, column: str, *, whole: bool) -> float | None:
    text = value.strip()
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        raise InputError(origin, "must be a number", row=line, field=column, value=value) from None
    if not math.isfinite(number) or number < 0 or (whole and number != int(number)):
        rule = "must be a non-negative whole number" if whole else "must be a positive number"
        raise InputError(origin, rule, row=line, field=column, value=value)
    return number


def _read(path: str | Path) -> tuple[str, str]:
    from importlib import resources

    text = str(path)
    if text.startswith("package:"):
        res = resources.files("bayes_ips.data").joinpath(text[len("package:") :])
        if not res.is_file():
            raise InputError(text, "no bundled evidence table of that name")
        return res.read_text(encoding="utf-8"), text
    p = Path(path)
    if not p.is_file():
        raise InputError(text, "evidence table not found")
    try:
        return p.read_text(encoding="utf-8-sig"), text
    except UnicodeDecodeError:
        raise InputError(text, "not UTF-8 text; save the table as UTF-8 CSV") from None


def evidence_sha256(path: str | Path = DEFAULT_EVIDENCE, base: Path | None = None) -> str:
    """SHA-256 of the evidence table's text (its provenance in summary.json)."""
    return hashlib.sha256(_read(resolve_path(path, base))[0].encode("utf-8")).hexdigest()


def load_evidence(path: str | Path = DEFAULT_EVIDENCE, base: Path | None = None) -> list[Study]:
    """Read and validate an external evidence table.

    Raises
    ------
    InputError
        Missing columns; counts that are not whole numbers, with events above n, n of 0, or only
        some of the four given; a measure other than OR or RR; an estimate without a CI or a CI
        that does not contain it; two rows with the same prior name.
    """
    text, origin = _read(resolve_path(path, base))
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(origin, f"not a well-formed CSV table ({str(exc).strip()})") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(origin, f"missing column(s): {', '.join(missing)}")
    studies, names = [], {}
    for i, row in enumerate(frame.to_dict("records")):
        line = i + 2
        if not row["study"].strip():
            raise InputError(origin, "every row needs a study label", row=line, field="study")
        counts = [_number(row[c], origin, line, c, whole=True) for c in COUNTS]
        if any(c is None for c in counts) and not all(c is None for c in counts):
            raise InputError(origin, "give all four counts or none", row=line, field="ips_events")
        if counts[0] is not None:
            for ev, n, col in ((counts[0], counts[1], "ips"), (counts[2], counts[3], "control")):
                if n == 0 or ev > n:
                    raise InputError(
                        origin, "need 0 <= events <= n and n > 0", row=line, field=f"{col}_n"
                    )
        measure = row["measure"].strip().upper()
        est, lo, hi = (
            _number(row[c], origin, line, c, whole=False) for c in ("estimate", "ci_low", "ci_high")
        )
        if measure:
            if measure not in MEASURES:
                raise InputError(
                    origin, "measure must be OR or RR", row=line, field="measure", value=measure
                )
            if est is None or lo is None or hi is None or not 0 < lo < est < hi:
                raise InputError(
                    origin,
                    "an estimate needs a 95% CI with 0 < ci_low < estimate < ci_high",
                    row=line,
                    field="estimate",
                    value=row["estimate"],
                )
        study = Study(
            study=row["study"].strip(),
            population=row["population"].strip(),
            outcome=row["outcome"].strip(),
            counts=None if counts[0] is None else tuple(int(c) for c in counts),
            measure=measure,
            estimate=est if measure else None,
            ci_low=lo if measure else None,
            ci_high=hi if measure else None,
            counts_status=row["counts_status"].strip(),
            source_url=row["source_url"].strip(),
            line=line,
        )
        for name in study.prior_names:
            if name in names:
                raise InputError(
                    origin,
                    f"two studies give the prior name {name!r} (lines {names[name]} and {line}); "
                    "make the labels distinct",
                    row=line,
                    field="study",
                    value=study.study,
                )
            names[name] = line
        studies.append(study)
    return studies


def evidence_names(studies: list[Study]) -> list[str]:
    """Names of the ``evidence_*`` priors the table defines."""
    return [name for s in studies for name in s.prior_names]


def evidence_prior(study: Study, control_rate: float, weight: float) -> Prior:
    """The ``evidence_*`` prior of one study on the log OR (see the module docstring).

    Raises
    ------
    ValueError
        When a risk ratio cannot be converted at this control rate.
    """
    assert study.estimate is not None and study.ci_low is not None and study.ci_high is not None
    values = (study.estimate, study.ci_low, study.ci_high)
    if study.measure == "RR":
        est, lo, hi = (or_from_rr(v, control_rate) for v in values)
        conversion = (
            f" converted to the odds-ratio scale at the control rate {100 * control_rate:.1f}% "
            f"with OR = RR(1 − p0)/(1 − RR·p0): OR {est:.2f} ({lo:.2f}–{hi:.2f});"
        )
    else:
        est, lo, hi = values
        conversion = ";"
    return _weighted(study, study.prior_name, (est, lo, hi), "log_or", conversion, weight)


def evidence_rr_prior(study: Study, weight: float) -> Prior:
    """The ``evidence_*_rr`` prior of a study reporting a risk ratio: on the log RR directly."""
    assert study.estimate is not None and study.ci_low is not None and study.ci_high is not None
    values = (study.estimate, study.ci_low, study.ci_high)
    return _weighted(study, study.prior_name + RR_SUFFIX, values, "log_rr", ";", weight)


def _weighted(
    study: Study, name: str, values: tuple, scale: str, conversion: str, weight: float
) -> Prior:
    """Normal on the log ratio from an estimate and its 95% CI, variance inflated by 1/w."""
    est, lo, hi = values
    sd = (math.log(hi) - math.log(lo)) / (2 * Z95)
    effect = NormalEffect(math.log(est), sd / math.sqrt(weight), scale)
    recipe = (
        f"{study.study}, {study.population}, {study.outcome}: {study.measure} "
        f"{study.estimate:.2f} ({study.ci_low:.2f}–{study.ci_high:.2f}) "
        f"[{study.source_url or 'source not stated'}]{conversion} normal on the "
        f"{effect.scale_name} with mean {math.log(est):.3f} and SD {sd:.3f} from the 95% CI, "
        f"variance inflated by 1/w = {1 / weight:.3g} (evidence weight w = {weight:g}) to SD "
        f"{effect.sd:.3f}, because the evidence comes from another population."
    )
    return effect_prior(name, recipe, effect, "evidence")


def evidence_priors(
    studies: list[Study], control_rate: float, weight: float
) -> tuple[list[Prior], dict[str, str]]:
    """Every available ``evidence_*`` prior, and the reason for each unavailable one."""
    priors, unavailable = [], {}
    for study in studies:
        if not study.measure:
            continue
        try:
            priors.append(evidence_prior(study, control_rate, weight))
        except ValueError as exc:
            unavailable[study.prior_name] = str(exc)
        if study.measure == "RR":
            priors.append(evidence_rr_prior(study, weight))
    return priors, unavailable
