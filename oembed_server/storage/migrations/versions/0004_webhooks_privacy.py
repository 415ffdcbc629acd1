"""HubSpot webhooks and privacy deletions: the per-portal utk -> contact map, the
webhook events already processed (HubSpot redelivers them), and an index finding a
visitor's play sessions.

Revision ID: 0004_webhooks_privacy
Revises: 0001_baseline
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_webhooks_privacy"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hubspot_contact_utks",
        sa.Column("portal_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("contact_utk", sa.String(128), primary_key=True),
        sa.Column("contact_id", sa.BigInteger, nullable=False),
        sa.Column("learned_at", sa.Float, nullable=False),
    )
    op.create_index("ix_hubspot_contact_utks_contact", "hubspot_contact_utks", ["portal_id", "contact_id"])
    op.create_table(
        "hubspot_webhook_events_seen",
        sa.Column("dedupe_key", sa.String(64), primary_key=True),
        sa.Column("portal_id", sa.BigInteger, nullable=False),
        sa.Column("subscription_type", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    op.create_index("ix_hubspot_webhook_events_seen_at", "hubspot_webhook_events_seen", ["seen_at"])
    op.create_index("ix_play_sessions_visitor", "play_sessions", ["portal_id", "contact_utk"])


def downgrade() -> None:
    op.drop_index("ix_play_sessions_visitor", table_name="play_sessions")
    op.drop_index("ix_hubspot_webhook_events_seen_at", table_name="hubspot_webhook_events_seen")
    op.drop_table("hubspot_webhook_events_seen")
    op.drop_index("ix_hubspot_contact_utks_contact", table_name="hubspot_contact_utks")
    op.drop_table("hubspot_contact_utks")
