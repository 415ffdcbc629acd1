"""Attention maths over a media timeline: how it is cut into spans, and what span counts say.

Pure functions over plain numbers, shared by the intake (checking what the player sent),
the play-session store (merging updates) and the insights charts. The player's
``static/player-events.js`` cuts the timeline by the same rule; tests hold both to one table.
Refuses durations that are not positive.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

# HubSpot's attention span: one span a second, or 100 equal spans for longer media.
MAX_SPANS = 100


def span_layout(duration_seconds: float) -> tuple[int, float]:
    """(number of spans, seconds per span) for media of this duration."""
    if not duration_seconds > 0:
        raise ValueError("duration must be positive")
    if duration_seconds <= MAX_SPANS:
        return max(1, math.ceil(duration_seconds)), 1.0
    return MAX_SPANS, duration_seconds / MAX_SPANS


def span_index(position_seconds: float, duration_seconds: float) -> int:
    """The span a playhead position falls in; the very end belongs to the last span."""
    count, seconds = span_layout(duration_seconds)
    return min(count - 1, max(0, math.floor(position_seconds / seconds)))


def merge_spans(stored: Sequence[int] | None, update: Sequence[int]) -> list[int]:
    """Cumulative updates can arrive twice or out of order (a beacon racing a fetch); the
    element-wise maximum makes applying them idempotent and order-free."""
    if not stored or len(stored) != len(update):
        return list(update)
    return [max(a, b) for a, b in zip(stored, update, strict=True)]


def percent_played(spans: Sequence[int]) -> float:
    """HubSpot's totalPercentPlayed: spans played at least once over all spans."""
    return 100.0 * sum(1 for count in spans if count > 0) / len(spans) if spans else 0.0


def seconds_played(spans: Sequence[int], span_seconds: float, duration_seconds: float | None = None) -> float:
    """Seconds of playback the counts stand for (a rewatched span counts again); the last
    span of a one-second layout is only as long as what is left of the media."""
    total = sum(spans) * span_seconds
    if duration_seconds and spans and span_seconds == 1.0:
        last = duration_seconds - (len(spans) - 1)
        total -= spans[-1] * (1.0 - min(1.0, max(0.0, last)))
    return round(total, 3)


def played_any(spans: Sequence[int] | None) -> bool:
    return spans is not None and any(count > 0 for count in spans)
