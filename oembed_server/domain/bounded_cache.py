"""A bounded in-process map whose oldest entries go first: memory that a flood of new
keys cannot grow without limit. Shared by a process's threads."""
from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class FifoCache(Generic[K, V]):
    def __init__(self, size: int):
        self._size = size
        self._entries: dict[K, V] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def __contains__(self, key: K) -> bool:
        return key in self._entries

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            if len(self._entries) > self._size:
                del self._entries[next(iter(self._entries))]

    def discard(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)
