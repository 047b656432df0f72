"""The web chat in a real headless Chromium at a phone's size, against a real server.

Loopback only: every request that does not go to the test server is aborted. Set
MOTCUA_UPDATE_SCREENSHOT=1 to refresh docs/webchat.png (the README's picture) from this run.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol

import pytest
from PIL import Image
from playwright.sync_api import FilePayload, Page, Route, ViewportSize, expect, sync_playwright

from bot.app import Knowledge
from bot.config import Settings
from dialogs.model import Media, Reply
from tests.web.harness import RunningServer, running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
PHONE = ViewportSize(width=360, height=740)
HOST_NAME = "localhost"  # another site than 127.0.0.1 (the chat), like a commune's website
BIRTH_QUESTION = "đăng ký khai sinh cho con cần giấy tờ gì"
CARD_MARK = "Giấy tờ cần có:"  # the papers' head of a first answer card
RECEIPT_TEXT = "xin biên nhận"
PDF = b"%PDF-1.4\n% receipt\n"


class OpenPage(Protocol):
    def __call__(self, path: str, *, fake_clock: bool = False) -> Page: ...


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


class CommuneSite:
    """The commune's own website on another loopback site, with the one-line embed."""

    def __init__(self) -> None:
        self.chat_url = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = (
                    "<!doctype html><html><head><meta name='viewport' "
                    "content='width=device-width, initial-scale=1'></head><body>"
                    "<h1>UBND xã Thái Tân</h1>"
                    f"<script src='{site.chat_url}/embed.js' defer></script></body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://{HOST_NAME}:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def site() -> Iterator[CommuneSite]:
    commune_site = CommuneSite()
    yield commune_site
    commune_site.close()


@pytest.fixture
def server(settings: Settings, knowledge: Knowledge, site: CommuneSite) -> Iterator[RunningServer]:
    canned = {
        RECEIPT_TEXT: (
            Reply(
                "Đã nhận hồ sơ của bạn.",
                documents=(
                    Media("bien-nhan-H26.pdf", "application/pdf", PDF, "Giấy tiếp nhận hồ sơ"),
                ),
            ),
        )
    }
    with running_server(settings, knowledge, canned=canned, embed_origins=(site.url,)) as running:
        site.chat_url = running.base_url
        yield running


@pytest.fixture
def open_page(server: RunningServer, site: CommuneSite) -> Iterator[OpenPage]:
    """A phone-sized page on ``path``; fails the test on any console error (CSP included)."""
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN"
        )
        context.set_default_timeout(15_000)
        allowed = (server.base_url + "/", site.url + "/")
        context.route("**/*", lambda route: _loopback_only(route, allowed))

        def open_page(path: str, *, fake_clock: bool = False) -> Page:
            page = context.new_page()
            if fake_clock:
                page.clock.install()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.base_url + path if path.startswith("/") else path)
            return page

        try:
            yield open_page
        finally:
            context.close()
            browser.close()
    assert errors == []


def _loopback_only(route: Route, allowed: tuple[str, ...]) -> None:
    if route.request.url.startswith(allowed):
        route.continue_()
    else:
        route.abort()


def _no_horizontal_overflow(page: Page) -> None:
    width = PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # A mobile viewport widens itself to fit what sticks out, so look at every element too.
    sticking_out = page.evaluate(
        """(width) => Array.from(document.querySelectorAll("body *"))
            .filter((e) => e.getClientRects().length)
            .filter((e) => e.getBoundingClientRect().right > width + 0.5)
            .map((e) => e.tagName + "#" + e.id + "." + e.className)""",
        width,
    )
    assert sticking_out == []


def _wait_for(page: Page, condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)  # not time.sleep: Playwright's route handlers must keep running


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (190, 170, 140)).save(out, "JPEG")
    return out.getvalue()


def test_a_citizen_on_a_phone_asks_and_sends_a_photo(
    server: RunningServer, open_page: OpenPage, tmp_path: Path
) -> None:
    page = open_page("/")
    ask = page.get_by_role("button", name="Hỏi về thủ tục")
    expect(ask).to_be_visible()
    expect(page.locator("header h1")).to_have_text("Xã Thái Tân — Hỏi đáp thủ tục")
    font_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font_size >= 18

    ask.click()
    expect(page.locator(".msg").last).not_to_have_text("Hỏi về thủ tục")
    page.locator("#text").fill(BIRTH_QUESTION)
    page.locator("#send").click()
    card = page.locator(".msg:not(.me)").last
    expect(card).to_contain_text(CARD_MARK)
    expect(card).to_contain_text("khai sinh")
    # The first answer fits the phone's screen: its bubble is no taller than the chat log.
    card_box, log_box = card.bounding_box(), page.locator("#log").bounding_box()
    assert card_box is not None and log_box is not None
    assert card_box["height"] <= log_box["height"]
    _no_horizontal_overflow(page)
    page.get_by_role("button", name="Xem đủ giấy tờ").click()
    expect(page.locator("#log")).to_contain_text("1.001193")  # the full list names the code
    expect(page.locator("#log")).to_contain_text("Giấy tờ cần nộp:")
    shot = tmp_path / "webchat.png"
    page.screenshot(path=str(shot))
    if os.environ.get("MOTCUA_UPDATE_SCREENSHOT") == "1":
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT / "docs" / "webchat.png")

    before = len(server.spy.inbounds)
    page.locator("#gallery").set_input_files(
        files=[FilePayload(name="cccd.jpg", mimeType="image/jpeg", buffer=_jpeg())]
    )
    _wait_for(page, lambda: any(i.attachments for i in server.spy.inbounds[before:]))
    photo = next(i for i in server.spy.inbounds[before:] if i.attachments)
    (attachment,) = photo.attachments
    assert attachment.kind == "photo" and attachment.filename == "cccd.jpg"
    expect(page.locator(".msg.me").last).to_contain_text("Đã gửi 1 tệp")
    expect(page.locator("#progress")).to_be_hidden()
    _no_horizontal_overflow(page)
    page.screenshot(path=str(tmp_path / "after-photo.png"))

    # A reload (or a dropped connection) keeps what was said, without a second greeting.
    turns = len(server.spy.inbounds)
    page.reload()
    expect(page.locator("#log")).to_contain_text("1.001193")
    page.wait_for_timeout(300)
    assert len(server.spy.inbounds) == turns


def test_a_too_large_file_is_refused_in_plain_vietnamese(
    open_page: OpenPage,
) -> None:
    page = open_page("/")
    expect(page.get_by_role("button", name="Hỏi về thủ tục")).to_be_visible()
    # Made inside the page: pushing 21 MiB through the DevTools protocol takes seconds.
    page.evaluate(
        """() => {
            const input = document.getElementById("camera");
            const big = new File([new Uint8Array(21 * 1024 * 1024)], "to.jpg",
                                 {type: "image/jpeg"});
            const picked = new DataTransfer();
            picked.items.add(big);
            input.files = picked.files;
            input.dispatchEvent(new Event("change"));
        }"""
    )
    expect(page.locator("#status")).to_contain_text("Tệp quá lớn")


def test_the_kiosk_prints_the_receipt_and_starts_over(
    server: RunningServer, open_page: OpenPage, tmp_path: Path
) -> None:
    page = open_page("/kiosk")
    expect(page.get_by_role("button", name="Hỏi về thủ tục")).to_be_visible()
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 24
    page.locator("#text").fill(RECEIPT_TEXT)
    page.locator("#send").click()
    download = page.get_by_role("link", name="Tải biên nhận (PDF)")
    expect(download).to_be_visible()
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="In biên nhận").click()
    assert opened.value.url.endswith("?inline=1")
    _no_horizontal_overflow(page)
    page.screenshot(path=str(tmp_path / "kiosk-narrow.png"))
    page.set_viewport_size(ViewportSize(width=1280, height=800))  # the reception desk's screen
    page.screenshot(path=str(tmp_path / "kiosk.png"))

    first_key = server.spy.inbounds[-1].key
    page.get_by_role("button", name="Bắt đầu lại").click()
    expect(page.locator("#log")).not_to_contain_text("Tải biên nhận")
    expect(page.get_by_role("button", name="Hỏi về thủ tục")).to_be_visible()
    assert server.spy.inbounds[-1].key != first_key


def test_an_idle_kiosk_starts_over_for_the_next_visitor(
    server: RunningServer, open_page: OpenPage
) -> None:
    page = open_page("/kiosk", fake_clock=True)
    page.locator("#text").fill(BIRTH_QUESTION)
    page.locator("#send").click()
    expect(page.locator("#log")).to_contain_text(CARD_MARK)
    first_key = server.spy.inbounds[-1].key
    page.clock.run_for("02:00")
    expect(page.locator("#log")).to_contain_text(CARD_MARK)  # still someone's turn
    page.clock.run_for("01:30")  # three minutes without a touch
    expect(page.locator("#log")).not_to_contain_text(CARD_MARK)
    expect(page.get_by_role("button", name="Hỏi về thủ tục")).to_be_visible()
    assert server.spy.inbounds[-1].key != first_key


def test_the_embed_button_opens_the_chat_on_the_commune_website(
    open_page: OpenPage, site: CommuneSite, tmp_path: Path
) -> None:
    page = open_page(site.url + "/")
    launcher = page.get_by_role("button", name="Hỏi thủ tục")
    expect(launcher).to_be_visible()
    launcher.click()
    frame = page.frame_locator("#motcua-panel iframe")
    expect(frame.get_by_role("button", name="Hỏi về thủ tục")).to_be_visible()
    page.screenshot(path=str(tmp_path / "embed.png"))
    page.get_by_role("button", name="✕ Đóng").click()
    expect(launcher).to_be_visible()
