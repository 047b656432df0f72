"""The office's REST API as a script author meets it, in memory: the token gate, filing once,
reading, lists, moves with problem+json refusals, commune scopes, and the OpenAPI document."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backoffice import api as office_api
from backoffice.domain.postal import s10_check_digit
from bot.app import Knowledge
from knowledge.dossier_code import format_code
from storage.attachments import FileRepository
from storage.db import create_engine, session_factory
from storage.dossiers import DossierRepository
from storage.files import LocalFileStore
from storage.migrate import upgrade
from tests.backoffice.test_office import (
    AGENCY,
    CHILD,
    COMMUNE,
    FILER,
    ID_NUMBER,
    MOTHER,
    PROCEDURE,
    VIETNAM,
    Clock,
    make_office,
)

PROVINCE = "province-token"
COMMUNE_TOKEN = "commune-10642-token"
OTHER_TOKEN = "commune-99999-token"
OTHER_COMMUNE = "99999"
PROBLEM = "application/problem+json"
BASE = "/api/v1"


def item_number(serial: str = "12345678") -> str:
    return f"EE{serial}{s10_check_digit(serial)}VN"


def bad_item_number(serial: str = "12345678") -> str:
    return f"EE{serial}{(s10_check_digit(serial) + 1) % 10}VN"


@dataclasses.dataclass
class Api:
    http: httpx.AsyncClient
    web: FastAPI
    clock: Clock
    store: DossierRepository
    files: FileRepository
    blobs: LocalFileStore

    async def file(self, key: str = "api-1", token: str = PROVINCE, **changes: Any) -> str:
        answer = await self.http.post(
            f"{BASE}/dossiers", json=submission_body(key, **changes), headers=auth(token)
        )
        assert answer.status_code == 201, answer.text
        code: str = answer.json()["code"]
        return code

    async def get(self, code: str, token: str = PROVINCE) -> httpx.Response:
        return await self.http.get(f"{BASE}/dossiers/{code}", headers=auth(token))

    async def move(self, code: str, token: str = PROVINCE, **body: Any) -> httpx.Response:
        return await self.http.post(
            f"{BASE}/dossiers/{code}/transitions", json=body, headers=auth(token)
        )

    async def moved(self, code: str, to: str, **body: Any) -> dict[str, Any]:
        answer = await self.move(code, to=to, **body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == to
        out: dict[str, Any] = answer.json()
        return out

    async def listed(self, token: str = PROVINCE, **params: Any) -> list[str]:
        answer = await self.http.get(f"{BASE}/dossiers", params=params, headers=auth(token))
        assert answer.status_code == 200, answer.text
        return [d["code"] for d in answer.json()]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def submission_body(key: str = "api-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "submission_key": key,
        "commune_code": COMMUNE,
        "procedure_code": PROCEDURE,
        "filed_from": {
            "channel": FILER.channel,
            "chat_id": FILER.chat_id,
            "user_id": FILER.user_id,
        },
        "fields": {"ho_ten": CHILD, "so_cccd": ID_NUMBER},
        "filer": {"ho_ten": MOTHER, "quan_he": "mẹ"},
    }
    body.update(changes)
    return body


def office_app(office: Any, files: FileRepository, blobs: LocalFileStore) -> FastAPI:
    """As ``bot.web._mount_channels_and_office`` mounts it."""
    web = FastAPI()
    web.include_router(office_api.router(office, files, blobs))
    tokens = office_api.tokens_from(PROVINCE, {COMMUNE: COMMUNE_TOKEN, OTHER_COMMUNE: OTHER_TOKEN})
    web.add_middleware(office_api.TokenGate, tokens=tokens)
    return web


@pytest.fixture
async def api(tmp_path: Path, knowledge: Knowledge) -> AsyncIterator[Api]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'api.sqlite3'}"
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    clock = Clock()
    store = DossierRepository(sessions, timezone=VIETNAM, code_format=format_code)
    files = FileRepository(sessions)
    blobs = LocalFileStore(tmp_path / "files")
    web = office_app(make_office(store, knowledge, clock), files, blobs)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://office"
        ) as http:
            yield Api(http=http, web=web, clock=clock, store=store, files=files, blobs=blobs)
    finally:
        await engine.dispose()


CODE_ROUTES = (
    ("GET", "/dossiers/{code}"),
    ("POST", "/dossiers/{code}/transitions"),
    ("POST", "/dossiers/{code}/extension"),
    ("POST", "/dossiers/{code}/postal-events"),
    ("GET", "/dossiers/{code}/files/{file_id}"),
)
ROUTES = (("GET", "/dossiers"), ("POST", "/dossiers"), *CODE_ROUTES)


def path_of(route: str, code: str, file_id: int = 1) -> str:
    return BASE + route.format(code=code, file_id=file_id)


# --------------------------------------------------------------------------- the gate


@pytest.mark.parametrize(
    "headers",
    [{}, auth("guess"), {"Authorization": f"Basic {PROVINCE}"}, {"Authorization": "Bearer"}],
    ids=["none", "wrong", "basic-scheme", "empty"],
)
async def test_every_route_answers_401_without_the_right_token(
    api: Api, headers: dict[str, str]
) -> None:
    code = await api.file()
    for method, route in ROUTES:
        answer = await api.http.request(
            method, path_of(route, code), json={"to": "accepted"}, headers=headers
        )
        assert answer.status_code == 401, (method, route)
        assert answer.headers["content-type"] == PROBLEM
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["status"] == 401
    # Nothing moved on the way.
    assert (await api.get(code)).json()["version"] == 0


async def _raw(web: FastAPI, method: str, headers: list[tuple[bytes, bytes]]) -> list[Any]:
    """One request straight into the ASGI app; reading the body fails the test."""
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body was read")

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": f"{BASE}/dossiers",
        "raw_path": f"{BASE}/dossiers".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"office"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("office", 80),
    }
    await web(scope, receive, send)
    return sent


HUGE = (b"content-length", str(400 << 20).encode())  # 400 MB announced


async def test_a_huge_body_without_a_token_is_refused_unread(api: Api) -> None:
    sent = await _raw(api.web, "POST", [HUGE, (b"content-type", b"application/json")])
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 401
    assert (b"content-type", PROBLEM.encode()) in sent[0]["headers"]


async def test_a_huge_body_with_a_token_is_413_unread(api: Api) -> None:
    sent = await _raw(api.web, "POST", [HUGE, (b"authorization", f"Bearer {PROVINCE}".encode())])
    assert sent[0]["status"] == 413
    assert (b"content-type", PROBLEM.encode()) in sent[0]["headers"]
    # Just over the limit is also refused; the limit itself is not.
    over = (b"content-length", str(office_api.MAX_BODY + 1).encode())
    sent = await _raw(api.web, "POST", [over, (b"authorization", f"Bearer {PROVINCE}".encode())])
    assert sent[0]["status"] == 413


async def test_a_body_within_the_limit_goes_through(api: Api) -> None:
    padded = submission_body(fields={"ghi_chu": "x" * 100_000, "ho_ten": CHILD})
    answer = await api.http.post(f"{BASE}/dossiers", json=padded, headers=auth(PROVINCE))
    assert answer.status_code == 201


# --------------------------------------------------------------------------- filing, reading


async def test_filing_answers_201_then_200_with_the_first_receipt(api: Api) -> None:
    first = await api.http.post(f"{BASE}/dossiers", json=submission_body(), headers=auth(PROVINCE))
    api.clock.now = api.clock.now.replace(minute=30)
    again = await api.http.post(f"{BASE}/dossiers", json=submission_body(), headers=auth(PROVINCE))

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["code"] == f"{AGENCY}-261127-0001"
    assert (first.json()["created"], again.json()["created"]) == (True, False)
    for key in ("code", "received_at", "due_date", "status"):
        assert again.json()[key] == first.json()[key]
    assert first.json()["due_date"] == "2026-12-02"
    assert first.headers["location"].endswith(f"/dossiers/{first.json()['code']}")
    assert len(await api.listed()) == 1


async def test_filing_refuses_what_it_cannot_file(api: Api) -> None:
    unknown = await api.http.post(
        f"{BASE}/dossiers", json=submission_body(procedure_code="9.999999"), headers=auth(PROVINCE)
    )
    assert unknown.status_code == 404
    bad_commune = await api.http.post(
        f"{BASE}/dossiers", json=submission_body(commune_code="1064"), headers=auth(PROVINCE)
    )
    assert bad_commune.status_code == 422
    no_address = await api.http.post(
        f"{BASE}/dossiers", json=submission_body(result_delivery="post"), headers=auth(PROVINCE)
    )
    assert no_address.status_code == 422
    elsewhere = await api.http.post(
        f"{BASE}/dossiers",
        json=submission_body(commune_code=OTHER_COMMUNE),
        headers=auth(COMMUNE_TOKEN),
    )
    assert elsewhere.status_code == 403
    assert await api.listed() == []


async def test_a_dossier_shows_status_due_date_moves_and_history(api: Api) -> None:
    code = await api.file()
    answer = await api.get(code)

    assert answer.status_code == 200
    shown = answer.json()
    assert (shown["code"], shown["status"], shown["due_date"]) == (code, "received", "2026-12-02")
    assert shown["allowed"] == ["accepted", "not_accepted", "supplement_requested", "withdrawn"]
    assert shown["fields"]["ho_ten"] == CHILD
    assert shown["filed_from"] == {"channel": "zalo", "chat_id": "chat-9", "user_id": "user-9"}
    [step] = shown["history"]
    assert (step["kind"], step["from_status"], step["to"]) == ("received", None, "received")
    assert (await api.get("000.00.31.H26-261127-9999")).status_code == 404


async def test_lists_filter_by_commune_status_reception_day_and_overdue(api: Api) -> None:
    friday = await api.file("friday")  # Fri 27 Nov 10:00 in Hà Nội, due Wed 2 Dec
    # 06:00 on Saturday in Hà Nội is Friday 23:00 in UTC: it belongs to Saturday's list.
    api.clock.at_local(2026, 11, 28, 6, 0)
    saturday = await api.file("saturday", commune_code=OTHER_COMMUNE)
    api.clock.at_local(2026, 11, 30, 9, 0)
    monday = await api.file("monday")
    await api.moved(monday, "accepted")

    assert await api.listed() == [monday, saturday, friday]
    assert await api.listed(commune=COMMUNE) == [monday, friday]
    assert await api.listed(commune=OTHER_COMMUNE) == [saturday]
    assert await api.listed(status="accepted") == [monday]
    assert await api.listed(status="received") == [saturday, friday]
    assert await api.listed(received_from="2026-11-28") == [monday, saturday]
    assert await api.listed(received_to="2026-11-27") == [friday]
    assert await api.listed(received_from="2026-11-28", received_to="2026-11-28") == [saturday]
    assert await api.listed(limit=1) == [monday]
    # The calendar's first and last days are no bound at all (their midnight is out of range).
    everything = [monday, saturday, friday]
    assert await api.listed(received_from="0001-01-01", received_to="9999-12-31") == everything
    assert await api.listed(received_from="0001-01-02", received_to="9999-12-30") == everything

    # Friday's was due on Wednesday 2 December; Saturday's counts from Monday: due Thursday.
    api.clock.at_local(2026, 12, 3, 9, 0)
    assert await api.listed(overdue="true") == [friday]
    assert (await api.get(friday)).json()["overdue"] is True
    await api.moved(friday, "accepted")
    await api.moved(friday, "in_progress")
    await api.moved(friday, "result_ready")
    assert await api.listed(overdue="true") == []
    assert (await api.get(friday)).json()["overdue"] is False
    bad = await api.http.get(f"{BASE}/dossiers?commune=abc", headers=auth(PROVINCE))
    assert bad.status_code == 422


# --------------------------------------------------------------------------- moves


async def test_a_transition_answers_the_new_status(api: Api) -> None:
    code = await api.file()
    shown = await api.moved(code, "accepted", note="đủ giấy tờ")
    assert shown["version"] == 1
    assert [(h["from_status"], h["to"]) for h in shown["history"]] == [
        (None, "received"),
        ("received", "accepted"),
    ]
    assert shown["history"][-1]["note"] == "đủ giấy tờ"
    assert shown["history"][-1]["role"] == "officer"
    assert "in_progress" in shown["allowed"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"to": "returned"}, "not_allowed_from"),
        ({"to": "not_accepted"}, "reason_required"),
        ({"to": "supplement_requested"}, "missing_required"),
        ({"to": "posted", "item_number": item_number()}, "not_allowed_from"),
        ({"to": "received"}, "not_a_target"),
    ],
)
async def test_an_illegal_move_is_409_with_the_reason_and_changes_nothing(
    api: Api, body: dict[str, Any], reason: str
) -> None:
    code = await api.file()
    before = (await api.get(code)).json()

    answer = await api.move(code, **body)

    assert answer.status_code == 409
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert (problem["status"], problem["reason"]) == (409, reason)
    assert problem["title"] and problem["detail"]
    assert (await api.get(code)).json() == before


async def test_a_move_after_the_end_is_409_final_status(api: Api) -> None:
    code = await api.file()
    await api.moved(code, "not_accepted", reason="sai thủ tục")
    answer = await api.move(code, to="accepted")
    assert answer.status_code == 409 and answer.json()["reason"] == "final_status"


async def test_moves_of_unknown_dossiers_or_shapes(api: Api) -> None:
    code = await api.file()
    assert (await api.move("000.00.31.H26-261127-9999", to="accepted")).status_code == 404
    assert (await api.move(code, to="finished")).status_code == 422
    assert (await api.move(code, to="accepted", extra=1)).status_code == 422
    assert (await api.get(code)).json()["version"] == 0


async def test_a_communes_token_sees_only_its_commune(api: Api) -> None:
    mine = await api.file("mine")
    theirs = await api.file("theirs", commune_code=OTHER_COMMUNE)

    assert (await api.get(mine, COMMUNE_TOKEN)).status_code == 200
    for method, route in CODE_ROUTES:
        body: dict[str, Any] | None = None
        if route.endswith("transitions"):
            body = {"to": "accepted"}
        elif route.endswith("extension"):
            body = {"new_date": "2026-12-20", "apology": "Xin lỗi"}
        elif route.endswith("postal-events"):
            body = {"event": "collected"}
        answer = await api.http.request(
            method, path_of(route, theirs), json=body, headers=auth(COMMUNE_TOKEN)
        )
        assert answer.status_code == 404, (method, route)
    assert await api.listed(COMMUNE_TOKEN) == [mine]
    assert await api.listed(COMMUNE_TOKEN, commune=OTHER_COMMUNE) == []
    assert await api.listed(OTHER_TOKEN) == [theirs]
    shown = (await api.get(theirs)).json()
    assert (shown["status"], shown["version"], shown["extended"]) == ("received", 0, False)


async def test_one_extension_then_409(api: Api) -> None:
    code = await api.file()
    later = await api.http.post(
        f"{BASE}/dossiers/{code}/extension",
        json={"new_date": "2026-12-09", "apology": "Xin lỗi ông/bà vì trả kết quả chậm."},
        headers=auth(PROVINCE),
    )
    assert later.status_code == 200, later.text
    assert (later.json()["due_date"], later.json()["extended"]) == ("2026-12-09", True)
    assert later.json()["history"][-1]["kind"] == "extended"

    again = await api.http.post(
        f"{BASE}/dossiers/{code}/extension",
        json={"new_date": "2026-12-20", "apology": "Xin lỗi lần nữa."},
        headers=auth(PROVINCE),
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.json()["reason"] == "extension_used"
    assert (await api.get(code)).json()["due_date"] == "2026-12-09"


async def test_an_extension_must_move_the_date_later(api: Api) -> None:
    code = await api.file()
    earlier = await api.http.post(
        f"{BASE}/dossiers/{code}/extension",
        json={"new_date": "2026-12-01", "apology": "Xin lỗi."},
        headers=auth(PROVINCE),
    )
    assert earlier.status_code == 409 and earlier.json()["reason"] == "date_not_later"
    assert (await api.get(code)).json()["extended"] is False


async def _ready(api: Api, code: str) -> None:
    for to in ("accepted", "in_progress", "result_ready"):
        await api.moved(code, to)


async def test_postal_events_follow_the_item_after_posting(api: Api) -> None:
    code = await api.file(result_delivery="post", postal_address={"dia_chi": "thôn Đông"})
    early = await api.http.post(
        f"{BASE}/dossiers/{code}/postal-events", json={"event": "collected"}, headers=auth(PROVINCE)
    )
    assert early.status_code == 409
    await _ready(api, code)
    spaced = " ".join([item_number()[:2], item_number()[2:5], item_number()[5:]]).lower()
    posted = await api.moved(code, "posted", item_number=spaced)
    assert posted["postal_item"] == item_number()

    for event in ("collected", "in_transit", "delivery_failed", "in_transit", "delivered"):
        answer = await api.http.post(
            f"{BASE}/dossiers/{code}/postal-events",
            json={"event": event, "note": "bưu tá báo"},
            headers=auth(PROVINCE),
        )
        assert answer.status_code == 200, (event, answer.text)
        assert answer.json()["status"] == event
    shown = (await api.get(code)).json()
    assert [h["to"] for h in shown["history"]][-5:] == [
        "collected",
        "in_transit",
        "delivery_failed",
        "in_transit",
        "delivered",
    ]
    closed = await api.http.post(
        f"{BASE}/dossiers/{code}/postal-events",
        json={"event": "in_transit"},
        headers=auth(PROVINCE),
    )
    assert closed.status_code == 409 and closed.json()["reason"] == "final_status"


async def test_a_wrong_check_digit_or_event_is_refused(api: Api) -> None:
    code = await api.file(result_delivery="post", postal_address={"dia_chi": "thôn Đông"})
    await _ready(api, code)
    wrong = await api.move(code, to="posted", item_number=bad_item_number())
    assert wrong.status_code == 409 and wrong.json()["reason"] == "bad_item_number"
    assert (await api.get(code)).json()["status"] == "result_ready"
    await api.moved(code, "posted", item_number=item_number())
    unknown = await api.http.post(
        f"{BASE}/dossiers/{code}/postal-events", json={"event": "lost"}, headers=auth(PROVINCE)
    )
    assert unknown.status_code == 422
    skipped = await api.http.post(
        f"{BASE}/dossiers/{code}/postal-events", json={"event": "delivered"}, headers=auth(PROVINCE)
    )
    assert skipped.status_code == 409 and skipped.json()["reason"] == "not_allowed_from"
    assert (await api.get(code)).json()["status"] == "posted"


async def test_a_dossiers_file_is_served_to_its_commune_only(api: Api) -> None:
    code = await api.file()
    dossier = await api.store.by_code(code)
    assert dossier is not None
    key = await api.blobs.put(b"\xff\xd8jpeg", suffix=".jpg")
    added = await api.files.add(
        FILER, "cccd", "a" * 64, key, "image/jpeg", 6, datetime.now(VIETNAM), dossier_id=dossier.id
    )
    path = f"{BASE}/dossiers/{code}/files/{added.file.id}"

    mine = await api.http.get(path, headers=auth(COMMUNE_TOKEN))
    assert mine.status_code == 200
    assert (mine.content, mine.headers["content-type"]) == (b"\xff\xd8jpeg", "image/jpeg")
    assert "no-store" in mine.headers["cache-control"]
    assert (await api.http.get(path, headers=auth(OTHER_TOKEN))).status_code == 404
    missing = f"{BASE}/dossiers/{code}/files/{added.file.id + 1}"
    assert (await api.http.get(missing, headers=auth(PROVINCE))).status_code == 404


async def test_a_404_is_problem_json_as_documented(api: Api) -> None:
    answer = await api.get("000.00.31.H26-261127-9999")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == PROBLEM


# --------------------------------------------------------------------------- OpenAPI


async def test_the_openapi_document_lists_every_answer(api: Api) -> None:
    paths = api.web.openapi()["paths"]
    expected: dict[tuple[str, str], set[str]] = {
        ("post", "/dossiers"): {"200", "201", "401", "403", "404", "413", "422"},
        ("get", "/dossiers"): {"200", "401", "413", "422"},
        ("get", "/dossiers/{code}"): {"200", "401", "404", "413", "422"},
        ("post", "/dossiers/{code}/transitions"): {"200", "401", "404", "409", "413", "422"},
        ("post", "/dossiers/{code}/extension"): {"200", "401", "404", "409", "413", "422"},
        ("post", "/dossiers/{code}/postal-events"): {"200", "401", "404", "409", "413", "422"},
        ("get", "/dossiers/{code}/files/{file_id}"): {"200", "401", "404", "413", "422"},
    }
    missing = {
        f"{method.upper()} {route}": sorted(codes - set(paths[BASE + route][method]["responses"]))
        for (method, route), codes in expected.items()
    }
    assert {k: v for k, v in missing.items() if v} == {}
    transitions = paths[f"{BASE}/dossiers/{{code}}/transitions"]["post"]["responses"]
    assert PROBLEM in transitions["409"]["content"]


async def test_a_get_with_a_huge_announced_body_is_413(api: Api) -> None:
    # What the OpenAPI test above expects GET routes to document: the gate answers them too.
    sent = await _raw(api.web, "GET", [HUGE, (b"authorization", f"Bearer {PROVINCE}".encode())])
    assert sent[0]["status"] == 413
