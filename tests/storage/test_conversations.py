from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage.conversations import ChoiceRepository, ConversationRepository

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
KEY = ConversationKey(channel="zalo", chat_id="c-1", user_id="u-1")
STATE = {
    "version": 2,
    "menu": "khai_sinh",
    "form": {"ho_ten": "Nguyễn Thị Hương", "noi_sinh": "Trạm y tế xã Đông Hưng", "so": 3},
    "history": ["Xin chào", "Đăng ký khai sinh"],
}


async def test_state_round_trips_with_vietnamese_text(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    assert await repo.load(KEY) is None

    await repo.save(KEY, STATE, "10642", NOW)
    loaded = await repo.load(KEY)

    assert loaded is not None
    assert loaded.key == KEY
    assert loaded.state == STATE
    assert loaded.state_version == 2
    assert loaded.commune_code == "10642"
    assert loaded.created_at == loaded.updated_at == loaded.last_inbound_at == NOW
    assert loaded.created_at.tzinfo is not None
    assert loaded.reminder_sent_at is None


async def test_save_replaces_state_and_keeps_users_apart(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    other = ConversationKey(channel="zalo", chat_id="c-1", user_id="u-2")
    await repo.save(KEY, {"version": 1, "step": "một"}, "10642", NOW)
    await repo.save(other, {"version": 1, "step": "khác"}, "10642", NOW)
    later = NOW + timedelta(minutes=5)
    await repo.save(KEY, {"version": 1, "step": "hai"}, "10645", later)

    mine = await repo.load(KEY)
    theirs = await repo.load(other)
    assert mine is not None and theirs is not None
    assert mine.state == {"version": 1, "step": "hai"}
    assert mine.commune_code == "10645"
    assert (mine.created_at, mine.updated_at) == (NOW, later)
    assert theirs.state == {"version": 1, "step": "khác"}


async def test_outbound_save_keeps_the_users_last_activity(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    await repo.save(KEY, {"version": 1}, "10642", NOW)
    later = NOW + timedelta(days=2)
    await repo.save(KEY, {"version": 1, "reminded": True}, "10642", later, inbound=False)
    loaded = await repo.load(KEY)
    assert loaded is not None
    assert loaded.last_inbound_at == NOW
    assert loaded.updated_at == later


async def test_stale_drafts_and_reminders(sessions: async_sessionmaker[AsyncSession]) -> None:
    repo = ConversationRepository(sessions)
    quiet = ConversationKey(channel="telegram", chat_id="9", user_id="9")
    await repo.save(quiet, {"version": 1, "form": {"a": 1}}, "10642", NOW - timedelta(days=28))
    await repo.save(KEY, {"version": 1, "form": {"b": 2}}, "10642", NOW - timedelta(hours=1))

    stale = await repo.stale_drafts(NOW - timedelta(days=27))
    assert [c.key for c in stale] == [quiet]

    await repo.mark_reminded(quiet, NOW)
    reminded = await repo.load(quiet)
    assert reminded is not None and reminded.reminder_sent_at == NOW

    # The user answers: the draft is fresh again and a later reminder is allowed.
    await repo.save(quiet, {"version": 1, "form": {"a": 2}}, "10642", NOW + timedelta(minutes=1))
    active = await repo.load(quiet)
    assert active is not None and active.reminder_sent_at is None
    assert await repo.stale_drafts(NOW - timedelta(days=27)) == []

    assert await repo.delete(quiet) is True
    assert await repo.delete(quiet) is False
    assert await repo.load(quiet) is None


def _turn(repo: ConversationRepository, channel: str, message_id: str, when: datetime) -> Any:
    """A turn's save, which records its inbound message id with the new state."""
    key = ConversationKey(channel=channel, chat_id="c-1", user_id="u-1")
    return repo.save(key, {"version": 1}, "10642", when, seen_message=message_id)


async def test_a_redelivered_message_is_seen_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    assert await _turn(repo, "telegram", "1001", NOW) is True
    assert await _turn(repo, "telegram", "1001", NOW) is False
    assert await _turn(repo, "zalo", "1001", NOW) is True  # ids are per channel


async def test_concurrent_redeliveries_are_handled_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    results = await asyncio.gather(*(_turn(repo, "zalo", "m-7", NOW) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]


async def test_purge_forgets_only_old_message_ids(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    await _turn(repo, "telegram", "old", NOW - timedelta(hours=30))
    await _turn(repo, "telegram", "new", NOW - timedelta(hours=2))
    assert await repo.purge_seen(NOW - timedelta(hours=24)) == 1
    assert await repo.was_seen("telegram", "new")
    assert not await repo.was_seen("telegram", "old")


async def test_naive_times_are_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    repo = ConversationRepository(sessions)
    with pytest.raises(ValueError, match="timezone-aware"):
        await repo.save(KEY, {"version": 1}, "10642", datetime(2026, 11, 27, 10, 0))


async def test_numbered_choices_are_kept_per_channel_and_user(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    choices = ChoiceRepository(sessions)
    assert await choices.get("zalo", "u-1") == ()
    await choices.put("zalo", "u-1", ("menu", "ask"), NOW)
    await choices.put("zalo", "u-2", ("track",), NOW)
    await choices.put("zalo", "u-1", ("file:1.004873",), NOW)  # the newest screen wins
    assert await choices.get("zalo", "u-1") == ("file:1.004873",)
    assert await ChoiceRepository(sessions).get("zalo", "u-2") == ("track",)  # after a restart
    assert await choices.get("telegram", "u-2") == ()
