"""Lead capture gates: the catalog's gate column, the scopes a portal granted, and the
per-item gate counts (shown, submitted, skipped).

Revision ID: 0008_gates
Revises: 0011_chapters_ctas
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_gates"
down_revision = "0011_chapters_ctas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only where missing, as the baseline does: a database the baseline took over may have
    # been made from a schema.py that already declared them.
    inspector = sa.inspect(op.get_bind())
    for table, column in (("media_items", sa.Column("gate", sa.Text(), nullable=True)),
                          ("hubspot_portals", sa.Column("granted_scopes", sa.Text(), nullable=True))):
        if column.name not in {c["name"] for c in inspector.get_columns(table)}:
            with op.batch_alter_table(table) as batch:
                batch.add_column(column)
    op.create_table(
        "gate_counts",
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("form_id", sa.String(length=36), nullable=False),
        sa.Column("shown", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("submitted", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("skipped", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("external_id", "form_id"),
    )


def downgrade() -> None:
    op.drop_table("gate_counts")
    with op.batch_alter_table("hubspot_portals") as batch:
        batch.drop_column("granted_scopes")
    with op.batch_alter_table("media_items") as batch:
        batch.drop_column("gate")
