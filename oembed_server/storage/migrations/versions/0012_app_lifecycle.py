"""App uninstalls from the Webhooks Journal: where reading stopped, the entries that could
not be read, and when an uninstalled portal's visitor data is due for deletion.

Revision ID: 0012_app_lifecycle
Revises: 0008_gates
Create Date: 2026-12-04
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_app_lifecycle"
down_revision = "0008_gates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only where missing, as the baseline does: a database the baseline took over may have
    # been made from a schema.py that already declared it.
    if "visitor_data_delete_after" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("hubspot_portals")}:
        with op.batch_alter_table("hubspot_portals") as batch:
            batch.add_column(sa.Column("visitor_data_delete_after", sa.Float(), nullable=True))
    op.create_table(
        "journal_cursors",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_offset", sa.String(length=100), nullable=True),
        sa.Column("subscription_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "journal_dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("file_offset", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("journal_dead_letters")
    op.drop_table("journal_cursors")
    with op.batch_alter_table("hubspot_portals") as batch:
        batch.drop_column("visitor_data_delete_after")
