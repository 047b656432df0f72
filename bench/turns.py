"""Turn throughput of the conversation service against an aiogram 3 FSM form, in one run.

Both systems take the same raw Telegram updates (dicts, as a webhook delivers them) for
``CONVERSATIONS`` concurrent chats, each filing a 6-field form, and are timed the same way.

- ours: ``handlers.telegram.inbound_from_update`` (parse) and ``ConversationService.handle``
  (lock, load, advance, save with every turn committed, effects, replies) on a fresh SQLite
  file with the migrations applied. The synthetic procedure ``9.999999`` is added to the
  bundled catalogue. Each conversation is driven generically from the replies it gets: the
  "for myself" button, then the answer to whichever field is asked, then the submit button.
  The run must end with one dossier per conversation, or it fails.
- aiogram: ``Update.model_validate(raw, context={"bot": bot})`` (parse) and
  ``Dispatcher.feed_update`` with ``MemoryStorage`` and a Router whose FSM handlers ask the
  same questions, validate with the same ``dialogs`` rules and answer with
  ``message.answer``. The Bot's session returns a built ``Message`` without any HTTP or
  serialisation, so the baseline does a little less reply work than a live bot.

Both run in one process with the collector tuned as ``motcua run`` tunes it
(``bot.runner.tune_gc``); that setting speeds both up alike.

Then, with ``MOTCUA_BENCH_POSTGRES_URL`` naming a database it may empty: 1, 2 and 4 worker
processes (bench/_turns_worker.py) on PostgreSQL, each a whole app, with open-loop arrivals
(Poisson, citizens thinking between turns; each turn timed from when it was sent) and with
the all-at-once burst.

``python -m bench turns``.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.base import BaseSession
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
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

CONVERSATIONS = 1_000
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


@dataclass(frozen=True, slots=True)
class Measured:
    system: str
    conversations: int
    turns: int
    seconds: float
    latencies_ms: list[float]
    finished: int  # dossiers filed (ours) or chats that reached the end (aiogram)

    @property
    def per_second(self) -> float:
        return self.turns / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


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


def _timed(latencies: list[float]) -> Callable[[Awaitable[Any]], Awaitable[Any]]:
    async def timed(work: Awaitable[Any]) -> Any:
        started = time.perf_counter()
        result = await work
        latencies.append((time.perf_counter() - started) * 1000)
        return result

    return timed


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


async def run_ours(conversations: int, folder: Path) -> Measured:
    url = f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    await upgrade(url)
    settings = settings_from_dict(
        {**SETTINGS, "database": {"url": url}, "files": {"path": str(folder / "files")}}
    )
    catalogue = Catalogue([*load_catalogue().all(), PROCEDURE])
    ids = _UpdateIds()
    latencies: list[float] = []
    timed = _timed(latencies)
    async with build_app(settings, Knowledge(catalogue, Searcher(catalogue)), deliver=False) as app:

        async def conversation(chat: int) -> int:
            update, submits = ids.press(chat, f"file:{CODE}", "Nộp hồ sơ"), False
            for turns in range(1, MAX_TURNS + 1):

                async def turn(raw: dict[str, Any]) -> tuple[Reply, ...]:
                    inbound = inbound_from_update(raw, datetime.now(UTC))
                    assert inbound is not None
                    return (await app.service.handle(inbound)).replies

                replies = await timed(turn(update))
                if submits:
                    return turns
                update, submits = _next_update(ids, chat, replies)
            raise RuntimeError(f"chat {chat} never reached the submit button")

        started = time.perf_counter()
        counts = await asyncio.gather(*(conversation(1000 + i) for i in range(conversations)))
        seconds = time.perf_counter() - started
        # Every dossier, not the first page of a list (100 by default).
        filed = len(await app.dossiers.list(DossierQuery(limit=conversations + 1)))
    return Measured("ours (SQLite)", conversations, sum(counts), seconds, latencies, filed)


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


async def run_aiogram(conversations: int) -> Measured:
    finished: set[int] = set()
    dispatcher = Dispatcher(storage=MemoryStorage())
    dispatcher.include_router(_aiogram_router(finished))
    bot = Bot("42:TEST", session=_OfflineSession())
    ids = _UpdateIds()
    latencies: list[float] = []
    timed = _timed(latencies)

    async def turn(raw: dict[str, Any]) -> None:
        await dispatcher.feed_update(bot, Update.model_validate(raw, context={"bot": bot}))

    async def conversation(chat: int) -> int:
        script = [
            ids.press(chat, f"file:{CODE}", "Nộp hồ sơ"),
            ids.press(chat, "self", ftexts.BTN_FOR_SELF),
            *(ids.message(chat, ANSWERS[f.kind]) for f in FIELDS),
            ids.press(chat, "send", ftexts.BTN_SEND),
        ]
        for update in script:
            await timed(turn(update))
        return len(script)

    started = time.perf_counter()
    counts = await asyncio.gather(*(conversation(1000 + i) for i in range(conversations)))
    seconds = time.perf_counter() - started
    await bot.session.close()
    return Measured(
        "aiogram FSM (memory)", conversations, sum(counts), seconds, latencies, len(finished)
    )


# --- several workers on PostgreSQL -------------------------------------------------------------

ROOT = str(Path(__file__).resolve().parent.parent)
POSTGRES_ENV = "MOTCUA_BENCH_POSTGRES_URL"  # a database the bench may empty
WORKER_COUNTS = (1, 2, 4)
# Chats arrive at this rate times 1/TURNS_PER_CHAT per second: the turn rate they would offer
# once as many chats start as finish. Runs are shorter than that: the offered load printed is
# the peak one, the chats open at once divided by the think time.
OPEN_LOOP_TURNS_PER_S = 600
OPEN_LOOP_SECONDS = 10.0  # arrivals go on this long
THINK_S = 2.0  # a citizen's mean pause between turns
BURST_CHATS = 1_000
TURNS_PER_CHAT = len(FIELDS) + 3  # start, who files, the answers, submit


@dataclass(frozen=True, slots=True)
class WorkersRun:
    workers: int
    mode: str  # "open" or "burst"
    offered: float  # turns/s offered (open loop); 0 for the burst
    turns: int
    seconds: float
    latencies_ms: list[float]
    filed: int

    @property
    def per_second(self) -> float:
        return self.turns / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def arrivals(offered: float, seconds: float, seed: int = 7) -> list[float]:
    """Conversation start times (s) of a Poisson process offering ``offered`` turns/s."""
    rng = random.Random(seed)
    rate = offered / TURNS_PER_CHAT  # conversations per second
    times: list[float] = []
    t = rng.expovariate(rate)
    while t < seconds:
        times.append(t)
        t += rng.expovariate(rate)
    return times


async def run_workers(
    url: str, workers: int, starts: Sequence[float], think_s: float, folder: Path
) -> WorkersRun:
    """``workers`` processes on a freshly emptied database; chat ``i`` starts at ``starts[i]``
    on worker ``i mod workers`` (a load balancer that keeps a chat on one worker: Telegram's
    webhook is one connection per chat's update stream only by chance, so this is the kind
    case; the two-process tests cover the other)."""
    await downgrade(url, "base")
    await upgrade(url)
    env = {**os.environ, "PYTHONPATH": ROOT}
    processes = []
    for _ in range(workers):
        processes.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench._turns_worker",
                url,
                str(folder / "files"),
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=1 << 26,  # the result is one long line: every turn's latency
            )
        )
    try:
        for process in processes:
            assert process.stdout is not None
            ready = await process.stdout.readline()
            if ready != b"ready\n":
                raise RuntimeError(f"a bench worker did not start: {ready!r}")
        start_at = time.time() + 1.0
        for n, process in enumerate(processes):
            chats = [[1000 + i, starts[i]] for i in range(n, len(starts), workers)]
            job = {"start_at": start_at, "chats": chats, "think_s": think_s, "seed": n + 1}
            assert process.stdin is not None
            process.stdin.write((json.dumps(job) + "\n").encode())
            await process.stdin.drain()
        results = []
        for process in processes:
            assert process.stdout is not None
            results.append(json.loads(await process.stdout.readline()))
    finally:
        for process in processes:
            if process.stdin is not None:
                process.stdin.close()
            await process.wait()
    engine = create_engine(url)
    try:
        dossiers = office_store(settings_from_dict(SETTINGS), session_factory(engine))
        filed = len(await dossiers.list(DossierQuery(limit=len(starts) + 1)))
    finally:
        await engine.dispose()
    latencies = [x for r in results for x in r["latencies_ms"]]
    seconds = max(r["last"] for r in results) - min(r["first"] for r in results)
    # What the open chats would send if every answer were instant: at the peak, every chat
    # that has arrived and not finished sends a turn per think time.
    rate = len(starts) / max(starts[-1], 1e-9)
    peak_open = min(len(starts), rate * (TURNS_PER_CHAT - 1) * think_s)
    offered = peak_open / think_s if think_s else 0.0
    return WorkersRun(
        workers,
        "open" if think_s else "burst",
        offered,
        sum(r["turns"] for r in results),
        seconds,
        latencies,
        filed,
    )


async def measure_workers(
    url: str,
    counts: Sequence[int] = WORKER_COUNTS,
    *,
    offered: float = OPEN_LOOP_TURNS_PER_S,
    open_seconds: float = OPEN_LOOP_SECONDS,
    burst_chats: int = BURST_CHATS,
    think_s: float = THINK_S,
) -> list[WorkersRun]:
    runs = []
    starts = arrivals(offered, open_seconds)
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as folder:
        for workers in counts:
            runs.append(await run_workers(url, workers, starts, think_s, Path(folder)))
            runs.append(await run_workers(url, workers, [0.0] * burst_chats, 0.0, Path(folder)))
    for r in runs:
        expected = len(starts) if r.mode == "open" else burst_chats
        if r.filed != expected:
            raise RuntimeError(f"{r.workers} workers ({r.mode}) filed {r.filed}, not {expected}")
    return runs


def workers_report(runs: Sequence[WorkersRun]) -> list[str]:
    lines = [
        "",
        f"several workers on PostgreSQL ({os.cpu_count()} CPUs): open loop = Poisson arrivals "
        f"of {OPEN_LOOP_TURNS_PER_S / TURNS_PER_CHAT:.0f} chats/s for {OPEN_LOOP_SECONDS:.0f} s, "
        f"citizens thinking {THINK_S:.0f} s on average between turns (offered = the peak rate "
        f"the open chats send); burst = {BURST_CHATS} chats at once",
        f"{'workers':>7} {'mode':<6} {'offered/s':>9} {'turns':>6} {'seconds':>8} "
        f"{'turns/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'filed':>6}",
    ]
    for r in runs:
        offered = f"{r.offered:.0f}" if r.offered else "-"
        lines.append(
            f"{r.workers:>7} {r.mode:<6} {offered:>9} {r.turns:>6} {r.seconds:>8.2f} "
            f"{r.per_second:>8.0f} {statistics.median(r.latencies_ms):>8.1f} "
            f"{r.percentile(0.99):>8.1f} {r.filed:>6}"
        )
    return lines


# --- report -----------------------------------------------------------------------------------


async def measure(conversations: int) -> tuple[Measured, Measured]:
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as folder:
        ours = await run_ours(conversations, Path(folder))
    baseline = await run_aiogram(conversations)
    return ours, baseline


def run(conversations: int = CONVERSATIONS) -> list[str]:
    before = gc.get_threshold()
    tune_gc()
    try:
        return _run(conversations)
    finally:  # the other benchmarks in this process measure with the default collector
        gc.set_threshold(*before)
        gc.unfreeze()


def _run(conversations: int) -> list[str]:
    lines = _run_one_process(conversations)
    url = os.environ.get(POSTGRES_ENV, "")
    if not url:
        return [*lines, "", f"several workers on PostgreSQL: not run (set {POSTGRES_ENV})"]
    return [*lines, *workers_report(asyncio.run(measure_workers(url)))]


def _run_one_process(conversations: int) -> list[str]:
    try:
        ours, baseline = asyncio.run(measure(conversations))
    except Exception as exc:  # a failed run is a result too: say how it failed, plainly
        baseline = asyncio.run(run_aiogram(conversations))
        return [
            f"ours FAILED with {conversations} concurrent chats: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0]}",
            f"aiogram FSM (memory): {baseline.turns} turns in {baseline.seconds:.2f} s = "
            f"{baseline.per_second:.0f} turns/s, p50 {statistics.median(baseline.latencies_ms):.1f}"
            f" ms, p99 {baseline.percentile(0.99):.1f} ms; {baseline.finished} chats finished",
            "ratio: ours / aiogram = n/a (target ≥ 3x: NOT met)",
        ]
    if ours.finished != conversations:
        raise RuntimeError(f"ours filed {ours.finished} dossiers, not {conversations}")
    if baseline.finished != conversations:
        raise RuntimeError(f"aiogram finished {baseline.finished} chats, not {conversations}")
    lines = [
        f"{conversations} concurrent chats each filing a {len(FIELDS)}-field form "
        "(start, who files, 6 answers, submit); same raw Telegram updates for both",
        "",
        f"{'system':<22} {'convs':>6} {'turns':>6} {'seconds':>8} {'turns/s':>8} "
        f"{'p50 ms':>8} {'p99 ms':>8}",
    ]
    for m in (ours, baseline):
        lines.append(
            f"{m.system:<22} {m.conversations:>6} {m.turns:>6} {m.seconds:>8.2f} "
            f"{m.per_second:>8.0f} {statistics.median(m.latencies_ms):>8.1f} "
            f"{m.percentile(0.99):>8.1f}"
        )
    ratio = ours.per_second / baseline.per_second
    verdict = "met" if ratio >= 3 else ("NOT met: ours is slower" if ratio < 1 else "NOT met")
    lines += [
        "",
        f"ratio: ours / aiogram = {ratio:.3g}x (target ≥ 3x: {verdict})",
        f"dossiers filed by ours: {ours.finished}; aiogram chats finished: {baseline.finished}",
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
