"""Migration 0004 on a database as 0003 left it: two copies of a dossier become one, with one
history, today's status names, the office-only dossier kept, and nothing left to deliver."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import inspect

from backoffice.calendar import WorkCalendar
from backoffice.domain import Role, StartProcessing
from backoffice.office import OfficeService
from bot.app import Knowledge
from knowledge.dossier_code import format_code
from storage.db import create_engine, session_factory
from storage.dossiers import VIETNAM, Applied, DossierQuery, DossierRepository
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from storage.models import UtcDateTime
from storage.outbox import OutboxRepository

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
CITIZEN_CODE = "000.00.31.H26-261127-0001"
RETURNED_CODE = "000.00.31.H26-261127-0002"
OFFICE_ONLY = "000.00.31.H26-261127-0003"
CHILD, ID_NUMBER, MOTHER = "Trần Minh Khôi", "001099012345", "Trần Thị Lan"

_md = sa.MetaData()
DOSSIERS = sa.Table(
    "dossiers",
    _md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String),
    sa.Column("commune_code", sa.String),
    sa.Column("procedure_code", sa.String),
    sa.Column("status", sa.String),
    sa.Column("fields", sa.JSON),
    sa.Column("filer", sa.JSON),
    sa.Column("on_behalf_of", sa.JSON),
    sa.Column("channel", sa.String),
    sa.Column("chat_id", sa.String),
    sa.Column("user_id", sa.String),
    sa.Column("submission_key", sa.String),
    sa.Column("received_at", UtcDateTime),
    sa.Column("due_date", sa.Date),
    sa.Column("result_delivery", sa.String),
    sa.Column("postal_address", sa.JSON),
    sa.Column("created_at", UtcDateTime),
    sa.Column("updated_at", UtcDateTime),
)
EVENTS = sa.Table(
    "dossier_events",
    _md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dossier_id", sa.Integer),
    sa.Column("status", sa.String),
    sa.Column("at", UtcDateTime),
    sa.Column("actor", sa.String),
    sa.Column("note", sa.Text),
)
OFFICE = sa.Table(
    "office_dossiers",
    _md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String),
    sa.Column("commune_code", sa.String),
    sa.Column("procedure_code", sa.String),
    sa.Column("payload", sa.JSON),
    sa.Column("submitted_at", UtcDateTime),
    sa.Column("received_at", UtcDateTime),
    sa.Column("status", sa.String),
    sa.Column("due_date", sa.Date),
    sa.Column("updated_at", UtcDateTime),
)
OFFICE_EVENTS = sa.Table(
    "office_dossier_events",
    _md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dossier_id", sa.Integer),
    sa.Column("status", sa.String),
    sa.Column("at", UtcDateTime),
    sa.Column("actor", sa.String),
    sa.Column("note", sa.Text),
)
OUTBOX = sa.Table(
    "outbox",
    _md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("topic", sa.String),
    sa.Column("payload", sa.JSON),
    sa.Column("dedupe_key", sa.String),
    sa.Column("attempts", sa.Integer),
    sa.Column("next_attempt_at", UtcDateTime),
    sa.Column("created_at", UtcDateTime),
    sa.Column("done_at", UtcDateTime),
    sa.Column("last_error", sa.Text),
)


def _citizen(code: str, key: str, status: str) -> dict[str, Any]:
    return {
        "code": code,
        "commune_code": "10642",
        "procedure_code": "1.001022",
        "status": status,
        "fields": {"ho_ten": CHILD, "so_cccd": ID_NUMBER},
        "filer": {"ho_ten": MOTHER},
        "on_behalf_of": None,
        "channel": "zalo",
        "chat_id": "chat-9",
        "user_id": "user-9",
        "submission_key": key,
        "received_at": T0,
        "due_date": date(2026, 12, 2),
        "result_delivery": "counter",
        "postal_address": None,
        "created_at": T0,
        "updated_at": T0,
    }


def _office(code: str, status: str, at: datetime) -> dict[str, Any]:
    return {
        "code": code,
        "commune_code": "10642",
        "procedure_code": "1.001022",
        "payload": {
            "fields": {"ho_ten": CHILD},
            "filer": {"ho_ten": MOTHER},
            "channel": "telegram",
            "delivery": {"result_delivery": "counter"},
        },
        "submitted_at": at,
        "received_at": at + timedelta(minutes=1),
        "status": status,
        "due_date": date(2026, 12, 2),
        "updated_at": at + timedelta(hours=3),
    }


async def _seed_0003(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as db:
            citizen_id = (
                await db.execute(
                    DOSSIERS.insert().returning(DOSSIERS.c.id),
                    _citizen(CITIZEN_CODE, "sub-1", "new"),
                )
            ).scalar_one()
            returned_id = (
                await db.execute(
                    DOSSIERS.insert().returning(DOSSIERS.c.id),
                    _citizen(RETURNED_CODE, "sub-2", "result_returned"),
                )
            ).scalar_one()
            await db.execute(
                EVENTS.insert(),
                [
                    {"dossier_id": citizen_id, "status": "new", "at": T0, "actor": "zalo:chat-9"},
                    {"dossier_id": returned_id, "status": "new", "at": T0, "actor": "zalo:chat-9"},
                    {
                        "dossier_id": returned_id,
                        "status": "result_returned",
                        "at": T0 + timedelta(days=3),
                        "actor": "officer:lan",
                    },
                ],
            )
            # The office's copy of the citizen's dossier, moved on since.
            copy_id = (
                await db.execute(
                    OFFICE.insert().returning(OFFICE.c.id),
                    _office(CITIZEN_CODE, "accepted", T0),
                )
            ).scalar_one()
            only_id = (
                await db.execute(
                    OFFICE.insert().returning(OFFICE.c.id),
                    _office(OFFICE_ONLY, "processed", T0 + timedelta(minutes=5)),
                )
            ).scalar_one()
            await db.execute(
                OFFICE_EVENTS.insert(),
                [
                    {
                        "dossier_id": copy_id,
                        "status": "new",
                        "at": T0 + timedelta(minutes=1),
                        "actor": "office",
                        "note": "",
                    },
                    {
                        "dossier_id": copy_id,
                        "status": "accepted",
                        "at": T0 + timedelta(hours=2),
                        "actor": "officer:lan",
                        "note": "đủ giấy tờ",
                    },
                    *(
                        {
                            "dossier_id": only_id,
                            "status": status,
                            "at": T0 + timedelta(hours=i),
                            "actor": "office" if i == 0 else "officer:lan",
                            "note": "",
                        }
                        for i, status in enumerate(("new", "accepted", "in_progress", "processed"))
                    ),
                ],
            )
            await db.execute(
                OUTBOX.insert(),
                [
                    {
                        "topic": "deliver_dossier",
                        "payload": {"dossier_id": citizen_id, "code": CITIZEN_CODE},
                        "dedupe_key": f"deliver_dossier:{CITIZEN_CODE}",
                        "attempts": 2,
                        "next_attempt_at": T0 + timedelta(minutes=10),
                        "created_at": T0,
                        "done_at": None,
                        "last_error": "BackOfficeUnavailable: ConnectError",
                    },
                    {
                        "topic": "send_receipt:zalo",
                        "payload": {"dossier_id": citizen_id, "code": CITIZEN_CODE},
                        "dedupe_key": f"send_receipt:zalo:{CITIZEN_CODE}",
                        "attempts": 0,
                        "next_attempt_at": T0,
                        "created_at": T0,
                        "done_at": None,
                        "last_error": None,
                    },
                ],
            )
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def _histories(store: DossierRepository) -> dict[str, list[tuple[str | None, str]]]:
    out: dict[str, list[tuple[str | None, str]]] = {}
    for code in (CITIZEN_CODE, RETURNED_CODE, OFFICE_ONLY):
        dossier = await store.by_code(code)
        assert dossier is not None, code
        out[code] = [(e.from_status, e.status) for e in await store.events(dossier.id)]
    return out


async def test_0004_merges_the_office_copy_into_one_dossier(
    empty_database_url: str, knowledge: Knowledge
) -> None:
    url = empty_database_url
    await upgrade(url, "0003")
    assert await current_revision(url) == "0003"
    await _seed_0003(url)

    await upgrade(url)

    assert await current_revision(url) == head_revision()
    assert not {"office_dossiers", "office_dossier_events"} & await _tables(url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        store = DossierRepository(sessions, timezone=VIETNAM, code_format=format_code)
        listed = {d.code: d for d in await store.list()}
        assert set(listed) == {CITIZEN_CODE, RETURNED_CODE, OFFICE_ONLY}
        citizen, returned, only = (listed[c] for c in (CITIZEN_CODE, RETURNED_CODE, OFFICE_ONLY))
        # The office's word on the status wins, under today's names.
        assert (citizen.status, returned.status, only.status) == (
            "accepted",
            "returned",
            "result_ready",
        )
        # The citizen's data and chat address are untouched.
        assert citizen.fields["ho_ten"] == CHILD
        assert (citizen.filer_key.chat_id, citizen.submission_key) == ("chat-9", "sub-1")
        assert only.fields["ho_ten"] == CHILD and only.filer_key.chat_id == ""
        # 0009 gave the migrated dossiers their search text: the inbox finds them in SQL.
        found = {d.code for d in await store.list(DossierQuery(search=CHILD.upper()))}
        assert {CITIZEN_CODE, OFFICE_ONLY} <= found

        histories = await _histories(store)
        assert histories[CITIZEN_CODE] == [(None, "received"), ("received", "accepted")]
        assert [s for _, s in histories[RETURNED_CODE]] == ["received", "returned"]
        assert histories[OFFICE_ONLY] == [
            (None, "received"),
            ("received", "accepted"),
            ("accepted", "in_progress"),
            ("in_progress", "result_ready"),
        ]
        steps = await store.events(citizen.id)
        assert (steps[-1].actor, steps[-1].note) == ("officer:lan", "đủ giấy tờ")
        assert steps[0].kind == "received"

        pending = await OutboxRepository(sessions).pending()
        assert [i.topic for i in pending] == ["send_receipt:zalo"]

        # The office works on the migrated dossiers straight away.
        office = OfficeService(
            store,
            catalogue=knowledge.catalogue,
            calendar=WorkCalendar(),
            timezone=VIETNAM,
            agency_for=lambda commune: "000.00.31.H26",
            clock=lambda: T0 + timedelta(days=1),
        )
        moved = await office.move(
            CITIZEN_CODE, StartProcessing(), actor="officer:lan", role=Role.OFFICER
        )
        assert isinstance(moved, Applied) and moved.dossier.status == "in_progress"
        ready = await store.by_code(OFFICE_ONLY)
        assert ready is not None
        assert [s.value for s in office.allowed(ready, Role.OFFICER)] == ["returned", "posted"]
    finally:
        await engine.dispose()


async def test_0004_downgrades_to_0003_and_upgrades_again(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade(url, "0003")
    await _seed_0003(url)
    await upgrade(url)
    engine = create_engine(url)
    try:
        store = DossierRepository(session_factory(engine))
        before = await _histories(store)
    finally:
        await engine.dispose()

    await downgrade(url, "0003")
    assert await current_revision(url) == "0003"
    assert {"office_dossiers", "office_dossier_events"} <= await _tables(url)
    engine = create_engine(url)
    try:
        async with engine.connect() as db:
            statuses = dict((await db.execute(sa.select(DOSSIERS.c.code, DOSSIERS.c.status))).all())
    finally:
        await engine.dispose()
    # Back under the names 0003's code knows.
    assert statuses == {
        CITIZEN_CODE: "accepted",
        RETURNED_CODE: "result_returned",
        OFFICE_ONLY: "processed",
    }

    await upgrade(url)
    assert await current_revision(url) == head_revision()
    engine = create_engine(url)
    try:
        store = DossierRepository(session_factory(engine))
        after = await _histories(store)
        assert {d.code: d.status for d in await store.list()} == {
            CITIZEN_CODE: "accepted",
            RETURNED_CODE: "returned",
            OFFICE_ONLY: "result_ready",
        }
    finally:
        await engine.dispose()
    # No step lost or doubled (who moved from where is not kept by 0003's schema).
    assert {c: [s for _, s in h] for c, h in after.items()} == {
        c: [s for _, s in h] for c, h in before.items()
    }
