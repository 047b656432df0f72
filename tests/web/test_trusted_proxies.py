"""X-Forwarded-For is believed only from ``[web] trusted_proxies``, with uvicorn configured as
``motcua run`` configures it (bot.runner.server_config). The console's login limit per address
and the web chat's upload budget per address count the address this gives: a visitor who
talks to the port directly must not pick a fresh address for each guess by writing the header.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from bot.app import Knowledge
from bot.config import Settings
from storage.db import create_engine, session_factory
from storage.models import WebFileRow
from tests.web.console_setup import HOME, Office, login
from tests.web.harness import running_server

PER_ADDRESS = 3


def _deployment(settings: Settings, trusted: str) -> Settings:
    console = settings.console.model_copy(
        update={"max_failures_per_address": PER_ADDRESS, "max_failures_per_account": 100}
    )
    web = settings.web.model_copy(update={"trusted_proxies": trusted})
    return settings.model_copy(update={"console": console, "web": web})


def _guess(client: httpx.Client, name: str, forwarded: str) -> int:
    client.headers["X-Forwarded-For"] = forwarded
    return login(client, name, "sai-mat-khau").status_code


@pytest.mark.parametrize("trusted", ["127.0.0.1", "127.0.0.0/8"])
def test_behind_a_trusted_proxy_each_visitor_has_his_own_login_limit(
    settings: Settings, knowledge: Knowledge, trusted: str
) -> None:
    deployment = _deployment(settings, trusted)
    desk = Office(deployment, knowledge.catalogue)
    desk.user("lan", "officer", HOME)
    with (
        running_server(deployment, knowledge, as_run=True) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        # The proxy (this loopback peer) says who the visitor is, and is believed.
        for n in range(PER_ADDRESS):
            assert _guess(client, f"x{n}", "203.0.113.7") == 401
        assert _guess(client, "x9", "203.0.113.7") == 429
        # Another visitor through the same proxy is not locked out by the first.
        client.headers["X-Forwarded-For"] = "198.51.100.20"
        assert login(client, "lan").status_code == 303


def test_a_forwarded_header_from_an_untrusted_peer_is_ignored(
    settings: Settings, knowledge: Knowledge
) -> None:
    # Only 10.9.9.9 is a proxy; this peer (127.0.0.1) talks to the port directly.
    deployment = _deployment(settings, "10.9.9.9")
    desk = Office(deployment, knowledge.catalogue)
    desk.user("lan", "officer", HOME)
    with (
        running_server(deployment, knowledge, as_run=True) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        # A new made-up address for every guess: all of them are the one peer's.
        for n in range(PER_ADDRESS):
            assert _guess(client, f"x{n}", f"203.0.113.{n + 1}") == 401
        locked = _guess(client, "x9", "192.0.2.99")
        assert locked == 429
        client.headers["X-Forwarded-For"] = "198.51.100.20"
        assert login(client, "lan").status_code == 429
    assert "console:login_limited" in desk.audit("console")


async def _upload_addresses(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.scalars(
                select(WebFileRow.address).where(WebFileRow.kind == "upload")
            )
            return sorted(rows)
    finally:
        await engine.dispose()


def _upload(base_url: str, forwarded: str) -> None:
    with httpx.Client(base_url=base_url, headers={"X-Forwarded-For": forwarded}) as browser:
        assert browser.get("/").status_code == 200  # the page sets the session cookie
        jpeg = b"\xff\xd8\xff\xe0" + b"\0" * 100
        sent = browser.post("/upload", files={"file": ("cccd.jpg", jpeg, "image/jpeg")})
        assert sent.status_code == 200, sent.text


@pytest.mark.parametrize(
    ("trusted", "counted"), [("127.0.0.1", "203.0.113.7"), ("10.9.9.9", "127.0.0.1")]
)
def test_uploads_count_against_the_address_the_proxy_rule_gives(
    settings: Settings, knowledge: Knowledge, trusted: str, counted: str
) -> None:
    deployment = _deployment(settings, trusted)
    with running_server(deployment, knowledge, as_run=True) as server:
        _upload(server.base_url, "203.0.113.7")
        _upload(server.base_url, "203.0.113.7")
    assert asyncio.run(_upload_addresses(deployment.database.url)) == [counted, counted]
