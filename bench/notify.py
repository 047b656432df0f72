"""Fan-out of status notices: the notifier against Telegram's limits, and through a kill -9.

``NOTICES`` notices over ``CHATS`` chats (queued round-robin, so each chat gets several) are
queued as ``notify:telegram`` outbox rows in a fresh SQLite file (migrations applied) and worked
by :class:`bot.notifier.Notifier` with a trivial ``prepare`` that renders one short text
carrying the event id. Messages go through the project's Telegram channel
(``handlers.telegram.TelegramChannel.send``, the real aiogram ``Bot``) to the local fake Bot
API server (tests/fakes/telegram_server.py) enforcing Telegram's limits, 30 messages a second
overall (sliding second) and one a second per chat, both scaled by ``SCALE`` so the run takes
seconds. Quiet hours are off (the bench may run at night).

1. in process: sustained rate (delivered messages over the time from the first to the last)
   as a % of the enforced limit, 429 answers, lost (an event never delivered) and doubled
   (an event delivered more than once).
2. kill -9: the notifier runs in a subprocess (bench/_notify_worker.py) that is killed with
   SIGKILL once half the notices are delivered, then started again; the lease is shortened to
   ``KILL_LEASE`` so the rows the dead worker held come back quickly. At-least-once: nothing may
   be lost; only notices in flight at the kill (pushed, not yet marked done) can double.

``python -m bench notify``.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from aiogram import Bot

from bot.notifier import Notifier, Prepared, notice_dedupe_key, notice_payload
from bot.pacing import Pacer, QuietHours
from bot.push import Push
from dialogs.model import ConversationKey, Inbound, Reply
from handlers.telegram import TelegramChannel
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.outbox import OutboxItem, OutboxRepository, notify_topic

NOTICES = 2_000
CHATS = 500
SCALE = 5.0  # Telegram's limits x 5: 150 messages/s overall, 200 ms per chat (see the note in run)
PER_SECOND = 30.0
PER_CHAT_SECONDS = 1.0
KILL_LEASE = timedelta(seconds=2)
MARKER = re.compile(r"#(\d+)$")
ROOT = Path(__file__).resolve().parent.parent


async def render(item: OutboxItem) -> Prepared | None:
    """The trivial prepare: one short text ending in the event id (counted by the bench)."""
    p = item.payload
    key = ConversationKey(channel="telegram", chat_id=p["chat_id"], user_id=p["user_id"])
    return Prepared(
        key=key, replies=(Reply(text=f"Hồ sơ {p['code']} đã có kết quả #{p['event_id']}"),)
    )


async def _no_turns(inbound: Inbound) -> Sequence[Reply]:
    return ()


def build_notifier(
    outbox: OutboxRepository, bot_api: str, scale: float, *, lease: timedelta | None = None
) -> tuple[Notifier, Bot]:
    """The notifier as a deployment would wire it for Telegram, pointed at ``bot_api``."""
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    bot = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(bot_api)))
    pacer = Pacer(PER_SECOND, PER_CHAT_SECONDS, scale=scale)
    channel = TelegramChannel(bot, _no_turns, on_retry_after=pacer.back_off)
    push = Push()

    async def to_telegram(key: ConversationKey, replies: Sequence[Reply]) -> bool:
        await channel.send(key.chat_id, replies)
        return True

    push.register("telegram", to_telegram)
    off = QuietHours(clock_time(0, 0), clock_time(0, 0), UTC)
    options = {"lease": lease} if lease is not None else {}
    notifier = Notifier(
        outbox,
        render,
        push,
        {"telegram": pacer},
        off,
        lambda: datetime.now(UTC),
        poll_interval=0.05,
        **options,  # type: ignore[arg-type]
    )
    return notifier, bot


async def _queue(url: str, notices: int, chats: int) -> None:
    await upgrade(url)
    engine = create_engine(url)
    try:
        outbox = OutboxRepository(session_factory(engine))
        now = datetime.now(UTC) - timedelta(seconds=1)
        for event_id in range(1, notices + 1):
            chat = str(100_000 + event_id % chats)
            await outbox.enqueue(
                notify_topic("telegram"),
                notice_payload(f"HS-{event_id:05d}", event_id, "telegram", chat, chat),
                notice_dedupe_key(event_id, "telegram", chat, chat),
                now,
            )
    finally:
        await engine.dispose()


@dataclass(frozen=True, slots=True)
class Result:
    delivered: int
    seconds: float  # first to last delivered message
    too_many: int
    lost: int
    doubled: int
    pending: int  # outbox rows not done at the end
    limit: float

    @property
    def rate(self) -> float:
        return (self.delivered - 1) / self.seconds if self.seconds > 0 else 0.0


def _result(server: object, notices: int, pending: int, scale: float) -> Result:
    from tests.fakes.telegram_server import FakeTelegramServer

    assert isinstance(server, FakeTelegramServer)
    calls = server.delivered()
    counts = Counter(int(m.group(1)) for c in calls if (m := MARKER.search(c.params["text"])))
    times = [c.at for c in calls]
    return Result(
        delivered=len(calls),
        seconds=max(times) - min(times) if times else 0.0,
        too_many=server.too_many_requests,
        lost=sum(1 for n in range(1, notices + 1) if counts[n] == 0),
        doubled=sum(n - 1 for n in counts.values() if n > 1),
        pending=pending,
        limit=PER_SECOND * scale,
    )


async def in_process(notices: int = NOTICES, chats: int = CHATS, scale: float = SCALE) -> Result:
    from tests.fakes.telegram_server import FakeTelegramServer

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'notify.sqlite3'}"
        await _queue(url, notices, chats)
        engine = create_engine(url)
        outbox = OutboxRepository(session_factory(engine))
        server = FakeTelegramServer(
            per_second=PER_SECOND, per_chat_seconds=PER_CHAT_SECONDS, scale=scale
        )
        await server.start()
        notifier, bot = build_notifier(outbox, server.url, scale)
        stop = asyncio.Event()
        worker = asyncio.create_task(notifier.run(stop))
        try:
            deadline = time.monotonic() + 120
            while await outbox.pending() and time.monotonic() < deadline:  # noqa: ASYNC110 - the database is what is watched
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await worker
            await bot.session.close()
            await server.close()
        pending = len(await outbox.pending())
        await engine.dispose()
        return _result(server, notices, pending, scale)


async def killed_halfway(
    notices: int = NOTICES, chats: int = CHATS, scale: float = SCALE
) -> tuple[Result, int]:
    """Run the worker in a subprocess, SIGKILL it at half, restart it; (result, kills)."""
    from tests.fakes.telegram_server import FakeTelegramServer

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'notify.sqlite3'}"
        await _queue(url, notices, chats)
        server = FakeTelegramServer(
            per_second=PER_SECOND, per_chat_seconds=PER_CHAT_SECONDS, scale=scale
        )
        await server.start()
        command = [
            sys.executable,
            "-m",
            "bench._notify_worker",
            url,
            server.url,
            str(scale),
            str(KILL_LEASE.total_seconds()),
        ]
        kills = 0
        try:
            first = await asyncio.create_subprocess_exec(*command, cwd=ROOT)
            deadline = time.monotonic() + 120
            while len(server.delivered()) < notices // 2 and time.monotonic() < deadline:
                if first.returncode is not None:
                    break
                await asyncio.sleep(0.005)
            if first.returncode is None:
                os.kill(first.pid, signal.SIGKILL)
                kills += 1
            await first.wait()
            second = await asyncio.create_subprocess_exec(*command, cwd=ROOT)
            await asyncio.wait_for(second.wait(), 180)
        finally:
            await server.close()
        engine = create_engine(url)
        pending = len(await OutboxRepository(session_factory(engine)).pending())
        await engine.dispose()
        return _result(server, notices, pending, scale), kills


def _line(label: str, r: Result) -> str:
    return (
        f"{label:<24} {r.delivered:>9} {r.seconds:>8.2f} {r.rate:>7.0f} "
        f"{100 * r.rate / r.limit:>7.1f}% {r.too_many:>5} {r.lost:>5} {r.doubled:>7} {r.pending:>7}"
    )


def run(notices: int = NOTICES, chats: int = CHATS, scale: float = SCALE) -> list[str]:
    steady = asyncio.run(in_process(notices, chats, scale))
    killed, kills = asyncio.run(killed_halfway(notices, chats, scale))
    limit = PER_SECOND * scale
    lines = [
        f"{notices} status notices over {chats} chats as notify:telegram outbox rows (SQLite), "
        f"through TelegramChannel.send (aiogram) to the fake Bot API server enforcing "
        f"Telegram's limits x{scale:g}: {limit:.0f} msg/s overall, "
        f"{1000 * PER_CHAT_SECONDS / scale:.0f} ms per chat (the pacer aims 5% under)",
        "",
        f"{'run':<24} {'delivered':>9} {'seconds':>8} {'msg/s':>7} {'of limit':>8} "
        f"{'429s':>5} {'lost':>5} {'doubled':>7} {'pending':>7}",
        _line("in process", steady),
        _line(f"SIGKILL at half ({kills}x)", killed),
        "",
        f"targets: rate ≥ 90% of the limit ({'met' if steady.rate >= 0.9 * limit else 'NOT met'}), "
        f"429s 0 ({'met' if steady.too_many == killed.too_many == 0 else 'NOT met'}), "
        f"lost 0 ({'met' if steady.lost == killed.lost == 0 else 'NOT met'}), "
        f"doubled 0 in process ({'met' if steady.doubled == 0 else 'NOT met'}); "
        f"after the kill {killed.doubled} doubled (only notices in flight at the kill can be)",
        "the kill run's rate includes the restart and the dead worker's lease "
        f"({KILL_LEASE.total_seconds():g} s) running out",
    ]
    return lines
