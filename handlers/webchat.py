"""Web chat channel: JSON frames over a WebSocket, translated to and from core values.

Frames from the browser are untrusted input: anything malformed is dropped (returns ``None``),
never raised into the conversation.

Browser → server::

    {"type": "start", "id": "p3k9-1"}                      first visit: show the menu
    {"type": "text", "id": "p3k9-2", "text": "làm giấy khai sinh cần gì"}
    {"type": "button", "id": "p3k9-3", "payload": "menu", "text": "Menu chính"}
    {"type": "photo", "id": "p3k9-4", "refs": ["<upload token>", ...]}

Server → browser::

    {"type": "reply", "re": "p3k9-2", "text": "...", "buttons": [[{"text", "payload"}]],
     "images": [{"url", "caption"}], "documents": [{"url", "caption", "label", "receipt"}]}
    {"type": "done", "id": "p3k9-2"}                       every reply to that frame was sent

Ids come from the page (a random page id plus a counter) and are resent unchanged after a
reconnect; the service drops ids it has seen, so a resend never runs a turn twice. They are
namespaced here by the session, so one browser can never collide with (or block) another's.

Files go the other way over HTTP: the page POSTs each file to ``/upload``, gets back a token,
and sends the tokens in a ``photo`` frame. The bytes wait in the deployment's shared store
(:class:`Files`, storage/webchat.py) until the effect runner fetches them with
:meth:`WebChatChannel.fetch`, on whichever worker the turn runs. A reply's files (a receipt, a
QR code) are kept there too, and the page fetches them from ``/media/<token>``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from importlib import resources
from typing import Any, Final, Literal, Protocol
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.types import Message

from dialogs.model import Attachment, ConversationKey, Inbound, Media, Reply
from dialogs.texts import webchat as texts
from handlers.channel import Conversations, Kept, TurnOutcome, WebOptions
from handlers.files import MAX_DOWNLOAD

log = logging.getLogger(__name__)

CHANNEL = "web"
MAX_TEXT = 2000  # a chat message, not a document
MAX_PAYLOAD = 64  # same bound as Telegram's callback_data
MAX_ID = 64
MAX_REFS = 10  # an album on Telegram holds ten; the same bound here
MAX_UPLOAD_BYTES: Final = MAX_DOWNLOAD  # the effect runner's bound for every channel
START_TEXT = "/start"

PageMode = Literal["page", "kiosk", "embed"]

_FRAME_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{32,64}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
STATIC_FILES: Final = {
    "webchat.js": "text/javascript; charset=utf-8",
    "webchat.css": "text/css; charset=utf-8",
}


# --- Sessions --------------------------------------------------------------------------------


class SessionIds:
    """Web chat session ids that only this server can issue: a random part and its HMAC.

    A well-formed id the server never issued is refused (no session fixation: a planted
    cookie cannot name a conversation the planter then reads). The key lives in the database,
    so every worker accepts every worker's ids. Ids issued before ids were signed stay valid
    when their conversation existed before the key did (``legacy``: their public tags)."""

    def __init__(self, key: bytes, legacy: frozenset[str] = frozenset()) -> None:
        if len(key) < 32:
            raise ValueError("the session key must be at least 32 bytes")
        self._key = key
        self._legacy = legacy

    def new(self) -> str:
        token = secrets.token_urlsafe(24)
        return f"{token}.{self._mac(token)}"

    def valid(self, value: str | None) -> bool:
        if value is None or len(value) > 100:
            return False
        token, dot, mac = value.partition(".")
        if dot:
            return _TOKEN.fullmatch(token) is not None and hmac.compare_digest(
                mac, self._mac(token)
            )
        return _SESSION_ID.fullmatch(value) is not None and session_tag(value) in self._legacy

    def _mac(self, token: str) -> str:
        digest = hmac.new(self._key, token.encode("ascii"), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def session_tag(session_id: str) -> str:
    """The session's public name: the cookie itself never reaches the database or a log."""
    digest = hashlib.sha256(session_id.encode("ascii")).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def conversation_key(session_id: str) -> ConversationKey:
    tag = session_tag(session_id)
    return ConversationKey(channel=CHANNEL, chat_id=tag, user_id=tag)


# --- The page --------------------------------------------------------------------------------


def static_file(name: str) -> bytes | None:
    if name not in STATIC_FILES:
        return None
    return resources.files("handlers").joinpath(f"static/{name}").read_bytes()


def page_html(commune_name: str, mode: PageMode = "page", idle_minutes: int = 3) -> str:
    """The chat page, with the commune's name; script and styles are separate static files."""
    template = resources.files("handlers").joinpath("static/webchat.html").read_text("utf-8")
    # "<" escaped inside the JSON block, so no text can close the <script> element early.
    page_texts = json.dumps(texts.PAGE, ensure_ascii=False).replace("<", "\\u003c")
    values = {
        "title": html.escape(f"{texts.TITLE} — {commune_name}"),
        "header": html.escape(texts.header(commune_name)),
        "subtitle": html.escape(texts.SUBTITLE),
        "mode": mode,
        "idle_minutes": str(int(idle_minutes)),
        "texts": page_texts,
        "placeholder": html.escape(texts.PAGE["placeholder"]),
        "question": html.escape(texts.PAGE["question"]),
        "send": html.escape(texts.PAGE["send"]),
        "attach": html.escape(texts.PAGE["attach"]),
        "restart": html.escape(texts.PAGE["restart"]),
        "print": html.escape(texts.PAGE["print"]),
    }
    # One pass, so a commune name that happens to contain "{{...}}" is never expanded.
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


def embed_script(page_url: str) -> str:
    """The one-line embed: the script, told where the chat lives and what its button says."""
    script = resources.files("handlers").joinpath("static/embed.js").read_text("utf-8")
    config = json.dumps(
        {
            "url": page_url,
            "button": texts.EMBED_BUTTON,
            "close": texts.EMBED_CLOSE,
            "title": texts.FRAME_TITLE,
        },
        ensure_ascii=False,
    ).replace("<", "\\u003c")
    return script.replace("/*CONFIG*/{}", config, 1)


# --- Frames ----------------------------------------------------------------------------------


def inbound_from_frame(
    frame: Any, session_id: str, now: datetime, uploads: Mapping[str, FileInfo] | None = None
) -> Inbound | None:
    """``uploads``: the session's uploads the frame names, by token (:func:`refs_of`)."""
    if not isinstance(frame, dict):
        return None
    kind = frame.get("type")
    frame_id = frame_id_of(frame)
    if frame_id is None:
        return None
    key = conversation_key(session_id)
    message_id = f"{key.chat_id}.{frame_id}"
    text = frame.get("text", "")
    if not isinstance(text, str):
        return None
    text = text.strip()[:MAX_TEXT]
    if kind == "start":
        return Inbound(key=key, message_id=message_id, received_at=now, text=START_TEXT)
    if kind == "text":
        if not text:
            return None
        return Inbound(key=key, message_id=message_id, received_at=now, text=text)
    if kind == "button":
        payload = frame.get("payload")
        if not isinstance(payload, str) or not 0 < len(payload.encode()) <= MAX_PAYLOAD:
            return None
        return Inbound(key=key, message_id=message_id, received_at=now, text=text, payload=payload)
    if kind == "photo":
        attachments = _attachments(frame.get("refs"), key.chat_id, frame_id, uploads)
        if not attachments:
            return None
        return Inbound(key=key, message_id=message_id, received_at=now, attachments=attachments)
    return None


def frame_id_of(frame: Any) -> str | None:
    """The frame's id when it has a well-formed one (then the page expects a ``done``)."""
    if not isinstance(frame, dict):
        return None
    frame_id = frame.get("id")
    if not isinstance(frame_id, str) or _FRAME_ID.fullmatch(frame_id) is None:
        return None
    return frame_id


def refs_of(frame: Any) -> list[str]:
    """The well-formed upload tokens a ``photo`` frame names (to look them up first)."""
    if not isinstance(frame, dict) or frame.get("type") != "photo":
        return []
    refs = frame.get("refs")
    if not isinstance(refs, list):
        return []
    return [r for r in refs[:MAX_REFS] if isinstance(r, str) and _TOKEN.fullmatch(r)]


def _attachments(
    refs: Any, tag: str, frame_id: str, uploads: Mapping[str, FileInfo] | None
) -> tuple[Attachment, ...]:
    if not isinstance(refs, list) or not 0 < len(refs) <= MAX_REFS:
        return ()
    tokens = list(dict.fromkeys(r for r in refs if isinstance(r, str) and _TOKEN.fullmatch(r)))
    if len(tokens) != len(refs):
        return ()
    found = []
    for token in tokens:
        # An unknown or expired token still becomes an attachment: fetching it fails, and the
        # dialog then asks for the photo again instead of the page waiting in silence.
        blob = uploads.get(token) if uploads is not None else None
        mime_type = blob.mime_type if blob else ""
        found.append(
            Attachment(
                kind="document" if mime_type == "application/pdf" else "photo",
                ref=f"{tag}/{token}",
                filename=blob.filename if blob else "",
                mime_type=mime_type,
                size=blob.size if blob else None,
                group_id=frame_id if len(tokens) > 1 else "",
            )
        )
    return tuple(found)


def reply_to_frame(
    reply: Reply, re_id: str = "", link: Callable[[Media], str] | None = None
) -> dict[str, Any]:
    """One reply as a frame; ``link`` keeps a file's bytes and returns the URL to fetch it."""
    images = [{"url": link(m), "caption": m.caption} for m in reply.images] if link else []
    documents = (
        [
            {
                "url": link(m),
                "caption": m.caption,
                "label": texts.download_label(m.filename),
                "receipt": m.filename.startswith("bien-nhan"),
            }
            for m in reply.documents
        ]
        if link
        else []
    )
    return {
        "type": "reply",
        "re": re_id,
        "text": reply.text,
        "buttons": [[{"text": b.text, "payload": b.payload} for b in row] for row in reply.buttons],
        "images": images,
        "documents": documents,
    }


def done_frame(frame_id: str) -> dict[str, Any]:
    return {"type": "done", "id": frame_id}


# --- Shared state: what this channel needs from the deployment (storage/webchat.py) ----------


class FileInfo(Protocol):
    @property
    def mime_type(self) -> str: ...

    @property
    def filename(self) -> str: ...

    @property
    def size(self) -> int: ...


class FileWithData(FileInfo, Protocol):
    @property
    def data(self) -> bytes: ...


class Files(Protocol):
    """Uploads and reply files behind tokens, for one session, shared by every worker."""

    async def put(
        self,
        kind: Literal["upload", "media"],
        owner: str,
        data: bytes,
        mime_type: str,
        filename: str,
        now: datetime,
        *,
        address: str = "",
    ) -> str | None: ...

    async def describe(
        self, kind: Literal["upload", "media"], owner: str, tokens: Sequence[str], now: datetime
    ) -> Mapping[str, FileInfo]: ...

    async def get(
        self,
        kind: Literal["upload", "media"],
        owner: str,
        token: str,
        now: datetime,
        *,
        confirm: bool = False,
    ) -> FileWithData | None: ...

    async def sweep(self, now: datetime) -> int: ...


class PushedFrames(Protocol):
    @property
    def tag(self) -> str: ...

    @property
    def frames(self) -> list[dict[str, Any]]: ...


class Pages(Protocol):
    """Which sessions have a page open on which worker, and frames left for them."""

    async def opened(self, tags: Sequence[str], now: datetime) -> None: ...

    async def closed(self, tag: str) -> None: ...

    async def open_anywhere(self, tag: str, now: datetime) -> bool: ...

    async def post(self, tag: str, frames: list[dict[str, Any]], now: datetime) -> int: ...

    async def take(self, tags: Sequence[str], now: datetime) -> Sequence[PushedFrames]: ...

    async def taken(self, push_id: int) -> bool: ...

    async def withdraw(self, push_id: int) -> bool: ...

    async def sweep(self, now: datetime) -> None: ...


class Replies(Protocol):
    """Each session's last answers, kept for a page that resends a frame after losing its
    connection, on whichever worker it reconnects to (storage/webchat.py)."""

    async def remember(
        self, tag: str, frame_id: str, frames: list[dict[str, Any]], now: datetime
    ) -> None: ...

    async def replay(self, tag: str, frame_id: str, now: datetime) -> list[dict[str, Any]]: ...

    async def sweep(self, now: datetime) -> None: ...


Handle = Callable[[Inbound], Awaitable[TurnOutcome]]


class UploadMissingError(LookupError):
    """The upload expired, was never made, or belongs to another session."""


# --- The channel: routes, sending, file fetching, background loop ----------------------------

SESSION_COOKIE = "motcua_sid"
EMBED_COOKIE = "motcua_esid"  # partitioned: the chat inside another site's page
COOKIE_MAX_AGE = 365 * 24 * 3600  # a citizen picks the conversation up days later
MAX_FRAME_BYTES = 16 * 1024
MAX_UPLOAD_BODY = MAX_UPLOAD_BYTES + 64 * 1024  # the file plus multipart framing
MEDIA_TYPES = frozenset({"image/png", "image/jpeg", "application/pdf"})
UPLOAD_TYPES = frozenset({"image/jpeg", "image/png", "image/heic", "image/heif", "application/pdf"})
POLL_SECONDS = 0.2  # how often a worker looks for frames left for its pages
RENEW_SECONDS = 10.0  # how often it says its pages are still open
SWEEP_SECONDS = 60.0
PUSH_WAIT_SECONDS = 5.0  # how long a push to another worker's page waits to be taken


class WebChatChannel:
    """The web chat as one door: its routes (page, kiosk, embed, uploads, media, socket), how
    to write first to a session (:meth:`send`), how the effect runner fetches an upload
    (:meth:`fetch`) and its background loop (:meth:`run`), which hands this worker's pages the
    frames other workers left for them.

    Sessions: the conversation lives on the server, keyed by an HttpOnly cookie holding a
    signed random id (:class:`SessionIds`). Only its hash (:func:`session_tag`) is the chat id.

    Framing: the chat page and the kiosk may only be framed by motcua itself. The embed page
    may be framed by the commune's website: by the origins given in ``embed_origins``, or else
    by any HTTPS site. Allowing any site is safe enough because a framed chat never sees a real
    conversation: the main cookie is SameSite=Lax (not sent to a cross-site frame) and the
    embed cookie is Partitioned (one jar per top-level site), so a hostile page that frames the
    chat only gets a fresh, empty session of its own.
    """

    name = CHANNEL

    def __init__(
        self,
        *,
        sessions: SessionIds,
        files: Files,
        pages: Pages,
        replies: Replies,
        commune_name: str,
        public_url: str = "",
        clock: Callable[[], datetime],
        poll_seconds: float = POLL_SECONDS,
        push_wait_seconds: float = PUSH_WAIT_SECONDS,
    ) -> None:
        self.sessions = sessions
        self._files = files
        self._pages = pages
        self._commune_name = commune_name
        self._public_url = public_url.rstrip("/")
        self._clock = clock
        self._poll = poll_seconds
        self._push_wait = push_wait_seconds
        self._live = LivePages()
        self._replies = replies

    # --- what the server does for it --------------------------------------------------------

    async def start(self, stop: asyncio.Event) -> str | None:
        return None  # its routes are all it needs; run() is its loop

    async def shutdown(self) -> None:
        return None

    # --- sending -----------------------------------------------------------------------------

    async def send(self, key: ConversationKey, replies: Sequence[Reply]) -> bool | Kept:
        """Write first to a session: True when a page of it, on any worker, got the replies;
        :class:`Kept` when they are words only and wait for the session's next page (a
        citizen who closed the chat reads the office's notice when they open it again, days
        later: the cookie and the conversation last a year). Replies with a file (a
        receipt's PDF) need an open page, since the file is kept for hours, not days: False,
        try again later."""
        tag = key.chat_id
        # Its own turn id, so the page scrolls to the top of this message.
        frames = await self.frames(tag, replies, f"push-{secrets.token_hex(6)}")
        if await self._live.send(tag, frames):
            return True
        now = self._clock()
        words_only = not any(reply.images or reply.documents for reply in replies)
        open_now = await self._pages.open_anywhere(tag, now)
        if not open_now and not words_only:
            return False
        push_id = await self._pages.post(tag, frames, now)
        waited = 0.0
        while open_now and waited < self._push_wait:
            await asyncio.sleep(self._poll)
            waited += self._poll
            if await self._pages.taken(push_id):
                return True
        if words_only:
            return Kept(push_id)  # for the session's next page (storage.webchat.KEPT_FOR_PAGE)
        # Nobody took them: withdrawn, unless a worker took them just now.
        return not await self._pages.withdraw(push_id)

    push = send

    async def frames(self, tag: str, replies: Sequence[Reply], re_id: str) -> list[dict[str, Any]]:
        """The replies as frames; their files kept in the shared store for this session."""
        links: dict[int, str] = {}
        now = self._clock()
        for reply in replies:
            for item in (*reply.images, *reply.documents):
                token = await self._files.put(
                    "media", tag, item.data, item.mime_type, item.filename, now
                )
                links[id(item)] = f"/media/{token}" if token else ""
        return [reply_to_frame(r, re_id, lambda m: links.get(id(m), "")) for r in replies]

    # --- fetching ----------------------------------------------------------------------------

    async def fetch(self, attachment: Attachment) -> bytes:
        """The effect runner's fetcher for the ``web`` channel."""
        tag, _, token = attachment.ref.partition("/")
        found = await self._files.get("upload", tag, token, self._clock(), confirm=True)
        if found is None:
            raise UploadMissingError("upload expired or not this session's")
        return found.data

    # --- background loop ---------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: hand this worker's pages what other workers left for them, say
        which pages are still open, and forget files that ran out."""
        renewed = swept = 0.0
        while not stop.is_set():
            now = time.monotonic()
            try:
                tags = self._live.tags()
                if tags and now - renewed >= RENEW_SECONDS:
                    await self._pages.opened(tags, self._clock())
                    renewed = now
                for pushed in await self._pages.take(tags, self._clock()):
                    await self._live.send(pushed.tag, pushed.frames)
                if now - swept >= SWEEP_SECONDS:
                    swept = now
                    await self._files.sweep(self._clock())
                    await self._pages.sweep(self._clock())
                    await self._replies.sweep(self._clock())
            except Exception:  # a database hiccup: the next round tries again
                log.exception("web chat background loop")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._poll)

    # --- routes ------------------------------------------------------------------------------

    def routes(self, conversations: Conversations, web: WebOptions) -> APIRouter:
        """The web chat's routes; every turn goes to ``conversations.handle``.
        ``web.embed_origins``: the sites that may frame ``/embed`` (none: any HTTPS site)."""
        handle: Handle = conversations.handle
        embed_origins, kiosk_idle_minutes = web.embed_origins, web.kiosk_idle_minutes
        router = APIRouter()
        public_url = self._public_url
        sessions = self.sessions
        ancestors = " ".join(embed_origins) if embed_origins else "https:"

        def page(request: Request, mode: PageMode) -> HTMLResponse:
            response = HTMLResponse(page_html(self._commune_name, mode, kiosk_idle_minutes))
            if _session_of(sessions, request.cookies) is None:
                _set_session(response, sessions.new(), mode, _secure(request, public_url))
            framers = f"'self' {ancestors}" if mode == "embed" else "'self'"
            response.headers.update(_page_headers(framers))
            if mode != "embed":
                response.headers["X-Frame-Options"] = "SAMEORIGIN"
            return response

        @router.get("/", response_class=HTMLResponse)
        async def chat_page(request: Request) -> HTMLResponse:
            query = request.query_params
            if query.get("kiosk") == "1":
                return page(request, "kiosk")
            if query.get("embed") == "1":
                return page(request, "embed")
            return page(request, "page")

        @router.get("/kiosk", response_class=HTMLResponse)
        async def kiosk_page(request: Request) -> HTMLResponse:
            return page(request, "kiosk")

        @router.get("/embed", response_class=HTMLResponse)
        async def embed_page(request: Request) -> HTMLResponse:
            return page(request, "embed")

        @router.get("/static/{name}")
        async def static(name: str) -> Response:
            body = static_file(name)
            if body is None:
                return Response(status_code=404)
            return Response(
                body,
                media_type=STATIC_FILES[name],
                headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
            )

        @router.get("/embed.js")
        async def embed_js(request: Request) -> Response:
            base = public_url or str(request.base_url).rstrip("/")
            return Response(
                embed_script(f"{base}/embed"),
                media_type="text/javascript; charset=utf-8",
                headers={
                    "Cache-Control": "public, max-age=3600",
                    "X-Content-Type-Options": "nosniff",
                },
            )

        @router.post("/session/new")
        async def new_session(request: Request) -> JSONResponse:
            """The kiosk starts over for the next visitor: a new cookie, a new conversation."""
            if not _same_origin(request.headers, public_url):
                return JSONResponse({"error": "origin"}, status_code=403)
            response = JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})
            mode: PageMode = "embed" if request.query_params.get("embed") == "1" else "page"
            _set_session(response, sessions.new(), mode, _secure(request, public_url))
            return response

        @router.post("/upload")
        async def upload(request: Request) -> JSONResponse:
            session_id = _session_of(sessions, request.cookies)
            if session_id is None or not _same_origin(request.headers, public_url):
                return JSONResponse({"error": "session"}, status_code=403)
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_UPLOAD_BODY:
                return _too_large()
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_UPLOAD_BODY:
                    return _too_large()
            sent = await _one_file(request, bytes(body))
            if sent is None:
                return JSONResponse({"error": "no_file"}, status_code=400)
            data, declared_type, filename = sent
            if len(data) > MAX_UPLOAD_BYTES:
                return _too_large()
            mime_type = declared_type if declared_type in UPLOAD_TYPES else ""
            # The client's address as the server sees it: behind a reverse proxy, uvicorn's
            # proxy headers (forwarded_allow_ips) make it the visitor's, not the proxy's.
            address = request.client.host if request.client else ""
            token = await self._files.put(
                "upload",
                session_tag(session_id),
                data,
                mime_type,
                filename,
                self._clock(),
                address=address,
            )
            if token is None:
                return JSONResponse({"error": "busy"}, status_code=503)
            return JSONResponse({"ref": token}, headers={"Cache-Control": "no-store"})

        @router.get("/media/{token}")
        async def media_file(token: str, request: Request) -> Response:
            session_id = _session_of(sessions, request.cookies)
            blob = None
            if session_id is not None and _TOKEN.fullmatch(token):
                blob = await self._files.get("media", session_tag(session_id), token, self._clock())
            if blob is None:
                return Response(status_code=404, headers={"Cache-Control": "no-store"})
            mime_type = (
                blob.mime_type if blob.mime_type in MEDIA_TYPES else "application/octet-stream"
            )
            # The kiosk prints the receipt in the browser's own PDF viewer; everywhere else a
            # PDF is a download, never a page rendered from our origin.
            inline = mime_type.startswith("image/") or (
                mime_type == "application/pdf" and request.query_params.get("inline") == "1"
            )
            disposition = "inline" if inline else "attachment"
            name = blob.filename or "tep"
            plain = re.sub(r"[^A-Za-z0-9._-]", "_", name)  # for browsers that ignore filename*
            return Response(
                blob.data,
                media_type=mime_type,
                headers={
                    "Content-Disposition": (
                        f'{disposition}; filename="{plain}"; '
                        f"filename*=UTF-8''{quote(name, safe='')}"
                    ),
                    "X-Content-Type-Options": "nosniff",
                    "Cache-Control": "private, no-store",
                },
            )

        @router.websocket("/ws")
        async def chat_socket(socket: WebSocket) -> None:
            if not _same_origin(socket.headers, public_url):
                await socket.close(code=1008)
                return
            session_id = _session_of(sessions, socket.cookies)
            headers: list[tuple[bytes, bytes]] = []
            if session_id is None:
                session_id = sessions.new()
                mode: PageMode = "embed" if socket.query_params.get("embed") == "1" else "page"
                secure = socket.url.scheme == "wss" or public_url.startswith("https://")
                headers.append((b"set-cookie", _cookie(session_id, mode, secure).encode()))
            await socket.accept(headers=headers)
            await self._serve_socket(socket, session_id, handle)

        return router

    async def _serve_socket(self, socket: WebSocket, session_id: str, handle: Handle) -> None:
        tag = session_tag(session_id)
        live = LivePage(socket)
        self._live.add(tag, live)
        try:
            # Other workers' pushes for this session come here from now on, and what was
            # kept for it while no page was open (run: this worker's loop takes them).
            await self._pages.opened([tag], self._clock())
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                raw = message.get("text")
                if not isinstance(raw, str) or len(raw.encode()) > MAX_FRAME_BYTES:
                    continue
                frame = _json(raw)
                frame_id = frame_id_of(frame)
                if frame_id is None:
                    continue
                now = self._clock()
                refs = refs_of(frame)
                uploads = await self._files.describe("upload", tag, refs, now) if refs else {}
                inbound = inbound_from_frame(frame, session_id, now, uploads)
                out: list[dict[str, Any]] = []
                if inbound is not None:
                    result = await handle(inbound)
                    if result.duplicate:
                        # A resend of a frame whose replies the dropped connection swallowed,
                        # perhaps answered by another worker.
                        out = await self._replies.replay(tag, frame_id, now)
                    else:
                        out = await self.frames(tag, result.replies, frame_id)
                        await self._replies.remember(tag, frame_id, out, self._clock())
                await live.send([*out, done_frame(frame_id)])
        except WebSocketDisconnect:
            return
        finally:
            if not self._live.remove(tag, live):
                with contextlib.suppress(Exception):  # the row runs out on its own otherwise
                    await self._pages.closed(tag)


class LivePage:
    """One open chat page on this worker."""

    def __init__(self, socket: WebSocket) -> None:
        self.socket = socket
        # A turn's answer and a pushed message must not interleave their frames.
        self._sending = asyncio.Lock()

    async def send(self, frames: Sequence[dict[str, Any]]) -> None:
        async with self._sending:
            for frame in frames:
                await self.socket.send_json(frame)


class LivePages:
    """The chat pages open on this worker now, by session tag."""

    def __init__(self) -> None:
        self._pages: dict[str, set[LivePage]] = {}

    def tags(self) -> list[str]:
        return list(self._pages)

    def add(self, tag: str, page: LivePage) -> None:
        self._pages.setdefault(tag, set()).add(page)

    def remove(self, tag: str, page: LivePage) -> bool:
        """Forget a page; True while the session has another page open here."""
        pages = self._pages.get(tag)
        if pages is not None:
            pages.discard(page)
            if not pages:
                del self._pages[tag]
        return tag in self._pages

    async def send(self, tag: str, frames: Sequence[dict[str, Any]]) -> bool:
        """True when at least one open page of that session here got the frames."""
        delivered = False
        for page in list(self._pages.get(tag, ())):
            try:
                await page.send(frames)
            except (WebSocketDisconnect, RuntimeError, OSError):
                continue  # closing as we speak: the other pages, or a later attempt
            delivered = True
        return delivered


# --- HTTP helpers ------------------------------------------------------------------------------


def _session_of(ids: SessionIds, cookies: Mapping[str, str]) -> str | None:
    """The session the cookie names, if this server issued it (a planted id starts afresh)."""
    for name in (SESSION_COOKIE, EMBED_COOKIE):
        value = cookies.get(name)
        if ids.valid(value):
            return value
    return None


def _secure(request: Request, public_url: str) -> bool:
    return request.url.scheme == "https" or public_url.startswith("https://")


def _cookie(session_id: str, mode: PageMode, secure: bool) -> str:
    if mode == "embed" and secure:
        # Inside another site's page a Lax cookie is never sent; a partitioned one is, and
        # only within that site, so it cannot follow the citizen around the web.
        return (
            f"{EMBED_COOKIE}={session_id}; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; Secure; "
            "SameSite=None; Partitioned"
        )
    flag = "; Secure" if secure else ""
    return (
        f"{SESSION_COOKIE}={session_id}; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; "
        f"SameSite=Lax{flag}"
    )


def _set_session(response: Response, session_id: str, mode: PageMode, secure: bool) -> None:
    response.headers.append("set-cookie", _cookie(session_id, mode, secure))


def _page_headers(framers: str) -> dict[str, str]:
    csp = "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {framers}",
        )
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def _same_origin(headers: Mapping[str, str], public_url: str) -> bool:
    """Browsers always send Origin on WebSockets and POSTs; another site's page is refused.

    No Origin means no browser, and so no cookie stolen from one.
    """
    origin = headers.get("origin")
    if origin is None:
        return True
    netloc = urlsplit(origin).netloc
    allowed = {headers.get("host", "")}
    if public_url:
        allowed.add(urlsplit(public_url).netloc)
    return bool(netloc) and netloc in allowed


def _json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _too_large() -> JSONResponse:
    return JSONResponse({"error": "too_large"}, status_code=413)


async def _one_file(request: Request, body: bytes) -> tuple[bytes, str, str] | None:
    """The one file (bytes, declared type, name) in an already-read, size-checked form."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=1)
    except (HTTPException, MultiPartException):  # malformed multipart from an untrusted client
        return None
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            return None
        data = await file.read()
        return (data, file.content_type or "", file.filename or "") if data else None
    finally:
        await form.close()
