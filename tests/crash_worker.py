"""The citizen side for tests/test_crash_safety.py: files N dossiers and delivers them.

Run as ``python -m tests.crash_worker DATABASE_URL OFFICE_URL TOKEN N``. Every start files the
same N submission keys again (a restarted bot replaying what it was doing) while the outbox
worker delivers over HTTP; it prints ``ready`` once it starts working and ``done`` when no
delivery is left. The test kills it at random moments in between.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

from backoffice.client import HttpBackOffice
from bot.outbox import OutboxWorker
from dialogs.model import ConversationKey
from storage.db import create_engine, session_factory
from storage.dossiers import DossierRepository, NewDossier
from storage.outbox import DELIVER_DOSSIER, OutboxRepository

AGENCY = "000.00.31.H26"


def submission_keys(n: int) -> list[str]:
    return [f"crash-{i:04d}" for i in range(n)]


def now() -> datetime:
    return datetime.now(UTC)


async def main(database_url: str, office_url: str, token: str, n: int) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    dossiers = DossierRepository(sessions)
    outbox = OutboxRepository(sessions)
    async with HttpBackOffice(office_url, token, timeout=1.0) as client:
        worker = OutboxWorker(
            outbox,
            dossiers,
            client,
            now,
            batch=5,
            # Short, so that rows claimed by a killed worker come back within the test.
            lease=timedelta(seconds=2),
            base_backoff=timedelta(milliseconds=100),
            max_backoff=timedelta(milliseconds=500),
            poll_interval=0.05,
        )
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        print("ready", flush=True)
        for i, key in enumerate(submission_keys(n)):
            await dossiers.create(
                NewDossier(
                    submission_key=key,
                    agency_code=AGENCY,
                    commune_code="10642",
                    procedure_code="1.001193",
                    filer_key=ConversationKey("web", f"chat-{i}", f"user-{i}"),
                    received_at=now(),
                    fields={"ho_ten_tre": f"Nguyễn Văn {i}"},
                    filer={"ho_ten": f"Nguyễn Thị {i}", "quan_he": "mẹ"},
                )
            )
            worker.poke()
            await asyncio.sleep(0.005)  # filing and delivering overlap, as in real life
        while True:  # the database is the truth here, not an in-process event
            if not await outbox.pending(DELIVER_DOSSIER):
                break
            await asyncio.sleep(0.05)
        stop.set()
        await running
    await engine.dispose()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
