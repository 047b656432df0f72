"""The office's REST API as a script author meets it: the token first, then the rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backoffice import api as office_api
from bot.app import Knowledge, build_app
from bot.config import Settings
from storage.migrate import upgrade

PROVINCE = "province-token"
OTHER_COMMUNE = "other-commune-token"


@pytest.fixture
async def client(settings: Settings, knowledge: Knowledge) -> AsyncIterator[httpx.AsyncClient]:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        web = FastAPI()
        web.include_router(office_api.router(app.office, app.files, app.store))
        tokens = office_api.tokens_from(PROVINCE, {"99999": OTHER_COMMUNE})
        web.add_middleware(office_api.TokenGate, tokens=tokens)
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://office") as http:
            yield http


def _auth(token: str = PROVINCE) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _submission(key: str = "api-1") -> dict[str, Any]:
    return {
        "submission_key": key,
        "commune_code": "10642",
        "procedure_code": "1.001193",
        "filed_from": {"channel": "telegram", "chat_id": "7", "user_id": "7"},
        "fields": {"ho_ten_tre": "Trần Minh Khôi"},
        "filer": {"for_self": True},
    }


async def test_without_the_token_nothing_is_read_or_answered(client: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/api/v1/dossiers"), ("POST", "/api/v1/dossiers")):
        answer = await client.request(method, path, json=_submission())
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
    wrong = await client.get("/api/v1/dossiers", headers=_auth("guess"))
    assert wrong.status_code == 401


async def test_the_gate_answers_before_a_huge_body_is_read() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the application must not run")

    gate = office_api.TokenGate(app, office_api.tokens_from(PROVINCE, {}))
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body must not be read")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    huge = [(b"content-length", str(400 << 20).encode())]
    scope = {"type": "http", "path": "/api/v1/dossiers", "method": "POST", "headers": huge}
    await gate(scope, receive, send)
    assert sent[0]["status"] == 401
    with_token = [*huge, (b"authorization", f"Bearer {PROVINCE}".encode())]
    sent.clear()
    await gate({**scope, "headers": with_token}, receive, send)
    assert sent[0]["status"] == 413


async def test_file_move_and_refuse_by_the_rules(client: httpx.AsyncClient) -> None:
    first = await client.post("/api/v1/dossiers", json=_submission(), headers=_auth())
    again = await client.post("/api/v1/dossiers", json=_submission(), headers=_auth())
    assert (first.status_code, again.status_code) == (201, 200)
    code = first.json()["code"]
    assert again.json()["code"] == code

    moved = await client.post(
        f"/api/v1/dossiers/{code}/transitions", json={"to": "accepted"}, headers=_auth()
    )
    assert moved.status_code == 200
    assert moved.json()["status"] == "accepted"
    assert [h["to"] for h in moved.json()["history"]] == ["received", "accepted"]

    # Refused with the workflow's reason, and nothing changed.
    refused = await client.post(
        f"/api/v1/dossiers/{code}/transitions", json={"to": "returned"}, headers=_auth()
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["reason"]
    still = await client.get(f"/api/v1/dossiers/{code}", headers=_auth())
    assert still.json()["status"] == "accepted" and still.json()["version"] == 1

    needs_items = await client.post(
        f"/api/v1/dossiers/{code}/transitions",
        json={"to": "supplement_requested"},
        headers=_auth(),
    )
    assert needs_items.status_code == 409

    listed = await client.get("/api/v1/dossiers?status=accepted", headers=_auth())
    assert [d["code"] for d in listed.json()] == [code]


async def test_a_communes_token_cannot_see_or_move_another_communes_dossier(
    client: httpx.AsyncClient,
) -> None:
    code = (await client.post("/api/v1/dossiers", json=_submission(), headers=_auth())).json()[
        "code"
    ]
    other = _auth(OTHER_COMMUNE)
    assert (await client.get(f"/api/v1/dossiers/{code}", headers=other)).status_code == 404
    move = await client.post(
        f"/api/v1/dossiers/{code}/transitions", json={"to": "accepted"}, headers=other
    )
    assert move.status_code == 404
    assert (await client.get("/api/v1/dossiers", headers=other)).json() == []
    filing = await client.post("/api/v1/dossiers", json=_submission("api-2"), headers=other)
    assert filing.status_code == 403
    mine = await client.get(f"/api/v1/dossiers/{code}", headers=_auth())
    assert mine.json()["status"] == "received"


async def test_every_answer_is_in_the_openapi_description(client: httpx.AsyncClient) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    paths = app.openapi()["paths"]
    transitions = paths["/api/v1/dossiers/{code}/transitions"]["post"]["responses"]
    assert {"200", "401", "404", "409", "413", "422"} <= set(transitions)
    assert {"200", "201", "401", "403"} <= set(paths["/api/v1/dossiers"]["post"]["responses"])


async def test_the_http_client_files_and_reads_through_the_api(
    client: httpx.AsyncClient,
) -> None:
    from datetime import UTC, datetime

    from backoffice.client import BackOfficeUnavailable, HttpBackOffice
    from backoffice.office import Submission
    from dialogs.model import ConversationKey

    transport = client._transport  # type: ignore[attr-defined]
    office = HttpBackOffice("http://office", PROVINCE, transport=transport)
    submission = Submission(
        submission_key="http-1",
        commune_code="10642",
        procedure_code="1.001193",
        filer_key=ConversationKey("zalo", "z1", "z1"),
        submitted_at=datetime.now(UTC),
        fields={"ho_ten_tre": "Lò Thị Mai"},
        filer={"for_self": True},
    )
    first = await office.submit(submission)
    again = await office.submit(submission)
    assert first.created and not again.created and first.code == again.code
    found = await office.dossier(first.code)
    assert found is not None and found.status == "received"
    assert await office.dossier("000.00.31.H26-200101-0001") is None
    locked_out = HttpBackOffice("http://office", "wrong", transport=transport)
    with pytest.raises(BackOfficeUnavailable):  # an operator fixes the token; nothing is dropped
        await locked_out.submit(submission)
