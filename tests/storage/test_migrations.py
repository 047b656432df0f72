from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from storage.models import Base

TABLES = {
    "conversations",
    "processed_messages",
    "dossiers",
    "dossier_events",
    "dossier_files",
    "outbox",
    "code_counters",
    "audit_log",
    "kv_secrets",
    "choice_memory",
    "leases",
    "web_replies",
    "console_users",
    "console_sessions",
    "console_login_attempts",
    "volunteers",
    "leader_link_codes",
    "leader_chats",
    "conversation_lines",
    "handoffs",
    "handover_codes",
    "web_files",
    "web_pages",
    "web_pushes",
    "flood_counts",
    "announcement_subscriptions",
    "announcements",
}


async def _schema_diffs(url: str) -> list[Any]:
    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(diff)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    assert await current_revision(database_url) == head_revision()
    assert await _schema_diffs(database_url) == []


async def test_an_empty_database_differs_from_the_models(empty_database_url: str) -> None:
    # Guards the comparison above: it does see missing tables.
    assert await current_revision(empty_database_url) is None
    diffs = await _schema_diffs(empty_database_url)
    assert {d[1].name for d in diffs if d[0] == "add_table"} == TABLES


async def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    assert await _tables(database_url) == TABLES
    await downgrade(database_url, "base")
    assert await _tables(database_url) == set()
    assert await current_revision(database_url) is None
    await upgrade(database_url)
    await upgrade(database_url)  # already at head: nothing to do, no error
    assert await _tables(database_url) == TABLES
    assert await _schema_diffs(database_url) == []
