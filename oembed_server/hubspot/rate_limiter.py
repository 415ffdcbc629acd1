"""Client-side limiter: keeps each budget key (one portal, or the developer account) under
HubSpot's rolling window so 429s stay the exception, and obeys what HubSpot's headers say.

A slot is taken before a request leaves and counted from when its answer came back:
HubSpot counts the request when it arrives, which lies between the two, so a window
measured from the answer can never reopen before HubSpot's does, whatever the latency."""
from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from oembed_server.domain.rate_budget import budget_from_headers, check_budget, rate_limit_header


class RequestBudget(Protocol):
    """What the client asks of a limiter: RateLimiter here (one process), or the one budget
    every worker process shares (storage.shared_rate_budget.SharedRateLimiter)."""

    def acquire(self, key: str) -> float: ...

    def observe(self, key: str, headers: Mapping[str, str]) -> None: ...

    def block(self, key: str, seconds: float) -> None: ...

    def budget(self, key: str) -> tuple[int, float]: ...


class RateLimiter:
    def __init__(self, max_requests: int = 100, interval_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        check_budget(max_requests, interval_s)
        self.max_requests = max_requests
        self.interval_s = interval_s
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        # Set from HubSpot's headers: no request on this key before that moment.
        self._blocked_until: dict[str, float] = {}
        # What HubSpot's headers said a key's budget is: (requests, window seconds).
        self._budgets: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        # The slot this thread took last, until its answer restamps it: (key, stamp).
        self._taken = threading.local()

    def acquire(self, key: str) -> float:
        """Wait for a slot in ``key``'s window and take it; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_needed(key, now)
                if wait <= 0:
                    self._sent[key].append(now)
                    self._taken.slot = (key, now)
                    return waited
            self._sleep(wait)
            waited += wait

    def budget(self, key: str) -> tuple[int, float]:
        """Requests per window on ``key``: HubSpot's figure once an answer carried it, else
        the configured one."""
        return self._budgets.get(key, (self.max_requests, self.interval_s))

    def _wait_needed(self, key: str, now: float) -> float:
        max_requests, interval_s = self.budget(key)
        sent = self._sent[key]
        while sent and sent[0] <= now - interval_s:
            sent.popleft()
        wait = self._blocked_until.get(key, 0.0) - now
        if len(sent) >= max_requests:
            wait = max(wait, sent[0] + interval_s - now)
        return wait

    def observe(self, key: str, headers: Mapping[str, str]) -> None:
        """An answer came back on ``key``. HubSpot counts requests we cannot see (other
        processes on the same app): when it says the window is spent and our own count
        does not explain it, hold this key for the window it names."""
        learned = budget_from_headers(headers)
        with self._lock:
            if learned is not None:
                self._budgets[key] = learned
            self._restamp(key)
            own_full = len(self._sent[key]) >= self.budget(key)[0]
        remaining = rate_limit_header(headers, "X-HubSpot-RateLimit-Remaining")
        if remaining is None or remaining > 0 or own_full:
            # A full window of our own already makes the next acquire wait for it to reopen.
            return
        if headers.get("Retry-After"):
            # HubSpot named the wait itself: the client holds the key for exactly that
            # (RetryPolicy.wait_for). The whole window on top turned a 1 s wait into 10 s.
            return
        interval_ms = rate_limit_header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
        pause = interval_ms / 1000 if interval_ms else self.budget(key)[1]
        self.block(key, pause)

    def _restamp(self, key: str) -> None:
        taken = getattr(self._taken, "slot", None)
        if taken is None or taken[0] != key:
            return
        self._taken.slot = None
        sent = self._sent[key]
        try:
            sent.remove(taken[1])
        except ValueError:  # already out of the window
            return
        # The newest stamp of all, so the deque stays in time order.
        sent.append(max(self._clock(), taken[1]))

    def usage(self) -> dict[str, float]:
        """Each budget key's share of its window spent right now (0 to 1), for the metrics."""
        with self._lock:
            now = self._clock()
            return {key: min(sum(1 for t in sent if t > now - self.interval_s) / self.max_requests, 1.0)
                    for key, sent in self._sent.items()}

    def block(self, key: str, seconds: float) -> None:
        with self._lock:
            until = self._clock() + seconds
            self._blocked_until[key] = max(self._blocked_until.get(key, 0.0), until)
