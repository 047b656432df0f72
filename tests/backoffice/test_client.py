"""The citizen side's one port to the office: the embedded office and the REST API answer
alike, and failures come as "try later" or "refused as it is", never with personal data."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backoffice.api import PROBLEM
from backoffice.client import (
    BackOfficeRejected,
    BackOfficeUnavailable,
    HttpBackOffice,
    InProcessBackOffice,
)
from backoffice.domain import Accept, Role
from backoffice.office import OfficeService
from bot.app import Knowledge
from dialogs.model import ConversationKey
from knowledge.dossier_code import format_code
from storage.attachments import FileRepository
from storage.db import create_engine, session_factory
from storage.dossiers import DossierRepository
from storage.files import LocalFileStore
from storage.migrate import upgrade
from tests.backoffice.test_api import PROVINCE, office_app
from tests.backoffice.test_office import (
    CHILD,
    FILER,
    ID_NUMBER,
    MOTHER,
    NOW,
    PERSONAL,
    PHONE,
    VIETNAM,
    Clock,
    make_office,
    submission,
)


@dataclasses.dataclass
class Doors:
    office: OfficeService
    clock: Clock
    local: InProcessBackOffice
    remote: HttpBackOffice
    transport: httpx.AsyncBaseTransport


@pytest.fixture
async def doors(tmp_path: Path, knowledge: Knowledge) -> AsyncIterator[Doors]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'client.sqlite3'}"
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    clock = Clock()
    store = DossierRepository(sessions, timezone=VIETNAM, code_format=format_code)
    office = make_office(store, knowledge, clock)
    web = office_app(office, FileRepository(sessions), LocalFileStore(tmp_path / "files"))
    transport = httpx.ASGITransport(app=web)
    remote = HttpBackOffice("http://office/", PROVINCE, transport=transport)
    try:
        yield Doors(office, clock, InProcessBackOffice(office), remote, transport)
    finally:
        await remote.aclose()
        await engine.dispose()


# --------------------------------------------------------------------------- same answers


async def test_both_doors_file_once_whichever_is_used(doors: Doors) -> None:
    by_http = await doors.remote.submit(submission("one"))
    again_http = await doors.remote.submit(submission("one"))
    again_local = await doors.local.submit(submission("one"))

    assert by_http.created and not again_http.created and not again_local.created
    assert again_http.model_dump(exclude={"created"}) == by_http.model_dump(exclude={"created"})
    assert again_local.model_dump(exclude={"created"}) == by_http.model_dump(exclude={"created"})

    local_first = await doors.local.submit(submission("two"))
    remote_second = await doors.remote.submit(submission("two"))
    assert local_first.created and not remote_second.created
    assert remote_second.model_dump(exclude={"created"}) == local_first.model_dump(
        exclude={"created"}
    )
    assert len(await doors.office.list()) == 2


async def test_both_doors_read_a_dossier_alike(doors: Doors) -> None:
    receipt = await doors.local.submit(submission())
    await doors.office.move(receipt.code, Accept(note="đủ"), actor="officer:lan", role=Role.OFFICER)

    local = await doors.local.dossier(receipt.code)
    remote = await doors.remote.dossier(receipt.code)

    assert local is not None and remote is not None
    assert (remote.status, remote.due_date, remote.version) == ("accepted", receipt.due_date, 1)
    # ``allowed`` is each reader's own: the citizen's moves in process, an officer's over the
    # API (the token is an officer's). Everything else is one and the same dossier.
    assert remote.model_dump(exclude={"allowed"}) == local.model_dump(exclude={"allowed"})
    assert await doors.local.dossier("000.00.31.H26-261127-9999") is None
    assert await doors.remote.dossier("000.00.31.H26-261127-9999") is None
    assert await doors.remote.dossier("../../etc/passwd") is None


async def test_both_doors_list_what_a_conversation_filed(doors: Doors) -> None:
    first = await doors.local.submit(submission("a"))
    doors.clock.now = NOW.replace(hour=NOW.hour + 1)
    second = await doors.local.submit(submission("b"))
    elsewhere = ConversationKey(channel="telegram", chat_id="77", user_id="77")
    await doors.local.submit(submission("c", filer_key=elsewhere))

    local = await doors.local.filed_from(FILER)
    assert [d.code for d in local] == [second.code, first.code]
    remote = await doors.remote.filed_from(FILER)
    # The chat's "my dossiers" must not say "none" because the office is remote.
    assert remote == local


# --------------------------------------------------------------------------- failures


def scripted(status: int, body: Any = None, *, headers: dict[str, str] | None = None) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body or {"detail": "x"}, headers=headers)

    return httpx.MockTransport(answer)


def failing(error: type[httpx.RequestError]) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        raise error("boom", request=request)

    return httpx.MockTransport(answer)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 401, 403])
async def test_server_trouble_is_unavailable(status: int) -> None:
    async with HttpBackOffice("http://office", "t", transport=scripted(status)) as office:
        with pytest.raises(BackOfficeUnavailable):
            await office.submit(submission())
        with pytest.raises(BackOfficeUnavailable):
            await office.dossier("000.00.31.H26-261127-0001")


@pytest.mark.parametrize(
    "error", [httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError]
)
async def test_network_errors_are_unavailable(error: type[httpx.RequestError]) -> None:
    async with HttpBackOffice("http://office", "t", transport=failing(error)) as office:
        with pytest.raises(BackOfficeUnavailable):
            await office.submit(submission())
        with pytest.raises(BackOfficeUnavailable):
            await office.dossier("000.00.31.H26-261127-0001")


async def test_a_404_that_is_not_the_offices_is_unavailable_not_no_such_dossier() -> None:
    """A wrong base URL answers 404 for every path: the citizen must hear "try later", not
    "no such dossier" (which the chat says as "the code or the number does not match")."""
    code = "000.00.31.H26-261127-0001"
    async with HttpBackOffice("http://office", "t", transport=scripted(404)) as office:
        with pytest.raises(BackOfficeUnavailable):
            await office.dossier(code)
    problem = scripted(404, {"title": "Not Found"}, headers={"content-type": PROBLEM})
    async with HttpBackOffice("http://office", "t", transport=problem) as office:
        assert await office.dossier(code) is None


async def test_an_unreadable_answer_is_unavailable() -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>proxy</html>")

    async with HttpBackOffice("http://office", "t", transport=httpx.MockTransport(html)) as office:
        with pytest.raises(BackOfficeUnavailable):
            await office.submit(submission())


@pytest.mark.parametrize("status", [400, 413, 422])
async def test_a_refused_submission_is_rejected(status: int) -> None:
    async with HttpBackOffice("http://office", "t", transport=scripted(status)) as office:
        with pytest.raises(BackOfficeRejected):
            await office.submit(submission())


async def test_the_real_api_answers_map_to_the_two_kinds(doors: Doors) -> None:
    wrong_token = HttpBackOffice("http://office", "wrong", transport=doors.transport)
    with pytest.raises(BackOfficeUnavailable):  # an operator fixes the token; nothing dropped
        await wrong_token.submit(submission())
    await wrong_token.aclose()
    huge = submission(fields={"ho_ten": CHILD, "ghi_chu": "x" * (3 << 20)})
    with pytest.raises(BackOfficeRejected):  # 413: the same body will never fit
        await doors.remote.submit(huge)
    with pytest.raises(BackOfficeRejected):  # unknown procedure
        await doors.remote.submit(submission(procedure_code="9.999999"))
    with pytest.raises(BackOfficeRejected):
        await doors.local.submit(submission(procedure_code="9.999999"))
    assert await doors.office.list() == []


class Corrupting(httpx.AsyncBaseTransport):
    """Spoils the JSON body on its way (an older or newer sender): the server's 422 then
    repeats the bad values, which here are the citizen's own data."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        body["commune_code"] = ID_NUMBER
        body["procedure_code"] = {"ho_ten": MOTHER}
        body["result_delivery"] = PHONE
        spoiled = httpx.Request(
            request.method,
            request.url,
            json=body,
            headers={"Authorization": request.headers["Authorization"]},
        )
        return await self._inner.handle_async_request(spoiled)


async def test_a_422_does_not_echo_personal_data(doors: Doors) -> None:
    office = HttpBackOffice("http://office", PROVINCE, transport=Corrupting(doors.transport))
    with pytest.raises(BackOfficeRejected) as caught:
        await office.submit(submission())
    await office.aclose()
    told = f"{caught.value} {caught.value!r} {caught.value.__cause__!r}"
    assert "422" in told
    assert not any(p in told for p in PERSONAL)


async def test_a_post_filing_without_an_address_is_rejected_by_either_door(doors: Doors) -> None:
    bad = submission(result_delivery="post", postal_address=None, fields={"ho_ten": CHILD})
    for door in (doors.local, doors.remote):
        with pytest.raises(BackOfficeRejected) as caught:
            await door.submit(bad)
        told = f"{caught.value} {caught.value!r} {caught.value.__cause__!r}"
        assert not any(p in told for p in PERSONAL), type(door).__name__
    assert await doors.office.list() == []
