"""A worker for tests/test_two_processes.py: a whole app (build_app, the service) in its own
process, fed messages on stdin, one JSON line each, and answering on stdout.

Run as ``python -m tests.two_workers`` with MOTCUA_DATABASE__URL and MOTCUA_FILES__PATH set.
It prints ``ready`` once built; then each line ``{"id", "chat", "text"?, "payload"?}`` is
handled at once (not after the previous one: lines for one conversation overlap as a channel's
deliveries do) and answered with ``{"id", "asked", "texts", "buttons", "duplicate"}``, where
``asked`` is the number of the question the replies ask (tests.workers.asked).
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

from bot.app import build_app
from bot.config import load_settings
from dialogs.model import ConversationKey, Inbound
from tests.conftest import ROOT
from tests.workers import asked, knowledge_with_form


async def main() -> None:
    settings = load_settings(ROOT / "config.example.toml")
    loop = asyncio.get_running_loop()
    async with build_app(settings, knowledge_with_form(), deliver=False) as app:
        print("ready", flush=True)
        running: set[asyncio.Task[None]] = set()

        async def answer(message: dict[str, Any]) -> None:
            chat = str(message["chat"])
            result = await app.service.handle(
                Inbound(
                    key=ConversationKey("telegram", chat, chat),
                    message_id=str(message["id"]),
                    received_at=datetime.now(UTC),
                    text=str(message.get("text", "")),
                    payload=message.get("payload"),
                )
            )
            line = {
                "id": message["id"],
                "asked": asked(result.replies),
                "texts": [reply.text for reply in result.replies],
                "buttons": [
                    [b.text, b.payload] for reply in result.replies for b in reply.flat_buttons()
                ],
                "duplicate": result.duplicate,
            }
            print(json.dumps(line, ensure_ascii=False), flush=True)

        while line := await loop.run_in_executor(None, sys.stdin.readline):
            task = asyncio.create_task(answer(json.loads(line)))
            running.add(task)
            task.add_done_callback(running.discard)
        await asyncio.gather(*running)


if __name__ == "__main__":
    asyncio.run(main())
