"""The birth registration's review on a phone (issue #11), in a real headless Chromium at
360 × 640 px against a real server: the review, «Gửi hồ sơ» first and every section's button,
fits the chat's visible part without scrolling, and two short buttons share a line.

Set MOTCUA_SHOTS=<dir> to keep the screenshots (birth-review.png).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, ViewportSize, sync_playwright

from bot.app import Knowledge
from bot.config import Settings
from dialogs.texts import filing as ftexts
from tests.channels.transcript import document_photo
from tests.web.harness import RunningServer, running_server
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS

SMALL_PHONE = ViewportSize(width=360, height=640)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def server(settings: Settings, knowledge: Knowledge) -> Iterator[RunningServer]:
    with running_server(settings, knowledge) as running:
        yield running


@pytest.fixture
def page(server: RunningServer) -> Iterator[Page]:
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=SMALL_PHONE, is_mobile=True, has_touch=True)
        context.set_default_timeout(20_000)

        def loopback(route: Route) -> None:
            if route.request.url.startswith(server.base_url + "/"):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", loopback)
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


def _replies(page: Page) -> int:
    return page.locator(".msg:not(.me)").count()


def _settle(page: Page, before: int, expect: str) -> None:
    """Until a reply holding ``expect`` came after the ``before``-th, and nothing more comes."""
    log = page.locator("#log")
    for _ in range(400):
        if _replies(page) > before and expect in log.inner_text():
            break
        page.wait_for_timeout(50)
    else:
        raise AssertionError(f"no reply with {expect!r}")
    count = -1
    while count != _replies(page):
        count = _replies(page)
        page.wait_for_timeout(300)


def _type(page: Page, text: str, expect: str) -> None:
    before = _replies(page)
    page.locator("#text").fill(text)
    page.locator("#send").click()
    _settle(page, before, expect)


def _press(page: Page, label: str, expect: str) -> None:
    before = _replies(page)
    page.locator(".buttons").last.get_by_role("button", name=label, exact=True).click()
    _settle(page, before, expect)


def _photo(page: Page, seed: int, expect: str) -> None:
    before = _replies(page)
    photo = {"name": f"giay-{seed}.jpg", "mimeType": "image/jpeg"}
    page.locator("#gallery").set_input_files(files=[{**photo, "buffer": document_photo(seed=seed)}])
    _settle(page, before, expect)


def test_the_birth_review_fits_one_small_phone_screen(page: Page, tmp_path: Path) -> None:
    page.get_by_role("button").first.wait_for()
    born = f"{date.today() - timedelta(days=20):%d/%m/%Y}"
    _type(page, "lam giay khai sinh cho con can gi", "Giấy tờ cần có:")
    _press(page, "Nộp hồ sơ", "Bạn là gì của cháu ạ?")
    _press(page, "Mẹ", "của bạn ạ?")
    _type(page, "Trần Thị Hoa, 20/05/1998, 031198001234", "của cháu")
    _type(page, f"Nguyễn Văn An, {born}, bé trai", "quốc tịch")
    _press(page, "Kinh, Việt Nam", "Cháu sinh ở đâu")
    _press(page, "Trạm y tế xã Thái Tân, thành phố Hải Phòng", "Quê quán")
    _press(page, "Xã Thái Tân, thành phố Hải Phòng", "cha cháu")
    _type(page, "Nguyễn Văn Bình, 10/02/1995, 031095004321", "đăng ký kết hôn chưa")
    _type(page, "Số 15, quyển 01/2020, ngày 12/06/2020, UBND xã Thái Tân", "mấy bản sao")
    _press(page, "1 bản", "Số điện thoại")
    _type(page, "0912345678", "Ảnh 1/2")
    _photo(page, 0, "Ảnh 2/2")
    _photo(page, 1, ftexts.review_title("Đăng ký khai sinh"))

    review = page.locator(".msg:not(.me)").last
    buttons = page.locator(".buttons").last
    labels = [b.inner_text() for b in buttons.get_by_role("button").all()]
    assert labels[0] == ftexts.BTN_SEND
    assert len(labels) == 9  # send, six sections, the post, cancel
    # The review's top shown at the top of the chat, as a phone scrolls to a new message:
    # its last button is then still inside the visible part, above the typing bar.
    review.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(200)
    log = page.locator("#log").bounding_box()
    top, bottom = review.bounding_box(), buttons.bounding_box()
    assert log is not None and top is not None and bottom is not None
    assert top["y"] >= log["y"] - 1
    assert bottom["y"] + bottom["height"] <= log["y"] + log["height"] + 1
    # Two short section buttons share a line.
    send_box = buttons.get_by_role("button", name="Người khai").bounding_box()
    child_box = buttons.get_by_role("button", name="Cháu", exact=True).bounding_box()
    assert send_box is not None and child_box is not None
    assert abs(send_box["y"] - child_box["y"]) < 1
    shots = Path(os.environ.get("MOTCUA_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "birth-review.png"))
