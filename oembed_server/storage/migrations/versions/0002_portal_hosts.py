"""Portal hosts: the sites each portal's pages are served from (HubSpot's CMS domains and
an operator's list), against which a framing page's origin is checked.

Revision ID: 0002_portal_hosts
Revises: 0003_session_secrets
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_portal_hosts"
down_revision = "0003_session_secrets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_hosts",
        sa.Column("portal_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("portal_id", "host", "source"),
    )


def downgrade() -> None:
    op.drop_table("portal_hosts")
