"""Volunteers (issue 10) through the whole app: "/tinhnguyen" asks and waits for an officer;
the decision reaches the chat through the outbox; an approved volunteer files a birth
registration for a villager with their consent (typed, or a photo), audited with the ID number
masked; the receipt goes to the volunteer, and to the villager once the volunteer hands the
dossier over with a one-time code (wrong, expired, reused codes refused, wrong codes counted in
the database)."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from backoffice.domain import Accept, Role
from bot.app import App, Knowledge, build_app
from bot.config import Settings
from bot.volunteers import HANDOVER_REFUSALS, code_hash
from dialogs import volunteer as flow
from dialogs.model import CONSENT_SLOT, Attachment, ConversationKey, Inbound, Reply
from dialogs.texts import filing as ftexts
from dialogs.texts import tracking
from dialogs.texts import volunteer as texts
from dialogs.texts.validation import ID_WRONG_LENGTH, PHONE_MOBILE_LENGTH
from storage.migrate import upgrade
from storage.outbox import OutboxRepository
from tests.dialogs.test_filing import BIRTH_ANSWERS

VOLUNTEER = ConversationKey(channel="terminal", chat_id="vol-1", user_id="vol-1")
VILLAGER = ConversationKey(channel="telegram", chat_id="5551", user_id="5551")
STRANGER = ConversationKey(channel="zalo", chat_id="9009", user_id="9009")
VILLAGER_ID = "031198001234"
BIRTH = "1.001193"
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _typing_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    # A whole form in a second is past the 20-messages-in-10-seconds flood limit.
    monkeypatch.setenv("MOTCUA_FLOOD__MESSAGES", "1000")


def page_photo(path: Path, stripes: int = 12) -> str:
    """A sharp, bright page the photo checks accept; ``stripes`` makes each one different."""
    image = Image.new("RGB", (1200, 900), "white")
    draw = ImageDraw.Draw(image)
    for y in range(60, 860, 36):
        draw.rectangle((80, y, 1100, y + stripes), fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    path.write_bytes(out.getvalue())
    return str(path)


@dataclass
class Chat:
    app: App
    key: ConversationKey
    replies: tuple[Reply, ...] = ()
    log: list[str] = field(default_factory=list)

    async def send(
        self, text: str = "", payload: str | None = None, photos: Sequence[str] = ()
    ) -> str:
        inbound = Inbound(
            key=self.key,
            message_id=f"m{next(_ids)}",
            received_at=datetime.now(UTC),
            text=text,
            payload=payload,
            attachments=tuple(Attachment(kind="photo", ref=p) for p in photos),
        )
        self.replies = tuple(await self.app.service.replies(inbound))
        self.log.append(f"> {text or payload or photos}\n{self.text}")
        return self.text

    async def press(self, label: str) -> str:
        found = [b.payload for r in self.replies for b in r.flat_buttons() if b.text == label]
        assert found, f"no button {label!r} in {self.text!r}"
        return await self.send(payload=found[0])

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)


async def apply_and_approve(app: App, chat: Chat) -> int:
    await chat.send("/tinhnguyen")
    await chat.send("Nguyễn Văn Tú")
    await chat.send("0987 654 321")
    await chat.send("Chi đoàn thôn Đông")
    volunteer = await app.volunteers.of(chat.key)
    assert volunteer is not None
    decided = await app.volunteers.decide(
        volunteer.id, True, actor="console:lan", commune_codes=None, now=datetime.now(UTC)
    )
    assert decided is not None
    return volunteer.id


async def villager_consents(chat: Chat, consent: str = "đồng ý", photo: str = "") -> None:
    await chat.send(payload=flow.FILE_FOR)
    await chat.send("trần thị hoa")
    await chat.send(VILLAGER_ID)
    await chat.send("0912 345 678")
    if photo:
        await chat.press(texts.BTN_CONSENT_PHOTO)
        await chat.send(photos=(photo,))
    else:
        await chat.send(consent)


async def fill_birth_form(chat: Chat, tmp_path: Path) -> str:
    """Answer what the form still asks (the villager's name, ID and phone are filled in),
    photograph the birth certificate, send; the dossier code."""
    procedure = chat.app.knowledge.catalogue.get(BIRTH)
    assert procedure is not None and procedure.form is not None
    by_label = {f.label: f.name for f in procedure.form.fields}
    # A run of questions asked on one line is headed by its line label: answered one by one.
    by_label |= {f.line_label: f.name for f in procedure.form.fields if f.line_label}
    # The filer's questions are put to the villager ("Bà con sinh ngày nào ạ?").
    by_label |= {ftexts.for_villager(label): name for label, name in by_label.items()}
    asked: list[str] = []
    for _ in range(60):
        found = re.findall(r"Câu \d+/\d+: (.*)", chat.replies[-1].text)
        if found:
            name = by_label[found[-1]]
            asked.append(name)
            reply = BIRTH_ANSWERS[name]
            if isinstance(reply, tuple):
                await chat.press(reply[1])
            else:
                await chat.send(reply)
            continue
        labels = [b.text for r in chat.replies for b in r.flat_buttons()]
        if ftexts.BTN_SEND in labels:
            break
        if ftexts.BTN_COUNTER in labels:
            await chat.press(ftexts.BTN_COUNTER)
        elif "Giấy chứng sinh" in chat.text and ftexts.BTN_SKIP not in labels:
            await chat.send(photos=(page_photo(tmp_path / "chung-sinh.jpg", 14),))
        else:
            await chat.press(ftexts.BTN_SKIP)
    assert {"requester_name", "requester_id_number", "phone"}.isdisjoint(asked)
    await chat.press(ftexts.BTN_SEND)
    codes = re.findall(r"hồ sơ (\S+) cho Trần Thị Hoa", chat.text)
    assert codes, chat.text
    return codes[0]


async def prepared_notices(app: App, channel: str) -> list[tuple[ConversationKey, str]]:
    """What the notifier would send on ``channel`` now (the rows are claimed)."""
    from bot.notices import NoticeMaker

    maker = NoticeMaker(app.dossiers, app.knowledge.catalogue, app.service, app.settings.payment)
    outbox = OutboxRepository(app.conversations._sessions)
    rows = await outbox.claim_due(
        datetime.now(UTC) + timedelta(seconds=1),
        50,
        timedelta(minutes=1),
        topic=f"notify:{channel}",
    )
    out = []
    for row in rows:
        prepared = await maker.prepare(row)
        assert prepared is not None
        out.append((prepared.key, "\n".join(r.text for r in prepared.replies)))
    return out


async def receipt_rows(app: App, channel: str) -> list[dict[str, Any]]:
    outbox = OutboxRepository(app.conversations._sessions)
    return [i.payload for i in await outbox.pending(topic=f"send_receipt:{channel}")]


# --- asking to volunteer ---------------------------------------------------------------------


async def test_tinhnguyen_asks_name_phone_branch_and_waits_for_an_officer(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        chat = Chat(app, VOLUNTEER)
        assert texts.ASK_NAME in await chat.send("/tinhnguyen")
        assert "số" in (await chat.send("Tú 123")).lower()  # the name validator's message
        assert texts.ASK_PHONE in await chat.send("nguyễn văn tú")
        assert PHONE_MOBILE_LENGTH.format(count=6) in await chat.send("098765")
        assert texts.ASK_BRANCH in await chat.send("0987 654 321")
        assert texts.PENDING in await chat.send("Chi đoàn thôn Đông")

        volunteer = await app.volunteers.of(VOLUNTEER)
        assert volunteer is not None
        assert (volunteer.name, volunteer.phone, volunteer.branch, volunteer.status) == (
            "Nguyễn Văn Tú",
            "0987654321",
            "Chi đoàn thôn Đông",
            "pending",
        )
        assert volunteer.commune_code == settings.deployment.default_commune
        # Not yet approved: asking again, or trying to file for someone, says it waits.
        assert texts.STILL_PENDING in await chat.send("/tinhnguyen")
        assert texts.STILL_PENDING in await chat.send(payload=flow.FILE_FOR)
        assert texts.NOT_APPROVED in await chat.send(payload=flow.LIST)
        trail = await app.audit.for_target(f"volunteer:{volunteer.id}")
        assert [e.action for e in trail] == ["volunteer_applied"]
        assert "0987654321" not in str(trail[0].details)


async def test_the_decision_reaches_the_volunteers_chat_through_the_outbox(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        chat = Chat(app, VOLUNTEER)
        for text in ("/tinhnguyen", "Nguyễn Văn Tú", "0987654321", "Chi đoàn thôn Đông"):
            await chat.send(text)
        volunteer = await app.volunteers.of(VOLUNTEER)
        assert volunteer is not None
        other_commune = await app.volunteers.decide(
            volunteer.id, True, actor="console:x", commune_codes=("99999",), now=datetime.now(UTC)
        )
        assert other_commune is None
        decided = await app.volunteers.decide(
            volunteer.id, True, actor="console:lan", commune_codes=None, now=datetime.now(UTC)
        )
        assert decided is not None and decided.status == "approved"
        again = await app.volunteers.decide(
            volunteer.id, False, actor="console:lan", commune_codes=None, now=datetime.now(UTC)
        )
        assert again is None  # decided once: the second officer changes nothing

        told = await prepared_notices(app, "terminal")
        assert told == [(VOLUNTEER, texts.APPROVED_NOTICE)]
        assert texts.APPROVED_MENU in await chat.send("/tinhnguyen")
        actions = [e.action for e in await app.audit.for_target(f"volunteer:{volunteer.id}")]
        assert actions == ["volunteer_applied", "volunteer_approved"]


# --- filing for a villager -------------------------------------------------------------------


async def test_a_volunteer_files_a_birth_registration_with_the_villagers_typed_consent(
    settings: Settings, knowledge: Knowledge, tmp_path: Path
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        chat = Chat(app, VOLUNTEER)
        volunteer_id = await apply_and_approve(app, chat)
        await chat.send(payload=flow.FILE_FOR)
        assert texts.ASK_VILLAGER_NAME in chat.text
        await chat.send("trần thị hoa")
        # Ten digits: the form's own ID validator answers, and the question stays.
        assert ID_WRONG_LENGTH.format(count=10) in await chat.send("0311980012")
        assert texts.ASK_VILLAGER_PHONE in await chat.send(VILLAGER_ID)
        assert texts.ASK_CONSENT in await chat.send("0912 345 678")
        assert texts.CONSENT_UNCLEAR in await chat.send("để tôi nghĩ")
        before = datetime.now(UTC)
        shown = await chat.send("Đồng ý")
        assert "Đã ghi nhận Trần Thị Hoa đồng ý (bà con gõ đồng ý, lúc" in shown
        assert texts.ASK_PROCEDURE in shown

        trail = await app.audit.for_target(f"volunteer:{volunteer_id}")
        consent = [e for e in trail if e.action == "consent_recorded"]
        assert len(consent) == 1
        assert consent[0].details["kind"] == "typed"
        assert consent[0].details["id_number"] == "0311******34"
        assert VILLAGER_ID not in str([e.details for e in trail])
        assert datetime.fromisoformat(consent[0].details["at"]) >= before

        await chat.send("khai sinh")
        assert texts.prefilled("Trần Thị Hoa", texts.PREFILLED_KINDS) in chat.text
        code = await fill_birth_form(chat, tmp_path)

        dossier = await app.dossiers.by_code(code)
        assert dossier is not None
        assert dossier.volunteer_id == volunteer_id
        assert dossier.filer_key == VOLUNTEER
        assert dossier.on_behalf_of is not None
        assert dossier.on_behalf_of["name"] == "Trần Thị Hoa"
        assert dossier.on_behalf_of["id_number"] == VILLAGER_ID
        assert dossier.on_behalf_of["phone"] == "0912345678"
        assert dossier.on_behalf_of["consent"]["kind"] == "typed"
        assert dossier.on_behalf_of["consent"]["text"] == "Đồng ý"
        assert datetime.fromisoformat(dossier.on_behalf_of["consent"]["at"]) >= before
        assert dossier.fields["requester_name"] == "Trần Thị Hoa"
        assert dossier.fields["requester_id_number"] == VILLAGER_ID
        assert dossier.filer["name"] == "Nguyễn Văn Tú"
        filed = await app.audit.for_target(f"dossier:{code}")
        assert [e.action for e in filed] == ["received", "filed_for_villager"]
        assert filed[1].details["id_number"] == "0311******34"
        # The receipt goes to the volunteer's chat, the only one the dossier has so far.
        assert [r["code"] for r in await receipt_rows(app, "terminal")] == [code]
        assert await receipt_rows(app, "telegram") == []

        # The volunteer's list shows it, with a button to hand it over.
        listed = await chat.press(texts.BTN_MY_FILINGS)
        assert code in listed and "Trần Thị Hoa" in listed
        assert texts.btn_hand_over(1) in [b.text for r in chat.replies for b in r.flat_buttons()]


async def test_a_photo_of_the_signed_consent_becomes_a_slot_of_the_dossier(
    settings: Settings, knowledge: Knowledge, tmp_path: Path
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        chat = Chat(app, VOLUNTEER)
        await apply_and_approve(app, chat)
        await chat.send(payload=flow.FILE_FOR)
        for text in ("trần thị hoa", VILLAGER_ID, "0912345678"):
            await chat.send(text)
        await chat.press(texts.BTN_CONSENT_PHOTO)
        tiny = tmp_path / "nho.jpg"
        Image.new("RGB", (90, 60), "white").save(tiny, "JPEG")
        assert texts.CONSENT_PHOTO_BAD in await chat.send(photos=(str(tiny),))
        shown = await chat.send(photos=(page_photo(tmp_path / "dong-y.jpg", 10),))
        assert "(ảnh giấy đồng ý, lúc" in shown
        await chat.send("khai sinh")
        code = await fill_birth_form(chat, tmp_path)
        dossier = await app.dossiers.by_code(code)
        assert dossier is not None and dossier.on_behalf_of is not None
        assert dossier.on_behalf_of["consent"]["kind"] == "photo"
        slots = sorted(f.slot for f in await app.files.for_dossier(dossier.id))
        assert slots == ["birth_certificate", CONSENT_SLOT]
        consent = next(f for f in await app.files.for_dossier(dossier.id) if f.slot == "dong_y")
        assert consent.sha256 == dossier.on_behalf_of["consent"]["photo_sha256"]


async def test_a_refused_consent_or_a_volunteer_disabled_meanwhile_files_nothing(
    settings: Settings, knowledge: Knowledge, tmp_path: Path
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        chat = Chat(app, VOLUNTEER)
        await apply_and_approve(app, chat)
        await chat.send(payload=flow.FILE_FOR)
        for text in ("trần thị hoa", VILLAGER_ID, "0912345678"):
            await chat.send(text)
        assert texts.CONSENT_REFUSED in await chat.send("không")
        # A later filing of the volunteer's own is not in the villager's name.
        await chat.send(payload=f"file:{BIRTH}")
        assert (
            "Câu 1/" in chat.text
            and texts.prefilled("Trần Thị Hoa", texts.PREFILLED_KINDS) not in chat.text
        )

        # A photographed consent, then «Thôi»: the photo is forgotten, bytes and all.
        await chat.send(payload=flow.FILE_FOR)
        for text in ("trần thị hoa", VILLAGER_ID, "0912345678"):
            await chat.send(text)
        await chat.press(texts.BTN_CONSENT_PHOTO)
        await chat.send(photos=(page_photo(tmp_path / "dong-y.jpg", 10),))
        (stored,) = await app.files.for_conversation(VOLUNTEER)
        assert stored.slot == CONSENT_SLOT and await app.store.exists(stored.storage_key)
        assert texts.STOPPED in await chat.press(texts.BTN_STOP)
        assert await app.files.for_conversation(VOLUNTEER) == []
        assert not await app.store.exists(stored.storage_key)

        # Disabled after the consent was given: the filing is refused, nothing is filed.
        await villager_consents(chat)
        await chat.send("khai sinh")
        volunteer = await app.volunteers.of(VOLUNTEER)
        assert volunteer is not None
        elsewhere = await app.volunteers.disable(
            volunteer.id, actor="console:x", commune_codes=("99999",), now=datetime.now(UTC)
        )
        assert elsewhere is None  # another commune's officer cannot
        disabled = await app.volunteers.disable(
            volunteer.id,
            actor="console:lan",
            commune_codes=(settings.deployment.default_commune,),
            now=datetime.now(UTC),
        )
        assert disabled is not None and disabled.status == "disabled"
        with pytest.raises(AssertionError):
            await fill_birth_form(chat, tmp_path)
        assert texts.NOT_APPROVED in chat.text
        assert await app.volunteers.filed_by(volunteer.id) == []
        assert texts.DISABLED in await chat.send("/tinhnguyen")
        assert texts.DISABLED in await chat.send(payload=flow.FILE_FOR)
        # Told in the chat, through the outbox (after the approval's message).
        told = await prepared_notices(app, "terminal")
        assert told[-1] == (VOLUNTEER, texts.DISABLED_NOTICE)
        actions = [e.action for e in await app.audit.for_target(f"volunteer:{volunteer.id}")]
        assert actions[-1] == "volunteer_disabled"


async def test_a_revoked_or_rejected_volunteer_asks_again_and_is_approved_again(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    commune = (settings.deployment.default_commune,)
    async with build_app(settings, knowledge, deliver=False) as app:
        chat = Chat(app, VOLUNTEER)
        volunteer_id = await apply_and_approve(app, chat)
        revoked = await app.volunteers.disable(
            volunteer_id, actor="console:lan", commune_codes=commune, now=datetime.now(UTC)
        )
        assert revoked is not None
        assert [m for _, m in await prepared_notices(app, "terminal")] == [
            texts.APPROVED_NOTICE,
            texts.DISABLED_NOTICE,
        ]

        # Told where they stand, with a way back; «Khai giúp bà con» says the same.
        shown = await chat.send("/tinhnguyen")
        assert texts.DISABLED in shown and "thu hồi" in shown
        assert texts.DISABLED in await chat.send(payload=flow.FILE_FOR)
        assert texts.ASK_NAME in await chat.press(texts.BTN_AGAIN)
        await chat.send("Nguyễn Văn Tú")
        await chat.send("0911 111 111")
        assert texts.PENDING in await chat.send("Chi đoàn thôn Tây")
        assert texts.STILL_PENDING in await chat.send("/tinhnguyen")
        (waiting,) = await app.volunteers.pending(commune)
        assert (waiting.id, waiting.phone, waiting.earlier) == (
            volunteer_id,
            "0911111111",
            "disabled",
        )

        # Approved again: told again, and may file for a villager again.
        approved = await app.volunteers.decide(
            volunteer_id, True, actor="console:minh", commune_codes=commune, now=datetime.now(UTC)
        )
        assert approved is not None and approved.approved
        assert [m for _, m in await prepared_notices(app, "terminal")] == [texts.APPROVED_NOTICE]
        assert texts.APPROVED_MENU in await chat.send("/tinhnguyen")
        assert texts.ASK_VILLAGER_NAME in await chat.send(payload=flow.FILE_FOR)
        await chat.press(texts.BTN_STOP)
        trail = [
            (e.actor, e.action, e.details.get("was"))
            for e in await app.audit.for_target(f"volunteer:{volunteer_id}")
        ]
        assert trail[2:] == [
            ("console:lan", "volunteer_disabled", None),
            (VOLUNTEER.as_str(), "volunteer_applied", "disabled"),
            ("console:minh", "volunteer_approved", None),
        ]

        # A rejected request: asked again at once, rejected again, and told each time.
        other = Chat(app, STRANGER)
        await other.send("/tinhnguyen")
        for text in ("Lê Thị Mai", "0987 111 222", "Chi đoàn thôn Bắc"):
            await other.send(text)
        mai = await app.volunteers.of(STRANGER)
        assert mai is not None
        for round_ in range(2):
            rejected = await app.volunteers.decide(
                mai.id, False, actor="console:lan", commune_codes=commune, now=datetime.now(UTC)
            )
            assert rejected is not None
            assert [m for _, m in await prepared_notices(app, "zalo")] == [texts.REJECTED_NOTICE]
            shown = await other.send("/tinhnguyen")
            assert texts.REJECTED_BEFORE in shown and texts.ASK_NAME in shown
            for text in ("Lê Thị Mai", "0987 111 222", "Chi đoàn thôn Bắc"):
                await other.send(text)
            assert texts.PENDING in other.text, round_
        (waiting,) = await app.volunteers.pending(commune)
        assert (waiting.id, waiting.earlier) == (mai.id, "rejected")


# --- handing over ----------------------------------------------------------------------------


async def test_a_handover_code_moves_the_notices_and_the_receipt_to_the_villager_once(
    settings: Settings, knowledge: Knowledge, tmp_path: Path
) -> None:
    await upgrade(settings.database.url)
    codes = iter(["K7M3PX", "ACDEF9", "HJKMN7"])
    async with build_app(settings, knowledge, deliver=False) as app:
        app.effects._volunteers._new_code = lambda: next(codes)  # type: ignore[union-attr]
        chat = Chat(app, VOLUNTEER)
        await apply_and_approve(app, chat)
        await prepared_notices(app, "terminal")  # the approval
        await villager_consents(chat)
        await chat.send("khai sinh")
        code = await fill_birth_form(chat, tmp_path)

        await chat.press(texts.BTN_MY_FILINGS)
        shown = await chat.press(texts.btn_hand_over(1))
        assert texts.handover_code("K7M3PX", code, 30) in shown

        villager = Chat(app, VILLAGER)
        stranger = Chat(app, STRANGER)
        # A wrong code, typed in the villager's own chat: refused and counted.
        assert texts.HANDOVER_UNKNOWN in await villager.send("NHAN ACDEFH")
        # The volunteer's own chat cannot take it (and terminal is not a villager's messenger).
        assert texts.HANDOVER_WRONG_CHANNEL in await chat.send("NHAN K7M3PX")
        assert texts.handed_over(code, "Đăng ký khai sinh") in await villager.send("nhận k7m3px")
        assert texts.HANDOVER_USED in await stranger.send("NHAN K7M3PX")

        dossier = await app.dossiers.by_code(code)
        assert dossier is not None and dossier.villager_key == VILLAGER
        # The receipt to the villager, the volunteer told: both durable outbox rows.
        to_villager = await receipt_rows(app, "telegram")
        assert [r["code"] for r in to_villager] == [code]
        assert to_villager[0]["to"] == {"channel": "telegram", "chat_id": "5551", "user_id": "5551"}
        assert await prepared_notices(app, "terminal") == [
            (VOLUNTEER, texts.handed_over_notice(code))
        ]
        # The office's next move is told to both chats.
        await app.office.move(code, Accept(), actor="officer:lan", role=Role.OFFICER)
        heard = await prepared_notices(app, "telegram")
        assert [key for key, _ in heard] == [VILLAGER]
        assert code in heard[0][1]
        assert [key for key, _ in await prepared_notices(app, "terminal")] == [VOLUNTEER]

        actions = [e.action for e in await app.audit.for_target(f"dossier:{code}")]
        assert actions[:4] == ["received", "filed_for_villager", "handover_code", "handed_over"]
        listed = await chat.send("/khaigiup")
        assert "đã trao cho bà con" in listed

        # The receipt courier delivers the receipt to both hands: the volunteer's, the villager's.
        got: list[tuple[ConversationKey, Reply]] = []

        async def sender(key: ConversationKey, replies: Sequence[Reply]) -> bool:
            got.extend((key, r) for r in replies)
            return True

        app.push.register("terminal", sender)
        app.push.register("telegram", sender)
        await app.receipts.run_once()
        assert sorted(k.channel for k, _ in got) == ["telegram", "terminal"]
        for _, reply in got:
            assert code in reply.text
            assert f"bien-nhan-{code}.pdf" in [d.filename for d in reply.documents]

        # The villager's own "/hoso" lists the dossier handed over, and its receipt can be
        # asked for again there (it goes to the villager's chat, not the volunteer's).
        listed = await villager.send("/hoso")
        assert code in listed and "Đăng ký khai sinh" in listed
        assert tracking.receipt_coming(code) in await villager.press(tracking.btn_receipt(1))
        again = await receipt_rows(app, "telegram")
        assert [r["to"] for r in again] == [
            {"channel": "telegram", "chat_id": "5551", "user_id": "5551"}
        ]
        # A stranger's "/hoso" does not list it.
        assert code not in await stranger.send("/hoso")


async def test_expired_codes_and_too_many_wrong_ones_are_refused(
    settings: Settings, knowledge: Knowledge, tmp_path: Path
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        chat = Chat(app, VOLUNTEER)
        await apply_and_approve(app, chat)
        await villager_consents(chat)
        await chat.send("khai sinh")
        code = await fill_birth_form(chat, tmp_path)
        dossier = await app.dossiers.by_code(code)
        volunteer = await app.volunteers.of(VOLUNTEER)
        assert dossier is not None and volunteer is not None
        long_ago = datetime.now(UTC) - timedelta(hours=2)
        await app.volunteers.issue_code(
            dossier, volunteer, code_hash("TTTTTT"), long_ago, long_ago + timedelta(minutes=30)
        )
        villager = Chat(app, VILLAGER)
        assert texts.HANDOVER_UNKNOWN in await villager.send("NHAN TTTTTT")
        stranger = Chat(app, STRANGER)
        await app.volunteers.issue_code(
            dossier,
            volunteer,
            code_hash("RRRRRR"),
            datetime.now(UTC),
            datetime.now(UTC) + timedelta(minutes=30),
        )
        for _ in range(HANDOVER_REFUSALS):
            assert texts.HANDOVER_UNKNOWN in await stranger.send("NHAN WWWWWW")
        # Stopped for the day, even with the right code; the villager's own chat is not.
        assert "sai mã nhiều lần" in await stranger.send("NHAN RRRRRR")
        assert texts.handed_over(code, "Đăng ký khai sinh") in await villager.send("NHAN RRRRRR")
        # Only the volunteer who filed it can hand it over.
        other = Chat(app, ConversationKey("terminal", "vol-2", "vol-2"))
        await apply_and_approve(app, other)
        assert texts.NOT_YOUR_FILING in await other.send(payload=f"{flow.HAND_OVER}:{code}")
