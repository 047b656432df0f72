"""The birth form as a parent meets it (issue #11): honest question numbers, a review short
enough for one phone screen, answers that read as phrases, and one polite question about a
name typed without tone marks, whose answer is what the declaration prints.

The path is the scripted birth registration of tests/channels/transcript.py (the mother files,
a line for each person, every choice a button), played against the dialog alone.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Any

import pytest

from backoffice.documents.declarations import render_declaration_pdf
from bot.printing import printable
from dialogs import filing_answers as fa
from dialogs.model import LookupDossier, SubmitDossier
from dialogs.texts import filing as texts
from dialogs.vnwords import date_in_words
from knowledge.catalogue import DATA_DIR, load_catalogue
from tests.dialogs.test_filing import FormChat, photo, real_birth, stored
from tests.dialogs.transcript import NOW
from tests.test_printed_papers import SIGNED, page_text

BORN = f"{NOW - timedelta(days=20):%d/%m/%Y}"  # registered on time
COUNTER = re.compile(r"Câu (\d+)/(\d+): ")


def numbers(chat: FormChat) -> list[tuple[int, int]]:
    return [(int(i), int(n)) for i, n in COUNTER.findall(chat.text)]


def scripted(
    chat: FormChat, father: str = "Nguyễn Văn Bình", questions: list[str] | None = None
) -> list[tuple[int, int]]:
    """The scripted registration up to its review; every «Câu i/n» seen on the way. A
    question about a name without marks is answered «Đúng» and put in ``questions``."""
    seen: list[tuple[int, int]] = []
    chat.say("/start")
    chat.send(payload=f"file:{real_birth().code}")
    seen += numbers(chat)
    for act, arg in (
        ("press", "Mẹ"),
        ("say", "Trần Thị Hoa, 20/05/1998, 031198001234"),
        ("say", f"Nguyễn Văn An, {BORN}, bé trai"),
        ("press", "Kinh, Việt Nam"),
        ("press", "Trạm y tế xã Thái Tân, thành phố Hải Phòng"),
        ("press", "Xã Thái Tân, thành phố Hải Phòng"),
        ("say", f"{father}, 10/02/1995, 031095004321"),
        ("say", "Số 15, quyển 01/2020, ngày 12/06/2020, UBND xã Thái Tân"),
        ("press", "1 bản"),
        ("say", "0912345678"),
    ):
        if act == "press":
            chat.press(arg)
        else:
            chat.say(arg)
        seen += numbers(chat)
        while texts.BTN_TONES_USE in chat.labels:
            assert questions is not None, chat.text
            questions.append(chat.replies[-1].text)
            chat.press(texts.BTN_TONES_USE)
            seen += numbers(chat)
    for ref in ("p1", "p2"):
        chat.send(attachments=(photo(ref),))
        chat.send(attachments=(stored(photo(ref), f"sha-{ref}"),))
    return seen


def submitted(chat: FormChat) -> SubmitDossier:
    chat.press(texts.BTN_SEND)
    [effect] = chat.effects
    assert isinstance(effect, SubmitDossier)
    return effect


# --- «Câu i/n» ------------------------------------------------------------------------------


def test_the_question_numbers_go_one_by_one_on_the_scripted_path() -> None:
    chat = FormChat()
    seen = scripted(chat)
    assert texts.review_title(real_birth().name) in chat.text
    # Ten questions (the relation, a line per person, the common answers as buttons, the
    # copies, the phone): numbered 1, 2, 3 … 10, none skipped, none said twice.
    assert [i for i, _ in seen] == list(range(1, 11))
    # Once the mother said she is the mother, the count is the one that is asked: 10, kept.
    assert {n for _, n in seen[1:]} == {10}


def test_a_question_asked_again_in_parts_keeps_its_number() -> None:
    chat = FormChat()
    chat.say("/start")
    chat.send(payload=f"file:{real_birth().code}")
    chat.press("Mẹ")
    chat.say("Trần Thị Hoa")  # the name alone: the rest of the same line is asked after it
    assert numbers(chat) == [(2, 10)]
    chat.say("20/05/1998")
    assert numbers(chat) == [(2, 10)]
    chat.say("031198001234")
    assert numbers(chat) == [(3, 10)]


# --- The review -----------------------------------------------------------------------------


def test_the_review_is_short_with_send_first_and_its_sections_open() -> None:
    chat = FormChat()
    scripted(chat)
    [review] = chat.replies[-1:]
    assert review.text.splitlines() == [
        texts.review_title(real_birth().name),
        "• Cháu: Nguyễn Văn An",
        "• 2 ảnh · 1 bản sao · nhận tại một cửa",
        texts.REVIEW_FOOTER,
    ]
    rows = [[b.text for b in row] for row in review.buttons]
    assert rows == [
        [texts.BTN_SEND],
        ["Người khai", "Cháu"],
        ["Mẹ cháu", "Cha cháu"],
        ["Khác", "Ảnh"],
        [texts.BTN_TO_POST, texts.BTN_CANCEL],
    ]
    # Every section opens with «Gửi hồ sơ» first, and comes back to the review.
    for label in [b for row in rows[1:-1] for b in row]:
        chat.press(label)
        assert chat.labels[0] == texts.BTN_SEND
        chat.press(texts.BTN_TO_REVIEW)
        assert chat.replies[-1].text == review.text


def test_numbers_and_common_answers_read_as_phrases_on_the_review() -> None:
    chat = FormChat()
    scripted(chat)
    chat.press("Khác")
    # The copies are "1 bản sao", not a bare "1".
    assert "• Bạn cần thêm mấy bản sao Giấy khai sinh: 1 bản sao" in chat.text
    assert not re.search(r"mấy bản sao[^:]*: \d+$", chat.text, re.MULTILINE)
    chat.press(texts.btn_edit("Bạn cần thêm mấy bản sao Giấy khai sinh"))
    chat.press("Không cần")
    assert "• 2 ảnh · Không cần bản sao · nhận tại một cửa" in chat.text
    chat.press("Khác")
    assert ": Không cần bản sao" in chat.text


def test_a_line_of_answers_is_read_back_as_phrases() -> None:
    chat = FormChat()
    chat.say("/start")
    chat.send(payload=f"file:{real_birth().code}")
    chat.press("Mẹ")
    chat.say("Trần Thị Hoa, 20/05/1998, 031198001234")
    read = ["Trần Thị Hoa", "sinh ngày 20/05/1998", "số căn cước 031198001234"]
    assert texts.line_read(read) in chat.text
    chat.say(f"Nguyễn Văn An, {BORN}, bé trai")
    chat.press("Kinh, Việt Nam")
    assert texts.line_read(["dân tộc Kinh", "quốc tịch Việt Nam"]) in chat.text


def test_every_number_question_of_the_catalogue_says_what_its_number_counts() -> None:
    catalogue = load_catalogue(DATA_DIR)
    numbers_asked = [
        (p.code, f)
        for p in catalogue
        if p.form is not None
        for f in p.form.fields
        if f.kind == "number"
    ]
    assert numbers_asked
    for code, field in numbers_asked:
        assert "{}" in field.shown.partition("|")[0], (code, field.name)
        assert fa.phrase(field, 2, "2") != "2", (code, field.name)


# --- A name typed without tone marks --------------------------------------------------------


def test_a_name_typed_without_marks_is_asked_about_once_and_printed_as_chosen() -> None:
    chat = FormChat()
    questions: list[str] = []
    seen = scripted(chat, father="nguyen van nam", questions=questions)
    # One question, at the father's line (still his question 7), then on as before.
    [question] = questions
    assert "«Nguyen Van Nam» chưa có dấu" in question and "«Nguyễn Văn Nam»" in question
    assert [i for i, _ in seen] == [1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10]
    effect = submitted(chat)
    assert effect.fields["father_name"] == "Nguyễn Văn Nam"
    assert effect.fields["father_birth_date"] == "1995-02-10"  # the rest of the line kept
    birth = real_birth()
    values = printable(birth, effect.fields)
    pdf = render_declaration_pdf(
        "birth", values, "Xã Thái Tân", "xã Thái Tân", SIGNED, date_in_words=date_in_words
    )
    text = page_text(pdf)
    assert "Nguyễn Văn Nam".upper() in text.upper()
    assert "nguyen van nam" not in text.casefold()


def _father_question(chat: FormChat, father: str) -> None:
    chat.say("/start")
    chat.send(payload=f"file:{real_birth().code}")
    chat.press("Mẹ")
    chat.say("Trần Thị Hoa, 20/05/1998, 031198001234")
    chat.say(f"Nguyễn Văn An, {BORN}, bé trai")
    chat.press("Kinh, Việt Nam")
    chat.press("Trạm y tế xã Thái Tân, thành phố Hải Phòng")
    chat.press("Xã Thái Tân, thành phố Hải Phòng")
    chat.say(f"{father}, 10/02/1995, 031095004321")


def test_the_question_offers_the_usual_spelling_retyping_and_keeping() -> None:
    chat = FormChat()
    _father_question(chat, "tran van nam")
    assert texts.bare_name_question("Tran Van Nam", "Trần Văn Nam") in chat.text
    assert chat.labels[:3] == [
        texts.BTN_TONES_USE,
        texts.BTN_TONES_RETYPE,
        texts.BTN_TONES_KEEP,
    ]
    # Retyped with marks: kept as typed, and nothing asked again.
    chat.press(texts.BTN_TONES_RETYPE)
    assert texts.TONES_RETYPE in chat.text
    chat.say("Trần Văn Nâm")
    assert "chưa có dấu" not in chat.text
    assert chat.draft["answers"]["f:father_name"]["value"] == "Trần Văn Nâm"


@pytest.mark.parametrize("typed", ["giữ nguyên", texts.BTN_TONES_KEEP])
def test_a_name_with_no_known_spelling_can_be_kept_as_typed(typed: str) -> None:
    chat = FormChat()
    _father_question(chat, "lo van pao")  # a name this table does not spell: no guess
    assert texts.bare_name_question("Lo Van Pao", None) in chat.text
    assert texts.BTN_TONES_USE not in chat.labels
    if typed == texts.BTN_TONES_KEEP:
        chat.press(typed)
    else:
        chat.say(typed)
    assert chat.draft["answers"]["f:father_name"]["value"] == "Lo Van Pao"
    assert "Cha mẹ cháu đã đăng ký kết hôn chưa" in chat.text  # on to the next question


def test_a_name_typed_twice_without_marks_is_not_asked_about_twice() -> None:
    chat = FormChat()
    _father_question(chat, "tran van nam")
    chat.press(texts.BTN_TONES_RETYPE)
    chat.say("tran van nam")
    assert "chưa có dấu" not in chat.text
    assert chat.draft["answers"]["f:father_name"]["value"] == "Tran Van Nam"


@pytest.mark.parametrize(
    ("typed", "toned"),
    [
        ("tran van nam", "Trần Văn Nam"),
        ("Nguyen Thi Lan", "Nguyễn Thị Lan"),
        ("le an", "Lê An"),
        ("nguyen thi hoa", None),  # Hoa or Hòa: not guessed
        ("hoang van thanh", None),  # Thanh or Thành
        ("lo van pao", None),  # not in the table
        ("tran", None),  # one word is no full name
    ],
)
def test_the_usual_spelling_is_offered_only_where_it_is_sure(typed: str, toned: str) -> None:
    assert fa.toned_name(typed) == toned


@pytest.mark.parametrize(
    ("name", "bare"),
    [("Tran Van Nam", True), ("Trần Văn Nam", False), ("Tran Văn Nam", False), ("", False)],
)
def test_only_a_name_without_any_mark_counts_as_bare(name: str, bare: bool) -> None:
    assert fa.lacks_tones(name) is bare


def test_a_name_written_without_marks_anyway_is_not_questioned() -> None:
    chat = FormChat()
    _father_question(chat, "mai minh trung")  # Mai Minh Trung is spelled so
    assert "chưa có dấu" not in chat.text
    answers: dict[str, Any] = chat.draft["answers"]
    assert answers["f:father_name"]["value"] == "Mai Minh Trung"


# --- A dossier code pasted anywhere ---------------------------------------------------------

PASTED = "Mã hồ sơ: 000.00.31.h26 - 261127 - 0042 ạ"  # copied from the slip, as people do


def _looked_up(chat: FormChat) -> None:
    before = dict(chat.draft) if chat.state and "filing" in chat.state else None
    screen = chat.last
    chat.say(PASTED)
    assert chat.effects == (LookupDossier("000.00.31.H26-261127-0042"),)
    if before is not None:  # the half-filled form is untouched, to go on after the lookup
        assert chat.draft["answers"] == before["answers"]
    chat.last = dataclasses.replace(screen, state=chat.last.state)  # bot/ answers the lookup


def test_a_pasted_dossier_code_is_looked_up_at_every_step_of_the_form() -> None:
    chat = FormChat()
    chat.say("/start")
    _looked_up(chat)  # the main menu
    chat.send(payload=f"file:{real_birth().code}")
    _looked_up(chat)  # the relation question
    chat.press("Mẹ")
    _looked_up(chat)  # a name question: never taken as a name
    chat.say("Trần Thị Hoa, 20/05/1998, 031198001234")
    chat.say(f"Nguyễn Văn An, {BORN}, bé trai")
    _looked_up(chat)  # a choice with buttons
    chat.press("Kinh, Việt Nam")
    chat.press("Trạm y tế xã Thái Tân, thành phố Hải Phòng")
    chat.press("Xã Thái Tân, thành phố Hải Phòng")
    chat.say("Nguyễn Văn Bình, 10/02/1995, 031095004321")
    chat.say("Số 15, quyển 01/2020, ngày 12/06/2020, UBND xã Thái Tân")
    chat.press("1 bản")
    chat.say("0912345678")
    _looked_up(chat)  # a photo step
    for ref in ("p1", "p2"):
        chat.send(attachments=(photo(ref),))
        chat.send(attachments=(stored(photo(ref), f"sha-{ref}"),))
    _looked_up(chat)  # the review


# --- Each question names whom it is about ----------------------------------------------------

NAMED = {"requester": "bạn", "child": "cháu", "mother": "mẹ cháu", "father": "cha cháu"}
NAMED["parents"] = "cha mẹ cháu"


def test_every_question_of_the_birth_form_names_the_person_it_is_about() -> None:
    form = real_birth().form
    assert form is not None
    for field in form.fields:
        for label in filter(None, (field.label, field.line_label)):
            folded = label.casefold().replace(" của cháu", " cháu")  # "mẹ của cháu"
            if field.who in ("mother", "father", "parents"):
                assert NAMED[field.who] in folded, (field.name, label)
            elif field.who == "child":
                assert "cháu" in folded and "bạn" not in folded, (field.name, label)
            elif field.name != "phone":
                assert "bạn" in folded, (field.name, label)
        # A child's birth date is not helped with an adult's example.
        if field.name == "child_birth_date":
            assert int(field.example[-4:]) >= 2020
