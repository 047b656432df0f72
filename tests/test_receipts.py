"""The receipt courier: documents drawn after the turn, pushed when the citizen is reachable."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from backoffice.documents.vietqr import build_vietqr, qr_png
from bot.app import App, Knowledge, build_app
from bot.config import PaymentSettings, Settings
from bot.push import Push
from bot.receipts import ReceiptCourier, ReceiptMaker
from dialogs.model import ConversationKey, Inbound, Reply, SubmitDossier
from knowledge.catalogue import Catalogue
from storage.db import create_engine, session_factory
from storage.dossiers import Dossier
from storage.migrate import upgrade
from storage.outbox import OutboxItem, OutboxRepository
from tests.backoffice.pdf_helpers import pdf_text

TERMINAL = ConversationKey(channel="terminal", chat_id="an", user_id="an")
WEB = ConversationKey(channel="web", chat_id="tag-an", user_id="tag-an")
# A channel this test's app cannot reach (Zalo is not configured). The web chat always can:
# a page open on any worker of the deployment gets its receipt (storage/webchat.py).
ZALO = ConversationKey(channel="zalo", chat_id="u-an", user_id="u-an")
BIRTH_COPY = "2.000635"  # copy of a birth certificate: 8,000 đồng
MARRIAGE_STATUS = "1.004873"  # fee set by the province: no amount, no QR
BANK_BIN, ACCOUNT = "970415", "113366668888"
NAME, PHONE = "Nguyễn Thị Hoa", "0912345678"


def _submission(key: str, procedure: str = MARRIAGE_STATUS) -> SubmitDossier:
    fields: dict[str, Any] = {"requester_name": NAME, "phone": PHONE}
    if procedure == BIRTH_COPY:
        fields |= {"document": "Giấy khai sinh", "person_name": "Trần Văn Bình", "copies": 2}
    return SubmitDossier(
        submission_key=key,
        procedure_code=procedure,
        commune_code="10642",
        fields=fields,
        files=(),
        filer={"for_self": True, "relation": "", "phone": PHONE},
        result_delivery="counter",
    )


async def _file(
    app: App, key: ConversationKey, submission_key: str, procedure: str = MARRIAGE_STATUS
) -> Dossier:
    inbound = Inbound(key=key, message_id=f"m-{submission_key}", received_at=datetime.now(UTC))
    await app.effects(inbound, _submission(submission_key, procedure))
    dossier = await app.dossiers.by_submission_key(submission_key)
    assert dossier is not None
    return dossier


class Citizen:
    """One channel's sender: records what reached the citizen, or says the door is closed."""

    def __init__(self, reachable: bool = True) -> None:
        self.reachable = reachable
        self.tries = 0
        self.got: list[tuple[ConversationKey, Reply]] = []

    async def __call__(self, key: ConversationKey, replies: Sequence[Reply]) -> bool:
        self.tries += 1
        if self.reachable:
            self.got.extend((key, reply) for reply in replies)
        return self.reachable


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
async def app(settings: Settings, knowledge: Knowledge) -> AsyncIterator[App]:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as built:
        yield built


@pytest.fixture
async def queue(settings: Settings, app: App) -> AsyncIterator[OutboxRepository]:
    engine = create_engine(settings.database.url)
    try:
        yield OutboxRepository(session_factory(engine))
    finally:
        await engine.dispose()


def _courier(
    app: App,
    queue: OutboxRepository,
    push: Push,
    clock: Clock,
    *,
    max_attempts: int = 12,
    catalogue: Catalogue | None = None,
) -> ReceiptCourier:
    return ReceiptCourier(
        queue,
        app.dossiers,
        ReceiptMaker(app.settings, catalogue or app.knowledge.catalogue),
        push,
        clock,
        base_backoff=timedelta(seconds=10),
        max_attempts=max_attempts,
    )


async def _receipt_row(queue: OutboxRepository, channel: str) -> OutboxItem:
    [row] = await queue.pending(topic=f"send_receipt:{channel}")
    return row


# --------------------------------------------------------------------------- claiming


async def test_a_process_claims_only_the_receipts_of_channels_it_can_reach(
    app: App, queue: OutboxRepository
) -> None:
    terminal = Citizen()
    app.push.register("terminal", terminal)
    mine = await _file(app, TERMINAL, "s-terminal")
    zalo_dossier = await _file(app, ZALO, "s-zalo")
    zalo_row = await _receipt_row(queue, "zalo")

    assert await app.receipts.run_once() == 1
    assert [key for key, _ in terminal.got] == [TERMINAL]
    assert mine.code in terminal.got[0][1].text
    # Zalo's receipt was not even leased: a process that reaches Zalo delivers it at once.
    assert await _receipt_row(queue, "zalo") == zalo_row
    assert zalo_row.attempts == 0

    zalo = Citizen()
    app.push.register("zalo", zalo)
    assert await app.receipts.run_once() == 1
    assert [key for key, _ in zalo.got] == [ZALO]
    assert zalo_dossier.code in zalo.got[0][1].text
    assert await queue.pending() == []  # both receipts sent; nothing else was waiting


async def test_nothing_is_claimed_when_no_channel_is_open(
    app: App, queue: OutboxRepository
) -> None:
    await _file(app, ZALO, "s-zalo")
    assert await app.receipts.run_once() == 0
    assert (await _receipt_row(queue, "zalo")).attempts == 0


# --------------------------------------------------------------------------- retries


async def test_an_unreachable_citizen_gets_the_receipt_once_reachable_after_the_backoff(
    app: App, queue: OutboxRepository
) -> None:
    dossier = await _file(app, WEB, "s-web")
    push, page = Push(), Citizen(reachable=False)
    push.register("web", page)
    clock = Clock(datetime.now(UTC) + timedelta(minutes=1))
    courier = _courier(app, queue, push, clock)

    assert await courier.run_once() == 1
    row = await _receipt_row(queue, "web")
    assert row.attempts == 1 and row.last_error == "web unreachable for now"
    assert (
        clock.now + timedelta(seconds=7) <= row.next_attempt_at <= clock.now + timedelta(seconds=10)
    )

    page.reachable = True
    assert await courier.run_once() == 0  # not before its time
    clock.advance(timedelta(seconds=10))
    assert await courier.run_once() == 1
    assert await courier.run_once() == 0  # done: sent once
    assert page.tries == 2
    [(key, reply)] = page.got
    assert key == WEB and dossier.code in reply.text
    assert await queue.pending(topic="send_receipt:web") == []


async def test_the_wait_between_attempts_doubles(app: App, queue: OutboxRepository) -> None:
    await _file(app, WEB, "s-web")
    push = Push()
    push.register("web", Citizen(reachable=False))
    clock = Clock(datetime.now(UTC) + timedelta(minutes=1))
    courier = _courier(app, queue, push, clock)
    waits = []
    for _ in range(3):
        assert await courier.run_once() == 1
        row = await _receipt_row(queue, "web")
        waits.append(row.next_attempt_at - clock.now)
        clock.now = row.next_attempt_at
    # 10 s, 20 s, 40 s, each up to a fifth early so a failed queue spreads out.
    for wait, full in zip(waits, (10, 20, 40), strict=True):
        assert timedelta(seconds=full * 0.8) <= wait <= timedelta(seconds=full)


async def test_after_max_attempts_the_receipt_is_parked_for_a_person(
    app: App, queue: OutboxRepository, caplog: pytest.LogCaptureFixture
) -> None:
    dossier = await _file(app, WEB, "s-web")
    push, page = Push(), Citizen(reachable=False)
    push.register("web", page)
    clock = Clock(datetime.now(UTC) + timedelta(minutes=1))
    courier = _courier(app, queue, push, clock, max_attempts=3)
    with caplog.at_level(logging.ERROR):
        for attempt in range(1, 4):
            assert await courier.run_once() == 1
            row = await _receipt_row(queue, "web")
            if attempt < 3:
                assert row.last_error == "web unreachable for now"
                clock.now = row.next_attempt_at
    parked = await _receipt_row(queue, "web")
    assert parked.attempts == 3 and parked.last_error == "web unreachable"
    assert parked.next_attempt_at - clock.now == timedelta(days=30)
    assert parked.done_at is None  # kept, never dropped
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert dossier.code in record.getMessage() and "parked" in record.getMessage()
    assert NAME not in caplog.text and PHONE not in caplog.text

    page.reachable = True
    clock.advance(timedelta(days=1))
    assert await courier.run_once() == 0
    assert page.tries == 3 and page.got == []


async def test_a_receipt_for_a_procedure_no_longer_offered_is_parked_without_pushing(
    app: App, queue: OutboxRepository
) -> None:
    await _file(app, TERMINAL, "s-gone", procedure=BIRTH_COPY)
    push, terminal = Push(), Citizen()
    push.register("terminal", terminal)
    smaller = Catalogue(p for p in app.knowledge.catalogue if p.code != BIRTH_COPY)
    clock = Clock(datetime.now(UTC) + timedelta(minutes=1))
    courier = _courier(app, queue, push, clock, catalogue=smaller)
    assert await courier.run_once() == 1
    row = await _receipt_row(queue, "terminal")
    assert terminal.tries == 0
    assert row.last_error == f"procedure {BIRTH_COPY} not in the catalogue"
    assert row.next_attempt_at - clock.now >= timedelta(days=29)


# --------------------------------------------------------------------------- the documents


async def _documents_for(app: App, procedure: str) -> tuple[Dossier, Reply]:
    terminal = Citizen()
    app.push.register("terminal", terminal)
    dossier = await _file(app, TERMINAL, f"s-{procedure}", procedure)
    assert await app.receipts.run_once() == 1
    [(_, reply)] = terminal.got
    return dossier, reply


async def test_the_receipt_pdf_names_the_dossier_code_and_the_citizen(app: App) -> None:
    dossier, reply = await _documents_for(app, MARRIAGE_STATUS)
    receipt = reply.documents[0]
    assert receipt.filename == f"bien-nhan-{dossier.code}.pdf"
    text = pdf_text(receipt.data)
    assert dossier.code in text
    assert NAME in text and PHONE in text
    assert "Cấp Giấy xác nhận tình trạng hôn nhân" in text
    assert reply.images == ()  # no amount to pay by transfer


@pytest.fixture
def paying_settings(settings: Settings) -> Settings:
    payment = PaymentSettings(bank_bin=BANK_BIN, account_number=ACCOUNT, account_name="UBND XA")
    return settings.model_copy(update={"payment": payment})


async def test_a_fee_with_a_commune_account_comes_with_a_vietqr_image(
    paying_settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(paying_settings.database.url)
    async with build_app(paying_settings, knowledge, deliver=False) as app:
        dossier, reply = await _documents_for(app, BIRTH_COPY)
    [image] = reply.images
    assert (image.filename, image.mime_type) == ("ma-qr-le-phi.png", "image/png")
    assert Image.open(io.BytesIO(image.data)).format == "PNG"
    # Two copies at 8.000 đồng: the QR asks for 16.000 đồng, as the slip says.
    payload = build_vietqr(BANK_BIN, ACCOUNT, 16000, f"LE PHI {dossier.code[-11:]}")
    assert ACCOUNT in payload and "540516000" in payload  # the account and the 16,000 đồng
    assert image.data == qr_png(payload)
    text = pdf_text(reply.documents[0].data)
    assert dossier.code in text
    assert "7. Phí, lệ phí: 16.000 đồng (2 bản sao × 8.000 đồng)" in text
    assert "Quét mã QR chuyển khoản ở bên phải dòng này" in text


async def test_a_fee_without_a_commune_account_is_paid_at_the_counter(app: App) -> None:
    dossier, reply = await _documents_for(app, BIRTH_COPY)
    assert reply.images == ()
    text = pdf_text(reply.documents[0].data)
    assert dossier.code in text and "16.000 đồng" in text
    assert "tại bộ phận một cửa" in text


BIRTH = "1.001193"
RESIDENCE = {
    "hamlet": "xóm Bắc",
    "commune_code": "10642",
    "commune_name": "Xã Thái Tân",
    "province_code": "31",
    "province_name": "Thành phố Hải Phòng",
}


async def test_the_birth_declaration_prints_answers_as_an_officer_writes_them(app: App) -> None:
    """Answers as the dialog stores them (dates ISO, addresses as mappings) were printed raw:
    "1992-07-20", "{'hamlet': 'xóm Bắc', ...}", and the birth date never in words."""
    fields = {
        "requester_name": "Trần Thị Lan",
        "requester_birth_date": "1992-07-20",
        "requester_id_number": "031192001234",
        "requester_residence": RESIDENCE,
        "requester_relation": "Mẹ",
        "child_name": "Trần Minh Khôi",
        "child_birth_date": "2026-11-20",
        "child_sex": "Nam",
        "mother_name": "Trần Thị Lan",
        "mother_birth_date": "1992-07-20",
        "mother_residence": RESIDENCE,
        "copies": 1,
        "phone": PHONE,
    }
    terminal = Citizen()
    app.push.register("terminal", terminal)
    inbound = Inbound(key=TERMINAL, message_id="m-birth", received_at=datetime.now(UTC))
    await app.effects(
        inbound,
        SubmitDossier(
            submission_key="s-birth",
            procedure_code=BIRTH,
            commune_code="10642",
            fields=fields,
            files=(),
            filer={"for_self": True, "relation": "Mẹ", "phone": PHONE},
            result_delivery="counter",
        ),
    )
    assert await app.receipts.run_once() == 1
    [(_, reply)] = terminal.got
    [declaration] = [d for d in reply.documents if d.filename.startswith("to-khai-")]
    text = " ".join(pdf_text(declaration.data).split())
    assert "Ngày, tháng, năm sinh: 20/11/2026" in text
    assert "Ngày hai mươi, tháng mười một, năm hai nghìn không trăm hai mươi sáu" in text
    assert "20/07/1992" in text
    assert "Quan hệ với người được khai sinh: Mẹ" in text  # was always blank
    assert "Nơi cư trú: (2) xóm Bắc, xã Thái Tân, thành phố Hải Phòng" in text
    for raw in ("{", "'", "2026-11-20", "1992-07-20", "None", "commune_code"):
        assert raw not in text, raw


class _SentSlots:
    """The dossier's stored photos, by slot, as the file repository lists them."""

    def __init__(self, *slots: str) -> None:
        self.rows = [type("Row", (), {"slot": slot})() for slot in slots]

    async def for_dossier(self, dossier_id: int) -> list[Any]:
        return self.rows


async def test_the_receipt_lists_only_the_papers_actually_sent(app: App) -> None:
    """The marriage certificate's photo was removed and nobody filed for the parents: the
    receipt names the declaration and the birth certificate, not every paper of the
    procedure."""
    dossier = await _file(app, TERMINAL, "s-papers", BIRTH)
    maker = ReceiptMaker(
        app.settings, app.knowledge.catalogue, files=_SentSlots("birth_certificate")
    )
    reply = await maker.documents(dossier)
    assert reply is not None
    text = " ".join(pdf_text(reply.documents[0].data).split())
    assert "Tờ khai đăng ký khai sinh" in text
    assert "Giấy chứng sinh" in text
    assert "Giấy chứng nhận kết hôn" not in text
    assert "Văn bản ủy quyền" not in text
    assert "mang thai hộ" not in text  # a paper of another case

    everything = await ReceiptMaker(app.settings, app.knowledge.catalogue).documents(dossier)
    assert everything is not None
    assert "mang thai hộ" in " ".join(pdf_text(everything.documents[0].data).split())
