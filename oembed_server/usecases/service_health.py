"""Is the service ready to take traffic? What ``/readyz`` answers: the database answers,
its schema is at the newest migration and, when asked, a worker is alive. Each check says
what is wrong in words an operator can act on, never a password or SQL."""
from __future__ import annotations

import dataclasses
import time
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from oembed_server.domain.worker_health import STALE_LEASES, is_live
from oembed_server.storage import schema_version, worker_heartbeats
from oembed_server.storage.engine import describe_database_error


@dataclasses.dataclass(frozen=True)
class Readiness:
    ready: bool
    checks: dict[str, dict[str, Any]]
    problems: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"status": "ready" if self.ready else "unavailable", "checks": self.checks, "problems": self.problems}


def readiness(engine: Engine, *, with_worker: bool, now: float | None = None) -> Readiness:
    now = time.time() if now is None else now
    checks: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    head = schema_version.head_revision()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            checks["database"] = {"ok": True}
            revision = MigrationContext.configure(conn).get_current_revision()
            schema_ok = revision == head
            checks["schema"] = {"ok": schema_ok, "revision": revision, "head": head}
            if not schema_ok:
                problems.append(f"schema: the database is at revision {revision or 'none'}, this version needs "
                                f"{head}: run `{schema_version.UPGRADE_COMMAND}`")
            if with_worker and schema_ok:
                checks["worker"] = _worker_check(worker_heartbeats.all_heartbeats(conn), now, problems)
    except SQLAlchemyError as exc:
        problems.append(f"database: {describe_database_error(exc, engine.url)}")
        checks.setdefault("database", {"ok": False})
    return Readiness(not problems, checks, problems)


def _worker_check(heartbeats: list[worker_heartbeats.Heartbeat], now: float, problems: list[str]) -> dict[str, Any]:
    statuses = [(h, h.status(now)) for h in heartbeats]
    live = [h for h, status in statuses if is_live(status)]
    check: dict[str, Any] = {"ok": bool(live), "live": len(live),
                             "workers": [{"owner": h.owner, "status": status,
                                          "secondsSinceBeat": round(max(now - h.beat_at, 0.0), 3)}
                                         for h, status in statuses if status != "stopped"]}
    if not live:
        if not heartbeats:
            problems.append("worker: no worker has ever recorded a heartbeat (start `oembed-server worker`)")
        else:
            latest = max(heartbeats, key=lambda h: h.beat_at)
            problems.append(f"worker: none is running (the latest heartbeat, {now - latest.beat_at:.0f}s ago, came "
                            f"from {latest.owner}, now {latest.status(now)}; a worker silent for more than "
                            f"{STALE_LEASES} lease periods is stale)")
    return check
