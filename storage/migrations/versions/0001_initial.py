"""Initial schema: conversations, dossiers with history and files, outbox, counters, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must not change when the models do.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("state_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("last_inbound_at", TIMESTAMP, nullable=False),
        sa.Column("reminder_sent_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint(
            "channel",
            "chat_id",
            "user_id",
            name=op.f("uq_conversations_channel_chat_id_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_conversations_commune_code"), "conversations", ["commune_code"], unique=False
    )
    op.create_index(
        op.f("ix_conversations_last_inbound_at"), "conversations", ["last_inbound_at"], unique=False
    )

    op.create_table(
        "processed_messages",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("channel", "message_id", name=op.f("pk_processed_messages")),
    )
    op.create_index(
        op.f("ix_processed_messages_seen_at"), "processed_messages", ["seen_at"], unique=False
    )

    op.create_table(
        "dossiers",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("procedure_code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("filer", sa.JSON(), nullable=False),
        sa.Column("on_behalf_of", sa.JSON(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("submission_key", sa.String(length=128), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("result_delivery", sa.String(length=16), nullable=False),
        sa.Column("postal_address", sa.JSON(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossiers")),
        sa.UniqueConstraint("code", name=op.f("uq_dossiers_code")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_dossiers_submission_key")),
    )
    op.create_index(
        op.f("ix_dossiers_channel_user_id"), "dossiers", ["channel", "user_id"], unique=False
    )
    op.create_index(
        op.f("ix_dossiers_commune_code_status"),
        "dossiers",
        ["commune_code", "status"],
        unique=False,
    )

    op.create_table(
        "dossier_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("dossier_id", ID, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_events_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_events")),
    )
    op.create_index(
        op.f("ix_dossier_events_dossier_id"), "dossier_events", ["dossier_id"], unique=False
    )

    op.create_table(
        "dossier_files",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("dossier_id", ID, nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("slot", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_files_dossier_id_dossiers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_files")),
    )
    op.create_index(
        op.f("ix_dossier_files_channel_chat_id_user_id"),
        "dossier_files",
        ["channel", "chat_id", "user_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_dossier_files_dossier_id"), "dossier_files", ["dossier_id"], unique=False
    )
    op.create_index(
        "uq_dossier_files_draft",
        "dossier_files",
        ["channel", "chat_id", "user_id", "slot", "sha256"],
        unique=True,
        sqlite_where=sa.text("dossier_id IS NULL"),
        postgresql_where=sa.text("dossier_id IS NULL"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("done_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    op.create_index(
        op.f("ix_outbox_done_at_next_attempt_at"),
        "outbox",
        ["done_at", "next_attempt_at"],
        unique=False,
    )

    op.create_table(
        "code_counters",
        sa.Column("agency_code", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("agency_code", "day", name=op.f("pk_code_counters")),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_target"), "audit_log", ["target"], unique=False)

    op.create_table(
        "kv_secrets",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_kv_secrets")),
    )


def downgrade() -> None:
    op.drop_table("kv_secrets")
    op.drop_index(op.f("ix_audit_log_target"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("code_counters")
    op.drop_index(op.f("ix_outbox_done_at_next_attempt_at"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("uq_dossier_files_draft", table_name="dossier_files")
    op.drop_index(op.f("ix_dossier_files_dossier_id"), table_name="dossier_files")
    op.drop_index(op.f("ix_dossier_files_channel_chat_id_user_id"), table_name="dossier_files")
    op.drop_table("dossier_files")
    op.drop_index(op.f("ix_dossier_events_dossier_id"), table_name="dossier_events")
    op.drop_table("dossier_events")
    op.drop_index(op.f("ix_dossiers_commune_code_status"), table_name="dossiers")
    op.drop_index(op.f("ix_dossiers_channel_user_id"), table_name="dossiers")
    op.drop_table("dossiers")
    op.drop_index(op.f("ix_processed_messages_seen_at"), table_name="processed_messages")
    op.drop_table("processed_messages")
    op.drop_index(op.f("ix_conversations_last_inbound_at"), table_name="conversations")
    op.drop_index(op.f("ix_conversations_commune_code"), table_name="conversations")
    op.drop_table("conversations")
