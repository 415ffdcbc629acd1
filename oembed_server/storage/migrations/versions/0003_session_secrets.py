"""Play sessions bound to the player that opened them; salts for derived keys.

``play_sessions.writer_digest`` holds the digest of the player token and session secret a
session was opened with; sessions from before stay readable (insights) and take no more
reports. ``key_salts`` holds the salt of the insights links' signing key; the row is made
on first use, so this migration adds no data and the stored tokens' key is unchanged.

Revision ID: 0003_session_secrets
Revises: 0010_media_description
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_session_secrets"
down_revision = "0010_media_description"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("play_sessions") as batch:
        batch.add_column(sa.Column("writer_digest", sa.String(64)))
    op.create_table(
        "key_salts",
        sa.Column("purpose", sa.String(64), primary_key=True),
        sa.Column("salt", sa.String(128), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("key_salts")
    with op.batch_alter_table("play_sessions") as batch:
        batch.drop_column("writer_digest")
