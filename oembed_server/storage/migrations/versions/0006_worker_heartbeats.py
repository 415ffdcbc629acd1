"""Worker heartbeats: each `oembed-server worker` records that it is alive, for
`worker --status` and `/readyz?worker=1`.

Revision ID: 0006_worker_heartbeats
Revises: 0004_webhooks_privacy
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_worker_heartbeats"
down_revision = "0004_webhooks_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("beat_at", sa.Float, nullable=False),
        sa.Column("lease_s", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("budget_usage", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
