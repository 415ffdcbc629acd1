"""The rules every setting follows, whichever part of the project reads it: how a count or
a duration is written, and the error that names the variable."""
from __future__ import annotations

import math
from typing import overload

from oembed_server.domain.whole_numbers import parse_whole_number

_SETTING_COUNT_MAX = 2**63 - 1


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@overload
def parse_non_negative_number(value: str, name: str, kind: type[int] = ...,
                              error: type[Exception] = ...) -> int: ...
@overload
def parse_non_negative_number(value: str, name: str, kind: type[float],
                              error: type[Exception] = ...) -> float: ...
def parse_non_negative_number(value: str, name: str, kind: type[int] | type[float] = int,
                              error: type[Exception] = ConfigError) -> float:
    """A setting that is a count (``kind=int``) or a duration (``kind=float``), never negative."""
    number: float
    try:
        # Counts follow the one whole-number rule (no "1_000", "+5" or non-ASCII digits).
        number = _setting_count(value.strip()) if kind is int else kind(value.strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise error(f"{name} must be {what}, got {value!r}") from None
    if not math.isfinite(number):
        # float() reads "nan" and "inf": a nan limit compares false with everything and
        # silently switches the check it feeds off.
        raise error(f"{name} must be a finite number, got {value.strip()!r}")
    if number < 0:
        raise error(f"{name} must not be negative, got {value.strip()}")
    return number


def _setting_count(text: str) -> int:
    number = parse_whole_number(text.removeprefix("-"), _SETTING_COUNT_MAX)
    if number is None or number > _SETTING_COUNT_MAX:
        raise ValueError(text)
    return -number if text.startswith("-") else number
