"""The dossier names the person it is for, whoever holds the phone (seen by helper forms9).

A petition for land mediation (1.012812) or a contract to certify (2.001035) is one party's:
filed «Cho người khác» by a daughter for her father, it asked «Họ và tên của bạn (người làm
đơn)?», so the daughter typed her own name and the petition and its receipt named her. Here a
person answers every question as it reads («bạn» is themselves, «người đó» the one they file
for, «người bên kia» the other side), through the whole app, and the dossier's answers, its
filer and the receipt PDF are read back: for oneself and for someone else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.app import App, Knowledge, build_app
from bot.config import Settings
from bot.receipts import ReceiptMaker
from dialogs import volunteer as flow
from dialogs.model import ConversationKey
from dialogs.texts import filing as ftexts
from dialogs.texts import volunteer as texts
from storage.migrate import upgrade
from tests.backoffice.pdf_helpers import pdf_text
from tests.test_volunteers import (
    VILLAGER_ID,
    VOLUNTEER,
    Chat,
    apply_and_approve,
    page_photo,
    villager_consents,
)

CITIZEN = ConversationKey(channel="terminal", chat_id="mai", user_id="mai")
PARTY = ("Nguyễn Văn Hùng", "031075001234")  # the one whose land (or contract) it is
HELPER = ("Nguyễn Thị Mai", "031199004321")  # his daughter, filing for him
OTHER_SIDE = "Trần Văn Nam"
PHONE = "0912345678"
_YOU = re.compile(r"\b[Bb]ạn\b")
_NAV = {ftexts.BTN_BACK, ftexts.BTN_SKIP, ftexts.BTN_HELP, ftexts.BTN_CANCEL, ftexts.BTN_MENU}
MEDIATION, CONTRACT = "1.012812", "2.001035"


@pytest.fixture(autouse=True)
def _typing_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_FLOOD__MESSAGES", "1000")


def answer(question: str, example: str, kind: str, *, for_self: bool) -> str:
    """What a person types to a question, reading it as written: a name or an ID number asked
    of «bạn» is theirs; of the other side, the other side's; of anyone else, the party's."""
    me = PARTY if for_self else HELPER
    who = OTHER_SIDE if "bên kia" in question else None
    if kind == "name":
        return who or (me[0] if _YOU.search(question) else PARTY[0])
    if kind == "id_number":
        return me[1] if _YOU.search(question) else PARTY[1]
    if kind == "phone":
        return PHONE
    return example


async def file_it(
    app: App, tmp_path: Path, code: str, *, for_self: bool, said: list[str] | None = None
) -> tuple[str, list[str]]:
    """File ``code`` through the chat, for oneself or for one's father; the dossier's code and
    every question asked (and the chat's answer to the filing appended to ``said``)."""
    procedure = app.knowledge.catalogue.get(code)
    assert procedure is not None and procedure.form is not None
    fields = procedure.form.fields
    chat = Chat(app, CITIZEN)
    await chat.send("/start")
    await chat.send(payload=f"file:{code}")
    await chat.press(ftexts.BTN_FOR_SELF if for_self else ftexts.BTN_FOR_OTHER)
    if not for_self:
        await chat.press("Con")  # «Bạn là gì của người nhờ nộp hồ sơ?»
    asked: list[str] = []
    photos = 0
    for _ in range(40):
        text = chat.replies[-1].text
        labels = [b.text for r in chat.replies for b in r.flat_buttons()]
        found = re.findall(r"Câu \d+/\d+: (.*)", text)
        if ftexts.BTN_SEND in labels and not found:
            break
        if "ở xã, phường nào" in text:
            await chat.press(next(x for x in labels if x not in _NAV))
            continue
        if "thôn, xóm" in text:
            await chat.press(ftexts.BTN_SKIP)
            continue
        if not found:  # a paper to photograph
            if ftexts.BTN_DONE in labels and photos and "Đã nhận" in chat.text:
                await chat.press(ftexts.BTN_DONE)
            elif ftexts.BTN_SKIP in labels:
                await chat.press(ftexts.BTN_SKIP)
            else:
                photos += 1
                await chat.send(photos=(page_photo(tmp_path / f"p{photos}.jpg", 8 + photos),))
            continue
        question = found[-1]
        asked.append(question)
        field = next(
            f
            for f in fields
            if question in (f.label, ftexts.for_own_self(f.label), ftexts.for_villager(f.label))
        )
        if field.kind in ("choice", "yes_no", "sex"):
            await chat.press(next(x for x in labels if x not in _NAV))
        else:
            await chat.send(answer(question, field.example, field.kind, for_self=for_self))
    await chat.press(ftexts.BTN_SEND)
    codes = re.findall(r"Mã hồ sơ: (\S+)", chat.text)
    assert codes, "\n".join(chat.log)
    if said is not None:
        said.append(chat.text)
    return codes[0], asked


@pytest.mark.parametrize("code", [MEDIATION, CONTRACT])
async def test_filed_for_someone_else_the_dossier_and_its_receipt_name_that_person(
    settings: Settings, knowledge: Knowledge, tmp_path: Path, code: str
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        number, asked = await file_it(app, tmp_path, code, for_self=False)
        dossier = await app.dossiers.by_code(number)
        assert dossier is not None
        procedure = app.knowledge.catalogue.get(code)
        assert procedure is not None
        receipt = ReceiptMaker(app.settings, app.knowledge.catalogue).draw(dossier, procedure)
    # Only the daughter's own part (the phone) was asked of «bạn»: nothing of her identity.
    assert [q for q in asked if _YOU.search(q)] == []
    values = [str(v) for v in dossier.fields.values()]
    assert PARTY[0] in values and PARTY[1] in values
    assert HELPER[0] not in values and HELPER[1] not in values
    assert dossier.filer["for_self"] is False and dossier.filer["relation"]
    text = pdf_text(receipt.documents[0].data)
    assert f"tiếp nhận hồ sơ của: {PARTY[0]}" in text
    assert HELPER[0] not in text


@pytest.mark.parametrize("code", [MEDIATION, CONTRACT])
async def test_filed_for_oneself_the_dossier_names_the_filer_and_asks_them_as_bạn(
    settings: Settings, knowledge: Knowledge, tmp_path: Path, code: str
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        number, asked = await file_it(app, tmp_path, code, for_self=True)
        dossier = await app.dossiers.by_code(number)
        assert dossier is not None
        procedure = app.knowledge.catalogue.get(code)
        assert procedure is not None
        receipt = ReceiptMaker(app.settings, app.knowledge.catalogue).draw(dossier, procedure)
    # His own ID number is asked as his («của bạn»), never of «người đó».
    assert any("căn cước" in q and _YOU.search(q) for q in asked)
    assert [q for q in asked if "người đó" in q.casefold()] == []
    values = [str(v) for v in dossier.fields.values()]
    assert PARTY[0] in values and PARTY[1] in values
    assert dossier.filer["for_self"] is True
    assert dossier.filer["name"] == PARTY[0]
    text = pdf_text(receipt.documents[0].data)
    assert f"tiếp nhận hồ sơ của: {PARTY[0]}" in text


# --- a volunteer's villager --------------------------------------------------------------------

RESIDENCE = "1.004194"  # đăng ký tạm trú: the villager is the person who registers


async def test_a_volunteer_gives_the_villagers_name_and_id_once_and_the_dossier_carries_them(
    settings: Settings, knowledge: Knowledge
) -> None:
    """The volunteer typed the villager's name and ID number before the form opened; the
    temporary residence form asked them again («Họ và tên người đăng ký tạm trú ạ?»), as its
    person's, not its filer's. Now they fill the person's, are shown on the review (with a
    button to change them) and reach the dossier."""
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        procedure = app.knowledge.catalogue.get(RESIDENCE)
        assert procedure is not None and procedure.form is not None
        fields = {f.name: f for f in procedure.form.fields}
        chat = Chat(app, VOLUNTEER)
        await apply_and_approve(app, chat)
        chat.log.clear()  # the volunteer's own name and phone, asked when they applied
        await villager_consents(chat)
        await chat.send(payload=f"{flow.PICK}:{RESIDENCE}")
        assert texts.prefilled("Trần Thị Hoa", texts.PREFILLED_KINDS) in chat.text
        for _ in range(30):
            labels = [b.text for r in chat.replies for b in r.flat_buttons()]
            found = re.findall(r"Câu \d+/\d+: (.*)", chat.replies[-1].text)
            if ftexts.BTN_SEND in labels and not found:
                break
            if "ở xã, phường nào" in chat.text:
                await chat.press(next(x for x in labels if x not in _NAV))
            elif not found:
                await chat.press(ftexts.BTN_SKIP)  # the optional photo, a hamlet
            elif "sinh ngày" in found[-1]:
                await chat.send("20/05/1998")
            elif "nam hay nữ" in found[-1]:
                await chat.press("Nữ")
            elif "chủ nhà (chủ nhà trọ)" in found[-1]:
                await chat.send("Nguyễn Văn Tâm")
            elif "đồng ý" in found[-1]:
                await chat.press(ftexts.YES)
            elif "bao lâu" in found[-1]:
                await chat.send("12")
            else:
                await chat.send(fields["temporary_address"].example)
        conversation = "\n".join(chat.log)
        # Asked once each: by the volunteer's own questions, before the form.
        # «Họ và tên của bà con …?», and the landlord's
        assert len(re.findall(r"Họ và tên (?!chủ nhà)", conversation)) == 1
        assert conversation.count(texts.ASK_VILLAGER_NAME) == 1
        assert conversation.count("Số căn cước") + conversation.count("Số định danh") == 1
        assert conversation.count(texts.ASK_VILLAGER_ID) == 1
        # On the review, the villager's section holds them, each with a button to change it.
        await chat.press(ftexts.btn_open(ftexts.section_button("person")))
        assert "Họ và tên người đăng ký tạm trú: Trần Thị Hoa" in chat.text
        assert f"Số định danh cá nhân của bà con: {VILLAGER_ID}" in chat.text
        await chat.press("Sửa: Số định danh cá nhân của bà con")
        assert ftexts.current_value(VILLAGER_ID) in chat.text  # to change, or keep
        await chat.press(ftexts.BTN_KEEP)
        await chat.press(ftexts.BTN_SEND)
        codes = re.findall(r"hồ sơ (\S+) cho Trần Thị Hoa", chat.text)
        assert codes, chat.text
        dossier = await app.dossiers.by_code(codes[0])
    assert dossier is not None
    assert dossier.fields["person_name"] == "Trần Thị Hoa"
    assert dossier.fields["person_id_number"] == VILLAGER_ID
    assert dossier.fields["person_birth_date"] == "1998-05-20"
    assert dossier.fields["phone"] == "0912345678"
    assert dossier.on_behalf_of is not None and dossier.on_behalf_of["name"] == "Trần Thị Hoa"


async def test_a_mediation_promises_no_date_its_law_does_not_give(
    settings: Settings, knowledge: Knowledge, tmp_path: Path
) -> None:
    # 30 days by post, 40 in person: not a count of working days, so no appointment is made
    # up (the receipt used to say «trong ngày» with today's date).
    await upgrade(settings.database.url)
    said: list[str] = []
    async with build_app(settings, knowledge, deliver=False) as app:
        number, _ = await file_it(app, tmp_path, MEDIATION, for_self=True, said=said)
        dossier = await app.dossiers.by_code(number)
        assert dossier is not None
        procedure = app.knowledge.catalogue.get(MEDIATION)
        assert procedure is not None and procedure.processing_days is None
        receipt = ReceiptMaker(app.settings, app.knowledge.catalogue).draw(dossier, procedure)
    assert dossier.due_date is None
    assert "Ngày hẹn trả kết quả" not in said[0]
    assert f"Thời gian giải quyết: {procedure.processing_text}" in said[0]
    assert ".." not in said[0]
    assert "Cán bộ sẽ báo bạn ngày trả kết quả sau khi xem xét hồ sơ." in said[0]
    text = pdf_text(receipt.documents[0].data)
    assert "theo quy định là: 30 ngày nếu gửi đơn qua bưu điện" in text
    assert "trả kết quả giải quyết hồ sơ: cán bộ sẽ hẹn ngày trả sau khi xem xét hồ sơ" in text
    assert "trong ngày" not in text
