"""What an operator sees about installed portals: one plain dict per portal (library,
connection, last sync, queued and failed jobs, provisioning steps), for the CLI's text
and JSON alike. Never includes tokens."""
from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oembed_server.storage import job_queue
from oembed_server.storage.portal_store import PortalRecord, PortalStore
from oembed_server.usecases.gate_forms import forms_reason
from oembed_server.usecases.provisioning import portal_steps


def _stamp(value: float | None) -> str | None:
    return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds") if value else None


def _job_counts(engine: Engine) -> dict[int, dict[str, int]]:
    jobs = job_queue.jobs
    counts: dict[int, dict[str, int]] = {}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(jobs.c.portal_id, jobs.c.state, sa.func.count())
                            .where(jobs.c.portal_id.is_not(None)).group_by(jobs.c.portal_id, jobs.c.state))
        for portal_id, state, count in rows:
            entry = counts.setdefault(int(portal_id), {"queued": 0, "failed": 0})
            if state in (job_queue.QUEUED, job_queue.HELD):
                entry["queued"] += count
            elif state == job_queue.DEAD:
                entry["failed"] += count
    return counts


def describe(record: PortalRecord, counts: dict[str, int]) -> dict:
    return {"portalId": record.portal_id, "library": record.library,
            "tokenState": record.token_state if record.has_tokens or record.token_state != "connected"
            else "unreadable",
            "reason": record.state_reason, "connectedSince": _stamp(record.connected_at),
            "lastSync": _stamp(record.last_sync_at), "queuedJobs": counts.get("queued", 0),
            "failedJobs": counts.get("failed", 0)}


def list_portals(store: PortalStore) -> list[dict]:
    counts = _job_counts(store.engine)
    return [describe(r, counts.get(r.portal_id, {})) for r in store.all()]


def show_portal(store: PortalStore, portal_id: int) -> dict | None:
    record = store.get(portal_id)
    if record is None:
        return None
    info = describe(record, _job_counts(store.engine).get(portal_id, {}))
    # One line on whether its players can show lead capture gates, and why not.
    info["leadCapture"] = forms_reason(record.granted_scopes) or "on: the portal granted the 'forms' scope"
    with store.engine.connect() as conn:
        info["steps"] = [s.to_dict() for s in portal_steps(conn, portal_id, time.time())]
    return info
