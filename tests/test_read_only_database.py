"""A database that stops taking writes (read-only file, full disk, a replica) is seen: the
health check says so, and a turn answers the citizen "send it again later" instead of
dropping the connection. Before, /healthz said ok while every turn failed with an exception."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from bot.app import Knowledge, build_app
from bot.config import Settings
from bot.web import create_web_app
from dialogs.model import ConversationKey, Inbound
from dialogs.texts.channels import TRY_LATER
from storage.migrate import upgrade


async def test_a_read_only_database_fails_the_health_check_and_turns_say_try_later(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    path = settings.database.url.removeprefix("sqlite+aiosqlite:///")
    read_only = settings.model_copy(
        update={
            "database": settings.database.model_copy(
                update={"url": f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"}
            )
        }
    )
    for config, healthy in ((settings, True), (read_only, False)):
        async with build_app(config, knowledge, deliver=False) as app:
            web = create_web_app(app)
            transport = httpx.ASGITransport(app=web)
            async with httpx.AsyncClient(transport=transport, base_url="http://motcua") as http:
                answer = await http.get("/healthz")
            assert (answer.status_code == 200) is healthy, answer.text
            assert answer.json()["ok"] is healthy

            key = ConversationKey(channel="web", chat_id=f"c-{healthy}", user_id="u")
            inbound = Inbound(
                key=key, message_id="m1", received_at=datetime.now(UTC), text="đăng ký kết hôn"
            )
            replies = await app.service.replies(inbound)
            if healthy:
                assert "kết hôn" in replies[-1].text.casefold()
            else:
                assert [r.text for r in replies] == [TRY_LATER]
