"""The fake Bot API server refuses what the real one refuses (published Bot API limits), so
a test catches a request Telegram would answer with 400. Each case was accepted before."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.fakes.telegram_server import TOKEN, FakeTelegramServer

BUTTON = {"text": "Nộp hồ sơ", "callback_data": "file:1.001193"}
TOO_LONG_DATA = {"text": "x", "callback_data": "x" * 65}
NO_ACTION = {"text": "x"}


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeTelegramServer, httpx.AsyncClient]]:
    async with FakeTelegramServer() as server, httpx.AsyncClient(base_url=server.url) as http:
        yield server, http


def _form(params: dict[str, Any]) -> dict[str, str]:
    return {k: json.dumps(v) if isinstance(v, dict | list) else str(v) for k, v in params.items()}


async def _call(
    http: httpx.AsyncClient,
    method: str,
    params: dict[str, Any],
    upload: tuple[str, bytes] | None = None,
) -> int:
    files = {upload[0]: ("f.bin", upload[1], "application/octet-stream")} if upload else None
    answer = await http.post(f"/bot{TOKEN}/{method}", data=_form(params), files=files)
    return answer.status_code


def _keyboard(button: dict[str, Any]) -> dict[str, Any]:
    return {"inline_keyboard": [[button]]}


@pytest.mark.parametrize(
    ("method", "params", "upload"),
    [
        ("sendPhoto", {"chat_id": 1, "reply_markup": _keyboard(TOO_LONG_DATA)}, ("photo", b"x")),
        (
            "sendDocument",
            {"chat_id": 1, "reply_markup": _keyboard(TOO_LONG_DATA)},
            ("document", b"x"),
        ),
        ("sendPhoto", {"chat_id": 1}, ("photo", b"x" * ((10 << 20) + 1))),
        ("sendDocument", {"chat_id": 1}, ("document", b"x" * ((50 << 20) + 1))),
        ("answerCallbackQuery", {"callback_query_id": "q1", "text": "x" * 201}, None),
        ("setMyCommands", {"commands": [{"command": "Hồ-sơ", "description": "x"}]}, None),
        (
            "setWebhook",
            {"url": "https://x.vn/telegram/webhook", "secret_token": "bad secret!"},
            None,
        ),
        ("getUpdates", {"limit": 101}, None),
        ("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": _keyboard(NO_ACTION)}, None),
        (
            "sendMessage",
            {
                "chat_id": 1,
                "text": "x",
                "reply_markup": {
                    "keyboard": [[{"text": "Gửi số điện thoại", "request_contact": True}]],
                    "input_field_placeholder": "x" * 65,
                },
            },
            None,
        ),
    ],
)
async def test_what_telegram_refuses_the_fake_refuses(
    api: tuple[FakeTelegramServer, httpx.AsyncClient],
    method: str,
    params: dict[str, Any],
    upload: tuple[str, bytes] | None,
) -> None:
    _, http = api
    assert await _call(http, method, params, upload) in (400, 413)


async def test_what_telegram_accepts_the_fake_accepts(
    api: tuple[FakeTelegramServer, httpx.AsyncClient],
) -> None:
    _, http = api
    assert (
        await _call(
            http, "sendPhoto", {"chat_id": 1, "reply_markup": _keyboard(BUTTON)}, ("photo", b"x")
        )
        == 200
    )
    assert (
        await _call(http, "answerCallbackQuery", {"callback_query_id": "q1", "text": "x" * 200})
        == 200
    )
    commands = [{"command": "hoso", "description": "Hồ sơ của tôi"}]
    assert await _call(http, "setMyCommands", {"commands": commands}) == 200
    secret = {"url": "https://x.vn/telegram/webhook", "secret_token": "abc_DEF-123"}
    assert await _call(http, "setWebhook", secret) == 200
    assert await _call(http, "getUpdates", {"limit": 100}) == 200
