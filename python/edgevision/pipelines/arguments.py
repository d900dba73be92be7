"""Argument checks shared by the pipelines' constructors: clear TypeError/ValueError naming
the argument and what was expected."""

from __future__ import annotations

from typing import Any, Mapping, Optional

__all__ = ["check_probability", "check_flag", "check_count", "check_choice", "stage_specs"]


def check_probability(name: str, value: Any) -> float:
    """``value`` as a float in ``[0, 1]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number in [0, 1], got {type(value).__name__}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return float(value)


def check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be {' or '.join(repr(c) for c in choices)}, got {value!r}")
    return value


def stage_specs(models: Optional[Mapping[str, Any]], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The ``models`` argument (stage name -> card name, path or ``(card, path)``) over ``defaults``."""
    specs = dict(defaults)
    if models is None:
        return specs
    expected = " and ".join(repr(k) for k in defaults)
    if not isinstance(models, Mapping):
        raise TypeError(f"models must be a mapping with {expected}, got {type(models).__name__}")
    unknown = set(models) - set(defaults)
    if unknown:
        raise ValueError(f"models: unknown key(s) {sorted(unknown)}; expected {expected}")
    specs.update(models)
    return specs
