"""Volunteers, and which volunteer filed a dossier.

Youth-union volunteers file dossiers for villagers who have never filed online (issue 10). A
volunteer is a chat (channel, chat and user id) that asked to help, with the name, phone and
youth-union branch it gave, and an officer's decision. A dossier filed by one names it in
``volunteer_id``; the online-filing figures count those apart from the citizen's own filings and
from the paper dossiers recorded at the counter.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must not change when the models do.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "volunteers",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        # pending → approved | rejected; approved → disabled
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteers")),
        sa.UniqueConstraint("channel", "user_id", name=op.f("uq_volunteers_channel_user_id")),
    )
    op.create_index(
        op.f("ix_volunteers_commune_code_status"), "volunteers", ["commune_code", "status"]
    )
    if op.get_bind().dialect.name == "sqlite":
        # Not a batch rebuild: dropping the old dossiers table would cascade-delete every
        # dossier's history (dossier_events references it ON DELETE CASCADE). SQLite adds a
        # column with a REFERENCES clause in place when its default is NULL.
        op.execute("ALTER TABLE dossiers ADD COLUMN volunteer_id INTEGER REFERENCES volunteers (id)")
    else:
        op.add_column("dossiers", sa.Column("volunteer_id", ID, nullable=True))
        op.create_foreign_key(
            op.f("fk_dossiers_volunteer_id_volunteers"),
            "dossiers",
            "volunteers",
            ["volunteer_id"],
            ["id"],
        )
    op.create_index(op.f("ix_dossiers_volunteer_id"), "dossiers", ["volunteer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_dossiers_volunteer_id"), table_name="dossiers")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE dossiers DROP COLUMN volunteer_id")
    else:
        op.drop_constraint(
            op.f("fk_dossiers_volunteer_id_volunteers"), "dossiers", type_="foreignkey"
        )
        op.drop_column("dossiers", "volunteer_id")
    op.drop_index(op.f("ix_volunteers_commune_code_status"), table_name="volunteers")
    op.drop_table("volunteers")
