"""A volunteer's dossier handed over to the villager's own chat, with a one-time code.

A volunteer files for a villager from the volunteer's chat (issue 10); the villager may later
take the dossier's notices in their own Telegram or Zalo. The volunteer asks for a short code,
stored here only as its SHA-256 (``code_hash``), with an expiry and the moment it was used; the
villager types it in their own chat, and the dossier records that chat in ``villager_channel``,
``villager_chat_id`` and ``villager_user_id`` (its notices then go there as well).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must not change when the models do.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "handover_codes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("dossier_id", ID, nullable=False),
        sa.Column("volunteer_id", ID, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.Column("used_by", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_handover_codes_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_handover_codes_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_handover_codes_code_hash")),
    )
    op.create_index(op.f("ix_handover_codes_dossier_id"), "handover_codes", ["dossier_id"])
    # Plain ADD COLUMN on both backends (no batch rebuild of dossiers: see 0008).
    for name in ("villager_channel", "villager_chat_id", "villager_user_id"):
        op.add_column("dossiers", sa.Column(name, sa.String(length=128), nullable=True))


def downgrade() -> None:
    for name in ("villager_user_id", "villager_chat_id", "villager_channel"):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE dossiers DROP COLUMN {name}")
        else:
            op.drop_column("dossiers", name)
    op.drop_index(op.f("ix_handover_codes_dossier_id"), table_name="handover_codes")
    op.drop_table("handover_codes")
