"""The office side: dossiers received by the one-stop-shop office and their status history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must not change when the models do.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "office_dossiers",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("procedure_code", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("submitted_at", TIMESTAMP, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_dossiers")),
        sa.UniqueConstraint("code", name=op.f("uq_office_dossiers_code")),
    )
    op.create_index(
        op.f("ix_office_dossiers_commune_code_status"),
        "office_dossiers",
        ["commune_code", "status"],
        unique=False,
    )

    op.create_table(
        "office_dossier_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("dossier_id", ID, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["office_dossiers.id"],
            name=op.f("fk_office_dossier_events_dossier_id_office_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_dossier_events")),
    )
    op.create_index(
        op.f("ix_office_dossier_events_dossier_id"),
        "office_dossier_events",
        ["dossier_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_office_dossier_events_dossier_id"), table_name="office_dossier_events")
    op.drop_table("office_dossier_events")
    op.drop_index(op.f("ix_office_dossiers_commune_code_status"), table_name="office_dossiers")
    op.drop_table("office_dossiers")
