from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage.conversations import NEW, ChoiceRepository, ConversationRepository, Saved
from storage.db import create_engine, session_factory

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
KEY = ConversationKey(channel="zalo", chat_id="c-1", user_id="u-1")
STATE = {
    "version": 2,
    "menu": "khai_sinh",
    "form": {"ho_ten": "Nguyễn Thị Hương", "noi_sinh": "Trạm y tế xã Đông Hưng", "so": 3},
    "history": ["Xin chào", "Đăng ký khai sinh"],
}


async def _save(
    repo: ConversationRepository,
    key: ConversationKey,
    state: dict[str, Any],
    commune: str,
    now: datetime,
    **options: Any,
) -> Saved:
    """A save over whatever is stored now, as a turn does after its load."""
    stored = await repo.load(key)
    return await repo.save(
        key, state, commune, now, revision=stored.revision if stored else NEW, **options
    )


async def test_state_round_trips_with_vietnamese_text(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    assert await repo.load(KEY) is None

    await _save(repo, KEY, STATE, "10642", NOW)
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
    await _save(repo, KEY, {"version": 1, "step": "một"}, "10642", NOW)
    await _save(repo, other, {"version": 1, "step": "khác"}, "10642", NOW)
    later = NOW + timedelta(minutes=5)
    await _save(repo, KEY, {"version": 1, "step": "hai"}, "10645", later)

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
    await _save(repo, KEY, {"version": 1}, "10642", NOW)
    later = NOW + timedelta(days=2)
    await _save(repo, KEY, {"version": 1, "reminded": True}, "10642", later, inbound=False)
    loaded = await repo.load(KEY)
    assert loaded is not None
    assert loaded.last_inbound_at == NOW
    assert loaded.updated_at == later


async def test_stale_drafts_and_reminders(sessions: async_sessionmaker[AsyncSession]) -> None:
    repo = ConversationRepository(sessions)
    quiet = ConversationKey(channel="telegram", chat_id="9", user_id="9")
    await _save(repo, quiet, {"version": 1, "form": {"a": 1}}, "10642", NOW - timedelta(days=28))
    await _save(repo, KEY, {"version": 1, "form": {"b": 2}}, "10642", NOW - timedelta(hours=1))

    stale = await repo.stale_drafts(NOW - timedelta(days=27))
    assert [c.key for c in stale] == [quiet]

    await repo.mark_reminded(quiet, NOW)
    reminded = await repo.load(quiet)
    assert reminded is not None and reminded.reminder_sent_at == NOW

    # The user answers: the draft is fresh again and a later reminder is allowed.
    await _save(repo, quiet, {"version": 1, "form": {"a": 2}}, "10642", NOW + timedelta(minutes=1))
    active = await repo.load(quiet)
    assert active is not None and active.reminder_sent_at is None
    assert await repo.stale_drafts(NOW - timedelta(days=27)) == []

    assert await repo.delete(quiet) is True
    assert await repo.delete(quiet) is False
    assert await repo.load(quiet) is None


async def _turn(
    repo: ConversationRepository, channel: str, message_id: str, when: datetime
) -> Saved:
    """A turn's save, which records its inbound message id with the new state."""
    key = ConversationKey(channel=channel, chat_id="c-1", user_id="u-1")
    return await _save(repo, key, {"version": 1}, "10642", when, seen_message=message_id)


async def test_a_redelivered_message_is_seen_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    assert await _turn(repo, "telegram", "1001", NOW) is Saved.SAVED
    assert await _turn(repo, "telegram", "1001", NOW) is Saved.DUPLICATE
    assert await _turn(repo, "zalo", "1001", NOW) is Saved.SAVED  # ids are per channel


async def test_concurrent_redeliveries_are_handled_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    results = await asyncio.gather(*(_turn(repo, "zalo", "m-7", NOW) for _ in range(5)))
    assert sorted(r.value for r in results) == ["duplicate"] * 4 + ["saved"]


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
        await repo.save(KEY, {"version": 1}, "10642", datetime(2026, 11, 27, 10, 0), revision=NEW)


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


# --- compare-and-set: several workers on one database --------------------------------------


async def test_a_save_from_a_stale_revision_writes_nothing_and_records_no_message(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    first = await repo.save(KEY, {"version": 1, "q": 1}, "10642", NOW, revision=NEW)
    assert first is Saved.SAVED
    loaded = await repo.load(KEY)
    assert loaded is not None and loaded.revision == 1
    # Two turns computed from revision 1: the first to save wins, the other writes nothing.
    winner = await repo.save(
        KEY, {"version": 1, "q": 2}, "10642", NOW, revision=1, seen_message="a"
    )
    loser = await repo.save(KEY, {"version": 1, "q": 9}, "10645", NOW, revision=1, seen_message="b")
    assert (winner, loser) == (Saved.SAVED, Saved.STALE)
    after = await repo.load(KEY)
    assert after is not None
    assert (after.state, after.commune_code, after.revision) == ({"version": 1, "q": 2}, "10642", 2)
    assert await repo.was_seen("zalo", "a")
    assert not await repo.was_seen("zalo", "b")  # so the turn may run again, from revision 2
    again = await repo.save(KEY, {"version": 1, "q": 3}, "10642", NOW, revision=2, seen_message="b")
    assert again is Saved.SAVED
    assert await repo.was_seen("zalo", "b")


async def test_a_new_conversation_saved_twice_is_created_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    assert await repo.save(KEY, {"who": "first"}, "10642", NOW, revision=NEW) is Saved.SAVED
    late = await repo.save(KEY, {"who": "second"}, "10642", NOW, revision=NEW, seen_message="x")
    assert late is Saved.STALE
    loaded = await repo.load(KEY)
    assert loaded is not None and loaded.state == {"who": "first"}
    assert not await repo.was_seen("zalo", "x")


async def test_a_revision_from_the_future_writes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    await repo.save(KEY, {"n": 1}, "10642", NOW, revision=NEW)
    assert await repo.save(KEY, {"n": 2}, "10642", NOW, revision=5) is Saved.STALE
    with pytest.raises(ValueError, match="revision"):
        await repo.save(KEY, {"n": 2}, "10642", NOW, revision=-1)
    loaded = await repo.load(KEY)
    assert loaded is not None and (loaded.state, loaded.revision) == ({"n": 1}, 1)


async def test_in_one_batch_only_the_first_save_of_a_revision_wins(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    other = ConversationKey(channel="zalo", chat_id="c-2", user_id="u-2")
    await asyncio.gather(
        repo.save(KEY, {"n": 0}, "10642", NOW, revision=NEW),
        repo.save(other, {"n": 0}, "10642", NOW, revision=NEW),
    )
    results = await asyncio.gather(
        repo.save(KEY, {"n": "a"}, "10642", NOW, revision=1, seen_message="m-a"),
        repo.save(KEY, {"n": "b"}, "10642", NOW, revision=1, seen_message="m-b"),
        repo.save(other, {"n": "c"}, "10642", NOW, revision=1, seen_message="m-c"),
        repo.save(KEY, {"n": "d"}, "10642", NOW, revision=1, inbound=False),
    )
    assert list(results) == [Saved.SAVED, Saved.STALE, Saved.SAVED, Saved.STALE]
    mine, theirs = await repo.load(KEY), await repo.load(other)
    assert mine is not None and (mine.state, mine.revision) == ({"n": "a"}, 2)
    assert theirs is not None and theirs.state == {"n": "c"}
    seen = [await repo.was_seen("zalo", m) for m in ("m-a", "m-b", "m-c")]
    assert seen == [True, False, True]


async def test_two_workers_saving_one_revision_at_once_never_both_win(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    engine = create_engine(database_url)
    try:
        workers = (
            ConversationRepository(sessions),
            ConversationRepository(session_factory(engine)),
        )
        await workers[0].save(KEY, {"n": 0}, "10642", NOW, revision=NEW)
        for trial in range(1, 31):
            results = await asyncio.gather(
                *(
                    worker.save(
                        KEY,
                        {"n": trial, "by": i},
                        "10642",
                        NOW,
                        revision=trial,
                        seen_message=f"t{trial}-w{i}",
                    )
                    for i, worker in enumerate(workers)
                )
            )
            assert sorted(r.value for r in results) == ["saved", "stale"], trial
            by = results.index(Saved.SAVED)
            loaded = await workers[1 - by].load(KEY)
            assert loaded is not None
            assert (loaded.state, loaded.revision) == ({"n": trial, "by": by}, trial + 1)
            assert await workers[by].was_seen("zalo", f"t{trial}-w{by}")
            assert not await workers[by].was_seen("zalo", f"t{trial}-w{1 - by}")
    finally:
        await engine.dispose()
