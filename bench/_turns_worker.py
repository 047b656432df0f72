"""One worker of bench/turns.py's several-worker runs: a whole app (build_app, the service)
on the shared database in its own process, driving its share of the conversations.

``python -m bench._turns_worker DB_URL FILES_DIR``: prints ``ready`` once built, reads one JSON
line ``{"start_at": epoch seconds, "chats": [[chat, offset_s], ...], "think_s": mean}`` and
starts each chat at ``start_at + offset`` (its arrival), waiting an exponentially distributed
think time before each next turn (``think_s`` 0: no thinking, the burst). Prints one JSON line
``{"latencies_ms", "first", "last", "turns"}``: each turn's time from being sent to its replies,
and the wall-clock span of the turns. A turn is timed from when its citizen sent it.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.turns import CODE, MAX_TURNS, PROCEDURE, SETTINGS, _next_update, _UpdateIds
from bot.app import Knowledge, build_app
from bot.config import settings_from_dict
from bot.runner import tune_gc
from dialogs.model import Reply
from handlers.telegram_updates import inbound_from_update
from knowledge.catalogue import Catalogue, load_catalogue
from knowledge.search import Searcher


async def main(url: str, files: str) -> None:
    settings = settings_from_dict(
        {
            **SETTINGS,
            "database": {"url": url},
            "files": {"path": files},
            "flood": {"messages": 1000},
        }
    )
    catalogue = Catalogue([*load_catalogue().all(), PROCEDURE])
    loop = asyncio.get_running_loop()
    async with build_app(settings, Knowledge(catalogue, Searcher(catalogue)), deliver=False) as app:
        tune_gc()
        print("ready", flush=True)
        job: dict[str, Any] = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
        ids = _UpdateIds(first=int(job.get("seed", 1)) * 10_000_000)
        rng = random.Random(job.get("seed", 1))
        think = float(job["think_s"])
        latencies: list[float] = []
        spans: list[float] = []

        async def turn(raw: dict[str, Any], due: float) -> tuple[Reply, ...]:
            # Timed from when the citizen sent it (``due``), not from when this busy loop got
            # round to it: a late start is latency too (no coordinated omission).
            spans.append(due)
            inbound = inbound_from_update(raw, datetime.now(UTC))
            assert inbound is not None
            replies = (await app.service.handle(inbound)).replies
            done = time.time()
            latencies.append((done - due) * 1000)
            spans.append(done)
            return replies

        async def conversation(chat: int, offset: float) -> int:
            due = job["start_at"] + offset
            await asyncio.sleep(max(0.0, due - time.time()))
            update, submits = ids.press(chat, f"file:{CODE}", "Nộp hồ sơ"), False
            for turns in range(1, MAX_TURNS + 1):
                replies = await turn(update, due)
                if submits:
                    return turns
                update, submits = _next_update(ids, chat, replies)
                due = time.time()
                if think:
                    due += rng.expovariate(1 / think)
                    await asyncio.sleep(max(0.0, due - time.time()))
            raise RuntimeError(f"chat {chat} never reached the submit button")

        counts = await asyncio.gather(*(conversation(c, o) for c, o in job["chats"]))
        print(
            json.dumps(
                {
                    "latencies_ms": latencies,
                    "first": min(spans),
                    "last": max(spans),
                    "turns": sum(counts),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    Path(sys.argv[2]).mkdir(parents=True, exist_ok=True)
    asyncio.run(main(sys.argv[1], sys.argv[2]))
