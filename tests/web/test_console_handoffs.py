""" "Gặp cán bộ" in the console over real HTTP: only officers of the conversation's commune see
it and answer; a leader reads; a postal clerk and another commune's officer get nothing; every
answer is queued for the citizen's channel and audited; forms need the session's CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from bot.app import Knowledge
from bot.config import Settings
from tests.web.console_setup import HOME, OTHER, Office, csrf_of, signed_in, two_communes
from tests.web.harness import RunningServer, running_server


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


def _answer(
    client: httpx.Client, handoff: int, text: str, csrf: str | None = None
) -> httpx.Response:
    token = csrf if csrf is not None else csrf_of(client.get("/console/password").text)
    return client.post(f"/console/handoffs/{handoff}/answer", data={"csrf": token, "text": text})


def test_an_officer_sees_their_communes_conversation_and_answers_it(
    server: RunningServer, desk: Office
) -> None:
    home = desk.handoff(HOME, chat="c-home", said="Tôi cần hỏi về khai sinh")
    other = desk.handoff(OTHER, chat="c-other", said="Chuyện của xã bên")
    with signed_in(server.base_url, "lan") as lan:
        inbox = lan.get("/console/handoffs")
        assert inbox.status_code == 200
        assert f"Trò chuyện số {home}" in inbox.text
        assert f"Trò chuyện số {other}" not in inbox.text
        assert '<script src="/console/static/live.js" defer></script>' in inbox.text
        listed = lan.get("/console/handoffs.json").json()
        assert [r["id"] for r in listed["rows"]] == [home] and listed["waiting"] == 1
        page = lan.get(f"/console/handoffs/{home}")
        assert "Tôi cần hỏi về khai sinh" in page.text and "Trả lời công dân" in page.text
        # Another commune's conversation, by any URL: as if it did not exist.
        assert lan.get(f"/console/handoffs/{other}").status_code == 404
        assert lan.get(f"/console/handoffs/{other}/lines.json").status_code == 404
        assert _answer(lan, other, "xin chào").status_code == 404
        # A forged token is refused.
        assert _answer(lan, home, "xin chào", csrf="forged").status_code == 403
        answered = _answer(lan, home, "Chào bác, bác cần khai sinh cho cháu ạ?")
        assert answered.status_code == 303
        assert answered.headers["location"] == f"/console/handoffs/{home}?done=answered"
        lines = lan.get(f"/console/handoffs/{home}/lines.json").json()["lines"]
        assert [(line["kind"], line["text"]) for line in lines][-1] == (
            "officer",
            "Chào bác, bác cần khai sinh cho cháu ạ?",
        )
        assert (
            lan.get(f"/console/handoffs/{home}/lines.json?after={lines[-1]['id']}").json()["lines"]
            == []
        )
        closed = lan.post(
            f"/console/handoffs/{home}/close",
            data={"csrf": csrf_of(lan.get(f"/console/handoffs/{home}").text)},
        )
        assert closed.status_code == 303
        # Closed: no more answers.
        assert _answer(lan, home, "còn nữa").status_code == 409
    assert desk.outbox_topics().count("handoff:telegram") == 2  # the answer and the close
    assert desk.audit(f"handoff:{home}")[:1] == ["handoff:view"]
    assert {"handoff:answer", "handoff:close"} <= set(desk.audit(f"handoff:{home}"))
    assert desk.audit(f"handoff:{other}") == []


def test_a_postal_clerk_cannot_see_or_answer_and_a_leader_only_reads(
    server: RunningServer, desk: Office
) -> None:
    home = desk.handoff(HOME, chat="c-home")
    with signed_in(server.base_url, "buu") as clerk:
        assert clerk.get("/console/handoffs").status_code == 403
        assert clerk.get(f"/console/handoffs/{home}").status_code == 404
        assert _answer(clerk, home, "tôi là bưu điện").status_code == 404
    with signed_in(server.base_url, "chu-tich") as leader:
        page = leader.get(f"/console/handoffs/{home}")
        assert page.status_code == 200 and "Cho tôi gặp cán bộ" in page.text
        assert "Trả lời công dân" not in page.text  # no form to answer
        assert _answer(leader, home, "lãnh đạo trả lời").status_code == 403
        closing = leader.post(f"/console/handoffs/{home}/close", data={"csrf": csrf_of(page.text)})
        assert closing.status_code == 403
    with signed_in(server.base_url, "hoa") as other_officer:
        assert other_officer.get(f"/console/handoffs/{home}").status_code == 404
        assert other_officer.get("/console/handoffs.json").json()["rows"] == []
    assert "handoff:telegram" not in desk.outbox_topics()


def test_two_officers_one_conversation_the_second_is_told(
    server: RunningServer, desk: Office
) -> None:
    desk.user("minh", "officer", HOME)
    home = desk.handoff(HOME, chat="c-home")
    with signed_in(server.base_url, "lan") as lan, signed_in(server.base_url, "minh") as minh:
        minh_page = minh.get(f"/console/handoffs/{home}").text
        assert (
            lan.post(
                f"/console/handoffs/{home}/claim",
                data={"csrf": csrf_of(lan.get(f"/console/handoffs/{home}").text)},
            ).status_code
            == 303
        )
        # Minh's page was loaded before: the claim is checked when the answer arrives.
        late = _answer(minh, home, "tôi trả lời", csrf=csrf_of(minh_page))
        assert late.status_code == 409 and "Cán bộ khác đang trả lời" in late.text
        assert _answer(lan, home, "tôi trả lời").status_code == 303
    assert desk.outbox_topics().count("handoff:telegram") == 1


def test_the_live_script_is_served_from_the_console(server: RunningServer) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        script = client.get("/console/static/live.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert "innerHTML" not in script.text  # rows are built with textContent


def test_a_poll_that_finds_the_session_expired_leaves_the_next_click_to_say_so(
    server: RunningServer, desk: Office
) -> None:
    with signed_in(server.base_url, "lan") as lan:
        assert lan.get("/console/handoffs.json").status_code == 200
        desk.age_sessions(timedelta(minutes=31))
        polled = lan.get("/console/handoffs.json")
        # 401 for live.js, and the cookie kept: not a redirect that clears it.
        assert polled.status_code == 401 and "set-cookie" not in polled.headers
        clicked = lan.get("/console/post")
        assert clicked.status_code == 303
        assert clicked.headers["location"] == "/console/login?m=expired"
