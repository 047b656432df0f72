from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backoffice.api import router
from backoffice.client import (
    BackOfficeClient,
    BackOfficeConflict,
    BackOfficeRejected,
    BackOfficeUnavailable,
    HttpBackOffice,
    InProcessBackOffice,
)
from backoffice.office import DossierIn, OfficeService
from storage.db import create_engine, session_factory
from storage.migrate import upgrade

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
CODE = "000.00.31.H26-261127-0001"
TOKEN = "s3cret-token"
SECRET_NAME = "Trần Thị Lan"
SECRET_ID = "001099012345"


@pytest.fixture
async def office(tmp_path: Path) -> AsyncIterator[OfficeService]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'office.sqlite3'}"
    await upgrade(url)
    engine = create_engine(url)
    sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
    try:
        yield OfficeService(sessions, clock=lambda: NOW)
    finally:
        await engine.dispose()


def dossier(**changes: Any) -> DossierIn:
    data: dict[str, Any] = {
        "code": CODE,
        "commune_code": "10642",
        "procedure_code": "1.001193",
        "submitted_at": NOW,
        "fields": {"so_cccd": SECRET_ID},
        "filer": {"ho_ten": SECRET_NAME},
        "channel": "telegram",
    }
    data.update(changes)
    return DossierIn.model_validate(data)


def over_http(office: OfficeService, token: str | None = TOKEN) -> HttpBackOffice:
    web = FastAPI()
    web.include_router(router(office, TOKEN))
    return HttpBackOffice("http://office/", token, transport=httpx.ASGITransport(app=web))


def answering(status: int, content: bytes = b"{}") -> HttpBackOffice:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content)

    return HttpBackOffice("http://office", TOKEN, transport=httpx.MockTransport(handler))


def failing(error: Exception) -> HttpBackOffice:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return HttpBackOffice("http://office", TOKEN, transport=httpx.MockTransport(handler))


@pytest.fixture(params=["in-process", "http"])
async def client(
    request: pytest.FixtureRequest, office: OfficeService
) -> AsyncIterator[BackOfficeClient]:
    if request.param == "in-process":
        yield InProcessBackOffice(office)
        return
    async with over_http(office) as http:
        yield http


async def test_delivery_is_idempotent_through_either_door(client: BackOfficeClient) -> None:
    first = await client.deliver(dossier())
    again = await client.deliver(dossier())

    assert (first.code, first.status, first.received_at, first.created) == (
        CODE,
        "new",
        NOW,
        True,
    )
    assert again == type(first)(code=CODE, status="new", received_at=NOW, created=False)


async def test_status_tells_where_the_dossier_stands(client: BackOfficeClient) -> None:
    assert await client.status(CODE) is None
    await client.deliver(dossier())

    found = await client.status(CODE)

    assert found is not None
    assert (found.code, found.status, found.received_at) == (CODE, "new", NOW)
    assert [(h.status, h.at) for h in found.history] == [("new", NOW)]


async def test_a_code_held_by_another_dossier_is_a_conflict(client: BackOfficeClient) -> None:
    await client.deliver(dossier())

    with pytest.raises(BackOfficeConflict):
        await client.deliver(dossier(commune_code="10643"))


async def test_invalid_input_is_rejected_without_echoing_personal_data(
    office: OfficeService,
) -> None:
    # Built without validation, as a buggy sender would.
    bad = dossier().model_copy(update={"commune_code": "1064"})

    async with over_http(office) as http:
        with pytest.raises(BackOfficeRejected) as caught:
            await http.deliver(bad)

    assert "422" in str(caught.value) and "commune_code" in str(caught.value)
    assert SECRET_NAME not in str(caught.value) and SECRET_ID not in str(caught.value)


@pytest.mark.parametrize("token", [None, "wrong"])
async def test_a_wrong_token_is_retried_not_dropped(
    office: OfficeService, token: str | None
) -> None:
    # The operator fixes the token; the dossier itself was fine all along.
    async with over_http(office, token) as http:
        with pytest.raises(BackOfficeUnavailable) as caught:
            await http.deliver(dossier())

    assert "401" in str(caught.value)
    assert not isinstance(caught.value, BackOfficeConflict)


@pytest.mark.parametrize("status", [500, 502, 503, 429, 404, 408])
async def test_server_trouble_is_unavailable(status: int) -> None:
    async with answering(status) as http:
        with pytest.raises(BackOfficeUnavailable):
            await http.deliver(dossier())


@pytest.mark.parametrize("status", [400, 413, 422])
async def test_a_refused_request_is_rejected(status: int) -> None:
    async with answering(status, b'{"detail": "no"}') as http:
        with pytest.raises(BackOfficeRejected, match=f"HTTP {status}"):
            await http.deliver(dossier())


@pytest.mark.parametrize(
    "make",
    [
        lambda: answering(200, b"<html>proxy error</html>"),
        lambda: answering(201, b'{"code": "x"}'),
        lambda: failing(httpx.ConnectError("connection refused")),
        lambda: failing(httpx.ReadTimeout("timed out")),
        lambda: failing(httpx.RemoteProtocolError("server went away")),
    ],
)
async def test_network_failures_and_garbled_answers_are_unavailable(
    make: Callable[[], HttpBackOffice],
) -> None:
    async with make() as http:
        with pytest.raises(BackOfficeUnavailable):
            await http.deliver(dossier())


async def test_the_token_is_sent_as_a_bearer_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404)

    async with HttpBackOffice(
        "http://office/base/", TOKEN, transport=httpx.MockTransport(handler)
    ) as http:
        assert await http.status("a/b") is None

    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    # The code is one path segment even if it held a slash.
    assert seen[0].url.raw_path == b"/base/api/v1/dossiers/a%2Fb"
