"""After a kill -9, the restarted server sends what the dead one had claimed at once: before,
a receipt claimed just before the kill waited out its 5-minute claim."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.app import Knowledge, build_app
from bot.config import Settings
from dialogs.model import ConversationKey, Inbound, Reply, SubmitDossier
from storage.db import create_engine, session_factory
from storage.leases import WORKER_LEASE_PREFIX, LeaseRepository
from storage.migrate import upgrade
from storage.outbox import OutboxRepository, receipt_topic

KEY = ConversationKey(channel="terminal", chat_id="an", user_id="an")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def test_a_receipt_claimed_by_a_killed_server_is_sent_at_once_after_restart(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        inbound = Inbound(key=KEY, message_id="m", received_at=datetime.now(UTC))
        filed = await app.effects(
            inbound,
            SubmitDossier(
                submission_key="k1",
                procedure_code="1.004873",
                commune_code="10642",
                fields={"requester_name": "Nguyễn Thị Hoa", "phone": "0912345678"},
                files=(),
                filer={"for_self": True, "relation": "", "phone": "0912345678"},
                result_delivery="counter",
            ),
        )
        assert filed.replies

    # The server that was killed: it had claimed the receipt, and its alive-lease still runs.
    killed = f"{socket.gethostname()}:{_dead_pid()}:dead"
    engine = create_engine(settings.database.url)
    try:
        sessions = session_factory(engine)
        now = datetime.now(UTC)
        await LeaseRepository(sessions).claim(
            WORKER_LEASE_PREFIX + killed, killed, now, timedelta(seconds=30)
        )
        [claimed] = await OutboxRepository(sessions, owner=killed).claim_due(
            now, limit=10, lease=timedelta(minutes=5), topic=receipt_topic("terminal")
        )
    finally:
        await engine.dispose()

    got: list[Reply] = []
    arrived = asyncio.Event()

    async def terminal(key: ConversationKey, replies: Sequence[Reply]) -> bool:
        got.extend(replies)
        arrived.set()
        return True

    async with build_app(settings, knowledge) as restarted:
        restarted.push.register("terminal", terminal)
        restarted.receipts.poke()
        await asyncio.wait_for(arrived.wait(), 20)  # not 5 minutes
    assert claimed.attempts == 1
    assert any(d.filename.startswith("bien-nhan-") for r in got for d in r.documents)
