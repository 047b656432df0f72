"""Validators for the filing form: turn what a villager types into a clean value, or re-ask.

Each ``parse_*`` is pure (no clock: ``today`` is passed in) and returns ``Valid(value, display)``
or ``Invalid(message)``. ``value`` is JSON-ready (dates as ISO strings) because it is stored in
the conversation state; ``display`` is what the review screen shows. ``message`` says what was
wrong and gives an example, in the words of ``dialogs.texts.validation``.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rapidfuzz import fuzz, process

from dialogs.texts import validation as texts
from knowledge.normalize import normalize


@dataclass(frozen=True, slots=True)
class Valid:
    value: Any
    display: str


@dataclass(frozen=True, slots=True)
class Invalid:
    message: str


Result = Valid | Invalid


def clean_spaces(text: str) -> str:
    """NFC, trimmed, runs of whitespace collapsed: decomposed input from some phone keyboards
    would otherwise compare unequal to the same name typed on another phone."""
    return " ".join(unicodedata.normalize("NFC", text).split())


# Names ---------------------------------------------------------------------------------------

NAME_MAX_LENGTH = 100
_NAME_JOINERS = "'-"  # Ê Đê and Gia Rai names: "H'Hen Niê", "Ksor H'Bia"; hyphenated names


def _capitalise_word(word: str) -> str:
    out: list[str] = []
    upper_next = True
    for char in word.lower():
        out.append(char.upper() if upper_next else char)
        upper_next = char in _NAME_JOINERS
    return "".join(out)


def title_name(text: str) -> str:
    """ "tran van NAM" → "Tran Van Nam", "h'hen niê" → "H'Hen Niê": each word capitalised,
    the diacritics as given."""
    return " ".join(_capitalise_word(word) for word in clean_spaces(text).split(" "))


def parse_name(text: str) -> Result:
    """A full name as on the ID card: "nguyễn văn AN" → "Nguyễn Văn An"."""
    name = clean_spaces(text).replace("’", "'").replace("`", "'")
    if not name:
        return Invalid(texts.NAME_EMPTY)
    if any(char.isdigit() for char in name):
        return Invalid(texts.NAME_HAS_DIGITS)
    odd = sorted(
        {
            char
            for char in name
            if not (char.isalpha() or char == " " or char in _NAME_JOINERS)
            and not unicodedata.category(char).startswith("M")
        }
    )
    if odd:
        return Invalid(texts.NAME_BAD_CHARACTERS.format(characters=" ".join(odd)))
    if any(not any(char.isalpha() for char in word) for word in name.split(" ")):
        return Invalid(texts.NAME_BAD_CHARACTERS.format(characters=" ".join(_NAME_JOINERS)))
    if len(name) > NAME_MAX_LENGTH:
        return Invalid(texts.NAME_TOO_LONG.format(length=len(name), limit=NAME_MAX_LENGTH))
    if sum(char.isalpha() for char in name) < 2:
        return Invalid(texts.NAME_TOO_SHORT)
    proper = title_name(name)
    return Valid(proper, proper)


# Dates ---------------------------------------------------------------------------------------

# Words people put around a date: "ngày 2 tháng 1 năm 1990", "sinh ngày mùng 2 ...".
_DATE_FILLERS = frozenset({"ngay", "thang", "nam", "sinh", "mung", "mong", "vao", "la", "luc"})


def format_date(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def _date_parts(words: list[str]) -> tuple[str, str, str] | None:
    if len(words) == 3:
        first, second, third = words
        if len(first) == 4 and len(third) <= 2:  # ISO order pasted from a computer
            return third, second, first
        return first, second, third
    if len(words) == 1 and len(words[0]) == 8:  # "15031990" typed without separators
        digits = words[0]
        return digits[:2], digits[2:4], digits[4:]
    return None


def _full_year(two_digits: int, month: int, day: int, today: date, past_only: bool) -> int:
    """ "90" is 1990 and "05" is 2005: the 21st century unless that would be in the future."""
    recent = 2000 + two_digits
    if not past_only:
        return recent
    return recent if (recent, month, day) <= (today.year, today.month, today.day) else recent - 100


def parse_date(
    text: str,
    today: date,
    *,
    past_only: bool = True,
    min_year: int = 1900,
    max_age_days: int | None = None,
) -> Result:
    """dd/mm/yyyy and what people really type: 1/2/90, 01-02-1990, 01.02.1990, "1 2 1990",
    "ngày 2 tháng 1 năm 1990" (with or without tone marks). ``max_age_days`` bounds how long
    ago the date may be (e.g. a death to declare within the legal period)."""
    words = [w for w in normalize(text).split() if w not in _DATE_FILLERS]
    if not words or not all(w.isdigit() for w in words):
        return Invalid(texts.DATE_FORMAT)
    if len(words) == 2 and all(len(w) <= 2 for w in words):
        return Invalid(texts.DATE_NO_YEAR)
    parts = _date_parts(words)
    if parts is None:
        return Invalid(texts.DATE_FORMAT)
    day_text, month_text, year_text = parts
    if len(day_text) > 2 or len(month_text) > 2:
        return Invalid(texts.DATE_FORMAT)
    day, month = int(day_text), int(month_text)
    if not 1 <= month <= 12:
        return Invalid(texts.DATE_BAD_MONTH.format(month=month))
    if len(year_text) == 4:
        year = int(year_text)
    elif len(year_text) == 2:
        year = _full_year(int(year_text), month, day, today, past_only)
    else:
        return Invalid(texts.DATE_BAD_YEAR)
    if year < min_year:
        return Invalid(texts.DATE_TOO_EARLY.format(year=year, min_year=min_year))
    days_in_month = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days_in_month:
        return Invalid(
            texts.DATE_BAD_DAY.format(
                date=f"{day:02d}/{month:02d}/{year}", month=month, year=year, days=days_in_month
            )
        )
    parsed = date(year, month, day)
    if past_only and parsed > today:
        return Invalid(
            texts.DATE_IN_FUTURE.format(date=format_date(parsed), today=format_date(today))
        )
    if max_age_days is not None:
        earliest = today - timedelta(days=max_age_days)
        if parsed < earliest:
            return Invalid(
                texts.DATE_TOO_OLD.format(
                    date=format_date(parsed),
                    days=max_age_days,
                    earliest=format_date(earliest),
                    today=format_date(today),
                )
            )
    return Valid(parsed.isoformat(), format_date(parsed))


# Sex -----------------------------------------------------------------------------------------

MALE = "Nam"
FEMALE = "Nữ"
_MALE_WORDS = frozenset({"nam", "trai", "male", "m"})
_FEMALE_WORDS = frozenset({"nu", "gai", "female", "f"})
_MALE_PHRASES = (("dan", "ong"),)
_FEMALE_PHRASES = (("dan", "ba"), ("phu", "nu"))


def _contains(words: Sequence[str], phrase: Sequence[str]) -> bool:
    size = len(phrase)
    return any(tuple(words[i : i + size]) == tuple(phrase) for i in range(len(words) - size + 1))


def _replace(words: list[str], phrase: tuple[str, ...], word: str) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        if tuple(words[i : i + len(phrase)]) == phrase:
            out.append(word)
            i += len(phrase)
        else:
            out.append(words[i])
            i += 1
    return out


def parse_sex(text: str) -> Result:
    """Nam / Nữ, also "trai", "gái", "con gái", "nu" typed without tone marks."""
    words = normalize(text).split()
    male = any(w in _MALE_WORDS for w in words) or any(_contains(words, p) for p in _MALE_PHRASES)
    female = any(w in _FEMALE_WORDS for w in words) or any(
        _contains(words, p) for p in _FEMALE_PHRASES
    )
    if male == female:
        return Invalid(texts.SEX_UNCLEAR)
    value = MALE if male else FEMALE
    return Valid(value, value)


# 12-digit personal ID number (domain notes §4) -----------------------------------------------

# TT 07/2016 Appendix 1: where the birth was registered, as the 63 provinces were before 2025.
# Numbers are permanent (no re-issue after the merger), so every code stays valid.
ID_PROVINCES: dict[str, str] = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu",
    "079": "TP Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}
_ID_SEPARATORS = re.compile(r"[\s.\-]+")


def _canonical_sex(sex: str) -> str:
    result = parse_sex(sex)
    if isinstance(result, Invalid):
        raise ValueError(f"sex must be {MALE!r} or {FEMALE!r}, got {sex!r}")
    return str(result.value)


def id_sex_century_digit(year: int, sex: str) -> int:
    """Digit 4 of the ID: even for men, odd for women, +2 per century from 1900."""
    century = (year - 1900) // 100
    if not 0 <= century <= 4:
        raise ValueError(f"birth year {year} outside 1900–2399")
    return 2 * century + (1 if _canonical_sex(sex) == FEMALE else 0)


def parse_id_number(text: str, *, birth_date: date | None = None, sex: str | None = None) -> Result:
    """The 12-digit số định danh: layout PPP G YY RRRRRR, checked against sex and birth date.

    There is no check digit (§4), so these checks are all the bot can do; ``display`` is the
    full number for its owner to compare with the card, logs use ``mask_id``.
    """
    number = _ID_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if not number:
        return Invalid(texts.ID_EMPTY)
    if not (number.isascii() and number.isdigit()):
        return Invalid(texts.ID_NOT_DIGITS)
    if len(number) == 9:
        return Invalid(texts.ID_OLD_CMND)
    if len(number) != 12:
        return Invalid(texts.ID_WRONG_LENGTH.format(count=len(number)))
    if number[:3] not in ID_PROVINCES:
        return Invalid(texts.ID_BAD_PROVINCE.format(prefix=number[:3]))
    digit = int(number[3])
    id_sex = FEMALE if digit % 2 else MALE
    id_first_year = 1900 + 100 * (digit // 2)
    if sex is not None:
        stated = _canonical_sex(sex)
        if stated != id_sex:
            if birth_date is not None and 1900 <= birth_date.year < 2400:
                return Invalid(
                    texts.ID_SEX_MISMATCH.format(
                        digit=digit,
                        id_sex=id_sex,
                        sex=stated,
                        year=birth_date.year,
                        expected=id_sex_century_digit(birth_date.year, stated),
                    )
                )
            return Invalid(
                texts.ID_SEX_MISMATCH_NO_YEAR.format(
                    digit=digit,
                    id_sex=id_sex,
                    sex=stated,
                    parity=texts.ID_ODD if stated == FEMALE else texts.ID_EVEN,
                )
            )
    if birth_date is not None:
        year = birth_date.year
        if not 1900 <= year < 2400:
            return Invalid(texts.ID_BIRTH_YEAR_UNSUPPORTED.format(year=year))
        if not id_first_year <= year < id_first_year + 100:
            if sex is not None:
                expected = str(id_sex_century_digit(year, sex))
            else:
                male_digit = id_sex_century_digit(year, MALE)
                expected = texts.ID_EITHER.format(first=male_digit, second=male_digit + 1)
            return Invalid(
                texts.ID_CENTURY_MISMATCH.format(
                    digit=digit,
                    first=id_first_year,
                    last=id_first_year + 99,
                    year=year,
                    expected=expected,
                )
            )
        if int(number[4:6]) != year % 100:
            return Invalid(
                texts.ID_YEAR_MISMATCH.format(
                    digits=number[4:6], year=year, expected=f"{year % 100:02d}"
                )
            )
    return Valid(number, number)


# Whose number it is says the sex when the form asks no sex question: a father's number has
# an even fourth digit. The requester's relation to the child says it too ("Mẹ", "Ông").
ROLE_SEX: dict[str, str] = {
    "father": MALE,
    "husband": MALE,
    "groom": MALE,
    "mother": FEMALE,
    "wife": FEMALE,
    "bride": FEMALE,
}
_RELATION_SEX = {"cha": MALE, "bo": MALE, "ong": MALE, "me": FEMALE, "ma": FEMALE, "ba": FEMALE}


def sex_of_relation(relation: str) -> str | None:
    """ "Mẹ" → Nữ, "Ông" → Nam; None for "Cha/Mẹ", "Người thân khác" and the like."""
    words = normalize(relation).split()
    if len(words) != 1:
        return None
    return _RELATION_SEX.get(words[0])


def id_number_doubt(
    number: str, *, birth_date: date | None = None, sex: str | None = None, role: str = ""
) -> str | None:
    """A polite question when a well-formed number disagrees with what the form knows of its
    owner: the fourth digit (century and sex, §4) against the sex answered, or the sex of the
    role (a father's number with a woman's digit), and the century and year against the birth
    date. None when nothing disagrees. The citizen may be right (a typo in the birth date, a
    card that really reads so), so the dialog asks to confirm or retype; it never refuses."""
    digit = int(number[3])
    id_sex = FEMALE if digit % 2 else MALE
    stated = _canonical_sex(sex) if sex is not None else ROLE_SEX.get(role)
    if stated is not None and stated != id_sex:
        person = texts.ID_ROLE_PERSON.get(role, texts.ID_SOMEONE).format(sex=stated.lower())
        return texts.ID_DOUBT_SEX.format(
            digit=digit, id_sex=id_sex.lower(), person=person, parity=_parity(stated)
        )
    if birth_date is None:
        return None
    first = 1900 + 100 * (digit // 2)
    year = birth_date.year
    if not first <= year < first + 100:
        return texts.ID_DOUBT_CENTURY.format(digit=digit, first=first, last=first + 99, year=year)
    if int(number[4:6]) != year % 100:
        return texts.ID_DOUBT_YEAR.format(
            digits=number[4:6], year=year, expected=f"{year % 100:02d}"
        )
    return None


def _parity(sex: str) -> str:
    return texts.ID_ODD if sex == FEMALE else texts.ID_EVEN


def mask_id(number: str) -> str:
    """Personal data is masked in logs: "030190012389" → "0301******89"."""
    digits = "".join(char for char in number if char.isdigit())
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:4] + "*" * (len(digits) - 6) + digits[-2:]


# Phone numbers -------------------------------------------------------------------------------

_PHONE_SEPARATORS = re.compile(r"[\s.\-()/]+")
_MOBILE_PREFIXES = frozenset("35789")


def parse_phone(text: str) -> Result:
    """0912 345 678, +84 912 345 678, 84912345678 → "0912345678"; landlines 02xx, 11 digits."""
    raw = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if not raw:
        return Invalid(texts.PHONE_EMPTY)
    if raw.startswith("+"):
        if not raw.startswith("+84"):
            return Invalid(texts.PHONE_BAD_PREFIX.format(number=raw))
        raw = raw[3:]
    elif raw.startswith("0084"):
        raw = raw[4:]
    elif raw.startswith("84") and len(raw) in (11, 12):
        raw = raw[2:]
    if not (raw.isascii() and raw.isdigit()):
        return Invalid(texts.PHONE_NOT_DIGITS)
    # The leading 0 is dropped after +84, and often forgotten in "912345678".
    number = raw if raw.startswith("0") else "0" + raw
    if len(number) < 3:
        return Invalid(texts.PHONE_MOBILE_LENGTH.format(count=len(number)))
    if number[1] == "2":
        if len(number) != 11:
            return Invalid(texts.PHONE_LANDLINE_LENGTH.format(count=len(number)))
    elif number[1] in _MOBILE_PREFIXES:
        if len(number) != 10:
            return Invalid(texts.PHONE_MOBILE_LENGTH.format(count=len(number)))
    else:
        return Invalid(texts.PHONE_BAD_PREFIX.format(number=number))
    return Valid(number, number)


def to_e164_vn(phone: str) -> str:
    """ "0912345678" → "84912345678", the form Zalo template messages take."""
    result = parse_phone(phone)
    if isinstance(result, Invalid):
        raise ValueError(f"not a Vietnamese phone number: {phone!r}")
    return "84" + str(result.value)[1:]


# Yes / no ------------------------------------------------------------------------------------

_YES_WORDS = frozenset(
    {"co", "u", "uh", "um", "uhm", "o", "vang", "dung", "phai", "duoc", "yes", "y", "ok", "oke"}
    | {"okay", "okie", "yeah", "da"}
)
_NO_WORDS = frozenset({"khong", "ko", "k", "kg", "kh", "hong", "hok", "khum", "no", "chua", "sai"})
_YES_PHRASES = (("dong", "y"), ("chinh", "xac"), ("tat", "nhien"))
# Politeness particles that carry no yes or no: "có ạ", "vâng đúng rồi", "không nhé".
_PARTICLES = frozenset({"a", "roi", "nhe", "nha", "oi", "chu", "ha", "vay", "luon", "lam"})
_YES_NO_WORDS = _YES_WORDS | _NO_WORDS | _PARTICLES


def parse_yes_no(text: str) -> Result:
    """có/ừ/vâng/đúng/ok/1 → True; không/ko/k/chưa/0 → False. A "no" word wins: "không đúng"."""
    folded = normalize(text)
    if folded in ("1", "0"):
        return Valid(folded == "1", "Có" if folded == "1" else "Không")
    words = folded.split()
    for phrase in _YES_PHRASES:
        words = _replace(words, phrase, "co")
    if not words or any(w not in _YES_NO_WORDS for w in words):
        return Invalid(texts.YES_NO_UNCLEAR)
    if any(w in _NO_WORDS for w in words):
        return Valid(False, "Không")
    if any(w in _YES_WORDS for w in words):
        return Valid(True, "Có")
    return Invalid(texts.YES_NO_UNCLEAR)


# Choices -------------------------------------------------------------------------------------

_CHOICE_NUMBER = re.compile(r"^(?:(?:chon|muc|so|cau|phuong an)\s+)*(\d+)$")
_CHOICE_MIN_SCORE = 75
_CHOICE_MARGIN = 10


def _options(choices: Sequence[str]) -> str:
    return "\n".join(
        texts.CHOICE_OPTION.format(number=i, name=name) for i, name in enumerate(choices, 1)
    )


def parse_choice(text: str, choices: Sequence[str]) -> Result:
    """One of ``choices`` by number ("2", "số 2"), by name with or without tone marks, or by a
    close spelling. ``value`` is the chosen string itself."""
    if not choices:
        raise ValueError("parse_choice needs at least one choice")
    unclear = Invalid(texts.CHOICE_UNCLEAR.format(first=choices[0], options=_options(choices)))
    folded = normalize(text)
    if not folded:
        return unclear
    number = _CHOICE_NUMBER.match(folded)
    if number:
        index = int(number.group(1))
        if 1 <= index <= len(choices):
            return Valid(choices[index - 1], choices[index - 1])
        if not any(normalize(choice) == folded for choice in choices):
            return Invalid(
                texts.CHOICE_OUT_OF_RANGE.format(
                    count=len(choices), first=choices[0], options=_options(choices)
                )
            )
    exact = clean_spaces(text).casefold()
    for choice in choices:
        if clean_spaces(choice).casefold() == exact:
            return Valid(choice, choice)
    folded_choices = [normalize(choice) for choice in choices]
    candidates = [i for i, f in enumerate(folded_choices) if f == folded]
    if not candidates:
        padded = f" {folded} "
        candidates = [
            i
            for i, f in enumerate(folded_choices)
            if f and (f" {f} " in padded or padded in f" {f} ")
        ]
    if len(candidates) == 1:
        return Valid(choices[candidates[0]], choices[candidates[0]])
    if len(candidates) > 1:
        first = candidates[0]
        return Invalid(
            texts.CHOICE_AMBIGUOUS.format(
                number=first + 1, name=choices[first], options=_options(choices)
            )
        )
    ranked = process.extract(folded, folded_choices, scorer=fuzz.ratio, limit=2)
    best_score = ranked[0][1]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best_score >= _CHOICE_MIN_SCORE and best_score - runner_up >= _CHOICE_MARGIN:
        chosen = choices[ranked[0][2]]
        return Valid(chosen, chosen)
    return unclear


# Numbers -------------------------------------------------------------------------------------

_UNIT_WORDS = {
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "lam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
}
_GROUPED_DIGITS = re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+(?![\d.,])")
_DECIMAL = re.compile(r"\d[.,]\d")
_NEGATIVE = re.compile(r"(?<![\w])-\s*\d")


def _words_to_number(words: Sequence[str]) -> int | None:
    """Spoken numbers up to 99: "hai", "mười", "mười lăm", "hai mươi mốt"."""
    units = _UNIT_WORDS
    if len(words) == 1:
        if words[0] == "muoi":
            return 10
        return units.get(words[0]) if words[0] != "lam" else None
    if words[0] == "muoi" and len(words) == 2 and words[1] in units:
        return 10 + units[words[1]]
    if words[0] in units and words[0] != "lam" and words[1] == "muoi":
        tens = units[words[0]]
        if len(words) == 2 and tens > 1:
            return 10 * tens
        if len(words) == 3 and tens > 1 and words[2] in units:
            return 10 * tens + units[words[2]]
    return None


def _spoken_numbers(words: Sequence[str]) -> list[int | None]:
    runs: list[list[str]] = []
    current: list[str] = []
    for word in [*words, ""]:
        if word in _UNIT_WORDS or word == "muoi":
            current.append(word)
        elif current:
            runs.append(current)
            current = []
    return [_words_to_number(run) for run in runs]


def parse_number(text: str, *, min_value: int, max_value: int) -> Result:
    """A whole number from digits ("2", "2 bản") or words ("hai bản", "mười")."""
    example = str(min(max(min_value, 2), max_value))
    raw = unicodedata.normalize("NFKC", text)
    raw = _GROUPED_DIGITS.sub(lambda m: m.group(0).replace(".", ""), raw)
    if _DECIMAL.search(raw):
        return Invalid(texts.NUMBER_NOT_WHOLE.format(example=example))
    words = normalize(raw).split()
    digit_runs = [w for w in words if w.isdigit()]
    if len(digit_runs) > 1:
        return Invalid(texts.NUMBER_SEVERAL.format(example=example))
    if digit_runs:
        value = int(digit_runs[0])
        if _NEGATIVE.search(raw):
            value = -value
    else:
        spoken = _spoken_numbers(words)
        if len(spoken) > 1:
            return Invalid(texts.NUMBER_SEVERAL.format(example=example))
        if not spoken or spoken[0] is None:
            return Invalid(texts.NUMBER_UNCLEAR.format(example=example))
        value = spoken[0]
    if value < min_value:
        return Invalid(texts.NUMBER_TOO_SMALL.format(minimum=min_value, example=example))
    if value > max_value:
        return Invalid(texts.NUMBER_TOO_LARGE.format(maximum=max_value, example=example))
    return Valid(value, str(value))


# Free text -----------------------------------------------------------------------------------


def parse_text(text: str, *, max_length: int, min_length: int = 1) -> Result:
    """Free text (a relationship, an occupation, a reason), tidied and bounded."""
    cleaned = clean_spaces(text)
    if not cleaned:
        return Invalid(texts.TEXT_EMPTY)
    if len(cleaned) < min_length:
        return Invalid(texts.TEXT_TOO_SHORT.format(limit=min_length))
    if len(cleaned) > max_length:
        return Invalid(texts.TEXT_TOO_LONG.format(length=len(cleaned), limit=max_length))
    return Valid(cleaned, cleaned)
