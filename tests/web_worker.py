"""A web worker for tests/test_two_web_workers.py: the whole server (build_app with its
background loops, create_web_app, uvicorn) in its own process, as ``motcua run`` serves it.

Run as ``python -m tests.web_worker PORT`` with MOTCUA_DATABASE__URL and MOTCUA_FILES__PATH
set. It prints ``ready`` once the port is its own. A page's photo frame is answered with what
this worker's turn fetched (``got N <sha256>...``), through the channel's own fetcher, so the
test sees which bytes reached the turn. Each stdin line ``{"file": chat_id, "key": key}`` files
a dossier for that web chat from this worker (its courier draws and pushes the receipt) and
answers ``{"filed": code}``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime

import uvicorn

from bot.app import App, build_app
from bot.config import load_settings
from bot.service import ConversationService, TurnResult
from bot.web import create_web_app
from dialogs.model import ConversationKey, Inbound, Reply, SubmitDossier
from tests.conftest import ROOT


class PhotoEcho(ConversationService):
    """The real service, except that a photo is answered with the bytes the turn fetched."""

    def __init__(self, app: App) -> None:
        # Deliberately not calling super().__init__: every other call goes to the real one.
        self._app = app

    async def handle(self, inbound: Inbound) -> TurnResult:
        if not inbound.attachments:
            return await self._app.service.handle(inbound)
        digests = []
        for attachment in inbound.attachments:
            data = await self._app.webchat.fetch(attachment)
            digests.append(hashlib.sha256(data).hexdigest())
        return TurnResult(replies=(Reply(f"got {len(digests)} {' '.join(digests)}"),))


async def file(app: App, chat_id: str, key: str) -> str:
    submission = SubmitDossier(
        submission_key=key,
        procedure_code="1.004873",
        commune_code="10642",
        fields={"requester_name": "Lê Văn Tám", "phone": "0987654321"},
        files=(),
        filer={"for_self": True, "relation": "", "phone": "0987654321"},
        result_delivery="counter",
    )
    inbound = Inbound(
        key=ConversationKey("web", chat_id, chat_id),
        message_id=f"m-{key}",
        received_at=datetime.now(UTC),
    )
    await app.effects(inbound, submission)
    dossier = await app.dossiers.by_submission_key(key)
    assert dossier is not None
    return dossier.code


async def main(port: int) -> None:
    settings = load_settings(ROOT / "config.example.toml")
    loop = asyncio.get_running_loop()
    async with build_app(settings) as app:
        web = create_web_app(replace(app, service=PhotoEcho(app)))
        server = uvicorn.Server(
            uvicorn.Config(web, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
            await asyncio.sleep(0.02)
        print("ready", flush=True)
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command = json.loads(line)
            code = await file(app, str(command["file"]), str(command["key"]))
            print(json.dumps({"filed": code}), flush=True)
        server.should_exit = True
        await serving


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
