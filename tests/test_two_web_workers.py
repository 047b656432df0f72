"""Two web workers on one database and one file store, as behind a load balancer: a page
served by worker A uploads a photo that the turn on worker B receives, and a receipt drawn by
B reaches the page connected to A (issue 12: both lived in one process's memory, so the photo
was "not found" on B and the receipt never reached A's page). On SQLite and PostgreSQL.

Each worker (tests/web_worker.py) is a whole server in its own process."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from handlers import webchat
from handlers.webchat import SESSION_COOKIE
from storage.migrate import upgrade
from tests.backoffice.pdf_helpers import pdf_text
from tests.storage.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL_ENV, reset_postgres
from tests.web.harness import free_port

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60.0
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # the turn gets these bytes, checked or not


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/motcua.sqlite3"
    else:
        url = os.environ.get(POSTGRES_URL_ENV, "")
        if not url:
            pytest.skip(POSTGRES_SKIP_REASON)
        await reset_postgres(url)
    await upgrade(url)
    return url


class Worker:
    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.base_url = f"http://127.0.0.1:{port}"

    def command(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        return answer


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[tuple[Worker, Worker]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "MOTCUA_DATABASE__URL": database_url,
        "MOTCUA_FILES__PATH": str(tmp_path / "files"),  # the shared file store
    }
    started: list[Worker] = []
    try:
        for name in ("a", "b"):
            port = free_port()
            with (tmp_path / f"worker-{name}.log").open("wb") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "tests.web_worker", str(port)],
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                )
            started.append(Worker(process, port))
        for worker in started:
            assert worker.process.stdout is not None
            assert worker.process.stdout.readline() == b"ready\n"
        yield started[0], started[1]
    finally:
        for worker in started:
            if worker.process.stdin is not None:
                worker.process.stdin.close()
        for worker in started:
            try:
                worker.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            if worker.process.stdout is not None:
                worker.process.stdout.close()
    for log_file in sorted(tmp_path.glob("worker-*.log")):
        assert "Traceback" not in log_file.read_text(), log_file.read_text()


def _frames_until_done(ws: Any, frame_id: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while True:
        frame = json.loads(ws.recv(timeout=TIMEOUT))
        if frame == {"type": "done", "id": frame_id}:
            return got
        got.append(frame)


def test_a_photo_sent_to_a_reaches_the_turn_on_b_and_a_receipt_drawn_by_b_reaches_a(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    with httpx.Client(base_url=a.base_url, timeout=TIMEOUT) as page_on_a:
        assert page_on_a.get("/").status_code == 200
        session_id = page_on_a.cookies[SESSION_COOKIE]
        cookie = {"Cookie": f"{SESSION_COOKIE}={session_id}"}

        # The page's upload lands on A; its photo frame on B.
        uploaded = page_on_a.post("/upload", files={"file": ("cccd.jpg", JPEG, "image/jpeg")})
        assert uploaded.status_code == 200, uploaded.text
        ref = uploaded.json()["ref"]
        with connect(b.base_url.replace("http", "ws") + "/ws", additional_headers=cookie) as ws:
            ws.send(json.dumps({"type": "photo", "id": "p-1", "refs": [ref]}))
            (reply,) = _frames_until_done(ws, "p-1")
        assert reply["text"] == f"got 1 {hashlib.sha256(JPEG).hexdigest()}"

        # The page is connected to A; B files the dossier and draws its receipt.
        with connect(a.base_url.replace("http", "ws") + "/ws", additional_headers=cookie) as ws:
            ws.send(json.dumps({"type": "start", "id": "hello"}))
            assert _frames_until_done(ws, "hello")
            # ws.recv's 60 s bound is far below the outbox's 5-minute lease: the receipt comes
            # by the shared push table, not by another worker's lease running out.
            code = b.command({"file": webchat.session_tag(session_id), "key": "two-web-1"})["filed"]
            pushed = json.loads(ws.recv(timeout=TIMEOUT))
        assert pushed["type"] == "reply" and pushed["re"].startswith("push-")
        assert code in pushed["text"]
        [link] = [d["url"] for d in pushed["documents"] if d["receipt"]]
        # B kept the PDF in the shared store: A serves it to this session only.
        pdf = page_on_a.get(link)
        assert pdf.status_code == 200 and code in pdf_text(pdf.content)
        assert httpx.get(a.base_url + link).status_code == 404
