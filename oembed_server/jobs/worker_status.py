"""``oembed-server worker --status``: the workers' heartbeats beside the queue counts, as
text or as one JSON document (``--json``) for scripts and monitoring."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from oembed_server.domain.worker_health import STALE_LEASES
from oembed_server.storage.job_queue import StatusRow
from oembed_server.storage.worker_heartbeats import Heartbeat


def status_document(rows: list[StatusRow], dead: list[dict[str, Any]], heartbeats: list[Heartbeat],
                    now: float) -> dict[str, Any]:
    queue = [{"portal": "default" if r.portal_id is None else r.portal_id,
              **{k: v for k, v in dataclasses.asdict(r).items() if k != "portal_id"}} for r in rows]
    totals = {name: sum(getattr(r, name) for r in rows) for name in ("backlog", "held", "sent", "retried", "dead",
                                                                    "shed")}
    return {"now": now, "staleAfterLeases": STALE_LEASES,
            "workers": [h.to_dict(now) for h in heartbeats],
            "queue": queue, "totals": totals,
            "deadJobs": [{"id": j["id"], "kind": j["kind"], "portal": j["portal_id"], "attempts": j["attempts"],
                          "error": j["last_error"], "at": j["updated_at"]} for j in dead]}


def worker_lines(heartbeats: list[Heartbeat], now: float) -> list[str]:
    if not heartbeats:
        return ["Workers: none has recorded a heartbeat."]
    lines = ["Workers:"]
    for h in heartbeats:
        since = datetime.fromtimestamp(h.started_at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        lines.append(f"  {h.owner}  {h.status(now)}  last heartbeat {max(now - h.beat_at, 0):.0f}s ago  "
                     f"(started {since}, lease {h.lease_s:g}s)")
    return lines
