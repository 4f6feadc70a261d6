"""Configuration structured with cattrs, strictly: a bad value is named and its default kept."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from assistant.config import INVALID, UNKNOWN, Problem, structure_all, structure_each


@dataclass(frozen=True)
class Example:
    words: int = 5
    threshold: float = 0.5
    enabled: bool = True
    name: str = "x"
    extra: dict[str, int] = field(default_factory=dict)


def test_each_value_is_checked_on_its_own_and_no_scalar_becomes_another() -> None:
    raw = {"words": True, "threshold": 1, "enabled": 1, "name": "y", "colour": "red"}
    parsed, problems = structure_each(Example(words=7), raw)
    assert parsed == Example(words=7, threshold=1.0, enabled=True, name="y")
    assert problems == [
        Problem("words", True, INVALID),
        Problem("enabled", 1, INVALID),
        Problem("colour", "red", UNKNOWN),
    ]
    parsed, problems = structure_each(Example(), {"n": "3"}, keys={"n": "words"})
    assert parsed.words == 5 and problems == [Problem("n", "3", INVALID)]
    in_range = lambda name, value: value if value <= 10 else None  # noqa: E731
    parsed, problems = structure_each(Example(), {"words": 11}, refine=in_range)
    assert parsed.words == 5 and problems[0].kind == INVALID


def test_a_whole_structure_names_every_bad_value() -> None:
    assert structure_all({"words": 3, "extra": {"a": 1}}, Example) == Example(words=3, extra={"a": 1})
    with pytest.raises(ValueError) as info:
        structure_all({"words": "3", "extra": {"a": "b"}, "nope": 1}, Example)
    message = str(info.value)
    assert "$.words" in message and "$.extra" in message and "nope" in message
