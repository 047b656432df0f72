"""The conversation service over a real SQLite database: what a user notices across turns."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import Knowledge, build_app
from bot.config import Settings
from dialogs.model import ConversationKey, Inbound
from storage.migrate import upgrade

KEY = ConversationKey(channel="web", chat_id="chat-1", user_id="chat-1")


def _inbound(message_id: str, text: str = "", payload: str | None = None) -> Inbound:
    return Inbound(
        key=KEY, message_id=message_id, received_at=datetime.now(UTC), text=text, payload=payload
    )


async def test_question_gets_the_birth_registration_card(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge) as app:
        replies = await app.service.replies(
            _inbound("m1", "đăng ký khai sinh cho con cần giấy tờ gì")
        )
    text = "\n".join(r.text for r in replies)
    assert "Đăng ký khai sinh\nGiấy tờ cần có:" in text
    assert any(b.payload == "papers:1.001193" for r in replies for b in r.flat_buttons())
    assert "Xã Thái Tân" in text  # commune facts come from config


async def test_a_retried_message_is_answered_once(settings: Settings, knowledge: Knowledge) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge) as app:
        first = await app.service.handle(_inbound("m1", "menu"))
        again = await app.service.handle(_inbound("m1", "menu"))
    assert first.replies and not first.duplicate
    assert again.duplicate and again.replies == ()


async def test_conversation_survives_a_restart(settings: Settings, knowledge: Knowledge) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge) as app:
        menu = await app.service.replies(_inbound("m1", "menu"))
    browse = next(b for r in menu for b in r.flat_buttons() if "lĩnh vực" in b.text)
    # A new process: nothing in memory, only the database.
    async with build_app(settings, knowledge) as app:
        fields = await app.service.replies(_inbound("m2", browse.text))  # typed button label
    assert any("Hộ tịch" in b.text for r in fields for b in r.flat_buttons())


async def test_a_flooding_citizen_is_asked_to_slow_down_once(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    # The window is fixed (aligned on its length, shared by workers): an hour long here, so a
    # burst of a few seconds does not straddle two windows and start counting again.
    flood = settings.flood.model_copy(update={"window_seconds": 3600})
    settings = settings.model_copy(update={"flood": flood})
    async with build_app(settings, knowledge) as app:
        results = [await app.service.handle(_inbound(f"f{i}", "cảm ơn")) for i in range(25)]
    answered = [r for r in results if r.replies and "nhanh quá" not in r.replies[0].text]
    warnings = [r for r in results if r.replies and "nhanh quá" in r.replies[0].text]
    assert len(answered) == 20
    assert len(warnings) == 1
    assert sum(1 for r in results if not r.replies) == 4  # the rest: logged, not processed
