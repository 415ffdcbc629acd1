"""``oembed-server worker --status``: the workers' heartbeats beside the queue counts, as
text or as one JSON document (``--json``) for scripts and monitoring."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from oembed_server.domain.worker_health import STALE_LEASES
from oembed_server.storage.app_lifecycle import Cursor
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


def journal_status(cursor: Cursor, dead_letter_count: int, latest: list[dict[str, Any]]) -> dict[str, Any]:
    """Where reading the Webhooks Journal (app uninstalls) stands."""
    return {"subscriptionId": cursor.subscription_id, "lastOffset": cursor.last_offset,
            "deadLetters": dead_letter_count,
            "latestDeadLetters": [{"id": d["id"], "fileOffset": d["file_offset"], "reason": d["reason"],
                                   "raw": d["raw"][:500], "at": d["created_at"]} for d in latest]}


def journal_lines(journal: dict[str, Any]) -> list[str]:
    if journal["subscriptionId"] is None:
        return ["Webhooks Journal: not subscribed to app uninstalls (app setup subscribes when "
                "HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET and HUBSPOT_APP_ID are set)."]
    lines = [f"Webhooks Journal: subscription {journal['subscriptionId']}, read up to "
             f"{journal['lastOffset'] or 'nothing yet'}, {journal['deadLetters']} unreadable entr"
             f"{'y' if journal['deadLetters'] == 1 else 'ies'} kept"]
    for d in journal["latestDeadLetters"]:
        lines.append(f"  #{d['id']} file {d['fileOffset']}: {d['reason']}: {d['raw'][:200]}")
    return lines
