"""The web server: every HTTP route of motcua, mounted on one FastAPI app.

/healthz, the web chat (its routes are the channel's own: handlers/webchat.py), the messenger
webhooks, the back office's REST API and the officer console (/console). Each area is an
``APIRouter`` built by its own owner and included in :func:`create_web_app`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from backoffice import api as backoffice_api
from backoffice import console as officer_console
from bot.app import App
from storage.db import writable

log = logging.getLogger(__name__)


def create_web_app(
    app: App,
    *,
    embed_origins: Sequence[str] = (),
    kiosk_idle_minutes: int = 3,
) -> FastAPI:
    """The server; ``embed_origins`` may frame the web chat's ``/embed`` page."""
    web = FastAPI(title="motcua", docs_url=None, redoc_url=None)

    @web.get("/healthz")
    async def health() -> JSONResponse:
        # A write, rolled back: a read-only or full database must not look healthy.
        if not await writable(app.engine):
            return JSONResponse({"ok": False, "database": "not writable"}, status_code=503)
        return JSONResponse({"ok": True, "procedures": len(app.knowledge.catalogue)})

    web.include_router(
        app.webchat.routes(
            app.service.handle,
            embed_origins=embed_origins,
            kiosk_idle_minutes=kiosk_idle_minutes,
        )
    )
    _mount_channels_and_office(web, app)
    _mount_console(web, app)
    return web


def _mount_console(web: FastAPI, app: App) -> None:
    """The officer console at /console: always on; it needs an account to show anything."""
    from bot.announcements import ANNOUNCE_CHANNELS
    from bot.receipts import ReceiptMaker
    from storage.dossiers import Dossier

    maker = ReceiptMaker(app.settings, app.knowledge.catalogue, app.addresses, files=app.files)

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
            handoffs=app.handoffs,
            audit=app.audit,
            public_url=app.settings.web.public_url,
            dashboard=app.dashboard,
            leader_chats=app.leader_chats,
            volunteers=app.volunteers,
            announcements=app.announcements,
            announce_channels=ANNOUNCE_CHANNELS,
            announced=app.announce_courier.poke,
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
            inbox = app.zalo_inbox
            if inbox is None:  # no background loop (a tool's app): the turn before the answer
                status, body = await zalo.handle_webhook(request.headers, raw)
                return JSONResponse(body, status_code=status)
            # Answered before the turn, and only once the event is committed (bot/zalo_inbox.py).
            status, body, inbound = zalo.accept(request.headers, raw)
            if inbound is not None:
                await inbox.record(raw)
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
