"""The filing form as transcripts: a citizen (or a volunteer) files a birth registration.

Every turn goes through ``json.dumps``/``json.loads`` of the state, like a restart, and every
reply is checked against the channel limits. The birth form is the real one bundled with the
catalogue (``knowledge/data/curated/1.001193.toml``), read on its own so that work in progress
elsewhere in the catalogue cannot break these tests.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dialogs import filing
from dialogs import filing_draft as fd
from dialogs.addresses import AddressBook
from dialogs.context import Context
from dialogs.model import (
    Attachment,
    Button,
    CheckAttachments,
    Contact,
    Inbound,
    Reply,
    Step,
    SubmitDossier,
)
from dialogs.texts import common as ctexts
from dialogs.texts import filing as texts
from dialogs.texts import validation as vtexts
from knowledge.catalogue import Catalogue, load_catalogue
from knowledge.model import FilingForm, FormField, PhotoSlot, Procedure
from tests.dialogs.transcript import (
    BIRTH_AGAIN,
    DIALOG,
    KEY,
    MARRIAGE,
    NOW,
    THAI_TAN,
    FakeSearch,
    hit,
    with_officer,
)

BOOK = AddressBook.from_package()
BIRTH_OPENING = "Bạn là gì của cháu ạ?"  # who files, in the birth form's own terms
DATA = Path(__file__).resolve().parents[2] / "knowledge" / "data"


@functools.cache
def real_birth() -> Procedure:
    """1.001193 with its curated form, loaded from a copy of just its two files."""
    with tempfile.TemporaryDirectory() as tmp:
        for part, suffix in (("curated", "toml"), ("imported", "json")):
            (Path(tmp) / part).mkdir()
            shutil.copy(DATA / part / f"1.001193.{suffix}", Path(tmp) / part)
        procedure = load_catalogue(Path(tmp)).get("1.001193")
    assert procedure is not None and procedure.form is not None
    return procedure


# A small form of every kind, for tests that are not about the birth form itself.
SMALL = Procedure(
    code="2.000908",
    name="Chứng thực chữ ký",
    field="Chứng thực",
    fee=None,
    processing_days=1,
    result_by_post=False,
    form=FilingForm(
        fields=(
            FormField(name="requester_name", kind="name", label="Họ tên của bạn ạ?", who="r"),
            FormField(name="requester_birth_date", kind="date", label="Ngày sinh?", who="r"),
            FormField(name="requester_sex", kind="sex", label="Giới tính?", who="r"),
            FormField(name="requester_id_number", kind="id_number", label="Số CCCD?", who="r"),
            FormField(name="note", kind="text", label="Ghi chú?", required=False),
        ),
        photos=(PhotoSlot(name="paper", label="giấy cần chứng thực"),),
    ),
)

ANSWERS = {
    "lệ phí bao nhiêu": [],
    "đăng ký kết hôn": [hit(MARRIAGE, 0.9)],
    "khai sinh": [],
}


def photo(ref: str, group: str = "") -> Attachment:
    return Attachment(kind="photo", ref=ref, group_id=group, mime_type="image/jpeg")


def stored(attachment: Attachment, sha: str) -> Attachment:
    return dataclasses.replace(attachment, stored_key=f"files/{sha}.jpg", sha256=sha)


def refused(attachment: Attachment, problem: str) -> Attachment:
    return dataclasses.replace(attachment, problem=problem)


class FormChat:
    """A citizen talking to the engine; the clock can be moved on between turns."""

    def __init__(
        self, procedures: tuple[Procedure, ...] = (), answers: dict[str, Any] | None = None
    ) -> None:
        self.procedures = procedures or (real_birth(), MARRIAGE, BIRTH_AGAIN, SMALL)
        self.search = FakeSearch(dict(answers if answers is not None else ANSWERS))
        self.catalogue = Catalogue(self.procedures)
        self.now = NOW
        self.state: dict[str, Any] | None = None
        self.last = Step(state={})
        self.count = 0

    @property
    def ctx(self) -> Context:
        return Context(
            now=self.now,
            commune=THAI_TAN,
            catalogue=self.catalogue,
            search=self.search,
            addresses=BOOK,
        )

    def send(
        self,
        text: str = "",
        payload: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        contact: Contact | None = None,
    ) -> Step:
        self.count += 1
        inbound = Inbound(
            key=KEY,
            message_id=str(self.count),
            received_at=self.now,
            text=text,
            payload=payload,
            attachments=attachments,
            contact=contact,
        )
        step = DIALOG.advance(self.state, inbound, self.ctx)
        self.state = json.loads(json.dumps(step.state))
        assert self.state == step.state
        assert self.state["version"] == 1
        # Every turn gets an answer: from the dialog, or from the effect it asks for (a message
        # to a live officer excepted: they read it in the console).
        assert step.replies or step.effects or with_officer(step.state)
        for reply in step.replies:
            assert 0 < len(reply.text) <= 4096
            for button in reply.flat_buttons():
                assert 0 < len(button.payload.encode("utf-8")) <= 64, button
        self.last = step
        return step

    def say(self, text: str) -> Step:
        return self.send(text=text)

    def press(self, label: str) -> Step:
        return self.send(payload=self.payload(label))

    def payload(self, label: str) -> str:
        matches = [b for b in self.buttons if b.text == label]
        assert matches, f"no button {label!r} in {self.labels}"
        return matches[0].payload

    def later(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    @property
    def replies(self) -> tuple[Reply, ...]:
        return self.last.replies

    @property
    def buttons(self) -> list[Button]:
        return [b for reply in self.replies for b in reply.flat_buttons()]

    @property
    def labels(self) -> list[str]:
        return [b.text for b in self.buttons]

    @property
    def text(self) -> str:
        return "\n\n".join(reply.text for reply in self.replies)

    @property
    def effects(self) -> tuple[Any, ...]:
        return self.last.effects

    @property
    def draft(self) -> dict[str, Any]:
        assert self.state is not None
        draft = self.state[fd.KEY]
        assert isinstance(draft, dict)
        return draft

    def asked(self, procedure: Procedure | None = None) -> str:
        """The form field the last reply asks, by its "Câu i/n: <label>" line."""
        form = (procedure or real_birth()).form
        assert form is not None
        found = re.findall(r"Câu (\d+)/(\d+): (.*)", self.replies[-1].text)
        assert found, f"no question in {self.text!r}"
        index, total, label = found[-1]
        assert int(index) <= int(total) <= len(form.fields)

        # A volunteer's draft puts the filer's questions to the villager ("Bà con …").
        def labels(f: FormField) -> set[str]:
            return {f.label, f.line_label, *map(texts.for_villager, (f.label, f.line_label))}

        [field] = [f for f in form.fields if label in labels(f)]
        return field.name


# --- Driving the birth form --------------------------------------------------------------------

# What a mother types for each field of the birth form; ("press", label) presses a button.
BIRTH_ANSWERS: dict[str, Any] = {
    "requester_relation": ("press", "Mẹ"),
    "requester_name": "trần thị hoa",
    "requester_birth_date": "20/5/1998",
    "requester_id_number": "031 198 001 234",
    "requester_residence": ("press", texts.BTN_SKIP),
    "child_name": "nguyễn văn an",
    "child_birth_date": "15/02/2026",
    "child_sex": "trai",
    "child_ethnicity": "Kinh",
    "child_nationality": "Việt Nam",
    "child_birth_place": "Trạm y tế xã Thái Tân, TP Hải Phòng",
    "child_hometown": "Xã Thái Tân, TP Hải Phòng",
    "mother_name": "Trần Thị Hoa",
    "mother_birth_date": "20/05/1998",
    "mother_ethnicity": "Kinh",
    "mother_nationality": "Việt Nam",
    "mother_id_number": "031198001234",
    "mother_residence": "thôn Đông, xã Thái Tân, TP Hải Phòng",
    "father_name": "Nguyễn Văn Bình",
    "father_birth_date": "10/02/1995",
    "father_ethnicity": "Kinh",
    "father_nationality": "Việt Nam",
    "father_id_number": "031095004321",
    "father_residence": ("press", texts.BTN_SKIP),
    "marriage_cert_number": "15",
    "marriage_cert_book": "01/2020",
    "marriage_cert_date": "12/06/2020",
    "marriage_cert_place": "UBND xã Thái Tân",
    "copies": "hai bản",
    "phone": "0912 345 678",
}


def answer(chat: FormChat, name: str) -> None:
    reply = BIRTH_ANSWERS[name]
    if isinstance(reply, tuple):
        chat.press(reply[1])
    else:
        chat.say(reply)


def fill_until(chat: FormChat, stop: str | None = None) -> None:
    """Answer the birth form's questions in order until ``stop`` is asked (or all are)."""
    while "Câu " in chat.replies[-1].text:
        name = chat.asked()
        if name == stop:
            return
        answer(chat, name)
    assert stop is None, f"{stop} was never asked"


def start_birth(chat: FormChat) -> None:
    chat.say("/start")
    chat.send(payload=f"file:{real_birth().code}")
    assert "Bạn là gì của cháu ạ?" in chat.text  # who files, in the procedure's terms
    chat.press("Mẹ")


def send_photos(chat: FormChat) -> None:
    chat.send(attachments=(photo("p1"),))
    chat.send(attachments=(stored(photo("p1"), "sha-1"),))
    chat.press(texts.BTN_SKIP)


# --- The whole birth registration ------------------------------------------------------------


def test_someone_else_files_a_whole_birth_registration() -> None:
    birth = real_birth()
    assert birth.form is not None
    chat = FormChat()
    chat.say("/start")
    chat.send(payload=f"file:{birth.code}")
    assert birth.name in chat.text
    # Who files, in the procedure's own terms (not "for yourself or someone else?").
    assert BIRTH_OPENING in chat.text
    assert chat.labels[:5] == ["Mẹ", "Cha", "Ông", "Bà", "Người khác"]
    chat.press("Người khác")  # a neighbour, a volunteer: the parents are asked on their own

    # The filer's name, birth date and ID number may come in one line, or one by one.
    assert chat.asked() == "requester_name"
    assert "Họ tên, ngày sinh và số căn cước (12 số) của bạn ạ?" in chat.text
    assert "Ví dụ: Trần Thị Hoa, 20/05/1998, 031198001234" in chat.text
    # Bad input: the validator's message, the same question, nothing stored.
    chat.say("Hoa 123")
    assert vtexts.NAME_HAS_DIGITS in chat.text
    assert chat.asked() == "requester_name"
    chat.say("bỏ qua")  # required: not skipped
    assert texts.REQUIRED in chat.text
    chat.say("trần thị hoa")
    assert chat.asked() == "requester_birth_date"
    chat.say("31/02/1998")
    assert "Không có ngày 31/02/1998" in chat.text
    chat.say("20/05/2030")
    assert "chưa tới" in chat.text  # birth dates lie in the past
    chat.say("20/5/1998")

    # The ID is checked against the same person's birth date: asked, not refused (the card
    # may be right and the date mistyped); help explains it.
    chat.say("031199001234")
    assert "(99) thường là hai số cuối của năm sinh, mà năm sinh đã ghi là 1998" in chat.text
    assert texts.BTN_ID_SURE in chat.labels and texts.BTN_RETYPE in chat.labels
    assert chat.asked() == "requester_id_number"
    chat.say("?")
    assert texts.KIND_HELP["id_number"] in chat.text
    chat.say("031 198 001 234")

    # With an ID number, no residence question: the child comes next, in one line.
    assert chat.asked() == "child_name"
    # A question mid-form is answered, never stored as the child's name.
    chat.say("lệ phí bao nhiêu")
    assert "Miễn lệ phí nếu đăng ký đúng hạn" in chat.text
    assert texts.CONTINUE in chat.text
    assert chat.asked() == "child_name"
    chat.say("mấy ngày thì có kết quả?")
    assert "Thời gian giải quyết: Trong ngày" in chat.text
    chat.say("nguyễn văn an, 15/02/2026")  # name and birth date; the sex is asked next
    assert texts.line_read(["Nguyễn Văn An", "sinh ngày 15/02/2026"]) in chat.text
    assert chat.asked() == "child_sex"
    assert chat.labels[:2] == ["Nam", "Nữ"]
    chat.say("đăng ký kết hôn")  # no sex but a strong catalogue hit: answered, asked again
    assert "Về thủ tục Đăng ký kết hôn" in chat.text
    assert chat.asked() == "child_sex"

    # Back shows the answer given; a new answer replaces it and the form goes on.
    chat.press(texts.BTN_BACK)
    assert chat.asked() == "child_birth_date"
    assert texts.current_value("15/02/2026") in chat.text
    chat.press(texts.BTN_KEEP)
    chat.say("con trai")
    # Common answers are buttons: one for the child's ethnicity and nationality together.
    assert chat.asked() == "child_ethnicity"
    chat.press("Kinh, Việt Nam")
    assert chat.asked() == "child_birth_place"
    assert "Trạm y tế xã Thái Tân, thành phố Hải Phòng" in chat.labels
    chat.press("Xã Thái Tân, thành phố Hải Phòng")  # born at home
    assert chat.asked() == "child_hometown"
    chat.press("Xã Thái Tân, thành phố Hải Phòng")

    # The mother, asked on her own: a line, worded for her.
    assert chat.asked() == "mother_name"
    assert "của mẹ cháu ạ?" in chat.text
    chat.say("Trần Thị Hoa 20/05/1998 031198001234")  # without commas too
    # Without a father, nothing of his (nor the marriage) is asked.
    assert chat.asked() == "father_name"
    chat.press(texts.BTN_BACK)
    assert chat.asked() == "mother_id_number"
    chat.press(texts.BTN_KEEP)
    chat.say("Nguyễn Văn Bình, 10/02/1995, 031095004321")
    # The marriage certificate: one line, read into its four parts.
    assert chat.asked() == "marriage_cert_number"
    assert "Chưa đăng ký kết hôn" in chat.labels
    chat.say("Số 15, quyển 01/2020, ngày 12/06/2020, UBND xã Thái Tân")
    read = ["Giấy chứng nhận kết hôn số 15", "quyển 01/2020", "đăng ký ngày 12/06/2020"]
    assert texts.line_read([*read, "tại UBND xã Thái Tân"]) in chat.text
    assert chat.asked() == "copies"
    assert chat.labels[:4] == ["Không cần", "1 bản", "2 bản", "3 bản"]
    assert chat.replies[-1].number_answer  # a typed "2" is two copies, not the second button
    chat.say("mấy bản")  # a question, not a number
    assert chat.asked() == "copies"
    chat.say("hai bản")

    # The phone: typed, or shared from the user's own account only.
    assert chat.asked() == "phone"
    assert chat.replies[-1].request_contact
    chat.send(contact=Contact(phone="0987654321", user_id="someone-else"))
    assert texts.CONTACT_NOT_OWN in chat.text
    assert chat.asked() == "phone"
    chat.send(contact=Contact(phone="84912345678", user_id=KEY.user_id))

    # Photos: each slot in order; files go to bot/ for checking first.
    slots = {p.name: p for p in birth.form.photos}
    assert texts.photo_prompt(slots["birth_certificate"].label) in chat.text
    chat.say("xong rồi hả")
    assert texts.PHOTO_WANTED in chat.text
    first = photo("tg-file-1")
    chat.send(attachments=(first,))
    assert chat.text == texts.CHECKING
    assert chat.effects == (CheckAttachments(slot="birth_certificate", attachments=(first,)),)
    chat.send(attachments=(refused(first, "blurred"),))
    assert texts.PHOTO_PROBLEMS["blurred"] in chat.text
    second = photo("tg-file-2")
    chat.send(attachments=(second,))
    chat.send(attachments=(stored(second, "sha-a"),))
    assert texts.photo_received(slots["birth_certificate"].label) in chat.text
    # The marriage certificate (the parents are married); sent by mistake, then removed.
    assert texts.photo_prompt(slots["marriage_certificate"].label) in chat.text
    wrong = photo("tg-wrong")
    chat.send(attachments=(wrong,))
    chat.send(attachments=(stored(wrong, "sha-wrong"),))
    # Someone else files: an authorization, several pages collected until Xong.
    assert texts.photo_prompt(slots["authorization"].label) in chat.text
    pages = (photo("tg-3", group="album-1"), photo("tg-4", group="album-1"))
    chat.send(attachments=pages)
    assert chat.effects == (CheckAttachments(slot="authorization", attachments=pages),)
    chat.send(attachments=(stored(pages[0], "sha-b"), stored(pages[1], "sha-c")))
    assert texts.photos_collected(2, slots["authorization"].label) in chat.text
    again = photo("tg-5")
    chat.send(attachments=(again,))
    chat.send(attachments=(stored(again, "sha-a"),))
    assert texts.PHOTO_DUPLICATE in chat.text
    chat.press(texts.BTN_DONE)

    # Review: short, one line per section, «Gửi hồ sơ» first; sections open.
    review = chat.text
    assert texts.review_title(birth.name) in review
    assert chat.labels[0] == texts.BTN_SEND
    assert len(chat.replies[-1].text.splitlines()) <= 4
    assert "• Cháu: Nguyễn Văn An" in review
    assert f"· {texts.REVIEW_AT_COUNTER}" in review
    chat.press(texts.btn_open("Ảnh"))
    assert chat.labels[0] == texts.BTN_SEND
    chat.press(texts.btn_drop(slots["marriage_certificate"].label))
    assert texts.photos_dropped(slots["marriage_certificate"].label) in chat.text
    assert "marriage_certificate" not in chat.draft["files"]
    chat.press(texts.btn_open("Cháu"))
    assert "Họ và tên đặt cho cháu: Nguyễn Văn An" in chat.text
    chat.press(texts.btn_edit("Họ và tên đặt cho cháu"))
    assert chat.asked() == "child_name"
    chat.say("Nguyễn Minh Anh")
    assert "Nguyễn Minh Anh" in chat.text and texts.BTN_SEND in chat.labels

    # The result by post, chosen on the review: an address and the recipient's phone.
    chat.press(texts.BTN_TO_POST)
    assert texts.POSTAL_ADDRESS in chat.text
    chat.say("số 5 đường Trần Phú, xã Thái Tân, Hải Phòng")
    assert texts.POSTAL_PHONE in chat.text
    chat.press(texts.btn_same_phone("0912345678"))
    assert f"· {texts.REVIEW_BY_POST}" in chat.text
    chat.press(texts.btn_open(texts.section_button("delivery")))  # the address, to check
    assert "số 5 đường Trần Phú" in chat.text

    # Submit: one effect with every value; a second tap repeats the same submission key.
    send = chat.payload(texts.BTN_SEND)
    chat.send(payload=send)
    assert chat.text == texts.SENDING
    (effect,) = chat.effects
    assert isinstance(effect, SubmitDossier)
    assert effect.procedure_code == birth.code
    assert effect.commune_code == THAI_TAN.code
    assert effect.fields == {
        "requester_relation": "Người khác",
        "requester_name": "Trần Thị Hoa",
        "requester_birth_date": "1998-05-20",
        "requester_id_number": "031198001234",
        "child_name": "Nguyễn Minh Anh",
        "child_birth_date": "2026-02-15",
        "child_sex": "Nam",
        "child_ethnicity": "Kinh",
        "child_nationality": "Việt Nam",
        "child_birth_place": "Xã Thái Tân, thành phố Hải Phòng",
        "child_hometown": "Xã Thái Tân, thành phố Hải Phòng",
        "mother_name": "Trần Thị Hoa",
        "mother_birth_date": "1998-05-20",
        "mother_id_number": "031198001234",
        "father_name": "Nguyễn Văn Bình",
        "father_birth_date": "1995-02-10",
        "father_id_number": "031095004321",
        "marriage_cert_number": "15",
        "marriage_cert_book": "01/2020",
        "marriage_cert_date": "2020-06-12",
        "marriage_cert_place": "UBND xã Thái Tân",
        "copies": 2,
        "phone": "0912345678",
    }
    # The photo removed is not sent: only the papers actually photographed.
    assert [(f["slot"], f["sha256"]) for f in effect.files] == [
        ("birth_certificate", "sha-a"),
        ("authorization", "sha-b"),
        ("authorization", "sha-c"),
    ]
    assert all(f["stored_key"] for f in effect.files)
    assert effect.filer == {
        "for_self": False,
        "relation": "Người khác",
        "name": "Trần Thị Hoa",
        "phone": "0912345678",
    }
    assert effect.result_delivery == "post"
    assert effect.postal_address is not None
    assert effect.postal_address["street"] == "số 5 đường Trần Phú"
    assert effect.postal_address["commune_code"] == "10642"
    assert effect.postal_address["phone"] == "0912345678"
    assert chat.draft["submitted"] is True
    assert chat.state is not None and chat.state["mode"] == "qa"

    chat.send(payload=send)
    (again_effect,) = chat.effects
    assert again_effect == effect
    assert filing.draft_summary(chat.state) is None


def test_a_mother_files_for_her_child_with_the_result_at_the_counter() -> None:
    chat = FormChat()
    start_birth(chat)
    assert "filer" not in chat.draft["answers"]  # the form's own relation question said it
    fill_until(chat)
    send_photos(chat)
    assert texts.review_title(real_birth().name) in chat.text
    assert chat.labels[0] == texts.BTN_SEND  # first, not the 33rd of 36
    chat.press(texts.BTN_SEND)
    (effect,) = chat.effects
    assert isinstance(effect, SubmitDossier)
    assert effect.result_delivery == "counter"
    assert effect.postal_address is None
    assert effect.filer == {
        "for_self": False,
        "relation": "Mẹ",
        "name": "Trần Thị Hoa",
        "phone": "0912345678",
    }
    assert effect.files[0]["slot"] == "birth_certificate"
    # The mother's part is the filer's own answers, asked once.
    for part in ("name", "birth_date", "id_number"):
        assert effect.fields[f"mother_{part}"] == effect.fields[f"requester_{part}"]


def test_editing_a_birth_date_asks_again_for_an_id_number_it_no_longer_fits() -> None:
    chat = FormChat()
    start_birth(chat)
    fill_until(chat)
    send_photos(chat)
    assert texts.review_title(real_birth().name) in chat.text  # the counter unless changed
    chat.press(texts.btn_open("Người khai"))
    assert "Bạn sinh ngày nào: 20/05/1998" in chat.text
    assert chat.labels[0] == texts.BTN_SEND
    chat.press(texts.btn_edit("Bạn sinh ngày nào"))
    chat.say("20/05/1999")
    assert chat.text.count(texts.ID_RECHECK) == 1  # the mother's copy follows silently
    assert chat.asked() == "requester_id_number"
    assert "requester_id_number" not in fd.field_answers(chat.draft)
    assert "mother_id_number" not in fd.field_answers(chat.draft)
    chat.say("031199001234")
    assert texts.review_title(real_birth().name) in chat.text
    answers = fd.field_answers(chat.draft)
    assert answers["mother_birth_date"]["value"] == "1999-05-20"
    assert answers["mother_id_number"]["value"] == "031199001234"
    assert texts.BTN_SEND in chat.labels


def test_a_sex_that_contradicts_the_id_number_is_questioned_with_the_reason() -> None:
    chat = FormChat()
    chat.send(payload=f"file:{SMALL.code}")
    chat.press(texts.BTN_FOR_SELF)
    chat.say("Lê Văn Tám")
    chat.say("01/01/1990")
    chat.press("Nữ")
    chat.say("031090001234")  # digit 4 is even: a man's number
    assert "(0) là số của người nam, mà người này là nữ" in chat.text
    assert chat.labels[:2] == [texts.BTN_ID_SURE, texts.BTN_RETYPE]
    assert chat.asked(SMALL) == "requester_id_number"
    assert "requester_id_number" not in fd.field_answers(chat.draft)
    chat.press(texts.BTN_RETYPE)  # the same question, nothing kept
    assert chat.asked(SMALL) == "requester_id_number"
    assert texts.BTN_ID_SURE not in chat.labels
    chat.press(texts.BTN_BACK)
    chat.press("Nam")
    chat.say("031090001234")
    assert chat.asked(SMALL) == "note"


# --- Cancel, menu, resume, expiry, reminders ---------------------------------------------------


def test_cancel_asks_for_confirmation_and_only_then_drops_the_draft() -> None:
    chat = FormChat()
    start_birth(chat)
    chat.say("Trần Thị Hoa")
    chat.say("/huy")
    assert texts.CONFIRM_CANCEL in chat.text
    assert chat.labels == [texts.BTN_CANCEL_YES, texts.BTN_CANCEL_NO]
    chat.press(texts.BTN_CANCEL_NO)
    assert chat.asked() == "requester_birth_date"
    chat.press(texts.BTN_CANCEL)
    chat.say("vâng")  # typed yes confirms too
    assert chat.text.startswith(texts.CANCELLED)
    assert chat.state is not None
    assert fd.KEY not in chat.state
    assert chat.state["mode"] == "qa"
    chat.say("đăng ký kết hôn")  # the question mode is back
    assert "Đăng ký kết hôn" in chat.text


def test_the_menu_keeps_the_draft_and_continue_comes_back_to_the_question() -> None:
    chat = FormChat()
    start_birth(chat)
    chat.say("Trần Thị Hoa")
    chat.press(texts.BTN_MENU)
    assert texts.kept_for_later(real_birth().name) in chat.text
    assert chat.state is not None and chat.state["mode"] == "qa"
    chat.say("đăng ký kết hôn")  # a question in between is a question, not an answer
    assert "Đăng ký kết hôn" in chat.text
    chat.send(payload=f"file:{real_birth().code}")
    assert chat.state is not None
    assert fd.answered_count(chat.state["filing"]) == 3  # relation, name, the mother's name
    # Counted as questions, honestly: the relation is answered, the filer's line is half done,
    # and the mother's part is the filer's own (not asked): 1 of 10.
    assert fd.questions_answered(real_birth(), chat.state["filing"]) == (1, 10)
    assert texts.resume_question(real_birth().name, 1, 10) in chat.text
    chat.press(texts.BTN_RESUME)
    assert chat.asked() == "requester_birth_date"
    assert chat.draft["answers"]["f:requester_name"]["value"] == "Trần Thị Hoa"


def test_coming_back_after_seven_hours_asks_whether_to_continue() -> None:
    chat = FormChat()
    start_birth(chat)
    for text in ("Trần Thị Hoa", "20/05/1998", "031198001234"):
        chat.say(text)  # one at a time works as well as one line
    chat.later(hours=7)
    chat.say("Nguyễn Văn An")
    birth = real_birth()
    assert birth.form is not None
    # Two questions answered of ten (the relation, the filer's line; the mother's is hers).
    assert chat.text == texts.resume_question(birth.name, 2, 10)
    assert chat.labels == [texts.BTN_RESUME, texts.BTN_RESTART, texts.BTN_CANCEL]
    assert "f:child_name" not in chat.draft["answers"]
    chat.press(texts.BTN_RESUME)
    assert chat.asked() == "child_name"
    chat.say("Nguyễn Văn An")
    assert chat.asked() == "child_birth_date"

    chat.later(hours=8)
    chat.press(texts.BTN_BACK)  # an old button after a pause asks first, too
    assert texts.BTN_RESTART in chat.labels
    chat.press(texts.BTN_RESTART)
    assert texts.RESTARTED in chat.text
    assert BIRTH_OPENING in chat.text
    assert chat.draft["answers"] == {}


def test_a_draft_older_than_thirty_days_has_expired_and_starts_afresh() -> None:
    chat = FormChat()
    start_birth(chat)
    chat.say("Trần Thị Hoa")
    old_id = chat.draft["id"]
    chat.later(days=31)
    chat.say("20/05/1998")
    assert texts.expired(real_birth().name, 30) in chat.text
    assert BIRTH_OPENING in chat.text
    assert chat.draft["answers"] == {}
    assert chat.draft["id"] != old_id


def test_one_reminder_before_expiry_with_a_button_to_continue() -> None:
    chat = FormChat()
    start_birth(chat)
    chat.say("Trần Thị Hoa")
    assert chat.state is not None
    info = filing.draft_summary(chat.state)
    assert info is not None
    assert (info.procedure_code, info.name, info.answered) == ("1.001193", real_birth().name, 3)
    assert info.updated_at == NOW

    chat.later(days=20)
    assert filing.reminder_replies(chat.state, chat.ctx) == ()  # too early
    chat.later(days=7)
    (reminder,) = filing.reminder_replies(chat.state, chat.ctx)
    assert reminder.text == texts.reminder(real_birth().name, 3)
    assert [b.text for b in reminder.flat_buttons()] == [texts.BTN_CONTINUE]
    chat.state = filing.mark_reminded(chat.state)
    chat.later(days=1)
    assert filing.reminder_replies(chat.state, chat.ctx) == ()  # only one per pause
    chat.send(payload=reminder.flat_buttons()[0].payload)
    assert chat.asked() == "requester_birth_date"
    chat.later(days=4)
    assert filing.reminder_replies(chat.state, chat.ctx) == ()  # the pause starts again
    chat.later(days=23)
    assert len(filing.reminder_replies(chat.state, chat.ctx)) == 1
    chat.later(days=4)
    assert filing.reminder_replies(chat.state, chat.ctx) == ()  # expired: nothing to remind


# --- Robustness ---------------------------------------------------------------------------------


def test_garbled_or_stale_payloads_during_the_form_never_lose_it() -> None:
    chat = FormChat()
    start_birth(chat)
    chat.say("Trần Thị Hoa")
    short = chat.draft["id"][:8]
    for payload in (
        "form",
        "form:",
        f"form:{short}",
        f"form:{short}:nonsense",
        f"form:{short}:pick",
        f"form:{short}:pick:99:0",
        f"form:{short}:pick:1:99",
        f"form:{short}:pick:x:y",
        f"form:{short}:edit:3",  # not at the review
        f"form:{short}:rel:0",  # not asking the relation
        f"form:{short}:addr:99999",
        f"form:{short}:cancel_yes",  # no confirmation asked
        f"form:{short}:switch:1.000894",
        "form:00000000:skip",  # another draft's button
        "proc:9.999999",
        "x" * 100,
        "field:zzz",
        "\x00",
    ):
        chat.send(payload=payload)
        assert chat.draft["answers"]["f:requester_name"]["value"] == "Trần Thị Hoa", payload
        assert set(chat.draft["answers"]) == {
            "f:requester_relation",
            "f:requester_name",
            "f:mother_name",
        }, payload
        assert chat.asked() == "requester_birth_date", payload
    chat.say("20/05/1998")
    assert chat.asked() == "requester_id_number"


def test_an_unreadable_or_foreign_draft_starts_fresh_politely() -> None:
    for broken in (
        {"v": 99},
        {"v": 1, "id": 5},
        "nonsense",
        {"v": 1, "id": "abc", "code": "1.001193"},
    ):
        chat = FormChat()
        chat.state = {"version": 1, "mode": "filing", "buttons": [], "filing": broken}
        chat.say("Trần Thị Hoa")
        assert texts.DRAFT_UNREADABLE in chat.text
        assert chat.state is not None and "filing" not in chat.state
        chat.send(payload=f"file:{real_birth().code}")
        assert BIRTH_OPENING in chat.text


def test_photos_and_contacts_where_none_is_asked_get_a_polite_notice() -> None:
    chat = FormChat()
    start_birth(chat)
    chat.send(attachments=(photo("early"),))
    assert texts.PHOTO_NOT_NOW in chat.text
    assert chat.effects == ()
    assert chat.asked() == "requester_name"
    chat.send(contact=Contact(phone="0912345678", user_id=KEY.user_id))
    assert texts.CONTACT_NOT_NOW in chat.text
    assert chat.asked() == "requester_name"


def test_a_required_photo_cannot_be_skipped_and_done_needs_a_photo() -> None:
    chat = FormChat()
    start_birth(chat)
    fill_until(chat)
    chat.press(texts.BTN_BACK)  # back from the first photo: the last question, kept
    assert chat.asked() == "phone"
    chat.press(texts.BTN_KEEP)
    chat.say("bỏ qua")
    assert texts.REQUIRED_PHOTO in chat.text
    chat.say("xong")
    assert texts.NO_PHOTO_YET in chat.text
    chat.send(attachments=(photo("a", group="g"),))  # one photo of an album: wait for Xong
    chat.send(attachments=(stored(photo("a", group="g"), "sha-x"),))
    assert texts.BTN_DONE in chat.labels
    chat.send(attachments=(photo("b", group="g"),))
    chat.send(attachments=(refused(photo("b", group="g"), "too_dark"),))
    assert texts.PHOTO_PROBLEMS["too_dark"] in chat.text
    chat.press(texts.BTN_DONE)
    assert texts.photo_prompt("Giấy chứng nhận kết hôn của cha mẹ cháu (nếu có)") in chat.text


def test_every_refusal_reason_has_a_kind_hint() -> None:
    reasons = (
        "unsupported too_large corrupt too_small too_dark blurred blank duplicate fetch_failed"
    )
    for reason in reasons.split():
        chat = FormChat()
        start_birth(chat)
        fill_until(chat)
        chat.send(attachments=(photo("r"),))
        chat.send(attachments=(refused(photo("r"), reason),))
        assert texts.PHOTO_PROBLEMS[reason] in chat.text
        assert "birth_certificate" not in chat.draft["files"]


def test_several_communes_of_the_same_name_are_offered_as_buttons() -> None:
    chat = FormChat()
    start_birth(chat)
    fill_until(chat, "father_id_number")
    chat.press(texts.BTN_SKIP)  # no ID number: his ethnicity, nationality, residence are asked
    assert chat.asked() == "father_ethnicity"
    chat.press("Kinh, Việt Nam")
    assert chat.asked() == "father_residence"
    chat.say("tân hưng")
    assert texts.which_commune("Cha cháu") in chat.text  # worded for whom it is about
    offered = [label for label in chat.labels if "Tân Hưng" in label]
    assert len(offered) >= 2
    chat.press(offered[0])
    assert texts.which_village("Cha cháu") in chat.text
    chat.press(texts.BTN_SKIP)  # no hamlet: the commune alone
    assert chat.asked() == "marriage_cert_number"
    value = chat.draft["answers"]["f:father_residence"]["value"]
    assert "Tân Hưng" in value["commune_name"]
    chat.press(texts.BTN_BACK)
    chat.say("xã Minh Tân, huyện Nam Sách, Hải Dương")  # an old address: told why
    assert "không còn huyện" in chat.text
    assert texts.which_commune("Cha cháu") not in chat.text


def test_typing_a_filing_request_starts_the_form() -> None:
    chat = FormChat(answers={"khai sinh": [hit(real_birth(), 0.95)]})
    chat.say("/start")
    chat.say("Nộp hồ sơ khai sinh")
    assert BIRTH_OPENING in chat.text
    chat.press("Cha")
    assert chat.asked() == "requester_name"


def test_typing_a_filing_request_for_a_procedure_without_a_form_says_how_to_file() -> None:
    chat = FormChat(answers={"ket hon": [hit(MARRIAGE, 0.95)]})
    chat.say("/start")
    chat.say("nop ho so ket hon")
    assert chat.search.queries == ["ket hon"]
    assert ctexts.FILING_SOON in chat.text
    chat.say("nộp hồ sơ")
    assert chat.text == texts.WHAT_TO_FILE


def test_starting_another_procedure_offers_to_keep_or_replace_the_open_draft() -> None:
    chat = FormChat()
    start_birth(chat)
    chat.say("Trần Thị Hoa")
    chat.send(payload=f"file:{SMALL.code}")
    assert "Chứng thực chữ ký" in chat.text
    assert texts.btn_keep_old(real_birth().name) in chat.labels
    chat.press(texts.btn_keep_old(real_birth().name))
    assert chat.asked() == "requester_birth_date"
    chat.send(payload=f"file:{SMALL.code}")
    chat.press(texts.btn_switch(SMALL.name))
    assert texts.WHO_FILES in chat.text  # a form without its own relation question
    assert chat.draft["code"] == SMALL.code


def test_a_procedure_without_post_results_has_no_delivery_question() -> None:
    chat = FormChat()
    chat.send(payload=f"file:{SMALL.code}")
    chat.press(texts.BTN_FOR_SELF)
    for text in ("Lê Văn Tám", "01/01/1990", "nam", "031090001234"):
        chat.say(text)
    chat.press(texts.BTN_SKIP)
    chat.send(attachments=(photo("s"),))
    chat.send(attachments=(stored(photo("s"), "sha-s"),))
    assert texts.review_title(SMALL.name) in chat.text
    assert texts.REVIEW_DELIVERY not in chat.text
    chat.press(texts.BTN_SEND)
    (effect,) = chat.effects
    assert isinstance(effect, SubmitDossier)
    assert effect.result_delivery == "counter"
    assert effect.fields == {
        "requester_name": "Lê Văn Tám",
        "requester_birth_date": "1990-01-01",
        "requester_sex": "Nam",
        "requester_id_number": "031090001234",
    }


def test_the_submission_key_is_stable_per_draft_and_differs_between_drafts() -> None:
    keys: list[str] = []
    for _ in range(2):
        chat = FormChat()
        chat.count = len(keys) * 100  # another first message id
        chat.send(payload=f"file:{SMALL.code}")
        chat.press(texts.BTN_FOR_SELF)
        for text in ("Lê Văn Tám", "01/01/1990", "nam", "031090001234"):
            chat.say(text)
        chat.press(texts.BTN_SKIP)
        chat.send(attachments=(photo("s"),))
        chat.send(attachments=(stored(photo("s"), "sha-s"),))
        chat.press(texts.BTN_SEND)
        (effect,) = chat.effects
        keys.append(effect.submission_key)
        assert effect.submission_key == chat.draft["id"]
    assert keys[0] != keys[1]


def test_the_clock_is_read_from_the_context_only() -> None:
    chat = FormChat()
    chat.now = datetime(2026, 3, 2, 20, 0, tzinfo=NOW.tzinfo)  # 03:00 on 3 March in Vietnam
    chat.send(payload=f"file:{SMALL.code}")
    chat.press(texts.BTN_FOR_SELF)
    chat.say("Lê Văn Tám")
    chat.say("03/03/2026")  # today in the commune, though still 2 March in UTC
    assert chat.asked(SMALL) == "requester_sex"
    assert chat.draft["updated_at"] == chat.now.isoformat()


def test_papers_sent_after_a_visit_to_the_menu_still_reach_the_draft() -> None:
    chat = FormChat()
    start_birth(chat)
    fill_until(chat)
    chat.press(texts.BTN_MENU)
    assert chat.state is not None and chat.state["mode"] == "qa"
    sent = photo("later")
    chat.send(attachments=(sent,))
    assert chat.effects == (CheckAttachments(slot="birth_certificate", attachments=(sent,)),)
    chat.send(attachments=(stored(sent, "sha-later"),))
    assert [f["sha256"] for f in chat.draft["files"]["birth_certificate"]] == ["sha-later"]
    assert chat.state["mode"] == "filing"


def test_who_files_can_be_typed_and_another_relation_said_in_words() -> None:
    chat = FormChat()
    chat.send(payload=f"file:{SMALL.code}")
    chat.say("cho ai cũng được")
    assert texts.WHO_FILES in chat.text
    chat.say("cho nguoi khac")
    assert texts.WHICH_RELATION in chat.text
    chat.say("khac")
    assert texts.RELATION_TEXT in chat.text
    chat.say("hàng xóm")
    assert chat.asked(SMALL) == "requester_name"
    assert chat.draft["answers"]["filer"] == {
        "value": {"for_self": False, "relation": "hàng xóm"},
        "display": texts.for_other("hàng xóm"),
    }
    chat.press(texts.BTN_BACK)
    assert texts.current_value(texts.for_other("hàng xóm")) in chat.text
    chat.say("cho bản thân")
    assert chat.draft["answers"]["filer"]["value"]["for_self"] is True
    assert chat.asked(SMALL) == "requester_name"


def test_a_typed_filing_request_with_several_matches_asks_which_one() -> None:
    chat = FormChat(answers={"khai sinh": [hit(real_birth(), 0.8), hit(BIRTH_AGAIN, 0.75)]})
    chat.say("/start")
    chat.say("nộp hồ sơ khai sinh")
    assert chat.text.startswith(ctexts.WHICH_ONE)
    chat.press(real_birth().name)
    assert BIRTH_OPENING in chat.text


# --- Late registration, the menu after a restart ------------------------------------------------


def test_a_birth_registered_past_sixty_days_is_told_its_fee_and_papers() -> None:
    chat = FormChat()
    start_birth(chat)
    fill_until(chat, "child_name")
    late = (NOW - timedelta(days=90)).strftime("%d/%m/%Y")
    chat.say(f"Nguyễn Văn An, {late}, bé trai")
    assert "đăng ký khai sinh quá hạn" in chat.text
    assert "lệ phí theo mức của tỉnh" in chat.text
    assert "Giấy chứng sinh" in chat.text
    assert chat.asked() == "child_ethnicity"
    chat.press("Kinh, Việt Nam")
    assert "quá hạn" not in chat.text  # told once

    on_time = FormChat()
    start_birth(on_time)
    fill_until(on_time, "child_name")
    recent = (NOW - timedelta(days=59)).strftime("%d/%m/%Y")
    on_time.say(f"Nguyễn Văn An, {recent}, bé trai")
    assert "quá hạn" not in on_time.text


def test_the_main_menu_and_the_greeting_offer_the_open_draft_after_a_restart() -> None:
    chat = FormChat()
    start_birth(chat)
    chat.say("Trần Thị Hoa")
    chat.state = json.loads(json.dumps(chat.state))  # what a restarted server reads back
    chat.say("/start")
    assert chat.labels[0] == texts.BTN_CONTINUE
    chat.press(texts.BTN_CONTINUE)
    assert chat.asked() == "requester_birth_date"
    chat.press(texts.BTN_MENU)
    assert chat.labels.count(texts.BTN_CONTINUE) == 1
    chat.say("chào")
    assert chat.labels[0] == texts.BTN_CONTINUE
    chat.press(texts.BTN_CONTINUE)
    chat.press(texts.BTN_CANCEL)
    chat.press(texts.BTN_CANCEL_YES)
    assert texts.BTN_CONTINUE not in chat.labels  # nothing left to continue


def test_a_childs_birth_date_is_helped_with_a_childs_example() -> None:
    chat = FormChat()
    start_birth(chat)
    fill_until(chat, "child_name")
    chat.say("Nguyễn Văn An")
    assert chat.asked() == "child_birth_date"
    chat.say("?")
    assert "1990" not in chat.text and "1998" not in chat.text
    assert "Ví dụ: 15/11/2026" in chat.text


def test_a_hamlet_without_its_commune_offers_this_commune_first_and_keeps_what_was_typed() -> None:
    chat = FormChat()
    start_birth(chat)
    fill_until(chat, "father_id_number")
    chat.press(texts.BTN_SKIP)
    chat.press("Kinh, Việt Nam")
    assert chat.asked() == "father_residence"
    chat.say("nhà trọ số 5, thôn Đông")  # no commune named: "Đông" has namesakes far away
    assert texts.which_commune("Cha cháu") in chat.text
    own = next(label for label in chat.labels if label.startswith("Ở "))
    assert "Thái Tân" in own and chat.labels.index(own) == 0
    chat.press(own)
    assert chat.asked() == "marriage_cert_number"  # the hamlet was not asked again
    value = chat.draft["answers"]["f:father_residence"]["value"]
    assert "Thái Tân" in value["commune_name"]
    assert "Đông" in value["hamlet"] and "nhà trọ số 5" in value["street"]
