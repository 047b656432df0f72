"""Announcements through the whole app (issue 10): a citizen opts in ("/thongbao", or the offer
after their first receipt), an officer's announcement reaches them on a fake channel with a
«Không nhận thông báo nữa» button that stops them in one tap; chats opted out, of another
commune or never opted in get nothing; a forged or old button is answered as a choice no longer
valid; quiet hours hold an announcement until the morning; a worker that dies half-way through
the sending neither loses nor doubles a message."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.announcements import AnnouncementMaker
from bot.app import App, Knowledge, build_app
from bot.config import Settings
from bot.notifier import Notifier
from bot.pacing import QuietHours
from bot.push import Push
from dialogs import announcements as flow
from dialogs.model import ConversationKey, Inbound, Reply
from dialogs.texts import announcements as texts
from dialogs.texts import common as ctexts
from storage.migrate import upgrade
from storage.outbox import OutboxRepository
from tests.test_effects import _submission
from tests.test_volunteers import Chat

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
HOME, OTHER = "10642", "10660"
AN = ConversationKey("telegram", "t-1", "t-1")
BINH = ConversationKey("zalo", "z-2", "z-2")
CUONG = ConversationKey("web", "w-3", "w-3")
EM = ConversationKey("telegram", "t-5", "t-5")
# Tomorrow, so that rows queued now are due; the quiet hours are the example's 21:00-07:00
# (the suite's settings have none: tests/conftest.py).
TOMORROW = datetime.now(HANOI).date() + timedelta(days=1)
DAYTIME = datetime.combine(TOMORROW, time(10, 0), HANOI)
NIGHT = datetime.combine(TOMORROW, time(22, 30), HANOI)
MORNING = datetime.combine(TOMORROW + timedelta(days=1), time(7, 0), HANOI)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Phones:
    """Every chat's screen: what the courier pushed to it."""

    got: dict[ConversationKey, list[Reply]] = field(default_factory=dict)

    def push(self) -> Push:
        push = Push()

        async def sender(key: ConversationKey, replies: Sequence[Reply]) -> bool:
            self.got.setdefault(key, []).extend(replies)
            return True

        for channel in ("telegram", "zalo", "web"):
            push.register(channel, sender)
        return push

    def texts(self, key: ConversationKey) -> list[str]:
        return [r.text for r in self.got.get(key, [])]


def courier(app: App, phones: Phones, clock: Clock, owner: str = "w") -> Notifier:
    """The app's announcement courier (same maker, quiet hours, topic) on a clock of ours."""
    return Notifier(
        OutboxRepository(app.conversations._sessions, owner=owner),
        AnnouncementMaker(
            app.announcements, {c.code: c.name for c in app.settings.communes}
        ).prepare,
        phones.push(),
        {},
        QuietHours(time(21, 0), time(7, 0), HANOI),
        clock,
        topic=lambda channel: f"announce:{channel}",
    )


async def send(app: App, text: str, key: str, commune: str = HOME) -> int:
    announcement, new = await app.announcements.send(
        commune, text, actor="console:lan", submission_key=key, now=datetime.now(UTC)
    )
    assert new
    return announcement.recipients


async def test_an_opted_in_citizen_gets_the_announcement_and_stops_it_in_one_tap(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        an, binh, cuong = Chat(app, AN), Chat(app, BINH), Chat(app, CUONG)
        commune = settings.commune().name
        assert texts.offer(commune) in await an.send("/thongbao")
        assert texts.opted_in(commune) in await an.press(texts.BTN_YES)
        assert texts.subscribed(commune) in await an.send("/thongbao")
        await binh.send("/thongbao")
        await binh.press(texts.BTN_YES)
        assert texts.subscribed(commune) in await binh.send("/thongbao")
        assert texts.OPTED_OUT in await binh.press(texts.BTN_STOP)  # from the /thongbao screen
        await cuong.send("/thongbao")
        assert texts.DECLINED in await cuong.press(texts.BTN_NO)
        await app.announcements.opt_in(EM, OTHER, datetime.now(UTC))  # another commune's

        assert await send(app, "Bộ phận một cửa nghỉ lễ ngày 2/9.", "k1") == 1
        phones, clock = Phones(), Clock(DAYTIME)
        assert await courier(app, phones, clock).run_once() == 1
        assert list(phones.got) == [AN]  # not the one who stopped, nor Cường, nor Em
        (message,) = phones.got[AN]
        assert message.text == texts.announcement(commune, "Bộ phận một cửa nghỉ lễ ngày 2/9.")
        assert [b.text for b in message.flat_buttons()] == [texts.BTN_STOP]
        assert await OutboxRepository(app.conversations._sessions).pending() == []

        # One tap on the button under the announcement, and Ân gets nothing more.
        stop = message.flat_buttons()[0].payload
        assert texts.OPTED_OUT in await an.send(payload=stop)
        assert texts.ALREADY_OUT in await an.send(payload=stop)  # a double tap
        assert await send(app, "Ngày tình nguyện ở thôn Đông.", "k2") == 0
        assert await courier(app, phones, clock).run_once() == 0
        assert phones.texts(AN) == [message.text]
        sub = await app.announcements.of(AN)
        assert sub is not None and sub.status == "out" and sub.opted_out_at is not None


async def test_a_forged_or_old_button_is_answered_as_a_choice_no_longer_valid(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        an = Chat(app, AN)
        first = await app.announcements.opt_in(AN, HOME, datetime.now(UTC))
        stale = ctexts.STALE_CHOICE
        assert stale in await an.send(payload=f"{flow.STOP}:forgedtoken12")
        assert stale in await an.send(payload=f"{flow.STOP}:../../etc")  # not even a token
        assert stale in await Chat(app, EM).send(payload=f"{flow.STOP}:{first.token}")
        assert (await app.announcements.of(AN)).active  # type: ignore[union-attr]
        # Out and back in: the old announcement's button no longer speaks for the chat.
        assert texts.OPTED_OUT in await an.send(payload=f"{flow.STOP}:{first.token}")
        await app.announcements.opt_in(AN, HOME, datetime.now(UTC))
        assert stale in await an.send(payload=f"{flow.STOP}:{first.token}")
        assert (await app.announcements.of(AN)).active  # type: ignore[union-attr]


async def test_the_offer_comes_once_after_the_first_receipt(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        inbound = Inbound(key=AN, message_id="m1", received_at=datetime.now(UTC))
        filed = await app.effects(inbound, _submission("draft-1"))
        assert filed.followup is not None and filed.followup.payload == flow.OFFER
        offered = await app.service.replies(filed.followup)
        assert [r.text for r in offered] == [texts.offer(settings.commune().name)]
        assert [b.text for b in offered[0].flat_buttons()] == [texts.BTN_YES, texts.BTN_NO]
        again = await app.effects(inbound, _submission("draft-2"))
        assert again.followup is None  # asked once
        # The terminal at the counter cannot receive announcements: never offered there.
        terminal = Inbound(
            key=ConversationKey("terminal", "c", "c"), message_id="m", received_at=datetime.now(UTC)
        )
        assert (await app.effects(terminal, _submission("draft-3"))).followup is None
        assert texts.NOT_HERE in await Chat(app, ConversationKey("terminal", "c", "c")).send(
            "/thongbao"
        )


async def test_quiet_hours_hold_an_announcement_until_the_morning(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        await app.announcements.opt_in(AN, HOME, datetime.now(UTC))
        await send(app, "Lịch tiêm chủng tháng 12.", "k")
        phones, clock = Phones(), Clock(NIGHT)
        night = courier(app, phones, clock)
        assert await night.run_once() == 1 and phones.got == {}
        (row,) = await OutboxRepository(app.conversations._sessions).pending()
        assert (row.attempts, row.next_attempt_at) == (0, MORNING)  # held, not dropped
        assert await night.run_once() == 0
        clock.now = MORNING
        assert await night.run_once() == 1
        assert len(phones.texts(AN)) == 1


async def test_a_worker_dying_half_way_neither_loses_nor_doubles_a_message(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        keys = [ConversationKey("telegram", f"c{n}", f"c{n}") for n in range(6)]
        for key in keys:
            await app.announcements.opt_in(key, HOME, datetime.now(UTC))
        await send(app, "Thủ tục cấp bản sao nay nộp trực tuyến được.", "k")
        phones, clock = Phones(), Clock(DAYTIME)
        sessions = app.conversations._sessions

        # A worker claims every row, sends two and is killed: two rows done, four still claimed.
        dead = OutboxRepository(sessions, owner="dead-worker")
        claimed = await dead.claim_due(DAYTIME, 50, timedelta(minutes=5), topic="announce:telegram")
        assert len(claimed) == 6
        maker = AnnouncementMaker(app.announcements, {HOME: settings.commune().name})
        push = phones.push()
        for item in claimed[:2]:
            prepared = await maker.prepare(item)
            assert prepared is not None
            assert await push.send(prepared.key, prepared.replies)
            await dead.mark_done(item.id, DAYTIME)

        # A live worker does not take rows another worker still holds...
        alive = courier(app, phones, clock, owner="alive-worker")
        assert await alive.run_once() == 0
        # ...and once the dead worker is known dead, takes exactly the rest.
        released = await OutboxRepository(sessions).release_orphans(DAYTIME)
        assert released == 4
        other = courier(app, phones, clock, owner="second-worker")
        done = await asyncio.gather(alive.run_once(), other.run_once())
        assert sum(done) == 4
        assert {k: len(v) for k, v in phones.got.items()} == {k: 1 for k in keys}
        assert await OutboxRepository(sessions).pending() == []
