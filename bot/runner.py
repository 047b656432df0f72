"""Long-running entry points: the server (`motcua run`) and the terminal chat (`motcua chat`)."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from pathlib import Path

from bot.app import build_app
from bot.config import Settings
from storage.migrate import upgrade

log = logging.getLogger(__name__)

# A chat server keeps many young objects alive across awaits (each turn's state, its rows),
# so with the default gen-0 threshold of 700 allocations the collector walks them again and
# again: 40% of the CPU of a turn under load in bench/turns.py. Collecting every 50,000
# allocations instead costs a little memory and nothing else.
GC_THRESHOLDS = (50_000, 20, 10)


def tune_gc() -> None:
    """The collector settings of a long-running server; startup objects (the catalogue, the
    address book) are frozen so that full collections stop walking them."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def serve(settings: Settings) -> None:
    import uvicorn

    from bot.web import create_web_app

    await upgrade(settings.database.url)
    async with build_app(settings) as app:
        web = create_web_app(app, uploads=app.web_uploads)
        tune_gc()
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        telegram = app.channels.telegram
        if telegram is not None:
            if settings.telegram.mode == "webhook":
                url = f"{settings.web.public_url.rstrip('/')}/telegram/webhook"
                await telegram.startup(url, settings.telegram.webhook_secret)
            else:
                await telegram.startup(None)
                tasks.append(asyncio.create_task(telegram.poll(stop), name="telegram-poll"))
            print(f"motcua: Telegram on ({settings.telegram.mode})", flush=True)
        if app.channels.zalo is not None:
            print("motcua: Zalo OA webhook at /zalo/webhook", flush=True)
        config = uvicorn.Config(
            web,
            host=settings.web.host,
            port=settings.web.port,
            log_level="info",
            lifespan="off",
            ws_max_size=64 * 1024,
        )
        server = uvicorn.Server(config)
        print(
            f"motcua: web chat at http://{settings.web.host}:{settings.web.port}/ "
            f"({len(app.knowledge.catalogue)} procedures, {settings.commune().name}); "
            f"officer console at http://{settings.web.host}:{settings.web.port}/console",
            flush=True,
        )
        try:
            await server.serve()
        finally:
            stop.set()
            for task in tasks:
                await task


async def chat(settings: Settings, user: str = "terminal", files_dir: Path | None = None) -> None:
    from handlers.terminal import TerminalChannel

    await upgrade(settings.database.url)
    async with build_app(settings) as app:
        channel = TerminalChannel(
            app.service.replies, sys.stdin, sys.stdout, user=user, files_dir=files_dir
        )
        app.push.register("terminal", channel.push)
        tune_gc()
        await channel.run()
        # Input ended (a script over a pipe): documents still being drawn are printed first.
        await app.receipts.run_once()
