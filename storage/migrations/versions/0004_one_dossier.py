"""One owner, one history: the office's copy of each dossier merges into ``dossiers``.

Before, a dossier lived twice: ``dossiers``/``dossier_events`` (written when the citizen filed)
and ``office_dossiers``/``office_dossier_events`` (written when the outbox delivered it). The
office now owns the one record, so:

* ``dossiers`` gains the workflow's columns: ``version`` (compare-and-set, so two officers or
  two workers can never overwrite each other's move), ``processing_days`` and ``workflow``
  (supplement, extension, payment and postal facts, as JSON);
* ``dossier_events`` gains who moved it and how: ``from_status``, ``role``, ``kind``,
  ``details``;
* status names follow the workflow's (``new`` -> ``received``, ``processed`` ->
  ``result_ready``, ``result_returned`` -> ``returned``, ``stopped`` -> ``refused``);
* every office row is merged: its history joins the dossier's (its own "new" step repeats the
  filing and is dropped), and a dossier only the office had (delivered by a remote citizen
  side) becomes a dossier of its own, with an empty chat address;
* ``deliver_dossier`` outbox rows are done: the dossier is at the office by construction;
* the office tables go.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RENAMED = {
    "new": "received",
    "processed": "result_ready",
    "result_returned": "returned",
    "stopped": "refused",
}


def _status(name: str) -> str:
    return RENAMED.get(name, name)


def _json(value: Any) -> Any:
    """SQLite hands JSON back as text through a plain select; PostgreSQL as objects."""
    if isinstance(value, str):
        return json.loads(value)
    return value


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("processing_days", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("workflow", sa.JSON(), nullable=True))
    with op.batch_alter_table("dossier_events") as batch:
        batch.add_column(sa.Column("from_status", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("role", sa.String(length=32), server_default="", nullable=False))
        batch.add_column(
            sa.Column("kind", sa.String(length=16), server_default="transition", nullable=False)
        )
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))

    bind = op.get_bind()
    for old, new in RENAMED.items():
        bind.execute(sa.text("UPDATE dossiers SET status = :new WHERE status = :old"), {"old": old, "new": new})
        bind.execute(
            sa.text("UPDATE dossier_events SET status = :new WHERE status = :old"),
            {"old": old, "new": new},
        )
    bind.execute(
        sa.text(
            "UPDATE dossier_events SET kind = 'received', role = 'citizen' "
            "WHERE status = 'received'"
        )
    )

    dossiers = {
        row.code: row.id for row in bind.execute(sa.text("SELECT id, code FROM dossiers"))
    }
    office_rows = bind.execute(
        sa.text(
            "SELECT id, code, commune_code, procedure_code, payload, submitted_at, received_at,"
            " status, due_date, updated_at FROM office_dossiers ORDER BY id"
        )
    ).all()
    for office in office_rows:
        dossier_id = dossiers.get(office.code)
        if dossier_id is None:
            payload = _json(office.payload) or {}
            delivery = payload.get("delivery") or {}
            dossier_id = bind.execute(
                sa.text(
                    "INSERT INTO dossiers (code, commune_code, procedure_code, status, fields,"
                    " filer, on_behalf_of, channel, chat_id, user_id, submission_key,"
                    " received_at, due_date, result_delivery, postal_address, created_at,"
                    " updated_at, version, processing_days)"
                    " VALUES (:code, :commune, :procedure, :status, :fields, :filer, :behalf,"
                    " :channel, '', '', :key, :received_at, :due_date, :delivery, :postal,"
                    " :received_at, :updated_at, 0, 0) RETURNING id"
                ).bindparams(
                    sa.bindparam("fields", type_=sa.JSON()),
                    sa.bindparam("filer", type_=sa.JSON()),
                    sa.bindparam("behalf", type_=sa.JSON()),
                    sa.bindparam("postal", type_=sa.JSON()),
                ),
                {
                    "code": office.code,
                    "commune": office.commune_code,
                    "procedure": office.procedure_code,
                    "status": _status(office.status),
                    "fields": payload.get("fields") or {},
                    "filer": payload.get("filer") or {},
                    "behalf": payload.get("on_behalf_of"),
                    "channel": str(payload.get("channel") or "office")[:32],
                    "key": f"office:{office.code}"[:128],
                    "received_at": office.submitted_at,
                    "due_date": office.due_date,
                    "delivery": delivery.get("result_delivery") or "counter",
                    "postal": delivery.get("postal_address"),
                    "updated_at": office.updated_at,
                },
            ).scalar_one()
            keep_reception = True
        else:
            if office.status != "new":
                bind.execute(
                    sa.text("UPDATE dossiers SET status = :status WHERE id = :id"),
                    {"status": _status(office.status), "id": dossier_id},
                )
            keep_reception = False
        events = bind.execute(
            sa.text(
                "SELECT status, at, actor, note FROM office_dossier_events"
                " WHERE dossier_id = :id ORDER BY at, id"
            ),
            {"id": office.id},
        ).all()
        previous: str | None = None
        for event in events:
            status = _status(event.status)
            if status == "received" and not keep_reception:
                previous = status
                continue
            bind.execute(
                sa.text(
                    "INSERT INTO dossier_events (dossier_id, status, at, actor, note,"
                    " from_status, role, kind) VALUES (:dossier_id, :status, :at, :actor,"
                    " :note, :from_status, :role, :kind)"
                ),
                {
                    "dossier_id": dossier_id,
                    "status": status,
                    "at": event.at,
                    "actor": event.actor,
                    "note": event.note,
                    "from_status": previous if status != "received" else None,
                    "role": "system" if status == "received" else "officer",
                    "kind": "received" if status == "received" else "transition",
                },
            )
            previous = status

    bind.execute(
        sa.text(
            "UPDATE outbox SET done_at = created_at, last_error = NULL"
            " WHERE topic = 'deliver_dossier' AND done_at IS NULL"
        )
    )
    op.drop_index(op.f("ix_office_dossier_events_dossier_id"), table_name="office_dossier_events")
    op.drop_table("office_dossier_events")
    op.drop_index(op.f("ix_office_dossiers_commune_code_status"), table_name="office_dossiers")
    op.drop_table("office_dossiers")


def downgrade() -> None:
    """Back to two copies, the office's empty: a later upgrade merges nothing and loses
    nothing; the workflow's columns (versions, supplement and postal facts) are dropped."""
    bind = op.get_bind()
    for old, new in RENAMED.items():
        for table in ("dossiers", "dossier_events"):
            bind.execute(
                sa.text(f"UPDATE {table} SET status = :old WHERE status = :new"),
                {"old": old, "new": new},
            )
    # recreate="never": SQLite (3.35+) drops the columns in place. Rebuilding ``dossiers``
    # would drop the old table, and its ON DELETE CASCADE would take the whole history along.
    with op.batch_alter_table("dossier_events", recreate="never") as batch:
        for column in ("details", "kind", "role", "from_status"):
            batch.drop_column(column)
    with op.batch_alter_table("dossiers", recreate="never") as batch:
        for column in ("workflow", "processing_days", "version"):
            batch.drop_column(column)
    id_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "office_dossiers",
        sa.Column("id", id_type, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("procedure_code", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("submitted_at", timestamp, nullable=False),
        sa.Column("received_at", timestamp, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("updated_at", timestamp, nullable=False),
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
        sa.Column("id", id_type, autoincrement=True, nullable=False),
        sa.Column("dossier_id", id_type, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("at", timestamp, nullable=False),
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
