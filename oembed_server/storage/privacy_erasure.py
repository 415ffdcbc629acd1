"""Erasing what we hold about one contact of one portal (a GDPR privacy deletion), and the
per-portal map from HubSpot visitor tokens (utk) to contacts that makes it possible.

We never store contact ids with plays: a play carries the visitor's utk. HubSpot tells us
which contact a utk belongs to when it answers an event with the contact it resolved
(``remember_contact``). Erasing contact C of portal P removes every play session carrying
one of C's known utks, every engagement event job of those sessions (queued, held, dead
or delivered), and the map rows themselves. Every statement goes through an index (the
sessions' portal and utk, the jobs' dedupe keys), so an erasure costs the same with a
million-row outbox. A utk never resolved cannot be tied to C: its rows go when the
retention period ends. Idempotent: a second erasure finds nothing.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oembed_server.domain.event_record import JOB_KIND, QUARTILES
from oembed_server.storage.dialect_insert import dialect_insert
from oembed_server.storage.schema import contact_utks, jobs, play_sessions

EVENT_JOB_KINDS = tuple(JOB_KIND.values())
# Values per IN list: a contact has a handful of utks and sessions, a bulk erase many.
_UTK_CHUNK = 200
_SESSION_CHUNK = 100


@dataclasses.dataclass(frozen=True)
class Erased:
    """Rows removed, per table."""
    play_sessions: int = 0
    jobs: int = 0
    hubspot_contact_utks: int = 0

    def counts(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    def __add__(self, other: Erased) -> Erased:
        return Erased(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other), strict=True)))


def remember_contact(conn: Connection, portal_id: int, utk: str, contact_id: int, now: float | None = None, *,
                     job_id: int | None = None) -> bool:
    """HubSpot said ``utk`` is contact ``contact_id`` in ``portal_id`` (the newest word wins:
    HubSpot merges contacts, and a utk then belongs to the surviving one). With ``job_id``
    (the event job whose answer said so): only while that job exists, so an event erased
    while it was in flight cannot bring its contact's utk back. False when it did not."""
    if job_id is not None:
        # Locked: an erasure deleting the job either went first (no row) or waits for us.
        if conn.execute(sa.select(jobs.c.id).where(jobs.c.id == job_id).with_for_update()).first() is None:
            return False
    now = time.time() if now is None else now
    statement = dialect_insert(contact_utks, conn.dialect.name).values(
        portal_id=portal_id, contact_utk=utk, contact_id=contact_id, learned_at=now)
    conn.execute(statement.on_conflict_do_update(
        index_elements=["portal_id", "contact_utk"],
        set_={"contact_id": statement.excluded.contact_id, "learned_at": statement.excluded.learned_at}))
    return True


def utks_of(conn: Connection, portal_id: int, contact_id: int) -> list[str]:
    c = contact_utks.c
    return list(conn.execute(sa.select(c.contact_utk).where(c.portal_id == portal_id, c.contact_id == contact_id)
                             .order_by(c.contact_utk)).scalars())


def _portal_is(column, portal_id: int, unassigned_too: bool):
    # Rows from pages outside HubSpot carry no portal; they went to the configured portal.
    return sa.or_(column == portal_id, column.is_(None)) if unassigned_too else column == portal_id


def _session_job_keys(session_id: str) -> list[str]:
    # The dedupe keys storage.play_sessions gives a session's event jobs: one played, one per
    # quartile, one attention. Through their unique index, not a scan of the outbox.
    return ([f"{session_id}:played", f"{session_id}:attention"]
            + [f"{session_id}:q{percent}" for percent in QUARTILES])


def _erase_utks(conn: Connection, portal_id: int, utks: Iterable[str], unassigned_too: bool) -> Erased:
    utks = sorted(set(utks))
    sessions = removed_jobs = mapped = 0
    for start in range(0, len(utks), _UTK_CHUNK):
        chunk = utks[start:start + _UTK_CHUNK]
        session_ids = list(conn.execute(sa.select(play_sessions.c.session_id).where(
            _portal_is(play_sessions.c.portal_id, portal_id, unassigned_too),
            play_sessions.c.contact_utk.in_(chunk))).scalars())
        for first in range(0, len(session_ids), _SESSION_CHUNK):
            keys = [key for sid in session_ids[first:first + _SESSION_CHUNK] for key in _session_job_keys(sid)]
            removed_jobs += conn.execute(jobs.delete().where(jobs.c.dedupe_key.in_(keys),
                                                             jobs.c.kind.in_(EVENT_JOB_KINDS))).rowcount
            sessions += conn.execute(play_sessions.delete().where(
                play_sessions.c.session_id.in_(session_ids[first:first + _SESSION_CHUNK]))).rowcount
        mapped += conn.execute(contact_utks.delete().where(contact_utks.c.portal_id == portal_id,
                                                           contact_utks.c.contact_utk.in_(chunk))).rowcount
    return Erased(sessions, removed_jobs, mapped)


def erase_contact(conn: Connection, portal_id: int, contact_id: int, *, unassigned_too: bool = False) -> Erased:
    """Everything tied to contact ``contact_id`` of ``portal_id``, in the caller's transaction.
    ``unassigned_too``: the portal is the configured one, which also got the plays of
    pages that named no portal."""
    erased = _erase_utks(conn, portal_id, utks_of(conn, portal_id, contact_id), unassigned_too)
    # Map rows whose utk had already gone (erased by utk alone) still name the contact.
    rest = conn.execute(contact_utks.delete().where(contact_utks.c.portal_id == portal_id,
                                                    contact_utks.c.contact_id == contact_id)).rowcount
    return erased + Erased(hubspot_contact_utks=rest)


def erase_utk(conn: Connection, portal_id: int, utk: str, *, unassigned_too: bool = False) -> Erased:
    """Everything carrying visitor token ``utk`` in ``portal_id``, and its map row."""
    return _erase_utks(conn, portal_id, [utk], unassigned_too)
