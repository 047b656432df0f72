"""A fake Telegram Bot API server on 127.0.0.1, for driving the real aiogram ``Bot`` in tests.

It speaks the wire protocol the real server does (protocols.md §1.1): ``POST /bot<token>/<method>``
with form-urlencoded or multipart bodies whose nested objects are JSON strings, answers
``{"ok": true, "result": ...}`` with complete objects, and errors as ``{"ok": false,
"error_code": N, "description": ...}`` with HTTP status N. Files are served from
``GET /file/bot<token>/<path>``. Every call is recorded for assertions.

Optionally it enforces Telegram's flood limits on ``send*`` calls (protocols.md §1.5): at most
``per_second`` in any sliding second overall and one per ``per_chat_seconds`` per chat, both
times ``scale`` (``per_second x scale``, ``per_chat_seconds / scale``), answering beyond them
with 429 and ``retry_after`` as the real server does, and counting those answers in
``too_many_requests``. Off by default.

Usage::

    async with FakeTelegramServer() as server:
        bot = server.bot()          # the real aiogram Bot, pointed at this server
        ...
        await bot.session.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

TOKEN = "42:TEST"
BOT_USER = {"id": 42, "is_bot": True, "first_name": "DVC Bot", "username": "dvc_test_bot"}
MAX_DOWNLOAD = 20 << 20  # the real server's MAX_DOWNLOAD_FILE_SIZE
# Published Bot API limits (core.telegram.org/bots/api), enforced as the real server does, so
# a test fails where Telegram would refuse the request.
MAX_PHOTO_UPLOAD = 10 << 20  # sendPhoto: "The photo must be at most 10 MB in size"
MAX_DOCUMENT_UPLOAD = 50 << 20  # sending files: up to 50 MB
MAX_CALLBACK_ANSWER = 200  # answerCallbackQuery.text: 0-200 characters
MAX_PLACEHOLDER = 64  # input_field_placeholder: 1-64 characters
MAX_UPDATES_LIMIT = 100  # getUpdates.limit: 1-100
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# An inline button needs exactly one of these.
BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
# Form fields that carry JSON (aiogram serialises nested objects and lists into strings).
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
    }
)


@dataclass
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, Upload]
    at: float  # time.monotonic() when the call arrived
    status: int = 200  # the HTTP status it was answered with (429 when over the limits)


@dataclass
class StoredFile:
    file_id: str
    file_path: str
    data: bytes
    size: int
    downloadable: bool = True  # False: getFile works, the download link 404s (expired)


@dataclass
class _Failure:
    count: int
    error_code: int
    description: str
    retry_after: int | None
    method: str | None


@dataclass
class FakeTelegramServer:
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)  # file paths fetched via /file/...
    # Flood limits on send* calls; None: not enforced.
    per_second: float | None = None
    per_chat_seconds: float | None = None
    scale: float = 1.0
    too_many_requests: int = 0  # 429 answers given for the limits above

    def __post_init__(self) -> None:
        self._recent_sends: deque[float] = deque()  # accepted send* calls in the last second
        self._chat_sent: dict[str, float] = {}  # the last accepted send* to each chat
        self._updates: list[dict[str, Any]] = []
        self._wakeup = asyncio.Event()
        self._files: dict[str, StoredFile] = {}
        self._failures: list[_Failure] = []
        self._message_ids = itertools.count(1000)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- lifecycle ---

    async def start(self) -> None:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        self._wakeup.set()  # ends a pending long poll now rather than at its timeout
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def bot(self) -> Bot:
        """The real aiogram Bot, talking to this server only. Close its session when done."""
        session = AiohttpSession(api=TelegramAPIServer.from_base(self.url))
        return Bot(self.token, session=session)

    # --- scripting ---

    def queue_update(self, update: dict[str, Any]) -> None:
        """An update for getUpdates to hand out."""
        self._updates.append(update)
        self._wakeup.set()

    def add_file(
        self, file_id: str, data: bytes = b"", *, size: int | None = None, path: str = ""
    ) -> StoredFile:
        """A file getFile knows; ``size`` overrides len(data) to fake a huge file cheaply."""
        stored = StoredFile(
            file_id=file_id,
            file_path=path or f"documents/file_{len(self._files)}",
            data=data,
            size=len(data) if size is None else size,
        )
        self._files[file_id] = stored
        return stored

    def fail_next(
        self,
        count: int = 1,
        *,
        error_code: int = 429,
        description: str = "",
        retry_after: int | None = 1,
        method: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls (of ``method``, if given) with an error."""
        if error_code == 429 and not description:
            description = f"Too Many Requests: retry after {retry_after}"
        self._failures.append(
            _Failure(
                count=count,
                error_code=error_code,
                description=description,
                retry_after=retry_after if error_code == 429 else None,
                method=method,
            )
        )

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # --- HTTP ---

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await _read_form(request)
        self.calls.append(Call(method=method, params=params, files=files, at=time.monotonic()))
        failure = self._take_failure(method)
        if failure is not None:
            self.calls[-1].status = failure.error_code
            return _error(failure.error_code, failure.description, failure.retry_after)
        if method.startswith("send"):
            wait = self._flood_wait(str(params.get("chat_id", "")), self.calls[-1].at)
            if wait is not None:
                self.too_many_requests += 1
                self.calls[-1].status = 429
                retry_after = max(1, math.ceil(wait))  # whole seconds, as Telegram answers
                return _error(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        handler = getattr(self, f"_m_{method.casefold()}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result = await handler(params, files)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path and stored.downloadable:
                self.downloads.append(path)
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return web.Response(status=404)

    def delivered(self, method: str = "sendMessage") -> list[Call]:
        """The calls of ``method`` that were answered 200."""
        return [c for c in self.calls if c.method == method and c.status == 200]

    def _flood_wait(self, chat_id: str, now: float) -> float | None:
        """Seconds until this send would be within the limits; None: it is (and counts)."""
        waits: list[float] = []
        if self.per_second is not None:
            while self._recent_sends and now - self._recent_sends[0] >= 1.0:
                self._recent_sends.popleft()
            if len(self._recent_sends) >= self.per_second * self.scale:
                waits.append(self._recent_sends[0] + 1.0 - now)
        if self.per_chat_seconds is not None:
            interval = self.per_chat_seconds / self.scale
            last = self._chat_sent.get(chat_id)
            if last is not None and now - last < interval:
                waits.append(last + interval - now)
        if waits:
            return max(waits)
        if self.per_second is not None:
            self._recent_sends.append(now)
        if self.per_chat_seconds is not None:
            if len(self._chat_sent) > 4096:  # bounded: forget chats whose interval is over
                interval = self.per_chat_seconds / self.scale
                self._chat_sent = {c: t for c, t in self._chat_sent.items() if now - t < interval}
            self._chat_sent[chat_id] = now
        return None

    def _take_failure(self, method: str) -> _Failure | None:
        for failure in self._failures:
            if failure.method in (None, method) and failure.count > 0:
                failure.count -= 1
                if failure.count == 0:
                    self._failures.remove(failure)
                return failure
        return None

    # --- methods ---

    async def _m_getme(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return {**BOT_USER, "can_join_groups": False, "can_read_all_group_messages": False}

    async def _m_sendmessage(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        text = str(params.get("text", ""))
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if _units(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        problem = _markup_problem(params.get("reply_markup"))
        if problem:
            return _error(400, problem)
        return self._message(params, text=text)

    async def _m_sendphoto(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        upload = files.get("photo")
        if upload is None:
            return _error(400, "Bad Request: there is no photo in the request")
        if _units(str(params.get("caption", ""))) > 1024:
            return _error(400, "Bad Request: message caption is too long")
        size = len(upload.data)
        if size > MAX_PHOTO_UPLOAD:
            return _error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        problem = _markup_problem(params.get("reply_markup"))
        if problem:
            return _error(400, problem)
        photo = [{"file_id": f"ph{size}", "file_unique_id": "u1", "width": 1, "height": 1}]
        return self._message(params, photo=photo, caption=params.get("caption"))

    async def _m_senddocument(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        upload = files.get("document")
        if upload is None:
            return _error(400, "Bad Request: there is no document in the request")
        if _units(str(params.get("caption", ""))) > 1024:
            return _error(400, "Bad Request: message caption is too long")
        if len(upload.data) > MAX_DOCUMENT_UPLOAD:
            return _error(413, "Request Entity Too Large")
        problem = _markup_problem(params.get("reply_markup"))
        if problem:
            return _error(400, problem)
        document = {
            "file_id": f"doc{len(upload.data)}",
            "file_unique_id": "u2",
            "file_name": upload.filename,
            "mime_type": upload.content_type,
            "file_size": len(upload.data),
        }
        return self._message(params, document=document, caption=params.get("caption"))

    async def _m_answercallbackquery(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        if not params.get("callback_query_id"):
            return _error(400, "Bad Request: query is too old and response timeout expired")
        if len(str(params.get("text", ""))) > MAX_CALLBACK_ANSWER:
            return _error(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _m_setmycommands(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            return _error(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = command.get("command") if isinstance(command, dict) else None
            about = command.get("description") if isinstance(command, dict) else None
            if not isinstance(name, str) or not COMMAND_NAME.fullmatch(name):
                return _error(400, "Bad Request: BOT_COMMAND_INVALID")
            if not isinstance(about, str) or not 1 <= len(about) <= 256:
                return _error(400, "Bad Request: command description must be non-empty")
        return True

    async def _m_setwebhook(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN.fullmatch(str(secret)):
            return _error(400, "Bad Request: secret token contains unallowed characters")
        return True

    async def _m_deletewebhook(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return True

    async def _m_getfile(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            return _error(400, "Bad Request: invalid file_id")
        if stored.size > MAX_DOWNLOAD:
            return _error(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": f"uq-{stored.file_id}",
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    async def _m_getupdates(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        offset = int(params.get("offset", 0) or 0)
        if offset:
            # Asking with an offset confirms every earlier update: they are never sent again.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout", 0) or 0)
        limit = int(params.get("limit", MAX_UPDATES_LIMIT) or MAX_UPDATES_LIMIT)
        if not 1 <= limit <= MAX_UPDATES_LIMIT:
            return _error(400, "Bad Request: limit must be between 1 and 100")
        if not self._updates and timeout > 0:
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)
        return self._updates[:limit]

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        chat_id = int(chat_id) if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit() else 0
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private", "first_name": "An"},
            "date": int(time.time()),
        }
        message.update({k: v for k, v in content.items() if v is not None})
        markup = params.get("reply_markup")
        # Like the real server, a message only echoes an inline keyboard.
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message


async def _read_form(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    params: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    if not request.can_read_body:
        return params, files
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            files[name] = Upload(
                filename=value.filename,
                content_type=value.content_type,
                data=value.file.read(),
            )
        elif isinstance(value, str):
            params[name] = json.loads(value) if name in JSON_FIELDS else value
        else:
            params[name] = value
    # aiogram uploads every file under a random part name and passes "attach://<name>" in the
    # field itself, as the real server allows; resolve it so tests see files["photo"].
    for name, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            part = value.removeprefix("attach://")
            if part in files:
                files[name] = files.pop(part)
                del params[name]
    return params, files


def _markup_problem(markup: Any) -> str:
    if not isinstance(markup, dict):
        return ""
    for row in markup.get("inline_keyboard", []):
        for button in row:
            actions = BUTTON_ACTIONS & {k for k, v in button.items() if v is not None}
            if len(actions) != 1:
                return "Bad Request: BUTTON_TYPE_INVALID"
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                return "Bad Request: BUTTON_DATA_INVALID"
    placeholder = markup.get("input_field_placeholder")
    if placeholder is not None and not 1 <= len(str(placeholder)) <= MAX_PLACEHOLDER:
        return "Bad Request: input field placeholder must be 1-64 characters"
    return ""


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    headers = {}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
        headers["Retry-After"] = str(retry_after)
    return web.json_response(body, status=code, headers=headers)


# --- Updates as Telegram sends them (shapes from protocols.md §1.2) ----------------------------

CITIZEN = 123456789
OTHER = 987654321


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "An", "language_code": "vi"}


def _chat(chat_id: int, kind: str = "private") -> dict[str, Any]:
    return {"id": chat_id, "first_name": "An", "type": kind}


def message_update(
    update_id: int, content: dict[str, Any], *, user: int = CITIZEN, chat_type: str = "private"
) -> dict[str, Any]:
    chat = user if chat_type == "private" else -100200300
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 1000,
            "from": _user(user),
            "chat": _chat(chat, chat_type),
            "date": 1767225600,
            **content,
        },
    }


def text_update(update_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        length = len(text.split()[0])
        content["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
    return message_update(update_id, content, **kwargs)


def photo_update(
    update_id: int, file_id: str, *, group: str | None = None, caption: str | None = None
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "photo": [
            {"file_id": f"{file_id}-s", "file_unique_id": "a1", "file_size": 1523, "width": 90,
             "height": 68},
            {"file_id": file_id, "file_unique_id": "a3", "file_size": 112480, "width": 1280,
             "height": 960},
            {"file_id": f"{file_id}-m", "file_unique_id": "a2", "file_size": 21337, "width": 320,
             "height": 240},
        ]
    }  # fmt: skip
    if group is not None:
        content["media_group_id"] = group
    if caption is not None:
        content["caption"] = caption
    return message_update(update_id, content)


def document_update(update_id: int, file_id: str, size: int | None = 482133) -> dict[str, Any]:
    document: dict[str, Any] = {
        "file_name": "giay_khai_sinh.pdf",
        "mime_type": "application/pdf",
        "file_id": file_id,
        "file_unique_id": "AgADc2QAAl",
    }
    if size is not None:
        document["file_size"] = size
    return message_update(update_id, {"document": document})


def contact_update(
    update_id: int, *, owner: int | None, phone: str = "84912345678"
) -> dict[str, Any]:
    contact: dict[str, Any] = {"phone_number": phone, "first_name": "An"}
    if owner is not None:
        contact["user_id"] = owner
    return message_update(update_id, {"contact": contact})


def callback_update(
    update_id: int,
    data: str,
    *,
    query_id: str = "4382bfdwdsb323b2d9",
    buttons: tuple[tuple[str, str], ...] = (("Đăng ký khai sinh", "proc:ks"),),
    user: int = CITIZEN,
) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": query_id,
            "from": _user(user),
            "message": {
                "message_id": 15,
                "from": {"id": 42, "is_bot": True, "first_name": "DVC Bot"},
                "chat": _chat(user),
                "date": 1767225800,
                "text": "Chọn thủ tục:",
                "reply_markup": {
                    "inline_keyboard": [[{"text": t, "callback_data": d}] for t, d in buttons]
                },
            },
            "chat_instance": "-3841123456789012345",
            "data": data,
        },
    }
