"""The console's announcements: ``/console/announcements``.

An officer writes an announcement for their commune (one message long), sees how many chats
opted in will receive it, confirms, and then follows how many were sent, are kept for a web
chat until the citizen opens it again, are waiting (quiet hours, pacing) or failed. A leader
reads the list and the counts and sends nothing; another commune's announcement answers 404, a
send to another commune 403. The preview and the send are audited (the send in the same
transaction as its outbox rows: storage.announcements).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from backoffice.console import texts
from backoffice.domain import Role
from dialogs.texts import announcements as chat_texts
from storage.announcements import AnnouncementRepository
from storage.audit import AuditRepository

READERS = frozenset({Role.OFFICER, Role.LEADER})


def add_routes(
    console: APIRouter,
    announcements: AnnouncementRepository,
    audit: AuditRepository,
    *,
    viewer_of: Callable[[Request], Awaitable[Any]],
    posted_form: Callable[[Request, Any], Awaitable[Mapping[str, str]]],
    forbidden: Callable[[Request, Any], Exception],
    not_found: Callable[[Request, Any], Exception],
    page: Callable[..., HTMLResponse],
    commune_names: Mapping[str, str],
    channels: frozenset[str] | None = None,
    sent: Callable[[], None] = lambda: None,
) -> None:
    """``channels``: the messengers announcements go to (None: every subscriber's);
    ``sent`` is called once new outbox rows are committed (wakes this worker's courier)."""
    prefix = console.prefix

    async def reader(request: Request) -> Any:
        viewer = await viewer_of(request)
        if viewer.role not in READERS:
            raise forbidden(request, viewer)
        return viewer

    def communes_of(viewer: Any) -> list[str]:
        return [c for c in commune_names if viewer.covers(c)]

    async def listing(
        request: Request,
        viewer: Any,
        status_code: int = 200,
        *,
        error: str = "",
        form: Mapping[str, str] | None = None,
    ) -> Response:
        shown = []
        for item in await announcements.recent(viewer.communes):
            shown.append((item, await announcements.delivered(item)))
        return page(
            request,
            "announcements.html",
            viewer,
            status_code,
            shown=shown,
            communes=communes_of(viewer),
            may_send=viewer.role is Role.OFFICER,
            form=form or {},
            key=(form or {}).get("key") or uuid.uuid4().hex,
            limit=texts.ANNOUNCE_MAX,
            texts=texts,
            error=error,
        )

    async def checked(request: Request) -> tuple[Any, Mapping[str, str], str, str]:
        """An officer's form for a commune of theirs, with a text that fits; a stop or an
        error page otherwise."""
        viewer = await viewer_of(request)
        form = await posted_form(request, viewer)
        if viewer.role is not Role.OFFICER:
            raise forbidden(request, viewer)
        commune = form.get("commune", "")
        if commune not in commune_names or not viewer.covers(commune):
            raise forbidden(request, viewer)
        body = form.get("text", "").replace("\r\n", "\n").strip()
        return viewer, form, commune, body

    def problem(body: str) -> str:
        if not body:
            return texts.ANNOUNCE_EMPTY
        if len(body) > texts.ANNOUNCE_MAX:
            return texts.ANNOUNCE_TOO_LONG.format(limit=texts.ANNOUNCE_MAX, count=len(body))
        return ""

    @console.get("/announcements", response_class=HTMLResponse)
    async def announcements_page(request: Request) -> Response:
        return await listing(request, await reader(request))

    @console.post("/announcements/preview", response_class=HTMLResponse)
    async def preview(request: Request) -> Response:
        viewer, form, commune, body = await checked(request)
        error = problem(body)
        if error:
            return await listing(request, viewer, 400, error=error, form=form)
        count = await announcements.recipients(commune)
        await audit.record(
            viewer.actor,
            "announcement_preview",
            f"commune:{commune}",
            {"recipients": count, "characters": len(body)},
            datetime.now(UTC),
        )
        return page(
            request,
            "announcement_confirm.html",
            viewer,
            text=body,
            shown_text=chat_texts.announcement(commune_names[commune], body),
            button=chat_texts.BTN_STOP,
            commune=commune,
            count=count,
            key="".join(c for c in form.get("key", "") if c.isalnum())[:32] or uuid.uuid4().hex,
            nobody=texts.ANNOUNCE_NOBODY if count == 0 else "",
        )

    @console.post("/announcements")
    async def send(request: Request) -> Response:
        viewer, form, commune, body = await checked(request)
        error = problem(body)
        if error:
            return await listing(request, viewer, 400, error=error, form=form)
        key = "".join(c for c in form.get("key", "") if c.isalnum())[:32]
        if not key:
            return await listing(request, viewer, 400, error=texts.CSRF_FAILED, form=form)
        if await announcements.recipients(commune) == 0:
            return await listing(request, viewer, 409, error=texts.ANNOUNCE_NOBODY, form=form)
        # The form's key and what it says: a double click sends once, while the same form
        # edited after a send (the browser's back button) is a new announcement.
        said = hashlib.sha256(f"{commune}\n{body}".encode()).hexdigest()[:16]
        announcement, new = await announcements.send(
            commune,
            body,
            actor=viewer.actor,
            submission_key=f"console:{key}:{said}",
            now=datetime.now(UTC),
            channels=channels,
        )
        if new:
            sent()
        done = "sent" if new else "again"
        return RedirectResponse(
            f"{prefix}/announcements/{announcement.id}?done={done}", status_code=303
        )

    @console.get("/announcements/{announcement_id}", response_class=HTMLResponse)
    async def show(announcement_id: int, request: Request) -> Response:
        viewer = await reader(request)
        found = await announcements.get(announcement_id)
        if found is None or not viewer.covers(found.commune_code):
            raise not_found(request, viewer)
        counts = await announcements.delivered(found)
        done = request.query_params.get("done", "")
        message = {
            "sent": texts.ANNOUNCE_SENT.format(count=found.recipients),
            "again": texts.ANNOUNCE_AGAIN,
        }.get(done, "")
        return page(
            request,
            "announcement.html",
            viewer,
            a=found,
            counts=counts,
            author=found.author.removeprefix("console:"),
            done=message,
            texts=texts,
        )


__all__ = ["add_routes"]
