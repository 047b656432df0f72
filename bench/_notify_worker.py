"""The notifier alone in a process, for bench/notify.py's kill -9 run.

``python -m bench._notify_worker DB_URL BOT_API_URL SCALE LEASE_SECONDS``: works the
``notify:telegram`` rows until none is left, then exits 0. The bench kills it with SIGKILL
halfway and starts it again.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from bench.notify import build_notifier
from storage.db import create_engine, session_factory
from storage.outbox import OutboxRepository


async def main(url: str, bot_api: str, scale: float, lease: float) -> None:
    engine = create_engine(url)
    outbox = OutboxRepository(session_factory(engine))
    notifier, bot = build_notifier(outbox, bot_api, scale, lease=timedelta(seconds=lease))
    stop = asyncio.Event()
    worker = asyncio.create_task(notifier.run(stop))
    try:
        while await outbox.pending():  # noqa: ASYNC110 - the database is what is watched
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await worker
        await bot.session.close()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])))
