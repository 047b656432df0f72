"""On SQLite a turn's load does not wait for another worker's write to finish: it reads its
WAL snapshot at once. Before, every transaction began with BEGIN IMMEDIATE, so loads queued
behind saves (up to the 30 s busy timeout)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from dialogs.model import ConversationKey
from storage.conversations import NEW, ConversationRepository
from storage.db import create_engine, session_factory
from storage.migrate import upgrade

KEY = ConversationKey(channel="web", chat_id="c1", user_id="u1")


async def test_a_load_reads_while_another_worker_holds_the_write_lock(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/reads.sqlite3"
    await upgrade(url)
    reader_engine, writer_engine = create_engine(url), create_engine(url)
    try:
        conversations = ConversationRepository(session_factory(reader_engine))
        state = {"version": 1, "mode": "qa", "buttons": []}
        await conversations.save(KEY, state, "10642", datetime.now(UTC), revision=NEW)

        async with writer_engine.connect() as writer:
            await writer.begin()  # BEGIN IMMEDIATE: the write lock, held
            await writer.execute(text("UPDATE conversations SET commune_code = '10645'"))
            loaded = await asyncio.wait_for(conversations.load(KEY), timeout=5)
            assert loaded is not None and loaded.commune_code == "10642"  # the snapshot
            await writer.rollback()
    finally:
        await reader_engine.dispose()
        await writer_engine.dispose()
