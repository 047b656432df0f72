"""A page that lost its connection resends its last frame and gets the answer it missed, from
whichever worker it reconnects to, and even while many other visitors chat. Before, each worker
kept the answers in its own memory: a page that reconnected to another worker of the
deployment got its frame acknowledged with no answer at all. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from bot.app import Knowledge
from bot.config import Settings
from handlers.webchat import SESSION_COOKIE
from tests.storage.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL_ENV, reset_postgres
from tests.web.harness import RunningServer, running_server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def deployment(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "sqlite":
        return settings
    url = os.environ.get(POSTGRES_URL_ENV, "")
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    asyncio.run(reset_postgres(url))
    database = settings.database.model_copy(update={"url": url})
    return settings.model_copy(update={"database": database})


def _turn(server: RunningServer, cookie: str, frame: dict[str, Any]) -> list[dict[str, Any]]:
    """Send one frame on a fresh socket; the frames before its ``done``."""
    with connect(server.ws_url, additional_headers={"Cookie": cookie}) as ws:
        ws.send(json.dumps(frame))
        got: list[dict[str, Any]] = []
        while True:
            answer = json.loads(ws.recv(timeout=15))
            if answer == {"type": "done", "id": frame["id"]}:
                return got
            got.append(answer)


def test_a_frame_resent_to_another_worker_is_answered_again_and_handled_once(
    deployment: Settings, knowledge: Knowledge
) -> None:
    # Two workers of one deployment: their own app, process state and socket; one database
    # and one file store.
    with running_server(deployment, knowledge) as a, running_server(deployment, knowledge) as b:
        with httpx.Client(base_url=a.base_url) as page:
            assert page.get("/").status_code == 200
            cookie = f"{SESSION_COOKIE}={page.cookies[SESSION_COOKIE]}"
        frame = {"type": "text", "id": "p4-1", "text": "đăng ký khai sinh cần giấy tờ gì"}
        first = _turn(a, cookie, frame)
        assert first and any(f.get("text") for f in first)
        # The connection dropped before "done"; the load balancer sends the page to B.
        again = _turn(b, cookie, frame)
        assert again == first
        assert [r.duplicate for r in b.spy.results] == [True]  # answered, not handled again
        assert [r.duplicate for r in a.spy.results] == [False]
