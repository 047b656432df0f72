""""Gặp cán bộ": a conversation handed to the commune's officers, and a recent transcript.

``conversation_lines`` keeps the last messages of each conversation both ways, as the citizen
saw them, so that an officer who takes a conversation over knows what was said (housekeeping
trims it to the newest lines per conversation and drops old ones). ``handoffs`` is one row per
hand-over: open until an officer closes it, the citizen ends it or it goes idle; at most one
open per conversation (a partial unique index), changed compare-and-set on ``version``.

``dossiers.search_text`` holds what the console's inbox search reads (folded words, and
digits for phones and ID numbers), so the search and the paging run in SQL; existing dossiers
get theirs here.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must not change when the models do.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversation_lines",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_lines")),
    )
    op.create_index(
        op.f("ix_conversation_lines_channel_chat_id_user_id_id"),
        "conversation_lines",
        ["channel", "chat_id", "user_id", "id"],
    )
    op.create_index(op.f("ix_conversation_lines_at"), "conversation_lines", ["at"])
    op.create_table(
        "handoffs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("waiting", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("closed_by", sa.String(length=80), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
    )
    op.create_index(
        "uq_handoffs_open",
        "handoffs",
        ["channel", "chat_id", "user_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        op.f("ix_handoffs_commune_code_status"), "handoffs", ["commune_code", "status"]
    )


    op.add_column(
        "dossiers", sa.Column("search_text", sa.Text(), server_default=sa.text("''"), nullable=False)
    )
    _fill_search_text()


def _fill_search_text() -> None:
    from storage.dossiers import search_text_of

    bind = op.get_bind()
    dossiers = sa.table(
        "dossiers",
        sa.column("id", ID),
        sa.column("fields", sa.JSON()),
        sa.column("filer", sa.JSON()),
        sa.column("on_behalf_of", sa.JSON()),
        sa.column("search_text", sa.Text()),
    )
    rows = bind.execute(
        sa.select(dossiers.c.id, dossiers.c.fields, dossiers.c.filer, dossiers.c.on_behalf_of)
    ).all()
    for row in rows:
        bind.execute(
            dossiers.update()
            .where(dossiers.c.id == row.id)
            .values(search_text=search_text_of(row.fields or {}, row.filer or {}, row.on_behalf_of))
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place, like 0008: a batch rebuild of dossiers would cascade-delete its history.
        op.execute("ALTER TABLE dossiers DROP COLUMN search_text")
    else:
        op.drop_column("dossiers", "search_text")
    op.drop_index(op.f("ix_handoffs_commune_code_status"), table_name="handoffs")
    op.drop_index("uq_handoffs_open", table_name="handoffs")
    op.drop_table("handoffs")
    op.drop_index(op.f("ix_conversation_lines_at"), table_name="conversation_lines")
    op.drop_index(
        op.f("ix_conversation_lines_channel_chat_id_user_id_id"), table_name="conversation_lines"
    )
    op.drop_table("conversation_lines")
