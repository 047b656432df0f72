"""Group commit: the Batcher on its own, then the conversation store that rides on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage.batching import Batcher
from storage.conversations import NEW, ConversationRepository, Saved
from storage.db import create_engine, session_factory

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


class GatedFlush:
    """A flush that records each batch and, while ``gate`` is closed, holds it open."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()
        self.running = 0
        self.most_at_once = 0
        self._fail_on = fail_on

    async def __call__(self, requests: Sequence[str]) -> list[str]:
        self.batches.append(list(requests))
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        self.entered.set()
        try:
            await self.gate.wait()
        finally:
            self.running -= 1
        if self._fail_on is not None and self._fail_on in requests:
            raise RuntimeError(f"disk full while writing {self._fail_on}")
        return [f"saved {request}" for request in requests]


async def _ready() -> None:
    """Let every task created so far run up to its first real wait (no clock involved)."""
    for _ in range(3):
        await asyncio.sleep(0)


async def _hold_first_batch(
    batcher: Batcher[str, str], flush: GatedFlush, first: str
) -> asyncio.Task[str]:
    """Start a batch of ``first`` and keep its flush running until ``flush.gate`` is set."""
    flush.gate.clear()
    task = asyncio.create_task(batcher.submit(first))
    await flush.entered.wait()
    return task


# --------------------------------------------------------------------------- Batcher


async def test_a_quiet_request_is_flushed_at_once_in_a_batch_of_one() -> None:
    flush = GatedFlush()
    batcher: Batcher[str, str] = Batcher(flush)
    assert await batcher.submit("a") == "saved a"
    assert await batcher.submit("b") == "saved b"
    assert flush.batches == [["a"], ["b"]]


async def test_requests_arriving_during_a_flush_go_together_in_the_next_one() -> None:
    flush = GatedFlush()
    batcher: Batcher[str, str] = Batcher(flush)
    first = await _hold_first_batch(batcher, flush, "a")
    later = [asyncio.create_task(batcher.submit(name)) for name in ("b", "c", "d")]
    await _ready()
    assert flush.batches == [["a"]]  # nothing else flushed while "a" is being written
    flush.gate.set()
    assert await first == "saved a"
    assert [await task for task in later] == ["saved b", "saved c", "saved d"]
    assert flush.batches == [["a"], ["b", "c", "d"]]
    assert flush.most_at_once == 1


async def test_each_caller_gets_its_own_result() -> None:
    flush = GatedFlush()
    batcher: Batcher[str, str] = Batcher(flush)
    names = [f"n{i}" for i in range(30)]
    results = await asyncio.gather(*(batcher.submit(name) for name in names))
    assert results == [f"saved {name}" for name in names]
    assert sum(len(batch) for batch in flush.batches) == 30
    assert len(flush.batches) < 30  # gathered, not one round trip each


async def test_a_bad_request_fails_only_its_own_caller_and_the_next_batch_still_works() -> None:
    flush = GatedFlush(fail_on="bad")
    batcher: Batcher[str, str] = Batcher(flush)
    first = await _hold_first_batch(batcher, flush, "a")
    together = [asyncio.create_task(batcher.submit(name)) for name in ("b", "bad", "c")]
    await _ready()
    flush.gate.set()
    assert await first == "saved a"
    assert await together[0] == "saved b"
    with pytest.raises(RuntimeError, match="disk full while writing bad"):
        await together[1]
    assert await together[2] == "saved c"
    assert await batcher.submit("d") == "saved d"
    # The failed batch is written again one request at a time to find the bad one.
    assert flush.batches == [["a"], ["b", "bad", "c"], ["b"], ["bad"], ["c"], ["d"]]


async def test_requests_queued_behind_a_failed_batch_are_still_flushed() -> None:
    flush = GatedFlush(fail_on="bad")
    batcher: Batcher[str, str] = Batcher(flush, max_batch=1)
    doomed = await _hold_first_batch(batcher, flush, "bad")
    behind = asyncio.create_task(batcher.submit("b"))
    await _ready()
    flush.gate.set()
    with pytest.raises(RuntimeError):
        await doomed
    await _ready()
    # No newcomer is needed to get "b" written: the batch after a failure goes on its own.
    assert behind.done()
    assert await behind == "saved b"
    assert flush.batches == [["bad"], ["b"]]


async def test_a_flush_giving_the_wrong_number_of_results_is_an_error_for_its_callers() -> None:
    async def short(requests: Sequence[str]) -> list[str]:
        return ["one", "too many"]

    batcher: Batcher[str, str] = Batcher(short)
    outcomes = await asyncio.gather(
        batcher.submit("a"), batcher.submit("b"), batcher.submit("c"), return_exceptions=True
    )
    assert all(isinstance(o, RuntimeError) and "2 results for 1" in str(o) for o in outcomes)


async def test_max_batch_splits_a_burst() -> None:
    flush = GatedFlush()
    batcher: Batcher[str, str] = Batcher(flush, max_batch=2)
    results = await asyncio.gather(*(batcher.submit(str(i)) for i in range(5)))
    assert results == [f"saved {i}" for i in range(5)]
    assert flush.batches == [["0", "1"], ["2", "3"], ["4"]]


def test_max_batch_must_be_positive() -> None:
    async def flush(requests: Sequence[str]) -> list[str]:
        return list(requests)

    with pytest.raises(ValueError, match="max_batch"):
        Batcher(flush, max_batch=0)


async def test_a_cancelled_caller_does_not_break_the_others() -> None:
    flush = GatedFlush()
    batcher: Batcher[str, str] = Batcher(flush)
    first = await _hold_first_batch(batcher, flush, "a")
    waiting = {name: asyncio.create_task(batcher.submit(name)) for name in ("b", "c", "d")}
    await _ready()
    waiting["c"].cancel()
    first.cancel()  # cancelled while its own batch is being written
    await _ready()
    flush.gate.set()
    assert await waiting["b"] == "saved b"
    assert await waiting["d"] == "saved d"
    for task in (first, waiting["c"]):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await batcher.submit("e") == "saved e"
    # The request was already queued: it is written, only its caller stopped listening.
    assert flush.batches == [["a"], ["b", "c", "d"], ["e"]]


# --------------------------------------------------------------------------- conversations


def _key(n: int) -> ConversationKey:
    return ConversationKey(channel="zalo", chat_id=f"c-{n}", user_id=f"u-{n}")


KEY = _key(0)


async def _commits_during(
    sessions: async_sessionmaker[AsyncSession], work: Callable[[], Awaitable[Any]]
) -> tuple[int, Any]:
    engine = sessions.kw["bind"]
    commits = 0

    def count(connection: Any) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", count)
    try:
        result = await work()
    finally:
        event.remove(engine.sync_engine, "commit", count)
    return commits, result


async def test_fifty_concurrent_saves_all_land_in_few_transactions(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)

    def save_all() -> Awaitable[list[Saved]]:
        return asyncio.gather(
            *(
                repo.save(
                    _key(n), {"version": 1, "n": n, "ten": f"Người {n}"}, "10642", NOW, revision=NEW
                )
                for n in range(50)
            )
        )

    commits, saved = await _commits_during(sessions, save_all)
    assert saved == [Saved.SAVED] * 50
    assert commits < 5  # grouped: one transaction per batch, not per turn
    loaded = await asyncio.gather(*(repo.load(_key(n)) for n in range(51)))
    assert loaded[50] is None  # never saved: each caller gets its own answer
    for n, conversation in enumerate(loaded[:50]):
        assert conversation is not None
        assert conversation.key == _key(n)
        assert conversation.state == {"version": 1, "n": n, "ten": f"Người {n}"}


async def test_one_unsavable_state_fails_only_its_own_turn(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    broken = {"version": 1, "not json": {1, 2}}  # a set cannot be stored as JSON
    outcomes = await asyncio.gather(
        repo.save(_key(1), {"version": 1, "n": 1}, "10642", NOW, revision=NEW, seen_message="m-1"),
        repo.save(_key(2), broken, "10642", NOW, revision=NEW, seen_message="m-2"),
        repo.save(_key(3), {"version": 1, "n": 3}, "10642", NOW, revision=NEW, seen_message="m-3"),
        return_exceptions=True,
    )
    assert outcomes[0] is Saved.SAVED and outcomes[2] is Saved.SAVED
    assert isinstance(outcomes[1], Exception)
    assert await repo.load(_key(2)) is None
    # Its message was not recorded either: the channel's redelivery gets a fresh try.
    assert not await repo.was_seen(_key(2).channel, "m-2")
    first, third = await repo.load(_key(1)), await repo.load(_key(3))
    assert first is not None and first.state == {"version": 1, "n": 1}
    assert third is not None and third.state == {"version": 1, "n": 3}


async def test_loads_keep_users_of_one_chat_apart(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    group = [ConversationKey(channel="telegram", chat_id="-100", user_id=str(u)) for u in range(3)]
    await asyncio.gather(
        *(repo.save(k, {"u": k.user_id}, "10642", NOW, revision=NEW) for k in group[:2])
    )
    elsewhere = ConversationKey(channel="zalo", chat_id="-100", user_id="0")
    one, two, three, other = await asyncio.gather(*(repo.load(k) for k in [*group, elsewhere]))
    assert one is not None and one.state == {"u": "0"}
    assert two is not None and two.state == {"u": "1"}
    assert three is None and other is None


async def test_one_message_saved_twice_at_once_is_handled_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    results = await asyncio.gather(
        repo.save(KEY, {"turn": "first"}, "10642", NOW, revision=NEW, seen_message="m-1"),
        repo.save(KEY, {"turn": "second"}, "10642", NOW, revision=NEW, seen_message="m-1"),
        # The same id on another channel is another message.
        repo.save(_key(1), {"turn": "zalo"}, "10642", NOW, revision=NEW, seen_message="m-2"),
        repo.save(
            ConversationKey("telegram", "c-1", "u-1"),
            {"turn": "telegram"},
            "10642",
            NOW,
            revision=NEW,
            seen_message="m-2",
        ),
    )
    assert list(results) == [Saved.SAVED, Saved.DUPLICATE, Saved.SAVED, Saved.SAVED]
    loaded = await repo.load(KEY)
    assert loaded is not None and loaded.state == {"turn": "first"}  # the refused one left no trace
    assert await repo.was_seen("zalo", "m-1")


async def test_a_message_seen_in_an_earlier_batch_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    saved = await repo.save(KEY, {"turn": 1}, "10642", NOW, revision=NEW, seen_message="m-1")
    assert saved is Saved.SAVED
    again = await repo.save(KEY, {"turn": 2}, "10642", NOW, revision=1, seen_message="m-1")
    assert again is Saved.DUPLICATE
    loaded = await repo.load(KEY)
    assert loaded is not None and loaded.state == {"turn": 1}


async def test_two_saves_of_one_conversation_in_a_batch_keep_the_later_state(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    later = NOW + timedelta(minutes=1)
    results = await asyncio.gather(
        repo.save(
            KEY, {"version": 1, "step": "one"}, "10642", NOW, revision=NEW, seen_message="m-1"
        ),
        repo.save(
            KEY, {"version": 2, "step": "two"}, "10645", later, revision=1, seen_message="m-2"
        ),
        repo.save(KEY, {"version": 3, "step": "three"}, "10645", later, revision=2),
    )
    assert list(results) == [Saved.SAVED] * 3
    loaded = await repo.load(KEY)
    assert loaded is not None
    assert loaded.state == {"version": 3, "step": "three"}
    assert loaded.revision == 3
    assert (loaded.state_version, loaded.commune_code) == (3, "10645")
    assert (loaded.created_at, loaded.updated_at) == (NOW, later)


async def test_an_outbound_save_in_a_batch_keeps_the_users_last_activity(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    quiet, active = _key(1), _key(2)
    await asyncio.gather(
        repo.save(quiet, {"v": 0}, "10642", NOW, revision=NEW),
        repo.save(active, {"v": 0}, "10642", NOW, revision=NEW),
    )
    reminded = NOW + timedelta(days=1)
    await asyncio.gather(repo.mark_reminded(quiet, reminded), repo.mark_reminded(active, reminded))
    later = NOW + timedelta(days=2)
    await asyncio.gather(
        repo.save(quiet, {"v": "reminder"}, "10642", later, revision=1, inbound=False),
        repo.save(active, {"v": "answer"}, "10642", later, revision=1),
    )
    q, a = await asyncio.gather(repo.load(quiet), repo.load(active))
    assert q is not None and a is not None
    assert (q.state, q.updated_at, q.last_inbound_at, q.reminder_sent_at) == (
        {"v": "reminder"},
        later,
        NOW,
        reminded,
    )
    # The user spoke again: active from now, and a new reminder may be due later.
    assert (a.state, a.last_inbound_at, a.reminder_sent_at) == ({"v": "answer"}, later, None)


async def test_an_inbound_and_an_outbound_save_of_one_conversation_in_one_batch(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = ConversationRepository(sessions)
    later = NOW + timedelta(hours=1)
    await asyncio.gather(
        repo.save(KEY, {"v": "turn"}, "10642", NOW, revision=NEW),
        repo.save(KEY, {"v": "pushed"}, "10642", later, revision=1, inbound=False),
    )
    loaded = await repo.load(KEY)
    assert loaded is not None
    assert (loaded.state, loaded.updated_at, loaded.last_inbound_at) == (
        {"v": "pushed"},
        later,
        NOW,
    )


@pytest.fixture
async def second_process(database_url: str) -> AsyncIterator[ConversationRepository]:
    """Another repository on the same database, as after a restart or in a second worker."""
    engine = create_engine(database_url)
    try:
        yield ConversationRepository(session_factory(engine))
    finally:
        await engine.dispose()


async def test_a_message_seen_before_a_restart_is_refused_after_it(
    sessions: async_sessionmaker[AsyncSession], second_process: ConversationRepository
) -> None:
    before = ConversationRepository(sessions)
    saved = await before.save(
        KEY, {"turn": "handled"}, "10642", NOW, revision=NEW, seen_message="m-9"
    )
    assert saved is Saved.SAVED
    refused, fresh = await asyncio.gather(
        second_process.save(KEY, {"turn": "again"}, "10642", NOW, revision=1, seen_message="m-9"),
        second_process.save(
            _key(1), {"turn": "new"}, "10642", NOW, revision=NEW, seen_message="m-10"
        ),
    )
    assert (refused, fresh) == (Saved.DUPLICATE, Saved.SAVED)
    loaded = await second_process.load(KEY)
    assert loaded is not None and loaded.state == {"turn": "handled"}
