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


# HubSpot's per-portal limits are 100-190 requests per 10 s; anything far outside is a
# mangled header, not a budget to adopt.
_MAX_ADOPTED_REQUESTS = 100_000
_MAX_ADOPTED_INTERVAL_S = 86_400.0


def budget_from_headers(headers: Mapping[str, str]) -> tuple[int, float] | None:
    """The budget HubSpot says applies (X-HubSpot-RateLimit-Max per -Interval-Milliseconds),
    or None when the answer does not carry both as sane numbers. HubSpot's own figure wins
    over the configured one: a portal on a higher tier gets its whole budget used, and one
    on a lower tier is not overrun."""
    maximum = rate_limit_header(headers, "X-HubSpot-RateLimit-Max")
    interval_ms = rate_limit_header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
    if maximum is None or interval_ms is None:
        return None
    if not 1 <= maximum <= _MAX_ADOPTED_REQUESTS or not 0 < interval_ms <= _MAX_ADOPTED_INTERVAL_S * 1000:
        return None
    return maximum, interval_ms / 1000
