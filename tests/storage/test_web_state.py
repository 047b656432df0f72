"""The web chat's shared state (storage/webchat.py) and the shared flood counts
(storage/flood.py), on SQLite and PostgreSQL: what any worker wrote, any worker reads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.files import LocalFileStore
from storage.flood import FloodCounts
from storage.webchat import REPLIES_PER_SESSION, Budget, WebFiles, WebPages, WebReplies

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SMALL = {
    "upload": Budget(timedelta(minutes=30), total_bytes=40, session_bytes=20, address_bytes=30),
    "media": Budget(timedelta(hours=12), total_bytes=40, session_bytes=20, address_bytes=40),
}


def _files(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> WebFiles:
    return WebFiles(sessions, LocalFileStore(tmp_path / "files"), SMALL)  # type: ignore[arg-type]


async def test_a_file_is_only_its_sessions_and_only_until_it_runs_out(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    files = _files(sessions, tmp_path)
    token = await files.put(
        "upload", "a", b"photo", "image/jpeg", "cccd.jpg", T0, address="1.2.3.4"
    )
    assert token is not None
    # Another worker: its own repository over the same database and file store.
    other = _files(sessions, tmp_path)
    found = await other.get("upload", "a", token, T0 + timedelta(minutes=1), confirm=True)
    assert found is not None and found.data == b"photo" and found.filename == "cccd.jpg"
    assert await other.get("upload", "b", token, T0) is None  # another session
    assert await other.get("media", "a", token, T0) is None  # another kind
    assert await other.get("upload", "a", token, T0 + timedelta(minutes=31)) is None
    assert await other.sweep(T0 + timedelta(minutes=31)) == 1
    assert await other.usage("upload") == 0
    assert not any(p.is_file() for p in (tmp_path / "files").rglob("*"))  # bytes gone too


async def test_free_sessions_from_one_address_fill_only_its_share(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """The attack trial filled the whole store from free sessions; now one address holds at
    most its share, the oldest of its own going first, and a citizen elsewhere still gets in."""
    files = _files(sessions, tmp_path)
    attacker = [
        await files.put(
            "upload", f"s{i}", b"x" * 10, "", "", T0 + timedelta(seconds=i), address="6.6.6.6"
        )
        for i in range(10)
    ]
    assert all(attacker)
    assert await files.usage("upload") == 30  # three files: the address's share
    kept = await files.describe("upload", "s9", [attacker[9] or ""], T0)
    assert kept  # the newest is there
    assert not await files.describe("upload", "s0", [attacker[0] or ""], T0)
    citizen = await files.put("upload", "c", b"y" * 10, "image/jpeg", "", T0, address="1.1.1.1")
    assert citizen is not None
    assert await files.get("upload", "c", citizen, T0) is not None


async def test_a_session_over_its_share_loses_its_own_oldest_upload(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    files = _files(sessions, tmp_path)
    first = await files.put("upload", "a", b"1" * 10, "", "", T0, address="1.1.1.1")
    second = await files.put(
        "upload", "a", b"2" * 10, "", "", T0 + timedelta(seconds=1), address="1.1.1.1"
    )
    third = await files.put(
        "upload", "a", b"3" * 10, "", "", T0 + timedelta(seconds=2), address="1.1.1.1"
    )
    tokens = [first or "", second or "", third or ""]
    assert (await files.describe("upload", "a", tokens, T0)).keys() == {second, third}
    assert await files.put("upload", "a", b"z" * 21, "", "", T0) is None  # over any share


async def test_a_full_store_pushes_out_confirmed_uploads_before_waiting_ones(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    files = _files(sessions, tmp_path)
    waiting = await files.put("upload", "a", b"a" * 10, "", "", T0, address="1.0.0.1")
    fetched = await files.put(
        "upload", "b", b"b" * 10, "", "", T0 + timedelta(seconds=1), address="1.0.0.2"
    )
    assert fetched is not None and waiting is not None
    assert await files.get("upload", "b", fetched, T0, confirm=True) is not None
    for i in range(2):
        assert await files.put(
            "upload",
            f"c{i}",
            b"c" * 10,
            "",
            "",
            T0 + timedelta(seconds=2 + i),
            address=f"1.0.1.{i}",
        )
    assert await files.usage("upload") == 40
    # Full: the next one pushes out the fetched upload (its turn has its own copy), not the
    # photo still waiting for its turn.
    assert await files.put(
        "upload", "d", b"d" * 10, "", "", T0 + timedelta(seconds=5), address="1.0.2.1"
    )
    assert await files.get("upload", "a", waiting, T0) is not None
    assert await files.get("upload", "b", fetched, T0) is None


async def test_frames_left_for_a_page_are_taken_once_by_the_worker_holding_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a, b = WebPages(sessions, "worker-a"), WebPages(sessions, "worker-b")
    assert not await b.open_anywhere("tag", T0)
    await a.opened(["tag"], T0)
    assert await b.open_anywhere("tag", T0 + timedelta(seconds=1))
    push = await b.post("tag", [{"type": "reply", "text": "Biên nhận"}], T0)
    assert not await b.taken(push)
    taken, again = await asyncio.gather(a.take(["tag"], T0), a.take(["tag"], T0))
    assert [p.frames for p in [*taken, *again]] == [[{"type": "reply", "text": "Biên nhận"}]]
    assert await b.taken(push) and not await b.withdraw(push)
    never = await b.post("tag", [{"type": "reply"}], T0)
    assert await b.withdraw(never)  # nobody took it: the sender knows it did not arrive
    assert await a.take(["tag"], T0) == []
    await a.closed("tag")
    assert not await b.open_anywhere("tag", T0)
    await a.opened(["tag"], T0)
    assert not await b.open_anywhere("tag", T0 + timedelta(seconds=31))  # not renewed: gone


async def test_words_left_for_a_closed_session_wait_for_its_next_page_for_30_days(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a, b = WebPages(sessions, "worker-a"), WebPages(sessions, "worker-b")
    await b.post("tag", [{"type": "reply", "text": "Hồ sơ đã có kết quả"}], T0)
    taken = await b.post("other", [{"type": "reply", "text": "Đã xem"}], T0)
    assert [p.tag for p in await a.take(["other"], T0)] == ["other"] and await b.taken(taken)
    await a.sweep(T0 + timedelta(days=29))  # the taken one goes after minutes, not this one
    assert not await b.taken(taken)  # gone from the table
    [kept] = await a.take(["tag"], T0 + timedelta(days=29))
    assert kept.frames == [{"type": "reply", "text": "Hồ sơ đã có kết quả"}]
    await b.post("tag", [{"type": "reply", "text": "Cũ"}], T0)
    await a.sweep(T0 + timedelta(days=30, seconds=1))
    assert await a.take(["tag"], T0 + timedelta(days=30, seconds=1)) == []


async def test_flood_counts_add_up_across_workers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a = FloodCounts(sessions, timedelta(seconds=10))
    b = FloodCounts(sessions, timedelta(seconds=10))
    t = a.window_start(T0)
    numbers = await asyncio.gather(
        *(w.count("web:x:x", t + timedelta(milliseconds=i)) for i, w in enumerate([a, b] * 5))
    )
    assert sorted(numbers) == list(range(1, 11))
    assert await a.count("web:y:y", t) == 1  # another conversation counts apart
    assert await b.count("web:x:x", t + timedelta(seconds=10)) == 1  # the next window
    await a.sweep(t + timedelta(seconds=20))
    assert await a.count("web:x:x", t + timedelta(seconds=20)) == 1


async def test_other_sessions_traffic_does_not_push_out_a_citizens_answer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    mine, other_worker = WebReplies(sessions), WebReplies(sessions)
    answer = [{"type": "reply", "re": "p1-7", "text": "Câu 3/9: Bạn cần bản sao giấy gì ạ?"}]
    await mine.remember("citizen", "p1-7", answer, T0)
    for visitor in range(50):
        for frame in range(REPLIES_PER_SESSION + 3):  # busy visitors, many frames each
            await mine.remember(f"v{visitor}", f"f{frame}", [{"text": "x"}], T0)
    assert await other_worker.replay("citizen", "p1-7", T0) == answer


async def test_a_session_keeps_its_last_answers_for_an_hour(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    replies = WebReplies(sessions, per_session=2)
    for n in (1, 2, 3):
        await replies.remember("a", str(n), [{"n": n}], T0 + timedelta(seconds=n))
    assert await replies.replay("a", "1", T0) == []  # the oldest beyond the session's share
    assert await replies.replay("a", "3", T0) == [{"n": 3}]
    assert await replies.replay("a", "2", T0) == [{"n": 2}]
    later = T0 + timedelta(hours=1, seconds=5)
    assert await replies.replay("a", "3", later) == []
    await replies.sweep(later)
    assert await replies.replay("a", "3", T0) == []  # swept, not only hidden
