"""Web chat state every worker shares: uploads and reply files (web_files, the bytes in the
file store), the pages open now and the frames written first to them (web_pages, web_pushes),
and the flood limit's counts (flood_counts). Until now these lived in one process's memory, so
a photo uploaded to worker A was not found on worker B and a receipt drawn by B never reached a
page connected to A (issue 12).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must not change when the models do.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_files",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("mime_type", sa.String(length=128), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("file_key", sa.String(length=48), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("confirmed_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_web_files")),
    )
    op.create_index(
        op.f("ix_web_files_kind_owner_created_at"), "web_files", ["kind", "owner", "created_at"]
    )
    op.create_index(
        op.f("ix_web_files_kind_address_created_at"),
        "web_files",
        ["kind", "address", "created_at"],
    )
    op.create_index(op.f("ix_web_files_expires_at"), "web_files", ["expires_at"])
    op.create_table(
        "web_pages",
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("tag", "worker", name=op.f("pk_web_pages")),
    )
    op.create_index(op.f("ix_web_pages_seen_at"), "web_pages", ["seen_at"])
    op.create_table(
        "web_pushes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("frames", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("taken_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_pushes")),
    )
    op.create_index(op.f("ix_web_pushes_taken_at_tag"), "web_pushes", ["taken_at", "tag"])
    op.create_table(
        "flood_counts",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("window_start", TIMESTAMP, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_flood_counts")),
    )
    op.create_index(op.f("ix_flood_counts_window_start"), "flood_counts", ["window_start"])


def downgrade() -> None:
    op.drop_index(op.f("ix_flood_counts_window_start"), table_name="flood_counts")
    op.drop_table("flood_counts")
    op.drop_index(op.f("ix_web_pushes_taken_at_tag"), table_name="web_pushes")
    op.drop_table("web_pushes")
    op.drop_index(op.f("ix_web_pages_seen_at"), table_name="web_pages")
    op.drop_table("web_pages")
    op.drop_index(op.f("ix_web_files_expires_at"), table_name="web_files")
    op.drop_index(op.f("ix_web_files_kind_address_created_at"), table_name="web_files")
    op.drop_index(op.f("ix_web_files_kind_owner_created_at"), table_name="web_files")
    op.drop_table("web_files")
