"""A fake Zalo Official Account API on 127.0.0.1, speaking real HTTP (aiohttp, same event loop).

It mimics what protocols.md §3 describes: errors as HTTP 200 with ``{"error": <non-zero>}``,
the bare ``access_token`` header, single-use rotating refresh tokens, the 7-day window (-230),
uploads that return an ``attachment_id`` / ``token``, template messages to ``84…`` phones, and
attachment downloads. The three Zalo hosts are path prefixes of one server, so a test also
sees that each call went to the right host::

    async with FakeZalo() as zalo:
        client = ZaloClient(http, app_id=zalo.app_id, app_secret=zalo.app_secret,
                            tokens=InMemoryTokenStore(zalo.initial_tokens()), **zalo.urls())
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypedDict

from aiohttp import web

from handlers.zalo_client import TokenPair

IMAGE_LIMIT = 1024 * 1024
FILE_LIMIT = 5 * 1024 * 1024
_PHONE_84 = re.compile(r"^84\d{9}$")

# Error codes as Zalo (or the secondary sources) give them.
INVALID_TOKEN = -216
OUTSIDE_WINDOW = -230
BAD_PHONE = -108
BAD_PARAMETER = -201
FILE_TOO_LARGE = -210
INVALID_REFRESH = -14014
INVALID_SECRET = -14002


class ZaloUrls(TypedDict):
    base_url: str
    oauth_url: str
    business_url: str


@dataclass
class Call:
    """One request the fake received."""

    host: str  # "openapi", "oauth", "business" or "cdn"
    path: str  # below the host, e.g. "/v3.0/oa/message/cs"
    headers: dict[str, str]
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


@dataclass
class Delivered:
    """A CS message as the user would see it."""

    user_id: str
    text: str = ""
    image: bytes | None = None
    file_name: str = ""
    file_data: bytes | None = None
    template_type: str = ""
    reply_to: str = ""  # the user's message it was sent as an answer to, if any


class FakeZalo:
    def __init__(
        self,
        *,
        app_id: str = "360846524940903967",
        app_secret: str = "app-secret",
        refresh_delay: float = 0.0,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.refresh_delay = refresh_delay
        self.calls: list[Call] = []
        self.delivered: list[Delivered] = []
        self.templates: list[dict[str, Any]] = []
        self.outside_window: set[str] = set()
        # Messages users sent the OA (msg_id -> user id): an answer may name one instead of
        # the user. A test tells the fake about the events it posts to the webhook.
        self.user_messages: dict[str, str] = {}
        self.refresh_count = 0
        self.used_refresh_tokens: set[str] = set()
        self._valid_access: set[str] = set()
        self._valid_refresh: set[str] = set()
        self._serial = 0
        self._images: dict[str, bytes] = {}
        self._files: dict[str, tuple[str, bytes]] = {}
        self._cdn: dict[str, bytes] = {}
        self._failures: dict[str, list[int]] = {}
        self._runner: web.AppRunner | None = None
        self.root = ""

    # --- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeZalo:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/openapi/v3.0/oa/message/cs", self._cs)
        app.router.add_post("/openapi/v2.0/oa/upload/image", self._upload_image)
        app.router.add_post("/openapi/v2.0/oa/upload/file", self._upload_file)
        app.router.add_post("/oauth/v4/oa/access_token", self._access_token)
        app.router.add_post("/business/message/template", self._template)
        app.router.add_get("/cdn/{name}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.root = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def urls(self) -> ZaloUrls:
        """Keyword arguments for ``ZaloClient``: each Zalo host mapped onto this server."""
        return {
            "base_url": f"{self.root}/openapi",
            "oauth_url": f"{self.root}/oauth",
            "business_url": f"{self.root}/business",
        }

    # --- test controls --------------------------------------------------------------------------

    def initial_tokens(self, obtained_at: datetime | None = None) -> TokenPair:
        """A valid pair, as if an admin had just granted the OA."""
        access, refresh = self._issue()
        return TokenPair(access, refresh, obtained_at or datetime.now(UTC), 90000)

    def expire_access_tokens(self) -> None:
        self._valid_access.clear()

    def fail_next(self, path: str, code: int, times: int = 1) -> None:
        """The next ``times`` calls to ``path`` (e.g. "/v3.0/oa/message/cs") answer ``code``."""
        self._failures.setdefault(path, []).extend([code] * times)

    def add_attachment(self, name: str, data: bytes) -> str:
        """A file a user sent; returns its CDN URL."""
        self._cdn[name] = data
        return f"{self.root}/cdn/{name}"

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    # --- handlers -------------------------------------------------------------------------------

    def _issue(self) -> tuple[str, str]:
        self._serial += 1
        access, refresh = f"at-{self._serial}", f"rt-{self._serial}"
        self._valid_access.add(access)
        self._valid_refresh.add(refresh)
        return access, refresh

    def _refuse(self, request: web.Request, path: str) -> web.Response | None:
        """Injected failures first, then the access-token check (both as HTTP 200)."""
        queued = self._failures.get(path)
        if queued:
            return _error(queued.pop(0), "injected failure")
        if request.headers.get("access_token") not in self._valid_access:
            return _error(INVALID_TOKEN, "Access token is invalid")
        return None

    async def _record(self, request: web.Request, host: str, path: str) -> Call:
        call = Call(host=host, path=path, headers=dict(request.headers))
        content_type = request.content_type
        if content_type == "application/json":
            call.json = await request.json()
        elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    call.files[name] = (value.filename, value.file.read())
                else:
                    call.form[name] = str(value)
        self.calls.append(call)
        return call

    async def _cs(self, request: web.Request) -> web.Response:
        path = "/v3.0/oa/message/cs"
        call = await self._record(request, "openapi", path)
        refused = self._refuse(request, path)
        if refused is not None:
            return refused
        body = call.json if isinstance(call.json, dict) else {}
        recipient = body.get("recipient") or {}
        reply_to = recipient.get("message_id", "")
        user_id = recipient.get("user_id")
        if reply_to:
            user_id = self.user_messages.get(reply_to)
            if user_id is None:
                return _error(BAD_PARAMETER, "message_id not found")
        message = body.get("message") or {}
        if not isinstance(user_id, str) or not isinstance(message, dict):
            return _error(BAD_PARAMETER, "recipient or message missing")
        if user_id in self.outside_window:
            return _error(OUTSIDE_WINDOW, "User has not interacted with the OA in the past 7 days")
        delivered = self._delivery(user_id, message)
        if delivered is None:
            return _error(BAD_PARAMETER, "message is not valid")
        self.delivered.append(replace(delivered, reply_to=reply_to))
        self._serial += 1
        return _ok({"message_id": f"m{self._serial}", "user_id": user_id})

    def _delivery(self, user_id: str, message: dict[str, Any]) -> Delivered | None:
        text = message.get("text", "")
        if not isinstance(text, str) or len(text) > 2000:
            return None
        attachment = message.get("attachment")
        if attachment is None:
            return Delivered(user_id, text=text) if text else None
        payload = attachment.get("payload") or {}
        if attachment.get("type") == "file":
            stored = self._files.get(payload.get("token", ""))
            if stored is None:
                return None
            return Delivered(user_id, file_name=stored[0], file_data=stored[1])
        kind = payload.get("template_type", "")
        elements = payload.get("elements") or [{}]
        if kind == "media":
            image = self._images.get(elements[0].get("attachment_id", ""))
            return None if image is None else Delivered(user_id, text=text, image=image)
        if kind == "request_user_info" and elements[0].get("title"):
            return Delivered(user_id, text=elements[0]["title"], template_type=kind)
        return None

    async def _upload_image(self, request: web.Request) -> web.Response:
        path = "/v2.0/oa/upload/image"
        call = await self._record(request, "openapi", path)
        refused = self._refuse(request, path)
        if refused is not None:
            return refused
        upload = call.files.get("file")
        if upload is None:
            return _error(BAD_PARAMETER, "file missing")
        data = upload[1]
        if len(data) > IMAGE_LIMIT:
            return _error(FILE_TOO_LARGE, "image larger than 1 MB")
        if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
            return _error(BAD_PARAMETER, "only jpg and png")
        self._serial += 1
        attachment_id = f"img{self._serial}"
        self._images[attachment_id] = data
        return _ok({"attachment_id": attachment_id})

    async def _upload_file(self, request: web.Request) -> web.Response:
        path = "/v2.0/oa/upload/file"
        call = await self._record(request, "openapi", path)
        refused = self._refuse(request, path)
        if refused is not None:
            return refused
        upload = call.files.get("file")
        if upload is None:
            return _error(BAD_PARAMETER, "file missing")
        name, data = upload
        if len(data) > FILE_LIMIT:
            return _error(FILE_TOO_LARGE, "file larger than 5 MB")
        if not name.lower().endswith((".pdf", ".doc", ".docx")):
            return _error(BAD_PARAMETER, "only pdf, doc and docx")
        self._serial += 1
        token = f"file{self._serial}"
        self._files[token] = (name, data)
        return _ok({"token": token})

    async def _access_token(self, request: web.Request) -> web.Response:
        call = await self._record(request, "oauth", "/v4/oa/access_token")
        if self.refresh_delay:
            await asyncio.sleep(self.refresh_delay)
        if request.headers.get("secret_key") != self.app_secret:
            return _oauth_error(INVALID_SECRET, "Invalid secret key")
        form = call.form
        if form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
            return _oauth_error(BAD_PARAMETER, "Invalid parameters")
        token = form.get("refresh_token", "")
        if token not in self._valid_refresh:
            return _oauth_error(INVALID_REFRESH, "Refresh token is invalid or already used")
        # Single use: this refresh token is spent now, whatever the caller does next.
        self._valid_refresh.discard(token)
        self.used_refresh_tokens.add(token)
        self.refresh_count += 1
        access, refresh = self._issue()
        return web.json_response(
            {"access_token": access, "refresh_token": refresh, "expires_in": "90000"}
        )

    async def _template(self, request: web.Request) -> web.Response:
        path = "/message/template"
        call = await self._record(request, "business", path)
        refused = self._refuse(request, path)
        if refused is not None:
            return refused
        body = call.json if isinstance(call.json, dict) else {}
        if not _PHONE_84.match(str(body.get("phone", ""))):
            return _error(BAD_PHONE, "Phone number is invalid")
        if not body.get("template_id") or not isinstance(body.get("template_data"), dict):
            return _error(BAD_PARAMETER, "template_id or template_data missing")
        self.templates.append(body)
        self._serial += 1
        return _ok(
            {
                "msg_id": f"zns{self._serial}",
                "sent_time": "1767225600000",
                "quota": {"dailyQuota": "500", "remainingQuota": "499"},
            }
        )

    async def _download(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.calls.append(Call(host="cdn", path=f"/{name}", headers=dict(request.headers)))
        data = self._cdn.get(name)
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")


def _ok(data: dict[str, Any]) -> web.Response:
    return web.json_response({"data": data, "error": 0, "message": "Success"})


def _error(code: int, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message})


def _oauth_error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"error": code, "error_name": "Invalid request", "error_description": description}
    )
