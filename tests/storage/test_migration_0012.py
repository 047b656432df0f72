"""Migration 0012 with dossiers in the database: down to 0008 and up again, every dossier and
its history stay (SQLite adds and drops the villager columns in place, no table rebuild that
would cascade-delete the history), and the handover codes go and come with their table."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect

from dialogs.model import ConversationKey
from storage.db import create_engine, session_factory
from storage.dossiers import DossierRepository, NewDossier
from storage.migrate import downgrade, upgrade

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


async def _schema(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:

            def read(c: object) -> tuple[set[str], set[str]]:
                found = inspect(c)
                columns = {col["name"] for col in found.get_columns("dossiers")}
                return columns, set(found.get_table_names())

            return await connection.run_sync(read)
    finally:
        await engine.dispose()


async def test_dossiers_and_their_history_survive_0012_down_and_up(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade(url)
    engine = create_engine(url)
    try:
        store = DossierRepository(session_factory(engine))
        dossier, _ = await store.file(
            NewDossier(
                submission_key="m-1",
                agency_code="000.00.31.H26",
                commune_code="10642",
                procedure_code="1.001193",
                filer_key=ConversationKey("zalo", "z", "z"),
                received_at=NOW,
                fields={"child_name": "Nguyễn Văn An"},
                filer={"for_self": True},
            )
        )
    finally:
        await engine.dispose()
    await downgrade(url, "0008")
    columns, tables = await _schema(url)
    assert "villager_channel" not in columns and "handover_codes" not in tables
    await upgrade(url)
    columns, tables = await _schema(url)
    assert {"villager_channel", "villager_chat_id", "villager_user_id"} <= columns
    assert "handover_codes" in tables
    engine = create_engine(url)
    try:
        store = DossierRepository(session_factory(engine))
        kept = await store.by_code(dossier.code)
        assert kept is not None and kept.fields == {"child_name": "Nguyễn Văn An"}
        assert kept.villager_key is None
        assert [e.status for e in await store.events(kept.id)] == ["received"]
    finally:
        await engine.dispose()
