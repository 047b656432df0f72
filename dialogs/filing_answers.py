"""Reading one answer of the filing form: validators named after the field kind, cross-field
checks, and telling an answer from a question or a navigation word.

Everything here is pure. ``answers`` maps a form field's name to what the draft holds for it,
``{"value": <JSON>, "display": str}``.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from importlib import resources
from typing import Any

from dialogs import validators as v
from dialogs.addresses import AddressBook, parse_address
from dialogs.qa import fold
from dialogs.texts import filing as ftexts
from dialogs.texts import validation as vtexts
from knowledge.model import FormField

# Vietnam keeps one offset all year; "today" for a birth date is the commune's today.
VIETNAM = timezone(timedelta(hours=7))
TEXT_MAX_LENGTH = 200
RELATION_MAX_LENGTH = 50
VILLAGE_MAX_LENGTH = 100
NUMBER_MIN = 0
NUMBER_MAX = 999_999_999_999  # FormField has no bounds; this only keeps out nonsense
# A date field whose name holds one of these may lie ahead (a residence permit's expiry);
# every other date in the forms (births, deaths, issue dates) is in the past.
_FUTURE_DATE_WORDS = ("expiry", "until", "deadline", "appointment")


def today_of(now: datetime) -> date:
    return now.astimezone(VIETNAM).date() if now.tzinfo is not None else now.date()


# --- Validators, one per kind --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """What the form already knows about one person (the fields sharing a ``who``)."""

    birth_date: date | None = None
    sex: str | None = None  # answered, or said by the requester's relation ("Mẹ")
    role: str = ""  # the field's ``who``: "father" says the sex when no answer does


def person_of(
    field: FormField, fields: tuple[FormField, ...], answers: Mapping[str, Any]
) -> Person:
    """The birth date and sex answered for the same person as ``field``."""
    if not field.who:
        return Person()
    birth: date | None = None
    sex: str | None = None
    for other in fields:
        if other.who != field.who or other.name not in answers:
            continue
        value = answers[other.name].get("value")
        if other.kind == "date" and "birth" in other.name and isinstance(value, str):
            try:
                birth = date.fromisoformat(value)
            except ValueError:
                continue
        elif other.kind == "sex" and value in (v.MALE, v.FEMALE):
            sex = value
        elif other.name == "requester_relation" and isinstance(value, str) and sex is None:
            sex = v.sex_of_relation(value)
    return Person(birth, sex, field.who)


Validator = Callable[[FormField, str, Person, date], v.Result]


def validate_name(field: FormField, text: str, person: Person, today: date) -> v.Result:
    return v.parse_name(text)


def validate_date(field: FormField, text: str, person: Person, today: date) -> v.Result:
    past_only = not any(word in field.name for word in _FUTURE_DATE_WORDS)
    return v.parse_date(text, today, past_only=past_only)


def validate_id_number(field: FormField, text: str, person: Person, today: date) -> v.Result:
    # The shape only: a number that disagrees with its owner's sex or birth date is a doubt
    # the form asks about (doubt_of), not a refusal.
    return v.parse_id_number(text)


def validate_phone(field: FormField, text: str, person: Person, today: date) -> v.Result:
    return v.parse_phone(text)


def validate_choice(field: FormField, text: str, person: Person, today: date) -> v.Result:
    return v.parse_choice(text, field.choices)


def validate_yes_no(field: FormField, text: str, person: Person, today: date) -> v.Result:
    return v.parse_yes_no(text)


def validate_sex(field: FormField, text: str, person: Person, today: date) -> v.Result:
    return v.parse_sex(text)


_NONE_WANTED = frozenset({"khong", "khong can", "khong lay", "khong a", "khong can a"})


def validate_number(field: FormField, text: str, person: Person, today: date) -> v.Result:
    if fold(text) in _NONE_WANTED:  # "Không cần" (the button for no copies)
        return v.Valid(0, "0")
    return v.parse_number(text, min_value=NUMBER_MIN, max_value=NUMBER_MAX)


def validate_text(field: FormField, text: str, person: Person, today: date) -> v.Result:
    return v.parse_text(text, max_length=field.max_length or TEXT_MAX_LENGTH)


VALIDATORS: Mapping[str, Validator] = {
    "name": validate_name,
    "date": validate_date,
    "id_number": validate_id_number,
    "phone": validate_phone,
    "choice": validate_choice,
    "yes_no": validate_yes_no,
    "sex": validate_sex,
    "number": validate_number,
    "text": validate_text,
}


def check_answer(
    field: FormField,
    text: str,
    fields: tuple[FormField, ...],
    answers: Mapping[str, Any],
    today: date,
) -> v.Result:
    """The validated answer to ``field`` (any kind but ``address``, which has its own steps)."""
    if field.kind == "choice" and not field.choices:
        return v.Invalid(vtexts.TEXT_EMPTY)
    validate = VALIDATORS.get(field.kind, validate_text)
    return validate(field, text, person_of(field, fields, answers), today)


def doubt_of(
    field: FormField, value: object, fields: tuple[FormField, ...], answers: Mapping[str, Any]
) -> str | None:
    """The question to ask before keeping a valid answer that disagrees with other answers:
    an ID number whose fourth digit is a woman's for the father, or of another century than
    the birth date. None when the answer fits (or is of a kind with no such check)."""
    if field.kind != "id_number" or not isinstance(value, str):
        return None
    person = person_of(field, fields, answers)
    return v.id_number_doubt(value, birth_date=person.birth_date, sex=person.sex, role=person.role)


def validate_address(field: FormField, text: str, book: AddressBook) -> v.Result:
    return parse_address(text, book, example=field.example or vtexts.ADDRESS_EXAMPLE)


def commune_value(book: AddressBook, code: str) -> dict[str, str] | None:
    """An address naming only a commune (chosen by button), or None for an unknown code."""
    commune = book.commune(code)
    if commune is None:
        return None
    return {
        "street": "",
        "hamlet": "",
        "commune_code": commune.code,
        "commune_name": commune.name,
        "province_code": commune.province_code,
        "province_name": commune.province_name,
    }


def lower_unit(name: str) -> str:
    """ "Xã Thái Tân" → "xã Thái Tân" inside an address line."""
    return name[:1].lower() + name[1:]


def address_display(value: Mapping[str, str]) -> str:
    parts = [value.get("street", ""), value.get("hamlet", "")]
    parts += [lower_unit(value["commune_name"]), lower_unit(value["province_name"])]
    return ", ".join(p for p in parts if p)


_HAMLET_WORDS = frozenset({"thon", "xom", "ap", "ban", "buon", "lang", "soc", "khom", "to"})


def with_village(
    value: Mapping[str, str], text: str, book: AddressBook
) -> tuple[dict[str, str], str] | v.Invalid:
    """The chosen commune's address with the hamlet or street the user typed for it."""
    cleaned = v.parse_text(text, max_length=VILLAGE_MAX_LENGTH)
    if isinstance(cleaned, v.Invalid):
        return cleaned
    village = str(cleaned.value)
    line = f"{village}, {lower_unit(value['commune_name'])}, {lower_unit(value['province_name'])}"
    parsed = parse_address(line, book)
    if isinstance(parsed, v.Valid) and parsed.value.get("commune_code") == value["commune_code"]:
        return dict(parsed.value), parsed.display
    # The line did not parse as one address (a namesake commune in the same province, a
    # stray old district word): keep the words as typed next to the commune that was chosen.
    first = fold(village).split()[:1]
    hamlet = bool(first) and first[0] in _HAMLET_WORDS
    full = dict(value)
    full["hamlet" if hamlet else "street"] = village
    return full, address_display(full)


def address_is_valid(value: object, book: AddressBook) -> bool:
    """A stored address names a commune that exists, with its own province."""
    if not isinstance(value, dict):
        return False
    commune = book.commune(str(value.get("commune_code", "")))
    return (
        commune is not None
        and value.get("commune_name") == commune.name
        and value.get("province_code") == commune.province_code
        and all(isinstance(value.get(k), str) for k in ("street", "hamlet"))
    )


# The address checker's refusals that come from an old-style line (districts, provinces merged
# away): a commune found in such a line is the old one, so no commune buttons are offered.
_OLD_STYLE = vtexts.ADDRESS_HAS_DISTRICT.split("{")[0]
_OLD_PROVINCE = vtexts.ADDRESS_LEGACY_PROVINCE.split("{")[0]


def is_old_style_refusal(message: str) -> bool:
    return message.startswith((_OLD_STYLE, _OLD_PROVINCE))


# --- Navigation and questions ----------------------------------------------------------------


class Nav(Enum):
    BACK = "back"
    SKIP = "skip"
    CANCEL = "cancel"
    HELP = "help"
    DONE = "done"


_NAV_WORDS: Mapping[Nav, frozenset[str]] = {
    Nav.BACK: frozenset({"quay lai", "tro lai", "lui lai", "back", "cau truoc"}),
    Nav.SKIP: frozenset({"bo qua", "skip", "bo qua cau nay", "bo qua a"}),
    Nav.CANCEL: frozenset({"huy", "huy bo", "huy ho so", "cancel", "huy a"}),
    Nav.HELP: frozenset({"tro giup", "giup", "huong dan", "giup voi", "giup do"}),
    Nav.DONE: frozenset({"xong", "da xong", "xong roi", "het roi", "gui xong"}),
}


def nav_of(text: str) -> Nav | None:
    """A navigation word typed instead of pressed ("quay lai", "/huy", "?")."""
    if text.strip() == "?":
        return Nav.HELP
    folded = fold(text)
    for nav, words in _NAV_WORDS.items():
        if folded in words:
            return nav
    return None


_QUESTION_PHRASES = tuple(
    f" {p} "
    for p in (
        "can gi",
        "can nhung gi",
        "bao nhieu",
        "o dau",
        "la gi",
        "the nao",
        "nhu nao",
        "may ngay",
        "bao lau",
        "bao gio",
        "khi nao",
        "tai sao",
        "vi sao",
        "lam sao",
        "co duoc khong",
        "duoc khong",
        "phai khong",
        "hay khong",
        "giay to gi",
        "mat phi",
        "le phi",
        "mat tien",
    )
)


def looks_like_question(text: str) -> bool:
    """A question rather than an answer: "lệ phí bao nhiêu", "mấy ngày thì có?", "có mất phí
    không". A name field must not take "lệ phí bao nhiêu" for a name."""
    if text.rstrip().endswith("?"):
        return True
    folded = fold(text)
    padded = f" {folded} "
    if any(phrase in padded for phrase in _QUESTION_PHRASES):
        return True
    words = folded.split()
    return len(words) >= 3 and words[0] == "co" and words[-1] in ("khong", "ko", "k")


class Topic(Enum):
    FEE = "fee"
    TIME = "time"
    PAPERS = "papers"
    WHERE = "where"
    GENERAL = "general"


_TOPIC_WORDS: tuple[tuple[Topic, tuple[str, ...]], ...] = (
    (Topic.FEE, ("le phi", "phi", "tien", "bao nhieu tien", "mat tien")),
    (Topic.TIME, ("may ngay", "bao lau", "khi nao", "bao gio", "thoi gian", "mat may", "lau")),
    (Topic.PAPERS, ("giay to", "can gi", "mang gi", "can nhung gi", "ho so gom", "can mang")),
    (Topic.WHERE, ("o dau", "noi nao", "cho nao", "nop o")),
)


def topic_of(text: str) -> Topic:
    padded = f" {fold(text)} "
    for topic, words in _TOPIC_WORDS:
        if any(f" {w} " in padded for w in words):
            return topic
    return Topic.GENERAL


# --- Labels ------------------------------------------------------------------------------------

_PARENTHESES = re.compile(r"\s*\([^)]*\)")
_TRAILING = (" là gì", " ạ", " à")
LABEL_LENGTH = 40


def short_label(field: FormField) -> str:
    """The question as a review line: "Họ và tên của bạn (người đi khai) là gì ạ?" →
    "Họ và tên của bạn". FormField has no short label, so the question is trimmed."""
    text = _PARENTHESES.sub("", field.label).strip().rstrip("?:").strip()
    changed = True
    while changed:
        changed = False
        for tail in _TRAILING:
            if text.endswith(tail):
                text = text[: -len(tail)].rstrip()
                changed = True
    text = text.rstrip("?:").strip() or field.name
    return text[:1].upper() + text[1:]


def phrase(field: FormField, value: object, display: str) -> str:
    """An answer as it reads without its question, on the review and in "Mình đã ghi: …":
    "1 bản sao", "dân tộc Kinh", "sinh ngày 20/05/1998", "Có con chung: Có"."""
    pattern = field.shown or ftexts.KIND_SHOWN.get(field.kind, "")
    if not field.shown and field.kind == "date" and field.name.endswith("birth_date"):
        pattern = ftexts.BIRTH_DATE_SHOWN
    if not pattern:
        if field.kind == "yes_no":  # a bare "Có" says nothing without its question
            return f"{short_label(field)}: {display}"
        return display
    shown, _, zero = pattern.partition("|")
    if field.kind == "number" and isinstance(value, int):
        if value == 0 and zero:
            return zero[:1].upper() + zero[1:]
        display = f"{value:,}".replace(",", ".")  # 50.000.000 đồng
    return shown.replace("{}", display)


# --- Names typed without tone marks -------------------------------------------------------------


@functools.cache
def _name_words() -> dict[str, dict[str, str]]:
    """dialogs/names.toml: per place in a name, the one usual spelling of a word typed bare."""
    text = resources.files("dialogs").joinpath("names.toml").read_text("utf-8")
    return {place: dict(words) for place, words in tomllib.loads(text).items()}


def lacks_tones(name: str) -> bool:
    """A name typed with no diacritic at all ("tran van nam"), which the papers would print
    bare; a name with one mark anywhere was typed with care and is taken as given."""
    letters = [c for c in name if c.isalpha()]
    return bool(letters) and all(c.isascii() for c in letters)


def toned_name(name: str) -> str | None:
    """The usual spelling of a name typed without marks ("tran van nam" → "Trần Văn Nam"),
    when every word has one in its place (family, middle, given); None when any word is not
    known or could be spelled two ways."""
    words = name.split()
    if len(words) < 2:
        return None
    table = _name_words()
    places = ["family", *["middle"] * (len(words) - 2), "given"]
    shown: list[str] = []
    for word, place in zip(words, places, strict=True):
        found = table[place].get(word.casefold())
        if found is None:
            return None
        shown.append(found)
    return " ".join(shown)


# --- Several answers in one line -----------------------------------------------------------

# "031198001234", "031 198 001 234"; 9 digits too, so an old ID card number is refused politely.
_ID_RUN = re.compile(r"(?<![\d/.-])\d(?:[ .]?\d){8,11}(?![\d/.-])")
_DATE_RUN = re.compile(r"(?<!\d)\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{2,4}(?!\d)")
_SEPARATORS = re.compile(r"\s*[,;\n]+\s*")
# Words people put before a part ("số 15", "quyển 01/2020", "ngày …", "tại UBND …"), folded.
_CUES: tuple[tuple[str, str], ...] = (
    ("quyen so", "book"),
    ("quyen", "book"),
    ("so", "number"),
    ("ngay", "date"),
    ("tai", "place"),
    ("noi dang ky", "place"),
    ("sinh ngay", "date"),
    ("can cuoc", "id_number"),
    ("cccd", "id_number"),
)
_SEX_PARTS = frozenset(
    {"nam", "nu", "trai", "gai", "be trai", "be gai", "con trai", "con gai", "chau trai"}
)


def _without_cue(part: str) -> tuple[str, str]:
    """ "quyển 01/2020" -> ("01/2020", "book"); a part without a cue word is as typed."""
    folded_words = fold(part).split()
    for cue, kind in _CUES:
        words = cue.split()
        if folded_words[: len(words)] == words and len(folded_words) > len(words):
            return " ".join(part.split()[len(words) :]).strip(" :."), kind
        if folded_words == words:
            return "", kind
    return part, ""


def split_line(run: tuple[FormField, ...], text: str) -> list[tuple[FormField, str]]:
    """The part of ``text`` meant for each field of ``run`` (fields asked in one line), in the
    run's order; fields the line says nothing about are left out.

    An ID number and a date are found wherever they are; a part that is only "nam", "bé gái"
    is the sex; the other parts, split at commas, go to the other fields in order (a part
    starting "quyển" to the field named ``…_book``, "số" to ``…_number``, "tại" to ``…_place``)
    and the last such field takes whatever is left over.
    """
    found: dict[str, str] = {}
    rest = text
    for kind, pattern in (("id_number", _ID_RUN), ("date", _DATE_RUN)):
        wanted = [f for f in run if f.kind == kind]
        if not wanted:
            continue
        for field, match in zip(wanted, list(pattern.finditer(rest)), strict=False):
            found[field.name] = match.group(0)
        rest = pattern.sub(",", rest, count=len(wanted))
    others: list[FormField] = [f for f in run if f.name not in found and f.kind not in ("date",)]
    others = [f for f in others if f.kind != "id_number"]
    parts = [p for p in _SEPARATORS.split(rest) if p.strip()]
    leftover: list[str] = []
    for raw in parts:
        part, cue = _without_cue(raw)
        if not part:
            continue
        sex = next((f for f in others if f.kind == "sex"), None)
        if sex is not None and fold(part) in _SEX_PARTS:
            found[sex.name] = part
            others.remove(sex)
            continue
        by_cue = next((f for f in others if cue and f.name.endswith(cue)), None)
        if by_cue is not None:
            found[by_cue.name] = part
            others.remove(by_cue)
        else:
            leftover.append(part)
    plain = [f for f in others if f.kind != "sex"]
    for field, part in zip(plain, leftover, strict=False):
        found[field.name] = part
    if plain and len(leftover) > len(plain):
        last = plain[-1]
        found[last.name] = ", ".join(leftover[len(plain) - 1 :])
    return [(f, found[f.name]) for f in run if f.name in found]


def with_commune(template: str, commune: str, province: str) -> str:
    """A suggested answer naming the commune: "Trạm y tế {commune}, {province}"."""
    text = template.replace("{commune}", lower_unit(commune))
    text = text.replace("{province}", lower_unit(province))
    return text[:1].upper() + text[1:]
