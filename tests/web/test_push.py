"""Receipts pushed to an open web chat page, over a real server and real WebSockets."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from websockets.sync.client import ClientConnection, connect

from bot.app import App, Knowledge, build_app
from bot.config import Settings
from bot.receipts import ReceiptCourier, ReceiptMaker
from bot.web import create_web_app
from dialogs.model import ConversationKey, Inbound, Reply, SubmitDossier
from handlers import webchat
from handlers.webchat import SESSION_COOKIE
from storage.db import create_engine, session_factory
from storage.dossiers import Dossier
from storage.migrate import upgrade
from storage.outbox import OutboxItem, OutboxRepository
from tests.backoffice.pdf_helpers import pdf_text
from tests.web.harness import START_TIMEOUT, free_port

T = TypeVar("T")
CALL_TIMEOUT = 30.0  # a safety net for a hung server, not a measured time
BACKOFF = timedelta(seconds=10)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Server:
    """The running server, its app (built without background workers) and a courier whose
    clock the test moves."""

    base_url: str
    app: App
    loop: asyncio.AbstractEventLoop
    courier: ReceiptCourier
    queue: OutboxRepository
    clock: Clock

    def call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` in the server's event loop, where the open pages live."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(CALL_TIMEOUT)

    def file(self, key: ConversationKey, submission_key: str) -> Dossier:
        return self.call(_file(self.app, key, submission_key))

    def receipt_rows(self) -> list[OutboxItem]:
        return self.call(self.queue.pending(topic="send_receipt:web"))


async def _file(app: App, key: ConversationKey, submission_key: str) -> Dossier:
    submission = SubmitDossier(
        submission_key=submission_key,
        procedure_code="1.004873",
        commune_code="10642",
        fields={"requester_name": "Lê Văn Tám", "phone": "0987654321"},
        files=(),
        filer={"for_self": True, "relation": "", "phone": "0987654321"},
        result_delivery="counter",
    )
    inbound = Inbound(key=key, message_id=f"m-{submission_key}", received_at=datetime.now(UTC))
    await app.effects(inbound, submission)
    dossier = await app.dossiers.by_submission_key(submission_key)
    assert dossier is not None
    return dossier


@contextmanager
def running(settings: Settings, knowledge: Knowledge) -> Iterator[Server]:
    port = free_port()
    holder: dict[str, Any] = {}
    errors: list[BaseException] = []
    clock = Clock(datetime.now(UTC) + timedelta(minutes=1))

    async def main() -> None:
        await upgrade(settings.database.url)
        engine = create_engine(settings.database.url)
        try:
            async with build_app(settings, knowledge, deliver=False) as app:
                web = create_web_app(app)
                queue = OutboxRepository(session_factory(engine))
                courier = ReceiptCourier(
                    queue,
                    app.dossiers,
                    ReceiptMaker(settings, knowledge.catalogue),
                    app.push,
                    clock,
                    base_backoff=BACKOFF,
                )
                config = uvicorn.Config(
                    web, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
                )
                server = uvicorn.Server(config)
                holder.update(
                    server=server,
                    app=app,
                    loop=asyncio.get_running_loop(),
                    courier=courier,
                    queue=queue,
                )
                await server.serve()
        finally:
            await engine.dispose()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced in the test thread below
            errors.append(exc)

    thread = threading.Thread(target=run, name="motcua-push-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not (isinstance(holder.get("server"), uvicorn.Server) and holder["server"].started):
        if errors or not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"test server did not start: {errors!r}")
        time.sleep(0.02)
    try:
        yield Server(
            base_url=f"http://127.0.0.1:{port}",
            app=holder["app"],
            loop=holder["loop"],
            courier=holder["courier"],
            queue=holder["queue"],
            clock=clock,
        )
    finally:
        holder["server"].should_exit = True
        thread.join(timeout=10)
    if errors:
        raise errors[0]


@pytest.fixture
def server(settings: Settings, knowledge: Knowledge) -> Iterator[Server]:
    with running(settings, knowledge) as srv:
        yield srv


class Browser:
    """A citizen's browser: it loaded the page, so it holds a session cookie."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=10)
        assert self.http.get("/").status_code == 200
        self.session_id = self.http.cookies[SESSION_COOKIE]

    @property
    def key(self) -> ConversationKey:
        return webchat.conversation_key(self.session_id)

    @contextmanager
    def page(self) -> Iterator[Page]:
        """An open chat page: connected, and greeted so the server has it as live."""
        cookie = f"{SESSION_COOKIE}={self.session_id}"
        ws_url = self.server.base_url.replace("http://", "ws://") + "/ws"
        with connect(ws_url, additional_headers={"Cookie": cookie}) as ws:
            page = Page(ws)
            page.opening = page.turn({"type": "start", "id": "hello"})
            assert page.opening
            yield page

    def close(self) -> None:
        self.http.close()


@dataclass
class Page:
    ws: ClientConnection
    opening: list[dict[str, Any]] = field(default_factory=list)  # its first turn's frames

    def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        """Send a frame; every frame that came before its ``done`` (pushed ones included)."""
        self.ws.send(json.dumps(frame))
        got: list[dict[str, Any]] = []
        while True:
            answer = json.loads(self.ws.recv(timeout=CALL_TIMEOUT))
            if answer == {"type": "done", "id": frame["id"]}:
                return got
            got.append(answer)

    def next_frame(self) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(self.ws.recv(timeout=CALL_TIMEOUT))
        return frame


@pytest.fixture
def browsers(server: Server) -> Iterator[list[Browser]]:
    opened: list[Browser] = []
    yield opened
    for browser in opened:
        browser.close()


def _open(server: Server, browsers: list[Browser]) -> Browser:
    browser = Browser(server)
    browsers.append(browser)
    return browser


def _pushed(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if str(f.get("re", "")).startswith("push-")]


def _receipt_link(frame: dict[str, Any]) -> str:
    [link] = [d["url"] for d in frame["documents"] if d["receipt"]]
    assert isinstance(link, str) and link.startswith("/media/")
    return link


def test_an_open_page_gets_the_receipt_and_only_its_session_can_download_it(
    server: Server, browsers: list[Browser]
) -> None:
    citizen, stranger = _open(server, browsers), _open(server, browsers)
    with citizen.page() as page, stranger.page() as other:
        dossier = server.file(citizen.key, "s-1")
        assert server.call(server.app.receipts.run_once()) == 1

        frame = page.next_frame()
        assert frame["type"] == "reply" and frame["re"].startswith("push-")
        assert dossier.code in frame["text"]
        assert frame["buttons"] == []
        link = _receipt_link(frame)
        labels = [d["label"] for d in frame["documents"]]
        assert labels[0] == "Tải biên nhận (PDF)" and len(labels) == 2  # and the declaration

        pdf = citizen.http.get(link)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert dossier.code in pdf_text(pdf.content)
        assert httpx.get(server.base_url + link).status_code == 404  # no cookie
        assert stranger.http.get(link).status_code == 404  # another citizen's cookie

        # The page goes on as before, and the other citizen's page saw nothing of it.
        assert page.turn({"type": "text", "id": "after", "text": "menu"})
        assert _pushed(other.turn({"type": "text", "id": "other", "text": "menu"})) == []
    assert server.receipt_rows() == []


def test_every_open_tab_of_the_session_gets_the_receipt(
    server: Server, browsers: list[Browser]
) -> None:
    citizen = _open(server, browsers)
    with citizen.page() as tab, citizen.page() as second_tab:
        dossier = server.file(citizen.key, "s-tabs")
        assert server.call(server.app.receipts.run_once()) == 1
        for page in (tab, second_tab):
            frame = page.next_frame()
            assert dossier.code in frame["text"] and _receipt_link(frame)


def test_a_closed_page_gets_the_receipt_when_opened_again_after_the_retry_time(
    server: Server, browsers: list[Browser]
) -> None:
    citizen = _open(server, browsers)
    with citizen.page():
        pass  # the citizen filed, then closed the page
    dossier = server.file(citizen.key, "s-2")

    assert server.call(server.courier.run_once()) == 1
    [row] = server.receipt_rows()
    assert row.attempts == 1 and row.done_at is None and row.last_error == "web unreachable for now"

    with citizen.page() as page:
        assert server.call(server.courier.run_once()) == 0  # not before the retry time
        assert _pushed(page.turn({"type": "text", "id": "early", "text": "menu"})) == []

        server.clock.now = row.next_attempt_at
        assert server.call(server.courier.run_once()) == 1
        frame = page.next_frame()
        assert frame["re"].startswith("push-") and dossier.code in frame["text"]
        assert citizen.http.get(_receipt_link(frame)).status_code == 200
    assert server.receipt_rows() == []


@contextmanager
def web_loop(server: Server) -> Iterator[None]:
    """The web channel's background loop, as ``motcua run`` starts it in every worker: it
    hands this worker's pages what was left for them."""

    async def start() -> tuple[asyncio.Event, asyncio.Task[None]]:
        stop = asyncio.Event()
        return stop, asyncio.create_task(server.app.webchat.run(stop))

    stop, task = server.call(start())
    try:
        yield
    finally:

        async def end() -> None:
            stop.set()
            await task

        server.call(end())


def _kept_for(page: Page) -> list[dict[str, Any]]:
    """What was pushed to a page as it opened: with its first turn, or in the loop's poll."""
    time.sleep(4 * webchat.POLL_SECONDS)
    return _pushed([*page.opening, *page.turn({"type": "text", "id": "look", "text": "menu"})])


def test_a_notice_to_a_closed_page_waits_for_the_sessions_next_page(
    server: Server, browsers: list[Browser]
) -> None:
    citizen, neighbour = _open(server, browsers), _open(server, browsers)
    with citizen.page():
        pass  # the citizen filed, then closed the page
    notice = Reply("Hồ sơ H01.10642.0001 đã có kết quả. Mời bạn đến Bộ phận một cửa nhận.")
    # Words only: kept for the session, not a failed try to be repeated for hours.
    assert server.call(server.app.push.send(citizen.key, (notice,)))

    with web_loop(server):
        with neighbour.page() as page:  # another session never sees it
            assert _kept_for(page) == []
        with citizen.page() as page:  # days later, as the chat opens: the notice
            [frame] = _kept_for(page)
            assert "đã có kết quả" in frame["text"]
        with citizen.page() as page:  # once
            assert _kept_for(page) == []
