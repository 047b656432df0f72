"""The one reminder before an unfinished dossier expires, sent through the citizen's channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.app import Knowledge, build_app
from bot.config import Settings
from bot.reminders import DraftReminders
from dialogs.context import CommuneFacts, Context
from dialogs.model import ConversationKey, Inbound, Reply
from storage.migrate import upgrade

KEY = ConversationKey(channel="telegram", chat_id="77", user_id="77")


async def test_an_open_draft_gets_exactly_one_reminder(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    started = datetime.now(UTC)
    async with build_app(settings, knowledge, deliver=False) as app:
        first = await app.service.replies(
            Inbound(key=KEY, message_id="1", received_at=started, payload="file:1.001193")
        )
        assert first, "the birth-registration form starts"

        sent: list[tuple[ConversationKey, Sequence[Reply]]] = []

        async def send(key: ConversationKey, replies: Sequence[Reply]) -> bool:
            sent.append((key, replies))
            return True

        def context_for(commune: str, now: datetime) -> Context:
            return Context(
                now=now,
                commune=CommuneFacts(code=commune, name="Xã Thái Tân", province="Hải Phòng"),
                catalogue=knowledge.catalogue,
                search=knowledge.search,
            )

        later = started + timedelta(days=28)  # 30-day drafts, reminder 3 days before
        reminders = DraftReminders(
            app.conversations,
            app.service,
            send,
            draft_ttl=timedelta(days=30),
            remind_before=timedelta(days=3),
            clock=lambda: later,
        )
        too_early = DraftReminders(
            app.conversations,
            app.service,
            send,
            draft_ttl=timedelta(days=30),
            remind_before=timedelta(days=3),
            clock=lambda: started + timedelta(days=5),
        )
        assert await too_early.run_once() == 0
        assert await reminders.run_once() == 1
        assert await reminders.run_once() == 0  # once per pause, not every hour
    assert sent[0][0] == KEY
    text = sent[0][1][0].text
    assert "khai sinh" in text.lower()
    assert any(b.payload.startswith("form:") for b in sent[0][1][0].flat_buttons())
