"""The office for tests/test_crash_safety.py: files N dossiers and accepts each one.

Run as ``python -m tests.crash_worker DATABASE_URL N``. Every start files the same N
submissions again (a restarted bot replaying what it was doing, as a citizen pressing "Gửi"
again would) and accepts every dossier still waiting; it prints ``ready`` once it starts
working and ``done`` when every dossier is accepted. The test kills it at random moments.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from backoffice.calendar import WorkCalendar
from backoffice.domain import Accept, Refused, Role
from backoffice.office import OfficeService, Submission
from dialogs.model import ConversationKey
from knowledge.catalogue import load_catalogue
from knowledge.dossier_code import format_code
from storage.db import create_engine, session_factory
from storage.dossiers import DossierRepository

AGENCY = "000.00.31.H26"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def submission_keys(n: int) -> list[str]:
    return [f"crash-{i:04d}" for i in range(n)]


async def main(database_url: str, n: int) -> None:
    engine = create_engine(database_url)
    store = DossierRepository(session_factory(engine), timezone=ZONE, code_format=format_code)
    office = OfficeService(
        store,
        catalogue=load_catalogue(),
        calendar=WorkCalendar(),
        timezone=ZONE,
        agency_for=lambda _: AGENCY,
        clock=lambda: datetime.now(UTC),
    )
    print("ready", flush=True)

    async def file_and_accept(i: int, key: str) -> None:
        receipt = await office.receive(
            Submission(
                submission_key=key,
                commune_code="10642",
                procedure_code="1.001193",
                filer_key=ConversationKey("web", f"chat-{i}", f"user-{i}"),
                submitted_at=datetime.now(UTC),
                fields={"ho_ten_tre": f"Nguyễn Văn {i}"},
                filer={"ho_ten": f"Nguyễn Thị {i}", "quan_he": "mẹ"},
            )
        )
        dossier = await store.by_code(receipt.code)
        if dossier is not None and dossier.status == "received":
            moved = await office.move(
                receipt.code, Accept(), actor="officer:lan", role=Role.OFFICER
            )
            # Two starts may race for the same dossier: the loser sees it accepted already.
            if isinstance(moved, Refused) and moved.reason != "not_allowed_from":
                raise SystemExit(f"unexpected refusal: {moved.reason}")

    keys = submission_keys(n)
    for start in range(0, n, 4):  # filings and moves of several dossiers overlap
        await asyncio.gather(
            *(file_and_accept(i, keys[i]) for i in range(start, min(start + 4, n)))
        )
    await engine.dispose()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
