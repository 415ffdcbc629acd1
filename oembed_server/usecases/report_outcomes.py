"""What happened to engagement reports that were not simply accepted and sent: one stable
reason string per outcome, counted through ``count`` so metrics can hook in.

The intake and the worker both count here. ``add_listener`` registers a callable that
receives every reason as it is counted (a metrics exporter, a test); ``counts`` is the
in-process tally since start.
"""
from __future__ import annotations

import collections
import threading
from collections.abc import Callable

from oembed_server.observability import metrics

# --- the intake refused the report (403) ----------------------------------------------------
PORTAL_NOT_SERVED = "portal_not_served"          # the token's portal is not connected now
ITEM_PRIVATE = "item_private"                    # the item turned private after the token
ITEM_REMOVED = "item_removed"                    # the item left the catalog
ITEM_NOT_IN_LIBRARY = "item_not_in_library"      # the item left the portal's library
# --- accepted for insights, sent to HubSpot without contact and page fields --------------
FRAME_UNKNOWN = "frame_origin_unknown"           # the browser revealed no framing page
FRAME_FOREIGN = "frame_origin_foreign"           # the framing page is not one of the portal's
# --- an embed page asked for a token naming a portal it may not name -------------------------
TOKEN_PORTAL_NOT_SERVED = "token_portal_not_served"
TOKEN_ITEM_NOT_IN_LIBRARY = "token_item_not_in_library"
# --- the worker dropped a queued event (never sent) -------------------------------------------
DROPPED_ITEM_PRIVATE = "dropped_item_private"
DROPPED_ITEM_REMOVED = "dropped_item_removed"
DROPPED_ITEM_NOT_IN_LIBRARY = "dropped_item_not_in_library"

REASONS = (PORTAL_NOT_SERVED, ITEM_PRIVATE, ITEM_REMOVED, ITEM_NOT_IN_LIBRARY, FRAME_UNKNOWN, FRAME_FOREIGN,
           TOKEN_PORTAL_NOT_SERVED, TOKEN_ITEM_NOT_IN_LIBRARY, DROPPED_ITEM_PRIVATE, DROPPED_ITEM_REMOVED,
           DROPPED_ITEM_NOT_IN_LIBRARY)

_lock = threading.Lock()
_counts: collections.Counter[str] = collections.Counter()
_listeners: list[Callable[[str], None]] = []


def count(reason: str) -> None:
    if reason not in REASONS:
        raise ValueError(f"unknown report outcome {reason!r}")
    metrics.REPORT_OUTCOMES.labels(reason).inc()
    with _lock:
        _counts[reason] += 1
        listeners = list(_listeners)
    for listener in listeners:
        listener(reason)


def add_listener(listener: Callable[[str], None]) -> None:
    with _lock:
        _listeners.append(listener)


def remove_listener(listener: Callable[[str], None]) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def counts() -> dict[str, int]:
    with _lock:
        return dict(_counts)
