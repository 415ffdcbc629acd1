"""What the operator console shows: plain dicts read from the database the CLI reads (the
portals' records and provisioning steps, the job queue, play sessions, the catalog, the
intake's refusal tallies), so every process shows the same and a restart loses nothing."""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oembed_server.domain.derived_keys import LINKS_PURPOSE
from oembed_server.domain.event_record import JOB_KIND
from oembed_server.domain.session_links import link_keys, media_insights_url
from oembed_server.settings import Settings
from oembed_server.storage import job_queue
from oembed_server.storage.key_salts import salt_for
from oembed_server.storage.portal_store import PortalStore
from oembed_server.storage.refusal_tally import refusals_since
from oembed_server.storage.schema import media_items, play_sessions
from oembed_server.usecases.portal_overview import list_portals
from oembed_server.usecases.provisioning import portal_steps

HOUR_S, DAY_S = 3600, 86400
EVENT_JOB_KINDS = tuple(JOB_KIND.values())
_CORRELATION = re.compile(r"\(correlationId ([^)\s]+)\)")


def _stamp(value: float | None) -> str | None:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC") if value else None


def budget_per_s(settings: Settings) -> float:
    """Calls a second one portal's HubSpot budget allows (HUBSPOT_RATE_LIMIT per interval)."""
    return settings.hubspot.rate_limit / settings.hubspot.rate_interval_s


def drain_text(jobs: int, per_s: float) -> str:
    """How long ``jobs`` calls take at ``per_s``, said for a person."""
    if jobs <= 0:
        return "nothing waiting"
    seconds = jobs / per_s
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _backlog_by_portal(engine: Engine) -> dict[int | None, dict[str, int]]:
    jobs = job_queue.jobs
    out: dict[int | None, dict[str, int]] = {}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(jobs.c.portal_id, jobs.c.state, sa.func.count())
                            .where(jobs.c.state.in_((job_queue.QUEUED, job_queue.HELD, job_queue.DEAD)))
                            .group_by(jobs.c.portal_id, jobs.c.state))
        for portal_id, state, count in rows:
            entry = out.setdefault(None if portal_id is None else int(portal_id), {"queued": 0, "held": 0, "dead": 0})
            entry[{job_queue.QUEUED: "queued", job_queue.HELD: "held", job_queue.DEAD: "dead"}[state]] += count
    return out


def portals(store: PortalStore, settings: Settings) -> list[dict]:
    per_s = budget_per_s(settings)
    backlog = _backlog_by_portal(store.engine)
    now = time.time()
    rows = []
    for info in list_portals(store):
        with store.engine.connect() as conn:
            steps = portal_steps(conn, info["portalId"], now)
        counts = backlog.get(info["portalId"], {"queued": 0, "held": 0, "dead": 0})
        rows.append(info | {
            "stepsDone": sum(1 for s in steps if s.state == "done"), "stepsTotal": len(steps),
            "stepsFailed": [s.to_dict() for s in steps if s.state == "failed"],
            "backlog": counts["queued"], "held": counts["held"], "dead": counts["dead"],
            "drain": drain_text(counts["queued"], per_s),
        })
    return rows


def dead_letters(engine: Engine, portal_id: int | None = None, limit: int = 50) -> list[dict]:
    jobs = job_queue.jobs
    query = (sa.select(jobs.c.id, jobs.c.kind, jobs.c.portal_id, jobs.c.attempts, jobs.c.last_error,
                       jobs.c.updated_at).where(jobs.c.state == job_queue.DEAD)
             .order_by(jobs.c.updated_at.desc()).limit(limit))
    if portal_id is not None:
        query = query.where(jobs.c.portal_id == portal_id)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    out = []
    for row in rows:
        error = row["last_error"] or ""
        match = _CORRELATION.search(error)
        out.append({"id": row["id"], "kind": row["kind"], "portalId": row["portal_id"], "attempts": row["attempts"],
                    "message": _CORRELATION.sub("", error).strip(), "correlationId": match.group(1) if match else None,
                    "at": _stamp(row["updated_at"])})
    return out


def events(engine: Engine, settings: Settings, now: float | None = None) -> dict:
    """Reports accepted (as the events they queued, and the play sessions they opened) and
    refused (by reason) in the last hour and day, and each portal's event backlog with the
    time it takes at the portal's budget."""
    now = time.time() if now is None else now
    jobs = job_queue.jobs
    windows = {"hour": now - HOUR_S, "day": now - DAY_S}
    accepted: dict[str, dict[str, int]] = {}
    sessions: dict[str, int] = {}
    refused: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for name, since in windows.items():
            rows = conn.execute(sa.select(jobs.c.kind, sa.func.count())
                                .where(jobs.c.kind.in_(EVENT_JOB_KINDS), jobs.c.created_at >= since)
                                .group_by(jobs.c.kind))
            accepted[name] = {kind: int(n) for kind, n in rows}
            sessions[name] = int(conn.execute(sa.select(sa.func.count()).select_from(play_sessions)
                                              .where(play_sessions.c.first_seen_at >= since)).scalar() or 0)
        backlog_rows = conn.execute(
            sa.select(jobs.c.portal_id, sa.func.count(), sa.func.min(jobs.c.created_at))
            .where(jobs.c.kind.in_(EVENT_JOB_KINDS), jobs.c.state == job_queue.QUEUED)
            .group_by(jobs.c.portal_id).order_by(jobs.c.portal_id)).all()
    for name, since in windows.items():
        refused[name] = refusals_since(engine, since)
    per_s = budget_per_s(settings)
    reasons = sorted(set(refused["hour"]) | set(refused["day"]))
    return {
        "kinds": list(EVENT_JOB_KINDS), "accepted": accepted, "sessions": sessions,
        "reasons": reasons, "refused": refused,
        "budget": f"{settings.hubspot.rate_limit} calls per {settings.hubspot.rate_interval_s:g} s",
        "backlog": [{"portalId": p, "queued": int(n), "oldest": _stamp(oldest), "drain": drain_text(int(n), per_s)}
                    for p, n, oldest in backlog_rows],
    }


def catalog_counts(engine: Engine) -> list[dict]:
    library = sa.func.coalesce(media_items.c.library, "default")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(library, media_items.c.visibility, sa.func.count())
                            .group_by(library, media_items.c.visibility)).all()
    table: dict[str, dict[str, int]] = {}
    for lib, visibility, count in rows:
        table.setdefault(lib, {"public": 0, "unlisted": 0, "private": 0})[visibility] = int(count)
    return [{"library": lib, **counts, "total": sum(counts.values())} for lib, counts in sorted(table.items())]


def media_stats(engine: Engine, settings: Settings, limit: int = 200) -> list[dict]:
    """Plays, distinct contacts and average percent played per item, most played first."""
    c = play_sessions.c
    plays = sa.func.count().label("plays")
    query = (sa.select(c.external_id, plays, sa.func.count(sa.distinct(c.contact_utk)).label("contacts"),
                       sa.func.avg(c.percent_played).label("percent"))
             .where(c.started_day.is_not(None)).group_by(c.external_id).order_by(plays.desc(), c.external_id)
             .limit(limit))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
        titles = dict(conn.execute(sa.select(media_items.c.external_id, media_items.c.title)
                                   .where(media_items.c.external_id.in_([r["external_id"] for r in rows]))).all())
    # The links revocable ones, like every other insights link (storage.key_salts).
    keys = link_keys(settings.secret_key, salt_for(engine, LINKS_PURPOSE), settings.insights_link_days)
    return [{"externalId": r["external_id"], "title": titles.get(r["external_id"]), "plays": int(r["plays"]),
             "contacts": int(r["contacts"]),
             "percent": None if r["percent"] is None else round(float(r["percent"]), 1),
             "insightsUrl": media_insights_url(settings.public_url, keys, r["external_id"])}
            for r in rows]
