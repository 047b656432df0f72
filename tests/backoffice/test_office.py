from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backoffice.api import router
from backoffice.office import DossierCodeConflict, DossierIn, OfficeService, StatusName
from storage.audit import AuditRepository
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import DOSSIER_STATUSES
from tests.storage.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL_ENV, reset_postgres

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
CODE = "000.00.31.H26-261127-0001"
TOKEN = "s3cret-token"
PERSONAL = ("Trần Minh Khôi", "001099012345", "Trần Thị Lan")


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def sessions(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'office.sqlite3'}"
    else:
        url = os.environ.get(POSTGRES_URL_ENV, "")
        if not url:
            pytest.skip(POSTGRES_SKIP_REASON)
        await reset_postgres(url)
    await upgrade(url)
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def body(code: str = CODE, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": code,
        "commune_code": "10642",
        "procedure_code": "1.001193",
        "submitted_at": "2026-11-27T09:58:00+07:00",
        "fields": {"ho_ten_tre": PERSONAL[0], "so_cccd_me": PERSONAL[1]},
        "files": [
            {
                "slot": "cccd",
                "sha256": "a" * 64,
                "mime_type": "image/jpeg",
                "size": 1200,
                "storage_key": "k/1.jpg",
                "width": 800,
                "height": 600,
            }
        ],
        "filer": {"ho_ten": PERSONAL[2], "quan_he": "mẹ"},
        "channel": "zalo",
        "delivery": {"result_delivery": "counter"},
        "due_date": "2026-11-30",
    }
    base.update(changes)
    return base


def dossier(code: str = CODE, **changes: Any) -> DossierIn:
    return DossierIn.model_validate(body(code, **changes))


def test_the_api_status_names_are_the_one_stop_statuses() -> None:
    assert get_args(StatusName) == DOSSIER_STATUSES


# --------------------------------------------------------------------------- the service


async def test_a_redelivery_returns_the_first_receipt_and_keeps_one_record(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock()
    office = OfficeService(sessions, clock=clock)

    first = await office.receive(dossier())
    clock.now = NOW + timedelta(minutes=7)
    again = await office.receive(dossier())

    assert first.created and not again.created
    assert (again.code, again.status, again.received_at) == (CODE, "new", NOW)
    assert len(await office.list()) == 1
    audit = await AuditRepository(sessions).for_target(f"dossier:{CODE}")
    assert [(a.action, a.at) for a in audit] == [("dossier_received", NOW)]
    assert not any(p in repr(audit) for p in PERSONAL)


async def test_simultaneous_deliveries_of_one_code_create_it_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    office = OfficeService(sessions, clock=Clock())

    receipts = await asyncio.gather(*(office.receive(dossier()) for _ in range(5)))

    assert sum(r.created for r in receipts) == 1
    assert {r.received_at for r in receipts} == {NOW}
    assert len(await office.list()) == 1


async def test_the_record_keeps_what_was_delivered_and_starts_its_history(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    office = OfficeService(sessions, clock=Clock())
    await office.receive(dossier())

    found = await office.get(f" {CODE} ")

    assert found is not None
    assert found.status == "new"
    assert found.submitted_at == datetime(2026, 11, 27, 2, 58, tzinfo=UTC)
    assert (found.received_at, found.due_date) == (NOW, date(2026, 11, 30))
    assert found.payload["fields"]["ho_ten_tre"] == PERSONAL[0]
    assert found.payload["files"][0]["storage_key"] == "k/1.jpg"
    assert found.payload["filer"]["quan_he"] == "mẹ"
    assert found.payload["delivery"] == {"result_delivery": "counter", "postal_address": None}
    assert found.payload["channel"] == "zalo"
    assert [(h.status, h.at) for h in found.history] == [("new", NOW)]
    assert await office.get("000.00.31.H26-261127-0999") is None


async def test_a_code_reused_for_another_dossier_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    office = OfficeService(sessions, clock=Clock())
    await office.receive(dossier())

    with pytest.raises(DossierCodeConflict):
        await office.receive(dossier(procedure_code="1.000656"))

    found = await office.get(CODE)
    assert found is not None and found.procedure_code == "1.001193"


async def test_listing_filters_by_commune_and_status_newest_first(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock()
    office = OfficeService(sessions, clock=clock)
    for n, commune in enumerate(["10642", "10643", "10642"], start=1):
        clock.now = NOW + timedelta(minutes=n)
        await office.receive(dossier(f"000.00.31.H26-261127-000{n}", commune_code=commune))

    listed = await office.list(commune_code="10642")

    assert [d.code[-4:] for d in listed] == ["0003", "0001"]
    assert [d.code[-4:] for d in await office.list(status="new")] == ["0003", "0002", "0001"]
    assert await office.list(status="accepted") == []
    with pytest.raises(ValueError):
        await office.list(status="lost")


# --------------------------------------------------------------------------- the REST API


@pytest.fixture
def api_client(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[str | None, str | None], httpx.AsyncClient]:
    office = OfficeService(sessions, clock=Clock())

    def make(server_token: str | None, client_token: str | None) -> httpx.AsyncClient:
        web = FastAPI()
        web.include_router(router(office, server_token))
        headers = {"Authorization": f"Bearer {client_token}"} if client_token else {}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://office", headers=headers
        )

    return make


async def test_post_answers_201_then_200_with_the_same_receipt(
    api_client: Callable[[str | None, str | None], httpx.AsyncClient],
) -> None:
    async with api_client(TOKEN, TOKEN) as http:
        first = await http.post("/api/v1/dossiers", json=body())
        again = await http.post("/api/v1/dossiers", json=body())
        fetched = await http.get(first.headers["location"])

    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json() == {
        "code": CODE,
        "status": "new",
        "received_at": "2026-11-27T03:00:00Z",
        "created": True,
    }
    assert again.json() == {**first.json(), "created": False}
    assert fetched.status_code == 200
    assert fetched.json()["history"][0]["status"] == "new"


@pytest.mark.parametrize(
    "bad",
    [
        {"commune_code": "1064"},
        {"code": "mã hồ sơ"},
        {"submitted_at": "2026-11-27T09:58:00"},  # no time zone: which clock?
        {"delivery": {"result_delivery": "post"}},  # by post, but to where?
        {"delivery": {"result_delivery": "drone"}},
        {"files": [{"slot": "cccd", "sha256": "xyz", "mime_type": "image/jpeg", "size": 1}]},
        {"surprise": True},
        {"fields": None},
    ],
)
async def test_bad_input_is_answered_422_and_nothing_is_kept(
    api_client: Callable[[str | None, str | None], httpx.AsyncClient], bad: dict[str, Any]
) -> None:
    async with api_client(None, None) as http:
        response = await http.post("/api/v1/dossiers", json=body(**bad))
        listed = await http.get("/api/v1/dossiers")

    assert response.status_code == 422
    assert listed.json() == []


async def test_a_conflicting_code_is_answered_409(
    api_client: Callable[[str | None, str | None], httpx.AsyncClient],
) -> None:
    async with api_client(None, None) as http:
        await http.post("/api/v1/dossiers", json=body())
        response = await http.post("/api/v1/dossiers", json=body(commune_code="10643"))

    assert response.status_code == 409


async def test_lookups_and_filters(
    api_client: Callable[[str | None, str | None], httpx.AsyncClient],
) -> None:
    async with api_client(None, None) as http:
        await http.post("/api/v1/dossiers", json=body())
        await http.post(
            "/api/v1/dossiers", json=body("000.00.31.H26-261127-0002", commune_code="10643")
        )
        missing = await http.get("/api/v1/dossiers/000.00.31.H26-261127-0404")
        by_commune = await http.get("/api/v1/dossiers", params={"commune": "10643"})
        by_status = await http.get("/api/v1/dossiers", params={"status": "accepted"})
        bad_status = await http.get("/api/v1/dossiers", params={"status": "lost"})
        bad_commune = await http.get("/api/v1/dossiers", params={"commune": "x"})

    assert missing.status_code == 404
    assert [d["code"] for d in by_commune.json()] == ["000.00.31.H26-261127-0002"]
    assert "payload" not in by_commune.json()[0]  # the list does not spill personal data
    assert by_status.json() == []
    assert (bad_status.status_code, bad_commune.status_code) == (422, 422)


@pytest.mark.parametrize("client_token", [None, "wrong", TOKEN + "x", TOKEN[:-1]])
async def test_a_configured_token_is_required_on_every_route(
    api_client: Callable[[str | None, str | None], httpx.AsyncClient], client_token: str | None
) -> None:
    async with api_client(TOKEN, client_token) as http:
        answers = [
            await http.post("/api/v1/dossiers", json=body()),
            await http.get(f"/api/v1/dossiers/{CODE}"),
            await http.get("/api/v1/dossiers"),
        ]

    assert [a.status_code for a in answers] == [401, 401, 401]
    assert answers[0].headers["www-authenticate"] == "Bearer"


async def test_the_openapi_document_describes_the_api(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    web = FastAPI()
    web.include_router(router(OfficeService(sessions), TOKEN))

    document = web.openapi()

    post = document["paths"]["/api/v1/dossiers"]["post"]
    assert {"200", "201", "409", "422"} <= set(post["responses"])
    assert post["security"] == [{"HTTPBearer": []}]
    assert "/api/v1/dossiers/{code}" in document["paths"]
