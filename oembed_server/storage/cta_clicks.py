"""Clicks on calls to action, counted per item and CTA (``calls_to_action.cta_key``).
Counts only: nothing about who clicked is stored."""
from __future__ import annotations

import sqlalchemy as sa

from oembed_server.storage.dialect_insert import dialect_insert
from oembed_server.storage.schema import cta_clicks


def count_click(conn: sa.Connection, external_id: str, cta_key: str, now: float) -> None:
    """One more click, in one statement (concurrent clicks on both engines add up)."""
    insert = dialect_insert(cta_clicks, conn.dialect.name).values(
        external_id=external_id, cta_key=cta_key, clicks=1, last_click_at=now)
    conn.execute(insert.on_conflict_do_update(
        index_elements=[cta_clicks.c.external_id, cta_clicks.c.cta_key],
        set_={"clicks": cta_clicks.c.clicks + 1, "last_click_at": now}))


def click_counts(conn: sa.Connection, external_id: str) -> dict[str, int]:
    """Clicks per CTA key of one item (keys never clicked are absent)."""
    rows = conn.execute(sa.select(cta_clicks.c.cta_key, cta_clicks.c.clicks)
                        .where(cta_clicks.c.external_id == external_id))
    return {key: int(clicks) for key, clicks in rows}
