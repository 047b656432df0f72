"""The web chat over real HTTP and WebSocket connections to a real server (loopback only)."""

from __future__ import annotations

import asyncio
import io
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import pytest
from PIL import Image, ImageDraw, ImageFont
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from bot.app import Knowledge, build_app
from bot.config import Settings
from bot.effects import Effects
from dialogs.model import Attachment, CheckAttachments, Media, Reply
from handlers import webchat
from handlers.webchat import EMBED_COOKIE, SESSION_COOKIE, UploadMissingError
from storage.migrate import upgrade
from tests.web.harness import RunningServer, running_server

BIRTH_QUESTION = "đăng ký khai sinh cho con cần giấy tờ gì"
RECEIPT_TEXT = "xin biên nhận"
PDF = b"%PDF-1.4\n% receipt\n"
PNG = b"\x89PNG\r\n\x1a\nfake-qr"
CANNED = {
    RECEIPT_TEXT: (
        Reply(
            "Đã nhận hồ sơ.",
            images=(Media("ma-qr-le-phi.png", "image/png", PNG, "Mã QR"),),
            documents=(Media("bien-nhan-H26.pdf", "application/pdf", PDF, "Giấy tiếp nhận"),),
        ),
    )
}


@pytest.fixture
def server(settings: Settings, knowledge: Knowledge) -> Iterator[RunningServer]:
    with running_server(settings, knowledge, canned=CANNED) as running:
        yield running
        for browser in Browser.opened:
            browser.http.close()
        Browser.opened.clear()


@dataclass
class Browser:
    """One citizen's browser: a cookie jar for HTTP and the same cookie on the WebSocket."""

    server: RunningServer
    http: httpx.Client
    opened: ClassVar[list[Browser]] = []

    @classmethod
    def open(cls, server: RunningServer) -> Browser:
        """A browser that has loaded the page (and so holds a session cookie)."""
        http = httpx.Client(base_url=server.base_url, timeout=10)
        browser = cls(server, http)
        cls.opened.append(browser)  # closed by the server fixture
        assert http.get("/").status_code == 200
        return browser

    @property
    def cookie(self) -> str:
        return f"{SESSION_COOKIE}={self.http.cookies[SESSION_COOKIE]}"

    @contextmanager
    def socket(self) -> Iterator[Chat]:
        with connect(self.server.ws_url, additional_headers={"Cookie": self.cookie}) as ws:
            yield Chat(ws)

    def upload(self, data: bytes, name: str = "giay.jpg", mime: str = "image/jpeg") -> str:
        response = self.http.post("/upload", files={"file": (name, data, mime)})
        assert response.status_code == 200, response.text
        ref = response.json()["ref"]
        assert isinstance(ref, str)
        return ref


@dataclass
class Chat:
    ws: ClientConnection

    def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        """Send a frame; the reply frames that came back before its ``done``."""
        self.ws.send(json.dumps(frame))
        return self.until_done(frame["id"])

    def until_done(self, frame_id: str) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        while True:
            frame = json.loads(self.ws.recv(timeout=15))
            if frame == {"type": "done", "id": frame_id}:
                return got
            got.append(frame)


def _text(frames: list[dict[str, Any]]) -> str:
    return "\n".join(f["text"] for f in frames)


def _buttons(frames: list[dict[str, Any]]) -> dict[str, str]:
    return {b["text"]: b["payload"] for f in frames for row in f["buttons"] for b in row}


def _jpeg(width: int = 64, height: int = 48) -> bytes:
    """A sharp, document-like photo: lines of words on light paper, in a frame."""
    rnd = random.Random(width)
    image = Image.new("RGB", (width, height), (245, 243, 238))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(12, height // 45))
    draw.rectangle((8, 8, width - 8, height - 8), outline=(30, 30, 30), width=3)
    for y in range(20, height - 20, max(height // 30, 14)):
        words = " ".join(
            "".join(rnd.choice("abcdeghiklmnopqrstuvxy") for _ in range(rnd.randint(2, 9)))
            for _ in range(12)
        )
        draw.text((20, y), words, fill=(20, 20, 20), font=font)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


# --- the page ------------------------------------------------------------------------------


def test_the_page_names_the_commune_runs_no_inline_script_and_sets_a_private_cookie(
    server: RunningServer,
) -> None:
    response = httpx.get(server.base_url + "/")
    assert response.status_code == 200
    assert "<h1>Xã Thái Tân — Hỏi đáp thủ tục</h1>" in response.text
    assert '<script src="/static/webchat.js" defer></script>' in response.text
    scripts = response.text.count("<script")
    assert scripts == 2  # the script file and the JSON texts block, nothing inline to run
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'self'" in csp and "https:" not in csp
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie
    session = cookie.split(";")[0].split("=", 1)[1]
    assert len(session) >= 43  # 256 random bits


def test_the_commune_name_is_escaped() -> None:
    page = webchat.page_html("Xã <script>alert(1)</script> {{mode}}")
    assert "<script>alert" not in page
    assert "Xã &lt;script&gt;alert(1)&lt;/script&gt; {{mode}}" in page


def test_static_files_are_served_and_nothing_else(server: RunningServer) -> None:
    js = httpx.get(server.base_url + "/static/webchat.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert httpx.get(server.base_url + "/static/webchat.css").status_code == 200
    assert httpx.get(server.base_url + "/static/..%2Fwebchat.py").status_code == 404
    assert httpx.get(server.base_url + "/static/webchat.html").status_code == 404


def test_kiosk_mode_and_embed_mode(server: RunningServer) -> None:
    for path in ("/kiosk", "/?kiosk=1"):
        page = httpx.get(server.base_url + path)
        assert 'class="mode-kiosk"' in page.text and "Bắt đầu lại" in page.text
    embedded = httpx.get(server.base_url + "/embed")
    assert 'class="mode-embed"' in embedded.text
    assert "frame-ancestors 'self' https:" in embedded.headers["content-security-policy"]
    assert "x-frame-options" not in embedded.headers


def test_embed_origins_narrow_who_may_frame_the_chat(
    settings: Settings, knowledge: Knowledge
) -> None:
    with running_server(settings, knowledge, embed_origins=("https://thaitan.gov.vn",)) as srv:
        csp = httpx.get(srv.base_url + "/embed").headers["content-security-policy"]
    assert "frame-ancestors 'self' https://thaitan.gov.vn;" in csp + ";"
    assert "https: " not in csp + " "


def test_the_embed_script_opens_the_chat_from_this_server(server: RunningServer) -> None:
    response = httpx.get(server.base_url + "/embed.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert f'"url": "{server.base_url}/embed"' in response.text
    assert '"button": "Hỏi thủ tục"' in response.text


def test_an_embedded_chat_over_https_gets_a_partitioned_cookie() -> None:
    from handlers.webchat import _cookie

    cookie = _cookie("s" * 43, "embed", secure=True)
    assert cookie.startswith(f"{EMBED_COOKIE}=")
    assert "SameSite=None" in cookie and "Partitioned" in cookie and "Secure" in cookie
    assert "SameSite=Lax" in _cookie("s" * 43, "embed", secure=False)


# --- the conversation ------------------------------------------------------------------------


def test_start_shows_the_menu_and_a_question_gets_the_birth_registration_card(
    server: RunningServer,
) -> None:
    with Browser.open(server).socket() as chat:
        menu = chat.turn({"type": "start", "id": "p1-1"})
        assert "Xã Thái Tân" in _text(menu)
        assert "Hỏi về thủ tục" in _buttons(menu)
        assert all(f["type"] == "reply" and f["re"] == "p1-1" for f in menu)
        card = chat.turn({"type": "text", "id": "p1-2", "text": BIRTH_QUESTION})
        assert "Đăng ký khai sinh\nGiấy tờ cần có:" in _text(card)
        assert "Xem đủ giấy tờ" in _buttons(card)


def test_a_button_frame_leads_to_the_next_reply(server: RunningServer) -> None:
    with Browser.open(server).socket() as chat:
        menu = chat.turn({"type": "start", "id": "p2-1"})
        browse = _buttons(menu)["Xem thủ tục theo lĩnh vực"]
        fields = chat.turn(
            {"type": "button", "id": "p2-2", "payload": browse, "text": "Xem thủ tục theo lĩnh vực"}
        )
        assert any(label.startswith("Hộ tịch") for label in _buttons(fields))


def test_garbage_frames_are_ignored(server: RunningServer) -> None:
    with Browser.open(server).socket() as chat:
        for junk in (
            "not json",
            "[1, 2, 3]",
            json.dumps({"type": "text", "text": "no id"}),
            json.dumps({"type": "text", "id": "x" * 65, "text": "id too long"}),
            json.dumps({"type": "text", "id": "bad id!", "text": "id with spaces"}),
            json.dumps({"type": "text", "id": "big", "text": "a" * 20_000}),  # over the frame cap
        ):
            chat.ws.send(junk)
        chat.ws.send(b"\x00\x01binary")
        # Well-formed id, unusable content: acknowledged so the page stops resending, no turn.
        assert chat.turn({"type": "text", "id": "g-1", "text": "   "}) == []
        assert chat.turn({"type": "button", "id": "g-2", "payload": "x" * 65}) == []
        assert chat.turn({"type": "photo", "id": "g-3", "refs": ["../../etc/passwd"]}) == []
        assert chat.turn({"type": "teleport", "id": "g-4"}) == []
        assert server.spy.inbounds == []
        menu = chat.turn({"type": "text", "id": "g-5", "text": "menu"})
        assert "Hỏi về thủ tục" in _buttons(menu)


def test_reconnecting_with_the_same_cookie_continues_the_conversation(
    server: RunningServer,
) -> None:
    browser = Browser.open(server)
    with browser.socket() as chat:
        menu = chat.turn({"type": "start", "id": "p3-1"})
        browse = _buttons(menu)["Xem thủ tục theo lĩnh vực"]
        fields = chat.turn({"type": "button", "id": "p3-2", "payload": browse})
        assert any(label.startswith("Hộ tịch (") for label in _buttons(fields))

    # Typing a button's label works only for the buttons this very conversation shows.
    with browser.socket() as again:
        listing = again.turn({"type": "text", "id": "p3-3", "text": "Hộ tịch"})
        assert any("khai sinh" in label.lower() for label in _buttons(listing))
        assert "Xin chào" not in _text(listing)

    with Browser.open(server).socket() as stranger:
        assert "Xin chào" in _text(stranger.turn({"type": "text", "id": "p3-4", "text": "Hộ tịch"}))


def test_a_resent_frame_is_answered_again_but_handled_once(server: RunningServer) -> None:
    browser = Browser.open(server)
    with browser.socket() as chat:
        first = chat.turn({"type": "text", "id": "p4-1", "text": "menu"})
    # The page lost the connection before it saw "done": it resends with the same id.
    with browser.socket() as again:
        replayed = again.turn({"type": "text", "id": "p4-1", "text": "menu"})
        assert replayed == first
    ids = [i.message_id for i in server.spy.inbounds]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert [r.duplicate for r in server.spy.results] == [False, True]  # one turn, not two


def test_two_sessions_never_share_a_conversation_or_message_ids(server: RunningServer) -> None:
    one, two = Browser.open(server), Browser.open(server)
    assert one.cookie != two.cookie
    with one.socket() as a, two.socket() as b:
        assert a.turn({"type": "text", "id": "same-1", "text": "menu"})
        assert b.turn({"type": "text", "id": "same-1", "text": "menu"})  # not a duplicate
    keys = {i.key for i in server.spy.inbounds}
    assert len(keys) == 2
    sessions = {one.cookie.split("=", 1)[1], two.cookie.split("=", 1)[1]}
    assert not {k.chat_id for k in keys} & sessions


def test_a_socket_from_another_site_is_refused(server: RunningServer) -> None:
    browser = Browser.open(server)
    with (
        pytest.raises((InvalidStatus, ConnectionClosed)),
        connect(
            server.ws_url,
            additional_headers={"Cookie": browser.cookie},
            origin=Origin("https://evil.example"),
        ) as ws,
    ):
        ws.recv(timeout=5)


# --- files -----------------------------------------------------------------------------------


def test_uploaded_photos_arrive_as_one_album_only_for_their_session(
    server: RunningServer,
) -> None:
    browser = Browser.open(server)
    front, back = _jpeg(), _jpeg(80, 60)
    refs = [browser.upload(front, "mat-truoc.jpg"), browser.upload(back, "mat-sau.jpg")]
    with browser.socket() as chat:
        chat.turn({"type": "photo", "id": "p5-1", "refs": refs})
        inbound = server.spy.inbounds[-1]
        assert [a.kind for a in inbound.attachments] == ["photo", "photo"]
        assert [a.filename for a in inbound.attachments] == ["mat-truoc.jpg", "mat-sau.jpg"]
        assert [a.mime_type for a in inbound.attachments] == ["image/jpeg", "image/jpeg"]
        assert inbound.attachments[0].group_id == inbound.attachments[1].group_id != ""
        fetched = [asyncio.run(server.uploads.fetch(a)) for a in inbound.attachments]
        assert fetched == [front, back]

    # Another browser that learned the token cannot use it.
    thief = Browser.open(server)
    with thief.socket() as stolen:
        stolen.turn({"type": "photo", "id": "p5-2", "refs": refs[:1]})
        attachment = server.spy.inbounds[-1].attachments[0]
        with pytest.raises(UploadMissingError):
            asyncio.run(server.uploads.fetch(attachment))


def test_a_single_pdf_is_a_document_without_an_album(server: RunningServer) -> None:
    browser = Browser.open(server)
    ref = browser.upload(PDF, "giay-chung-sinh.pdf", "application/pdf")
    with browser.socket() as chat:
        chat.turn({"type": "photo", "id": "p6-1", "refs": [ref]})
        (attachment,) = server.spy.inbounds[-1].attachments
        assert attachment.kind == "document" and attachment.group_id == ""


def test_uploads_need_the_session_cookie_and_this_site(server: RunningServer) -> None:
    files = {"file": ("a.jpg", _jpeg(), "image/jpeg")}
    assert httpx.post(server.base_url + "/upload", files=files).status_code == 403
    browser = Browser.open(server)
    foreign = browser.http.post("/upload", files=files, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert browser.http.post("/upload", data={"x": "1"}).status_code == 400


def test_a_file_over_20_mib_is_refused_with_413(server: RunningServer) -> None:
    browser = Browser.open(server)
    big = b"\xff\xd8\xff" + b"\0" * (20 * 1024 * 1024)
    response = browser.http.post("/upload", files={"file": ("big.jpg", big, "image/jpeg")})
    assert response.status_code == 413
    assert response.json() == {"error": "too_large"}


def test_reply_files_are_links_only_their_session_can_open(server: RunningServer) -> None:
    browser = Browser.open(server)
    with browser.socket() as chat:
        (reply,) = chat.turn({"type": "text", "id": "p7-1", "text": RECEIPT_TEXT})
        (document,) = reply["documents"]
        (image,) = reply["images"]
        assert document["label"] == "Tải biên nhận (PDF)" and document["receipt"] is True
        pdf = browser.http.get(document["url"])
        assert pdf.status_code == 200 and pdf.content == PDF
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith("attachment;")
        assert pdf.headers["x-content-type-options"] == "nosniff"
        printable = browser.http.get(document["url"] + "?inline=1")
        assert printable.headers["content-disposition"].startswith("inline;")
        png = browser.http.get(image["url"])
        assert png.content == PNG and png.headers["content-type"] == "image/png"

        assert httpx.get(server.base_url + document["url"]).status_code == 404  # no cookie
        stranger = Browser.open(server)
        assert stranger.http.get(document["url"]).status_code == 404
        assert stranger.http.get(image["url"]).status_code == 404


def test_starting_over_gives_a_new_conversation(server: RunningServer) -> None:
    browser = Browser.open(server)
    before = browser.cookie
    with browser.socket() as chat:
        chat.turn({"type": "text", "id": "p8-1", "text": "menu"})
    assert browser.http.post("/session/new").status_code == 200
    assert browser.cookie != before
    with browser.socket() as fresh:
        fresh.turn({"type": "text", "id": "p8-2", "text": "menu"})
        assert len({i.key for i in server.spy.inbounds}) == 2


# --- the pieces ------------------------------------------------------------------------------


def test_frames_become_inbounds_named_by_session_not_by_cookie() -> None:
    now = datetime(2025, 7, 1, tzinfo=UTC)
    one = webchat.inbound_from_frame({"type": "text", "id": "c-1", "text": " hi "}, "s" * 43, now)
    two = webchat.inbound_from_frame({"type": "text", "id": "c-1", "text": "hi"}, "t" * 43, now)
    assert one is not None and two is not None
    assert one.text == "hi"
    assert one.message_id != two.message_id and one.key != two.key
    assert "s" * 43 not in one.message_id + one.key.as_str()
    start = webchat.inbound_from_frame({"type": "start", "id": "c-2"}, "s" * 43, now)
    assert start is not None and start.text == "/start"
    ref = "A" * 32
    photo = webchat.inbound_from_frame({"type": "photo", "id": "c-3", "refs": [ref]}, "s" * 43, now)
    assert photo is not None
    assert photo.attachments == (Attachment(kind="photo", ref=f"{one.key.chat_id}/{ref}"),)
    contact = webchat.reply_to_frame(Reply("Bạn gõ số điện thoại nhé.", request_contact=True))
    assert contact["text"] == "Bạn gõ số điện thoại nhé." and contact["buttons"] == []
    too_many = {"type": "photo", "id": "c-4", "refs": [f"{i:032d}" for i in range(11)]}
    assert webchat.inbound_from_frame(too_many, "s" * 43, now) is None


async def test_the_web_fetcher_feeds_the_photo_checker(
    settings: Settings, knowledge: Knowledge
) -> None:
    """How build_app wires it: ``fetchers["web"] = app.webchat.fetch``."""
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge) as app:
        uploads = app.webchat
        session = app.web_sessions.new()
        tag = webchat.session_tag(session)
        photo = _jpeg(1200, 900)
        now = datetime.now(UTC)
        ref = await app.webchat._files.put("upload", tag, photo, "image/jpeg", "cccd.jpg", now)
        assert ref is not None
        frame = {"type": "photo", "id": "p9-1", "refs": [ref]}
        described = await app.webchat._files.describe("upload", tag, [ref], now)
        inbound = webchat.inbound_from_frame(frame, session, now, described)
        stranger = webchat.inbound_from_frame(frame, app.web_sessions.new(), now)
        assert inbound is not None and stranger is not None
        effects = Effects(
            settings=settings,
            catalogue=knowledge.catalogue,
            office=app.client,
            dossiers=app.dossiers,
            files=app.files,
            audit=app.audit,
            store=app.store,
            fetchers={"web": uploads.fetch},
            clock=lambda: datetime.now(UTC),
        )
        ours = await effects(inbound, CheckAttachments("cccd", inbound.attachments))
        theirs = await effects(stranger, CheckAttachments("cccd", stranger.attachments))
        assert ours.followup is not None and theirs.followup is not None
        (checked,) = ours.followup.attachments
        assert checked.problem == "" and checked.stored_key
        assert await app.store.exists(checked.stored_key)
        (refused,) = theirs.followup.attachments
        assert refused.problem == "fetch_failed" and not refused.stored_key
