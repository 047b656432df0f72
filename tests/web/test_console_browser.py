"""The officer console in a real headless Chromium: at a desk (1366×768) and on a 360 px
phone, against a real server. A dossier filed through the web chat in one page is accepted
in the console in another, and the citizen's page hears of it without a reload; forged forms,
another commune's dossier, a postal clerk reaching for an officer's move and an idle session
are all turned away.

Loopback only: every request that does not go to the test server is aborted, and any console
error other than the refused requests the test makes on purpose fails the test (a CSP
violation would). Set MOTCUA_UPDATE_SCREENSHOT=1 to refresh docs/console.png (the README's
picture) from this run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    FilePayload,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from bot.app import Knowledge
from bot.config import Settings
from dialogs.texts import notices as ntexts
from tests.channels.transcript import FILING, Press, SendPhoto, Start, Type, document_photo
from tests.web.console_setup import HOME, OTHER, PASSWORD, Office, two_communes
from tests.web.harness import RunningServer, running_server
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, PHONE

ROOT = Path(__file__).resolve().parents[2]
DESK = ViewportSize(width=1366, height=768)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def deployment(settings: Settings) -> Settings:
    # No quiet hours: the notice to the citizen must not depend on the hour the test runs at.
    notify = settings.notifications.model_copy(
        update={"quiet_start": settings.notifications.quiet_end}
    )
    flood = settings.flood.model_copy(update={"messages": 100})
    return two_communes(settings).model_copy(update={"notifications": notify, "flood": flood})


@pytest.fixture
def desk(deployment: Settings, knowledge: Knowledge) -> Office:
    office = Office(deployment, knowledge.catalogue)
    office.user("lan", "officer", HOME)
    office.user("buu", "postal_clerk", HOME)
    return office


@pytest.fixture
def server(deployment: Settings, knowledge: Knowledge, desk: Office) -> Iterator[RunningServer]:
    with running_server(deployment, knowledge) as running:
        yield running


Opener = Callable[..., Page]


@pytest.fixture
def browser_pages(server: RunningServer) -> Iterator[Opener]:
    """``open(path, size=DESK)``: a new page in its own browser context (its own cookies)."""
    errors: list[str] = []
    contexts: list[BrowserContext] = []
    with sync_playwright() as pw:
        browser: Browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )

        def open_page(path: str, size: ViewportSize = DESK) -> Page:
            phone = size["width"] < 500
            context = browser.new_context(
                viewport=size,
                device_scale_factor=2 if phone else 1,
                is_mobile=phone,
                has_touch=phone,
                locale="vi-VN",
            )
            context.set_default_timeout(20_000)
            context.route(
                "**/*",
                lambda r: r.continue_() if r.request.url.startswith(server.base_url) else r.abort(),
            )
            contexts.append(context)
            page = context.new_page()

            def on_console(message: object) -> None:
                text = getattr(message, "text", "")
                kind = getattr(message, "type", "")
                # The 403/404/409 answers the test provokes are logged as failed loads.
                if kind == "error" and "Failed to load resource" not in text:
                    errors.append(text)

            page.on("console", on_console)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.base_url + path)
            return page

        try:
            yield open_page
        finally:
            for context in contexts:
                context.close()
            browser.close()
    assert errors == []


def _fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    sticking_out = page.evaluate(
        """(width) => Array.from(document.querySelectorAll("body *"))
            .filter((e) => e.getClientRects().length)
            .filter((e) => e.getBoundingClientRect().right > width + 0.5)
            .map((e) => e.tagName + "." + e.className)""",
        width,
    )
    assert sticking_out == []


def _sign_in(page: Page, name: str) -> None:
    page.get_by_label("Tên đăng nhập").fill(name)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def _file_in_chat(page: Page) -> str:
    log = page.locator("#log")
    for step in FILING:
        match step.action:
            case Start():
                pass
            case Type(text):
                page.locator("#text").fill(text)
                page.locator("#send").click()
            case Press(label):
                log.get_by_role("button", name=label, exact=True).last.click()
            case SendPhoto():
                page.locator("#gallery").set_input_files(
                    files=[
                        FilePayload(
                            name="uy-quyen.jpg", mimeType="image/jpeg", buffer=document_photo()
                        )
                    ]
                )
        expect(log).to_contain_text(step.expect)
    line = page.locator(".msg", has_text="Mã hồ sơ:").last.inner_text()
    return line.split("Mã hồ sơ:")[1].split()[0]


def test_an_officer_signs_in_and_accepts_a_dossier_filed_in_the_chat(
    server: RunningServer, browser_pages: Opener, desk: Office, tmp_path: Path
) -> None:
    # Older work on the desk: one accepted and overdue, one waiting by post.
    late = desk.file(name="Phạm Văn Dũng")
    desk.move(late, "accepted", "in_progress")
    desk.overdue(late)
    desk.move(desk.file(name="Lê Thị Cúc", by_post=True), "accepted", "result_ready")
    chat = browser_pages("/", PHONE)
    code = _file_in_chat(chat)

    console = browser_pages("/console")
    expect(console).to_have_url(server.base_url + "/console/login")
    _sign_in(console, "lan")
    expect(console.locator("h1")).to_have_text("Hồ sơ cần xử lý")
    row = console.locator("tr", has_text=code)
    expect(row).to_contain_text("Mới")
    expect(row).to_contain_text("Nguyễn Văn An")
    expect(console.locator("tr", has_text=late)).to_contain_text("Quá hạn")
    rows = console.locator("tbody tr")
    expect(rows.first).to_contain_text(code)  # new first, then by due date
    expect(rows.nth(1)).to_contain_text(late)
    _fits(console, DESK["width"])
    shot = tmp_path / "console.png"
    console.screenshot(path=str(shot))
    if os.environ.get("MOTCUA_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, ROOT / "docs" / "console.png")

    row.get_by_role("link", name=code).click()
    expect(console.locator("h1")).to_contain_text(code)
    photo = console.get_by_role("img", name="Văn bản ủy quyền")
    photo.scroll_into_view_if_needed()
    expect(photo).to_be_visible()
    # The photo came through the authorised route and decoded.
    # (A function, not a string: the console's CSP allows no eval, which a polled string
    # predicate needs when the image is not decoded yet.)
    photo.evaluate("(img) => img.decode()")
    assert photo.evaluate("(img) => img.naturalWidth") > 0
    console.get_by_role("button", name="Tiếp nhận hồ sơ").click()
    expect(console.locator(".notice.ok")).to_contain_text("Được tiếp nhận")
    expect(console.locator(".history li").first).to_contain_text("(lan)")
    expect(console.locator(".history li").last).to_contain_text("(công dân)")
    console.screenshot(path=str(tmp_path / "console-dossier.png"), full_page=True)
    assert desk.status(code) == "accepted"

    # The citizen's open page hears of it, pushed over its connection.
    expect(chat.locator("#log")).to_contain_text(ntexts.ACCEPTED)


def test_forged_forms_another_communes_dossier_and_an_idle_session_are_turned_away(
    server: RunningServer, browser_pages: Opener, desk: Office, tmp_path: Path
) -> None:
    mine = desk.file(HOME)
    theirs = desk.file(OTHER)
    page = browser_pages("/console/login", PHONE)
    _sign_in(page, "lan")
    expect(page.locator("h1")).to_have_text("Hồ sơ cần xử lý")
    _fits(page, PHONE["width"])
    page.screenshot(path=str(tmp_path / "console-phone.png"))

    # A forged CSRF token: the form is refused and nothing moves.
    page.goto(f"{server.base_url}/console/dossiers/{mine}")
    _fits(page, PHONE["width"])
    page.screenshot(path=str(tmp_path / "console-dossier-phone.png"), full_page=True)
    form = page.locator("form.move", has=page.locator("input[value='accepted']"))
    form.locator("input[name=csrf]").evaluate("(e) => { e.value = 'forged' }")
    form.get_by_role("button", name="Tiếp nhận hồ sơ").click()
    expect(page.locator(".notice.error")).to_contain_text("Biểu mẫu đã hết hạn")
    assert desk.status(mine) == "received"

    # Another commune's dossier by URL: as if it did not exist.
    answer = page.goto(f"{server.base_url}/console/dossiers/{theirs}")
    assert answer is not None and answer.status == 404
    expect(page.locator(".notice.error")).to_contain_text("Không tìm thấy")

    # Left alone past the idle timeout: the next click goes to the login page.
    page.goto(f"{server.base_url}/console")
    desk.age_sessions(timedelta(minutes=31))
    page.get_by_role("link", name="Bưu điện").click()
    expect(page).to_have_url(f"{server.base_url}/console/login?m=expired")
    expect(page.locator(".notice.error")).to_contain_text("Phiên làm việc đã hết hạn")


def test_a_postal_clerk_reaching_for_an_officers_move_is_refused(
    server: RunningServer, browser_pages: Opener, desk: Office, tmp_path: Path
) -> None:
    code = desk.file(by_post=True)
    desk.move(code, "accepted", "result_ready")
    page = browser_pages("/console/login", PHONE)
    _sign_in(page, "buu")
    expect(page.locator("h1")).to_have_text("Kết quả gửi qua bưu điện")
    parcel = page.locator(".parcels li", has_text=code)
    expect(parcel).to_contain_text("số 5 đường Trần Phú")
    _fits(page, PHONE["width"])

    # The page offers only the post's step; a form rewritten to the officer's is refused.
    form = parcel.locator("form.inline-move")
    expect(form).to_have_count(1)
    form.locator("input[name=to]").evaluate("(e) => { e.value = 'returned' }")
    form.locator("input[name=item_number]").fill("EE123456785VN")
    form.get_by_role("button").click()
    expect(page.locator(".notice.error")).to_contain_text(
        "Vai trò nhân viên bưu điện không được chuyển hồ sơ"
    )
    assert desk.status(code) == "result_ready"

    # The post's own step goes through.
    page.goto(f"{server.base_url}/console/post")
    parcel = page.locator(".parcels li", has_text=code)
    parcel.locator("input[name=item_number]").fill("ee123456785vn")
    parcel.get_by_role("button", name="Giao kết quả cho bưu điện").click()
    expect(page.locator(".notice.ok")).to_contain_text("Đã chuyển bưu điện")
    expect(page.locator(".parcels li", has_text=code)).to_contain_text("EE123456785VN")
    _fits(page, PHONE["width"])
    page.screenshot(path=str(tmp_path / "console-post-phone.png"), full_page=True)
    assert desk.status(code) == "posted"
