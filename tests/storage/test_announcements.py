"""The announcements' store on every backend: offered once, opted in and out (a button's token
checked), and an officer's announcement fanned out to the commune's subscribers in one
transaction: a crash half-way through the outbox rows leaves nothing, a resent form queues
nothing more, and two workers claiming at once never hold the same recipient's row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage import announcements as store
from storage.announcements import AnnouncementRepository
from storage.audit import AuditRepository
from storage.models import AnnouncementRow, AuditLogRow, OutboxRow
from storage.outbox import OutboxRepository
from storage.webchat import WebPages

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
HOME, OTHER = "10642", "10660"
AN = ConversationKey("telegram", "t-1", "t-1")
BINH = ConversationKey("zalo", "z-2", "z-2")
CUONG = ConversationKey("web", "w-3", "w-3")
DUNG = ConversationKey("telegram", "t-4", "t-4")  # opts out
EM = ConversationKey("telegram", "t-5", "t-5")  # another commune
PHUONG = ConversationKey("telegram", "t-6", "t-6")  # offered, never answered


async def _subscribers(repo: AnnouncementRepository) -> None:
    for key in (AN, BINH, CUONG, DUNG):
        await repo.opt_in(key, HOME, NOW)
    await repo.opt_in(EM, OTHER, NOW)
    assert await repo.offer_once(PHUONG, HOME, NOW)
    assert await repo.opt_out(DUNG, None, NOW) == "out"


async def _count(sessions: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_chat_is_offered_once_and_opts_in_and_out(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = AnnouncementRepository(sessions)
    assert await repo.offer_once(AN, HOME, NOW)
    assert not await repo.offer_once(AN, HOME, NOW)  # asked once
    asked = await repo.of(AN)
    assert asked is not None and (asked.status, asked.active) == ("asked", False)

    first = await repo.opt_in(AN, HOME, NOW)
    assert first.active and first.opted_in_at == NOW and first.commune_code == HOME
    again = await repo.opt_in(AN, HOME, NOW + timedelta(minutes=1))
    assert again.token == first.token  # a second tap keeps the buttons already sent working
    assert not await repo.offer_once(AN, HOME, NOW)

    # A token that is not the subscription's (forged, or typed by hand) changes nothing.
    assert await repo.opt_out(AN, "not-the-token", NOW) == "stale"
    assert await repo.opt_out(BINH, first.token, NOW) == "stale"  # another chat's button
    assert (await repo.of(AN)).active  # type: ignore[union-attr]
    later = NOW + timedelta(hours=1)
    assert await repo.opt_out(AN, first.token, later) == "out"
    assert await repo.opt_out(AN, first.token, later) == "already"  # a double tap
    out = await repo.of(AN)
    assert out is not None and (out.status, out.opted_out_at) == ("out", later)

    # Back in: a new token, so an old announcement's button is stale now.
    back = await repo.opt_in(AN, HOME, later)
    assert back.token != first.token
    assert await repo.opt_out(AN, first.token, later) == "stale"
    assert (await repo.of(AN)).active  # type: ignore[union-attr]

    actions = [
        e.action for e in await AuditRepository(sessions).for_target(f"subscription:{back.id}")
    ]
    assert actions == [
        "announcements_opt_in",
        "announcements_opt_in",
        "announcements_opt_out",
        "announcements_opt_in",
    ]


async def test_an_announcement_goes_to_the_communes_subscribers_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = AnnouncementRepository(sessions)
    await _subscribers(repo)
    assert await repo.recipients(HOME) == 3 and await repo.recipients(OTHER) == 1

    sent, new = await repo.send(
        HOME, "Nghỉ lễ 2/9.", actor="console:lan", submission_key="k-1", now=NOW
    )
    assert new and sent.recipients == 3
    rows = await OutboxRepository(sessions).pending()
    assert sorted((r.topic, r.payload["chat_id"]) for r in rows) == [
        ("announce:telegram", "t-1"),
        ("announce:web", "w-3"),
        ("announce:zalo", "z-2"),
    ]
    assert {r.payload["announcement_id"] for r in rows} == {sent.id}
    # The same form again (a double click): the same announcement, nothing more queued.
    same, new = await repo.send(
        HOME, "Nghỉ lễ 2/9.", actor="console:lan", submission_key="k-1", now=NOW
    )
    assert (same.id, new) == (sent.id, False)
    assert len(await OutboxRepository(sessions).pending()) == 3

    # Only the channels asked for.
    web_only, _ = await repo.send(
        HOME, "Chỉ web.", actor="console:lan", submission_key="k-2", now=NOW,
        channels=frozenset({"web"}),
    )  # fmt: skip
    assert web_only.recipients == 1

    trail = await AuditRepository(sessions).for_target(f"announcement:{sent.id}")
    assert [(e.actor, e.action, e.details["recipients"]) for e in trail] == [
        ("console:lan", "announcement_sent", 3)
    ]
    counts = await repo.delivered(sent)
    assert (counts.recipients, counts.sent, counts.queued, counts.failed) == (3, 0, 3, 0)
    outbox = OutboxRepository(sessions)
    first, second, _third = [
        r for r in await outbox.pending() if r.payload["announcement_id"] == sent.id
    ]
    await outbox.mark_done(first.id, NOW)
    await outbox.mark_failed(second.id, "telegram unreachable", NOW + timedelta(minutes=1))
    counts = await repo.delivered(sent)
    assert (counts.sent, counts.queued, counts.failed) == (1, 1, 1)
    await outbox.purge_done(NOW + timedelta(days=1))  # done rows go; "sent" stays
    assert (await repo.delivered(sent)).sent == 1
    assert [a.id for a in await repo.recent((HOME,))] == [web_only.id, sent.id]
    assert await repo.recent((OTHER,)) == []


async def test_a_message_kept_for_a_closed_web_page_counts_as_sent_once_a_page_took_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = AnnouncementRepository(sessions)
    await _subscribers(repo)
    sent, _ = await repo.send(HOME, "Họp thôn.", actor="console:lan", submission_key="k", now=NOW)
    outbox = OutboxRepository(sessions)
    rows = {r.payload["chat_id"]: r for r in await outbox.pending()}
    await outbox.mark_done(rows["t-1"].id, NOW)
    # The web chat had no page open: the words wait in a web_pushes row for its next page.
    pages = WebPages(sessions, "w")
    push_id = await pages.post("w-3", [{"type": "reply", "text": "Họp thôn."}], NOW)
    await outbox.mark_kept(rows["w-3"].id, push_id, NOW)
    counts = await repo.delivered(sent)
    assert (counts.sent, counts.kept, counts.queued, counts.failed) == (1, 1, 1, 0)
    assert await outbox.pending() == [rows["z-2"]]  # kept is done: never pushed again
    # The citizen opens the chat: a page takes the words, and the message is read.
    assert [p.id for p in await pages.take(["w-3"], NOW + timedelta(days=2))] == [push_id]
    counts = await repo.delivered(sent)
    assert (counts.sent, counts.kept) == (2, 0)
    await pages.sweep(NOW + timedelta(days=2, minutes=11))  # the taken row is forgotten
    assert (await repo.delivered(sent)).sent == 2


async def test_a_crash_half_way_through_the_fan_out_leaves_nothing_and_a_retry_sends_once(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = AnnouncementRepository(sessions)
    await _subscribers(repo)
    audits = await _count(sessions, AuditLogRow)
    real = store.queue_chunk
    chunks = 0

    async def dies_on_the_second_chunk(session: AsyncSession, rows: Any) -> None:
        nonlocal chunks
        chunks += 1
        if chunks == 2:
            raise ConnectionError("the worker died")
        await real(session, rows)

    monkeypatch.setattr(store, "queue_chunk", dies_on_the_second_chunk)
    with pytest.raises(ConnectionError):
        await repo.send(
            HOME, "Họp thôn.", actor="console:lan", submission_key="k", now=NOW, chunk=1
        )
    assert chunks == 2  # one recipient's row was written before the crash, and rolled back
    assert await _count(sessions, OutboxRow) == 0
    assert await _count(sessions, AnnouncementRow) == 0
    assert await _count(sessions, AuditLogRow) == audits

    monkeypatch.setattr(store, "queue_chunk", real)
    sent, new = await repo.send(
        HOME, "Họp thôn.", actor="console:lan", submission_key="k", now=NOW, chunk=1
    )
    assert new and sent.recipients == 3
    again, new = await repo.send(
        HOME, "Họp thôn.", actor="console:lan", submission_key="k", now=NOW, chunk=1
    )
    assert not new and again.id == sent.id
    assert sorted(r.payload["chat_id"] for r in await OutboxRepository(sessions).pending()) == [
        "t-1",
        "w-3",
        "z-2",
    ]


async def test_two_workers_claiming_at_once_never_hold_the_same_recipient(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = AnnouncementRepository(sessions)
    keys = [ConversationKey("telegram", f"c{n}", f"c{n}") for n in range(40)]
    for key in keys:
        await repo.opt_in(key, HOME, NOW)
    await repo.send(HOME, "Ngày tình nguyện.", actor="console:lan", submission_key="k", now=NOW)
    one, two = OutboxRepository(sessions, owner="w1"), OutboxRepository(sessions, owner="w2")
    claimed: list[str] = []
    for _ in range(10):
        a, b = await asyncio.gather(
            one.claim_due(NOW, 7, topic="announce:telegram"),
            two.claim_due(NOW, 7, topic="announce:telegram"),
        )
        claimed += [r.payload["chat_id"] for r in (*a, *b)]
    assert sorted(claimed) == sorted(k.chat_id for k in keys)  # each once, none left out
