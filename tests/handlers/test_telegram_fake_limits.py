"""The fake Bot API server's flood limits: off by default, 429 + retry_after as Telegram."""

from __future__ import annotations

import asyncio

import pytest
from aiogram.exceptions import TelegramRetryAfter

from handlers.telegram import call_bot
from tests.fakes.telegram_server import FakeTelegramServer


async def test_no_limits_by_default() -> None:
    async with FakeTelegramServer() as server:
        bot = server.bot()
        try:
            for _ in range(40):
                await bot.send_message(chat_id=1, text="x")
        finally:
            await bot.session.close()
    assert len(server.delivered()) == 40
    assert server.too_many_requests == 0


async def test_a_second_message_to_one_chat_within_the_interval_gets_429_like_telegram() -> None:
    async with FakeTelegramServer(per_chat_seconds=1.0) as server:
        bot = server.bot()
        try:
            await bot.send_message(chat_id=1, text="one")
            await bot.send_message(chat_id=2, text="another chat is fine")
            with pytest.raises(TelegramRetryAfter) as caught:
                await bot.send_message(chat_id=1, text="too soon")
        finally:
            await bot.session.close()
    assert caught.value.retry_after == 1
    assert "Too Many Requests: retry after 1" in caught.value.message
    assert server.too_many_requests == 1
    assert [c.status for c in server.calls] == [200, 200, 429]
    assert [c.params["text"] for c in server.delivered()] == ["one", "another chat is fine"]


async def test_the_overall_limit_is_a_sliding_second_times_scale() -> None:
    async with FakeTelegramServer(per_second=3, scale=2) as server:  # 6 in any second
        bot = server.bot()
        try:
            for chat in range(6):
                await bot.send_message(chat_id=chat, text="x")
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(chat_id=99, text="seventh")
            # getMe is not a send: not limited
            await bot.get_me()
        finally:
            await bot.session.close()
    assert server.too_many_requests == 1
    assert len(server.delivered()) == 6


async def test_scale_shortens_the_per_chat_interval_and_the_wire_format_is_telegrams() -> None:
    async with FakeTelegramServer(per_chat_seconds=1.0, scale=20) as server:  # 50 ms a chat
        bot = server.bot()
        session = bot.session
        try:
            await bot.send_message(chat_id=7, text="a")
            await asyncio.sleep(0.06)
            await bot.send_message(chat_id=7, text="b")
            url = f"{server.url}/bot{server.token}/sendMessage"
            async with (await session.create_session()).post(
                url, data={"chat_id": "7", "text": "c"}
            ) as response:
                body = await response.json()
                status, header = response.status, response.headers.get("Retry-After")
        finally:
            await session.close()
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert (status, header) == (429, "1")
    assert server.too_many_requests == 1


async def test_call_bot_tells_the_hook_of_each_flood_wait() -> None:
    waits: list[float] = []
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with FakeTelegramServer() as server:
        server.fail_next(2, retry_after=3)
        bot = server.bot()
        try:
            from aiogram.methods import SendMessage

            await call_bot(
                bot, SendMessage(chat_id=1, text="x"), sleep=sleep, on_retry_after=waits.append
            )
        finally:
            await bot.session.close()
    assert waits == [3.0, 3.0] and slept == [3.0, 3.0]
