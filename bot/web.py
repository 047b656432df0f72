"""The web server: every HTTP route of motcua, mounted on one FastAPI app.

Today: the web chat (page, kiosk, embed script, WebSocket, uploads, media), /healthz, the
messenger webhooks, the back office's REST API and the officer console (/console).
Each area is an ``APIRouter`` built by its own function and included in
:func:`create_web_app`, so webhooks and the back-office API slot in beside it.

Sessions: the web chat conversation lives on the server, keyed by an HttpOnly cookie holding
256 random bits. Only its hash (:func:`handlers.webchat.session_tag`) is used as the chat id.

Framing: the chat page and the kiosk may only be framed by motcua itself. The embed page
(``/embed``) may be framed by the commune's website: by the origins given in
``embed_origins``, or else by any HTTPS site. Allowing any site is safe enough because a
framed chat never sees a real conversation: the main cookie is SameSite=Lax (not sent to a
cross-site frame) and the embed cookie is Partitioned (one jar per top-level site), so a
hostile page that frames the chat only gets a fresh, empty session of its own.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.types import Message

from backoffice import api as backoffice_api
from backoffice import console as officer_console
from bot.app import App
from dialogs.model import ConversationKey, Media, Reply
from handlers import webchat
from handlers.webchat import BlobShelf, PageMode, WebUploads
from storage.db import writable

log = logging.getLogger(__name__)

SESSION_COOKIE = "motcua_sid"
EMBED_COOKIE = "motcua_esid"  # partitioned: the chat inside another site's page
COOKIE_MAX_AGE = 365 * 24 * 3600  # a citizen picks the conversation up days later
MAX_FRAME_BYTES = 16 * 1024
MAX_UPLOAD_BODY = webchat.MAX_UPLOAD_BYTES + 64 * 1024  # the file plus multipart framing
# Recent replies kept to answer a resend after a dropped connection: the last few of each page
# session (a page resends only what it sent since it lost the connection), for the sessions
# seen most recently. Per session, so one busy visitor cannot evict another's answer.
REPLAY_FRAMES_PER_SESSION = 8
REPLAY_SESSIONS = 2000
MEDIA_TYPES = frozenset({"image/png", "image/jpeg", "application/pdf"})
UPLOAD_TYPES = frozenset({"image/jpeg", "image/png", "image/heic", "image/heif", "application/pdf"})


def create_web_app(
    app: App,
    *,
    uploads: WebUploads | None = None,
    embed_origins: Sequence[str] = (),
    kiosk_idle_minutes: int = 3,
) -> FastAPI:
    """The server. Pass the ``uploads`` registered as ``fetchers["web"]`` in ``build_app``."""
    web = FastAPI(title="motcua", docs_url=None, redoc_url=None)

    @web.get("/healthz")
    async def health() -> JSONResponse:
        # A write, rolled back: a read-only or full database must not look healthy.
        if not await writable(app.engine):
            return JSONResponse({"ok": False, "database": "not writable"}, status_code=503)
        return JSONResponse({"ok": True, "procedures": len(app.knowledge.catalogue)})

    web.include_router(
        webchat_router(
            app,
            uploads=uploads or WebUploads(),
            embed_origins=embed_origins,
            kiosk_idle_minutes=kiosk_idle_minutes,
        )
    )
    _mount_channels_and_office(web, app)
    _mount_console(web, app)
    return web


def _mount_console(web: FastAPI, app: App) -> None:
    """The officer console at /console: always on; it needs an account to show anything."""
    from bot.receipts import ReceiptMaker
    from storage.dossiers import Dossier

    maker = ReceiptMaker(app.settings, app.knowledge.catalogue, app.files)

    async def receipt(dossier: Dossier) -> bytes | None:
        drawn = await maker.documents(dossier)
        return drawn.documents[0].data if drawn is not None and drawn.documents else None

    web.include_router(
        officer_console.router(
            app.office,
            app.accounts,
            app.files,
            app.store,
            app.knowledge.catalogue,
            receipt=receipt,
            commune_names={c.code: c.name for c in app.settings.communes},
            public_url=app.settings.web.public_url,
        )
    )
    web.add_middleware(officer_console.ConsoleHeaders)


def _mount_channels_and_office(web: FastAPI, app: App) -> None:
    """Messenger webhooks and the back office's REST API, each only when configured."""
    telegram = app.channels.telegram
    zalo = app.channels.zalo
    if telegram is not None:

        @web.post("/telegram/webhook")
        async def telegram_webhook(request: Request) -> JSONResponse:
            # Who is asking, then how much: neither costs a byte of the body.
            if not telegram.secret_ok(request.headers):
                return JSONResponse({"ok": False}, status_code=401)
            raw = await capped_body(request, telegram.body_limit)
            if raw is None:
                return JSONResponse({"ok": False}, status_code=413)
            status, body = await telegram.handle_webhook(request.headers, raw)
            return JSONResponse(body, status_code=status)

    if zalo is not None:

        @web.post("/zalo/webhook")
        async def zalo_webhook(request: Request) -> JSONResponse:
            if not zalo.signed(request.headers):
                return JSONResponse({"error": "bad signature"}, status_code=401)
            raw = await capped_body(request, zalo.body_limit)
            if raw is None:
                return JSONResponse({"error": "too large"}, status_code=413)
            status, body = await zalo.handle_webhook(request.headers, raw)
            return JSONResponse(body, status_code=status)

    office = app.settings.backoffice
    tokens = backoffice_api.tokens_from(office.token, office.commune_tokens)
    if office.serve_api and tokens:
        web.include_router(backoffice_api.router(app.office, app.files, app.store))
        web.add_middleware(backoffice_api.TokenGate, tokens=tokens)


async def capped_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is (or says it will be) longer than ``limit``: a
    400 MB POST is refused after reading ``limit`` bytes, not held in memory whole."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def webchat_router(
    app: App,
    *,
    uploads: WebUploads,
    embed_origins: Sequence[str],
    kiosk_idle_minutes: int,
) -> APIRouter:
    router = APIRouter()
    public_url = app.settings.web.public_url.rstrip("/")
    commune_name = app.settings.commune().name
    media = BlobShelf(
        ttl_seconds=12 * 3600,
        max_total_bytes=128 * 1024 * 1024,
        max_owner_bytes=16 * 1024 * 1024,
        evict_oldest=True,
    )
    replayed = ReplayCache()
    live = LivePages()
    app.push.register(webchat.CHANNEL, live.send)
    ancestors = " ".join(embed_origins) if embed_origins else "https:"

    def page(request: Request, mode: PageMode) -> HTMLResponse:
        response = HTMLResponse(webchat.page_html(commune_name, mode, kiosk_idle_minutes))
        if _session_of(app.web_sessions, request.cookies) is None:
            _set_session(response, app.web_sessions.new(), mode, _secure(request, public_url))
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
        body = webchat.static_file(name)
        if body is None:
            return Response(status_code=404)
        return Response(
            body,
            media_type=webchat.STATIC_FILES[name],
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    @router.get("/embed.js")
    async def embed_script(request: Request) -> Response:
        base = public_url or str(request.base_url).rstrip("/")
        return Response(
            webchat.embed_script(f"{base}/embed"),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    @router.post("/session/new")
    async def new_session(request: Request) -> JSONResponse:
        """The kiosk starts over for the next visitor: a new cookie, so a new conversation."""
        if not _same_origin(request.headers, public_url):
            return JSONResponse({"error": "origin"}, status_code=403)
        response = JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})
        mode: PageMode = "embed" if request.query_params.get("embed") == "1" else "page"
        _set_session(response, app.web_sessions.new(), mode, _secure(request, public_url))
        return response

    @router.post("/upload")
    async def upload(request: Request) -> JSONResponse:
        session_id = _session_of(app.web_sessions, request.cookies)
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
        if len(data) > webchat.MAX_UPLOAD_BYTES:
            return _too_large()
        mime_type = declared_type if declared_type in UPLOAD_TYPES else ""
        token = uploads.add(session_id, data, mime_type, filename)
        if token is None:
            return JSONResponse({"error": "busy"}, status_code=503)
        return JSONResponse({"ref": token}, headers={"Cache-Control": "no-store"})

    @router.get("/media/{token}")
    async def media_file(token: str, request: Request) -> Response:
        session_id = _session_of(app.web_sessions, request.cookies)
        blob = media.get(token, webchat.session_tag(session_id)) if session_id else None
        if blob is None:
            return Response(status_code=404, headers={"Cache-Control": "no-store"})
        mime_type = blob.mime_type if blob.mime_type in MEDIA_TYPES else "application/octet-stream"
        # The kiosk prints the receipt in the browser's own PDF viewer; everywhere else a PDF
        # is a download, never a page rendered from our origin.
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
                    f"{disposition}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
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
        session_id = _session_of(app.web_sessions, socket.cookies)
        headers: list[tuple[bytes, bytes]] = []
        if session_id is None:
            session_id = app.web_sessions.new()
            mode: PageMode = "embed" if socket.query_params.get("embed") == "1" else "page"
            secure = socket.url.scheme == "wss" or public_url.startswith("https://")
            headers.append((b"set-cookie", _cookie(session_id, mode, secure).encode()))
        await socket.accept(headers=headers)
        tag = webchat.session_tag(session_id)

        def link(item: Media) -> str:
            token = media.put(tag, item.data, item.mime_type, item.filename)
            return f"/media/{token}" if token else ""

        page = LivePage(socket, link)
        live.add(tag, page)
        try:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                raw = message.get("text")
                if not isinstance(raw, str) or len(raw.encode()) > MAX_FRAME_BYTES:
                    continue
                frame = _json(raw)
                frame_id = webchat.frame_id_of(frame)
                if frame_id is None:
                    continue
                inbound = webchat.inbound_from_frame(frame, session_id, datetime.now(UTC), uploads)
                out: list[dict[str, Any]] = []
                if inbound is not None:
                    result = await app.service.handle(inbound)
                    if result.duplicate:
                        # A resend of a frame whose replies the dropped connection swallowed.
                        out = replayed.get(tag, frame_id)
                    else:
                        out = [webchat.reply_to_frame(r, frame_id, link) for r in result.replies]
                        replayed.put(tag, frame_id, out)
                await page.send([*out, webchat.done_frame(frame_id)])
        except WebSocketDisconnect:
            return
        finally:
            live.remove(tag, page)

    return router


class LivePage:
    """One open chat page: its socket, and how it turns files into links for this session."""

    def __init__(self, socket: WebSocket, link: Callable[[Media], str]) -> None:
        self.socket = socket
        self.link = link
        # A turn's answer and a pushed message must not interleave their frames.
        self._sending = asyncio.Lock()

    async def send(self, frames: Sequence[dict[str, Any]]) -> None:
        async with self._sending:
            for frame in frames:
                await self.socket.send_json(frame)


class LivePages:
    """The chat pages open now, by session: where a message written first can go."""

    def __init__(self) -> None:
        self._pages: dict[str, set[LivePage]] = {}
        self._pushes = itertools.count(1)

    def add(self, tag: str, page: LivePage) -> None:
        self._pages.setdefault(tag, set()).add(page)

    def remove(self, tag: str, page: LivePage) -> None:
        pages = self._pages.get(tag)
        if pages is not None:
            pages.discard(page)
            if not pages:
                del self._pages[tag]

    async def send(self, key: ConversationKey, replies: Sequence[Reply]) -> bool:
        """True when at least one open page of that session got the replies."""
        delivered = False
        for page in list(self._pages.get(key.chat_id, ())):
            # Its own turn id, so the page scrolls to the top of this message.
            turn = f"push-{next(self._pushes)}"
            frames = [webchat.reply_to_frame(r, turn, page.link) for r in replies]
            try:
                await page.send(frames)
            except (WebSocketDisconnect, RuntimeError, OSError):
                continue  # closing as we speak: the other pages, or a later attempt
            delivered = True
        return delivered


# --- helpers -----------------------------------------------------------------------------------


def _session_of(ids: webchat.SessionIds, cookies: Mapping[str, str]) -> str | None:
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


class ReplayCache:
    """The replies to each session's last frames, newest sessions kept. (In this process:
    a page that reconnects to another worker gets no replay; issue #12 moves it.)"""

    def __init__(
        self, per_session: int = REPLAY_FRAMES_PER_SESSION, sessions: int = REPLAY_SESSIONS
    ) -> None:
        self._per_session = per_session
        self._sessions = sessions
        self._frames: OrderedDict[str, OrderedDict[str, list[dict[str, Any]]]] = OrderedDict()

    def put(self, session: str, frame_id: str, frames: list[dict[str, Any]]) -> None:
        kept = self._frames.pop(session, None) or OrderedDict()
        kept[frame_id] = frames
        while len(kept) > self._per_session:
            kept.popitem(last=False)
        self._frames[session] = kept
        while len(self._frames) > self._sessions:
            self._frames.popitem(last=False)

    def get(self, session: str, frame_id: str) -> list[dict[str, Any]]:
        return self._frames.get(session, OrderedDict()).get(frame_id, [])


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
