""" "Gặp cán bộ" through the whole app, on SQLite and PostgreSQL: the hand-over, the transcript
the officer reads, the assistant's silence, the officer's answer and close carried by the
outbox to the citizen's channel, the idle takeover and a message left out of hours."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import App, Knowledge, build_app
from bot.config import Settings
from dialogs.model import Attachment, ConversationKey, Inbound, Reply
from dialogs.texts import officer as texts
from storage.handoffs import CLOSED_ALREADY, TAKEN
from storage.migrate import upgrade
from tests.storage.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL_ENV, reset_postgres

KEY = ConversationKey(channel="telegram", chat_id="777", user_id="777")


class Telegram:
    """The citizen's Telegram chat as the push door sees it."""

    def __init__(self) -> None:
        self.got: list[Reply] = []

    async def __call__(self, key: ConversationKey, replies: Sequence[Reply]) -> bool:
        assert key == KEY
        self.got.extend(replies)
        return True

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.got)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/motcua.sqlite3"
    else:
        url = os.environ.get(POSTGRES_URL_ENV, "")
        if not url:
            pytest.skip(POSTGRES_SKIP_REASON)
        await reset_postgres(url)
    await upgrade(url)
    return url


def _configured(settings: Settings, url: str, *, open_now: bool) -> Settings:
    database = settings.database.model_copy(update={"url": url})
    today = datetime.now(ZoneInfo(settings.deployment.timezone)).date()
    # Open all day, or a day off today: the test must not depend on the hour it runs at.
    calendar = settings.calendar.model_copy(
        update={
            "officer_hours": ("00:00-23:59",) if open_now else ("07:30-11:30",),
            "extra_days_off": () if open_now else (today,),
            "make_up_days": (),
        }
    )
    return settings.model_copy(update={"database": database, "calendar": calendar})


@pytest.fixture
async def app(settings: Settings, knowledge: Knowledge, database_url: str) -> AsyncIterator[App]:
    async with build_app(
        _configured(settings, database_url, open_now=True), knowledge, deliver=False
    ) as built:
        yield built


class Citizen:
    def __init__(self, app: App) -> None:
        self.app = app
        self.n = 0

    async def say(self, text: str = "", *, photo: bool = False, payload: str | None = None) -> str:
        self.n += 1
        attachments = (Attachment(kind="photo", ref=f"file-{self.n}"),) if photo else ()
        result = await self.app.service.handle(
            Inbound(
                key=KEY,
                message_id=f"m{self.n}",
                received_at=datetime.now(UTC),
                text=text,
                payload=payload,
                attachments=attachments,
            )
        )
        return "\n".join(r.text for r in result.replies)


async def test_a_handed_over_conversation_is_silent_and_the_officer_answers_and_closes(
    app: App,
) -> None:
    chat = Telegram()
    app.push.register("telegram", chat)
    citizen = Citizen(app)
    await citizen.say("kết hôn")  # the assistant answers, before the hand-over
    assert "Đã chuyển cuộc trò chuyện tới cán bộ" in await citizen.say("gap can bo")
    handoff = await app.handoffs.open_for(KEY)
    assert handoff is not None and handoff.commune_code == app.settings.deployment.default_commune
    assert await citizen.say("Tôi muốn hỏi về giấy kết hôn") == texts.RELAYED
    assert await citizen.say("kết hôn") == ""  # not answered by the assistant
    assert await citizen.say(photo=True) == ""

    lines = await app.handoffs.lines(KEY)
    said = [(line.author, line.text) for line in lines]
    # What came before the hand-over is there for the officer, as the citizen saw it.
    assert said[0] == ("citizen", "kết hôn")
    assert said[1][0] == "assistant" and "Đăng ký kết hôn" in said[1][1]
    assert ("citizen", "gap can bo") in said
    assert said[-4:] == [
        ("citizen", "Tôi muốn hỏi về giấy kết hôn"),
        ("assistant", texts.RELAYED),
        ("citizen", "kết hôn"),
        ("citizen", "[ảnh]"),
    ]
    handoff = await app.handoffs.get(handoff.id)
    assert handoff is not None and handoff.unread == 4

    line = await app.handoffs.answer(
        handoff.id, "lan", "Chào bác, bác mang giấy tờ gì?", datetime.now(UTC)
    )
    assert not isinstance(line, str)
    # Another officer cannot answer a conversation lan has taken.
    assert await app.handoffs.answer(handoff.id, "minh", "tôi đây", datetime.now(UTC)) == TAKEN
    assert await app.handoff_courier.run_once() == 1
    assert "Chào bác, bác mang giấy tờ gì?" in chat.text
    assert (await app.handoffs.get(handoff.id)).unread == 0  # type: ignore[union-attr]

    assert await app.handoffs.close(handoff.id, "lan", datetime.now(UTC))
    assert not await app.handoffs.close(handoff.id, "lan", datetime.now(UTC))  # once
    assert await app.handoff_courier.run_once() == 1
    assert texts.BACK_BY_OFFICER in chat.text
    assert await app.handoffs.answer(handoff.id, "lan", "còn gì nữa", datetime.now(UTC)) == (
        CLOSED_ALREADY
    )
    # The assistant answers again.
    assert "Đăng ký kết hôn" in await citizen.say("kết hôn")
    assert await app.handoffs.open_for(KEY) is None


async def test_a_hand_over_nobody_writes_in_goes_back_to_the_assistant(app: App) -> None:
    chat = Telegram()
    app.push.register("telegram", chat)
    citizen = Citizen(app)
    await citizen.say("Gặp cán bộ")
    opened = await app.handoffs.open_for(KEY)
    assert opened is not None
    # Not idle yet.
    assert await app.handoffs.close_idle(datetime.now(UTC), timedelta(minutes=30)) == 0
    # Idle as soon as nobody writes (the courier's clock is the real one).
    assert await app.handoffs.close_idle(datetime.now(UTC), timedelta(0)) == 1
    assert await app.handoff_courier.run_once() == 1
    assert texts.BACK_IDLE in chat.text
    closed = await app.handoffs.get(opened.id)
    assert closed is not None and closed.closed_by == "idle" and not closed.is_open
    assert "Đăng ký kết hôn" in await citizen.say("kết hôn")


async def test_the_citizen_goes_back_to_the_assistant(app: App) -> None:
    citizen = Citizen(app)
    await citizen.say("nói chuyện với cán bộ")
    opened = await app.handoffs.open_for(KEY)
    assert opened is not None
    said = await citizen.say(payload="officerend")
    assert texts.BACK_BY_CITIZEN in said
    closed = await app.handoffs.get(opened.id)
    assert closed is not None and closed.closed_by == "citizen"
    # The officer's close comes too late: nothing to tell.
    assert not await app.handoffs.close(opened.id, "lan", datetime.now(UTC))


async def test_out_of_hours_a_message_waits_in_the_inbox_marked(
    settings: Settings, knowledge: Knowledge, database_url: str
) -> None:
    closed = _configured(settings, database_url, open_now=False)
    async with build_app(closed, knowledge, deliver=False) as app:
        chat = Telegram()
        app.push.register("telegram", chat)
        citizen = Citizen(app)
        said = await citizen.say("Gặp cán bộ")
        assert "Cán bộ sẽ trả lời từ 7 giờ 30 sáng" in said
        assert await app.handoffs.open_for(KEY) is None  # nothing yet: a message is asked for
        said = await citizen.say("Tôi cần hỏi về đăng ký tạm trú")
        assert "Đã ghi lại lời nhắn" in said
        waiting = await app.handoffs.open_for(KEY)
        assert waiting is not None and waiting.waiting and waiting.unread == 1
        # The assistant carries on meanwhile.
        assert "Đăng ký kết hôn" in await citizen.say("kết hôn")
        # A message left waits for an officer: it does not time out.
        later = datetime.now(UTC) + timedelta(hours=10)
        assert await app.handoffs.close_idle(later, timedelta(minutes=30)) == 0
        # The next morning the officer answers, and the conversation is the officer's.
        await app.handoffs.answer(
            waiting.id, "lan", "Bác mang căn cước đến nhé.", datetime.now(UTC)
        )
        assert await app.handoff_courier.run_once() == 1
        assert "Bác mang căn cước đến nhé." in chat.text
        assert await citizen.say("cảm ơn cán bộ") == ""
        live = await app.handoffs.get(waiting.id)
        assert live is not None and not live.waiting and live.claimed_by == "lan"
