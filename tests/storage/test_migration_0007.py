"""Migration 0007 on a database as 0006 left it: every conversation gets revision 1 and the
next save over it is compare-and-set like any other; downgrading drops the column only."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import inspect

from dialogs.model import ConversationKey
from storage.conversations import NEW, ConversationRepository, Saved
from storage.db import create_engine, session_factory
from storage.migrate import downgrade, upgrade
from storage.models import UtcDateTime

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
KEY = ConversationKey("zalo", "u-9", "u-9")
_md = sa.MetaData()
CONVERSATIONS = sa.Table(
    "conversations",
    _md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String),
    sa.Column("chat_id", sa.String),
    sa.Column("user_id", sa.String),
    sa.Column("commune_code", sa.String),
    sa.Column("state", sa.JSON),
    sa.Column("state_version", sa.Integer),
    sa.Column("created_at", UtcDateTime),
    sa.Column("updated_at", UtcDateTime),
    sa.Column("last_inbound_at", UtcDateTime),
    sa.Column("reminder_sent_at", UtcDateTime),
)


async def _columns(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.run_sync(lambda c: inspect(c).get_columns("conversations"))
    finally:
        await engine.dispose()
    return {column["name"] for column in found}


async def test_existing_conversations_start_at_revision_one(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade(url, "0006")
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                CONVERSATIONS.insert().values(
                    channel=KEY.channel,
                    chat_id=KEY.chat_id,
                    user_id=KEY.user_id,
                    commune_code="10642",
                    state={"version": 1, "hỏi": "khai sinh"},
                    state_version=1,
                    created_at=T0,
                    updated_at=T0,
                    last_inbound_at=T0,
                    reminder_sent_at=None,
                )
            )
        await upgrade(url)
        repo = ConversationRepository(session_factory(engine))
        stored = await repo.load(KEY)
        assert stored is not None and stored.revision == 1
        assert stored.state == {"version": 1, "hỏi": "khai sinh"}
        assert await repo.save(KEY, {"n": 1}, "10642", T0, revision=NEW) is Saved.STALE
        assert await repo.save(KEY, {"n": 2}, "10642", T0, revision=1) is Saved.SAVED
    finally:
        await engine.dispose()
    await downgrade(url, "0006")
    assert "revision" not in await _columns(url)
    await upgrade(url)
    assert "revision" in await _columns(url)
