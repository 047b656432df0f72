"""One worker of bench/turns.py's several-worker runs: a whole app (build_app, the service)
on the shared database in its own process, driving its share of the conversations.

``python -m bench._turns_worker DB_URL FILES_DIR INDEX``: prints ``ready`` once built, then takes
one JSON job a line until its input closes, each started at the job's ``start_at`` (epoch seconds,
the same for every worker) and answered with one JSON line ``{"turns": [[due, done], ...],
"finished": chats, "cpu_s": this process's CPU time}`` (seconds from the start: when each turn
was sent, when its replies came):

- ``{"mode": "open", "offered", "seconds", "warmup", "think_s", "first_chat", "seed", "n"}``:
  this worker's share of the open-loop arrivals (bench/_openloop.py), ``offered`` turns/s;
- ``{"mode": "burst", "chats", "first_chat", "n", "workers"}``: chats ``n``, ``n + workers``,
  ... of a burst, all at once, each turn sent when the last was answered.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench._openloop import open_loop
from bench.turns import TURNS_PER_CHAT, ours
from bot.runner import tune_gc


async def _burst(driver: Any, chats: list[int], t0: float) -> tuple[list[list[float]], int]:
    turns: list[list[float]] = []

    async def conversation(chat: int) -> None:
        update = driver.first(chat)
        while update is not None:
            due = time.perf_counter() - t0
            update = await driver.turn(chat, update)
            turns.append([due, time.perf_counter() - t0])

    await asyncio.gather(*(conversation(c) for c in chats))
    return turns, len(chats)


async def main(url: str, files: str, index: int) -> None:
    loop = asyncio.get_running_loop()
    # Telegram's update ids are the bot's, not a chat's: each worker has its own range.
    async with ours(url, Path(files), "ours (worker)", first_update=index * 10**9) as system:
        tune_gc()
        print("ready", flush=True)
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            job: dict[str, Any] = json.loads(line)
            await asyncio.sleep(max(0.0, job["start_at"] - time.time()))
            cpu = time.process_time()
            if job["mode"] == "open":
                run = await open_loop(
                    system.driver,
                    job["offered"],
                    turns_per_chat=TURNS_PER_CHAT,
                    seconds=job["seconds"],
                    warmup=job["warmup"],
                    think_s=job["think_s"],
                    # Each worker's chats and citizens are its own.
                    first_chat=job["first_chat"] + job["n"] * 100_000,
                    seed=job["seed"] * 100 + job["n"],
                )
                turns = [[t.due, t.done] for t in run.turns]
                finished = run.finished
            else:
                first = job["first_chat"]
                mine = [first + i for i in range(job["n"], job["chats"], job["workers"])]
                turns, finished = await _burst(system.driver, mine, time.perf_counter())
            cpu = time.process_time() - cpu
            print(json.dumps({"turns": turns, "finished": finished, "cpu_s": cpu}), flush=True)


if __name__ == "__main__":
    Path(sys.argv[2]).mkdir(parents=True, exist_ok=True)
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
