""" "Gặp cán bộ" on every channel: the citizen asks for an officer through the real adapter,
the officer's answer (stored by the console's repository) reaches the citizen's own chat
through the outbox and the channel's push, and so does the assistant's return when the
officer closes. Telegram and Zalo through their fake servers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialogs.texts import officer as texts
from tests.channels.deployment import Deployment
from tests.channels.transcript import ChannelDriver

ANSWER = "Chào bác, giấy khai sinh bản sao bác xin tại bộ phận một cửa ạ."


@pytest.fixture
def deployment_env() -> dict[str, str]:
    return {
        # Officers there all day: the test must not depend on the hour it runs at.
        "MOTCUA_CALENDAR__OFFICER_HOURS": '["00:00-23:59"]',
        "MOTCUA_CALENDAR__EXTRA_DAYS_OFF": "[]",
        "MOTCUA_CALENDAR__MAKE_UP_DAYS": "[]",
        "MOTCUA_NOTIFICATIONS__TELEGRAM_PER_CHAT_SECONDS": "0.01",
    }


async def test_an_officers_answer_and_close_reach_the_citizens_own_chat(
    citizen: ChannelDriver, deployment: Deployment
) -> None:
    app = deployment.app
    await citizen.start()
    handed = await citizen.press("Gặp cán bộ")
    assert "Đã chuyển cuộc trò chuyện tới cán bộ" in handed.text
    assert texts.BTN_BACK in handed.buttons
    await citizen.type("Tôi cần bản sao giấy khai sinh")
    [handoff] = await app.handoffs.list(None)
    assert handoff.key == citizen.key and handoff.unread == 2

    answered = await app.handoffs.answer(handoff.id, "lan", ANSWER, datetime.now(UTC))
    assert not isinstance(answered, str)
    app.handoff_courier.poke()
    said = await citizen.notice(ANSWER)
    assert said.text.startswith(texts.OFFICER_SAYS)

    assert await app.handoffs.close(handoff.id, "lan", datetime.now(UTC))
    app.handoff_courier.poke()
    await citizen.notice(texts.BACK_BY_OFFICER)
    assert "Đăng ký kết hôn" in (await citizen.type("kết hôn")).text
