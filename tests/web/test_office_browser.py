"""The issue's "done when": a dossier filed in the web chat on a 360 px phone in Chromium is
moved by ``motcua office move`` (a separate process, as at the desk) through every step to the
postman's door, and each step appears in the open page without a reload; the citizen answers
the supplement request in that page with a photo.

Screenshots of each step go to the test's folder, and to ``$MOTCUA_SHOTS`` when it is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page, expect, sync_playwright

from bot.app import Knowledge
from bot.config import Settings
from dialogs.texts import notices as ntexts
from tests.channels.transcript import (
    FILING_BY_POST,
    Press,
    SendPhoto,
    Start,
    Type,
    document_photo,
)
from tests.web.harness import RunningServer, running_server
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, PHONE, _no_horizontal_overflow

ROOT = Path(__file__).resolve().parents[2]
MOTCUA = str(Path(sys.executable).with_name("motcua"))  # the installed command
ITEM_NUMBER = "EE123456785VN"
MISSING = "Văn bản ủy quyền có chữ ký"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def daytime(settings: Settings) -> Settings:
    # No quiet hours: the test must not depend on the hour it runs at.
    notify = settings.notifications.model_copy(
        update={"quiet_start": settings.notifications.quiet_end, "telegram_per_chat_seconds": 0.01}
    )
    flood = settings.flood.model_copy(update={"messages": 100})
    return settings.model_copy(update={"notifications": notify, "flood": flood})


@pytest.fixture
def server(daytime: Settings, knowledge: Knowledge) -> Iterator[RunningServer]:
    with running_server(daytime, knowledge) as running:
        yield running


@pytest.fixture
def page(server: RunningServer) -> Iterator[Page]:
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN"
        )
        context.set_default_timeout(20_000)
        context.route(
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith(server.base_url) else r.abort(),
        )
        opened = context.new_page()
        opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        opened.on("pageerror", lambda e: errors.append(str(e)))
        opened.goto(server.base_url + "/")
        try:
            yield opened
        finally:
            context.close()
            browser.close()
    assert errors == []


class Desk:
    """``motcua office move`` in its own process, on the same database, as an officer types it."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self._env = {
            **os.environ,
            "MOTCUA_CONFIG": str(ROOT / "config.example.toml"),
            "MOTCUA_DATABASE__URL": settings.database.url,
            "MOTCUA_FILES__PATH": str(settings.files.path),
        }
        self._folder = folder

    def move(self, code: str, status: str, *extra: str) -> str:
        done = subprocess.run(
            [MOTCUA, "office", "move", code, status, *extra],
            env=self._env,
            cwd=self._folder,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


class Shots:
    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._wanted = os.environ.get("MOTCUA_SHOTS", "")
        self._count = 0

    def take(self, page: Page, name: str) -> None:
        self._count += 1
        path = self._folder / f"office-path-{self._count:02d}-{name}.png"
        page.screenshot(path=str(path))
        if self._wanted:
            Path(self._wanted).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, Path(self._wanted) / path.name)


def _last_button(page: Page, label: str) -> None:
    page.locator("#log").get_by_role("button", name=label, exact=True).last.click()


def _file_by_post(page: Page, photo: bytes) -> None:
    log = page.locator("#log")
    for step in FILING_BY_POST:
        match step.action:
            case Start():
                pass  # the page greets by itself
            case Type(text):
                page.locator("#text").fill(text)
                page.locator("#send").click()
            case Press(label):
                _last_button(page, label)
            case SendPhoto():
                page.locator("#gallery").set_input_files(
                    files=[FilePayload(name="uy-quyen.jpg", mimeType="image/jpeg", buffer=photo)]
                )
        expect(log).to_contain_text(step.expect)


def test_a_dossier_filed_on_a_phone_is_worked_at_the_desk_and_every_step_shows_in_the_page(
    server: RunningServer, page: Page, daytime: Settings, tmp_path: Path
) -> None:
    photo = document_photo()
    desk = Desk(daytime, tmp_path)
    shots = Shots(tmp_path)
    log = page.locator("#log")

    _file_by_post(page, photo)
    code_line = page.locator(".msg", has_text="Mã hồ sơ:").last.inner_text()
    code = code_line.split("Mã hồ sơ:")[1].split()[0]
    shots.take(page, "filed")
    reloads = page.evaluate("performance.getEntriesByType('navigation').length")

    def step(status: str, shows: str, *extra: str) -> None:
        desk.move(code, status, *extra)
        expect(log).to_contain_text(shows)
        _no_horizontal_overflow(page)
        shots.take(page, status)

    step("accepted", ntexts.ACCEPTED)
    step("supplement_requested", MISSING, "--missing", MISSING)

    # The citizen answers in the same page.
    _last_button(page, ntexts.BTN_SUPPLEMENT)
    expect(log).to_contain_text(f"Bổ sung cho hồ sơ {code}")
    page.locator("#gallery").set_input_files(
        files=[FilePayload(name="uy-quyen-ky.jpg", mimeType="image/jpeg", buffer=photo)]
    )
    expect(log).to_contain_text(ntexts.supplement_got(1, 0))
    _last_button(page, ntexts.BTN_DONE)
    _last_button(page, ntexts.BTN_SEND)
    expect(log).to_contain_text(ntexts.supplement_sent(code))
    expect(log).to_contain_text("hồ sơ đang được xử lý tiếp")  # the office's notice
    shots.take(page, "supplemented")

    step("result_ready", "Xã sẽ gửi kết quả qua bưu điện")
    step("posted", ITEM_NUMBER, "--item-number", ITEM_NUMBER.lower())
    step("collected", ntexts.COLLECTED, "--role", "postal_clerk")
    step("in_transit", ntexts.IN_TRANSIT, "--role", "postal_clerk")
    step("delivered", ntexts.DELIVERED, "--role", "postal_clerk")

    # Never reloaded: every step came over the open connection.
    assert page.evaluate("performance.getEntriesByType('navigation').length") == reloads
    assert page.evaluate("performance.navigation.type") == 0
