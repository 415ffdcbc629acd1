"""Who may write to a play session: the player that opened it, and nobody else.

A session id is not a secret for long (it goes to HubSpot with every event, and an old
insights link carried it), so knowing one must not be enough to report into the session.
The player makes a random session secret with each session and sends it, with its player
token, in every report; the intake keeps only ``writer_digest(token, secret)``, on the
session's first report, and refuses (409) any later report whose digest differs. The
token names the item, portal and ``dnt`` the page was given, so a report through another
page's token, another portal's, or without the secret cannot write.

Also the bound on what one session's attention may claim, from the media's duration and
the time the session has had.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import re

SESSION_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{22,64}")  # 128 bits or more, base64url
# Browsers cap playbackRate at 16; a session cannot have played faster than that.
MAX_PLAYBACK_RATE = 16.0
# Beacons arrive late and clocks drift: time granted on top of what the server measured.
PLAYBACK_SLACK_SECONDS = 120.0
# The player's duration is the element's, which may differ from the catalog's by rounding
# or by a re-encode: the larger of these counts as the same media.
DURATION_TOLERANCE_SECONDS = 2.0
DURATION_TOLERANCE_RATIO = 0.05


def writer_digest(token: str, session_secret: str) -> str:
    return hashlib.sha256(f"{token}\n{session_secret}".encode()).hexdigest()


def same_writer(stored: str | None, offered: str) -> bool:
    """A session from before the binding (``stored`` None) has no writer left."""
    return stored is not None and hmac.compare_digest(stored, offered)


def duration_problem(reported_seconds: float, catalog_ms: int | None) -> str | None:
    """Why ``durationSeconds`` is not the media's, or None (also when the catalog does not know)."""
    if not catalog_ms:
        return None
    known = catalog_ms / 1000
    if abs(reported_seconds - known) <= max(DURATION_TOLERANCE_SECONDS, DURATION_TOLERANCE_RATIO * known):
        return None
    return f"must be the media's duration ({known:g} s), got {reported_seconds:g}"


def max_seconds_played(elapsed_seconds: float, duration_seconds: float) -> float:
    """The most playback a session that began ``elapsed_seconds`` ago can have counted: a
    pass over the whole media (its first report comes when playback starts) plus the
    time since, both at the fastest rate a browser plays."""
    return MAX_PLAYBACK_RATE * (max(0.0, elapsed_seconds) + duration_seconds + PLAYBACK_SLACK_SECONDS)


# How far inside the exact bound ``latest_session_start`` stays: a session begun that close
# to it is left to ``max_seconds_played`` itself, so rounding never admits what it refuses.
_START_MARGIN_SECONDS = 0.001


def latest_session_start(claimed_seconds: float, duration_seconds: float, now: float) -> float:
    """The latest time (epoch seconds, as ``now``) a session may have begun for
    ``claimed_seconds`` of playback to be within ``max_seconds_played`` at ``now``, a
    millisecond early; ``math.inf`` when no start is too late. A write can then check the
    bound against the session's stored start without reading it first."""
    needed = claimed_seconds / MAX_PLAYBACK_RATE - duration_seconds - PLAYBACK_SLACK_SECONDS
    if needed < -_START_MARGIN_SECONDS:
        return math.inf
    return now - max(0.0, needed) - _START_MARGIN_SECONDS
