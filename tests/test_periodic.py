"""A periodic job (draft reminders, housekeeping) runs in one worker each round, whichever;
when that worker dies another takes it over. Before, every worker ran every job: two workers
could each send a villager the same draft reminder."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from bot.periodic import run_claimed
from storage.db import create_engine, session_factory
from storage.leases import LeaseRepository
from storage.migrate import upgrade

INTERVAL = 0.05
HOLD = 1.0  # seconds: far more than a loaded machine stalls a round


async def test_one_worker_runs_each_round_and_another_takes_over_when_it_dies(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/jobs.sqlite3"
    await upgrade(url)
    engine = create_engine(url)
    leases = LeaseRepository(session_factory(engine))
    runs: list[str] = []

    def worker(name: str, stop: asyncio.Event) -> asyncio.Task[None]:
        async def job() -> None:
            runs.append(name)

        return asyncio.create_task(
            run_claimed(
                "draft-reminders",
                job,
                stop,
                leases=leases,
                owner=name,
                clock=lambda: datetime.now(UTC),
                interval=INTERVAL,
                hold=HOLD,
            )
        )

    try:
        stop_a, stop_b = asyncio.Event(), asyncio.Event()
        a = worker("a", stop_a)
        await asyncio.sleep(INTERVAL / 2)
        b = worker("b", stop_b)
        await asyncio.sleep(INTERVAL * 10)
        assert set(runs) == {"a"}  # b asked every round and never got it
        assert len(runs) >= 5

        stop_a.set()
        await a  # a dies (stops renewing)
        runs.clear()
        await asyncio.sleep(HOLD + INTERVAL * 8)
        assert set(runs) == {"b"} and len(runs) >= 3
        stop_b.set()
        await b
    finally:
        await engine.dispose()
