"""The web chat's answers kept for a resend (web_replies), shared by every worker.

A page that lost its connection before it saw a frame's answer resends the frame; the turn is
not run again (the conversation has seen the id), and the answer is sent again from here. It
was kept in one worker's memory, so a page that reconnected to another worker got no answer.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must not change when the models do.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_replies",
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("frame_id", sa.String(length=64), nullable=False),
        sa.Column("frames", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("tag", "frame_id", name=op.f("pk_web_replies")),
    )
    op.create_index(op.f("ix_web_replies_created_at"), "web_replies", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_web_replies_created_at"), table_name="web_replies")
    op.drop_table("web_replies")
