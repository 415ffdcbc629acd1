"""media_items.chapters and media_items.ctas (the player's chapter menu and calls to
action, JSON text like captions) and cta_clicks (clicks counted per item and CTA).

Revision ID: 0011_chapters_ctas
Revises: 0007_operators_invites
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_chapters_ctas"
down_revision = "0007_operators_invites"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only where missing, as the baseline does: a database the baseline took over may have
    # been made from a schema.py that already declared them.
    inspector = sa.inspect(op.get_bind())
    present = {c["name"] for c in inspector.get_columns("media_items")}
    missing = [column for column in (sa.Column("chapters", sa.Text), sa.Column("ctas", sa.Text))
               if column.name not in present]
    if missing:
        with op.batch_alter_table("media_items") as batch:
            for column in missing:
                batch.add_column(column)
    if not inspector.has_table("cta_clicks"):
        op.create_table(
            "cta_clicks",
            sa.Column("external_id", sa.String(255), primary_key=True),
            sa.Column("cta_key", sa.String(16), primary_key=True),
            sa.Column("clicks", sa.BigInteger, nullable=False),
            sa.Column("last_click_at", sa.Float, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("cta_clicks")
    with op.batch_alter_table("media_items") as batch:
        batch.drop_column("ctas")
        batch.drop_column("chapters")
