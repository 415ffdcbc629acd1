"""media_items.description (the optional text of the media page's structured data and
social cards) and play_sessions.contact_id (the contact an email link named).

Revision ID: 0010_media_description
Revises: 0001_baseline
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_media_description"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("media_items") as batch:
        batch.add_column(sa.Column("description", sa.Text))
    with op.batch_alter_table("play_sessions") as batch:
        batch.add_column(sa.Column("contact_id", sa.BigInteger))


def downgrade() -> None:
    with op.batch_alter_table("play_sessions") as batch:
        batch.drop_column("contact_id")
    with op.batch_alter_table("media_items") as batch:
        batch.drop_column("description")
