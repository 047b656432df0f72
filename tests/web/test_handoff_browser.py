""" "Gặp cán bộ" in two real headless Chromium pages: a citizen in the web chat (360 px) hands
the conversation over, the officer's open live inbox (1366×768) shows it arrive without a
reload, the officer answers, the citizen's open page shows the answer, the citizen's next
message appears in the officer's open page, and when the officer closes, the citizen is told
the assistant is back. Screenshots of both go to ``MOTCUA_SHOTS`` when it is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.app import Knowledge
from bot.config import Settings
from dialogs.texts import officer as texts
from tests.web.console_setup import HOME, Office, two_communes
from tests.web.harness import RunningServer, running_server
from tests.web.test_browser import CHROMIUM, PHONE
from tests.web.test_console_browser import DESK, Opener, _fits, _sign_in
from tests.web.test_console_browser import browser_pages as browser_pages

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def deployment(settings: Settings) -> Settings:
    # Officers there all day: the test must not depend on the hour it runs at.
    calendar = settings.calendar.model_copy(
        update={"officer_hours": ("00:00-23:59",), "extra_days_off": (), "make_up_days": ()}
    )
    return two_communes(settings).model_copy(update={"calendar": calendar})


@pytest.fixture
def desk(deployment: Settings, knowledge: Knowledge) -> Office:
    office = Office(deployment, knowledge.catalogue)
    office.user("lan", "officer", HOME)
    return office


@pytest.fixture
def server(deployment: Settings, knowledge: Knowledge, desk: Office) -> Iterator[RunningServer]:
    with running_server(deployment, knowledge) as running:
        yield running


def _shot(page: object, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("MOTCUA_SHOTS", str(tmp_path)))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name))  # type: ignore[attr-defined]


def test_a_citizen_talks_to_an_officer_and_gets_the_assistant_back(
    server: RunningServer,
    browser_pages: Opener,
    desk: Office,
    tmp_path: Path,
) -> None:
    console = browser_pages("/console/login")
    _sign_in(console, "lan")
    console.goto(server.base_url + "/console/handoffs")
    expect(console.locator("#handoffs-empty")).to_be_visible()

    chat = browser_pages("/", PHONE)
    log = chat.locator("#log")

    def say(text: str) -> None:
        chat.locator("#text").fill(text)
        chat.locator("#send").click()

    say("xin chào")
    expect(log).to_contain_text("Bạn cần giúp gì ạ?")
    log.get_by_role("button", name="Gặp cán bộ", exact=True).last.click()
    expect(log).to_contain_text("Đã chuyển cuộc trò chuyện tới cán bộ")
    say("Cho tôi hỏi làm giấy khai sinh cho cháu cần mang gì?")
    expect(log).to_contain_text(texts.RELAYED)

    # The officer's open inbox shows it without a reload.
    row = console.locator("#handoffs tr").first
    expect(row).to_contain_text("Trò chuyện số", timeout=15_000)
    expect(row).to_contain_text("Trang web")
    expect(row.locator(".tag.new")).to_have_text("2")  # two messages since the hand-over
    expect(console.locator("#handoff-count")).to_have_text("1")
    _fits(console, DESK["width"])
    _shot(console, "handoff-inbox.png", tmp_path)

    row.get_by_role("link").click()
    thread = console.locator("#thread")
    expect(thread).to_contain_text("Cho tôi hỏi làm giấy khai sinh cho cháu cần mang gì?")
    expect(thread).to_contain_text("xin chào")  # what came before, for context
    console.get_by_label("Trả lời công dân").fill(
        "Chào bác, bác mang giấy chứng sinh và căn cước ạ."
    )
    console.get_by_role("button", name="Gửi", exact=True).click()
    expect(console.locator(".notice.ok")).to_contain_text("Đã gửi câu trả lời")

    # The citizen's open page shows the answer, pushed through the web chat.
    expect(log).to_contain_text("Chào bác, bác mang giấy chứng sinh và căn cước ạ.")
    say("Dạ cảm ơn cán bộ")
    # ... and the officer's open page shows the citizen's reply without a reload.
    expect(thread).to_contain_text("Dạ cảm ơn cán bộ", timeout=15_000)
    _fits(console, DESK["width"])
    _shot(console, "handoff-thread.png", tmp_path)
    _fits(chat, PHONE["width"])
    _shot(chat, "handoff-chat.png", tmp_path)

    console.get_by_role("button", name="Kết thúc, trả lại trợ lý").click()
    expect(console.locator(".notice.ok")).to_contain_text("trợ lý tiếp tục")
    expect(log).to_contain_text(texts.BACK_BY_OFFICER)
    # The assistant answers again.
    say("kết hôn")
    expect(log.locator(".msg").last).to_contain_text("Đăng ký kết hôn")
    _shot(chat, "handoff-chat-back.png", tmp_path)
    assert {"handoff:view", "handoff:answer", "handoff:close"} <= set(desk.audit("handoff:1"))
