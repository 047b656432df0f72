"""Files a crash left in the store with no row naming them are deleted by housekeeping once
older than the grace period; files a row names, and files too young to judge, stay. On SQLite
and PostgreSQL, and through the app's own housekeeping round (claimed by its lease)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Knowledge, build_app
from bot.config import Settings
from bot.housekeeping import Housekeeping
from dialogs.model import ConversationKey
from storage.attachments import FileRepository
from storage.conversations import ConversationRepository
from storage.files import LocalFileStore
from storage.migrate import upgrade
from storage.orphans import GRACE, OrphanFiles
from storage.outbox import OutboxRepository
from storage.webchat import WebFiles

KEY = ConversationKey(channel="telegram", chat_id="42", user_id="42")


def _age(store: LocalFileStore, key: str, by: timedelta) -> None:
    path = store.root / key[:2] / key
    then = (datetime.now(UTC) - by).timestamp()
    os.utime(path, (then, then))


async def test_old_files_no_row_names_go_and_named_or_young_files_stay(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    store = LocalFileStore(tmp_path / "files")
    now = datetime.now(UTC)
    old = GRACE + timedelta(minutes=5)
    # A photo whose dossier_files row committed, and a web upload whose web_files row did.
    photo = await store.put(b"cccd", suffix=".jpg")
    await FileRepository(sessions).add(KEY, "cccd", "ab" * 32, photo, "image/jpeg", 4, now)
    token = await WebFiles(sessions, store).put("upload", "tag", b"web", "image/jpeg", "a.jpg", now)
    assert token is not None
    # The crash cases: written, but the row never committed; a row deleted, its file not.
    never_committed = await store.put(b"orphan photo", suffix=".jpg")
    row_deleted = await store.put(b"row went first", suffix="")
    # Still being written up: its row may commit any moment.
    fresh = await store.put(b"in flight", suffix=".jpg")
    everything = [photo, never_committed, row_deleted, fresh]
    web_key = next(
        k for k in await store.stored_before(now + timedelta(days=1)) if k not in everything
    )
    for key in (photo, web_key, never_committed, row_deleted):
        _age(store, key, old)
    partial = store.root / "zz" / ".tmp-crashed"
    partial.parent.mkdir(exist_ok=True)
    partial.write_bytes(b"half")
    then = (now - old).timestamp()
    os.utime(partial, (then, then))

    # Another worker's sweep: its own repository over the same database and store.
    assert await OrphanFiles(sessions, store).sweep(datetime.now(UTC)) == 3

    assert not await store.exists(never_committed) and not await store.exists(row_deleted)
    assert not partial.exists()
    assert await store.get(photo) == b"cccd"
    assert await store.exists(web_key) and await store.exists(fresh)
    found = await WebFiles(sessions, store).get("upload", "tag", token, datetime.now(UTC))
    assert found is not None and found.data == b"web"
    assert await OrphanFiles(sessions, store).sweep(datetime.now(UTC)) == 0


async def test_housekeeping_sweeps_the_store(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    store = LocalFileStore(tmp_path / "files")
    orphan = await store.put(b"orphan", suffix=".jpg")
    _age(store, orphan, timedelta(days=1))
    housekeeping = Housekeeping(
        ConversationRepository(sessions),
        OutboxRepository(sessions),
        lambda: datetime.now(UTC),
        files=OrphanFiles(sessions, store),
    )
    await housekeeping.run_once()
    assert not await store.exists(orphan)


async def test_the_servers_housekeeping_round_removes_an_orphan(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    store = LocalFileStore(settings.files.path)
    orphan = await store.put(b"left by a crash", suffix=".jpg")
    _age(store, orphan, timedelta(days=2))
    async with build_app(settings, knowledge):  # its first housekeeping round runs at start
        for _ in range(200):
            if not await store.exists(orphan):
                break
            await asyncio.sleep(0.05)
    assert not await store.exists(orphan)
