"""Answers checked against each other (issue #11): an ID number whose fourth digit (century
and sex, vietnam.md §4) disagrees with its owner's sex, role or birth date is questioned with a
button to keep it or type it again; an address from before the 2025 reorganisation is answered
with the commune that took it over, to confirm with one tap.
"""

from __future__ import annotations

import socket
from datetime import date
from typing import Any

import pytest

from dialogs import filing_draft as fd
from dialogs import validators as v
from dialogs.addresses import successor
from dialogs.texts import filing as texts
from knowledge.model import FilingForm, FormField, PhotoSlot, Procedure
from tests.dialogs.test_filing import BOOK, FormChat

PARENTS = Procedure(
    code="9.000001",
    name="Thủ tục thử",
    field="Hộ tịch",
    form=FilingForm(
        fields=(
            FormField(
                name="requester_relation",
                kind="choice",
                label="Bạn là gì của cháu?",
                who="requester",
                choices=("Mẹ", "Cha", "Người khác"),
            ),
            FormField(
                name="requester_id_number", kind="id_number", label="Số của bạn?", who="requester"
            ),
            FormField(
                name="father_birth_date", kind="date", label="Cha sinh ngày nào?", who="father"
            ),
            FormField(name="father_id_number", kind="id_number", label="Số của cha?", who="father"),
            FormField(name="mother_residence", kind="address", label="Mẹ ở đâu?", who="mother"),
        ),
        photos=(PhotoSlot(name="paper", label="giấy chứng sinh"),),
    ),
)


def start() -> FormChat:
    chat = FormChat(procedures=(PARENTS,))
    chat.send(payload=f"file:{PARENTS.code}")
    chat.press(texts.BTN_FOR_SELF)
    return chat


def asked(chat: FormChat) -> str:
    return chat.asked(PARENTS)


def answers(chat: FormChat) -> dict[str, Any]:
    return fd.field_answers(chat.draft)


# --- The fourth digit ----------------------------------------------------------------------


def test_the_role_says_the_sex_when_no_answer_does() -> None:
    assert v.id_number_doubt("031190001234", role="father")  # 1: a woman's number
    assert v.id_number_doubt("031090001234", role="father") is None
    assert v.id_number_doubt("031090001234", role="mother")
    assert v.id_number_doubt("031090001234", role="child") is None  # no sex known
    # An answered sex wins over the role (the form asked): no doubt for a woman's own answer.
    assert v.id_number_doubt("031190001234", sex=v.FEMALE, role="requester") is None
    assert v.sex_of_relation("Mẹ") == v.FEMALE
    assert v.sex_of_relation("ông") == v.MALE
    assert v.sex_of_relation("Cha/Mẹ") is None
    assert v.sex_of_relation("Người thân khác") is None


def test_the_century_and_the_year_are_checked_against_the_birth_date() -> None:
    born_1995 = date(1995, 2, 10)
    assert v.id_number_doubt("031095004321", birth_date=born_1995, role="father") is None
    century = v.id_number_doubt("031295004321", birth_date=born_1995)  # 2: born 2000-2099
    assert century is not None and "sinh năm 2000–2099, mà năm sinh đã ghi là 1995" in century
    year = v.id_number_doubt("031096004321", birth_date=born_1995)
    assert year is not None and "(96)" in year and "(tức là 95)" in year
    # Born in 2026, a boy: 2; a girl: 3.
    assert v.id_number_doubt("031226000001", birth_date=date(2026, 1, 5), sex=v.MALE) is None
    girl = v.id_number_doubt("031226000001", birth_date=date(2026, 1, 5), sex=v.FEMALE)
    assert girl is not None and "số lẻ" in girl


def test_a_fathers_number_with_a_womans_digit_is_questioned_and_can_be_kept() -> None:
    chat = start()
    chat.press("Mẹ")
    chat.say("031198001234")  # 1: a woman's number, and the requester is the mother
    assert asked(chat) == "father_birth_date"
    chat.say("10/02/1995")
    chat.say("031195004321")  # 1 again, for the father
    assert "là số của người nữ, mà đây là số của người cha" in chat.text
    assert "Bạn xem lại thẻ căn cước" in chat.text
    assert chat.labels[:2] == [texts.BTN_ID_SURE, texts.BTN_RETYPE]
    assert asked(chat) == "father_id_number"  # the question is still on the screen
    assert "father_id_number" not in answers(chat)
    chat.press(texts.BTN_ID_SURE)
    assert asked(chat) == "mother_residence"
    assert answers(chat)["father_id_number"]["value"] == "031195004321"
    # Kept on purpose: editing another answer later does not question it again.
    chat.press(texts.BTN_BACK)
    chat.press(texts.BTN_BACK)
    chat.say("11/02/1995")
    assert texts.ID_RECHECK not in chat.text
    assert answers(chat)["father_id_number"]["value"] == "031195004321"


def test_a_mother_filing_with_a_mans_number_is_asked_and_may_type_it_again() -> None:
    chat = start()
    chat.press("Mẹ")
    chat.say("031098001234")  # 0: a man's number
    assert "mà người này là nữ" in chat.text
    chat.press(texts.BTN_RETYPE)
    assert asked(chat) == "requester_id_number"
    assert texts.BTN_ID_SURE not in chat.labels
    chat.say("031198001234")
    assert asked(chat) == "father_birth_date"
    assert answers(chat)["requester_id_number"]["value"] == "031198001234"


def test_a_birth_date_typed_after_the_number_questions_it_again() -> None:
    chat = start()
    chat.press("Người khác")
    chat.say("031098001234")
    chat.say("10/02/1995")
    chat.say("031095004321")
    assert asked(chat) == "mother_residence"
    chat.press(texts.BTN_BACK)
    chat.press(texts.BTN_BACK)
    chat.say("10/02/2005")  # now the father's number is of the wrong century
    assert texts.ID_RECHECK in chat.text
    assert "sinh năm 1900–1999, mà năm sinh đã ghi là 2005" in chat.text
    assert "father_id_number" not in answers(chat)
    assert asked(chat) == "father_id_number"  # asked again at once, with its two buttons
    assert chat.labels[:2] == [texts.BTN_ID_SURE, texts.BTN_RETYPE]
    chat.press(texts.BTN_ID_SURE)
    assert answers(chat)["father_id_number"]["value"] == "031095004321"
    assert asked(chat) == "mother_residence"


def test_a_relation_answered_after_the_number_questions_it_with_its_buttons() -> None:
    """The requester's own number comes before the relation that says her sex."""
    procedure = Procedure(
        code="9.000002",
        name="Thủ tục thử",
        field="Hộ tịch",
        form=FilingForm(
            fields=(
                PARENTS.form.fields[1],  # requester_id_number
                PARENTS.form.fields[0],  # requester_relation
                PARENTS.form.fields[4],
            ),
            photos=PARENTS.form.photos,
        ),
    )
    chat = FormChat(procedures=(procedure,))
    chat.send(payload=f"file:{procedure.code}")
    chat.press(texts.BTN_FOR_SELF)
    chat.say("030092001234")  # a man's digit: nothing known yet to doubt it
    assert chat.asked(procedure) == "requester_relation"
    chat.press("Mẹ")
    assert texts.ID_RECHECK in chat.text and "mà người này là nữ" in chat.text
    assert chat.asked(procedure) == "requester_id_number"
    assert chat.labels[:2] == [texts.BTN_ID_SURE, texts.BTN_RETYPE]
    chat.say("030192001234")
    assert chat.asked(procedure) == "mother_residence"
    assert answers(chat)["requester_id_number"]["value"] == "030192001234"


# --- Old addresses -------------------------------------------------------------------------

# Nam Sách district (Hải Dương) → Hải Phòng, from a dataset independent of vietnamadminunits
# (vietnam.md [S4], api/wards/2086.json) and the naming plan quoted in vietnam.md §5:
# old commune → the 2025 commune, with the vietnam-provinces code.
NAM_SACH = [
    ("xã Minh Tân", "Xã Thái Tân"),
    ("xã An Sơn", "Xã Thái Tân"),
    ("xã Thái Tân", "Xã Thái Tân"),
    ("thị trấn Nam Sách", "Xã Nam Sách"),
    ("xã Đồng Lạc", "Xã Nam Sách"),
    ("xã Hồng Phong", "Xã Nam Sách"),
    ("xã An Bình", "Xã An Phú"),
    ("xã Cộng Hòa", "Xã An Phú"),
    ("xã Quốc Tuấn", "Xã Trần Phú"),
    ("xã Hiệp Cát", "Xã Trần Phú"),
    ("xã Nam Hưng", "Xã Hợp Tiến"),
    ("xã Nam Tân", "Xã Hợp Tiến"),
]


@pytest.mark.parametrize(("old", "new"), NAM_SACH)
def test_the_converter_agrees_with_known_mergers(old: str, new: str) -> None:
    found = successor(f"{old}, huyện Nam Sách, tỉnh Hải Dương", BOOK)
    assert found is not None
    assert found.value["commune_name"] == new
    assert found.value["province_code"] == "31"
    assert found.value["province_name"] == "Thành phố Hải Phòng"
    # The code is vietnam-provinces' own: the book finds the same commune by it.
    commune = BOOK.commune(found.value["commune_code"])
    assert commune is not None and commune.name == new and commune.province_code == "31"
    assert found.old == f"{old}, huyện Nam Sách, tỉnh Hải Dương"


def test_the_seed_communes_code_and_the_hamlet_typed_are_kept() -> None:
    found = successor("thôn Mạc Xá, xa minh tan, huyen nam sach, hai duong", BOOK)
    assert found is not None
    assert found.value == {
        "street": "",
        "hamlet": "thôn Mạc Xá",
        "commune_code": "10642",
        "commune_name": "Xã Thái Tân",
        "province_code": "31",
        "province_name": "Thành phố Hải Phòng",
    }
    assert found.display == "thôn Mạc Xá, xã Thái Tân, thành phố Hải Phòng"
    assert not found.divided


def test_the_conversion_never_reaches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The package geocodes an address with a street over the internet to split a divided
    commune; ours passes units only. Every socket connection fails here."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the address conversion tried the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    found = successor("số 5 ngõ 3, phường Cống Vị, quận Ba Đình, Hà Nội", BOOK)
    assert found is not None
    assert found.divided  # Cống Vị went to more than one new ward
    assert found.value["street"] == "số 5 ngõ 3"
    assert found.value["province_code"] == "01"


@pytest.mark.parametrize(
    "line", ["huyện Nam Sách, Hải Dương", "xã Không Có, huyện Nam Sách, Hải Dương", "blah, blah"]
)
def test_nothing_is_offered_without_a_known_old_commune(line: str) -> None:
    assert successor(line, BOOK) is None


def test_an_old_address_is_answered_with_its_successor_for_one_tap() -> None:
    chat = start()
    chat.press("Mẹ")
    chat.say("031198001234")
    chat.say("10/02/1995")
    chat.say("031095004321")
    chat.say("thôn Mạc Xá, xã Minh Tân, huyện Nam Sách, Hải Dương")
    assert (
        "xã Minh Tân, huyện Nam Sách, tỉnh Hải Dương nay là "
        "thôn Mạc Xá, xã Thái Tân, thành phố Hải Phòng" in chat.text
    )
    assert chat.labels[:2] == [texts.BTN_SUCCESSOR_SURE, texts.BTN_RETYPE]
    assert "mother_residence" not in answers(chat)
    chat.press(texts.BTN_SUCCESSOR_SURE)
    stored = answers(chat)["mother_residence"]
    assert stored["value"]["commune_code"] == "10642"
    assert stored["value"]["hamlet"] == "thôn Mạc Xá"
    assert stored["display"] == "thôn Mạc Xá, xã Thái Tân, thành phố Hải Phòng"
    assert "giấy chứng sinh" in chat.text  # on to the photos


def test_an_offered_successor_can_be_refused_and_the_address_typed_again() -> None:
    chat = start()
    chat.press("Mẹ")
    chat.say("031198001234")
    chat.say("10/02/1995")
    chat.say("031095004321")
    chat.say("xã Minh Tân, huyện Nam Sách, Hải Dương")
    chat.press(texts.BTN_RETYPE)
    assert asked(chat) == "mother_residence"
    assert texts.BTN_SUCCESSOR_SURE not in chat.labels
    chat.say("thôn Đông, xã Thái Tân, Hải Phòng")
    assert answers(chat)["mother_residence"]["value"]["hamlet"] == "thôn Đông"
