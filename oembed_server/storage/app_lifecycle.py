"""What the app's uninstalls change in the database: the journal's read position and its
unreadable entries, a portal marked uninstalled (tokens forgotten, queued work dropped,
visitor data due for deletion), and that deletion once due.

An uninstall that HubSpot journaled before the portal's latest install is stale (the
customer uninstalled, then installed again) and changes nothing; a portal that installs
again before its deletion is due keeps its data (PortalStore.install clears the date)."""
from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oembed_server.domain.event_record import JOB_KIND
from oembed_server.storage.dialect_insert import dialect_insert
from oembed_server.storage.portal_store import CONNECTED, DISCONNECTED
from oembed_server.storage.schema import (
    HELD,
    QUEUED,
    contact_utks,
    hubspot_portals,
    jobs,
    journal_cursors,
    journal_dead_letters,
    play_sessions,
)

APP_LIFECYCLE = "app_lifecycle"
UNINSTALLED_REASON = "uninstalled in HubSpot"
EVENT_JOB_KINDS = tuple(JOB_KIND.values())


@dataclasses.dataclass(frozen=True)
class Cursor:
    last_offset: str | None
    subscription_id: str | None


def cursor(conn: Connection, name: str = APP_LIFECYCLE) -> Cursor:
    row = conn.execute(sa.select(journal_cursors.c.last_offset, journal_cursors.c.subscription_id)
                       .where(journal_cursors.c.name == name)).first()
    return Cursor(row.last_offset, row.subscription_id) if row else Cursor(None, None)


def _upsert_cursor(conn: Connection, name: str, values: dict, now: float) -> None:
    statement = dialect_insert(journal_cursors, conn.dialect.name).values(name=name, updated_at=now, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["name"], set_=values | {"updated_at": now}))


def save_offset(conn: Connection, offset: str, now: float, name: str = APP_LIFECYCLE) -> None:
    _upsert_cursor(conn, name, {"last_offset": offset}, now)


def save_subscription(conn: Connection, subscription_id: str, now: float, name: str = APP_LIFECYCLE) -> None:
    _upsert_cursor(conn, name, {"subscription_id": subscription_id}, now)


def add_dead_letter(conn: Connection, file_offset: str, reason: str, raw: str, now: float) -> None:
    conn.execute(journal_dead_letters.insert().values(file_offset=file_offset, reason=reason[:2000], raw=raw,
                                                      created_at=now))


def dead_letters(conn: Connection, limit: int = 20) -> list[dict]:
    d = journal_dead_letters.c
    rows = conn.execute(sa.select(d.id, d.file_offset, d.reason, d.raw, d.created_at)
                        .order_by(d.id.desc()).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


def dead_letter_count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(journal_dead_letters)).scalar() or 0)


@dataclasses.dataclass(frozen=True)
class Uninstalled:
    portal_id: int
    outcome: str  # "applied" | "already" | "stale" | "unknown_portal"
    dropped_jobs: int = 0


def mark_uninstalled(conn: Connection, portal_id: int, occurred_at: float | None, *, delete_after: float,
                     now: float) -> Uninstalled:
    """The app left ``portal_id`` (at ``occurred_at``, when known), in the caller's transaction."""
    p = hubspot_portals.c
    row = conn.execute(sa.select(p.token_state, p.connected_at, p.visitor_data_delete_after)
                       .where(p.portal_id == portal_id).with_for_update()).first()
    if row is None:
        return Uninstalled(portal_id, "unknown_portal")
    if occurred_at is not None and row.connected_at > occurred_at:
        return Uninstalled(portal_id, "stale")
    dropped = conn.execute(jobs.delete().where(jobs.c.portal_id == portal_id,
                                               jobs.c.state.in_((QUEUED, HELD)))).rowcount
    was_connected = row.token_state == CONNECTED
    conn.execute(hubspot_portals.update().where(p.portal_id == portal_id).values(
        token_state=DISCONNECTED, ciphertext=None, updated_at=now, state_reason=UNINSTALLED_REASON,
        # A later word of the same uninstall never postpones the deletion.
        visitor_data_delete_after=sa.func.coalesce(p.visitor_data_delete_after, delete_after)))
    return Uninstalled(portal_id, "applied" if was_connected or dropped else "already", dropped)


@dataclasses.dataclass(frozen=True)
class VisitorDataDeleted:
    portal_id: int
    play_sessions: int
    jobs: int
    hubspot_contact_utks: int


def delete_due_visitor_data(conn: Connection, now: float) -> list[VisitorDataDeleted]:
    """Uninstalled portals whose deletion date has passed lose every play session, engagement
    event job and utk -> contact pair they had; the date is then cleared."""
    p = hubspot_portals.c
    due = list(conn.execute(sa.select(p.portal_id).where(p.visitor_data_delete_after <= now,
                                                         p.token_state != CONNECTED)).scalars())
    deleted = []
    for portal_id in due:
        sessions = conn.execute(play_sessions.delete().where(play_sessions.c.portal_id == portal_id)).rowcount
        events = conn.execute(jobs.delete().where(jobs.c.portal_id == portal_id,
                                                  jobs.c.kind.in_(EVENT_JOB_KINDS))).rowcount
        mapped = conn.execute(contact_utks.delete().where(contact_utks.c.portal_id == portal_id)).rowcount
        conn.execute(hubspot_portals.update().where(p.portal_id == portal_id).values(visitor_data_delete_after=None))
        deleted.append(VisitorDataDeleted(portal_id, sessions, events, mapped))
    return deleted
