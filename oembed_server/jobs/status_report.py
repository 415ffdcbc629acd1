"""What ``oembed-server worker --status`` prints: queue counts per portal and kind, and the
latest dead letters with HubSpot's reasons."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from oembed_server.storage.job_queue import StatusRow

COLUMNS = ("portal", "kind", "backlog", "held", "sent", "retried", "dead")


def status_lines(rows: list[StatusRow], dead: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["No jobs."]
    table = [COLUMNS] + [(_portal(r.portal_id), r.kind, *(str(v) for v in (r.backlog, r.held, r.sent, r.retried,
                                                                           r.dead))) for r in rows]
    totals = [sum(getattr(r, c) for r in rows) for c in COLUMNS[2:]]
    table.append(("all", "", *(str(t) for t in totals)))
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in table]
    if dead:
        lines += ["", "Latest dead jobs (requeue with: oembed-server worker --retry-dead):"]
        for job in dead:
            when = datetime.fromtimestamp(job["updated_at"], UTC).strftime("%Y-%m-%d %H:%M:%SZ")
            lines.append(f"  #{job['id']} {job['kind']} portal {_portal(job['portal_id'])} at {when}: "
                         f"{job['last_error']}")
    return lines


def _portal(portal_id: int | None) -> str:
    # -1: local work (webhook batches), done without any portal's token.
    return "default" if portal_id is None else "local" if portal_id == -1 else str(portal_id)
