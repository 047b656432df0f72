"""Every question names whose answer it asks, in the forms that first ask «Cho bản thân hay cho
người khác?» (temporary residence, its extension, a household business): walked to the end as a
citizen for themselves («Bạn sinh ngày nào ạ?»), as a citizen for someone else («Người đó sinh
ngày nào ạ?») and as a volunteer for a villager, who is never asked «Bạn …» about the villager's
data (the volunteer holds the phone; the answers are not theirs)."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from dialogs import filing_draft as fd
from dialogs import volunteer as flow
from dialogs.filing_draft import relation_field
from dialogs.texts import filing as texts
from knowledge.catalogue import load_catalogue
from knowledge.model import FormField, Procedure
from tests.dialogs.test_filing import DATA, FormChat

FORMS = ("1.004194", "1.002755", "1.001612")  # tạm trú, gia hạn tạm trú, hộ kinh doanh
_YOU = re.compile(r"(?<![Hh]ai )\b[Bb]ạn\b")  # "hai bạn" (a couple) is not one person
_THAT_PERSON = re.compile(r"\b[Nn]gười đó\b")
_NAV = {texts.BTN_BACK, texts.BTN_SKIP, texts.BTN_HELP, texts.BTN_CANCEL, texts.BTN_MENU}
# The villager a volunteer files for: name, ID number (a woman born in 1998), phone; their
# birth date and sex, as the volunteer answers them when asked of «bà con».
VILLAGER = ("trần thị hoa", "031198001234", "0912345678")
VILLAGER_BORN, VILLAGER_SEX = "20/05/1998", "Nữ"
_VILLAGER = re.compile(r"\b[Bb]à con\b")


def curated(code: str) -> Procedure:
    with tempfile.TemporaryDirectory() as tmp:
        for part, suffix in (("curated", "toml"), ("imported", "json")):
            (Path(tmp) / part).mkdir()
            if (DATA / part / f"{code}.{suffix}").exists():
                shutil.copy(DATA / part / f"{code}.{suffix}", Path(tmp) / part)
        procedure = load_catalogue(Path(tmp)).get(code)
    assert procedure is not None and procedure.form is not None
    return procedure


def _field(procedure: Procedure, question: str, asked: list[tuple[FormField, str]]) -> FormField:
    """The field a question asks: of two that read alike ("Bạn sinh ngày nào ạ?", the filer's
    and, for themselves, the subject's), the one not asked yet."""
    assert procedure.form is not None
    done = {f.name for f, _ in asked}
    fields = [
        f
        for f in procedure.form.fields
        if question
        in (
            f.label,
            texts.for_villager(f.label),
            texts.for_own_self(f.label),
            texts.for_villager(texts.for_own_self(f.label)),
        )
    ]
    [field, *_] = [f for f in fields if f.name not in done] or fields
    return field


def relation_choice(procedure: Procedure, field: FormField, role: str) -> str:
    """The answer to the form's own relation question: the one that makes the filer the
    dossier's subject ("Cho chính tôi") for themselves, else the first that does not."""
    assert procedure.form is not None
    subject = procedure.form.subject
    for choice, party in zip(field.choices, field.parties, strict=True):
        if role.endswith("self") == (bool(subject) and party == subject):
            return choice
    return field.choices[0]  # no choice is the subject (a death, a newborn): the first


def walk(procedure: Procedure, role: str) -> list[tuple[FormField, str]]:
    """Answer every question of the form as ``role`` ("self", "other", "volunteer", and
    "volunteer-self" for a villager's «Cho chính tôi») until the
    photos or the review; each field asked, with every line that asked it."""
    return walked(procedure, role)[1]


def walked(procedure: Procedure, role: str) -> tuple[FormChat, list[tuple[FormField, str]]]:
    """The chat of ``walk``, and what it asked."""
    chat = FormChat(procedures=(procedure,))
    chat.say("/start")
    if role.startswith("volunteer"):
        chat.send(payload=f"{flow.STATUS}:approved:khai")
        for typed in (*VILLAGER, "đồng ý"):
            chat.say(typed)
        chat.send(payload=flow.CONSENTED)
        chat.send(payload=f"{flow.PICK}:{procedure.code}")
    elif procedure.form is not None and relation_field(procedure.form) is None:
        chat.send(payload=f"file:{procedure.code}")
        chat.press(texts.BTN_FOR_SELF if role == "self" else texts.BTN_FOR_OTHER)
        if role == "other":
            chat.press("Con")
    else:  # the form's own «Bạn … cho ai ạ?» comes first, answered below
        chat.send(payload=f"file:{procedure.code}")
    asked: list[tuple[FormField, str]] = []
    for _ in range(40):
        text = chat.replies[-1].text
        found = re.findall(r"Câu \d+/\d+: (.*)", text)
        if "ở xã, phường nào" in text or "thôn, xóm" in text:  # an address, step by step
            (line,) = [x for x in text.splitlines() if "xã, phường nào" in x or "thôn, xóm" in x]
            asked.append((asked[-1][0], line))
            options = [label for label in chat.labels if label not in _NAV]
            if "thôn, xóm" in text:
                chat.press(texts.BTN_SKIP)
            else:
                chat.press(options[0])
            continue
        if not found:
            break
        field = _field(procedure, found[-1], asked)
        asked.append((field, found[-1]))
        # The villager's own, put as «bà con», or the subject's their details filled in
        # («Chủ hộ sinh ngày nào ạ?») with no relation asked: as the villager's ID number has them.
        form = procedure.form
        subject = form.subject if form is not None and relation_field(form) is None else ""
        theirs = bool(_VILLAGER.search(found[-1])) or (bool(subject) and field.who == subject)
        about_villager = role.startswith("volunteer") and theirs
        if field.parties:
            chat.press(relation_choice(procedure, field, role))
        elif field.kind == "sex" and about_villager:
            chat.press(VILLAGER_SEX)
        elif field.kind == "date" and field.name.endswith("birth_date") and about_villager:
            chat.say(VILLAGER_BORN)
        elif field.kind in ("choice", "sex", "yes_no"):
            chat.press(next(label for label in chat.labels if label not in _NAV))
        elif field.kind == "address":
            chat.say("Nhà trọ số 5, thôn Đông")  # no commune: asked for it, then the village
        else:
            chat.say(field.example)
            if field.kind == "date" and "chưa tới" in chat.replies[-1].text:
                chat.say("01/02/2026")  # an example later than the test's clock
    assert not re.findall(r"Câu \d+/\d+", chat.replies[-1].text), "the walk did not finish"
    return chat, asked


@pytest.mark.parametrize("code", FORMS)
def test_a_volunteer_is_never_asked_bạn_about_the_villagers_data(code: str) -> None:
    procedure = curated(code)
    assert procedure.form is not None
    asked = walk(procedure, "volunteer")
    # Every question but the villager's name, ID number and phone (given before the form
    # opened) was asked, once; the villager's own are put as «bà con».
    steps = ("xã, phường nào", "thôn, xóm")  # an address's later steps: the same question
    fields = [f.name for f, line in asked if not any(step in line for step in steps)]
    given = {f.name for f in procedure.form.fields if f.kind == "phone"}
    given |= {f.name for f in fd.own_details(procedure.form, "person").values()}
    assert sorted(fields) == sorted(f.name for f in procedure.form.fields if f.name not in given)
    assert len(given) == 3
    addressed = [line for _, line in asked if _YOU.search(line)]
    assert addressed == []
    birth = next(line for f, line in asked if f.name.endswith("birth_date"))
    assert birth == "Bà con sinh ngày nào ạ?"


@pytest.mark.parametrize("code", FORMS)
def test_a_citizen_for_themselves_is_asked_bạn_and_for_someone_else_is_asked_người_đó(
    code: str,
) -> None:
    procedure = curated(code)
    assert procedure.form is not None
    own = walk(procedure, "self")
    other = walk(procedure, "other")
    assert {f.name for f, _ in own} == {f.name for f in procedure.form.fields}
    assert {f.name for f, _ in other} == {f.name for f in procedure.form.fields}
    # For themselves: no question about "that person", and the person's birth date is theirs.
    assert [line for _, line in own if _THAT_PERSON.search(line)] == []
    birth = next(line for f, line in own if f.kind == "date" and f.name.endswith("birth_date"))
    assert birth == "Bạn sinh ngày nào ạ?"
    # For someone else: only the filer's own questions (the phone to call back) say «bạn».
    about_others = [line for f, line in other if f.who != "requester" and _YOU.search(line)]
    assert about_others == []
    birth = next(line for f, line in other if f.kind == "date" and f.name.endswith("birth_date"))
    assert birth == "Người đó sinh ngày nào ạ?"
    assert all(_YOU.search(line) for f, line in other if f.who == "requester")


# Questions that said «Bạn …» about someone else's data, or about the filer while a volunteer
# holds the phone: each form with the fields that did.
MORE = {
    "1.004859": ("change_kind", "new_value"),  # thay đổi, cải chính hộ tịch
    "1.004873": ("purpose",),  # xác nhận tình trạng hôn nhân
    "1.013225": ("building_kind",),  # giấy phép xây dựng
    "2.000635": ("document",),  # bản sao trích lục hộ tịch
    "2.000908": ("document_name",),  # bản sao từ sổ gốc
    "1.000656": ("death_notice_kind",),  # khai tử
    "3.000722": ("want_id_card",),  # liên thông khai sinh cho trẻ dưới 6 tuổi
    "1.012812": ("other_party_name",),  # hòa giải tranh chấp đất đai
}


@pytest.mark.parametrize("code", sorted(MORE))
def test_no_question_says_bạn_to_the_volunteer_or_about_someone_else(code: str) -> None:
    procedure = curated(code)
    volunteer = walk(procedure, "volunteer")
    other = walk(procedure, "other")
    own = walk(procedure, "self")
    for asked in (volunteer, other, own):
        assert set(MORE[code]) <= {f.name for f, _ in asked}
    # The volunteer holds the phone: «Bạn» would be them, and no answer here is theirs.
    assert [line for _, line in volunteer if _YOU.search(line)] == []
    # For someone else: «bạn» is the filer, so only the filer's own questions say it.
    assert [line for f, line in other if f.who != "requester" and _YOU.search(line)] == []
    # A question the filer answers of themselves says «bạn» to a citizen, «bà con» to the
    # villager a volunteer files for; one about the other side of a dispute names neither.
    for f, line in volunteer:
        if f.name in MORE[code] and f.who == "requester":
            assert line.startswith("Bà con") and line == texts.for_villager(f.label)
    for f, line in own + other:
        if f.name in MORE[code]:
            assert line == f.label
            assert bool(_YOU.search(line)) == (f.who == "requester")


# Of those, the forms whose filer can be the one the paper is for (not a death, a newborn or
# a dispute): by «Cho bản thân», or by the form's own «Cho chính tôi».
OWN = ("1.004859", "1.004873", "1.013225", "2.000635", "2.000908")


@pytest.mark.parametrize("code", OWN)
def test_the_filer_who_is_the_subject_is_asked_bạn_and_a_villager_bà_con(code: str) -> None:
    procedure = curated(code)
    assert procedure.form is not None
    subject = procedure.form.subject
    relation = relation_field(procedure.form)
    assert subject and (relation is None or subject in relation.parties)
    own = walk(procedure, "self")
    about_self = [line for f, line in own if f.who == subject]
    assert about_self  # some of the subject's questions are asked of the filer
    assert [line for line in about_self if _THAT_PERSON.search(line)] == []
    if relation is None:
        return  # a volunteer's «Cho bản thân» is not offered: they file for the villager
    villager = walk(procedure, "volunteer-self")  # the villager's «Cho chính tôi»
    assert [line for _, line in villager if _YOU.search(line)] == []
    about_villager = [line for f, line in villager if f.who == subject]
    assert [line for line in about_villager if _THAT_PERSON.search(line)] == []


def _asking_for_whom() -> list[str]:
    """The curated forms that ask «Cho bản thân hay cho người khác?» (no relation question of
    their own)."""
    catalogue = load_catalogue(DATA)
    return sorted(
        p.code
        for p in catalogue.all()
        if p.curated and p.form is not None and relation_field(p.form) is None
    )


@pytest.mark.parametrize("code", _asking_for_whom())
def test_for_someone_else_no_ones_identity_is_asked_of_bạn(code: str) -> None:
    """After «Cho người khác», a name, ID number, birth date, sex or address asked of «bạn»
    would be the filer's own, typed into someone else's paper (1.012812 asked «Họ và tên của
    bạn (người làm đơn)?», and the mediation petition carried the helper's name)."""
    procedure = curated(code)
    identity = ("name", "id_number", "date", "sex", "address")
    other = walk(procedure, "other")
    assert [line for f, line in other if f.kind in identity and _YOU.search(line)] == []


# A marriage's questions about both spouses said «hai bạn» to whoever filed, so a mother
# filing «Cho người khác» for her son was asked «Trước đây hai bạn đăng ký kết hôn ở xã nào?»,
# and a volunteer «Hai bạn cần mấy bản sao …?». They are the couple's (who = "couple"): «hai
# người», «hai bạn» for one of the two filing for themselves; the phone stays the filer's.
COUPLE = {"1.000894": "copies", "1.004746": "previous_registration"}
_YOU_TWO = re.compile(r"\b[Hh]ai bạn\b")


@pytest.mark.parametrize("code", sorted(COUPLE))
def test_a_marriage_says_hai_bạn_only_to_one_of_the_two(code: str) -> None:
    procedure = curated(code)
    own = dict((f.name, line) for f, line in walk(procedure, "self"))
    other = dict((f.name, line) for f, line in walk(procedure, "other"))
    volunteer = dict((f.name, line) for f, line in walk(procedure, "volunteer"))
    about_couple = COUPLE[code]
    assert _YOU_TWO.search(own[about_couple]) and "hai người" not in own[about_couple].lower()
    for asked in (other, volunteer):
        assert [line for line in asked.values() if _YOU_TWO.search(line)] == []
        assert "hai người" in asked[about_couple].lower()
    # For someone else «bạn» is the filer: only their phone says it; the volunteer, holding
    # the phone, is not asked it (the villager's was typed first) nor called «bạn».
    assert [name for name, line in other.items() if _YOU.search(line)] == ["phone"]
    assert "hai" in other["phone"] and "phone" not in volunteer
    assert [line for line in volunteer.values() if _YOU.search(line)] == []


# The yearly poverty-household reviews are about the household (subject = "person"): the
# villager's name and ID number a volunteer typed first are its head's, not asked again.
HOUSEHOLD = ("1.011606", "1.011607")


@pytest.mark.parametrize("code", HOUSEHOLD)
def test_a_volunteers_villager_is_the_household_head_of_a_poverty_review(code: str) -> None:
    procedure = curated(code)
    assert procedure.form is not None
    chat, asked = walked(procedure, "volunteer")
    given = {"head_name", "head_id_number", "phone"}
    assert {f.name for f, _ in asked} == {f.name for f in procedure.form.fields} - given
    assert texts.section_button("other") in chat.labels  # the review
    chat.press(texts.section_button("other"))
    shown = chat.replies[-1].text
    assert "• Họ và tên chủ hộ: Trần Thị Hoa" in shown
    assert f"• Số căn cước của chủ hộ: {VILLAGER[1]}" in shown
    assert "Sửa: Họ và tên chủ hộ" in chat.labels


def _opened_by_volunteer(procedure: Procedure) -> str:
    chat = FormChat(procedures=(procedure,))
    chat.say("/start")
    chat.send(payload=f"{flow.STATUS}:approved:khai")
    for typed in (*VILLAGER, "đồng ý"):
        chat.say(typed)
    chat.send(payload=flow.CONSENTED)
    chat.send(payload=f"{flow.PICK}:{procedure.code}")
    return "\n".join(r.text for r in chat.last.replies)


def test_the_volunteers_note_names_only_what_their_details_filled() -> None:
    """A marriage asks the villager's phone only: «Đã điền sẵn họ tên, số căn cước và số điện
    thoại» said more than was filled (the spouses' names and ID numbers are still asked)."""
    marriage = _opened_by_volunteer(curated("1.000894"))
    assert "Đã điền sẵn số điện thoại của Trần Thị Hoa." in marriage
    assert "họ tên" not in marriage and "Câu 1/" in marriage
    residence = _opened_by_volunteer(curated("1.004194"))
    assert "Đã điền sẵn họ tên, số căn cước và số điện thoại của Trần Thị Hoa." in residence
    # A form asking none of the three says nothing was filled.
    procedure = curated("1.004746")
    assert procedure.form is not None
    fields = tuple(f for f in procedure.form.fields if f.kind != "phone")
    bare = replace(procedure, form=replace(procedure.form, fields=fields))
    opened = _opened_by_volunteer(bare)
    assert "Câu 1/" in opened and "Đã điền sẵn" not in opened
