"""Configuration structured with cattrs: values are checked against the types of the dataclass they fill, strictly
(``true`` is not a number, ``"3"`` not an int), and each bad value can be reported and its default kept."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import cattrs

T = TypeVar("T")

UNKNOWN = "unknown"
INVALID = "invalid"


def _exact(kind: type) -> Callable[[Any, type], Any]:
    def hook(value: Any, _: type) -> Any:
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return hook


def _float(value: Any, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def strict_converter() -> cattrs.Converter:
    """A converter that refuses unknown keys and converts no scalar into another (an int may stand for a float)."""
    converter = cattrs.Converter(forbid_extra_keys=True)
    for kind in (bool, int, str):
        converter.register_structure_hook(kind, _exact(kind))
    converter.register_structure_hook(float, _float)
    return converter


CONVERTER = strict_converter()
"""The converter every configuration is structured with."""


@dataclass(frozen=True)
class Problem:
    """A key whose value was not used."""

    key: str
    value: Any
    kind: str
    """``unknown`` (no such key) or ``invalid`` (wrong type or out of range)."""


def structure_each(
    defaults: T,
    raw: Mapping[str, Any],
    keys: Mapping[str, str] | None = None,
    refine: Callable[[str, Any], Any] | None = None,
) -> tuple[T, list[Problem]]:
    """``defaults`` (a dataclass) with every value of ``raw`` that structures to its field's type, and a problem
    for each that does not, so one bad value costs only itself.

    ``keys`` maps keys of ``raw`` to field names (default: the field names themselves); ``refine(field, value)``
    returns the value to use (normalised) or None to refuse it (a range check, say)."""
    names = keys or {f.name: f.name for f in dataclasses.fields(defaults)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(type(defaults))
    changes: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in raw.items():
        name = names.get(key)
        if name is None:
            problems.append(Problem(key, value, UNKNOWN))
            continue
        try:
            structured = CONVERTER.structure(value, hints[name])
        except (cattrs.BaseValidationError, TypeError, ValueError, AttributeError, KeyError):
            problems.append(Problem(key, value, INVALID))
            continue
        if refine is not None:
            structured = refine(name, structured)
            if structured is None:
                problems.append(Problem(key, value, INVALID))
                continue
        changes[name] = structured
    return dataclasses.replace(defaults, **changes), problems  # type: ignore[type-var]


def structure_all(raw: Mapping[str, Any], cls: type[T]) -> T:
    """``raw`` as a ``cls``, or ValueError naming every bad or unknown value."""
    try:
        return CONVERTER.structure(raw, cls)
    except cattrs.BaseValidationError as exc:
        raise ValueError("; ".join(cattrs.transform_error(exc))) from None
