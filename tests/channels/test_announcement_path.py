"""Announcements on every channel, through the real adapters: the citizen opts in with
"/thongbao", an officer's announcement (stored as the console stores it) reaches their own chat
through the outbox and the channel's push with its «Không nhận thông báo nữa» button, and one
press of it stops the next one. Telegram and Zalo through their fake servers; the terminal at the
counter is told announcements do not reach it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from dialogs.texts import announcements as texts
from storage.outbox import OutboxRepository
from tests.channels.deployment import Deployment
from tests.channels.transcript import ChannelDriver

NEWS = "Từ ngày 8/12, thủ tục cấp bản sao trích lục khai sinh nộp trực tuyến được."


@pytest.fixture
def deployment_env() -> dict[str, str]:
    return {
        # No quiet hours: the test must not depend on the hour it runs at.
        "MOTCUA_NOTIFICATIONS__QUIET_START": "00:00",
        "MOTCUA_NOTIFICATIONS__QUIET_END": "00:00",
        "MOTCUA_NOTIFICATIONS__TELEGRAM_PER_CHAT_SECONDS": "0.01",
    }


async def test_an_announcement_reaches_the_citizens_own_chat_and_one_press_stops_them(
    citizen: ChannelDriver, deployment: Deployment
) -> None:
    app = deployment.app
    commune = app.settings.commune()
    await citizen.start()
    asked = await citizen.type("/thongbao")
    if citizen.key.channel == "terminal":
        assert texts.NOT_HERE in asked.text
        assert await app.announcements.of(citizen.key) is None
        return
    assert texts.offer(commune.name) in asked.text
    assert texts.opted_in(commune.name) in (await citizen.press(texts.BTN_YES)).text

    first, _ = await app.announcements.send(
        commune.code, NEWS, actor="console:lan", submission_key="k1", now=datetime.now(UTC)
    )
    assert first.recipients == 1
    app.announce_courier.poke()
    got = await citizen.notice(NEWS)
    assert texts.announcement(commune.name, NEWS) in got.text
    assert texts.BTN_STOP in got.buttons
    assert texts.OPTED_OUT in (await citizen.press(texts.BTN_STOP)).text

    second, _ = await app.announcements.send(
        commune.code, "Họp thôn tối thứ Bảy.", actor="console:lan", submission_key="k2",
        now=datetime.now(UTC),
    )  # fmt: skip
    assert second.recipients == 0
    outbox = OutboxRepository(app.conversations._sessions)
    for _ in range(100):  # the first one's row is marked done once the push is answered
        if not await outbox.pending(topic=f"announce:{citizen.key.channel}"):
            break
        await asyncio.sleep(0.05)
    assert await outbox.pending(topic=f"announce:{citizen.key.channel}") == []
    counts = await app.announcements.delivered(first)
    assert (counts.sent, counts.queued, counts.failed) == (1, 0, 0)
