"""Volunteers in the officer console over real HTTP: an officer sees their commune's pending
requests and approves or rejects each with its own form (CSRF checked); another commune's
request, a leader, a postal clerk and a second decision change nothing; every decision is
audited and queued to the volunteer's chat."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Knowledge
from bot.config import Settings
from dialogs.model import ConversationKey
from storage.audit import AuditRepository
from storage.db import create_engine, session_factory
from storage.outbox import OutboxRepository
from storage.volunteers import Volunteer, VolunteerRepository
from tests.web.console_setup import HOME, OTHER, Office, csrf_of, signed_in, two_communes
from tests.web.harness import RunningServer, running_server

T = TypeVar("T")


@pytest.fixture
def deployment(settings: Settings) -> Settings:
    return two_communes(settings)


@pytest.fixture
def desk(deployment: Settings, knowledge: Knowledge) -> Office:
    office = Office(deployment, knowledge.catalogue)
    office.user("lan", "officer", HOME)
    office.user("hoa", "officer", OTHER)
    office.user("buu", "postal_clerk", HOME)
    office.user("chu-tich", "leader", HOME)
    return office


@pytest.fixture
def server(deployment: Settings, knowledge: Knowledge, desk: Office) -> Iterator[RunningServer]:
    with running_server(deployment, knowledge) as running:
        yield running


def _db(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    async def main() -> T:
        engine = create_engine(settings.database.url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def _ask(settings: Settings, chat: str, commune: str, name: str) -> Volunteer:
    key = ConversationKey("telegram", chat, chat)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> Volunteer:
        return await VolunteerRepository(sessions).apply(
            key, commune, name, "0987654321", "Chi đoàn thôn Đông", datetime.now(UTC)
        )

    return _db(settings, work)


def _status(settings: Settings, volunteer_id: int) -> str:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        found = await VolunteerRepository(sessions).get(volunteer_id)
        assert found is not None
        return found.status

    return _db(settings, work)


def _trail(settings: Settings, volunteer_id: int) -> list[tuple[str, str]]:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
        entries = await AuditRepository(sessions).for_target(f"volunteer:{volunteer_id}")
        return [(e.actor, e.action) for e in entries]

    return _db(settings, work)


def _told(settings: Settings) -> list[tuple[str, str]]:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
        rows = await OutboxRepository(sessions).pending(topic="notify:telegram")
        return [(r.payload["chat_id"], r.payload["message"]) for r in rows]

    return _db(settings, work)


def _form_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'action="/console/volunteers/(\d+)"', html)]


def test_an_officer_approves_and_rejects_their_communes_volunteers(
    server: RunningServer, deployment: Settings
) -> None:
    tu = _ask(deployment, "701", HOME, "Nguyễn Văn Tú")
    mai = _ask(deployment, "702", HOME, "Lê Thị Mai")
    elsewhere = _ask(deployment, "703", OTHER, "Phạm Văn Xa")
    with signed_in(server.base_url, "lan") as client:
        listed = client.get("/console/volunteers")
        assert listed.status_code == 200
        assert "Nguyễn Văn Tú" in listed.text and "Lê Thị Mai" in listed.text
        assert "Phạm Văn Xa" not in listed.text  # another commune's request is not shown
        assert sorted(set(_form_ids(listed.text))) == sorted([tu.id, mai.id])
        assert "content-security-policy" in listed.headers
        csrf = csrf_of(listed.text)

        approved = client.post(
            f"/console/volunteers/{tu.id}", data={"csrf": csrf, "decision": "approve"}
        )
        assert approved.status_code == 303
        assert approved.headers["location"] == "/console/volunteers?done=approved"
        assert "Đã duyệt tình nguyện viên" in client.get(approved.headers["location"]).text
        rejected = client.post(
            f"/console/volunteers/{mai.id}", data={"csrf": csrf, "decision": "reject"}
        )
        assert rejected.status_code == 303

        # Decided once: a second decision, or another commune's request, changes nothing.
        again = client.post(
            f"/console/volunteers/{tu.id}", data={"csrf": csrf, "decision": "reject"}
        )
        assert again.status_code == 404
        foreign = client.post(
            f"/console/volunteers/{elsewhere.id}", data={"csrf": csrf, "decision": "approve"}
        )
        assert foreign.status_code == 404
        # A form without the session's token is refused.
        forged = client.post(
            f"/console/volunteers/{elsewhere.id}", data={"csrf": "forged", "decision": "approve"}
        )
        assert forged.status_code == 403
        assert "Không có yêu cầu" in client.get("/console/volunteers").text

    assert (_status(deployment, tu.id), _status(deployment, mai.id)) == ("approved", "rejected")
    assert _status(deployment, elsewhere.id) == "pending"
    assert _trail(deployment, tu.id) == [
        ("telegram:701:701", "volunteer_applied"),
        ("console:lan", "volunteer_approved"),
    ]
    assert _trail(deployment, mai.id)[-1] == ("console:lan", "volunteer_rejected")
    assert _told(deployment) == [("701", "approved"), ("702", "rejected")]


def test_a_leader_reads_the_list_and_a_postal_clerk_sees_nothing(
    server: RunningServer, deployment: Settings
) -> None:
    tu = _ask(deployment, "801", HOME, "Nguyễn Văn Tú")
    with signed_in(server.base_url, "chu-tich") as leader:
        page = leader.get("/console/volunteers")
        assert page.status_code == 200 and "Nguyễn Văn Tú" in page.text
        assert _form_ids(page.text) == []  # no forms for a reader
        refused = leader.post(
            f"/console/volunteers/{tu.id}", data={"csrf": csrf_of(page.text), "decision": "approve"}
        )
        assert refused.status_code == 403
    with signed_in(server.base_url, "buu") as clerk:
        assert clerk.get("/console/volunteers").status_code == 403
        csrf = csrf_of(clerk.get("/console/post").text)
        posted = clerk.post(
            f"/console/volunteers/{tu.id}", data={"csrf": csrf, "decision": "approve"}
        )
        assert posted.status_code == 403
    with signed_in(server.base_url, "hoa") as other_officer:
        page = other_officer.get("/console/volunteers")
        assert "Nguyễn Văn Tú" not in page.text
        posted = other_officer.post(
            f"/console/volunteers/{tu.id}", data={"csrf": csrf_of(page.text), "decision": "approve"}
        )
        assert posted.status_code == 404
    assert _status(deployment, tu.id) == "pending"
    assert _told(deployment) == []


def test_a_revoked_volunteer_who_asks_again_is_shown_as_such_and_approved_again(
    server: RunningServer, deployment: Settings
) -> None:
    tu = _ask(deployment, "901", HOME, "Nguyễn Văn Tú")
    with signed_in(server.base_url, "lan") as client:
        csrf = csrf_of(client.get("/console/volunteers").text)
        client.post(f"/console/volunteers/{tu.id}", data={"csrf": csrf, "decision": "approve"})
        revoked = client.post(f"/console/volunteers/{tu.id}/disable", data={"csrf": csrf})
        assert revoked.status_code == 303
        gone = client.get("/console/volunteers").text
        assert "Nguyễn Văn Tú" not in gone  # neither pending nor approved

        again = _ask(deployment, "901", HOME, "Nguyễn Văn Tú")
        assert (again.id, again.status) == (tu.id, "pending")
        listed = client.get("/console/volunteers").text
        pending_part = listed.split("Tình nguyện viên đã duyệt")[0]
        assert "Nguyễn Văn Tú" in pending_part
        assert "đã bị thu hồi quyền khai giúp lúc" in pending_part
        assert _form_ids(pending_part) == [tu.id, tu.id]  # «Duyệt» and «Không duyệt»
        approved = client.post(
            f"/console/volunteers/{tu.id}", data={"csrf": csrf, "decision": "approve"}
        )
        assert approved.headers["location"] == "/console/volunteers?done=approved"
        twice = client.post(
            f"/console/volunteers/{tu.id}", data={"csrf": csrf, "decision": "approve"}
        )
        assert twice.status_code == 404  # the second officer's click changes nothing
        shown = client.get("/console/volunteers").text.split("Tình nguyện viên đã duyệt")[1]
        assert "Nguyễn Văn Tú" in shown and f"/console/volunteers/{tu.id}/disable" in shown

    assert _status(deployment, tu.id) == "approved"
    assert [action for _, action in _trail(deployment, tu.id)] == [
        "volunteer_applied",
        "volunteer_approved",
        "volunteer_disabled",
        "volunteer_applied",
        "volunteer_approved",
    ]
    assert _told(deployment) == [("901", "approved"), ("901", "disabled"), ("901", "approved")]
