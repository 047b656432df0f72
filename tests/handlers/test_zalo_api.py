"""The Zalo client and channel against the fake Zalo server over loopback HTTP."""

import asyncio
import hashlib
import io
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image

from dialogs.model import Attachment, Button, Inbound, Media, Reply
from handlers.files import FileTooLarge
from handlers.zalo import Deferred, Sent, ZaloChannel
from handlers.zalo_client import (
    InMemoryTokenStore,
    TokenPair,
    ZaloAuthError,
    ZaloClient,
    ZaloDownloadTooLarge,
    ZaloError,
)
from tests.fakes.zalo_server import FakeZalo

USER = "2468458835296197922"
OA_SECRET = "oa-secret-key"
TEMPLATE = "7895417a7d3f9461cd2e"
CS = "/v3.0/oa/message/cs"
TOKEN = "/v4/oa/access_token"
CHOICES = Reply(
    "Chọn một:",
    buttons=((Button("Hỏi về thủ tục", "ask"),), (Button("Gặp cán bộ", "officer"),)),
)


class DictChoices:
    """The channel's choice memory, kept in a dict (production keeps it in the database)."""

    def __init__(self) -> None:
        self.payloads: dict[str, tuple[str, ...]] = {}

    async def get(self, user_id: str) -> tuple[str, ...]:
        return self.payloads.get(user_id, ())

    async def put(self, user_id: str, payloads: tuple[str, ...]) -> None:
        self.payloads[user_id] = payloads


START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Recorder:
    """A fake bot service: remembers what it got, answers with the replies it is given."""

    def __init__(self, replies: Sequence[Reply] = (CHOICES,)) -> None:
        self.inbounds: list[Inbound] = []
        self.replies: Sequence[Reply] = replies

    async def __call__(self, inbound: Inbound) -> Sequence[Reply]:
        self.inbounds.append(inbound)
        return self.replies


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(zalo: FakeZalo, clock: Clock) -> InMemoryTokenStore:
    return InMemoryTokenStore(zalo.initial_tokens(clock.now))


@pytest.fixture
def client(
    zalo: FakeZalo, http: httpx.AsyncClient, tokens: InMemoryTokenStore, clock: Clock
) -> ZaloClient:
    return ZaloClient(
        http,
        app_id=zalo.app_id,
        app_secret=zalo.app_secret,
        tokens=tokens,
        clock=clock,
        max_download=1000,
        **zalo.urls(),
    )


def channel_for(
    client: ZaloClient,
    zalo: FakeZalo,
    clock: Clock,
    handle: Recorder | None = None,
    *,
    last_seen: datetime | None = None,
    template_id: str = "",
    phone: str | None = None,
    contact_image_url: str = "",
) -> ZaloChannel:
    async def last_interaction(user_id: str) -> datetime | None:
        return last_seen

    async def phone_for(user_id: str) -> str | None:
        return phone

    return ZaloChannel(
        client,
        handle or Recorder(),
        app_id=zalo.app_id,
        oa_secret=OA_SECRET,
        clock=clock,
        last_interaction=last_interaction,
        memory=DictChoices(),
        template_id=template_id,
        phone_for=phone_for,
        contact_image_url=contact_image_url,
    )


def text_event(
    text: str, msg_id: str, event_name: str = "user_send_text", at: datetime = START
) -> tuple[dict[str, str], bytes]:
    event: dict[str, Any] = {
        "app_id": "360846524940903967",
        "sender": {"id": USER},
        "recipient": {"id": "388613280878808645"},
        "event_name": event_name,
        "message": {"text": text, "msg_id": msg_id},
        "timestamp": str(int(at.timestamp() * 1000)),
    }
    raw_body = json.dumps(event, ensure_ascii=False).encode()
    mac = hashlib.sha256(
        (event["app_id"] + raw_body.decode() + event["timestamp"] + OA_SECRET).encode()
    ).hexdigest()
    return {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}, raw_body


def png(size: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), "white").save(out, format="PNG")
    return out.getvalue()


# --- webhook ----------------------------------------------------------------------------------


async def test_webhook_answers_the_citizen_with_numbered_buttons(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    recorder = Recorder()
    channel = channel_for(client, zalo, clock, recorder)
    status, body = await channel.handle_webhook(*text_event("xin chào", "m-1"))
    assert (status, body) == (200, {"ok": True})
    assert recorder.inbounds[0].text == "xin chào"
    (message,) = zalo.delivered
    assert message.user_id == USER
    assert message.text == (
        "Chọn một:\n1. Hỏi về thủ tục\n2. Gặp cán bộ\n(Gõ số để chọn, ví dụ: 1)"
    )
    cs_call = zalo.calls_to(CS)[0]
    assert cs_call.headers["access_token"].startswith("at-")
    assert "Authorization" not in cs_call.headers


async def test_webhook_refuses_bad_or_missing_signatures_and_bad_json(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    recorder = Recorder()
    channel = channel_for(client, zalo, clock, recorder)
    headers, raw_body = text_event("xin chào", "m-1")
    forged = raw_body.replace("xin chào".encode(), "chào".encode())
    assert (await channel.handle_webhook(headers, forged))[0] == 401
    assert (await channel.handle_webhook({}, raw_body))[0] == 401
    assert (await channel.handle_webhook(headers, b"{not json"))[0] == 400
    assert recorder.inbounds == []
    assert zalo.calls == []


async def test_a_typed_number_means_that_button_while_the_buttons_are_shown(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    recorder = Recorder()
    channel = channel_for(client, zalo, clock, recorder)
    await channel.handle_webhook(*text_event("xin chào", "m-1"))
    await channel.handle_webhook(*text_event("2", "m-2"))
    await channel.handle_webhook(*text_event("3", "m-3"))  # no third button
    pressed, beyond = recorder.inbounds[1:]
    assert pressed.payload == "officer"
    assert beyond.payload is None
    assert beyond.text == "3"

    # A turn without buttons: the numbers shown before no longer mean anything.
    recorder.replies = (Reply("Bạn sinh năm nào?"),)
    await channel.handle_webhook(*text_event("1", "m-4"))
    await channel.handle_webhook(*text_event("1", "m-5"))
    assert recorder.inbounds[-2].payload == "ask"
    assert recorder.inbounds[-1].payload is None
    assert recorder.inbounds[-1].text == "1"


async def test_a_message_written_first_keeps_the_numbers_unless_it_brings_its_own(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    """The receipt's PDF after the menu leaves "2" meaning the menu's second button; an office
    notice with «Gửi bổ sung» numbers its own buttons, and "1" presses it."""
    recorder = Recorder()
    channel = channel_for(client, zalo, clock, recorder)
    await channel.handle_webhook(*text_event("xin chào", "m-1"))
    user = recorder.inbounds[0].key.user_id
    await channel.send(user, (Reply("Giấy biên nhận của bạn"),), pushed=True)
    await channel.handle_webhook(*text_event("2", "m-2"))
    assert recorder.inbounds[-1].payload == "officer"

    notice = Reply("Hồ sơ cần bổ sung", buttons=((Button("Gửi bổ sung", "supp:X"),),))
    await channel.send(user, (notice,), pushed=True)
    await channel.handle_webhook(*text_event("1", "m-3"))
    assert recorder.inbounds[-1].payload == "supp:X"


async def test_a_duplicate_delivery_keeps_the_numbers_shown(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    recorder = Recorder()
    channel = channel_for(client, zalo, clock, recorder)
    await channel.handle_webhook(*text_event("xin chào", "m-1"))
    recorder.replies = ()  # what the service answers for a message id it has seen
    await channel.handle_webhook(*text_event("xin chào", "m-1"))
    recorder.replies = (CHOICES,)
    await channel.handle_webhook(*text_event("1", "m-2"))
    assert recorder.inbounds[-1].payload == "ask"


async def test_numbers_run_across_the_replies_of_one_turn(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    second = Reply("Hoặc:", buttons=((Button("Menu chính", "menu"),),))
    recorder = Recorder((CHOICES, second))
    channel = channel_for(client, zalo, clock, recorder)
    await channel.handle_webhook(*text_event("xin chào", "m-1"))
    assert [m.text for m in zalo.delivered] == [
        "Chọn một:\n1. Hỏi về thủ tục\n2. Gặp cán bộ",
        "Hoặc:\n3. Menu chính\n(Gõ số để chọn, ví dụ: 1)",
    ]
    await channel.handle_webhook(*text_event("3", "m-2"))
    assert recorder.inbounds[-1].payload == "menu"


async def test_events_the_conversation_does_not_see_are_acknowledged_quietly(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    recorder = Recorder()
    channel = channel_for(client, zalo, clock, recorder)
    status, _ = await channel.handle_webhook(*text_event("", "m-9", "user_seen_message"))
    assert status == 200
    assert recorder.inbounds == []
    assert zalo.calls == []


async def test_a_refused_reply_still_acknowledges_the_event(
    zalo: FakeZalo, client: ZaloClient, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    channel = channel_for(client, zalo, clock, recorder)
    zalo.fail_next(CS, -201)
    status, _ = await channel.handle_webhook(*text_event("xin chào", "m-1"))
    assert status == 200
    assert len(recorder.inbounds) == 1
    assert "sending Zalo replies failed" in caplog.text


async def test_asking_for_the_phone_sends_zalos_share_card_when_configured(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    ask = Reply("Số điện thoại của bạn là gì ạ?", request_contact=True)
    with_card = channel_for(client, zalo, clock, contact_image_url="https://xa.example/logo.png")
    await with_card.send(USER, [ask])
    assert [(m.text, m.template_type) for m in zalo.delivered] == [
        ("Số điện thoại của bạn là gì ạ?", ""),
        ("Gửi số điện thoại", "request_user_info"),
    ]
    without = channel_for(client, zalo, clock)
    await without.send(USER, [ask])
    assert len(zalo.delivered) == 3


# --- sending ------------------------------------------------------------------------------------


async def test_long_text_goes_out_as_several_messages(zalo: FakeZalo, client: ZaloClient) -> None:
    text = "\n".join(f"{i}. " + "Mang theo căn cước công dân bản chính. " * 3 for i in range(40))
    ids = await client.send_text(USER, text)
    assert len(ids) == len(zalo.delivered) >= 3
    assert all(len(m.text) <= 2000 for m in zalo.delivered)
    assert "\n".join(m.text for m in zalo.delivered) == text


async def test_images_and_pdfs_are_uploaded_then_sent(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    image = png()
    pdf = b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF\n"
    reply = Reply(
        "Biên nhận hồ sơ của bạn:",
        images=(Media("qr.png", "image/png", image, caption="Mã QR nộp phí"),),
        documents=(Media("bien-nhan.pdf", "application/pdf", pdf),),
    )
    channel = channel_for(client, zalo, clock)
    await channel.send(USER, [reply])
    text, qr, receipt = zalo.delivered
    assert text.text == "Biên nhận hồ sơ của bạn:"
    assert qr.image == image
    assert qr.text == "Mã QR nộp phí"
    assert receipt.file_name == "bien-nhan.pdf"
    assert receipt.file_data == pdf
    assert [c.path for c in zalo.calls] == [
        CS,
        "/v2.0/oa/upload/image",
        CS,
        "/v2.0/oa/upload/file",
        CS,
    ]


async def test_an_error_inside_an_http_200_is_raised(zalo: FakeZalo, client: ZaloClient) -> None:
    zalo.fail_next(CS, -201)
    with pytest.raises(ZaloError) as caught:
        await client.send_text(USER, "xin chào")
    assert caught.value.code == -201
    assert zalo.delivered == []


async def test_an_image_zalo_refuses_raises_with_its_code(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    with pytest.raises(ZaloError) as caught:
        await client.send_image(USER, b"GIF89a not a png")
    assert caught.value.code == -201
    assert zalo.calls_to(CS) == []


# --- tokens ---------------------------------------------------------------------------------------


async def test_expired_token_is_refreshed_once_and_the_call_retried(
    zalo: FakeZalo, client: ZaloClient, tokens: InMemoryTokenStore
) -> None:
    assert tokens.pair is not None
    first_refresh = tokens.pair.refresh_token
    zalo.expire_access_tokens()
    await client.send_text(USER, "lần một")
    assert [m.text for m in zalo.delivered] == ["lần một"]
    assert zalo.refresh_count == 1
    rotated = tokens.pair
    assert rotated.refresh_token != first_refresh
    assert zalo.used_refresh_tokens == {first_refresh}
    (refresh_call,) = zalo.calls_to(TOKEN)
    assert refresh_call.host == "oauth"
    assert refresh_call.headers["secret_key"] == zalo.app_secret
    assert refresh_call.form == {
        "refresh_token": first_refresh,
        "app_id": zalo.app_id,
        "grant_type": "refresh_token",
    }

    # The second refresh must use the rotated token: the fake refuses a spent one.
    zalo.expire_access_tokens()
    await client.send_text(USER, "lần hai")
    assert [m.text for m in zalo.delivered] == ["lần một", "lần hai"]
    assert zalo.refresh_count == 2
    assert zalo.calls_to(TOKEN)[1].form["refresh_token"] == rotated.refresh_token


async def test_the_new_pair_is_stored_before_the_new_access_token_is_used(
    zalo: FakeZalo, http: httpx.AsyncClient, clock: Clock
) -> None:
    class CheckingStore(InMemoryTokenStore):
        async def put(self, pair: TokenPair) -> None:
            used = [c for c in zalo.calls if c.headers.get("access_token") == pair.access_token]
            assert used == [], "the new access token was used before it was stored"
            await super().put(pair)

    store = CheckingStore(zalo.initial_tokens(clock.now))
    client = ZaloClient(
        http,
        app_id=zalo.app_id,
        app_secret=zalo.app_secret,
        tokens=store,
        clock=clock,
        **zalo.urls(),
    )
    zalo.expire_access_tokens()
    await client.send_text(USER, "xin chào")
    assert zalo.refresh_count == 1
    assert len(zalo.delivered) == 1


async def test_a_token_older_than_20_hours_is_refreshed_before_calling(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    clock.now += timedelta(hours=21)
    await client.send_text(USER, "xin chào")
    assert [c.path for c in zalo.calls] == [TOKEN, CS]


async def test_a_seed_refresh_token_alone_is_enough_to_start(
    zalo: FakeZalo, http: httpx.AsyncClient, clock: Clock
) -> None:
    granted = zalo.initial_tokens()
    store = InMemoryTokenStore(TokenPair.seed(granted.refresh_token))
    client = ZaloClient(
        http,
        app_id=zalo.app_id,
        app_secret=zalo.app_secret,
        tokens=store,
        clock=clock,
        **zalo.urls(),
    )
    await client.send_text(USER, "xin chào")
    assert [c.path for c in zalo.calls] == [TOKEN, CS]
    assert store.pair is not None
    assert store.pair.obtained_at == clock.now
    assert store.pair.expires_in == 90000
    assert TokenPair.from_json(store.pair.to_json()) == store.pair


async def test_concurrent_callers_share_one_refresh(zalo: FakeZalo, client: ZaloClient) -> None:
    zalo.refresh_delay = 0.05
    zalo.expire_access_tokens()
    async with asyncio.timeout(10):
        await asyncio.gather(*(client.send_text(USER, f"tin {i}") for i in range(5)))
    assert zalo.refresh_count == 1
    assert sorted(m.text for m in zalo.delivered) == [f"tin {i}" for i in range(5)]


async def test_a_spent_refresh_token_fails_loudly_and_keeps_the_stored_pair(
    zalo: FakeZalo, client: ZaloClient, tokens: InMemoryTokenStore
) -> None:
    before = tokens.pair
    assert before is not None
    await client.refresh()
    tokens.pair = before  # e.g. a database restored from yesterday's backup
    zalo.expire_access_tokens()
    with pytest.raises(ZaloAuthError):
        await client.send_text(USER, "xin chào")
    assert tokens.pair == before
    assert zalo.delivered == []


# --- notifications and the 7-day window -----------------------------------------------------------


async def test_notice_inside_the_window_is_a_cs_message(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    channel = channel_for(
        client, zalo, clock, last_seen=clock.now - timedelta(days=6), template_id=TEMPLATE
    )
    result = await channel.notify(USER, "Hồ sơ HS-1 đã có kết quả.", {"ma_ho_so": "HS-1"})
    assert isinstance(result, Sent)
    assert result.via == "cs"
    assert [m.text for m in zalo.delivered] == ["Hồ sơ HS-1 đã có kết quả."]
    assert zalo.templates == []


async def test_notice_refused_with_230_goes_out_as_a_template_to_the_84_phone(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    zalo.outside_window.add(USER)
    channel = channel_for(
        client,
        zalo,
        clock,
        last_seen=clock.now - timedelta(days=2),
        template_id=TEMPLATE,
        phone="0912 345 678",
    )
    data = {"ma_ho_so": "HS-2026-000123", "trang_thai": "Đã có kết quả"}
    result = await channel.notify(USER, "Hồ sơ đã có kết quả.", data, tracking_id="hs-123")
    assert isinstance(result, Sent)
    assert result.via == "template"
    assert len(result.message_ids) == 1
    assert result.message_ids[0].startswith("zns")
    assert zalo.templates == [
        {
            "phone": "84912345678",
            "template_id": TEMPLATE,
            "template_data": data,
            "tracking_id": "hs-123",
        }
    ]
    assert zalo.calls_to("/message/template")[0].host == "business"
    assert zalo.delivered == []


async def test_notice_long_after_the_last_contact_skips_the_cs_attempt(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    channel = channel_for(
        client,
        zalo,
        clock,
        last_seen=clock.now - timedelta(days=8),
        template_id=TEMPLATE,
        phone="84912345678",
    )
    result = await channel.notify(USER, "Hồ sơ đã có kết quả.", {"ma_ho_so": "HS-1"})
    assert isinstance(result, Sent)
    assert result.via == "template"
    assert zalo.calls_to(CS) == []
    assert zalo.templates[0]["phone"] == "84912345678"


async def test_notice_outside_the_window_without_template_or_phone_is_deferred(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    long_ago = clock.now - timedelta(days=30)
    no_template = channel_for(client, zalo, clock, last_seen=long_ago, phone="0912345678")
    no_phone = channel_for(client, zalo, clock, last_seen=long_ago, template_id=TEMPLATE)
    never_seen = channel_for(client, zalo, clock, template_id=TEMPLATE, phone="12")
    assert await no_template.notify(USER, "x", {}) == Deferred("no_template")
    assert await no_phone.notify(USER, "x", {}) == Deferred("no_phone")
    assert await never_seen.notify(USER, "x", {}) == Deferred("bad_phone")
    assert zalo.calls == []


# --- attachments ----------------------------------------------------------------------------------


async def test_attachment_download_returns_the_bytes_without_our_token(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    url = zalo.add_attachment("cccd.jpg", b"\xff\xd8\xff" + b"1" * 900)
    channel = channel_for(client, zalo, clock)
    data = await channel.fetch(Attachment(kind="photo", ref=url))
    assert data == b"\xff\xd8\xff" + b"1" * 900
    (download,) = zalo.calls
    assert download.host == "cdn"
    assert "access_token" not in download.headers


async def test_attachment_download_stops_at_the_cap(
    zalo: FakeZalo, client: ZaloClient, clock: Clock
) -> None:
    url = zalo.add_attachment("big.jpg", b"2" * 200_000)
    with pytest.raises(ZaloDownloadTooLarge):
        await client.download(url)
    channel = channel_for(client, zalo, clock)
    # The fetcher says "too large" the way every channel does, so the photo check can tell.
    with pytest.raises(FileTooLarge):
        await channel.fetch(Attachment(kind="photo", ref=url))


async def test_a_missing_attachment_is_an_error(zalo: FakeZalo, client: ZaloClient) -> None:
    with pytest.raises(ZaloError):
        await client.download(f"{zalo.root}/cdn/gone.jpg")
    with pytest.raises(ZaloError):
        await client.download("file:///etc/passwd")


@pytest.mark.parametrize(
    ("age", "status"),
    [
        (timedelta(minutes=30), 200),
        (timedelta(days=6 * 365), 401),  # a 2020 event replayed word for word
        (timedelta(hours=2), 401),
        (-timedelta(minutes=10), 401),  # from the future, past any clock skew
    ],
)
async def test_a_signed_event_must_be_recent(
    zalo: FakeZalo, client: ZaloClient, clock: Clock, age: timedelta, status: int
) -> None:
    recorder = Recorder()
    channel = channel_for(client, zalo, clock, recorder)
    got, _ = await channel.handle_webhook(*text_event("xin chào", "m-1", at=clock.now - age))
    assert got == status
    assert len(recorder.inbounds) == (1 if status == 200 else 0)
