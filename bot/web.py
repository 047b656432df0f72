"""The web server: every HTTP route of motcua, mounted on one FastAPI app.

/healthz, every channel's own routes (the web chat's pages and socket, the messenger webhooks:
handlers/), the back office's REST API and the officer console (/console). Each area is an
``APIRouter`` built by its own owner and included in :func:`create_web_app`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from backoffice import api as backoffice_api
from backoffice import console as officer_console
from bot.app import App
from handlers.channel import WebOptions, capped_body
from storage.db import writable

__all__ = ["capped_body", "create_web_app"]  # capped_body: the channels' own (handlers/channel.py)

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

    options = WebOptions(embed_origins=embed_origins, kiosk_idle_minutes=kiosk_idle_minutes)
    for channel in app.channels:
        routes = channel.routes(app.service, options)
        if routes is not None:
            web.include_router(routes)
    _mount_office(web, app)
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


def _mount_office(web: FastAPI, app: App) -> None:
    """The back office's REST API, only when configured."""
    office = app.settings.backoffice
    tokens = backoffice_api.tokens_from(office.token, office.commune_tokens)
    if office.serve_api and tokens:
        web.include_router(backoffice_api.router(app.office, app.files, app.store))
        web.add_middleware(backoffice_api.TokenGate, tokens=tokens)
