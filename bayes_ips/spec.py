"""Analysis specs: TOML files in ``models/`` saying which data, models, priors and settings to use.

Specs are parsed with :mod:`tomllib` (a data-only parser: nothing in a spec is executed). The
effective spec is ``DEFAULTS | user``, key by key; an unknown key or a value of the wrong type or
range is an :class:`~bayes_ips.errors.InputError` naming the key, and so is a file that is not
UTF-8, not TOML, larger than 1 MB, nested too deeply or holding an integer too long to read. No key
names an output path: the run folder is ``--out`` or ``reports/<name>`` with a plain ``name``.
Keys and defaults:

- ``title`` (str), ``name`` (run folder name, letters/digits/``-_.``), ``seed`` (int ≥ 0);
- ``[data]`` ``path`` (file, relative to the spec's folder, or ``package:NAME``), ``treatment``,
  ``control`` (arm labels), ``primary_horizon`` (months), ``verified_only`` (bool);
- ``[models.NAME]`` ``priors`` (list of named priors) for each model to fit;
- ``[priors]`` settings of the built-in priors and ``[priors.NAME]`` user-defined priors
  (:mod:`bayes_ips.priors.settings`);
- ``[estimands]`` ``interval``, ``rd_thresholds``, ``rr_thresholds``, ``rope``, ``exact_draws``;
- ``[sampler]`` ``backend`` (``nutpie``, the default, or ``pymc`` for PyMC's own NUTS),
  ``chains``, ``draws``, ``tune``, ``target_accept``;
- ``[diagnostics]`` ``rhat_max``, ``ess_min``, ``divergences_max``, ``ebfmi_min``;
- ``[ipd]`` ``horizons``, ``covariates`` (individual participant data,
  :func:`bayes_ips.data.ipd.parse_options`);
- ``[missing_data]`` ``enabled``, ``delta_min``, ``delta_max``, ``delta_step``, ``thresholds``,
  ``prior`` (missing-outcome analyses, :mod:`bayes_ips.analyses.missing_data.options`).
"""

from __future__ import annotations

import hashlib
import re
import stat
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from bayes_ips.data import Comparison, resolve_path
from bayes_ips.data.ipd import parse_options as parse_ipd
from bayes_ips.data.trial import bundled_name, file_status
from bayes_ips.errors import InputError
from bayes_ips.estimands import EstimandSettings
from bayes_ips.models import MODEL_NAMES
from bayes_ips.priors import prior_names
from bayes_ips.priors.settings import parse as parse_priors

DEFAULT_SPEC = "package:default.toml"
MAX_SPEC_BYTES = 1_000_000
MAX_SEED = 2**32 - 1
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
QUICK_SAMPLER = {"chains": 2, "draws": 500, "tune": 500}
QUICK_ESS_MIN = 100
QUICK_RHAT_MAX = 1.02
"""Quick runs (smoke tests, demos) use fewer draws, so the ESS threshold drops to
:data:`QUICK_ESS_MIN` and the R-hat threshold rises to :data:`QUICK_RHAT_MAX` (the 1.01 of
Vehtari et al. 2021 presumes 4 chains and an ESS above 400, which 2 × 500 draws do not give); the
report and summary.json say the run was quick."""
QUICK_EXACT_DRAWS = 4000


@dataclass(frozen=True)
class SamplerSettings:
    backend: str = "nutpie"
    chains: int = 4
    draws: int = 1000
    tune: int = 1000
    target_accept: float = 0.9


@dataclass(frozen=True)
class Thresholds:
    """Convergence thresholds; a fit passes when all hold."""

    rhat_max: float = 1.01
    ess_min: float = 400
    divergences_max: int = 0
    ebfmi_min: float = 0.3


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
    warnings: tuple[str, ...] = field(default=())
    options: dict[str, Any] = field(default_factory=dict)
    """Parsed settings of the optional sections (:data:`CORE_OPTIONS` and the analyses'), by
    name."""

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
                comparison=Comparison(
                    treatment if treatment is not None else spec.comparison.treatment,
                    control if control is not None else spec.comparison.control,
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


OptionParser = Callable[[dict, str], Any]
"""``parse(table, origin)``: validates one optional spec section and returns its settings,
raising :class:`InputError` naming ``<section>.<key>``."""

CORE_OPTIONS: dict[str, OptionParser] = {"priors": parse_priors, "ipd": parse_ipd}
"""The optional sections every run reads: ``[priors]`` and ``[ipd]``. The post-fit analyses
bring their own (:func:`load_spec`'s ``options``); an absent section is parsed from ``{}``."""


_TOP = {
    "title": str,
    "name": str,
    "seed": int,
    "data": dict,
    "models": dict,
    "estimands": dict,
    "sampler": dict,
    "diagnostics": dict,
}
_DATA = {
    "path": str,
    "treatment": str,
    "control": str,
    "primary_horizon": float,
    "verified_only": bool,
}
_MODEL = {"priors": list}
_ESTIMANDS = {
    "interval": float,
    "rd_thresholds": list,
    "rr_thresholds": list,
    "rope": float,
    "exact_draws": int,
}
_SAMPLER = {"backend": str, "chains": int, "draws": int, "tune": int, "target_accept": float}
_DIAGNOSTICS = {"rhat_max": float, "ess_min": float, "divergences_max": int, "ebfmi_min": float}


def check_keys(
    table: dict, schema: dict, origin: str, prefix: str, sections: Iterable[str] = ()
) -> None:
    """Every key of a spec table is in ``schema`` (name -> type) with a value of that type; a
    ``float`` also takes an int, an ``int`` never a bool. ``sections`` are further keys whose
    value must be a table (checked by their own parsers). Raises :class:`InputError` naming
    ``prefix + key``. The option sections' parsers use it for their own tables."""
    sections = tuple(sections)
    for k, v in table.items():
        name = f"{prefix}{k}"
        if k in sections:
            if not isinstance(v, dict):
                raise InputError(origin, "must be a table", field=name)
            continue
        if k not in schema:
            allowed = [*schema, *sections]
            raise InputError(origin, f"unknown key; allowed here: {', '.join(allowed)}", field=name)
        want = schema[k]
        ok = (isinstance(v, want) and not (want is int and isinstance(v, bool))) or (
            want is float and isinstance(v, int) and not isinstance(v, bool)
        )
        if not ok:
            raise InputError(origin, f"must be of type {want.__name__}", field=name, value=v)


def number_list(values: list, origin: str, name: str, lo: float, hi: float) -> tuple[float, ...]:
    if not values:
        raise InputError(origin, "must list at least one number", field=name)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
            raise InputError(
                origin, f"each entry must be a number in [{lo:g}, {hi:g}]", field=name, value=v
            )
    return tuple(float(v) for v in values)


def in_range(value, lo, hi, origin, name):
    if not lo <= value <= hi:
        raise InputError(origin, f"must be between {lo:g} and {hi:g}", field=name, value=value)
    return value


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


def load_spec(path: str | Path, options: Mapping[str, OptionParser]) -> Spec:
    """Read, validate and merge a spec with the defaults.

    Parameters
    ----------
    path : str or path-like
        A TOML file, or ``package:default.toml`` for the bundled default (``models/default.toml``).
    options : mapping
        The post-fit analyses' spec sections, ``{section: parser}``
        (:func:`bayes_ips.analyses.registry.option_parsers`); :data:`CORE_OPTIONS` are read too.
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
    return _build(doc, origin, hashlib.sha256(raw).hexdigest(), base, CORE_OPTIONS | dict(options))


def _build(
    doc: dict[str, Any], origin: str, sha: str, base: Path | None, parsers: dict[str, OptionParser]
) -> Spec:
    check_keys(doc, _TOP, origin, "", sections=parsers)
    sections = {
        "data": _DATA,
        "estimands": _ESTIMANDS,
        "sampler": _SAMPLER,
        "diagnostics": _DIAGNOSTICS,
    }
    for section, schema in sections.items():
        check_keys(doc.get(section, {}), schema, origin, f"{section}.")
    data = doc.get("data", {})
    est = doc.get("estimands", {})
    smp = doc.get("sampler", {})
    dia = doc.get("diagnostics", {})

    name = doc.get("name", "ips-in-pain")
    if not NAME_PATTERN.match(name):
        raise InputError(
            origin,
            "a run name may use letters, digits, '-', '_' and '.', must "
            "start with a letter or digit, and is at most 80 characters",
            field="name",
            value=name,
        )
    seed = in_range(doc.get("seed", 20221), 0, MAX_SEED, origin, "seed")

    options = {name: parse(doc.get(name, {}), origin) for name, parse in parsers.items()}
    models = doc.get("models", {"beta_binomial": {"priors": ["reference"]}})
    if not models:
        raise InputError(origin, "list at least one model", field="models")
    known_priors = prior_names(options["priors"])
    chosen: dict[str, tuple[str, ...]] = {}
    for model, table in models.items():
        if model not in MODEL_NAMES:
            raise InputError(
                origin,
                f"unknown model; known models: {', '.join(MODEL_NAMES)}",
                field="models",
                value=model,
            )
        if not isinstance(table, dict):
            raise InputError(
                origin, "must be a table with a 'priors' list", field=f"models.{model}"
            )
        check_keys(table, _MODEL, origin, f"models.{model}.")
        priors = table.get("priors", ["reference"])
        for prior in priors:
            if not isinstance(prior, str) or prior not in known_priors:
                raise InputError(
                    origin,
                    f"unknown prior; known priors: {', '.join(known_priors)}",
                    field=f"models.{model}.priors",
                    value=prior,
                )
        if not priors:
            raise InputError(origin, "list at least one prior", field=f"models.{model}.priors")
        chosen[model] = tuple(dict.fromkeys(priors))

    backend = smp.get("backend", SamplerSettings.backend)
    if backend not in ("pymc", "nutpie"):
        raise InputError(
            origin, "must be 'pymc' or 'nutpie'", field="sampler.backend", value=backend
        )
    return Spec(
        origin=origin,
        sha256=sha,
        title=doc.get("title", "Bayesian reanalysis"),
        name=name,
        seed=seed,
        data_path=resolve_path(data.get("path", "package:ips_in_pain.csv"), base),
        comparison=Comparison(data.get("treatment", "IPS"), data.get("control", "TAU")),
        primary_horizon=in_range(
            data.get("primary_horizon", 12), 0.0, 1200.0, origin, "data.primary_horizon"
        ),
        verified_only=data.get("verified_only", False),
        models=chosen,
        estimands=EstimandSettings(
            interval=in_range(est.get("interval", 0.95), 0.5, 0.999, origin, "estimands.interval"),
            rd_thresholds=number_list(
                est.get("rd_thresholds", [0, 0.05, 0.1, 0.15, 0.2]),
                origin,
                "estimands.rd_thresholds",
                -1.0,
                1.0,
            ),
            rr_thresholds=number_list(
                est.get("rr_thresholds", [1, 1.1, 1.25, 1.5, 2]),
                origin,
                "estimands.rr_thresholds",
                0.0,
                1000.0,
            ),
            rope=in_range(est.get("rope", 0.05), 0.0, 1.0, origin, "estimands.rope"),
        ),
        exact_draws=in_range(
            est.get("exact_draws", 20000), 100, 10_000_000, origin, "estimands.exact_draws"
        ),
        sampler=SamplerSettings(
            backend=backend,
            chains=in_range(smp.get("chains", 4), 1, 64, origin, "sampler.chains"),
            draws=in_range(smp.get("draws", 1000), 50, 1_000_000, origin, "sampler.draws"),
            tune=in_range(smp.get("tune", 1000), 50, 1_000_000, origin, "sampler.tune"),
            target_accept=in_range(
                smp.get("target_accept", 0.9), 0.5, 0.999, origin, "sampler.target_accept"
            ),
        ),
        thresholds=Thresholds(
            rhat_max=in_range(dia.get("rhat_max", 1.01), 1.0, 2.0, origin, "diagnostics.rhat_max"),
            ess_min=in_range(dia.get("ess_min", 400), 1, 1e9, origin, "diagnostics.ess_min"),
            divergences_max=in_range(
                dia.get("divergences_max", 0), 0, 1e9, origin, "diagnostics.divergences_max"
            ),
            ebfmi_min=in_range(
                dia.get("ebfmi_min", 0.3), 0.0, 10.0, origin, "diagnostics.ebfmi_min"
            ),
        ),
        options=options,
    )
