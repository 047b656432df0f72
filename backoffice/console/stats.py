"""The console's dashboard: ``/console/stats`` with its PNG charts and CSV/XLSX export.

Officers and leaders read the figures of their own commune; a province-wide account (``*``)
reads the whole province or picks one commune. Another commune's figures answer 403. Charts
are drawn on the server (matplotlib, in a worker thread, once per data revision: the
dashboard keeps them) and shown as plain ``<img>``: the console runs no script.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from backoffice.console import texts
from backoffice.dashboard import (
    GROUP_LABELS,
    TARGET,
    Chart,
    Dashboard,
    Figures,
    Quarter,
    channels_png,
    percent_text,
    ratio_png,
    scope_label,
    to_csv,
    to_xlsx,
)
from backoffice.domain import Role
from storage.leaders import TTL as LINK_TTL
from storage.leaders import LeaderChatRepository

READERS = frozenset({Role.OFFICER, Role.LEADER})


def add_routes(
    console: APIRouter,
    dashboard: Dashboard,
    *,
    viewer_of: Callable[[Request], Awaitable[Any]],
    forbidden: Callable[[Request, Any], Exception],
    page: Callable[..., HTMLResponse],
    commune_names: Mapping[str, str],
) -> None:
    """The dashboard's routes on the console's router (its sign-in and role helpers)."""

    async def scope(request: Request) -> tuple[Any, tuple[str, ...] | None, Quarter]:
        viewer = await viewer_of(request)
        if viewer.role not in READERS:
            raise forbidden(request, viewer)
        wanted = request.query_params.get("commune", "").strip()
        communes: tuple[str, ...] | None = viewer.communes
        if wanted:
            if wanted not in commune_names or (communes is not None and wanted not in communes):
                raise forbidden(request, viewer)
            communes = (wanted,)
        quarter = Quarter.parse(request.query_params.get("quarter", "")) or (
            dashboard.this_quarter()
        )
        return viewer, communes, quarter

    def query(communes: tuple[str, ...] | None, quarter: Quarter, viewer: Any) -> str:
        params = {"quarter": quarter.key}
        if communes is not None and viewer.communes is None:
            params["commune"] = communes[0]
        return urlencode(params)

    @console.get("/stats", response_class=HTMLResponse)
    async def stats_page(request: Request) -> Response:
        viewer, communes, quarter = await scope(request)
        figures = await dashboard.figures(communes, quarter)
        this = dashboard.this_quarter()
        choices = [this]
        for _ in range(7):
            choices.append(choices[-1].previous())
        if quarter not in choices:
            choices.append(quarter)
        return page(
            request,
            "stats.html",
            viewer,
            f=figures,
            quarter=quarter,
            choices=choices,
            picked_commune=communes[0] if communes is not None else "",
            can_pick=viewer.communes is None,
            scope=scope_label(communes, commune_names),
            query=query(communes, quarter, viewer),
            percent=percent_text,
            days=lambda v: "—" if v is None else f"{v:.1f}".replace(".", ","),
            trend=_trend_text(figures),
            groups=GROUP_LABELS,
            target=round(100 * TARGET),
        )

    async def drawn(request: Request, draw: Chart) -> Response:
        _, communes, quarter = await scope(request)
        png = await dashboard.chart(draw, communes, quarter)
        return Response(png, media_type="image/png")

    @console.get("/stats/ratio.png")
    async def ratio_chart(request: Request) -> Response:
        return await drawn(request, ratio_png)

    @console.get("/stats/channels.png")
    async def channel_chart(request: Request) -> Response:
        return await drawn(request, channels_png)

    def filename(communes: tuple[str, ...] | None, quarter: Quarter, ext: str) -> str:
        where = "toan-tinh" if communes is None else "-".join(communes)
        return f"thong-ke-{where}-{quarter.key}.{ext}"

    @console.get("/stats.csv")
    async def stats_csv(request: Request) -> Response:
        _, communes, quarter = await scope(request)
        figures = await dashboard.figures(communes, quarter)
        name = filename(communes, quarter, "csv")
        return Response(
            to_csv(figures),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @console.get("/stats.xlsx")
    async def stats_xlsx(request: Request) -> Response:
        _, communes, quarter = await scope(request)
        figures = await dashboard.figures(communes, quarter)
        title = f"Thống kê hồ sơ {quarter.label} · {scope_label(communes, commune_names)}"
        data = await asyncio.to_thread(to_xlsx, figures, title)
        name = filename(communes, quarter, "xlsx")
        return Response(
            data,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def _trend_text(figures: Figures) -> str:
    change = figures.trend
    if change is None:
        return ""
    points = f"{abs(100 * change):.1f}".replace(".", ",")
    if change > 0:
        return texts.TREND_UP.format(points=points)
    if change < 0:
        return texts.TREND_DOWN.format(points=points)
    return texts.TREND_FLAT


def add_link_routes(
    console: APIRouter,
    chats: LeaderChatRepository,
    *,
    viewer_of: Callable[[Request], Awaitable[Any]],
    posted_form: Callable[[Request, Any], Awaitable[Mapping[str, str]]],
    forbidden: Callable[[Request, Any], Exception],
    page: Callable[..., HTMLResponse],
) -> None:
    """``/console/chat-link``: a leader ties their Telegram/Zalo/web chat to the account
    with a one-time code, to ask for ``/thongke`` there."""

    async def leader(request: Request) -> Any:
        viewer = await viewer_of(request)
        if viewer.role is not Role.LEADER:
            raise forbidden(request, viewer)
        return viewer

    async def show(request: Request, viewer: Any, code: str = "", done: str = "") -> Response:
        account = viewer.session.account
        return page(
            request,
            "chat_link.html",
            viewer,
            code=code,
            chats=await chats.chats_of(account.id),
            channel_label=lambda name: texts.CHANNELS.get(str(name), str(name)),
            minutes=int(LINK_TTL.total_seconds() // 60),
            done=done,
        )

    @console.get("/chat-link", response_class=HTMLResponse)
    async def link_page(request: Request) -> Response:
        return await show(request, await leader(request))

    @console.post("/chat-link", response_class=HTMLResponse)
    async def new_code(request: Request) -> Response:
        viewer = await leader(request)
        await posted_form(request, viewer)
        code = await chats.new_code(viewer.session.account.id, datetime.now(UTC))
        return await show(request, viewer, code=code)

    @console.post("/chat-link/{link_id}/remove", response_class=HTMLResponse)
    async def remove(link_id: int, request: Request) -> Response:
        viewer = await leader(request)
        await posted_form(request, viewer)
        await chats.unlink(viewer.session.account.id, link_id)
        return await show(request, viewer, done=texts.CHAT_UNLINKED)
