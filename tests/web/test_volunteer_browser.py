"""A volunteer files a birth registration for a villager in the web chat, in a real headless
Chromium at 360 px, against a real server: "/tinhnguyen", the officer's approval in the
console (a real browser click), the approval told in the chat through the outbox, then the
villager's details and typed consent, the form with the villager's answers filled in, the
birth certificate's photo, and the receipt with its PDF. The path from the approved state to
the receipt is counted (turns, taps, characters typed) and timed; screenshots go to
``MOTCUA_SHOTS`` (default: this test's temporary folder) as ``volunteer-*.png``."""

from __future__ import annotations

import io
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import FilePayload, Page, ViewportSize, expect, sync_playwright

from bot.app import Knowledge
from bot.config import Settings
from dialogs.texts import filing as ftexts
from dialogs.texts import volunteer as texts
from dialogs.texts.receipt import documents_of
from tests.dialogs.test_filing import BIRTH_ANSWERS
from tests.web.console_setup import HOME, PASSWORD, Office
from tests.web.harness import RunningServer, running_server
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, PHONE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]

BIRTH = "1.001193"


@pytest.fixture
def deployment(settings: Settings) -> Settings:
    # A test types faster than any person: past the 20-messages-in-10-seconds flood limit.
    return settings.model_copy(
        update={"flood": settings.flood.model_copy(update={"messages": 1000})}
    )


@pytest.fixture
def desk(deployment: Settings, knowledge: Knowledge) -> Office:
    office = Office(deployment, knowledge.catalogue)
    office.user("lan", "officer", HOME)
    return office


@pytest.fixture
def server(deployment: Settings, knowledge: Knowledge, desk: Office) -> Iterator[RunningServer]:
    with running_server(deployment, knowledge) as running:
        yield running


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MOTCUA_SHOTS", str(tmp_path)))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _page_photo() -> bytes:
    image = Image.new("RGB", (1200, 900), "white")
    draw = ImageDraw.Draw(image)
    for y in range(60, 860, 36):
        draw.rectangle((80, y, 1100, y + 14), fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


class Volunteer:
    """The person at the phone: what they typed and tapped, one turn at a time."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.turns = 0
        self.taps = 0
        self.typed = 0

    def _bot_count(self) -> int:
        return int(self.page.locator(".msg:not(.me)").count())

    def _settled(self, before: int) -> None:
        deadline = time.monotonic() + 20
        while self._bot_count() <= before:
            if time.monotonic() > deadline:
                self.page.screenshot(path="/tmp/vol-noanswer.png")
                raise AssertionError(f"no answer after: {self.last!r}")
            self.page.wait_for_timeout(30)
        seen = self._bot_count()
        self.page.wait_for_timeout(120)
        while self._bot_count() != seen:  # a turn may answer with several messages
            seen = self._bot_count()
            self.page.wait_for_timeout(120)

    def type(self, text: str) -> None:
        before = self._bot_count()
        self.page.locator("#text").fill(text)
        self.page.locator("#send").click()
        self.turns += 1
        self.typed += len(text)
        self._settled(before)

    def tap(self, label: str) -> None:
        before = self._bot_count()
        self.page.get_by_role("button", name=label, exact=True).last.click()
        self.turns += 1
        self.taps += 1
        self._settled(before)

    def photo(self, data: bytes) -> None:
        before = self._bot_count()
        self.page.locator("#gallery").set_input_files(
            files=[FilePayload(name="giay-chung-sinh.jpg", mimeType="image/jpeg", buffer=data)]
        )
        self.turns += 1
        self.taps += 1
        self._settled(before)

    @property
    def last(self) -> str:
        return str(self.page.locator(".msg:not(.me)").last.inner_text())


def test_a_volunteer_files_a_birth_registration_for_a_villager_on_a_phone(
    server: RunningServer, knowledge: Knowledge, shots: Path
) -> None:
    procedure = knowledge.catalogue.get(BIRTH)
    assert procedure is not None and procedure.form is not None
    by_label = {f.label: f.name for f in procedure.form.fields}
    # A run of questions asked on one line is headed by its line label: answered one by one.
    by_label |= {f.line_label: f.name for f in procedure.form.fields if f.line_label}
    # The filer's questions are put to the villager ("Bà con sinh ngày nào ạ?").
    by_label |= {ftexts.for_villager(label): name for label, name in by_label.items()}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        phone = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN"
        )
        phone.set_default_timeout(15_000)
        page = phone.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.base_url + "/")
        expect(page.get_by_role("button", name="Hỏi về thủ tục")).to_be_visible()
        me = Volunteer(page)

        # Asking to volunteer.
        me.type("/tinhnguyen")
        me.type("Nguyễn Văn Tú")
        me.type("0987654321")
        me.type("Chi đoàn thôn Đông")
        assert texts.PENDING.split("\n")[0] in me.last
        page.screenshot(path=str(shots / "volunteer-1-asked.png"))

        # The officer approves it in the console, at a desk.
        desk = browser.new_context(viewport=ViewportSize(width=1366, height=768), locale="vi-VN")
        console = desk.new_page()
        console.goto(server.base_url + "/console/login")
        console.locator("input[name=name]").fill("lan")
        console.locator("input[name=password]").fill(PASSWORD)
        console.locator("form button[type=submit]").first.click()
        console.goto(server.base_url + "/console/volunteers")
        expect(console.locator("main")).to_contain_text("Nguyễn Văn Tú")
        console.screenshot(path=str(shots / "volunteer-2-console.png"))
        console.get_by_role("button", name="Duyệt", exact=True).click()
        expect(console.locator("main")).to_contain_text("Đã duyệt tình nguyện viên")
        desk.close()

        # Told in the chat through the outbox (the notifier pushes to the live page).
        expect(page.locator("#log")).to_contain_text("Chúc mừng bạn!", timeout=20_000)
        page.screenshot(path=str(shots / "volunteer-3-approved.png"))

        # From the approved state to the receipt: what the volunteer does, counted and timed.
        me.turns = me.taps = me.typed = 0
        started = time.monotonic()
        me.tap(texts.BTN_FILE_FOR)
        me.type("Trần Thị Hoa")
        me.type("031198001234")
        me.type("0912345678")
        me.type("đồng ý")  # the villager types it, on the volunteer's phone
        assert "Đã ghi nhận Trần Thị Hoa đồng ý" in page.locator("#log").inner_text()
        page.screenshot(path=str(shots / "volunteer-4-consent.png"))
        me.type("khai sinh")
        assert (
            texts.prefilled("Trần Thị Hoa", texts.PREFILLED_KINDS)
            in page.locator("#log").inner_text()
        )
        page.screenshot(path=str(shots / "volunteer-5-prefilled.png"))
        asked: list[str] = []
        for _ in range(60):
            found = re.findall(r"Câu \d+/\d+: (.*)", me.last)
            if found:
                name = by_label[found[-1].strip()]
                asked.append(name)
                reply = BIRTH_ANSWERS[name]
                me.tap(reply[1]) if isinstance(reply, tuple) else me.type(reply)
                continue
            if page.get_by_role("button", name=ftexts.BTN_SEND, exact=True).count():
                break
            if ftexts.DELIVERY in me.last:
                me.tap(ftexts.BTN_COUNTER)
            elif "Giấy chứng sinh" in me.last and "Không bắt buộc" not in me.last:
                me.photo(_page_photo())
            else:
                me.tap(ftexts.BTN_SKIP)
        assert {"requester_name", "requester_id_number", "phone"}.isdisjoint(asked)
        page.screenshot(path=str(shots / "volunteer-6-review.png"))
        me.tap(ftexts.BTN_SEND)
        log = page.locator("#log")
        expect(log).to_contain_text("cho Trần Thị Hoa")
        code = re.findall(r"Đã nộp hồ sơ (\S+) cho Trần Thị Hoa", log.inner_text())[0]
        expect(log).to_contain_text(documents_of(code), timeout=30_000)
        elapsed = time.monotonic() - started
        page.screenshot(path=str(shots / "volunteer-7-receipt.png"))
        page.screenshot(path=str(shots / "volunteer-8-receipt-full.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        browser.close()
    assert errors == []

    # A person on a phone: 1.5 characters a second (about 18 words a minute) and 2 s to aim
    # and press Gửi or a button; reading each answer (4 s a turn) is counted apart.
    typing = me.typed / 1.5 + me.turns * 2
    reading = me.turns * 4
    measured = {
        "turns": me.turns,
        "taps": me.taps,
        "typed_messages": me.turns - me.taps,
        "characters_typed": me.typed,
        "automated_seconds": round(elapsed, 1),
        "estimated_typing_seconds": round(typing),
        "estimated_reading_seconds": reading,
        "questions_asked": len(asked),
        "prefilled_answers": 3,
    }
    (shots / "volunteer-timing.json").write_text(json.dumps(measured, indent=2))
    print("volunteer path:", measured)
    assert typing < 5 * 60, measured
