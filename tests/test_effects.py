"""Filing and photo effects against the real database, file store and PDF renderers."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw

from bot.app import Knowledge, build_app
from bot.config import Settings
from dialogs.model import (
    Attachment,
    CheckAttachments,
    ConversationKey,
    Inbound,
    Reply,
    SubmitDossier,
)
from handlers.files import FileTooLarge
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.outbox import OutboxItem, OutboxRepository

KEY = ConversationKey(channel="terminal", chat_id="an", user_id="an")


def _submission(key: str = "draft-1") -> SubmitDossier:
    return SubmitDossier(
        submission_key=key,
        procedure_code="1.004873",
        commune_code="10642",
        fields={"requester_name": "Nguyễn Thị Hoa", "phone": "0912345678"},
        files=(),
        filer={"for_self": True, "relation": "", "phone": "0912345678"},
        result_delivery="counter",
    )


async def test_filing_answers_with_code_and_date_and_the_pdfs_follow(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    inbound = Inbound(key=KEY, message_id="m", received_at=datetime.now(UTC))
    pushed: list[tuple[ConversationKey, Sequence[Reply]]] = []
    reachable = False

    async def terminal(key: ConversationKey, replies: Sequence[Reply]) -> bool:
        if reachable:
            pushed.append((key, replies))
        return reachable

    async with build_app(settings, knowledge, deliver=False) as app:
        app.push.register("terminal", terminal)
        first = await app.effects(inbound, _submission())
        again = await app.effects(inbound, _submission())
        dossiers = await app.dossiers.list()
        assert await app.receipts.run_once() == 1  # the citizen's screen is closed
        assert pushed == []
        reachable = True
        assert await app.receipts.run_once() == 0  # retried later, not at once
        waiting = await _receipt_rows(settings.database.url)
    assert len(dossiers) == 1  # a double tap files one dossier
    code = dossiers[0].code
    receipt = first.replies[0]
    assert code in receipt.text and "Ngày hẹn trả kết quả" in receipt.text
    assert code.startswith("000.00.31.H26-")
    assert receipt.documents == ()  # drawn after the turn, not inside it
    assert code in again.replies[0].text and "đã được gửi" in again.replies[0].text
    assert [(w.attempts, w.done_at) for w in waiting] == [(1, None)]


async def test_the_receipt_courier_draws_both_pdfs_and_pushes_them_once(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    inbound = Inbound(key=KEY, message_id="m", received_at=datetime.now(UTC))
    pushed: list[tuple[ConversationKey, Sequence[Reply]]] = []

    async def terminal(key: ConversationKey, replies: Sequence[Reply]) -> bool:
        pushed.append((key, replies))
        return True

    async with build_app(settings, knowledge, deliver=False) as app:
        app.push.register("terminal", terminal)
        await app.effects(inbound, _submission())
        [dossier] = await app.dossiers.list()
        assert await app.receipts.run_once() == 1
        assert await app.receipts.run_once() == 0  # done: never sent twice
    [(key, [documents])] = pushed
    assert key == KEY
    names = [d.filename for d in documents.documents]
    assert names == [f"bien-nhan-{dossier.code}.pdf", f"to-khai-{dossier.code}.pdf"]
    assert all(d.data.startswith(b"%PDF-") for d in documents.documents)
    assert dossier.code in documents.text


async def _receipt_rows(url: str) -> list[OutboxItem]:
    engine = create_engine(url)
    try:
        return await OutboxRepository(session_factory(engine)).pending(
            topic="send_receipt:terminal"
        )
    finally:
        await engine.dispose()


def _page_photo() -> bytes:
    image = Image.new("RGB", (1200, 900), "white")
    draw = ImageDraw.Draw(image)
    for y in range(60, 860, 36):
        draw.rectangle((80, y, 1100, y + 12), fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


async def test_a_photo_is_checked_stored_privately_and_reported_back(
    settings: Settings, knowledge: Knowledge, tmp_path: Path
) -> None:
    await upgrade(settings.database.url)
    photo = tmp_path / "giay-chung-sinh.jpg"
    photo.write_bytes(_page_photo())
    tiny = tmp_path / "nho.jpg"
    Image.new("RGB", (100, 80), "white").save(tiny, "JPEG")
    inbound = Inbound(key=KEY, message_id="p1", received_at=datetime.now(UTC))
    effect = CheckAttachments(
        slot="birth_certificate",
        attachments=(
            Attachment(kind="photo", ref=str(photo)),
            Attachment(kind="photo", ref=str(tiny)),
        ),
    )
    async with build_app(settings, knowledge, deliver=False) as app:
        outcome = await app.effects(inbound, effect)
        assert outcome.followup is not None
        good, small = outcome.followup.attachments
        assert good.stored_key and good.sha256 and not good.problem
        assert small.problem == "too_small" and not small.stored_key
        stored = await app.store.get(good.stored_key)
        assert stored.startswith(b"\xff\xd8")  # a cleaned JPEG
        files = await app.files.for_conversation(KEY)
    assert [f.slot for f in files] == ["birth_certificate"]
    assert _private_files(Path(settings.files.path))


def _private_files(root: Path) -> bool:
    on_disk = [p for p in root.rglob("*") if p.is_file()]
    return bool(on_disk) and all(p.stat().st_mode & 0o777 == 0o600 for p in on_disk)


async def test_a_file_over_the_cap_is_reported_too_large_on_any_channel(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    key = ConversationKey(channel="kiosk-scanner", chat_id="k", user_id="k")

    async def refuse(attachment: Attachment) -> bytes:
        raise FileTooLarge("25 MiB scan")

    inbound = Inbound(key=key, message_id="big", received_at=datetime.now(UTC))
    effect = CheckAttachments(slot="id_card", attachments=(Attachment(kind="photo", ref="x"),))
    async with build_app(settings, knowledge, deliver=False) as app:
        app.fetchers["kiosk-scanner"] = refuse
        outcome = await app.effects(inbound, effect)
    assert outcome.followup is not None
    assert outcome.followup.attachments[0].problem == "too_large"


async def test_hoso_lists_the_citizens_own_dossiers_newest_first(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    neighbour = ConversationKey(channel="terminal", chat_id="binh", user_id="binh")

    def hoso(key: ConversationKey, n: int) -> Inbound:
        return Inbound(key=key, message_id=f"hoso-{n}", received_at=datetime.now(UTC), text="/hoso")

    async with build_app(settings, knowledge, deliver=False) as app:
        [empty] = (await app.service.handle(hoso(KEY, 1))).replies
        inbound = Inbound(key=KEY, message_id="m", received_at=datetime.now(UTC))
        await app.effects(inbound, _submission("draft-1"))
        await app.effects(inbound, _submission("draft-2"))
        [listed] = (await app.service.handle(hoso(KEY, 2))).replies
        [others] = (await app.service.handle(hoso(neighbour, 3))).replies
        first, second = sorted(await app.dossiers.list(), key=lambda d: d.code)
    assert "chưa nộp hồ sơ nào" in empty.text
    assert second.code in listed.text and first.code in listed.text
    assert listed.text.index(second.code) < listed.text.index(first.code)  # newest first
    assert "Mới đăng ký" in listed.text and "Ngày hẹn trả" in listed.text
    assert "Cấp Giấy xác nhận tình trạng hôn nhân" in listed.text
    assert first.code not in others.text  # nobody sees another citizen's dossiers
    labels = [b.text for b in listed.flat_buttons()]
    assert labels == ["Biên nhận hồ sơ 1", "Biên nhận hồ sơ 2", "Menu chính"]


async def test_a_receipt_is_sent_again_from_the_list_but_never_someone_elses(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    neighbour = ConversationKey(channel="terminal", chat_id="binh", user_id="binh")
    pushed: list[tuple[ConversationKey, Sequence[Reply]]] = []

    async def terminal(key: ConversationKey, replies: Sequence[Reply]) -> bool:
        pushed.append((key, replies))
        return True

    def turn(key: ConversationKey, n: int, text: str = "", payload: str | None = None) -> Inbound:
        now = datetime.now(UTC)
        return Inbound(key=key, message_id=f"t-{n}", received_at=now, text=text, payload=payload)

    async with build_app(settings, knowledge, deliver=False) as app:
        app.push.register("terminal", terminal)
        await app.effects(turn(KEY, 0), _submission())
        await app.receipts.run_once()  # the first copy, right after filing
        [listed] = (await app.service.handle(turn(KEY, 1, "/hoso"))).replies
        [again] = listed.flat_buttons()[:1]
        [coming] = (await app.service.handle(turn(KEY, 2, again.text, again.payload))).replies
        assert await app.receipts.run_once() == 1
        [refused] = (await app.service.handle(turn(neighbour, 3, "", again.payload))).replies
        assert await app.receipts.run_once() == 0
        [dossier] = await app.dossiers.list()
    assert again.text == "Biên nhận hồ sơ 1"
    assert dossier.code in coming.text
    assert [key for key, _ in pushed] == [KEY, KEY]  # two copies, both to the filer
    assert pushed[1][1][0].documents[0].filename == f"bien-nhan-{dossier.code}.pdf"
    assert "Không tìm thấy hồ sơ này" in refused.text  # a forged or foreign code
