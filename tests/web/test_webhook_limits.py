"""The webhooks check who is asking and how much they say they send before reading a byte.

The attack trial sent one unauthenticated 400 MB POST and the server grew from 415 MB to
1.17 GB: the whole body was read before the secret, the signature or the size was looked at.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.types import Message

from bot.app import Knowledge
from bot.web import capped_body
from handlers.telegram import MAX_WEBHOOK_BODY, SECRET_HEADER
from tests.channels.deployment import (
    TELEGRAM_SECRET,
    Deployment,
    deployment_settings,
    running_deployment,
)
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.zalo_server import FakeZalo

HUGE = 400 * 1024 * 1024


@pytest.fixture
async def deployment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, knowledge: Knowledge
) -> AsyncIterator[Deployment]:
    async with FakeTelegramServer() as telegram, FakeZalo() as zalo:
        settings = deployment_settings(tmp_path, monkeypatch, telegram, zalo)
        async with running_deployment(settings, knowledge, telegram, zalo) as running:
            yield running


async def _status_of_headers_only(deployment: Deployment, path: str, headers: str) -> int:
    """Send the request line and headers of a huge POST and none of its body."""
    host, port = deployment.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {HUGE}\r\n{headers}\r\n"
            ).encode()
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        return int(status_line.split()[1])
    finally:
        writer.close()


async def test_a_huge_post_is_refused_before_its_body_is_read(deployment: Deployment) -> None:
    wrong = await _status_of_headers_only(
        deployment, "/telegram/webhook", f"{SECRET_HEADER}: not-the-secret\r\n"
    )
    assert wrong == 401
    right_but_huge = await _status_of_headers_only(
        deployment, "/telegram/webhook", f"{SECRET_HEADER}: {TELEGRAM_SECRET}\r\n"
    )
    assert right_but_huge == 413
    unsigned = await _status_of_headers_only(deployment, "/zalo/webhook", "")
    assert unsigned == 401
    signed_but_huge = await _status_of_headers_only(
        deployment, "/zalo/webhook", "X-ZEvent-Signature: mac=00ff\r\n"
    )
    assert signed_but_huge == 413


def _once(body: bytes) -> Callable[[], Awaitable[Message]]:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def test_a_body_without_a_length_is_read_only_up_to_the_limit() -> None:
    """Chunked, no Content-Length: reading stops at the first chunk past the limit."""
    sent = 0
    chunk = b"x" * 65536

    async def receive() -> Message:
        nonlocal sent
        sent += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": sent < HUGE}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    assert await capped_body(request, MAX_WEBHOOK_BODY) is None
    assert sent <= MAX_WEBHOOK_BODY + len(chunk)

    small = Request(
        {"type": "http", "method": "POST", "headers": [(b"content-length", b"2")]}, _once(b"{}")
    )
    assert await capped_body(small, MAX_WEBHOOK_BODY) == b"{}"
