"""The web server: web chat page and WebSocket (later: webhooks, back-office API, console)."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, JSONResponse

from bot.app import App
from handlers import webchat

log = logging.getLogger(__name__)

SESSION_COOKIE = "motcua_sid"
MAX_FRAME_BYTES = 16 * 1024


def create_web_app(app: App) -> FastAPI:
    web = FastAPI(title="motcua", docs_url=None, redoc_url=None)

    @web.get("/", response_class=HTMLResponse)
    async def chat_page() -> HTMLResponse:
        response = HTMLResponse(webchat.page_html())
        response.headers["Cache-Control"] = "no-store"
        return response

    @web.get("/healthz")
    async def health() -> JSONResponse:
        return JSONResponse({"ok": True, "procedures": len(app.knowledge.catalogue)})

    @web.websocket("/ws")
    async def chat_socket(socket: WebSocket) -> None:
        session_id = socket.cookies.get(SESSION_COOKIE) or ""
        if not (
            16 <= len(session_id) <= 64 and session_id.replace("-", "").replace("_", "").isalnum()
        ):
            session_id = secrets.token_urlsafe(24)
        await socket.accept(headers=[(b"set-cookie", _cookie(session_id))])
        try:
            while True:
                raw = await socket.receive_text()
                if len(raw.encode()) > MAX_FRAME_BYTES:
                    continue
                try:
                    frame = json.loads(raw)
                except ValueError:
                    continue
                inbound = webchat.inbound_from_frame(frame, session_id, datetime.now(UTC))
                if inbound is None:
                    continue
                for reply in await app.service.replies(inbound):
                    await socket.send_json(webchat.reply_to_frame(reply))
        except WebSocketDisconnect:
            return

    return web


def _cookie(session_id: str) -> bytes:
    # A year: the citizen picks up the same conversation days later on the same phone.
    return (
        f"{SESSION_COOKIE}={session_id}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"
    ).encode()
