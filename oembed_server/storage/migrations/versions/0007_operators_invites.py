"""Install invites held in the database (listed, revocable, counted uses) and the operator
console's operators, sessions, login throttle and intake refusal tallies.

Revision ID: 0007_operators_invites
Revises: 0002_portal_hosts
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_operators_invites"
down_revision = "0002_portal_hosts"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "install_invites",
        sa.Column("invite_id", sa.String(length=32), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("library", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), server_default="0", nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("invite_id"),
    )
    op.create_table(
        "console_operators",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("token_sha256"),
    )
    op.create_index("ix_console_sessions_operator", "console_sessions", ["operator"], unique=False)
    op.create_table(
        "console_login_failures",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("throttle_key", sa.String(length=200), nullable=False),
        sa.Column("failed_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_console_login_failures_key", "console_login_failures", ["throttle_key", "failed_at"],
                    unique=False)
    op.create_table(
        "intake_refusals",
        sa.Column("minute", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("refused", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("minute", "reason"),
    )


def downgrade() -> None:
    op.drop_table("intake_refusals")
    op.drop_index("ix_console_login_failures_key", table_name="console_login_failures")
    op.drop_table("console_login_failures")
    op.drop_index("ix_console_sessions_operator", table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_table("console_operators")
    op.drop_table("install_invites")
