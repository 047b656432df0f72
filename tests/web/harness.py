"""A real motcua web server on a loopback port, in a background thread, for the web tests.

The whole app (database, service, effect runner) is built inside the server's own event loop,
exactly as ``motcua run`` does; the tests talk to it over real HTTP and WebSocket connections.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import uvicorn

from bot.app import Knowledge, build_app
from bot.config import Settings
from bot.runner import server_config
from bot.service import ConversationService, TurnResult
from bot.web import create_web_app
from dialogs.model import Inbound, Reply
from handlers.webchat import WebChatChannel
from storage.migrate import upgrade

START_TIMEOUT = 20.0


class SpyService(ConversationService):
    """The real service, recording every Inbound; some texts get canned replies instead.

    Canned replies stand in for turns this area does not own (a filed dossier's receipt).
    """

    def __init__(self, inner: ConversationService, canned: Mapping[str, tuple[Reply, ...]]):
        # Deliberately not calling super().__init__: every call is delegated to ``inner``.
        self._inner = inner
        self._canned = canned
        self.inbounds: list[Inbound] = []
        self.results: list[TurnResult] = []

    async def handle(self, inbound: Inbound) -> TurnResult:
        self.inbounds.append(inbound)
        canned = self._canned.get(inbound.text)
        result = TurnResult(replies=canned) if canned else await self._inner.handle(inbound)
        self.results.append(result)
        return result


@dataclass
class RunningServer:
    base_url: str
    spy: SpyService
    uploads: WebChatChannel  # its fetch is the effect runner's fetcher for web uploads
    errors: list[BaseException] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/ws"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_server(
    settings: Settings,
    knowledge: Knowledge,
    *,
    canned: Mapping[str, tuple[Reply, ...]] | None = None,
    embed_origins: Sequence[str] = (),
    as_run: bool = False,
) -> Iterator[RunningServer]:
    """``as_run``: uvicorn configured as ``motcua run`` configures it (proxy headers believed
    from ``[web] trusted_proxies``), on a loopback port."""
    port = free_port()
    holder: dict[str, object] = {}
    errors: list[BaseException] = []

    async def main() -> None:
        await upgrade(settings.database.url)
        async with build_app(settings, knowledge) as app:
            spy = SpyService(app.service, canned or {})
            uploads = app.webchat  # the effect runner fetches photos through it
            web = create_web_app(replace(app, service=spy), embed_origins=embed_origins)
            if as_run:
                config = server_config(
                    settings, web, host="127.0.0.1", port=port, log_level="warning"
                )
            else:
                config = uvicorn.Config(
                    web, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
                )
            server = uvicorn.Server(config)
            holder.update(server=server, spy=spy, uploads=uploads)
            await server.serve()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced in the test thread below
            errors.append(exc)

    thread = threading.Thread(target=run, name="motcua-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        server = holder.get("server")
        if isinstance(server, uvicorn.Server) and server.started:
            break
        if errors or not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"test server did not start: {errors!r}")
        time.sleep(0.02)
    spy = holder["spy"]
    uploads = holder["uploads"]
    assert isinstance(spy, SpyService) and isinstance(uploads, WebChatChannel)
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", spy, uploads, errors)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    if errors:
        raise errors[0]
