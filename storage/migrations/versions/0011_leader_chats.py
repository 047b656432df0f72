"""Leaders' chats: a console account of a leader tied to one Telegram/Zalo/web chat.

A leader asks for the dashboard's summary in the chat (``/thongke``); the chat must first be
tied to their console account. The console gives a one-time code (only its SHA-256 is kept,
for 15 minutes); typed in the chat, it links that chat to the account and is deleted.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must not change when the models do.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "leader_link_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["console_users.id"],
            name=op.f("fk_leader_link_codes_account_id_console_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_leader_link_codes")),
    )
    op.create_index(
        op.f("ix_leader_link_codes_account_id"), "leader_link_codes", ["account_id"]
    )
    op.create_table(
        "leader_chats",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("linked_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["console_users.id"],
            name=op.f("fk_leader_chats_account_id_console_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leader_chats")),
        sa.UniqueConstraint("channel", "user_id", name=op.f("uq_leader_chats_channel_user_id")),
    )
    op.create_index(op.f("ix_leader_chats_account_id"), "leader_chats", ["account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_leader_chats_account_id"), table_name="leader_chats")
    op.drop_table("leader_chats")
    op.drop_index(op.f("ix_leader_link_codes_account_id"), table_name="leader_link_codes")
    op.drop_table("leader_link_codes")
