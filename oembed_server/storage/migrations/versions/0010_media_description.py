"""media_items.description (the optional text of the media page's structured data and
social cards) and play_sessions.contact_id (the contact an email link named).

Revision ID: 0010_media_description
Revises: 0006_worker_heartbeats
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_media_description"
down_revision = "0006_worker_heartbeats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only where missing, as the baseline does: a database the baseline took over may have
    # been made from a schema.py that already declared them.
    inspector = sa.inspect(op.get_bind())
    for table, column in (("media_items", sa.Column("description", sa.Text)),
                          ("play_sessions", sa.Column("contact_id", sa.BigInteger))):
        if column.name not in {c["name"] for c in inspector.get_columns(table)}:
            with op.batch_alter_table(table) as batch:
                batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("play_sessions") as batch:
        batch.drop_column("contact_id")
    with op.batch_alter_table("media_items") as batch:
        batch.drop_column("description")
