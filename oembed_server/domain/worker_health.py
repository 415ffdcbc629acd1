"""Is a worker alive? A pure rule on the heartbeat a worker records.

A worker renews its job leases and its heartbeat four times per lease period; one silent
for more than ``STALE_LEASES`` lease periods has died or lost its database (its leases
have run out long ago, so another worker may already hold its jobs)."""
from __future__ import annotations

RUNNING = "running"
STOPPING = "stopping"  # SIGTERM received: claiming nothing, finishing what it holds
STOPPED = "stopped"
STALE = "stale"
STALE_LEASES = 3


def worker_status(state: str, beat_at: float, lease_s: float, now: float) -> str:
    """``state`` as the worker last recorded it, or ``stale`` when a worker that has not
    said it stopped has been silent for more than three lease periods."""
    if state == STOPPED:
        return STOPPED
    if now - beat_at > STALE_LEASES * lease_s:
        return STALE
    return state


def is_live(status: str) -> bool:
    """A worker that still sends (stopping ones finish their batch but claim nothing new)."""
    return status == RUNNING
