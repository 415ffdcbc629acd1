"""The rules both rate limiters share (the in-process one and the database-backed one for
several workers): what a budget may be, and reading HubSpot's rate-limit headers."""
from __future__ import annotations

from collections.abc import Mapping


def check_budget(max_requests: int, interval_s: float) -> None:
    if max_requests < 1 or interval_s <= 0:
        raise ValueError("a rate limit needs at least one request per positive interval")


def rate_limit_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
