"""Telegram channel: Bot API updates in, core values through ``handle``, replies out.

aiogram is used as a transport only (``Bot`` and its typed methods): no dispatcher, no FSM.
Update JSON is read by :mod:`handlers.telegram_updates`; this module sends, fetches files and
runs the webhook and the poller.

Two ways in, one way through:

- webhook (production): :meth:`TelegramChannel.handle_webhook` checks the secret header and
  processes the update before answering 200, so an update is acknowledged only once the
  service has committed its turn. Telegram keeps one update per chat in flight, so order holds.
- long polling (development): :meth:`TelegramChannel.poll` runs updates of one chat one after
  another and different chats side by side.

Duplicates (Telegram re-delivers until it gets a 2xx) are dropped by the service, which
de-duplicates on ``message_id = "u<update_id>"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import io
import json
import logging
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    GetFile,
    GetUpdates,
    SendDocument,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    SetWebhook,
)
from aiogram.methods.base import TelegramMethod
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dialogs.model import Attachment, ConversationKey, Inbound, Media, Reply
from dialogs.texts import telegram as texts
from handlers.channel import Conversations, Exclusive, WebOptions, capped_body
from handlers.files import MAX_DOWNLOAD, FileTooLarge
from handlers.telegram_updates import (
    CHANNEL,
    MAX_TEXT_UNITS,
    callback_query_id,
    inbound_from_update,
    is_foreign_contact,
    is_valid_payload,
    order_key,
)

log = logging.getLogger(__name__)

MAX_CAPTION_UNITS: Final = 1024
MAX_FILE_BYTES: Final = MAX_DOWNLOAD  # getFile refuses anything larger ("file is too big")
MAX_WEBHOOK_BODY: Final = 1024 * 1024  # one Update is a few kilobytes
MAX_SEND_ATTEMPTS: Final = 4
MAX_RETRY_WAIT: Final = 60.0  # seconds; a longer flood wait is not worth holding a turn for
POLL_TIMEOUT: Final = 30
POLL_BACKOFF_MAX: Final = 30.0
# While a turn runs, the next poll waits up to this long for it (or any turn) to finish.
IN_FLIGHT_WAIT: Final = 1.0
# An unfinished turn holds the offset back at most this long (seconds), then is confirmed.
MAX_HOLD: Final = 120.0
ALLOWED_UPDATES: Final = ("message", "callback_query")
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
SECRET_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")

Handler = Callable[[Inbound], Awaitable[Sequence[Reply]]]
Sleep = Callable[[float], Awaitable[None]]
# Told of every flood wait Telegram asks for (seconds), so whoever paces the bot's messages
# holds the others back too (bot.pacing.Pacer.back_off).
RetryAfterHook = Callable[[float], None]
T = TypeVar("T")


class TelegramFileTooLarge(FileTooLarge):
    """The file is over the download limit; refused before a byte was downloaded."""


class TelegramFetchFailed(Exception):
    """The file could not be downloaded. The message never contains the file URL (it holds
    the bot token)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


# --- Text out ---------------------------------------------------------------------------------


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """NFC text cut into messages of at most ``limit`` UTF-16 units, at line ends if possible.

    NFC first: Vietnamese typed in NFD takes up to three units per letter and would be cut
    in the middle of a letter.
    """
    text = unicodedata.normalize("NFC", text).strip()
    if utf16_units(text) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if utf16_units(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        *whole, current = _split_line(line, limit) or [""]
        chunks.extend(whole)
    if current:
        chunks.append(current)
    return [c.strip() for c in chunks if c.strip()]


def _split_line(line: str, limit: int) -> list[str]:
    """A line too long for one message: cut at spaces, a word too long at the limit."""
    pieces: list[str] = []
    current = ""
    for word in line.split(" "):
        candidate = f"{current} {word}" if current else word
        if utf16_units(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        while utf16_units(word) > limit:
            head = _prefix_within(word, limit)
            pieces.append(head)
            word = word[len(head) :]
        current = word
    if current:
        pieces.append(current)
    return pieces


def _prefix_within(text: str, limit: int) -> str:
    """The longest prefix of ``text`` within ``limit`` units (never half a surrogate pair)."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def _caption(text: str) -> str | None:
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        return None
    if utf16_units(text) <= MAX_CAPTION_UNITS:
        return text
    return _prefix_within(text, MAX_CAPTION_UNITS - 1).rstrip() + "…"


def inline_keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    for row in reply.buttons:
        kept = []
        for button in row:
            if not is_valid_payload(button.payload) or not button.text.strip():
                # The dialog promises payloads within Telegram's limit; this is a bug, and
                # one missing button is better than a reply that cannot be sent at all.
                log.error("button %r has an unusable payload; left out", button.text)
                continue
            kept.append(InlineKeyboardButton(text=button.text, callback_data=button.payload))
        if kept:
            rows.append(kept)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def contact_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=texts.CONTACT_BUTTON, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder=texts.CONTACT_PLACEHOLDER,
    )


Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup


# --- The channel ------------------------------------------------------------------------------


class TelegramChannel:
    """Talks to the Bot API through an aiogram ``Bot``, to the conversation through ``handle``.

    Started by the server (:meth:`start`) in one of two modes: with ``webhook_url`` it
    registers the webhook (every worker may take updates); without, it polls, one worker of
    the deployment at a time (``poller``, a lease: Telegram answers a second poller with 409).
    """

    name = CHANNEL

    def __init__(
        self,
        bot: Bot,
        handle: Handler,
        *,
        clock: Callable[[], datetime] = _utc_now,
        webhook_secret: str | None = None,
        webhook_url: str | None = None,
        poller: Exclusive | None = None,
        max_file_bytes: int = MAX_FILE_BYTES,
        sleep: Sleep = asyncio.sleep,
        concurrency: int = 32,
        on_retry_after: RetryAfterHook | None = None,
    ) -> None:
        self._bot = bot
        self._on_retry_after = on_retry_after
        self._handle = handle
        self._clock = clock
        self._secret = webhook_secret or None
        self._webhook_url = webhook_url
        self._poller = poller
        self._started: asyncio.Task[object] | None = None
        self._max_file_bytes = max_file_bytes
        self._sleep = sleep
        self._slots = asyncio.Semaphore(concurrency)
        self._tails: dict[str, asyncio.Task[None]] = {}
        # Update ids dispatched whose turn is not done, with when they were dispatched.
        self._unfinished: dict[int, float] = {}

    # --- start-up ---

    async def startup(self, webhook_url: str | None = None, secret: str | None = None) -> None:
        """Set the command menu, then either register the webhook or remove it for polling."""
        commands = [BotCommand(command=c, description=d) for c, d in texts.COMMANDS]
        await self._call(SetMyCommands(commands=commands))
        if webhook_url is None:
            await self._call(DeleteWebhook(drop_pending_updates=False))
            return
        secret = secret or self._secret
        if secret is None or not SECRET_PATTERN.fullmatch(secret):
            raise ValueError("a webhook needs a secret of 1-256 characters A-Z a-z 0-9 _ -")
        self._secret = secret
        await self._call(
            SetWebhook(
                url=webhook_url,
                secret_token=secret,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=False,
            )
        )

    async def start(self, stop: asyncio.Event) -> str | None:
        """The server's start: register the webhook, or poll while this worker may."""
        if self._webhook_url is not None:
            url, secret = self._webhook_url, self._secret
            self._started = asyncio.create_task(
                self._start_retrying(stop, url, secret), name="telegram-webhook"
            )
            return "Telegram on (webhook)"
        if self._poller is not None:
            holder = await self._poller.claim()
            if holder is not None:
                return (
                    f"Telegram is already polled by another worker ({holder}); this one does "
                    'not poll. To run several workers, set telegram.mode = "webhook".'
                )
            self._started = asyncio.create_task(
                self._poller.hold(self._poll_from_start, stop), name="telegram"
            )
        else:
            self._started = asyncio.create_task(self._poll_from_start(stop), name="telegram")
        return "Telegram on (polling)"

    async def shutdown(self) -> None:
        if self._started is not None:
            await self._started

    async def run(self, stop: asyncio.Event) -> None:
        return None  # no loop of its own: updates come by the webhook or the poller

    async def _poll_from_start(self, stop: asyncio.Event) -> None:
        if await self._start_retrying(stop, None):
            await self.poll(stop)

    async def _start_retrying(
        self, stop: asyncio.Event, url: str | None, secret: str | None = None
    ) -> bool:
        """:meth:`startup`, again with backoff while the Bot API cannot be reached; False if
        the server stopped first."""
        delay = 1.0
        while not stop.is_set():
            try:
                await self.startup(url, secret)
            except Exception as exc:  # network down, DNS, Telegram's 5xx: the same for us
                log.warning(
                    "Telegram API not reachable (%s); trying again in %.0f s",
                    type(exc).__name__,
                    delay,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                delay = min(delay * 2, 60.0)
            else:
                return True
        return False

    # --- webhook ---

    def routes(self, conversations: Conversations, web: WebOptions) -> APIRouter:
        """``POST /telegram/webhook``: who is asking, then how much (neither costs a byte of
        the body), then the update."""
        router = APIRouter()

        @router.post("/telegram/webhook")
        async def telegram_webhook(request: Request) -> JSONResponse:
            if not self.secret_ok(request.headers):
                return JSONResponse({"ok": False}, status_code=401)
            raw = await capped_body(request, self.body_limit)
            if raw is None:
                return JSONResponse({"ok": False}, status_code=413)
            status, body = await self.handle_webhook(request.headers, raw)
            return JSONResponse(body, status_code=status)

        return router

    body_limit = MAX_WEBHOOK_BODY  # the web server stops reading a webhook body there

    def secret_ok(self, headers: Mapping[str, str]) -> bool:
        """The webhook's secret header is ours: checked before a byte of the body is read."""
        given = _header(headers, SECRET_HEADER)
        return (
            self._secret is not None
            and given is not None
            and hmac.compare_digest(given.encode(), self._secret.encode())
        )

    async def handle_webhook(
        self, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Answer one webhook request: (HTTP status, JSON body).

        200 only after the update was processed, so a crash makes Telegram deliver it again
        (and the service drops it if the turn had in fact been committed).
        """
        if not self.secret_ok(headers):
            return 401, {"ok": False}
        if len(body) > MAX_WEBHOOK_BODY:
            return 413, {"ok": False}
        try:
            update = json.loads(body)
        except ValueError:
            return 400, {"ok": False}
        if not isinstance(update, dict):
            return 400, {"ok": False}
        try:
            await self.process(update)
        except Exception:
            # The turn was not committed: a non-2xx makes Telegram deliver the update again.
            log.exception("telegram update %s failed", update.get("update_id"))
            return 500, {"ok": False}
        return 200, {}

    # --- polling ---

    async def poll(self, stop: asyncio.Event, *, poll_seconds: int = POLL_TIMEOUT) -> None:
        """Long-poll getUpdates until ``stop`` is set, then let running updates finish.

        The offset confirms an update to Telegram only once its turn is done (committed and
        answered): a crash mid-turn leaves it unconfirmed, and it comes again after the
        restart (the service drops any whose turn had in fact been committed). While a turn
        is still running, later polls return it again; it is not dispatched twice.
        """
        try:
            await self._poll_until(stop, poll_seconds)
        finally:
            await self.drain()

    async def _poll_until(self, stop: asyncio.Event, poll_seconds: int) -> None:
        highest: int | None = None  # the newest update dispatched
        backoff = 1.0
        while not stop.is_set():
            if self._unfinished:
                # Asking now would only return the unfinished updates again at once: give the
                # oldest a moment to finish first.
                await self._wait_or_stop(stop, IN_FLIGHT_WAIT, self._first_done())
            held = self._held()
            offset = min(held) if held else None if highest is None else highest + 1
            request = GetUpdates(
                offset=offset,
                timeout=0 if held else poll_seconds,
                allowed_updates=list(ALLOWED_UPDATES),
            )
            getting = asyncio.ensure_future(self._bot(request, request_timeout=poll_seconds + 15))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not getting.done():
                # Unconfirmed updates of this poll come again next time; the service drops
                # any it has already handled.
                getting.cancel()
                await asyncio.wait({getting})
                if not getting.cancelled():
                    getting.exception()  # retrieved, so asyncio does not complain about it
                return
            try:
                updates = getting.result()
            except TelegramRetryAfter as exc:
                await self._wait_or_stop(stop, float(exc.retry_after))
                continue
            except (
                TelegramNetworkError,
                TelegramServerError,
                TelegramConflictError,
                ClientDecodeError,
            ) as exc:
                # 409: a webhook is still set or another poller runs; both may go away.
                # A bad token (401) is not retried: it needs the operator.
                log.warning(
                    "getUpdates failed (%s); retrying in %.0f s", type(exc).__name__, backoff
                )
                await self._wait_or_stop(stop, backoff)
                backoff = min(backoff * 2, POLL_BACKOFF_MAX)
                continue
            backoff = 1.0
            for update in updates:
                if highest is not None and update.update_id <= highest:
                    continue  # still running, or done since this poll went out
                highest = update.update_id
                self._unfinished[update.update_id] = time.monotonic()
                self._dispatch(update.model_dump(mode="json", exclude_none=True, by_alias=True))

    async def drain(self) -> None:
        """Wait until every dispatched update has been processed."""
        while self._tails:
            await asyncio.wait(set(self._tails.values()))

    def _dispatch(self, update: dict[str, Any]) -> None:
        key = order_key(update)
        previous = self._tails.get(key)
        task = asyncio.create_task(self._process_after(previous, update))
        self._tails[key] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._tails.get(key) is done:
                del self._tails[key]

        task.add_done_callback(forget)

    async def _process_after(
        self, previous: asyncio.Task[None] | None, update: dict[str, Any]
    ) -> None:
        if previous is not None:
            await asyncio.wait({previous})
        async with self._slots:
            try:
                await self.process(update)
            except Exception:
                log.exception("telegram update %s failed", update.get("update_id"))
            finally:
                # Done, or failed and logged: either way it may now be confirmed.
                self._unfinished.pop(update.get("update_id", -1), None)

    def _held(self) -> list[int]:
        """Unfinished updates still holding the offset back. One stuck for longer than
        ``MAX_HOLD`` is let go: Telegram returns at most 100 updates a call, so a turn that
        never ends would otherwise stall every chat behind it."""
        now = time.monotonic()
        for update_id, since in list(self._unfinished.items()):
            if now - since >= MAX_HOLD:
                del self._unfinished[update_id]
                log.warning(
                    "telegram update %s still running after %.0f s: confirmed", update_id, MAX_HOLD
                )
        return list(self._unfinished)

    def _first_done(self) -> asyncio.Future[Any] | None:
        running = set(self._tails.values())
        if not running:
            return None
        return asyncio.ensure_future(asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED))

    async def _wait_or_stop(
        self, stop: asyncio.Event, seconds: float, also: asyncio.Future[Any] | None = None
    ) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        waiters: set[asyncio.Future[Any]] = {stopping} if also is None else {stopping, also}
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    # --- one update ---

    async def process(self, update: dict[str, Any]) -> None:
        """Parse, hand to the conversation, send the replies in order.

        Raises when ``handle`` fails (the turn was not committed); a failure to send is only
        logged, since the turn is committed and a re-delivery would be dropped as a duplicate.
        """
        query_id = callback_query_id(update)
        if query_id is not None:
            # First, so the button stops spinning while the dialog works.
            await self._answer_callback(query_id)
        inbound = inbound_from_update(update, self._clock())
        if inbound is None:
            return
        replies = list(await self._handle(inbound))
        if is_foreign_contact(update):
            replies.insert(0, Reply(text=texts.OWN_NUMBER_ONLY))
        try:
            await self.send(inbound.key.chat_id, replies)
        except TelegramAPIError as exc:
            log.warning(
                "replying to update %s failed: %s", update.get("update_id"), type(exc).__name__
            )

    async def _answer_callback(self, query_id: str) -> None:
        try:
            await self._call(AnswerCallbackQuery(callback_query_id=query_id))
        except TelegramAPIError as exc:
            # Too old (a re-delivery) or a hiccup: the press itself still counts.
            log.info("answerCallbackQuery failed: %s", type(exc).__name__)

    # --- sending ---

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> None:
        """Send replies in order. Raises ``TelegramAPIError`` if Telegram refuses one."""
        for reply in replies:
            await self._send_reply(chat_id, reply)

    async def push(self, key: ConversationKey, replies: Sequence[Reply]) -> bool:
        """Write first (a receipt, a notice): a bot may always write to a chat it knows."""
        await self.send(key.chat_id, replies)
        return True

    async def _send_reply(self, chat_id: str, reply: Reply) -> None:
        inline = inline_keyboard(reply)
        media = [(m, True) for m in reply.images] + [(m, False) for m in reply.documents]
        chunks = split_text(reply.text)
        if not chunks and not media and (inline or reply.request_contact):
            chunks = [texts.CHOOSE]
        # The keyboard goes on the last message, so it sits under everything this reply shows.
        # A message has one keyboard: a contact request next to inline buttons gets its own.
        contact_apart = reply.request_contact and inline is not None
        last_markup: Markup | None = inline
        if reply.request_contact and inline is None:
            last_markup = contact_keyboard()
        total = len(chunks) + len(media)
        sent = 0
        for chunk in chunks:
            sent += 1
            markup = last_markup if sent == total else None
            await self._call(
                SendMessage(chat_id=chat_id, text=chunk, reply_markup=markup, parse_mode=None)
            )
        for item, is_image in media:
            sent += 1
            markup = last_markup if sent == total else None
            await self._send_media(chat_id, item, is_image, markup)
        if contact_apart:
            await self._call(
                SendMessage(
                    chat_id=chat_id,
                    text=texts.CONTACT_PROMPT,
                    reply_markup=contact_keyboard(),
                    parse_mode=None,
                )
            )

    async def _send_media(
        self, chat_id: str, media: Media, is_image: bool, markup: Markup | None
    ) -> None:
        upload = BufferedInputFile(media.data, filename=media.filename or "file")
        caption = _caption(media.caption)
        if is_image:
            try:
                await self._call(
                    SendPhoto(
                        chat_id=chat_id,
                        photo=upload,
                        caption=caption,
                        reply_markup=markup,
                        parse_mode=None,
                    )
                )
                return
            except TelegramBadRequest as exc:
                # Too big or an odd shape for a photo (sendPhoto: 10 MB, sides): as a file.
                log.info("sendPhoto refused (%s); sending as a document", exc.message)
        await self._call(
            SendDocument(
                chat_id=chat_id,
                document=upload,
                caption=caption,
                reply_markup=markup,
                parse_mode=None,
            )
        )

    async def _call(self, method: TelegramMethod[T]) -> T:
        return await call_bot(
            self._bot, method, sleep=self._sleep, on_retry_after=self._on_retry_after
        )

    async def fetch(self, attachment: Attachment) -> bytes:
        """The bytes of a file the user sent (see :func:`fetch_file`)."""
        return await fetch_file(
            self._bot, attachment, max_file_bytes=self._max_file_bytes, sleep=self._sleep
        )


async def call_bot(
    bot: Bot,
    method: TelegramMethod[T],
    *,
    sleep: Sleep = asyncio.sleep,
    on_retry_after: RetryAfterHook | None = None,
) -> T:
    """One Bot API call, waiting out 429s a bounded number of times (each one reported to
    ``on_retry_after`` first, also the one not waited out)."""
    for attempt in range(1, MAX_SEND_ATTEMPTS + 1):
        try:
            return await bot(method)
        except TelegramRetryAfter as exc:
            if on_retry_after is not None:
                on_retry_after(float(exc.retry_after))
            if attempt == MAX_SEND_ATTEMPTS or exc.retry_after > MAX_RETRY_WAIT:
                raise
            log.info(
                "%s: flood wait %s s (attempt %d)", type(method).__name__, exc.retry_after, attempt
            )
            await sleep(float(exc.retry_after))
    raise AssertionError("unreachable")  # the loop returns or raises


async def fetch_file(
    bot: Bot,
    attachment: Attachment,
    *,
    max_file_bytes: int = MAX_FILE_BYTES,
    sleep: Sleep = asyncio.sleep,
) -> bytes:
    """The bytes of a file the user sent, by its ``file_id`` (``attachment.ref``).

    Raises :class:`TelegramFileTooLarge` before downloading when the file is over the limit
    (by the size the update or getFile reports, and again while reading), and
    :class:`TelegramFetchFailed` for anything else. Needs only the bot, so it can be
    registered as the effect runner's fetcher before any channel exists.
    """
    if attachment.size is not None and attachment.size > max_file_bytes:
        raise TelegramFileTooLarge(f"{attachment.size} bytes")
    try:
        file = await call_bot(bot, GetFile(file_id=attachment.ref), sleep=sleep)
    except TelegramBadRequest as exc:
        if "too big" in exc.message:
            raise TelegramFileTooLarge("refused by getFile") from None
        raise TelegramFetchFailed(f"getFile: {exc.message}") from None
    except TelegramAPIError as exc:
        raise TelegramFetchFailed(f"getFile: {type(exc).__name__}") from None
    if file.file_size is not None and file.file_size > max_file_bytes:
        raise TelegramFileTooLarge(f"{file.file_size} bytes")
    if not file.file_path:
        raise TelegramFetchFailed("getFile gave no file_path")
    return await _download(bot, file.file_path, max_file_bytes)


async def _download(bot: Bot, file_path: str, limit: int) -> bytes:
    session = bot.session
    if session.api.is_local:
        buffer = io.BytesIO()
        await bot.download_file(file_path, destination=buffer)
        data = buffer.getvalue()
        if len(data) > limit:
            raise TelegramFileTooLarge(f"{len(data)} bytes")
        return data
    # The URL holds the bot token: it is built here and never logged or put in an error.
    url = session.api.file_url(bot.token, file_path)
    received = bytearray()
    try:
        async for chunk in session.stream_content(url=url, timeout=60, chunk_size=65536):
            received += chunk
            if len(received) > limit:
                raise TelegramFileTooLarge(f"over {limit} bytes")
    except TelegramFileTooLarge:
        raise
    except Exception as exc:
        status = getattr(exc, "status", None)
        raise TelegramFetchFailed(
            f"download: {type(exc).__name__}" + (f" {status}" if status else "")
        ) from None
    return bytes(received)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.casefold()
    for key, candidate in headers.items():
        if key.casefold() == wanted:
            return candidate
    return None
