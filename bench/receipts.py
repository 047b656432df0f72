"""Ordinary turns during a burst of filings: receipts drawn in a thread against a process pool.

Drawing a receipt (slip, declaration, QR) is about 0.3 s of Python CPU. In a thread it holds the
interpreter lock, so every conversation of the worker waits behind it; in the process pool
(``bot.receipts.drawing_pool``) it does not. One app on a fresh SQLite file: ``FILINGS``
dossiers are filed at once and their receipts drawn as the courier draws them (one after the
other), while ``CHATS`` citizens keep asking the menu, one turn after another. Printed per
mode: filings drawn per second, and p50/p99 of the ordinary turns taken while drawing went on.

``python -m bench receipts``.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench._machine import load_average
from bench._openloop import percentile
from bot.app import build_app, load_knowledge
from bot.config import settings_from_dict
from bot.receipts import ReceiptMaker, drawing_pool
from bot.runner import tune_gc
from dialogs.model import ConversationKey, Inbound, SubmitDossier
from storage.migrate import upgrade

FILINGS = 24
CHATS = 20
SETTINGS = {
    "communes": [{"code": "10642", "name": "Xã Thái Tân", "province": "Thành phố Hải Phòng"}],
    "flood": {"messages": 1000},
}


async def _measure(pooled: bool, folder: Path) -> tuple[float, list[float], int]:
    url = f"sqlite+aiosqlite:///{folder / ('pool' if pooled else 'thread')}.sqlite3"
    await upgrade(url)
    settings = settings_from_dict(
        {**SETTINGS, "database": {"url": url}, "files": {"path": str(folder / "files")}}
    )
    knowledge = load_knowledge()
    async with build_app(settings, knowledge, deliver=False) as app:
        dossiers = []
        for n in range(FILINGS):
            key = ConversationKey("terminal", f"f{n}", f"f{n}")
            submission = SubmitDossier(
                submission_key=f"bench-{n}",
                procedure_code="1.004873",
                commune_code="10642",
                fields={"requester_name": "Lê Văn Tám", "phone": "0987654321"},
                files=(),
                filer={"for_self": True, "relation": "", "phone": "0987654321"},
                result_delivery="counter",
            )
            inbound = Inbound(key=key, message_id=f"m{n}", received_at=datetime.now(UTC))
            await app.effects(inbound, submission)
            dossier = await app.dossiers.by_submission_key(f"bench-{n}")
            assert dossier is not None
            dossiers.append(dossier)
        pool = drawing_pool(settings) if pooled else None
        maker = ReceiptMaker(settings, knowledge.catalogue, pool=pool)
        try:
            if pool is not None:  # started before the clock runs, as a server's is by then
                await maker.documents(dossiers[0])
            drawing = True
            latencies: list[float] = []

            async def citizen(n: int) -> None:
                key = ConversationKey("terminal", f"c{n}", f"c{n}")
                turn = 0
                while drawing:
                    turn += 1
                    started = time.perf_counter()
                    await app.service.handle(
                        Inbound(key, f"c{n}-{turn}", datetime.now(UTC), text="menu")
                    )
                    if drawing:
                        latencies.append((time.perf_counter() - started) * 1000)

            chats = [asyncio.create_task(citizen(n)) for n in range(CHATS)]
            await asyncio.sleep(0.5)  # the citizens are chatting when the filings come
            started = time.perf_counter()
            for dossier in dossiers:  # as the courier does: one after the other
                assert await maker.documents(dossier) is not None
            seconds = time.perf_counter() - started
            drawing = False
            await asyncio.gather(*chats)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
    return FILINGS / seconds, latencies, len(latencies)


def run() -> list[str]:
    tune_gc()
    lines = [
        f"{FILINGS} receipts drawn one after another while {CHATS} citizens chat (menu turns)",
        f"{'drawing in':<14} {'filings/s':>9} {'turns':>6} {'p50 ms':>8} {'p99 ms':>8} {'load':>8}",
    ]
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as folder:
        for pooled in (False, True):
            rate, latencies, turns = asyncio.run(_measure(pooled, Path(folder)))
            lines.append(
                f"{'process pool' if pooled else 'a thread':<14} {rate:>9.2f} {turns:>6} "
                f"{statistics.median(latencies):>8.1f} {percentile(latencies, 0.99):>8.1f} "
                f"{load_average():>8}"
            )
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
