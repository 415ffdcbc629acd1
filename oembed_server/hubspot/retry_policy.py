"""When a failed call may be repeated, and how long to wait first."""
from __future__ import annotations

import dataclasses
import email.utils
import math
import random
import time
from collections.abc import Mapping

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base_s: float = 0.5
    cap_s: float = 30.0
    max_wait_s: float = 60.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Exponential backoff with equal jitter: half fixed, half random, so clients that
        failed together do not come back together. ``attempt`` counts from 0."""
        # The exponent is bounded: a job retried for days must not overflow a float.
        ceiling = min(self.cap_s, self.base_s * (2 ** min(attempt, 60)))
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)

    def wait_for(self, attempt: int, status: int | None, headers: Mapping[str, str],
                 rng: random.Random | None = None) -> float | None:
        """The wait before the next attempt: HubSpot's Retry-After when given, else the rate
        window it announces on a spent 429, else backoff. None when HubSpot asks for more
        than ``max_wait_s`` (a daily limit, say): retrying sooner would only be refused."""
        hinted = retry_after_seconds(headers.get("Retry-After")) if headers else None
        if hinted is None and status == 429 and headers and headers.get("X-HubSpot-RateLimit-Remaining") == "0":
            interval_ms = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
            if interval_ms and interval_ms.isdigit():
                hinted = int(interval_ms) / 1000
        if hinted is not None:
            return None if hinted > self.max_wait_s else max(hinted, 0.0)
        return self.backoff(attempt, rng)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse Retry-After as delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # "nan" parses, and a nan wait would reach time.sleep; treat it as no hint at all.
        return None if math.isnan(seconds) else max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (now if now is not None else time.time()), 0.0)


def request_never_sent(exc: requests.RequestException) -> bool:
    """True when the connection failed before any byte of the request left: only then is
    repeating a non-idempotent POST certain not to apply it twice."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, (NewConnectionError, ConnectTimeoutError)):
            return True
        reason = getattr(cause, "reason", None)
        nxt = reason if isinstance(reason, BaseException) else None
        for arg in getattr(cause, "args", ()):
            if nxt is None and isinstance(arg, BaseException):
                nxt = arg
        cause = nxt or cause.__cause__ or cause.__context__
    return False
