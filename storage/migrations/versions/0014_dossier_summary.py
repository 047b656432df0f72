"""The dashboard's summary of each dossier's history, kept on the dossier itself.

The dashboard (storage.stats) asked every dossier's history two facts: when the office first
decided (the first step to ``result_ready`` or ``refused``, under their older names too) and
whether the dossier needed the one apology and new date (a step of kind ``extended``). Over a
year of 100 communes that join was most of a province-wide page's time. ``dossiers`` now keeps
both, written in the same transaction as the steps (storage.dossiers, storage.bulk):
``finished_at`` and ``extended``. Existing rows are filled in from their history here.

Revision ID: 0014
Revises: 0012 (the lead re-chains it after 0013 at merge)
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must not change when the models do.
TIMESTAMP = sa.DateTime(timezone=True)
FINISHED = ("result_ready", "processed", "refused", "stopped")
EXTENDED = "extended"


def upgrade() -> None:
    # Plain ADD COLUMN on both backends (no batch rebuild of dossiers: see 0008).
    op.add_column("dossiers", sa.Column("finished_at", TIMESTAMP, nullable=True))
    op.add_column(
        "dossiers",
        sa.Column("extended", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    # Both stores compare stored instants as stored (SQLite: naive UTC text in one format, so
    # MIN of the text is the earliest), so one statement fills both.
    finished = ", ".join(f"'{name}'" for name in FINISHED)
    op.execute(
        sa.text(
            "UPDATE dossiers SET "
            "finished_at = (SELECT MIN(e.at) FROM dossier_events e "
            f"WHERE e.dossier_id = dossiers.id AND e.status IN ({finished})), "
            "extended = EXISTS (SELECT 1 FROM dossier_events e "
            f"WHERE e.dossier_id = dossiers.id AND e.kind = '{EXTENDED}')"
        )
    )


def downgrade() -> None:
    op.drop_column("dossiers", "extended")
    op.drop_column("dossiers", "finished_at")
