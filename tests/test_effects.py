"""Filing and photo effects against the real database, file store and PDF renderers."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw

from bot.app import Knowledge, build_app
from bot.config import Settings
from dialogs.model import Attachment, CheckAttachments, ConversationKey, Inbound, SubmitDossier
from handlers.files import FileTooLarge
from storage.migrate import upgrade

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


async def test_filing_returns_a_receipt_with_code_date_and_pdfs(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    inbound = Inbound(key=KEY, message_id="m", received_at=datetime.now(UTC))
    async with build_app(settings, knowledge, deliver=False) as app:
        first = await app.effects(inbound, _submission())
        again = await app.effects(inbound, _submission())
        dossiers = await app.dossiers.list()
    assert len(dossiers) == 1  # a double tap files one dossier
    code = dossiers[0].code
    receipt = first.replies[0]
    assert code in receipt.text and "Ngày hẹn trả kết quả" in receipt.text
    assert code.startswith("000.00.31.H26-")
    names = [d.filename for d in receipt.documents]
    assert names == [f"bien-nhan-{code}.pdf", f"to-khai-{code}.pdf"]
    assert all(d.data.startswith(b"%PDF-") for d in receipt.documents)
    assert code in again.replies[0].text and "đã được gửi" in again.replies[0].text


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
