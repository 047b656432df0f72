"""Long-running entry points: the server (`motcua run`) and the terminal chat (`motcua chat`)."""

from __future__ import annotations

import logging
import sys

from bot.app import build_app
from bot.config import Settings
from storage.migrate import upgrade

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    import uvicorn

    from bot.web import create_web_app

    await upgrade(settings.database.url)
    async with build_app(settings) as app:
        web = create_web_app(app)
        config = uvicorn.Config(
            web, host=settings.web.host, port=settings.web.port, log_level="info", lifespan="off"
        )
        server = uvicorn.Server(config)
        print(
            f"motcua: web chat at http://{settings.web.host}:{settings.web.port}/ "
            f"({len(app.knowledge.catalogue)} procedures, {settings.commune().name})",
            flush=True,
        )
        await server.serve()


async def chat(settings: Settings, user: str = "terminal") -> None:
    from handlers.terminal import TerminalChannel

    await upgrade(settings.database.url)
    async with build_app(settings) as app:
        channel = TerminalChannel(app.service.replies, sys.stdin, sys.stdout, user=user)
        await channel.run()
