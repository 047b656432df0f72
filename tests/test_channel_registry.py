"""One door per channel: a messenger added as one entry of the registry (bot/channels.py) gets
its routes mounted, its push and its file fetcher registered and its background loop run,
without a line of bot/ naming it (issue 12). The server's start and shutdown of each channel
(bot/runner.py) are exercised by Telegram's polling in tests/test_shutdown.py."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from bot.app import Knowledge, build_app
from bot.channels import MESSENGERS, Messenger, Wiring
from bot.config import Settings
from bot.push import Delivery
from bot.web import create_web_app
from dialogs.model import Attachment, ConversationKey, Reply
from handlers.channel import Conversations, WebOptions, WindowClosed
from storage.migrate import upgrade


@dataclass
class Pigeon:
    """A messenger the project never had: carrier pigeons, one coop per worker."""

    name: str = "pigeon"
    pushed: list[tuple[ConversationKey, tuple[Reply, ...]]] = field(default_factory=list)
    ran: asyncio.Event = field(default_factory=asyncio.Event)
    stopped: bool = False
    grounded: set[str] = field(default_factory=set)

    def routes(self, conversations: Conversations, web: WebOptions) -> APIRouter:
        router = APIRouter()

        @router.get("/pigeon/coop")
        async def coop() -> PlainTextResponse:
            return PlainTextResponse("gru gru")

        return router

    async def push(self, key: ConversationKey, replies: Sequence[Reply]) -> bool:
        if key.chat_id in self.grounded:
            raise WindowClosed
        self.pushed.append((key, tuple(replies)))
        return True

    async def fetch(self, attachment: Attachment) -> bytes:
        return b"a photo tied to a leg: " + attachment.ref.encode()

    async def run(self, stop: asyncio.Event) -> None:
        self.ran.set()
        await stop.wait()
        self.stopped = True

    async def start(self, stop: asyncio.Event) -> str | None:
        return "pigeons on"

    async def shutdown(self) -> None:
        return None


async def test_a_messenger_added_to_the_registry_is_wired_everywhere(
    settings: Settings, knowledge: Knowledge
) -> None:
    pigeon = Pigeon()

    async def build(wiring: Wiring) -> Pigeon:
        return pigeon

    await upgrade(settings.database.url)
    messengers = (*MESSENGERS, Messenger("pigeon", build))
    async with build_app(settings, knowledge, messengers=messengers) as app:
        assert [c.name for c in app.channels] == ["web", "pigeon"]  # nothing else configured
        # Routes: mounted on the one web server.
        transport = httpx.ASGITransport(app=create_web_app(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://motcua") as http:
            assert (await http.get("/pigeon/coop")).text == "gru gru"
        # Writing first: the receipt courier, notices and reminders reach it through Push.
        key = ConversationKey("pigeon", "coop-7", "coop-7")
        assert await app.push.deliver(key, [Reply("Biên nhận")]) is Delivery.SENT
        assert pigeon.pushed == [(key, (Reply("Biên nhận"),))]
        pigeon.grounded.add("coop-8")
        grounded = ConversationKey("pigeon", "coop-8", "coop-8")
        assert await app.push.deliver(grounded, [Reply("x")]) is Delivery.CLOSED
        # Files: the effect runner fetches what a citizen sent through it.
        photo = Attachment(kind="photo", ref="leg-1")
        assert await app.fetchers["pigeon"](photo) == b"a photo tied to a leg: leg-1"
        # Its background loop runs with the app's, and stops with them.
        await asyncio.wait_for(pigeon.ran.wait(), 5)
    assert pigeon.stopped
