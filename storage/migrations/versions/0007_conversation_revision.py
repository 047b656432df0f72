"""A revision number on each conversation, so a save is compare-and-set.

Several workers may share one PostgreSQL database. Two of them handling turns of the same
conversation at once both loaded the same state, and the later save overwrote the earlier one
(issue 12: both citizens told "Câu 2/8", one answer lost). Now a save says which revision it
was computed from and writes only if the row is still at that revision, moving it one up; the
loser re-runs its turn from a fresh load. Every existing row starts at 1, as a new row does
(0 is never stored: a save of a conversation not yet stored expects 0, which no row matches).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    # recreate="never": SQLite (3.35+) drops the column in place, without a table rebuild.
    with op.batch_alter_table("conversations", recreate="never") as batch:
        batch.drop_column("revision")
