"""One citizen per channel, speaking that channel's real wire protocol to a running deployment.

Every driver turns the transcript's actions into what the platform would send (a typed line, a
WebSocket frame, a Telegram update, a signed Zalo event) and reads back what the citizen would
see, as a :class:`Screen`. Only what a channel legitimately changes is undone when reading:

- terminal: buttons printed as "  N. label" lines (typing N presses it), or as "  • label"
  lines when the question wants a number (typing the label presses it), files described as
  "[Tệp: …]" / "[Ảnh: …]" lines, and a hint line under a request for the phone number;
- web: nothing (frames carry text and buttons as they are);
- Telegram (through the webhook route, and through long polling as ``motcua run`` starts it):
  inline keyboards carry the buttons (possibly under a file), "Mời bạn chọn:" stands in for an
  empty text, and the phone request gets a message of its own for its keyboard;
- Zalo: buttons as "N. label" lines closing each reply (numbered across the turn) plus one
  "(Gõ số để chọn…)" hint, or "• label" lines and a "type the words" hint when the question
  wants a number; long texts split in several messages, a file's caption sent as a text just
  before it.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import itertools
import json
import queue
import re
import time
import unicodedata
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bot.app import App, Knowledge, build_app
from bot.config import Settings, TelegramSettings, ZaloSettings
from bot.zalo_inbox import ZaloInbox
from dialogs.model import Attachment, Button, ConversationKey, Inbound
from dialogs.texts import common as common_texts
from dialogs.texts import telegram as telegram_texts
from dialogs.texts import zalo as zalo_texts
from handlers import webchat
from handlers.telegram import SECRET_HEADER, TelegramChannel
from handlers.terminal import TerminalChannel
from handlers.webchat import SESSION_COOKIE
from handlers.zalo import ZaloChannel
from storage.migrate import upgrade
from tests.channels.deployment import TELEGRAM_SECRET, ZALO_OA_SECRET, Deployment
from tests.channels.transcript import (
    ChannelDriver,
    Screen,
    Step,
    find_button,
    play,
    screen_of,
)
from tests.fakes.telegram_server import (
    CITIZEN,
    Call,
    FakeTelegramServer,
    callback_update,
    photo_update,
    text_update,
)
from tests.fakes.zalo_server import Delivered, FakeZalo

CHANNELS = ("terminal", "web", "telegram", "telegram-polling", "zalo")
TURN_TIMEOUT = 15.0  # seconds; a turn takes well under one

Document = tuple[str, bytes]  # a file the citizen received: its name and bytes


async def eventually(found: Callable[[], list[Document]]) -> list[Document]:
    """What ``found`` returns once it returns something (files sent by a background worker)."""
    deadline = time.monotonic() + TURN_TIMEOUT
    while not (result := found()):
        assert time.monotonic() < deadline, "nothing arrived"
        await asyncio.sleep(0.01)
    return result


async def arrived(look: Callable[[], Screen | None], expect: str) -> Screen:
    """The screen ``look`` returns once it shows ``expect`` (a notice pushed by the notifier)."""
    deadline = time.monotonic() + TURN_TIMEOUT
    while True:
        screen = look()
        if screen is not None and expect in screen.text:
            return screen
        assert time.monotonic() < deadline, f"no message showing {expect!r}; last: {screen}"
        await asyncio.sleep(0.01)


# --- No channel: the reference --------------------------------------------------------------


class CoreDriver:
    """Inbound values straight into the conversation service: what every channel must show."""

    name = "core"

    def __init__(self, app: App) -> None:
        self._app = app
        self.key = ConversationKey(channel="reference", chat_id="ref", user_id="ref")
        self._ids = itertools.count(1)
        self._buttons: tuple[Button, ...] = ()
        self._photos: dict[str, bytes] = {}
        app.fetchers["reference"] = self._fetch

    async def _fetch(self, attachment: Attachment) -> bytes:
        return self._photos[attachment.ref]

    async def _turn(
        self, text: str = "", payload: str | None = None, attachments: tuple[Attachment, ...] = ()
    ) -> Screen:
        inbound = Inbound(
            key=self.key,
            message_id=f"ref-{next(self._ids)}",
            received_at=datetime.now(UTC),
            text=text,
            payload=payload,
            attachments=attachments,
        )
        replies = await self._app.service.replies(inbound)
        self._buttons = tuple(b for reply in replies for b in reply.flat_buttons())
        return screen_of((r.text for r in replies), (b.text for b in self._buttons))

    async def start(self) -> Screen:
        return await self._turn("/start")

    async def type(self, text: str) -> Screen:
        return await self._turn(text)

    async def press(self, label: str) -> Screen:
        index = find_button(self.name, [b.text for b in self._buttons], label)
        button = self._buttons[index]
        return await self._turn(button.text, button.payload)

    async def send_photo(self, data: bytes) -> Screen:
        ref = hashlib.sha256(data).hexdigest()
        self._photos[ref] = data
        return await self._turn(attachments=(Attachment(kind="photo", ref=ref),))


async def reference_screens(
    settings: Settings, knowledge: Knowledge, steps: Sequence[Step], photo: bytes, folder: Path
) -> list[Screen]:
    """The transcript played on a separate, channel-less app with its own database."""
    alone = settings.model_copy(
        update={
            "database": settings.database.model_copy(
                update={"url": f"sqlite+aiosqlite:///{folder}/core.sqlite3"}
            ),
            "files": settings.files.model_copy(update={"path": folder / "core-files"}),
            "telegram": TelegramSettings(),
            "zalo": ZaloSettings(),
        }
    )
    await upgrade(alone.database.url)
    async with build_app(alone, knowledge, deliver=False) as app:
        return await play(CoreDriver(app), steps, photo)


# --- Terminal --------------------------------------------------------------------------------

_TERMINAL_BUTTON = re.compile(r" {2}(\d+)\. (.+)")
_TERMINAL_WORD_BUTTON = re.compile(r" {2}• (.+)")
_TERMINAL_FILE = re.compile(r"\[(Ảnh|Tệp): .*")


class _FedLines(io.StringIO):
    """A pipe as stdin: lines arrive when the test feeds them; asking for one ends a turn.

    The channel reads stdin in a worker thread only after it has printed every reply of the
    line before, so "it asks for the next line" is exactly "this turn is over".
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, asked: asyncio.Event) -> None:
        super().__init__()
        self._loop = loop
        self._asked = asked
        self._lines: queue.Queue[str] = queue.Queue()

    # typeshed's own TextIOBase.readline needs the same ignore (its _IOBase says bytes).
    def readline(self, size: int = -1, /) -> str:  # type: ignore[override]
        self._loop.call_soon_threadsafe(self._asked.set)
        try:
            return self._lines.get(timeout=TURN_TIMEOUT * 4)
        except queue.Empty:
            return ""  # end of input: the channel stops, so a failed test never hangs

    def isatty(self) -> bool:
        return False

    def feed(self, line: str) -> None:
        self._lines.put(line + "\n")

    def end(self) -> None:
        self._lines.put("")


class TerminalDriver:
    name = "terminal"

    def __init__(self, app: App, folder: Path, user: str = "bac-an") -> None:
        self.key = ConversationKey(channel="terminal", chat_id=user, user_id=user)
        self._folder = folder
        self._asked = asyncio.Event()
        self.stdin = _FedLines(asyncio.get_running_loop(), self._asked)
        self._stdout = io.StringIO()
        self._received = folder / "received"
        self._channel = TerminalChannel(
            app.service.replies, self.stdin, self._stdout, user=user, files_dir=self._received
        )
        app.push.register("terminal", self._channel.push)  # as `motcua chat` does
        self._running: asyncio.Task[None] | None = None
        self._buttons: tuple[str, ...] = ()
        self._by_words = False
        self._photos = itertools.count(1)
        self._seen = 0  # how much of stdout the citizen has read

    async def _turn(self, line: str | None) -> Screen:
        mark = len(self._stdout.getvalue())
        self._asked.clear()
        if self._running is None:
            self._running = asyncio.create_task(self._channel.run(), name="terminal")
        if line is not None:
            self.stdin.feed(line)
        asked = asyncio.create_task(self._asked.wait())
        done, _ = await asyncio.wait(
            {asked, self._running}, timeout=TURN_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        asked.cancel()
        if self._running in done:
            self._running.result()
            raise AssertionError("the terminal channel stopped in the middle of the transcript")
        if not done:
            raise AssertionError(f"the terminal gave no answer to {line!r}")
        output = self._stdout.getvalue()[mark:]
        self._seen = len(self._stdout.getvalue())
        screen = self._screen(output)
        self._buttons = screen.buttons
        self._by_words = any(_TERMINAL_WORD_BUTTON.fullmatch(x) for x in output.split("\n"))
        return screen

    async def notice(self, expect: str) -> Screen:
        screen = await arrived(lambda: self._screen(self._stdout.getvalue()[self._seen :]), expect)
        self._seen = len(self._stdout.getvalue())
        self._buttons = screen.buttons
        self._by_words = False
        return screen

    @staticmethod
    def _screen(output: str) -> Screen:
        texts: list[str] = []
        buttons: list[str] = []
        for line in output.split("\n"):
            numbered = _TERMINAL_BUTTON.fullmatch(line)
            worded = _TERMINAL_WORD_BUTTON.fullmatch(line)
            if numbered and int(numbered[1]) == len(buttons) + 1:
                buttons.append(numbered[2])
            elif worded:
                buttons.append(worded[1])
            elif not _TERMINAL_FILE.match(line) and line != common_texts.TERMINAL_CONTACT_HINT:
                texts.append(line)
        return screen_of(texts, buttons)

    async def start(self) -> Screen:
        return await self._turn(None)  # the channel greets by itself

    async def type(self, text: str) -> Screen:
        return await self._turn(text)

    async def press(self, label: str) -> Screen:
        index = find_button(self.name, self._buttons, label)
        # Buttons shown as bullets (the question wants a number) are pressed by their words.
        return await self._turn(self._buttons[index] if self._by_words else str(index + 1))

    async def send_photo(self, data: bytes) -> Screen:
        path = self._folder / f"anh-{next(self._photos)}.jpg"
        path.write_bytes(data)
        return await self._turn(f"/anh {path}")

    async def documents(self) -> list[Document]:
        def saved() -> list[Document]:
            if not self._received.is_dir():
                return []
            return [(p.name, p.read_bytes()) for p in sorted(self._received.glob("*.pdf"))]

        return await eventually(saved)

    async def close(self) -> None:
        self.stdin.end()
        if self._running is not None:
            await asyncio.wait_for(self._running, TURN_TIMEOUT)


# --- Web chat ------------------------------------------------------------------------------------


class WebDriver:
    name = "web"

    def __init__(self, http: httpx.AsyncClient, socket: ClientConnection, session: str) -> None:
        self.key = webchat.conversation_key(session)
        self._http = http
        self._socket = socket
        self._ids = itertools.count(1)
        self._buttons: list[tuple[str, str]] = []

    async def _turn(self, frame: dict[str, Any]) -> Screen:
        frame_id = f"pg7k-{next(self._ids)}"
        await self._socket.send(json.dumps({**frame, "id": frame_id}, ensure_ascii=False))
        replies: list[dict[str, Any]] = []
        while True:
            got = json.loads(await asyncio.wait_for(self._socket.recv(), TURN_TIMEOUT))
            if got == webchat.done_frame(frame_id):
                break
            assert got["type"] == "reply" and got["re"] == frame_id, got
            replies.append(got)
        self._buttons = [
            (b["text"], b["payload"]) for f in replies for row in f["buttons"] for b in row
        ]
        return screen_of((f["text"] for f in replies), (label for label, _ in self._buttons))

    async def notice(self, expect: str) -> Screen:
        """Frames the page was sent without asking (``re`` of a push), until one shows it."""
        frames: list[dict[str, Any]] = []
        deadline = time.monotonic() + TURN_TIMEOUT
        while not any(expect in unicodedata.normalize("NFC", f["text"]) for f in frames):
            left = deadline - time.monotonic()
            assert left > 0, f"no message showing {expect!r}; got {frames}"
            got = json.loads(await asyncio.wait_for(self._socket.recv(), left))
            if got["type"] == "reply" and str(got["re"]).startswith("push-"):
                frames.append(got)
        self._buttons = [
            (b["text"], b["payload"]) for f in frames for row in f["buttons"] for b in row
        ]
        return screen_of((f["text"] for f in frames), (label for label, _ in self._buttons))

    async def start(self) -> Screen:
        return await self._turn({"type": "start"})

    async def type(self, text: str) -> Screen:
        return await self._turn({"type": "text", "text": text})

    async def press(self, label: str) -> Screen:
        index = find_button(self.name, [label for label, _ in self._buttons], label)
        return await self._turn({"type": "button", "payload": self._buttons[index][1]})

    async def documents(self) -> list[Document]:
        """The files of the next message the page is sent without asking (the receipt)."""
        while True:
            got = json.loads(await asyncio.wait_for(self._socket.recv(), TURN_TIMEOUT))
            if got["type"] == "reply" and got["documents"]:
                break
        found = []
        for document in got["documents"]:
            answer = await self._http.get(document["url"])
            assert answer.status_code == 200, document
            name = document["url"].rsplit("/", 1)[-1]
            disposition = answer.headers.get("content-disposition", "")
            match = re.search(r'filename="([^"]+)"', disposition)
            found.append((match[1] if match else name, answer.content))
        return found

    async def send_photo(self, data: bytes) -> Screen:
        uploaded = await self._http.post(
            "/upload", files={"file": ("uy-quyen.jpg", data, "image/jpeg")}
        )
        assert uploaded.status_code == 200, uploaded.text
        return await self._turn({"type": "photo", "refs": [uploaded.json()["ref"]]})


@asynccontextmanager
async def web_driver(deployment: Deployment) -> AsyncIterator[WebDriver]:
    async with httpx.AsyncClient(base_url=deployment.base_url, timeout=TURN_TIMEOUT) as http:
        page = await http.get("/")
        assert page.status_code == 200
        session = http.cookies[SESSION_COOKIE]
        url = deployment.base_url.replace("http://", "ws://") + "/ws"
        cookie = {"Cookie": f"{SESSION_COOKIE}={session}"}
        async with connect(url, additional_headers=cookie) as socket:
            yield WebDriver(http, socket, session)


# --- Telegram ------------------------------------------------------------------------------------

Keyboard = tuple[tuple[str, str], ...]


class TelegramDriver:
    """Updates POSTed to our webhook route as Telegram would; replies read off the fake API."""

    name = "telegram"

    def __init__(self, http: httpx.AsyncClient, api: FakeTelegramServer) -> None:
        self.key = ConversationKey(channel="telegram", chat_id=str(CITIZEN), user_id=str(CITIZEN))
        self._http = http
        self._api = api
        self._update_ids = itertools.count(100_000_001)
        self._keyboards: list[Keyboard] = []
        self._seen = 0  # the API calls the citizen has looked at

    async def _deliver(self, update: dict[str, Any]) -> Screen:
        mark = len(self._api.calls)
        answer = await self._http.post(
            "/telegram/webhook",
            content=json.dumps(update, ensure_ascii=False).encode(),
            headers={SECRET_HEADER: TELEGRAM_SECRET, "Content-Type": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        self._seen = len(self._api.calls)
        return self._screen(self._api.calls[mark:])

    async def notice(self, expect: str) -> Screen:
        mark = self._seen

        def look() -> Screen:
            calls = [c for c in self._api.calls[mark:] if c.method != "getUpdates"]
            return self._screen(calls)

        screen = await arrived(look, expect)
        self._seen = len(self._api.calls)
        return screen

    def _screen(self, calls: Sequence[Call]) -> Screen:
        texts: list[str] = []
        self._keyboards = []
        for call in calls:
            if call.params.get("chat_id") != str(CITIZEN):
                continue  # answerCallbackQuery, getFile
            markup = call.params.get("reply_markup")
            markup = markup if isinstance(markup, dict) else {}
            inline = markup.get("inline_keyboard")
            if inline:
                self._keyboards.append(
                    tuple((b["text"], b["callback_data"]) for row in inline for b in row)
                )
            if call.method != "sendMessage":
                continue  # a photo or file: not part of the screen
            text = call.params["text"]
            asks_contact = any(
                b.get("request_contact") for r in markup.get("keyboard", []) for b in r
            )
            if text == telegram_texts.CHOOSE or (
                asks_contact and text == telegram_texts.CONTACT_PROMPT
            ):
                continue
            texts.append(text)
        return screen_of(texts, (label for kb in self._keyboards for label, _ in kb))

    async def start(self) -> Screen:
        return await self._deliver(text_update(next(self._update_ids), "/start"))

    async def type(self, text: str) -> Screen:
        return await self._deliver(text_update(next(self._update_ids), text))

    async def press(self, label: str) -> Screen:
        shown = [(kb, data, text) for kb in self._keyboards for text, data in kb]
        index = find_button(self.name, [text for _, _, text in shown], label)
        keyboard, data, _ = shown[index]
        update_id = next(self._update_ids)
        return await self._deliver(
            callback_update(update_id, data, query_id=f"cbq-{update_id}", buttons=keyboard)
        )

    async def documents(self) -> list[Document]:
        def sent() -> list[Document]:
            return [
                (c.files["document"].filename, c.files["document"].data)
                for c in self._api.calls_of("sendDocument")
                if c.params.get("chat_id") == str(CITIZEN) and "document" in c.files
            ]

        return await eventually(sent)

    async def send_photo(self, data: bytes) -> Screen:
        update_id = next(self._update_ids)
        file_id = f"AgACAgIAAxkBAAI{update_id}"
        self._api.add_file(file_id, data, path=f"photos/file_{update_id}.jpg")
        return await self._deliver(photo_update(update_id, file_id))


class TelegramPollingDriver(TelegramDriver):
    """The default mode: the channel long-polls getUpdates, as ``motcua run`` starts it."""

    name = "telegram-polling"

    def __init__(
        self, http: httpx.AsyncClient, api: FakeTelegramServer, channel: TelegramChannel
    ) -> None:
        super().__init__(http, api)
        self._channel = channel

    async def _deliver(self, update: dict[str, Any]) -> Screen:
        mark = len(self._api.calls)
        self._api.queue_update(update)
        # The poller asks past an update only after handing it to its chat's queue; from
        # then on drain() waits for that turn and its replies.
        deadline = time.monotonic() + TURN_TIMEOUT
        while not any(
            int(c.params.get("offset") or 0) > update["update_id"]
            for c in self._api.calls_of("getUpdates")
        ):
            assert time.monotonic() < deadline, f"update {update['update_id']} was never polled"
            await asyncio.sleep(0.005)
        await asyncio.wait_for(self._channel.drain(), TURN_TIMEOUT)
        self._seen = len(self._api.calls)
        return self._screen([c for c in self._api.calls[mark:] if c.method != "getUpdates"])


@asynccontextmanager
async def telegram_polling_driver(deployment: Deployment) -> AsyncIterator[TelegramDriver]:
    channel = deployment.app.channels.of("telegram", TelegramChannel)
    await channel.startup(None)  # command menu, webhook removed: what `motcua run` does
    stop = asyncio.Event()
    polling = asyncio.create_task(channel.poll(stop, poll_seconds=5), name="telegram-poll")
    try:
        async with httpx.AsyncClient(base_url=deployment.base_url, timeout=TURN_TIMEOUT) as http:
            yield TelegramPollingDriver(http, deployment.telegram_api, channel)
    finally:
        stop.set()
        await asyncio.wait_for(polling, TURN_TIMEOUT)


# --- Zalo ------------------------------------------------------------------------------------

ZALO_USER = "2468458835296197922"  # longer than a double holds: ids stay strings
ZALO_OA = "388613280879808645"
_ZALO_CHOICE = re.compile(r"(\d+)\. (.+)")


# Zalo message ids are unique for good: a driver opened again (after a restart) goes on.
_ZALO_MESSAGES = itertools.count(1)


class ZaloDriver:
    """Signed events POSTed to our webhook route; replies read off the fake OA API."""

    name = "zalo"

    def __init__(self, http: httpx.AsyncClient, api: FakeZalo, app: App) -> None:
        self.key = ConversationKey(channel="zalo", chat_id=ZALO_USER, user_id=ZALO_USER)
        self._http = http
        self._api = api
        self._serial = _ZALO_MESSAGES
        self._app = app
        self._buttons: tuple[str, ...] = ()
        self._by_words = False
        self._seen = 0  # the messages the citizen has read

    async def _deliver(self, name: str, fields: dict[str, Any]) -> Screen:
        serial = next(self._serial)
        timestamp = str(int(time.time() * 1000) + serial)  # recent: older events are refused
        event = {"app_id": self._api.app_id, "event_name": name, **fields, "timestamp": timestamp}
        body = json.dumps(event, ensure_ascii=False).encode()
        mac = hashlib.sha256(
            self._api.app_id.encode() + body + timestamp.encode() + ZALO_OA_SECRET.encode()
        ).hexdigest()
        mark = len(self._api.delivered)
        answer = await self._http.post(
            "/zalo/webhook",
            content=body,
            headers={"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        # Answered before the turn (bot/zalo_inbox.py): the replies come once it is handled.
        inbox = self._app.channels.of("zalo", ZaloChannel).inbox
        assert isinstance(inbox, ZaloInbox)
        await asyncio.wait_for(inbox.settled(), TURN_TIMEOUT)
        delivered = [d for d in self._api.delivered[mark:] if d.user_id == ZALO_USER]
        # A turn's replies answer the citizen's message (free for the OA, not proactive). A
        # notice pushed meanwhile (the receipt of a dossier handed over) is proactive: no id.
        msg_id = (fields.get("message") or {}).get("msg_id", "")
        assert all(d.reply_to in (msg_id, "") for d in delivered), (msg_id, delivered)
        assert not delivered or not msg_id or any(d.reply_to == msg_id for d in delivered), (
            msg_id,
            delivered,
        )
        self._seen = len(self._api.delivered)
        if msg_id:
            # The turn's screen is its answer: a notice pushed meanwhile may land between its
            # messages (a receipt's caption before the answer, its file after it), and would
            # pair the answer with that file as if it were the file's caption.
            delivered = [d for d in delivered if d.reply_to == msg_id]
        screen = self._screen(delivered)
        self._buttons = screen.buttons
        self._by_words = any(
            d.text.endswith(zalo_texts.TYPE_WORDS_HINT) for d in delivered if d.text
        )
        return screen

    async def notice(self, expect: str) -> Screen:
        mark = self._seen

        def look() -> Screen:
            return self._screen([d for d in self._api.delivered[mark:] if d.user_id == ZALO_USER])

        screen = await arrived(look, expect)
        self._seen = len(self._api.delivered)
        self._buttons = screen.buttons
        self._by_words = False
        return screen

    @staticmethod
    def _screen(items: Sequence[Delivered]) -> Screen:
        texts: list[str] = []
        buttons: list[str] = []
        for index, item in enumerate(items):
            if item.file_data is not None or item.image is not None:
                continue
            following = items[index + 1] if index + 1 < len(items) else None
            if following is not None and following.file_data is not None:
                continue  # the caption of the file right after it
            lines = item.text.split("\n")
            if lines[-1] == zalo_texts.TYPE_WORDS_HINT:
                # The question wants a number: the closing "• label" lines are the buttons.
                lines.pop()
                start = len(lines)
                while start > 0 and lines[start - 1].startswith("• "):
                    start -= 1
                texts.extend(lines[:start])
                buttons.extend(line.removeprefix("• ") for line in lines[start:])
                continue
            if lines[-1] == zalo_texts.CHOOSE_HINT:
                lines.pop()
            tail = _numbered_tail(lines, len(buttons) + 1)
            texts.extend(lines[:tail])
            for line in lines[tail:]:
                choice = _ZALO_CHOICE.fullmatch(line)
                assert choice is not None
                buttons.append(choice[2])
        return screen_of(texts, buttons)

    def _message(self, message: dict[str, Any]) -> dict[str, Any]:
        if "msg_id" in message:  # the fake API knows whose message an answer may name
            self._api.user_messages[message["msg_id"]] = ZALO_USER
        return {"sender": {"id": ZALO_USER}, "recipient": {"id": ZALO_OA}, "message": message}

    def _msg_id(self) -> str:
        return f"9{next(self._serial):018d}"

    async def start(self) -> Screen:
        follower = {"oa_id": ZALO_OA, "follower": {"id": ZALO_USER}, "source": "oa_profile"}
        return await self._deliver("follow", follower)

    async def type(self, text: str) -> Screen:
        message = {"text": text, "msg_id": self._msg_id()}
        return await self._deliver("user_send_text", self._message(message))

    async def press(self, label: str) -> Screen:
        index = find_button(self.name, self._buttons, label)
        # Buttons shown as bullets (the question wants a number) are pressed by their words.
        return await self.type(self._buttons[index] if self._by_words else str(index + 1))

    async def documents(self) -> list[Document]:
        def sent() -> list[Document]:
            return [
                (d.file_name, d.file_data)
                for d in self._api.delivered
                if d.user_id == ZALO_USER and d.file_data is not None
            ]

        return await eventually(sent)

    async def send_photo(self, data: bytes) -> Screen:
        msg_id = self._msg_id()
        url = self._api.add_attachment(f"{msg_id}.jpg", data)
        attachment = {"type": "image", "payload": {"thumbnail": url, "url": url}}
        message = {"msg_id": msg_id, "text": "", "attachments": [attachment]}
        return await self._deliver("user_send_image", self._message(message))


def _numbered_tail(lines: Sequence[str], first: int) -> int:
    """Where the run of "first. …", "first+1. …" lines that ends the message starts."""
    for start in range(len(lines)):
        numbers = [_ZALO_CHOICE.fullmatch(line) for line in lines[start:]]
        if all(m is not None and int(m[1]) == first + i for i, m in enumerate(numbers)):
            return start
    return len(lines)


# --- Opening a driver ------------------------------------------------------------------------


@asynccontextmanager
async def open_driver(
    name: str, deployment: Deployment, folder: Path
) -> AsyncIterator[ChannelDriver]:
    if name == "terminal":
        terminal = TerminalDriver(deployment.app, folder)
        try:
            yield terminal
        finally:
            await terminal.close()
    elif name == "web":
        async with web_driver(deployment) as web:
            yield web
    elif name == "telegram-polling":
        async with telegram_polling_driver(deployment) as polling:
            yield polling
    elif name in ("telegram", "zalo"):
        async with httpx.AsyncClient(base_url=deployment.base_url, timeout=TURN_TIMEOUT) as http:
            if name == "telegram":
                yield TelegramDriver(http, deployment.telegram_api)
            else:
                yield ZaloDriver(http, deployment.zalo_api, deployment.app)
    else:
        raise ValueError(f"no driver for channel {name!r}")
