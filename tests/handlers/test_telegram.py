"""The Telegram channel end to end: the real aiogram Bot against a fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import unicodedata
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot

import handlers.telegram as telegram_module
from dialogs.model import Attachment, Button, Inbound, Media, Reply
from dialogs.texts import telegram as texts
from handlers.telegram import (
    TelegramChannel,
    TelegramFetchFailed,
    TelegramFileTooLarge,
    fetch_file,
    utf16_units,
)
from tests.dialogs.transcript import DIALOG, make_context
from tests.fakes.telegram_server import (
    CITIZEN,
    OTHER,
    TOKEN,
    FakeTelegramServer,
    callback_update,
    contact_update,
    document_update,
    photo_update,
    text_update,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SECRET = "s3cr3t_Token-for-tests_0123456789abcdef"
MENU = Reply(
    "Bạn cần giúp gì ạ?",
    buttons=((Button("Hỏi về thủ tục", "ask"),), (Button("Tra cứu hồ sơ", "track"),)),
)


class Conversation:
    """A stand-in for the service: records inbounds, drops repeated ids as the service does."""

    def __init__(self, answer: Callable[[Inbound], Sequence[Reply]] = lambda _: (MENU,)) -> None:
        self.inbounds: list[Inbound] = []
        self.seen: set[str] = set()
        self._answer = answer

    async def __call__(self, inbound: Inbound) -> Sequence[Reply]:
        if inbound.message_id in self.seen:
            return ()
        self.seen.add(inbound.message_id)
        self.inbounds.append(inbound)
        return self._answer(inbound)


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    bot = server.bot()
    yield bot
    await bot.session.close()


def channel_for(bot: Bot, handle: Conversation, **kwargs: object) -> TelegramChannel:
    return TelegramChannel(bot, handle, clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


def replies(*items: Reply) -> Callable[[Inbound], Sequence[Reply]]:
    return lambda _: items


# --- messages in, messages out ----------------------------------------------------------------


async def test_text_in_reply_with_inline_keyboard_out(server: FakeTelegramServer, bot: Bot) -> None:
    conversation = Conversation()
    await channel_for(bot, conversation).process(text_update(100000001, "/start"))

    assert [(i.text, i.message_id, i.key.as_str()) for i in conversation.inbounds] == [
        ("/start", "u100000001", f"telegram:{CITIZEN}:{CITIZEN}")
    ]
    [call] = server.calls
    assert call.method == "sendMessage"
    assert call.params["chat_id"] == str(CITIZEN)
    assert call.params["text"] == "Bạn cần giúp gì ạ?"
    assert "parse_mode" not in call.params  # user text with "<" must not be read as HTML
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Hỏi về thủ tục", "callback_data": "ask"}],
            [{"text": "Tra cứu hồ sơ", "callback_data": "track"}],
        ]
    }


async def test_button_press_gives_payload_and_stops_the_spinner_first(
    server: FakeTelegramServer, bot: Bot
) -> None:
    conversation = Conversation()
    update = callback_update(5, "proc:ks", query_id="q-77")
    await channel_for(bot, conversation).process(update)

    [inbound] = conversation.inbounds
    assert (inbound.payload, inbound.text) == ("proc:ks", "Đăng ký khai sinh")
    assert [c.method for c in server.calls] == ["answerCallbackQuery", "sendMessage"]
    assert server.calls[0].params["callback_query_id"] == "q-77"


async def test_forged_callback_data_is_answered_but_not_delivered(
    server: FakeTelegramServer, bot: Bot
) -> None:
    conversation = Conversation()
    await channel_for(bot, conversation).process(callback_update(5, "x" * 80, query_id="q-1"))
    assert conversation.inbounds == []
    assert [c.method for c in server.calls] == ["answerCallbackQuery"]


async def test_a_5000_character_reply_goes_out_as_two_messages_keyboard_on_the_last(
    server: FakeTelegramServer, bot: Bot
) -> None:
    lines = [f"Dòng {i:02d}: " + " ".join(["giấy tờ cần mang"] * 5) for i in range(50)]
    text = unicodedata.normalize("NFD", "\n".join(lines))
    assert len(unicodedata.normalize("NFC", text)) > 4096
    reply = Reply(text, buttons=((Button("Menu chính", "menu"),),))
    await channel_for(bot, Conversation(replies(reply))).process(text_update(1, "hỏi"))

    sent = server.calls_of("sendMessage")
    assert len(sent) == 2
    assert all(utf16_units(c.params["text"]) <= 4096 for c in sent)
    joined = "\n".join(c.params["text"] for c in sent)
    assert joined == unicodedata.normalize("NFC", "\n".join(lines))
    assert "reply_markup" not in sent[0].params
    assert sent[1].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "menu"


async def test_images_and_documents_are_uploaded_in_order_keyboard_under_the_last(
    server: FakeTelegramServer, bot: Bot
) -> None:
    qr = Media("vietqr.png", "image/png", b"\x89PNG fake qr", caption="Mã QR nộp lệ phí")
    pdf = Media("bien_nhan.pdf", "application/pdf", b"%PDF-1.7 fake", caption="Đ" * 1500)
    reply = Reply(
        "Hồ sơ đã được tiếp nhận.",
        buttons=((Button("Menu chính", "menu"),),),
        images=(qr,),
        documents=(pdf,),
    )
    await channel_for(bot, Conversation(replies(reply))).process(text_update(1, "nộp"))

    assert [c.method for c in server.calls] == ["sendMessage", "sendPhoto", "sendDocument"]
    message, photo, document = server.calls
    assert "reply_markup" not in message.params and "reply_markup" not in photo.params
    assert photo.files["photo"].data == qr.data
    assert photo.params["caption"] == "Mã QR nộp lệ phí"
    assert document.files["document"].data == pdf.data
    assert document.files["document"].filename == "bien_nhan.pdf"
    caption = document.params["caption"]
    assert utf16_units(caption) <= 1024 and caption.endswith("…")
    assert document.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "menu"


async def test_a_photo_telegram_refuses_goes_out_as_a_document(
    server: FakeTelegramServer, bot: Bot
) -> None:
    server.fail_next(error_code=400, description="Bad Request: PHOTO_INVALID_DIMENSIONS",
                     method="sendPhoto")  # fmt: skip
    reply = Reply("", images=(Media("qr.png", "image/png", b"png"),))
    await channel_for(bot, Conversation(replies(reply))).process(text_update(1, "x"))
    assert [c.method for c in server.calls] == ["sendPhoto", "sendDocument"]
    assert server.calls[1].files["document"].data == b"png"


async def test_request_contact_shows_the_phone_button(server: FakeTelegramServer, bot: Bot) -> None:
    reply = Reply("Số điện thoại của bạn là gì ạ?", request_contact=True)
    await channel_for(bot, Conversation(replies(reply))).process(text_update(1, "nộp"))

    [call] = server.calls
    assert call.params["reply_markup"] == {
        "keyboard": [[{"text": "📱 Chia sẻ số điện thoại", "request_contact": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
        "input_field_placeholder": texts.CONTACT_PLACEHOLDER,
    }


async def test_request_contact_next_to_inline_buttons_gets_its_own_message(
    server: FakeTelegramServer, bot: Bot
) -> None:
    reply = Reply("Số điện thoại?", buttons=((Button("Bỏ qua", "skip"),),), request_contact=True)
    await channel_for(bot, Conversation(replies(reply))).process(text_update(1, "nộp"))

    first, second = server.calls_of("sendMessage")
    assert "inline_keyboard" in first.params["reply_markup"]
    assert second.params["text"] == texts.CONTACT_PROMPT
    assert second.params["reply_markup"]["keyboard"][0][0]["request_contact"] is True


async def test_a_button_with_an_oversized_payload_is_left_out_not_the_reply(
    server: FakeTelegramServer, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    reply = Reply("Chọn:", buttons=((Button("Dài quá", "p" * 65), Button("Được", "ok")),))
    with caplog.at_level(logging.ERROR):
        await channel_for(bot, Conversation(replies(reply))).process(text_update(1, "x"))
    [call] = server.calls
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Được", "callback_data": "ok"}]]
    }
    assert "Dài quá" in caplog.text


async def test_contact_from_self_is_taken_from_someone_else_refused(
    server: FakeTelegramServer, bot: Bot
) -> None:
    conversation = Conversation(replies(Reply("Cảm ơn bạn.")))
    channel = channel_for(bot, conversation)
    await channel.process(contact_update(10, owner=OTHER, phone="+84987654321"))
    await channel.process(contact_update(11, owner=CITIZEN, phone="+84912345678"))

    refused, taken = conversation.inbounds
    assert refused.contact is None and refused.text == ""
    assert taken.contact is not None and taken.contact.phone == "+84912345678"
    assert [c.params["text"] for c in server.calls_of("sendMessage")] == [
        texts.OWN_NUMBER_ONLY,
        "Cảm ơn bạn.",
        "Cảm ơn bạn.",
    ]


async def test_group_and_edited_messages_are_ignored(server: FakeTelegramServer, bot: Bot) -> None:
    conversation = Conversation()
    channel = channel_for(bot, conversation)
    await channel.process(text_update(1, "xin chào", chat_type="group"))
    await channel.process({"update_id": 2, "edited_message": text_update(2, "sửa")["message"]})
    assert conversation.inbounds == [] and server.calls == []


# --- flood control ----------------------------------------------------------------------------


async def test_429_is_waited_out_then_the_message_goes_through(
    server: FakeTelegramServer, bot: Bot
) -> None:
    server.fail_next(1, retry_after=1, method="sendMessage")
    await channel_for(bot, Conversation()).process(text_update(1, "/start"))

    first, second = server.calls_of("sendMessage")
    assert second.at - first.at >= 0.95  # waited retry_after (1 s) before trying again
    assert second.params["text"] == MENU.text


async def test_endless_429_gives_up_after_bounded_attempts(
    server: FakeTelegramServer, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    server.fail_next(100, retry_after=3, method="sendMessage")
    channel = channel_for(bot, Conversation(), sleep=no_sleep)
    with caplog.at_level(logging.WARNING):
        await channel.process(text_update(1, "/start"))
    assert len(server.calls_of("sendMessage")) == 4
    assert waits == [3.0, 3.0, 3.0]
    assert "TelegramRetryAfter" in caplog.text


async def test_a_flood_wait_longer_than_a_minute_is_not_held(
    server: FakeTelegramServer, bot: Bot
) -> None:
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    server.fail_next(1, retry_after=600)
    channel = channel_for(bot, Conversation(), sleep=no_sleep)
    with pytest.raises(Exception, match="retry after 600"):
        await channel.send(str(CITIZEN), [MENU])
    assert waits == []


# --- files ------------------------------------------------------------------------------------


async def test_photo_is_fetched_through_getfile(server: FakeTelegramServer, bot: Bot) -> None:
    jpeg = b"\xff\xd8\xff\xe0 fake jpeg " * 1000
    server.add_file("big", jpeg, path="photos/file_7.jpg")
    conversation = Conversation()
    channel = channel_for(bot, conversation)
    await channel.process(photo_update(2, "big"))

    [attachment] = conversation.inbounds[0].attachments
    assert attachment.ref == "big" and attachment.kind == "photo"
    assert await channel.fetch(attachment) == jpeg
    assert server.calls_of("getFile")[0].params["file_id"] == "big"
    assert server.downloads == ["photos/file_7.jpg"]


async def test_album_arrives_as_two_inbounds_of_one_group(
    server: FakeTelegramServer, bot: Bot
) -> None:
    server.add_file("front", b"front bytes")
    server.add_file("back", b"back bytes")
    conversation = Conversation(replies())
    channel = channel_for(bot, conversation)
    await channel.process(photo_update(3, "front", group="13812345678901234"))
    await channel.process(photo_update(4, "back", group="13812345678901234"))

    attachments = [i.attachments[0] for i in conversation.inbounds]
    assert [a.group_id for a in attachments] == ["13812345678901234"] * 2
    assert [await channel.fetch(a) for a in attachments] == [b"front bytes", b"back bytes"]
    assert server.calls_of("sendMessage") == []  # the dialog chose to wait for the album


async def test_document_is_fetched_with_its_name(server: FakeTelegramServer, bot: Bot) -> None:
    server.add_file("BQACAgUAAxkB", b"%PDF-1.7 birth certificate", path="documents/file_3.pdf")
    conversation = Conversation()
    channel = channel_for(bot, conversation)
    await channel.process(document_update(5, "BQACAgUAAxkB", size=26))

    [attachment] = conversation.inbounds[0].attachments
    assert (attachment.kind, attachment.filename, attachment.mime_type) == (
        "document",
        "giay_khai_sinh.pdf",
        "application/pdf",
    )
    assert await channel.fetch(attachment) == b"%PDF-1.7 birth certificate"


async def test_file_over_20_mib_is_refused_without_downloading(
    server: FakeTelegramServer, bot: Bot
) -> None:
    channel = channel_for(bot, Conversation())
    huge = Attachment(kind="document", ref="huge", size=20 * 1024 * 1024 + 1)
    with pytest.raises(TelegramFileTooLarge):
        await channel.fetch(huge)
    assert server.calls == []  # not even getFile

    server.add_file("huge", b"", size=25 * 1024 * 1024)
    with pytest.raises(TelegramFileTooLarge):
        await channel.fetch(Attachment(kind="document", ref="huge"))  # size unknown up front
    assert [c.method for c in server.calls] == ["getFile"]
    assert server.downloads == []


async def test_file_size_reported_by_getfile_is_checked_and_so_are_the_bytes(
    server: FakeTelegramServer, bot: Bot
) -> None:
    channel = channel_for(bot, Conversation(), max_file_bytes=1000)
    server.add_file("declared", b"x" * 10, size=5000)
    with pytest.raises(TelegramFileTooLarge):
        await channel.fetch(Attachment(kind="photo", ref="declared"))
    assert server.downloads == []

    server.add_file("lying", b"x" * 200_000, size=10)  # claims 10 bytes, streams 200 kB
    with pytest.raises(TelegramFileTooLarge):
        await channel.fetch(Attachment(kind="photo", ref="lying"))


async def test_fetch_file_works_without_a_channel_as_the_effect_runner_uses_it(
    server: FakeTelegramServer, bot: Bot
) -> None:
    server.add_file("big", b"photo bytes")
    fetchers = {"telegram": functools.partial(fetch_file, bot)}
    assert await fetchers["telegram"](Attachment(kind="photo", ref="big")) == b"photo bytes"


async def test_fetch_failures_never_mention_the_token(server: FakeTelegramServer, bot: Bot) -> None:
    channel = channel_for(bot, Conversation())
    stored = server.add_file("gone", b"data", path="photos/gone.jpg")
    stored.downloadable = False  # the download link has expired
    with pytest.raises(TelegramFetchFailed) as failed:
        await channel.fetch(Attachment(kind="photo", ref="gone"))
    assert TOKEN not in str(failed.value) and "404" in str(failed.value)
    with pytest.raises(TelegramFetchFailed, match="invalid file_id"):
        await channel.fetch(Attachment(kind="photo", ref="unknown"))


# --- webhook ----------------------------------------------------------------------------------


async def test_webhook_checks_the_secret_and_processes_each_update_once(
    server: FakeTelegramServer, bot: Bot
) -> None:
    conversation = Conversation()
    channel = channel_for(bot, conversation, webhook_secret=SECRET)
    body = json.dumps(text_update(100000001, "/start")).encode()

    assert await channel.handle_webhook({}, body) == (401, {"ok": False})
    wrong = {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1] + "X"}
    assert await channel.handle_webhook(wrong, body) == (401, {"ok": False})
    assert conversation.inbounds == [] and server.calls == []

    # Starlette hands headers over lower-cased.
    right = {"x-telegram-bot-api-secret-token": SECRET}
    assert await channel.handle_webhook(right, body) == (200, {})
    assert await channel.handle_webhook(right, body) == (200, {})  # Telegram re-delivered
    assert len(conversation.inbounds) == 1
    assert len(server.calls_of("sendMessage")) == 1

    assert (await channel.handle_webhook(right, b"{not json"))[0] == 400
    assert (await channel.handle_webhook(right, b"[1, 2]"))[0] == 400


async def test_webhook_without_a_configured_secret_refuses_everything(bot: Bot) -> None:
    channel = channel_for(bot, Conversation())
    headers = {"X-Telegram-Bot-Api-Secret-Token": ""}
    assert (await channel.handle_webhook(headers, b"{}"))[0] == 401


async def test_webhook_answers_500_when_the_turn_failed_so_telegram_retries(
    server: FakeTelegramServer, bot: Bot
) -> None:
    def broken(_: Inbound) -> Sequence[Reply]:
        raise RuntimeError("database is down")

    channel = channel_for(bot, Conversation(broken), webhook_secret=SECRET)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    body = json.dumps(text_update(1, "/start")).encode()
    assert (await channel.handle_webhook(headers, body))[0] == 500


async def test_webhook_still_acknowledges_when_only_the_reply_failed(
    server: FakeTelegramServer, bot: Bot
) -> None:
    server.fail_next(error_code=403, description="Forbidden: bot was blocked by the user",
                     retry_after=None)  # fmt: skip
    conversation = Conversation()
    channel = channel_for(bot, conversation, webhook_secret=SECRET)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    body = json.dumps(text_update(1, "/start")).encode()
    assert await channel.handle_webhook(headers, body) == (200, {})
    assert len(conversation.inbounds) == 1


# --- polling ----------------------------------------------------------------------------------


async def test_polling_keeps_order_within_a_chat_and_runs_chats_side_by_side(
    server: FakeTelegramServer, bot: Bot
) -> None:
    release_first = asyncio.Event()
    order: list[str] = []
    stop = asyncio.Event()

    class Slow(Conversation):
        async def __call__(self, inbound: Inbound) -> Sequence[Reply]:
            if inbound.text == "a1":
                await release_first.wait()  # chat A's first message is slow
            order.append(inbound.text)
            if inbound.text == "b1":
                release_first.set()  # only possible if chat B ran while A waited
            if len(order) == 4:
                stop.set()
            return ()

    for update_id, text, user in [(1, "a1", CITIZEN), (2, "a2", CITIZEN), (3, "b1", OTHER)]:
        server.queue_update(text_update(update_id, text, user=user))
    channel = channel_for(bot, Slow())
    polling = asyncio.create_task(channel.poll(stop, poll_seconds=1))
    await asyncio.sleep(0.2)
    server.queue_update(text_update(4, "a3"))
    await asyncio.wait_for(polling, timeout=10)

    assert order == ["b1", "a1", "a2", "a3"]
    offsets = [c.params.get("offset") for c in server.calls_of("getUpdates")]
    assert offsets[:3] == [None, "4", "5"]  # each batch confirmed by asking past it
    assert server.calls_of("getUpdates")[0].params["allowed_updates"] == [
        "message",
        "callback_query",
    ]


async def test_polling_confirms_an_update_only_once_its_turn_is_done(
    server: FakeTelegramServer, bot: Bot
) -> None:
    """A crash mid-turn must not lose the message: Telegram keeps it until it is confirmed."""
    release = asyncio.Event()
    stop = asyncio.Event()
    seen: list[str] = []

    class Slow(Conversation):
        async def __call__(self, inbound: Inbound) -> Sequence[Reply]:
            seen.append(inbound.text)
            if inbound.text == "a1":
                await release.wait()
            return ()

    async def until(condition: Callable[[], bool]) -> None:
        for _ in range(1000):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("condition never met")

    server.queue_update(text_update(1, "a1"))
    server.queue_update(text_update(2, "b1", user=OTHER))
    polling = asyncio.create_task(channel_for(bot, Slow()).poll(stop, poll_seconds=1))
    await until(lambda: len(server.calls_of("getUpdates")) >= 3)

    held = [c.params.get("offset") for c in server.calls_of("getUpdates")[1:]]
    assert set(held) == {"1"}  # b1 is done, but a1 is still running: nothing is confirmed
    assert sorted(seen) == ["a1", "b1"]  # polled again, never dispatched twice
    release.set()
    await until(lambda: server.calls_of("getUpdates")[-1].params.get("offset") == "3")
    stop.set()
    await asyncio.wait_for(polling, timeout=10)
    assert sorted(seen) == ["a1", "b1"]


async def test_a_turn_that_never_ends_does_not_hold_the_offset_forever(
    server: FakeTelegramServer, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram returns at most 100 updates a call: a stuck turn must not stall every chat."""
    monkeypatch.setattr(telegram_module, "IN_FLIGHT_WAIT", 0.05)
    monkeypatch.setattr(telegram_module, "MAX_HOLD", 0.5)
    never = asyncio.Event()
    stop = asyncio.Event()

    class Stuck(Conversation):
        async def __call__(self, inbound: Inbound) -> Sequence[Reply]:
            if inbound.text == "a1":
                await never.wait()
            return ()

    server.queue_update(text_update(1, "a1"))
    polling = asyncio.create_task(channel_for(bot, Stuck()).poll(stop, poll_seconds=1))
    for _ in range(1000):
        offsets = [c.params.get("offset") for c in server.calls_of("getUpdates")]
        if "2" in offsets:
            break
        await asyncio.sleep(0.01)
    assert offsets[1] == "1"  # held while young
    assert "2" in offsets  # then let go
    never.set()
    stop.set()
    await asyncio.wait_for(polling, timeout=10)


async def test_polling_stops_promptly_while_waiting_for_updates(bot: Bot) -> None:
    stop = asyncio.Event()
    polling = asyncio.create_task(channel_for(bot, Conversation()).poll(stop, poll_seconds=20))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(polling, timeout=5)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("code", "description"),
    [(429, ""), (502, "Bad Gateway"), (409, "Conflict: terminated by other getUpdates request")],
)
async def test_polling_waits_out_errors_and_carries_on(
    server: FakeTelegramServer, bot: Bot, code: int, description: str
) -> None:
    retry_after = 1 if code == 429 else None
    server.fail_next(1, error_code=code, description=description, retry_after=retry_after,
                     method="getUpdates")  # fmt: skip
    server.queue_update(text_update(1, "/start"))
    stop = asyncio.Event()
    conversation = Conversation()

    original = conversation.__call__

    async def handle(inbound: Inbound) -> Sequence[Reply]:
        stop.set()
        return await original(inbound)

    channel = TelegramChannel(bot, handle, clock=lambda: NOW)
    await asyncio.wait_for(channel.poll(stop, poll_seconds=1), timeout=10)
    assert [i.text for i in conversation.inbounds] == ["/start"]
    assert len(server.calls_of("sendMessage")) == 1


# --- start-up ---------------------------------------------------------------------------------


async def test_startup_for_polling_sets_commands_and_removes_the_webhook(
    server: FakeTelegramServer, bot: Bot
) -> None:
    await channel_for(bot, Conversation()).startup(None, None)
    assert [c.method for c in server.calls] == ["setMyCommands", "deleteWebhook"]
    commands = server.calls[0].params["commands"]
    assert [c["command"] for c in commands] == ["start", "help", "huy", "hoso", "tinhnguyen"]
    assert all(c["description"] for c in commands)


async def test_startup_for_webhook_registers_url_secret_and_update_kinds(
    server: FakeTelegramServer, bot: Bot
) -> None:
    channel = channel_for(bot, Conversation())
    await channel.startup("https://motcua.example.vn/telegram/webhook", SECRET)
    [webhook] = server.calls_of("setWebhook")
    assert webhook.params["url"] == "https://motcua.example.vn/telegram/webhook"
    assert webhook.params["secret_token"] == SECRET
    assert webhook.params["allowed_updates"] == ["message", "callback_query"]
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    body = json.dumps(text_update(1, "/start")).encode()
    assert (await channel.handle_webhook(headers, body))[0] == 200


@pytest.mark.parametrize("secret", [None, "", "has space", "x" * 257])
async def test_startup_for_webhook_refuses_a_missing_or_malformed_secret(
    server: FakeTelegramServer, bot: Bot, secret: str | None
) -> None:
    with pytest.raises(ValueError, match="secret"):
        await channel_for(bot, Conversation()).startup("https://x.example/hook", secret)
    assert server.calls_of("setWebhook") == []


# --- with the real dialog engine --------------------------------------------------------------


async def test_a_conversation_with_the_real_engine_through_the_webhook(
    server: FakeTelegramServer, bot: Bot
) -> None:
    ctx = make_context()
    state: dict[str, Any] | None = None

    async def handle(inbound: Inbound) -> Sequence[Reply]:
        nonlocal state
        step = DIALOG.advance(state, inbound, ctx)
        state = json.loads(json.dumps(step.state))
        return step.replies

    channel = TelegramChannel(bot, handle, clock=lambda: NOW, webhook_secret=SECRET)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def deliver(update: dict[str, Any]) -> dict[str, Any]:
        assert await channel.handle_webhook(headers, json.dumps(update).encode()) == (200, {})
        return server.calls_of("sendMessage")[-1].params

    menu = await deliver(text_update(1, "/start"))
    keyboard = menu["reply_markup"]["inline_keyboard"]
    label, payload = keyboard[0][0]["text"], keyboard[0][0]["callback_data"]
    assert label == "Hỏi về thủ tục"
    buttons = tuple((b["text"], b["callback_data"]) for row in keyboard for b in row)
    asked = await deliver(callback_update(2, payload, buttons=buttons))
    assert asked["text"].startswith("Bạn cần làm thủ tục gì?")
    card = await deliver(text_update(3, "kết hôn"))
    assert "Đăng ký kết hôn" in card["text"]
    assert all(
        len(b["callback_data"].encode()) <= 64
        for row in card["reply_markup"]["inline_keyboard"]
        for b in row
    )
