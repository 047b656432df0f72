"""Turn throughput and latency of the conversation service against aiogram 3 FSM bots, in one run.

Every system takes the same raw Telegram updates (dicts, as a webhook delivers them), each chat
filing a 6-field form (start, who files, 6 answers, submit: ``TURNS_PER_CHAT`` turns), timed
the same way in the same process:

- ours: ``handlers.telegram_updates.inbound_from_update`` (parse) and
  ``ConversationService.handle`` (lock, load, advance, compare-and-set save with every turn
  committed, effects, replies) on a fresh SQLite file (WAL, ``synchronous=FULL``) with the
  migrations applied, and on PostgreSQL when ``MOTCUA_BENCH_POSTGRES_URL`` is set. The synthetic
  procedure ``9.999999`` is added to the bundled catalogue. Each chat is driven from the
  replies it gets. A run must end with one dossier per finished chat, or it fails.
- aiogram: ``Update.model_validate`` (parse) and ``Dispatcher.feed_update`` with a Router whose
  FSM handlers ask the same questions and validate with the same ``dialogs`` rules, over three
  storages: a durable one that commits every ``set_state``/``set_data`` to SQLite (WAL,
  ``synchronous=FULL``, as ours) or PostgreSQL (bench/_aiogram_storage.py), the fair "simple
  durable bot"; and ``MemoryStorage``, which loses every chat on a restart (not durable). The
  Bot's session answers locally, without HTTP, so aiogram does a little less reply work than a
  live bot.

Two kinds of load:

- the burst: ``CONVERSATIONS`` chats at once, each sending its next turn as soon as the last
  is answered (closed loop);
- open loop (bench/_openloop.py): citizens arrive by a Poisson process at a stated offered
  load (turns/s in steady state) and think an exponential ``THINK_S`` on average between turns;
  a ladder of offered loads per system, stopped at the first whose p99 is over 100 ms. Printed:
  the achieved turns/s and p50/p99 of the turns sent after the warm-up, and the highest offered
  load sustained at p99 ≤ 100 ms.

Then, with ``MOTCUA_BENCH_POSTGRES_URL`` naming a database it may empty: 1, 2 and 4 worker
processes (bench/_turns_worker.py) on PostgreSQL, each a whole app driving its share of the
open-loop arrivals (a Poisson process split at random is Poisson again) and of the burst.

All run with the collector tuned as ``motcua run`` tunes it (``bot.runner.tune_gc``). Other
work on the machine skews every figure: the load average is printed beside each.

``python -m bench turns``.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.base import BaseSession
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)

from bench._aiogram_storage import PostgresStorage, SqliteStorage
from bench._machine import load_average
from bench._openloop import (
    P99_LIMIT_MS,
    Driver,
    Turn,
    Window,
    highest_sustained,
    open_loop,
    percentile,
    sustains,
    window,
)
from bot.app import Knowledge, build_app, office_store
from bot.config import settings_from_dict
from bot.runner import tune_gc
from dialogs import filing_answers as fa
from dialogs import validators as v
from dialogs.model import Reply
from dialogs.texts import filing as ftexts
from handlers.telegram_updates import inbound_from_update
from knowledge.catalogue import Catalogue, load_catalogue
from knowledge.model import FilingForm, FormField, Procedure
from knowledge.search import Searcher
from storage.db import create_engine, session_factory
from storage.dossiers import DossierQuery
from storage.migrate import downgrade, upgrade

CONVERSATIONS = 200  # the burst; 1,000 took minutes a system on the shared machine
CODE = "9.999999"
FIELDS = (
    FormField("ho_ten", "name", "Họ và tên người yêu cầu"),
    FormField("ngay_sinh", "date", "Ngày sinh của người yêu cầu"),
    FormField("so_dien_thoai", "phone", "Số điện thoại liên hệ"),
    FormField("noi_dung", "text", "Nội dung yêu cầu"),
    FormField("so_ban", "number", "Số bản cần cấp"),
    FormField("da_co_ban_chinh", "yes_no", "Ông/bà đã có bản chính chưa?"),
)
ANSWERS = {
    "name": "nguyễn văn an",
    "date": "01/02/1990",
    "phone": "0912 345 678",
    "text": "Xin cấp bản sao giấy tờ",
    "number": "2",
    "yes_no": "có",
}
PROCEDURE = Procedure(
    code=CODE,
    name="Thủ tục đo hiệu năng",
    field="Benchmark",
    form=FilingForm(fields=FIELDS),
    result_by_post=False,
)
SETTINGS = {
    "communes": [{"code": "10642", "name": "Xã Thái Tân", "province": "Thành phố Hải Phòng"}],
}
MAX_TURNS = 30  # a dialog that never reaches its review screen must not loop forever


TURNS_PER_CHAT = len(FIELDS) + 3  # start, who files, the answers, submit
TARGET_TURNS_PER_S = 2_000  # issue 12: sustained, p99 ≤ 100 ms, every turn durable


@dataclass(frozen=True, slots=True)
class Measured:
    """A burst: every chat at once, each turn sent as soon as the last was answered."""

    system: str
    conversations: int
    turns: int
    seconds: float
    latencies_ms: list[float]
    finished: int  # dossiers filed (ours) or chats that reached the end (aiogram)
    load: str = ""

    @property
    def per_second(self) -> float:
        return self.turns / self.seconds

    def percentile(self, share: float) -> float:
        return percentile(self.latencies_ms, share)


class _UpdateIds:
    def __init__(self, first: int = 1) -> None:
        # Telegram's update ids are the bot's, not a chat's: each worker of a run has its own
        # range, as updates from one bot never repeat an id.
        self._next = itertools.count(first)

    def message(self, chat: int, text: str) -> dict[str, Any]:
        update_id = next(self._next)
        return {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private"},
                "from": {"id": chat, "is_bot": False, "first_name": "An"},
                "text": text,
            },
        }

    def press(self, chat: int, data: str, label: str) -> dict[str, Any]:
        update_id = next(self._next)
        keyboard = [[{"text": label, "callback_data": data}]]
        return {
            "update_id": update_id,
            "callback_query": {
                "id": str(update_id),
                "from": {"id": chat, "is_bot": False, "first_name": "An"},
                "chat_instance": str(chat),
                "data": data,
                "message": {
                    "message_id": update_id,
                    "date": int(time.time()),
                    "chat": {"id": chat, "type": "private"},
                    "from": {"id": 42, "is_bot": True, "first_name": "Bot"},
                    "text": "…",
                    "reply_markup": {"inline_keyboard": keyboard},
                },
            },
        }


# --- ours -------------------------------------------------------------------------------------


def _next_update(
    ids: _UpdateIds, chat: int, replies: Sequence[Reply]
) -> tuple[dict[str, Any], bool]:
    """What the citizen does after ``replies``, and whether it submits the form."""
    for reply in reversed(replies):
        for button in reply.flat_buttons():
            if button.text == ftexts.BTN_SEND:
                return ids.press(chat, button.payload, button.text), True
            if button.text == ftexts.BTN_FOR_SELF:
                return ids.press(chat, button.payload, button.text), False
    asked = replies[-1].text if replies else ""
    for field in FIELDS:
        if field.label in asked:
            return ids.message(chat, ANSWERS[field.kind]), False
    raise RuntimeError(f"the filing dialog asked something unexpected: {asked!r}")


# --- aiogram ----------------------------------------------------------------------------------


class _Form(StatesGroup):
    filer = State()
    f0 = State()
    f1 = State()
    f2 = State()
    f3 = State()
    f4 = State()
    f5 = State()
    confirm = State()


_FIELD_STATES = (_Form.f0, _Form.f1, _Form.f2, _Form.f3, _Form.f4, _Form.f5)


class _OfflineSession(BaseSession):
    """Answers every Bot API call locally: SendMessage with a Message, anything else True."""

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        if isinstance(method, SendMessage):
            sent = Message(
                message_id=next(self._ids),
                date=datetime.now(UTC),
                chat=Chat(id=int(method.chat_id), type="private"),
                text=method.text,
                reply_markup=(
                    method.reply_markup
                    if isinstance(method.reply_markup, InlineKeyboardMarkup)
                    else None
                ),
            )
            return sent  # type: ignore[return-value]
        return True  # type: ignore[return-value]

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def close(self) -> None:
        return None


def _keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in buttons]
    )


def _aiogram_router(finished: set[int]) -> Router:
    router = Router()

    @router.callback_query(F.data == f"file:{CODE}")
    async def start(callback: CallbackQuery, state: FSMContext) -> None:
        assert isinstance(callback.message, Message)
        await state.set_state(_Form.filer)
        await callback.message.answer(
            ftexts.WHO_FILES,
            reply_markup=_keyboard((ftexts.BTN_FOR_SELF, "self"), (ftexts.BTN_FOR_OTHER, "other")),
        )

    @router.callback_query(StateFilter(_Form.filer), F.data == "self")
    async def for_self(callback: CallbackQuery, state: FSMContext) -> None:
        assert isinstance(callback.message, Message)
        await state.update_data(filer="self")
        await state.set_state(_FIELD_STATES[0])
        await callback.message.answer(FIELDS[0].label)

    @router.message(StateFilter(*_FIELD_STATES), F.text)
    async def answer(message: Message, state: FSMContext) -> None:
        current = await state.get_state()
        index = [s.state for s in _FIELD_STATES].index(current)
        field = FIELDS[index]
        data = await state.get_data()
        result = fa.check_answer(field, message.text or "", FIELDS, data, date.today())
        if isinstance(result, v.Invalid):
            await message.answer(result.message)
            return
        await state.update_data({field.name: {"value": result.value, "display": result.display}})
        if index + 1 < len(FIELDS):
            await state.set_state(_FIELD_STATES[index + 1])
            await message.answer(FIELDS[index + 1].label)
            return
        await state.set_state(_Form.confirm)
        data = await state.get_data()
        review = "\n".join(f"{f.label}: {data[f.name]['display']}" for f in FIELDS)
        await message.answer(
            review, reply_markup=_keyboard((ftexts.BTN_SEND, "send"), (ftexts.BTN_CANCEL, "no"))
        )

    @router.callback_query(StateFilter(_Form.confirm), F.data == "send")
    async def send(callback: CallbackQuery, state: FSMContext) -> None:
        assert isinstance(callback.message, Message)
        await state.clear()
        finished.add(callback.from_user.id)
        await callback.message.answer(ftexts.SENDING)

    return router


# --- the systems under test -------------------------------------------------------------------


class OursDriver:
    """Ours through the Telegram channel's parse and the conversation service. An update is
    ``(raw, submits, turns so far)``; the chat is done once the submit button was pressed."""

    def __init__(self, handle: Callable[[Any], Awaitable[Any]], ids: _UpdateIds) -> None:
        self._handle = handle
        self._ids = ids

    def first(self, chat: int) -> Any:
        return self._ids.press(chat, f"file:{CODE}", "Nộp hồ sơ"), False, 1

    async def turn(self, chat: int, update: Any) -> Any | None:
        raw, submits, turns = update
        inbound = inbound_from_update(raw, datetime.now(UTC))
        assert inbound is not None
        replies = (await self._handle(inbound)).replies
        if submits:
            return None
        if turns >= MAX_TURNS:
            raise RuntimeError(f"chat {chat} never reached the submit button")
        following, submits = _next_update(self._ids, chat, replies)
        return following, submits, turns + 1


class AiogramDriver:
    """The aiogram bot, fed the script a citizen follows: an update is ``(raw, step)``."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, ids: _UpdateIds) -> None:
        self._dispatcher = dispatcher
        self._bot = bot
        self._ids = ids

    def _script(self, chat: int, step: int) -> dict[str, Any]:
        if step == 0:
            return self._ids.press(chat, f"file:{CODE}", "Nộp hồ sơ")
        if step == 1:
            return self._ids.press(chat, "self", ftexts.BTN_FOR_SELF)
        if step < TURNS_PER_CHAT - 1:
            return self._ids.message(chat, ANSWERS[FIELDS[step - 2].kind])
        return self._ids.press(chat, "send", ftexts.BTN_SEND)

    def first(self, chat: int) -> Any:
        return self._script(chat, 0), 0

    async def turn(self, chat: int, update: Any) -> Any | None:
        raw, step = update
        parsed = Update.model_validate(raw, context={"bot": self._bot})
        await self._dispatcher.feed_update(self._bot, parsed)
        if step + 1 >= TURNS_PER_CHAT:
            return None
        return self._script(chat, step + 1), step + 1


@dataclass(frozen=True, slots=True)
class System:
    name: str
    durable: bool
    driver: Driver
    completed: Callable[[], Awaitable[int]]  # dossiers filed, or chats that pressed submit


async def _empty_postgres(url: str) -> None:
    await downgrade(url, "base")
    await upgrade(url)


@asynccontextmanager
async def ours(
    url: str, folder: Path, name: str, *, first_update: int = 1
) -> AsyncIterator[System]:
    """Our whole app on ``url`` (a fresh database: migrated here)."""
    settings = settings_from_dict(
        {
            **SETTINGS,
            "database": {"url": url},
            "files": {"path": str(folder / "files")},
            "flood": {"messages": 1000},
        }
    )
    catalogue = Catalogue([*load_catalogue().all(), PROCEDURE])
    async with build_app(settings, Knowledge(catalogue, Searcher(catalogue)), deliver=False) as app:

        async def filed() -> int:
            return await app.dossiers.count(DossierQuery())

        yield System(name, True, OursDriver(app.service.handle, _UpdateIds(first_update)), filed)


@asynccontextmanager
async def aiogram_bot(storage: BaseStorage, name: str, durable: bool) -> AsyncIterator[System]:
    finished: set[int] = set()
    dispatcher = Dispatcher(storage=storage)
    dispatcher.include_router(_aiogram_router(finished))
    bot = Bot("42:TEST", session=_OfflineSession())

    async def done() -> int:
        return len(finished)

    try:
        yield System(name, durable, AiogramDriver(dispatcher, bot, _UpdateIds()), done)
    finally:
        await bot.session.close()
        await storage.close()


SystemFactory = Callable[[], Any]  # () -> an async context manager of a System


def systems(folder: Path, postgres_url: str) -> list[tuple[str, SystemFactory]]:
    """Every system of the in-process runs, each on a database of its own."""
    found: list[tuple[str, SystemFactory]] = []
    counter = itertools.count()

    def fresh_sqlite() -> str:
        return f"sqlite+aiosqlite:///{folder / f'ours-{next(counter)}.sqlite3'}"

    @asynccontextmanager
    async def ours_sqlite() -> AsyncIterator[System]:
        url = fresh_sqlite()
        await upgrade(url)
        async with ours(url, folder, "ours (SQLite)") as system:
            yield system

    @asynccontextmanager
    async def aiogram_sqlite() -> AsyncIterator[System]:
        storage = await SqliteStorage.open(folder / f"aiogram-{next(counter)}.sqlite3")
        async with aiogram_bot(storage, "aiogram (SQLite)", True) as system:
            yield system

    @asynccontextmanager
    async def aiogram_memory() -> AsyncIterator[System]:
        async with aiogram_bot(MemoryStorage(), "aiogram (memory)", False) as system:
            yield system

    found += [
        ("ours (SQLite)", ours_sqlite),
        ("aiogram (SQLite)", aiogram_sqlite),
        ("aiogram (memory)", aiogram_memory),
    ]
    if postgres_url:

        @asynccontextmanager
        async def ours_postgres() -> AsyncIterator[System]:
            await _empty_postgres(postgres_url)
            async with ours(postgres_url, folder, "ours (PostgreSQL)") as system:
                yield system

        @asynccontextmanager
        async def aiogram_postgres() -> AsyncIterator[System]:
            storage = await PostgresStorage.open(postgres_url)
            async with aiogram_bot(storage, "aiogram (PostgreSQL)", True) as system:
                yield system

        found += [("ours (PostgreSQL)", ours_postgres), ("aiogram (PostgreSQL)", aiogram_postgres)]
    return found


# --- the burst --------------------------------------------------------------------------------


async def burst(system: System, conversations: int, first_chat: int = 1000) -> Measured:
    """``conversations`` chats at once, each turn sent when the last one was answered."""
    latencies: list[float] = []
    driver = system.driver

    async def conversation(chat: int) -> int:
        update: Any | None = driver.first(chat)
        turns = 0
        while update is not None:
            started = time.perf_counter()
            update = await driver.turn(chat, update)
            latencies.append((time.perf_counter() - started) * 1000)
            turns += 1
        return turns

    before = await system.completed()
    started = time.perf_counter()
    counts = await asyncio.gather(*(conversation(first_chat + i) for i in range(conversations)))
    seconds = time.perf_counter() - started
    finished = await system.completed() - before
    if finished != conversations:
        raise RuntimeError(f"{system.name} finished {finished} chats, not {conversations}")
    return Measured(
        system.name, conversations, sum(counts), seconds, latencies, finished, load_average()
    )


async def measure(conversations: int, folder: Path, postgres_url: str = "") -> list[Measured]:
    runs = []
    for _, factory in systems(folder, postgres_url):
        async with factory() as system:
            runs.append(await burst(system, conversations))
    return runs


# --- open loop --------------------------------------------------------------------------------

LEVELS = (100, 250, 500, 1_000, 2_000, 4_000)  # offered turns/s, climbed until p99 > 100 ms
OPEN_SECONDS = 5.0  # arrivals go on this long
WARMUP_S = 2.0  # turns sent before this are not measured: the chats open are still filling up
THINK_S = 0.2  # a citizen's mean pause between turns (short, so the steady state comes soon)


@dataclass(frozen=True, slots=True)
class Level:
    system: str
    durable: bool
    offered: float
    chats: int
    finished: int
    measured: Window
    cpu_ms: float  # this process's CPU time (every thread) over the run, per turn
    load: str


async def ladder(
    system: System,
    levels: Sequence[float] = LEVELS,
    *,
    seconds: float = OPEN_SECONDS,
    warmup: float = WARMUP_S,
    think_s: float = THINK_S,
    first_chat: int = 1_000_000,
) -> list[Level]:
    """Open-loop runs at each offered load in turn, until one is not sustained; every chat
    that finished must have filed (ours: one dossier each)."""
    results = []
    for n, offered in enumerate(levels):
        before = await system.completed()
        cpu = time.process_time()
        run = await open_loop(
            system.driver,
            offered,
            turns_per_chat=TURNS_PER_CHAT,
            seconds=seconds,
            warmup=warmup,
            think_s=think_s,
            first_chat=first_chat + n * 100_000,
            seed=n + 1,
        )
        cpu = time.process_time() - cpu
        filed = await system.completed() - before
        if filed != run.finished:
            raise RuntimeError(f"{system.name} at {offered}/s: {filed} filed, {run.finished} done")
        results.append(
            Level(
                system.name,
                system.durable,
                offered,
                run.chats,
                run.finished,
                run.measured,
                cpu * 1000 / len(run.turns),
                load_average(),
            )
        )
        if not sustains(run.measured):
            break
    return results


class NullDriver:
    """Answers every turn at once: what the load generator costs by itself."""

    def __init__(self) -> None:
        self.finished = 0

    def first(self, chat: int) -> Any:
        return 0

    async def turn(self, chat: int, update: Any) -> Any | None:
        if update + 1 < TURNS_PER_CHAT:
            return update + 1
        self.finished += 1
        return None


async def measure_open(
    folder: Path, postgres_url: str = "", levels: Sequence[float] = LEVELS, **kwargs: Any
) -> list[Level]:
    """The load generator alone at the target load, then each system's ladder."""
    null = NullDriver()

    async def finished() -> int:
        return null.finished

    generator = System("(load generator alone)", False, null, finished)
    results = await ladder(generator, [TARGET_TURNS_PER_S], **kwargs)
    for _, factory in systems(folder, postgres_url):
        async with factory() as system:
            results += await ladder(system, levels, **kwargs)
    return results


def open_report(levels: Sequence[Level]) -> list[str]:
    lines = [
        "",
        f"open loop: Poisson arrivals for {OPEN_SECONDS:.0f} s at each offered load (turns/s in "
        f"steady state), citizens thinking {THINK_S * 1000:.0f} ms on average between turns; "
        f"measured: the turns sent after {WARMUP_S:.0f} s (p99 over them, each timed from when "
        f"its citizen sent it); the ladder stops at the first load whose p99 > "
        f"{P99_LIMIT_MS:.0f} ms; CPU ms/turn: this process's CPU (the load generator's "
        "included, PostgreSQL's server not) over the run, per turn",
        f"{'system':<22} {'durable':<7} {'offered/s':>9} {'achieved/s':>10} {'turns':>6} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'ok':<3} {'CPU ms/turn':>11} {'load':>8}",
    ]
    for r in levels:
        m = r.measured
        durable = "-" if r.system.startswith("(") else "yes" if r.durable else "NO"
        lines.append(
            f"{r.system:<22} {durable:<7} {r.offered:>9.0f} "
            f"{m.achieved:>10.0f} {m.turns:>6} {m.p50_ms:>8.1f} {m.p99_ms:>8.1f} "
            f"{'yes' if sustains(m) else 'no':<3} {r.cpu_ms:>11.2f} {r.load:>8}"
        )
    lines += ["", f"highest offered load sustained at p99 ≤ {P99_LIMIT_MS:.0f} ms:"]
    for name in dict.fromkeys(r.system for r in levels if not r.system.startswith("(")):
        mine = [(r.offered, r.measured) for r in levels if r.system == name]
        best = highest_sustained(mine)
        tried = max(o for o, _ in mine)
        said = f"{best:.0f} turns/s" if best is not None else f"none (not even {mine[0][0]:.0f})"
        if best is not None and best == tried:
            said += " (the highest tried)"
        lines.append(f"  {name:<22} {said}")
    ours_best = [
        highest_sustained([(r.offered, r.measured) for r in levels if r.system == name]) or 0
        for name in dict.fromkeys(r.system for r in levels if r.system.startswith("ours"))
    ]
    met = any(b >= TARGET_TURNS_PER_S for b in ours_best)
    lines.append(
        f"target: {TARGET_TURNS_PER_S} turns/s sustained at p99 ≤ {P99_LIMIT_MS:.0f} ms, every "
        f"turn durable, in one process: {'met' if met else 'NOT met'}"
    )
    return lines


# --- several workers on PostgreSQL -------------------------------------------------------------

ROOT = str(Path(__file__).resolve().parent.parent)
POSTGRES_ENV = "MOTCUA_BENCH_POSTGRES_URL"  # a database the bench may empty
WORKER_COUNTS = (1, 2, 4)
WORKER_LEVELS = (100, 250, 500, 1_000, 2_000)  # offered turns/s for all the workers together
BURST_CHATS = 200


@dataclass(frozen=True, slots=True)
class WorkersRun:
    workers: int
    mode: str  # "open" or "burst"
    offered: float  # turns/s offered (open loop); 0 for the burst
    turns: int
    per_second: float  # achieved: in the measured window (open loop), over the run (burst)
    p50_ms: float
    p99_ms: float
    filed: int
    finished: int  # chats that sent their last turn
    cpu_ms: float  # the workers' CPU time over the run, per turn (PostgreSQL's not counted)
    load: str


class _Workers:
    """``workers`` bench worker processes, each a whole app on ``url``, taking jobs."""

    def __init__(self, url: str, workers: int, folder: Path) -> None:
        self._url = url
        self._count = workers
        self._folder = folder
        self._processes: list[asyncio.subprocess.Process] = []

    async def __aenter__(self) -> _Workers:
        env = {**os.environ, "PYTHONPATH": ROOT}
        for index in range(self._count):
            self._processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bench._turns_worker",
                    self._url,
                    str(self._folder / "files"),
                    str(index + 1),
                    env=env,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    limit=1 << 26,  # a result is one long line: every turn's times
                )
            )
        for process in self._processes:
            assert process.stdout is not None
            ready = await process.stdout.readline()
            if ready != b"ready\n":
                raise RuntimeError(f"a bench worker did not start: {ready!r}")
        return self

    async def __aexit__(self, *_: object) -> None:
        for process in self._processes:
            if process.stdin is not None:
                process.stdin.close()
        for process in self._processes:
            await process.wait()

    async def job(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        """The same job to every worker (each its own ``n``), started at one moment."""
        start_at = time.time() + 0.5
        for n, process in enumerate(self._processes):
            assert process.stdin is not None
            line = {**job, "n": n, "workers": self._count, "start_at": start_at}
            process.stdin.write((json.dumps(line) + "\n").encode())
            await process.stdin.drain()
        results = []
        for process in self._processes:
            assert process.stdout is not None
            answer = await process.stdout.readline()
            if not answer:
                raise RuntimeError("a bench worker died")
            results.append(json.loads(answer))
        return results


def _cpu_per_turn(results: Sequence[dict[str, Any]]) -> float:
    turns = sum(len(r["turns"]) for r in results)
    return sum(r["cpu_s"] for r in results) * 1000 / max(turns, 1)


async def _filed(url: str) -> int:
    engine = create_engine(url)
    try:
        dossiers = office_store(settings_from_dict(SETTINGS), session_factory(engine))
        return await dossiers.count(DossierQuery())
    finally:
        await engine.dispose()


async def run_workers(
    url: str,
    workers: int,
    folder: Path,
    *,
    levels: Sequence[float] = WORKER_LEVELS,
    seconds: float = OPEN_SECONDS,
    warmup: float = WARMUP_S,
    think_s: float = THINK_S,
    burst_chats: int = BURST_CHATS,
) -> list[WorkersRun]:
    """On a freshly emptied database: the open-loop ladder (until p99 > 100 ms), then the
    burst. Each worker takes its share of the arrivals: a Poisson process of rate/N, as a
    load balancer that sends each new chat to a random worker makes."""
    await _empty_postgres(url)
    runs = []
    async with _Workers(url, workers, folder) as pool:
        for level, offered in enumerate(levels):
            before = await _filed(url)
            results = await pool.job(
                {
                    "mode": "open",
                    "offered": offered / workers,
                    "seconds": seconds,
                    "warmup": warmup,
                    "think_s": think_s,
                    "first_chat": 1_000_000 * (level + 1),
                    "seed": level + 1,
                }
            )
            turns = [Turn(d, e) for r in results for d, e in r["turns"]]
            measured = window(turns, warmup, seconds)
            finished = sum(r["finished"] for r in results)
            filed = await _filed(url) - before
            runs.append(
                WorkersRun(
                    workers,
                    "open",
                    offered,
                    measured.turns,
                    measured.achieved,
                    measured.p50_ms,
                    measured.p99_ms,
                    filed,
                    finished,
                    _cpu_per_turn(results),
                    load_average(),
                )
            )
            if not sustains(measured):
                break
        before = await _filed(url)
        results = await pool.job({"mode": "burst", "chats": burst_chats, "first_chat": 10})
    turns = [Turn(d, e) for r in results for d, e in r["turns"]]
    latencies = [(t.done - t.due) * 1000 for t in turns]
    span = max(t.done for t in turns) - min(t.due for t in turns)
    runs.append(
        WorkersRun(
            workers,
            "burst",
            0.0,
            len(turns),
            len(turns) / span,
            percentile(latencies, 0.5),
            percentile(latencies, 0.99),
            await _filed(url) - before,
            sum(r["finished"] for r in results),
            _cpu_per_turn(results),
            load_average(),
        )
    )
    return runs


async def measure_workers(
    url: str, counts: Sequence[int] = WORKER_COUNTS, **kwargs: Any
) -> list[WorkersRun]:
    runs = []
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as folder:
        for workers in counts:
            runs += await run_workers(url, workers, Path(folder), **kwargs)
    for r in runs:
        if r.filed != r.finished:
            raise RuntimeError(
                f"{r.workers} workers ({r.mode}): {r.filed} dossiers for {r.finished} chats"
            )
    return runs


def workers_report(runs: Sequence[WorkersRun]) -> list[str]:
    lines = [
        "",
        f"several workers on PostgreSQL ({os.cpu_count()} CPUs), each worker a whole app "
        "driving its share of the chats: open loop as above (offered = all workers together), "
        f"then a burst of {BURST_CHATS} chats at once",
        f"{'workers':>7} {'mode':<6} {'offered/s':>9} {'achieved/s':>10} {'turns':>6} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'filed':>6} {'CPU ms/turn':>11} {'load':>8}",
    ]
    for r in runs:
        offered = f"{r.offered:.0f}" if r.offered else "-"
        lines.append(
            f"{r.workers:>7} {r.mode:<6} {offered:>9} {r.per_second:>10.0f} {r.turns:>6} "
            f"{r.p50_ms:>8.1f} {r.p99_ms:>8.1f} {r.filed:>6} {r.cpu_ms:>11.2f} {r.load:>8}"
        )
    lines.append(f"highest offered load sustained at p99 ≤ {P99_LIMIT_MS:.0f} ms:")
    for count in dict.fromkeys(r.workers for r in runs):
        mine = [r for r in runs if r.workers == count and r.mode == "open"]
        passing = [r.offered for r in mine if r.p99_ms <= P99_LIMIT_MS]
        said = f"{max(passing):.0f} turns/s" if passing else f"none (not {mine[0].offered:.0f})"
        lines.append(f"  {count} worker(s): {said}")
    return lines


# --- report -----------------------------------------------------------------------------------


def run(conversations: int = CONVERSATIONS) -> list[str]:
    before = gc.get_threshold()
    tune_gc()
    try:
        return _run(conversations)
    finally:  # the other benchmarks in this process measure with the default collector
        gc.set_threshold(*before)
        gc.unfreeze()


def _run(conversations: int) -> list[str]:
    url = os.environ.get(POSTGRES_ENV, "")
    lines = [f"load average at the start: {load_average()} ({os.cpu_count()} CPUs)"]
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as folder:
        lines += burst_report(asyncio.run(measure(conversations, Path(folder), url)))
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as folder:
        lines += open_report(asyncio.run(measure_open(Path(folder), url)))
    if not url:
        return [*lines, "", f"several workers on PostgreSQL: not run (set {POSTGRES_ENV})"]
    return [*lines, *workers_report(asyncio.run(measure_workers(url)))]


def burst_report(runs: Sequence[Measured]) -> list[str]:
    conversations = runs[0].conversations
    lines = [
        f"burst: {conversations} concurrent chats each filing a {len(FIELDS)}-field form "
        "(start, who files, 6 answers, submit); same raw Telegram updates for all",
        f"{'system':<22} {'durable':<7} {'turns':>6} {'seconds':>8} {'turns/s':>8} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'load':>8}",
    ]
    for m in runs:
        durable = "NO" if "memory" in m.system else "yes"
        lines.append(
            f"{m.system:<22} {durable:<7} {m.turns:>6} {m.seconds:>8.2f} {m.per_second:>8.0f} "
            f"{statistics.median(m.latencies_ms):>8.1f} {m.percentile(0.99):>8.1f} {m.load:>8}"
        )
    by_name = {m.system: m for m in runs}
    for ours_name, base in (
        ("ours (SQLite)", "aiogram (SQLite)"),
        ("ours (SQLite)", "aiogram (memory)"),
        ("ours (PostgreSQL)", "aiogram (PostgreSQL)"),
    ):
        if ours_name in by_name and base in by_name:
            ratio = by_name[ours_name].per_second / by_name[base].per_second
            lines.append(f"ratio: {ours_name} / {base} = {ratio:.3g}x")
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
