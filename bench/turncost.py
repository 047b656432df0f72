"""Where one turn's time goes: the turn benchmark's form filed one turn at a time (no
concurrency, so nothing is shared between turns: no group commit, no batching), on SQLite,
ours against aiogram with the durable SQLite storage of bench/_aiogram_storage.py.

Per turn, printed:

- wall time, and the process's CPU time (every thread: the event loop's and the database's);
- the event loop's thread, profiled with cProfile, by where the time was spent (own time of
  the functions of each part): parse (``handlers/``; for aiogram, aiogram and pydantic), dialog
  (``dialogs/``, ``knowledge/``), service (``bot/``), our storage code (``storage/``),
  SQLAlchemy, asyncio/greenlet/thread hand-offs, and waiting for the database thread (epoll);
- the database thread (aiosqlite's): how many calls a turn hands it (each a thread hop), the
  time it spends executing SQL, and the time in COMMIT: with ``synchronous=FULL`` that is the
  WAL's fsync, and how many commits a turn makes.

The number that bounds throughput is CPU per turn: at 2 CPUs, 2,000 turns/s leaves 1 ms of CPU
for a turn, everything included.

``python -m bench turncost``.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite.core

from bench._aiogram_storage import SqliteStorage
from bench._machine import load_average
from bench.turns import TURNS_PER_CHAT, System, aiogram_bot, ours
from storage.migrate import upgrade

WARM_CHATS = 5  # not measured: first imports, caches, statement compilation
CHATS = 20

PARTS = (  # (part, path fragments of its functions), first match wins
    ("parse", ("/handlers/", "/aiogram/", "/pydantic", "pydantic_core")),
    ("dialog", ("/dialogs/", "/knowledge/")),
    ("service", ("/bot/", "/bench/")),
    ("our storage code", ("/storage/",)),
    ("SQLAlchemy", ("/sqlalchemy/",)),
    ("waiting for the database", ("select.epoll", "selectors.py")),
    ("asyncio, greenlet, thread hops", ("/asyncio/", "greenlet", "_queue", "/aiosqlite/")),
)


def part_of(filename: str, function: str) -> str:
    where = f"{filename}:{function}"
    for part, fragments in PARTS:
        if any(fragment in where for fragment in fragments):
            return part
    return "other (json, datetime, ...)"


class DatabaseThread:
    """Times what aiosqlite's thread does for the loop: each queued call, COMMIT apart."""

    def __init__(self) -> None:
        self.calls = 0
        self.commits = 0
        self.sql_s = 0.0
        self.commit_s = 0.0
        self._original: Callable[..., Any] | None = None

    def __enter__(self) -> DatabaseThread:
        original = aiosqlite.core.Connection._execute
        self._original = original
        meter = self

        async def _execute(connection: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            name = getattr(fn, "__name__", "")

            def timed() -> Any:
                started = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    spent = time.perf_counter() - started
                    if name == "commit":
                        meter.commits += 1
                        meter.commit_s += spent
                    else:
                        meter.sql_s += spent

            meter.calls += 1
            return await original(connection, timed)

        aiosqlite.core.Connection._execute = _execute  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: object) -> None:
        aiosqlite.core.Connection._execute = self._original  # type: ignore[method-assign]


async def _chats(system: System, first: int, count: int) -> int:
    turns = 0
    for chat in range(first, first + count):
        update = system.driver.first(chat)
        while update is not None:
            update = await system.driver.turn(chat, update)
            turns += 1
    return turns


async def _cost(system: System) -> list[str]:
    await _chats(system, 1, WARM_CHATS)
    with DatabaseThread() as database:  # unprofiled: the real costs
        wall, cpu = time.perf_counter(), time.process_time()
        turns = await _chats(system, 100, CHATS)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    profile = cProfile.Profile()
    profile.enable()
    profiled = await _chats(system, 200, CHATS)
    profile.disable()
    parts: Counter[str] = Counter()
    stats: Any = pstats.Stats(profile).stats  # {(file, line, function): (cc, nc, tt, ct, ...)}
    for (filename, _, function), (_, _, own, _, _) in stats.items():
        parts[part_of(filename, function)] += own
    per = 1000 / turns
    lines = [
        f"{system.name}: per turn {wall * per:.2f} ms wall, {cpu * per:.2f} ms CPU (all "
        f"threads), so at most {turns / cpu:.0f} turns/s a CPU (load {load_average()})",
        f"  database thread: {database.calls / turns:.1f} calls a turn (each a thread hop), "
        f"executing SQL {database.sql_s * per:.2f} ms; {database.commits / turns:.2f} commits "
        f"a turn taking {database.commit_s * per:.2f} ms (fsync: synchronous=FULL)",
        "  event loop's thread under cProfile (which slows it), own time by part:",
    ]
    total = sum(parts.values()) or 1.0
    for part, spent in parts.most_common():
        lines.append(f"    {part:<32} {spent * 1000 / profiled:>6.2f} ms  {spent / total:>4.0%}")
    return lines


async def measure(folder: Path) -> list[str]:
    url = f"sqlite+aiosqlite:///{folder / 'ours.sqlite3'}"
    await upgrade(url)
    lines: list[str] = []
    async with ours(url, folder, "ours (SQLite)") as system:
        lines += await _cost(system)
    storage = await SqliteStorage.open(folder / "aiogram.sqlite3")
    async with aiogram_bot(storage, "aiogram (SQLite)", True) as system:
        lines += await _cost(system)
    return lines


def run() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as folder:
        lines = asyncio.run(measure(Path(folder)))
    return [
        f"one turn at a time, {CHATS} chats × {TURNS_PER_CHAT} turns after {WARM_CHATS} warm-up "
        "chats; at 2 CPUs, 2,000 turns/s leaves 1 ms of CPU a turn",
        *lines,
    ]


if __name__ == "__main__":
    print("\n".join(run()))
