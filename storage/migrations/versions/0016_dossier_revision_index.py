"""An index on dossiers (commune_code, version): the dashboard's data revision from it alone.

The dashboard keeps its counts and charts by a data revision read on every request: how many
dossiers there are and the sum of their versions, for the communes asked (storage.stats). It
read every dossier row for it (50 MB for a province's year, 0.06 s on PostgreSQL, three times
for a page and its two charts); the index holds the two columns it reads, so both backends
answer from the index (PostgreSQL: an index-only scan once autovacuum has marked the pages).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_dossiers_commune_code_version", "dossiers", ["commune_code", "version"])


def downgrade() -> None:
    op.drop_index("ix_dossiers_commune_code_version", table_name="dossiers")
