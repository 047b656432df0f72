"""Announcements and revoking volunteers in the officer console over real HTTP: an officer
writes an announcement for their commune, sees how many will receive it, confirms once (a
second click sends nothing more) and follows the counts; a leader reads and cannot send; an
officer of another commune can neither send to it nor see it; every step is audited. An officer
revokes an approved volunteer, who is told in the chat; a leader and another commune cannot."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backoffice.console import texts
from bot.app import Knowledge
from bot.config import Settings
from dialogs.model import ConversationKey
from dialogs.texts import announcements as chat_texts
from storage.announcements import AnnouncementRepository
from storage.models import AnnouncementRow, AuditLogRow
from storage.outbox import OutboxRepository
from storage.volunteers import VolunteerRepository
from tests.web.console_setup import HOME, OTHER, Office, csrf_of, signed_in, two_communes
from tests.web.harness import RunningServer, running_server
from tests.web.test_console_volunteers import _ask, _db, _status, _trail

TEXT = "Bộ phận một cửa nghỉ lễ Quốc khánh ngày 1/9 và 2/9, làm việc lại sáng 3/9."


@pytest.fixture
def deployment(settings: Settings) -> Settings:
    return two_communes(settings)


@pytest.fixture
def desk(deployment: Settings, knowledge: Knowledge) -> Office:
    office = Office(deployment, knowledge.catalogue)
    office.user("lan", "officer", HOME)
    office.user("hoa", "officer", OTHER)
    office.user("chu-tich", "leader", HOME)
    return office


@pytest.fixture
def server(deployment: Settings, knowledge: Knowledge, desk: Office) -> Iterator[RunningServer]:
    with running_server(deployment, knowledge) as running:
        yield running


def _subscribe(settings: Settings, commune: str, *chats: str) -> None:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        repo = AnnouncementRepository(sessions)
        for chat in chats:
            await repo.opt_in(ConversationKey("telegram", chat, chat), commune, datetime.now(UTC))

    _db(settings, work)


def _queued(settings: Settings) -> list[tuple[str, int]]:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, int]]:
        rows = await OutboxRepository(sessions).pending(topic="announce:telegram")
        return [(r.payload["chat_id"], r.payload["announcement_id"]) for r in rows]

    return _db(settings, work)


def _announcements(settings: Settings) -> list[tuple[str, str, int]]:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, int]]:
        async with sessions() as session:
            rows = await session.scalars(select(AnnouncementRow).order_by(AnnouncementRow.id))
            return [(r.commune_code, r.author, r.recipients) for r in rows]

    return _db(settings, work)


def _actions(settings: Settings, prefix: str) -> list[tuple[str, str, str]]:
    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, str]]:
        async with sessions() as session:
            rows = await session.scalars(
                select(AuditLogRow)
                .where(AuditLogRow.action.startswith(prefix, autoescape=True))
                .order_by(AuditLogRow.id)
            )
            return [(r.actor, r.action, r.target) for r in rows]

    return _db(settings, work)


def test_an_officer_previews_sends_once_and_follows_the_counts(
    server: RunningServer, deployment: Settings
) -> None:
    _subscribe(deployment, HOME, "101", "102", "103")
    _subscribe(deployment, OTHER, "201")
    with signed_in(server.base_url, "lan") as client:
        page = client.get("/console/announcements")
        assert page.status_code == 200 and "Viết thông báo mới" in page.text
        assert "content-security-policy" in page.headers
        csrf = csrf_of(page.text)
        key = re.search(r'name="key" value="(\w+)"', page.text)
        assert key is not None
        form = {"csrf": csrf, "key": key.group(1), "commune": HOME, "text": TEXT}

        too_long = client.post(
            "/console/announcements/preview", data={**form, "text": "x" * (texts.ANNOUNCE_MAX + 1)}
        )
        assert too_long.status_code == 400
        assert f"tối đa {texts.ANNOUNCE_MAX} ký tự" in too_long.text
        empty = client.post("/console/announcements/preview", data={**form, "text": "  "})
        assert empty.status_code == 400 and texts.ANNOUNCE_EMPTY in empty.text

        preview = client.post("/console/announcements/preview", data=form)
        assert preview.status_code == 200
        assert '<strong id="recipients">3</strong>' in preview.text
        assert chat_texts.BTN_STOP in preview.text and "Gửi tới 3 người" in preview.text
        assert _queued(deployment) == []  # a preview sends nothing

        sent = client.post("/console/announcements", data=form)
        assert sent.status_code == 303
        where = sent.headers["location"]
        assert re.fullmatch(r"/console/announcements/\d+\?done=sent", where)
        shown = client.get(where)
        assert texts.ANNOUNCE_SENT.format(count=3) in shown.text
        assert '<dd id="count-recipients">3</dd>' in shown.text
        # Telegram is not configured in this deployment: all three wait for their turn.
        assert '<dd id="count-queued">3</dd>' in shown.text
        assert '<dd id="count-sent">0</dd>' in shown.text

        # The same form again (a double click, the back button): nothing more is sent.
        again = client.post("/console/announcements", data=form)
        assert again.status_code == 303 and again.headers["location"].endswith("?done=again")
        listed = client.get("/console/announcements")
        assert TEXT[:40] in listed.text and "3 người nhận" in listed.text
        # The same form edited after the send (the back button) is a new announcement.
        edited = client.post("/console/announcements", data={**form, "text": "Họp thôn tối nay."})
        assert edited.status_code == 303 and edited.headers["location"].endswith("?done=sent")

    queued = _queued(deployment)
    assert sorted(chat for chat, _ in queued) == ["101", "101", "102", "102", "103", "103"]
    assert _announcements(deployment) == [(HOME, "console:lan", 3), (HOME, "console:lan", 3)]
    first, second = sorted({a for _, a in queued})
    assert _actions(deployment, "announcement_") == [
        ("console:lan", "announcement_preview", f"commune:{HOME}"),
        ("console:lan", "announcement_sent", f"announcement:{first}"),
        ("console:lan", "announcement_sent", f"announcement:{second}"),
    ]


def test_a_leader_reads_and_another_communes_officer_cannot_send_or_see(
    server: RunningServer, deployment: Settings
) -> None:
    _subscribe(deployment, HOME, "101")
    with signed_in(server.base_url, "lan") as officer:
        page = officer.get("/console/announcements")
        form = {"csrf": csrf_of(page.text), "key": "abc123", "commune": HOME, "text": TEXT}
        location = officer.post("/console/announcements", data=form).headers["location"]
    shown = location.split("?")[0]

    with signed_in(server.base_url, "chu-tich") as leader:
        page = leader.get("/console/announcements")
        assert page.status_code == 200 and TEXT[:40] in page.text
        assert "Viết thông báo mới" not in page.text  # no form for a reader
        assert leader.get(shown).status_code == 200
        form = {"csrf": csrf_of(page.text), "key": "leader1", "commune": HOME, "text": "Họp."}
        assert leader.post("/console/announcements", data=form).status_code == 403
        assert leader.post("/console/announcements/preview", data=form).status_code == 403

    with signed_in(server.base_url, "hoa") as other:
        page = other.get("/console/announcements")
        assert TEXT[:40] not in page.text
        assert other.get(shown).status_code == 404
        form = {"csrf": csrf_of(page.text), "key": "other1", "commune": HOME, "text": "Họp."}
        assert other.post("/console/announcements", data=form).status_code == 403
        assert other.post("/console/announcements/preview", data=form).status_code == 403
        # Their own commune has nobody subscribed: refused with a word, nothing recorded.
        own = {**form, "commune": OTHER}
        refused = other.post("/console/announcements", data=own)
        assert refused.status_code == 409 and texts.ANNOUNCE_NOBODY in refused.text
        forged = other.post("/console/announcements", data={**own, "csrf": "forged"})
        assert forged.status_code == 403

    assert _announcements(deployment) == [(HOME, "console:lan", 1)]
    assert [a for _, a, _ in _actions(deployment, "announcement_")] == ["announcement_sent"]


def test_an_officer_revokes_a_volunteer_who_is_told_in_the_chat(
    server: RunningServer, deployment: Settings
) -> None:
    tu = _ask(deployment, "701", HOME, "Nguyễn Văn Tú")
    xa = _ask(deployment, "703", OTHER, "Phạm Văn Xa")

    async def approve(sessions: async_sessionmaker[AsyncSession]) -> None:
        repo = VolunteerRepository(sessions)
        for volunteer in (tu, xa):
            await repo.decide(
                volunteer.id, True, actor="console:x", commune_codes=None, now=datetime.now(UTC)
            )

    _db(deployment, approve)
    with signed_in(server.base_url, "chu-tich") as leader:
        page = leader.get("/console/volunteers")
        assert "Nguyễn Văn Tú" in page.text and "/disable" not in page.text
        refused = leader.post(
            f"/console/volunteers/{tu.id}/disable", data={"csrf": csrf_of(page.text)}
        )
        assert refused.status_code == 403
    with signed_in(server.base_url, "lan") as client:
        page = client.get("/console/volunteers")
        assert f'action="/console/volunteers/{tu.id}/disable"' in page.text
        assert "Phạm Văn Xa" not in page.text
        csrf = csrf_of(page.text)
        foreign = client.post(f"/console/volunteers/{xa.id}/disable", data={"csrf": csrf})
        assert foreign.status_code == 404
        done = client.post(f"/console/volunteers/{tu.id}/disable", data={"csrf": csrf})
        assert done.status_code == 303
        assert texts.VOLUNTEER_DISABLED in client.get(done.headers["location"]).text
        again = client.post(f"/console/volunteers/{tu.id}/disable", data={"csrf": csrf})
        assert again.status_code == 404

    assert (_status(deployment, tu.id), _status(deployment, xa.id)) == ("disabled", "approved")
    assert _trail(deployment, tu.id)[-1] == ("console:lan", "volunteer_disabled")

    async def told(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
        rows = await OutboxRepository(sessions).pending(topic="notify:telegram")
        return [(r.payload["chat_id"], r.payload["message"]) for r in rows]

    assert ("701", "disabled") in _db(deployment, told)
    assert ("703", "disabled") not in _db(deployment, told)
