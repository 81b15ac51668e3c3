"""Building blocks of the spec's section schemas, and their errors in words.

Every section of a spec (:mod:`bayes_ips.spec`) is a frozen pydantic model that forbids unknown
keys and writes each default once, as the default of its field. A spec is validated in one pass
(:func:`validate`), which reports every mistake at once: one line each, in the form of
:class:`~bayes_ips.errors.InputError`, naming the file, the dotted key (``sampler.chains``), the
value and the rule broken, in words.

Values come from TOML only (:mod:`tomllib`), so the field types are strict:

- :data:`Int`: an integer, never a bool or a float;
- :data:`Float`: a number (an integer is taken as a float), never a bool;
- :data:`Number`: a number kept as written, int or float, so that summary.json echoes the spec
  (``ess_min = 400`` stays ``400``);
- :data:`Bool`, :data:`Str`.

Rules on values are :func:`rule`, :func:`between` and :func:`number_list`; a rule involving
several keys is a model validator that raises :func:`rule_error`, naming the key it reports.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, PlainValidator, Strict, TypeAdapter, WrapValidator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from bayes_ips.errors import InputError, InputErrors

SECTION_CONFIG = ConfigDict(extra="forbid", frozen=True)
"""The configuration of every section: unknown keys are errors, settings cannot change."""

RULE = "spec_rule"
"""The pydantic error type of a broken rule (:func:`rule_error`)."""
RULES = "spec_rules"
"""The pydantic error type of several rules broken at once (:func:`rule_errors`)."""

_TYPE_NAMES = {
    "int_type": "int",
    "float_type": "float",
    "bool_type": "bool",
    "string_type": "str",
    "list_type": "list",
    "tuple_type": "list",
}
_TABLE_TYPES = {"dict_type", "model_type", "model_attributes_type", "dataclass_type"}
_UNKNOWN_KEY = {"extra_forbidden", "unexpected_keyword_argument"}


class Section(BaseModel):
    """Base of the spec sections: frozen, unknown keys forbidden."""

    model_config = SECTION_CONFIG


def rule_error(rule: str, *, key: str | None = None, value: Any = None) -> PydanticCustomError:
    """The error of a broken rule, to raise from a validator.

    Parameters
    ----------
    rule : str
        The rule in words, as the user reads it (``"must be between 1 and 64"``).
    key : str, optional
        The dotted key, below the one validated, that the error names (a model validator
        checking several keys names one of them).
    value : object, optional
        The offending value; None shows none.
    """
    return PydanticCustomError(RULE, "{rule}", {"rule": rule, "key": key, "value": value})


def rule_errors(errors: Sequence[PydanticCustomError]) -> PydanticCustomError:
    """The :func:`rule_error` errors one validator found, to raise at once: each is reported on
    its own line."""
    if len(errors) == 1:
        return errors[0]
    return PydanticCustomError(
        RULES, "{count} rules broken", {"count": len(errors), "errors": [e.context for e in errors]}
    )


def rule(check: Callable[[Any], bool], text: str) -> WrapValidator:
    """A value, once of its type, passes ``check`` (and, if a number, is finite), or the error
    says ``text`` and shows the value as written."""

    def validate(written, handler):
        value = handler(written)
        finite = not isinstance(value, float) or math.isfinite(value)
        if not (finite and check(value)):
            raise rule_error(text, value=written)
        return value

    return WrapValidator(validate)


def between(lo: float, hi: float) -> WrapValidator:
    """A number in ``[lo, hi]``."""
    return rule(lambda v: lo <= v <= hi, f"must be between {lo:g} and {hi:g}")


def _number(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise rule_error("must be of type float", value=value)
    return value


Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Number = Annotated[float, PlainValidator(_number)]
Bool = Annotated[bool, Strict()]
Str = Annotated[str, Strict()]


def number_list(lo: float, hi: float) -> Any:
    """The type of a non-empty list of numbers in ``[lo, hi]``, read as a tuple of floats."""

    def validate(values) -> tuple[float, ...]:
        if not isinstance(values, list | tuple):
            raise rule_error("must be of type list", value=values)
        if not values:
            raise rule_error("must list at least one number")
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
                raise rule_error(f"each entry must be a number in [{lo:g}, {hi:g}]", value=v)
            if sum(f"{float(w):.6g}" == f"{float(v):.6g}" for w in values) > 1:
                raise rule_error("each entry must differ from the others (to 6 digits)", value=v)
        return tuple(float(v) for v in values)

    return Annotated[tuple[float, ...], PlainValidator(validate)]


def validate(schema: Any, data: Any, origin: str, *, at: Sequence[str] = (), context=None):
    """``data`` validated against ``schema``, or every mistake as an input error.

    Parameters
    ----------
    schema : type
        A section model (or any type pydantic validates).
    data : object
        What :mod:`tomllib` read.
    origin : str
        The file, for the messages.
    at : sequence of str
        The keys above ``data`` in the file (``("decision",)`` for the ``[decision]`` table).
    context : dict, optional
        Passed to the validators (``{"base": folder}``: the spec's folder, for relative paths).

    Raises
    ------
    InputError
        One mistake; :class:`~bayes_ips.errors.InputErrors` for several, one line each.
    """
    try:
        return TypeAdapter(schema).validate_python(data, context=context)
    except PydanticValidationError as exc:
        details = [
            sub
            for d in exc.errors()
            for sub in (
                [{**d, "type": RULE, "ctx": c} for c in d["ctx"]["errors"]]
                if d["type"] == RULES
                else [d]
            )
        ]
        found = [_input_error(d, schema, origin, tuple(at)) for d in details]
        errors = [e for e in found if e is not None]
        raise (errors[0] if len(errors) == 1 else InputErrors(errors)) from None


def _input_error(
    detail: ErrorDetails, schema: Any, origin: str, at: tuple[str, ...]
) -> InputError | None:
    """One pydantic error in today's words; None for a consequence of another error."""
    kind = detail["type"]
    if kind == "default_factory_not_called":  # a default computed from a key that failed
        return None
    keys = [k for k in detail["loc"] if isinstance(k, str)]  # list positions are left out
    ctx = detail.get("ctx") or {}
    value = detail["input"]
    if kind == RULE:
        text, value = ctx["rule"], ctx["value"]
        keys += ctx["key"].split(".") if ctx.get("key") else []
    elif kind in _UNKNOWN_KEY:
        text, value = f"unknown key; allowed here: {_allowed_keys(schema, keys[:-1])}", None
    elif kind in _TYPE_NAMES:
        text = f"must be of type {_TYPE_NAMES[kind]}"
    elif kind in _TABLE_TYPES:
        text = "must be a table"
    else:
        text = detail["msg"]
    return InputError(origin, text, field=".".join([*at, *keys]) or None, value=value)


def _allowed_keys(schema: Any, keys: Sequence[str]) -> str:
    """The keys the table at ``keys`` below ``schema`` may hold, for an unknown-key message."""
    for key in keys:
        schema = _entry(_model(schema), key)
    return ", ".join(_fields(_model(schema)))


def _fields(schema: Any) -> dict:
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_fields
    return getattr(schema, "__pydantic_fields__", {})


def _entry(schema: Any, key: str) -> Any:
    """The type of entry ``key`` of a table of type ``schema``."""
    if typing.get_origin(schema) is dict:
        return typing.get_args(schema)[1]
    fields = _fields(schema)
    if key in fields:
        return fields[key].annotation
    extra = typing.get_type_hints(schema, include_extras=True).get("__pydantic_extra__")
    return typing.get_args(extra)[1]


def _model(annotation: Any) -> Any:
    """The table type behind ``Annotated[...]`` and ``... | None``."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _model(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return _model(next(a for a in typing.get_args(annotation) if a is not type(None)))
    return annotation
