"""Analysis specs: TOML files in ``models/`` saying which data, models, priors and settings to use.

Specs are parsed with :mod:`tomllib` (a data-only parser: nothing in a spec is executed) and
validated in one pass against a schema (:mod:`bayes_ips.schema`) whose fields are the keys, each
with its default. Every unknown key or value of the wrong type or range is reported at once, one
line each naming the key (an :class:`~bayes_ips.errors.InputError`, or
:class:`~bayes_ips.errors.InputErrors` for several); so is a file that is not UTF-8, not TOML,
larger than 1 MB, nested too deeply or holding an integer too long to read. No key names an
output path: the run folder is ``--out`` or ``reports/<name>`` with a plain ``name``. Keys and
defaults:

- ``title`` (str), ``name`` (run folder name, letters/digits/``-_.``), ``seed`` (int ≥ 0):
  :class:`Document`;
- ``[data]`` ``path`` (file, relative to the spec's folder, or ``package:NAME``), ``treatment``,
  ``control`` (arm labels), ``primary_horizon`` (months), ``verified_only`` (bool), ``outcome``
  (the outcome in words, default "outcome") and ``direction`` (``higher``, the default, when more
  participants with the outcome is better; ``lower`` for deaths, relapses, readmissions):
  :class:`DataSection`;
- ``[models.NAME]`` ``priors`` (list of named priors) for each model to fit: :class:`ModelSection`;
- ``[priors]`` settings of the built-in priors and ``[priors.NAME]`` user-defined priors
  (:mod:`bayes_ips.priors.settings`);
- ``[estimands]`` ``interval``, ``rd_thresholds``, ``rr_thresholds``, ``rope``, ``exact_draws``,
  ``baseline_risk`` (the ARR of the posterior RR at this risk, reported beside the RD):
  :class:`EstimandsSection`;
- ``[sampler]`` ``backend`` (``nutpie``, the default, or ``pymc`` for PyMC's own NUTS),
  ``chains``, ``draws``, ``tune``, ``target_accept``: :class:`SamplerSettings`;
- ``[diagnostics]`` ``rhat_max``, ``ess_min``, ``divergences_max``, ``ebfmi_min``:
  :class:`Thresholds`;
- ``[ipd]`` ``horizons``, ``covariates`` (individual participant data,
  :class:`bayes_ips.data.ipd.IpdSettings`);
- the post-fit analyses' sections, such as ``[missing_data]``
  (:mod:`bayes_ips.analyses.missing_data.options`) and ``[decision]``
  (:mod:`bayes_ips.analyses.decision.options`), whose schemas :func:`load_spec` is given.
"""

from __future__ import annotations

import hashlib
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import pydantic
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bayes_ips.data import Comparison, resolve_path
from bayes_ips.data.ipd import IpdSettings
from bayes_ips.data.trial import DIRECTIONS, bundled_name, file_status
from bayes_ips.errors import InputError
from bayes_ips.estimands import EstimandSettings
from bayes_ips.models import MODEL_NAMES
from bayes_ips.priors.settings import Priors, prior_names
from bayes_ips.schema import (
    SECTION_CONFIG,
    Bool,
    Int,
    Number,
    Section,
    Str,
    between,
    number_list,
    rule,
    rule_error,
    rule_errors,
    validate,
)

DEFAULT_SPEC = "package:default.toml"
MAX_OUTCOME = 80
"""Longest outcome wording ``[data] outcome`` takes (it appears in headings and sentences)."""
MAX_SPEC_BYTES = 1_000_000
MAX_SEED = 2**32 - 1
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
BACKENDS = ("pymc", "nutpie")
QUICK_SAMPLER = {"chains": 2, "draws": 500, "tune": 500}
QUICK_ESS_MIN = 100
QUICK_RHAT_MAX = 1.02
"""Quick runs (smoke tests, demos) use fewer draws, so the ESS threshold drops to
:data:`QUICK_ESS_MIN` and the R-hat threshold rises to :data:`QUICK_RHAT_MAX` (the 1.01 of
Vehtari et al. 2021 presumes 4 chains and an ESS above 400, which 2 × 500 draws do not give); the
report and summary.json say the run was quick."""
QUICK_EXACT_DRAWS = 4000


@pydantic.dataclasses.dataclass(config=SECTION_CONFIG)
class SamplerSettings:
    """The ``[sampler]`` section. A (pydantic) dataclass: callers copy it with
    :func:`dataclasses.replace`, and summary.json lists it with :func:`dataclasses.asdict`."""

    backend: Annotated[Str, rule(lambda v: v in BACKENDS, "must be 'pymc' or 'nutpie'")] = "nutpie"
    chains: Annotated[Int, between(1, 64)] = 4
    draws: Annotated[Int, between(50, 1_000_000)] = 1000
    tune: Annotated[Int, between(50, 1_000_000)] = 1000
    target_accept: Annotated[Number, between(0.5, 0.999)] = 0.9


@pydantic.dataclasses.dataclass(config=SECTION_CONFIG)
class Thresholds:
    """Convergence thresholds, the ``[diagnostics]`` section; a fit passes when all hold. A
    (pydantic) dataclass, like :class:`SamplerSettings`."""

    rhat_max: Annotated[Number, between(1.0, 2.0)] = 1.01
    ess_min: Annotated[Number, between(1, 1e9)] = 400
    divergences_max: Annotated[Int, between(0, 1e9)] = 0
    ebfmi_min: Annotated[Number, between(0.0, 10.0)] = 0.3


def _direction(value: str) -> str:
    if value not in DIRECTIONS:
        raise rule_error(f"must be one of {', '.join(map(repr, DIRECTIONS))}", value=value)
    return value


def _outcome_words(value: str) -> str:
    words = value.strip()
    if not words or len(words) > MAX_OUTCOME or not words.isprintable():
        raise rule_error(
            f"the outcome in words: 1 to {MAX_OUTCOME} printable characters on one line",
            value=value,
        )
    return words


class DataSection(Section):
    """The ``[data]`` section: the trial table and the comparison."""

    path: Str = "package:ips_in_pain.csv"
    treatment: Str = Comparison.treatment
    control: Str = Comparison.control
    primary_horizon: Annotated[Number, between(0.0, 1200.0)] = 12
    verified_only: Bool = False
    outcome: Annotated[Str, AfterValidator(_outcome_words)] = Comparison.outcome
    direction: Annotated[Str, AfterValidator(_direction)] = Comparison.direction


def _some(priors: tuple[str, ...]) -> tuple[str, ...]:
    if not priors:
        raise rule_error("list at least one prior")
    return priors


class ModelSection(Section):
    """A ``[models.NAME]`` table: the named priors the model is fitted under (each must be known,
    :meth:`Document._known_models_and_priors`)."""

    priors: Annotated[tuple[Str, ...], AfterValidator(_some)] = ("reference",)


class EstimandsSection(Section):
    """The ``[estimands]`` section: what to report (:class:`~bayes_ips.estimands.EstimandSettings`,
    whose defaults these are) and how many draws exact posteriors get."""

    interval: Annotated[Number, between(0.5, 0.999)] = EstimandSettings.interval
    rd_thresholds: number_list(-1.0, 1.0) = EstimandSettings.rd_thresholds
    rr_thresholds: number_list(0.0, 1000.0) = EstimandSettings.rr_thresholds
    rope: Annotated[Number, between(0.0, 1.0)] = EstimandSettings.rope
    baseline_risk: Annotated[Number, between(0.0, 1.0)] | None = EstimandSettings.baseline_risk
    exact_draws: Annotated[Int, between(100, 10_000_000)] = 20_000


class Document(Section):
    """A whole spec file: the top-level keys and the core sections, in the order they are
    validated (``models`` after ``priors``, whose names it uses). An absent section is read as an
    empty table, so each default is its field's. :func:`document_schema` adds the post-fit
    analyses' sections."""

    model_config = SECTION_CONFIG | ConfigDict(validate_default=True)

    title: Str = "Bayesian reanalysis"
    name: Annotated[
        Str,
        rule(
            NAME_PATTERN.match,
            "a run name may use letters, digits, '-', '_' and '.', must start with a letter or "
            "digit, and is at most 80 characters",
        ),
    ] = "ips-in-pain"
    seed: Annotated[Int, between(0, MAX_SEED)] = 20221
    data: DataSection = Field(default_factory=dict)
    priors: Priors = Field(default_factory=dict)
    ipd: IpdSettings = Field(default_factory=dict)
    models: dict[str, ModelSection] = Field(default_factory=lambda: {"beta_binomial": {}})
    estimands: EstimandsSection = Field(default_factory=dict)
    sampler: SamplerSettings = Field(default_factory=dict)
    diagnostics: Thresholds = Field(default_factory=dict)

    @field_validator("models")
    @classmethod
    def _known_models_and_priors(
        cls, models: dict[str, ModelSection], info: ValidationInfo
    ) -> dict[str, ModelSection]:
        if not models:
            raise rule_error("list at least one model")
        wrong = [
            rule_error(f"unknown model; known models: {', '.join(MODEL_NAMES)}", value=model)
            for model in models
            if model not in MODEL_NAMES
        ]
        if "priors" in info.data:  # else the [priors] section has errors of its own
            known = prior_names(info.data["priors"])
            wrong += [
                rule_error(
                    f"unknown prior; known priors: {', '.join(known)}",
                    key=f"{model}.priors",
                    value=prior,
                )
                for model, table in models.items()
                for prior in table.priors
                if prior not in known
            ]
        if wrong:
            raise rule_errors(wrong)
        return models

    @model_validator(mode="after")
    def _prior_names_in_sections(self) -> Document:
        """An analysis section that names priors (a ``prior_errors(settings)`` method returning
        the :func:`~bayes_ips.schema.rule_error` of each name it cannot use, keyed below the
        section) is checked against this spec's ``[priors]``."""
        wrong = []
        for name in type(self).model_fields:
            check = getattr(getattr(self, name), "prior_errors", None)
            if check is not None:
                for error in check(self.priors):
                    error.context["key"] = f"{name}.{error.context['key']}"
                    wrong.append(error)
        if wrong:
            raise rule_errors(wrong)
        return self


@lru_cache(maxsize=8)
def document_schema(sections: tuple[tuple[str, type[pydantic.BaseModel]], ...]) -> type[Document]:
    """:class:`Document` with the post-fit analyses' sections ``(name, schema)`` added."""
    return pydantic.create_model(
        "Document",
        __base__=Document,
        __doc__=Document.__doc__,
        **{name: (schema, Field(default_factory=dict)) for name, schema in sections},
    )


@dataclass(frozen=True)
class Spec:
    """An effective analysis spec (defaults merged with the user's file)."""

    origin: str
    sha256: str
    title: str
    name: str
    seed: int
    data_path: str | Path
    comparison: Comparison
    primary_horizon: float
    verified_only: bool
    models: dict[str, tuple[str, ...]]
    estimands: EstimandSettings
    exact_draws: int
    sampler: SamplerSettings
    thresholds: Thresholds
    quick: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    """Settings of the optional sections (``priors``, ``ipd`` and the analyses'), by name."""

    def with_overrides(
        self, *, data=None, treatment=None, control=None, seed=None, quick=False
    ) -> Spec:
        """Apply command-line overrides; ``quick`` shrinks draws for smoke tests and demos."""
        spec = self
        if data is not None:
            spec = replace(spec, data_path=Path(data).expanduser())
        if treatment is not None or control is not None:
            spec = replace(
                spec,
                comparison=replace(
                    spec.comparison,
                    treatment=treatment if treatment is not None else spec.comparison.treatment,
                    control=control if control is not None else spec.comparison.control,
                ),
            )
        if seed is not None:
            if not 0 <= seed <= MAX_SEED:
                raise InputError(
                    "argument",
                    f"the seed must be an integer from 0 to {MAX_SEED}",
                    field="--seed",
                    value=seed,
                )
            spec = replace(spec, seed=seed)
        if quick:
            spec = replace(
                spec,
                quick=True,
                exact_draws=min(spec.exact_draws, QUICK_EXACT_DRAWS),
                sampler=replace(spec.sampler, **QUICK_SAMPLER),
                thresholds=replace(
                    spec.thresholds,
                    ess_min=min(spec.thresholds.ess_min, QUICK_ESS_MIN),
                    rhat_max=max(spec.thresholds.rhat_max, QUICK_RHAT_MAX),
                ),
            )
        return spec


def _read(path: str | Path) -> tuple[bytes, str, Path | None]:
    text = str(path)
    if text.startswith("package:"):
        res = resources.files("bayes_ips").joinpath("specs", bundled_name(text))
        if not res.is_file():
            raise InputError(text, "no bundled spec of that name")
        return res.read_bytes(), text, None
    p = Path(path)
    status = file_status(p, "spec file")
    if not stat.S_ISREG(status.st_mode):
        raise InputError(text, "the spec is not a regular file")
    if status.st_size > MAX_SPEC_BYTES:
        raise InputError(text, "spec file is larger than 1 MB; a spec is a short TOML file")
    try:
        return p.read_bytes(), text, p.resolve().parent
    except OSError as exc:
        raise InputError(text, f"cannot read the spec ({exc.strerror})") from None


def load_spec(path: str | Path, schemas: Mapping[str, type[pydantic.BaseModel]]) -> Spec:
    """Read and validate a spec; every mistake in it is reported at once.

    Parameters
    ----------
    path : str or path-like
        A TOML file, or ``package:default.toml`` for the bundled default (``models/default.toml``).
    schemas : mapping
        The post-fit analyses' spec sections, ``{section: schema}``
        (:func:`bayes_ips.analyses.registry.option_schemas`); each is validated with the rest of
        the file and lands in :attr:`Spec.options` under its name.

    Raises
    ------
    InputError
        The file cannot be read or is not TOML, or one mistake in it;
        :class:`~bayes_ips.errors.InputErrors` for several mistakes, one line each.
    """
    raw, origin, base = _read(path)
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(origin, "the spec is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(origin, f"not valid TOML ({exc})") from None
    except RecursionError:
        raise InputError(origin, "not a usable spec (arrays or tables nested too deeply)") from None
    except ValueError:
        raise InputError(
            origin, "not a usable spec (a number with too many digits, or a date out of range)"
        ) from None
    schema = document_schema(tuple(schemas.items()))
    valid = validate(schema, doc, origin, context={"base": base})
    data, est = valid.data, valid.estimands
    return Spec(
        origin=origin,
        sha256=hashlib.sha256(raw).hexdigest(),
        title=valid.title,
        name=valid.name,
        seed=valid.seed,
        data_path=resolve_path(data.path, base),
        comparison=Comparison(data.treatment, data.control, data.direction, data.outcome),
        primary_horizon=data.primary_horizon,
        verified_only=data.verified_only,
        models={m: tuple(dict.fromkeys(t.priors)) for m, t in valid.models.items()},
        estimands=EstimandSettings(
            interval=est.interval,
            rd_thresholds=est.rd_thresholds,
            rr_thresholds=est.rr_thresholds,
            rope=est.rope,
            baseline_risk=est.baseline_risk,
        ),
        exact_draws=est.exact_draws,
        sampler=valid.sampler,
        thresholds=valid.diagnostics,
        options={name: getattr(valid, name) for name in ("priors", "ipd", *schemas)},
    )
