"""Smoke tests of the turn benchmark: every system really carries every chat to the end, and
the durable aiogram baseline really is durable."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StorageKey

from bench._aiogram_storage import PostgresStorage, SqliteStorage
from bench.turns import TURNS_PER_CHAT, measure, measure_open, measure_workers
from tests.storage.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL_ENV

KEY = StorageKey(bot_id=42, chat_id=7, user_id=7)
OTHER = StorageKey(bot_id=42, chat_id=8, user_id=8)


def test_every_system_finishes_every_form_in_the_burst(tmp_path: Path) -> None:
    runs = asyncio.run(measure(5, tmp_path))
    assert [r.system for r in runs] == ["ours (SQLite)", "aiogram (SQLite)", "aiogram (memory)"]
    for run in runs:  # ours: dossiers in the database; aiogram: chats that pressed submit
        assert run.finished == 5
        assert run.turns == len(run.latencies_ms) == 5 * TURNS_PER_CHAT


def test_the_open_loop_ladder_files_a_dossier_for_every_finished_chat(tmp_path: Path) -> None:
    levels = asyncio.run(
        measure_open(tmp_path, levels=(20,), seconds=1.5, warmup=0.5, think_s=0.02)
    )
    assert [(r.system, r.offered) for r in levels] == [
        ("(load generator alone)", 2000),
        ("ours (SQLite)", 20),
        ("aiogram (SQLite)", 20),
        ("aiogram (memory)", 20),
    ]
    for level in levels:  # the ladder also checked one dossier (or submit) per finished chat
        assert level.chats > 0 and level.finished > 0
        assert level.measured.turns > 0 and level.cpu_ms > 0


async def _survives_reopening(
    first: BaseStorage, reopen: Callable[[], Awaitable[BaseStorage]]
) -> None:
    await first.set_state(KEY, State("f1", "_Form"))
    await first.set_data(KEY, {"ho_ten": {"value": "Nguyễn Văn An"}})
    await first.set_state(OTHER, "_Form:confirm")
    await first.close()
    again = await reopen()
    try:
        assert await again.get_state(KEY) == "_Form:f1"
        assert await again.get_data(KEY) == {"ho_ten": {"value": "Nguyễn Văn An"}}
        assert await again.get_state(OTHER) == "_Form:confirm"
        assert await again.get_data(OTHER) == {}
        await again.set_state(KEY, None)
        assert await again.get_state(KEY) is None
        assert await again.get_state(StorageKey(bot_id=42, chat_id=9, user_id=9)) is None
    finally:
        await again.close()


async def test_the_sqlite_baseline_storage_commits_every_change(tmp_path: Path) -> None:
    path = tmp_path / "fsm.sqlite3"
    first = await SqliteStorage.open(path)
    await _survives_reopening(first, lambda: SqliteStorage.open(path))


@pytest.mark.postgres
async def test_the_postgresql_baseline_storage_commits_every_change() -> None:
    url = os.environ.get(POSTGRES_URL_ENV, "")
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    first = await PostgresStorage.open(url)
    await _survives_reopening(first, lambda: PostgresStorage.open(url, empty=False))


@pytest.mark.postgres
def test_several_workers_on_postgresql_file_every_dossier() -> None:
    url = os.environ.get(POSTGRES_URL_ENV, "")
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    runs = asyncio.run(
        measure_workers(
            url, (2,), levels=(40,), seconds=1.5, warmup=0.5, think_s=0.05, burst_chats=6
        )
    )
    assert [(r.workers, r.mode) for r in runs] == [(2, "open"), (2, "burst")]
    for run in runs:  # measure_workers also checked one dossier per finished chat
        assert run.filed == run.finished > 0
        assert run.per_second > 0 and run.cpu_ms > 0
    assert runs[1].turns == 6 * TURNS_PER_CHAT and runs[1].filed == 6
    assert runs[0].offered == 40 and runs[1].offered == 0
