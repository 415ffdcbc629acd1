"""HubSpot webhook events already processed: HubSpot delivers an event again when an
answer was late or lost, and a retried batch may hold events already seen, so each is
acted on once. Rows are kept past HubSpot's day of retries, then pruned.
"""
from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from oembed_server.storage.dialect_insert import dialect_insert
from oembed_server.storage.schema import webhook_events_seen

APPLIED = "applied"
UNKNOWN_PORTAL = "unknown_portal"
OTHER_APP = "other_app"
IGNORED = "ignored"
OUTCOMES = (APPLIED, UNKNOWN_PORTAL, OTHER_APP, IGNORED)


def mark_seen(conn: Connection, dedupe_key: str, portal_id: int, subscription_type: str, outcome: str,
              now: float | None = None) -> bool:
    """Record the event as processed in the caller's transaction. False when it already was
    (a redelivery): then the caller must not act on it again."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    now = time.time() if now is None else now
    statement = dialect_insert(webhook_events_seen, conn.dialect.name).values(
        dedupe_key=dedupe_key, portal_id=portal_id, subscription_type=subscription_type, outcome=outcome,
        seen_at=now).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(webhook_events_seen.c.dedupe_key)
    return conn.execute(statement).first() is not None


def was_seen(conn: Connection, dedupe_key: str) -> bool:
    c = webhook_events_seen.c
    return conn.execute(sa.select(c.dedupe_key).where(c.dedupe_key == dedupe_key)).first() is not None


def outcome_counts(conn: Connection) -> dict[str, int]:
    """Events processed, per outcome (the ones for unknown portals among them)."""
    c = webhook_events_seen.c
    rows = conn.execute(sa.select(c.outcome, sa.func.count()).group_by(c.outcome))
    return {outcome: count for outcome, count in rows}


def prune_seen(conn: Connection, older_than: float) -> int:
    return conn.execute(webhook_events_seen.delete().where(webhook_events_seen.c.seen_at < older_than)).rowcount
