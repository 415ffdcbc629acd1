"""Baseline: the schema as it stood when the project adopted migrations.

It also takes over a database made before then (no version table): every table, column
and index is created only where it is missing, so such a database keeps its rows, and one
from a release before captions, streams or libraries gains those columns as before.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-03
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Columns later releases added to media_items; an older database lacks them.
_LATER_MEDIA_COLUMNS = ("captions", "stream_url", "library")

# Take a slot in one round trip: lock the key, restamp the slots whose answers came (counted
# from the answer: HubSpot counted them on arrival, earlier), count the window, and either
# take a slot or say how long to wait. Time is the database's, shared by every process.
TAKE_RATE_SLOT_FUNCTION = """
CREATE OR REPLACE FUNCTION hubspot_take_rate_slot(p_ns int, p_lock int, p_key text, p_max int,
                                                  p_interval float8, p_answered bigint[])
RETURNS TABLE(slot_id bigint, wait_s float8) LANGUAGE plpgsql AS $$
DECLARE
  v_now float8;
  v_count int;
  v_oldest float8;
  v_blocked float8;
  v_wait float8;
BEGIN
  PERFORM pg_advisory_xact_lock(p_ns, p_lock);
  v_now := extract(epoch from clock_timestamp());
  IF cardinality(p_answered) > 0 THEN
    UPDATE hubspot_rate_slots SET taken_at = v_now WHERE id = ANY(p_answered);
  END IF;
  SELECT count(*), min(taken_at) INTO v_count, v_oldest FROM hubspot_rate_slots
   WHERE budget_key = p_key AND taken_at > v_now - p_interval;
  SELECT blocked_until INTO v_blocked FROM hubspot_rate_blocks WHERE budget_key = p_key;
  v_wait := coalesce(v_blocked, 0) - v_now;
  IF v_count >= p_max THEN
    v_wait := greatest(v_wait, v_oldest + p_interval - v_now);
  END IF;
  IF v_wait > 0 THEN
    RETURN QUERY SELECT NULL::bigint, v_wait;
  ELSE
    RETURN QUERY INSERT INTO hubspot_rate_slots AS s (budget_key, taken_at) VALUES (p_key, v_now)
                 RETURNING s.id, 0::float8;
  END IF;
END
$$
"""


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())

    def create_table(name: str, *columns: SchemaItem) -> None:
        if name not in tables:
            op.create_table(name, *columns)

    def create_index(name: str, table: str, columns: list[str], **kwargs: Any) -> None:
        if table in tables and name in {ix["name"] for ix in inspector.get_indexes(table)}:
            return
        op.create_index(name, table, columns, unique=False, **kwargs)

    create_table(
        "media_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("file_url", sa.Text(), nullable=True),
        sa.Column("thumbnail_url", sa.Text(), nullable=True),
        sa.Column("thumbnail_width", sa.Integer(), nullable=True),
        sa.Column("thumbnail_height", sa.Integer(), nullable=True),
        sa.Column("poster_url", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("folder_path", sa.Text(), nullable=True),
        sa.Column("details_page_link", sa.Text(), nullable=True),
        sa.Column("author_name", sa.Text(), nullable=True),
        sa.Column("author_url", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=16), server_default="public", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hubspot_object_id", sa.String(length=64), nullable=True),
        sa.Column("captions", sa.Text(), nullable=True),
        sa.Column("stream_url", sa.Text(), nullable=True),
        sa.Column("library", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("external_id"),
    )
    if "media_items" in tables:
        present = {c["name"] for c in inspector.get_columns("media_items")}
        later = {"captions": sa.Text(), "stream_url": sa.Text(), "library": sa.String(length=64)}
        missing = [name for name in _LATER_MEDIA_COLUMNS if name not in present]
        if missing:
            with op.batch_alter_table("media_items") as batch:
                for name in missing:
                    batch.add_column(sa.Column(name, later[name], nullable=True))

    create_table(
        "jobs",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("portal_id", sa.BigInteger(), nullable=True),
        sa.Column("priority", sa.SmallInteger(), server_default="100", nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    create_index("ix_jobs_due", "jobs", ["state", "priority", "next_attempt_at"])
    create_index("ix_jobs_portal_state", "jobs", ["portal_id", "state", "kind"])
    create_index("ix_jobs_done_at", "jobs", ["updated_at"],
                 postgresql_where=sa.text("state = 'done'"), sqlite_where=sa.text("state = 'done'"))

    create_table(
        "play_sessions",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=16), nullable=False),
        sa.Column("portal_id", sa.BigInteger(), nullable=True),
        sa.Column("contact_utk", sa.String(length=128), nullable=True),
        sa.Column("page_id", sa.String(length=64), nullable=True),
        sa.Column("page_name", sa.Text(), nullable=True),
        sa.Column("page_url", sa.Text(), nullable=True),
        sa.Column("hsenc", sa.Text(), nullable=True),
        sa.Column("external_play_context", sa.String(length=16), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("started_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("started_day", sa.String(length=10), nullable=True),
        sa.Column("reports", sa.Integer(), server_default="1", nullable=False),
        sa.Column("spans", sa.Text(), nullable=True),
        sa.Column("span_seconds", sa.Float(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("percent_played", sa.Float(), nullable=True),
        sa.Column("attention_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("first_seen_at", sa.Float(), nullable=False),
        sa.Column("last_seen_at", sa.Float(), nullable=False),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id"),
    )
    create_index("ix_play_sessions_media", "play_sessions", ["external_id", "started_day"])
    create_index("ix_play_sessions_open", "play_sessions", ["closed_at", "last_seen_at"])

    create_table(
        "hubspot_portals",
        sa.Column("portal_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("library", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=True),
        sa.Column("token_state", sa.String(length=16), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("connected_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("last_sync_at", sa.Float(), nullable=True),
        sa.Column("generation", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("portal_id"),
    )
    create_table(
        "hubspot_install_states",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    create_table(
        "provisioning_marks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    create_table(
        "module_push_records",
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("remote_updated_at", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    create_table(
        "hubspot_oauth_tokens",
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("origin"),
    )
    create_table(
        "hubspot_rate_slots",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("budget_key", sa.String(length=64), nullable=False),
        sa.Column("taken_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    create_index("ix_hubspot_rate_slots_key", "hubspot_rate_slots", ["budget_key", "taken_at"])
    create_table(
        "hubspot_rate_blocks",
        sa.Column("budget_key", sa.String(length=64), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("budget_key"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TAKE_RATE_SLOT_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS hubspot_take_rate_slot(int, int, text, int, float8, bigint[])")
    for name in ("hubspot_rate_blocks", "hubspot_rate_slots", "hubspot_oauth_tokens", "module_push_records",
                 "provisioning_marks", "hubspot_install_states", "hubspot_portals", "play_sessions", "jobs",
                 "media_items"):
        op.drop_table(name)
