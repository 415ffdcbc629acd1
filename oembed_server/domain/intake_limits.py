"""Per-client report budget: how many reports one address may make per minute.

Kept in the process's memory (each gunicorn worker counts for itself, so the effective
limit is the setting times the workers): it only has to stop a flood cheaply, before any
database work. The durable per-session limit lives with the session row. Pure apart from
the clock the caller passes in.
"""
from __future__ import annotations

import threading

from oembed_server.domain.bounded_cache import FifoCache

WINDOW_SECONDS = 60.0
# Beyond this many tracked addresses the oldest windows are dropped: memory stays bounded.
MAX_TRACKED = 100_000


class ClientBudget:
    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str, now: float) -> bool:
        """Counts one report for ``client``; False once its minute's budget is spent."""
        if self.per_minute <= 0:
            return True  # 0 switches the limit off
        with self._lock:
            start, count = self._windows.get(client, (now, 0))
            if now - start >= WINDOW_SECONDS:
                start, count = now, 0
            count += 1
            self._windows[client] = (start, count)
            if len(self._windows) > MAX_TRACKED:
                self._forget_expired(now)
            return count <= self.per_minute

    def _forget_expired(self, now: float) -> None:
        expired = [k for k, (start, _) in self._windows.items() if now - start >= WINDOW_SECONDS]
        for key in expired or list(self._windows)[: len(self._windows) // 2]:
            del self._windows[key]


class RefusedSessions:
    """Sessions already past their report limit, remembered so a flood from one session is
    refused without a database round trip. Bounded: forgetting one costs one query."""

    def __init__(self, size: int = 10_000):
        self._ids: FifoCache[str, None] = FifoCache(size)

    def __contains__(self, session_id: str) -> bool:
        return session_id in self._ids

    def add(self, session_id: str) -> None:
        self._ids.put(session_id, None)
