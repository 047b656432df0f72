"""Announcements to the citizens who opted in (issue 10).

``announcement_subscriptions`` keeps one row per chat (channel and user, like ``volunteers``):
its commune, whether it was offered, opted in or out and when, and the secret of the one-tap
«Không nhận thông báo nữa» button. ``announcements`` keeps what an officer sent, to which
commune, by whom and to how many chats; each recipient's message is an outbox row written in
the same transaction.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must not change when the models do.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "announcement_subscriptions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("asked_at", TIMESTAMP, nullable=True),
        sa.Column("opted_in_at", TIMESTAMP, nullable=True),
        sa.Column("opted_out_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_subscriptions")),
        sa.UniqueConstraint(
            "channel", "user_id", name=op.f("uq_announcement_subscriptions_channel_user_id")
        ),
    )
    op.create_index(
        op.f("ix_announcement_subscriptions_commune_code_status"),
        "announcement_subscriptions",
        ["commune_code", "status"],
    )
    op.create_table(
        "announcements",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("submission_key", sa.String(length=64), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_announcements_submission_key")),
    )
    op.create_index(
        op.f("ix_announcements_commune_code_created_at"),
        "announcements",
        ["commune_code", "created_at"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_announcements_commune_code_created_at"), table_name="announcements")
    op.drop_table("announcements")
    op.drop_index(
        op.f("ix_announcement_subscriptions_commune_code_status"),
        table_name="announcement_subscriptions",
    )
    op.drop_table("announcement_subscriptions")
