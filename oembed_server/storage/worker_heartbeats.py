"""The heartbeats workers record (one row per worker process), read by ``worker --status``,
``/readyz?worker=1`` and ``/metrics``."""
from __future__ import annotations

import dataclasses
import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oembed_server.domain.worker_health import STOPPED, worker_status
from oembed_server.storage.dialect_insert import dialect_insert
from oembed_server.storage.schema import worker_heartbeats

# Rows of workers that stopped (or died) this long ago are deleted when a worker starts.
FORGET_AFTER_S = 7 * 86400.0


@dataclasses.dataclass(frozen=True)
class Heartbeat:
    owner: str
    hostname: str
    pid: int
    started_at: float
    beat_at: float
    lease_s: float
    state: str
    budget_usage: dict[str, float]

    def status(self, now: float) -> str:
        return worker_status(self.state, self.beat_at, self.lease_s, now)

    def to_dict(self, now: float) -> dict:
        return {"owner": self.owner, "hostname": self.hostname, "pid": self.pid, "status": self.status(now),
                "startedAt": self.started_at, "lastBeatAt": self.beat_at,
                "secondsSinceBeat": round(max(now - self.beat_at, 0.0), 3), "leaseSeconds": self.lease_s,
                "budgetUsage": self.budget_usage}


def beat(conn: Connection, owner: str, *, hostname: str, pid: int, started_at: float, lease_s: float, state: str,
         now: float, budget_usage: dict[str, float] | None = None) -> None:
    """Record that ``owner`` is alive (insert or update its row)."""
    values = dict(hostname=hostname[:255], pid=pid, started_at=started_at, beat_at=now, lease_s=lease_s,
                  state=state, budget_usage=json.dumps(budget_usage or {}, sort_keys=True))
    statement = dialect_insert(worker_heartbeats, conn.dialect.name).values(owner=owner, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["owner"], set_=values))


def forget_old(conn: Connection, now: float) -> int:
    """Delete the rows of workers silent for a week (stopped, or dead without saying so)."""
    return conn.execute(worker_heartbeats.delete().where(worker_heartbeats.c.beat_at < now - FORGET_AFTER_S)).rowcount


def all_heartbeats(conn: Connection) -> list[Heartbeat]:
    rows = conn.execute(sa.select(worker_heartbeats).order_by(worker_heartbeats.c.started_at)).mappings()
    return [Heartbeat(r["owner"], r["hostname"], int(r["pid"]), r["started_at"], r["beat_at"], r["lease_s"],
                      r["state"], _usage(r["budget_usage"])) for r in rows]


def _usage(text: str | None) -> dict[str, float]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return {str(k): float(v) for k, v in value.items()} if isinstance(value, dict) else {}


__all__ = ["STOPPED", "Heartbeat", "all_heartbeats", "beat", "forget_old"]
