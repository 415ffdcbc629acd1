"""What ``oembed-server worker --status`` prints: queue counts per portal and kind, each
portal's event backlog with the time it needs at the portal's budget, and the latest dead
letters with HubSpot's reasons."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from oembed_server.domain.backlog_plan import describe_duration, seconds_needed
from oembed_server.storage.job_queue import EVENT_JOB_KINDS, StatusRow

COLUMNS = ("portal", "kind", "backlog", "held", "sent", "retried", "dead", "shed")


def status_lines(rows: list[StatusRow], dead: list[dict[str, Any]], *,
                 budget: tuple[int, float] | None = None, max_backlog_hours: float | None = None) -> list[str]:
    """``budget``: requests per window seconds each portal may spend (the configured one:
    the worker adopts HubSpot's own figure from its answers once it has them)."""
    if not rows:
        return ["No jobs."]
    table = [COLUMNS] + [(_portal(r.portal_id), r.kind, *(str(v) for v in (r.backlog, r.held, r.sent, r.retried,
                                                                           r.dead, r.shed))) for r in rows]
    totals = [sum(getattr(r, c) for r in rows) for c in COLUMNS[2:]]
    table.append(("all", "", *(str(t) for t in totals)))
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in table]
    if budget is not None:
        lines += backlog_lines(rows, budget, max_backlog_hours)
    if dead:
        lines += ["", "Latest dead jobs (requeue with: oembed-server worker --retry-dead):"]
        for job in dead:
            when = datetime.fromtimestamp(job["updated_at"], UTC).strftime("%Y-%m-%d %H:%M:%SZ")
            lines.append(f"  #{job['id']} {job['kind']} portal {_portal(job['portal_id'])} at {when}: "
                         f"{job['last_error']}")
    return lines


def backlog_lines(rows: list[StatusRow], budget: tuple[int, float], max_backlog_hours: float | None) -> list[str]:
    max_requests, interval_s = budget
    events: dict[int | None, int] = {}
    for row in rows:
        if row.kind in EVENT_JOB_KINDS and row.backlog:
            events[row.portal_id] = events.get(row.portal_id, 0) + row.backlog
    if not events:
        return []
    limit = f"; intermediate quartiles are shed past {max_backlog_hours:g} h" if max_backlog_hours else ""
    lines = ["", f"Event backlog per portal (one request each, at {max_requests} requests / {interval_s:g} s{limit}):"]
    for portal_id, queued in sorted(events.items(), key=lambda item: (item[0] is not None, item[0] or 0)):
        needed = seconds_needed(queued, max_requests, interval_s)
        lines.append(f"  portal {_portal(portal_id)}: {queued} event(s), about {describe_duration(needed)}")
    return lines


def _portal(portal_id: int | None) -> str:
    # -1: local work (webhook batches), done without any portal's token.
    return "default" if portal_id is None else "local" if portal_id == -1 else str(portal_id)
