"""Times within a media item, as the catalog's timed lists (chapters, calls to action) write them."""
from __future__ import annotations

import math


def seconds_value(value: object) -> float | None:
    """A JSON number of seconds, to the millisecond; None for anything else (a bool, a
    string, a negative or non-finite number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return round(float(value), 3)


def plain_seconds(seconds: float) -> int | float:
    """Whole seconds as an int (``95``, not ``95.0``), others to the millisecond."""
    rounded = round(seconds, 3)
    return int(rounded) if rounded == int(rounded) else rounded
