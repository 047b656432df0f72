"""A filing's answers as a declaration prints them, written as an officer writes them.

The dialog stores answers for the machine (dates ISO, addresses as mappings, commune codes,
choices as the button said them, names as typed); the declaration (backoffice.documents) prints
plain text. :func:`printable` is the one place that turns the one into the other:

* names in title case, with the diacritics the citizen gave ("tran van nam" → "Tran Van Nam";
  asking for the diacritics is the form's job);
* dates as dates (the PDF writes dd/mm/yyyy, the child's birth date also in words), wherever an
  ISO date turns up; yes/no as "Có"/"Không";
* ethnicity and nationality by their official names ("kinh" → "Kinh", "viet nam" → "Việt Nam");
* places by the units' official names: an address as the line the citizen was shown, a commune
  code as "xã Thái Tân, thành phố Hải Phòng", a typed place line with its units spelt out;
* the forms' own field names onto the declaration's (a marriage form asks wife_*/husband_*, the
  declaration prints bride_*/groom_*; the death form's last residence; the marital status as the
  sentence the certificate repeats; a marriage certificate typed on one line, split).

Nothing that is not plain text reaches the page: a value of a shape no field has (a list, a
stray mapping, None) is left blank rather than printed as Python.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from dialogs import validators as v
from dialogs.addresses import AddressBook, parse_address
from dialogs.filing_answers import address_display, lower_unit
from knowledge.model import Procedure
from knowledge.normalize import normalize
from knowledge.official_names import official_ethnicity, official_nationality

_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.+\-Z]*)?\s*$")
_COMMUNE_CODE = re.compile(r"^\d{5}$")
# Keys whose answers are places: printed with the units' official names.
_PLACE_SUFFIXES = ("_place", "_hometown", "_residence", "_address")
# The declaration's names for what the forms ask under other names.
_ALIASES = {"wife": "bride", "husband": "groom"}
_RENAMED = {"deceased_last_residence": "deceased_residence"}
_DEATH_NOTICE_KINDS = {
    "giay bao tu": "giay_bao_tu",
    "giay_bao_tu": "giay_bao_tu",
    "giay to thay the giay bao tu": "thay_the",
    "thay_the": "thay_the",
}
_MARITAL_SENTENCES = {
    "chua dang ky ket hon voi ai": "Hiện tại chưa đăng ký kết hôn với ai",
    "dang co vo hoac chong": "Hiện tại đang có vợ/chồng",
    "da ly hon chua ket hon lai": "Đã ly hôn{details}; hiện tại chưa đăng ký kết hôn với ai",
    "vo hoac chong da mat chua ket hon lai": (
        "Vợ/chồng đã chết{details}; hiện tại chưa đăng ký kết hôn với ai"
    ),
}
_CERT_NUMBER = re.compile(r"\bs[oố]\s*:?\s*([0-9A-Za-z/.\-]+)", re.IGNORECASE)
_CERT_BOOK = re.compile(r"\bquy[eể]n\s*(?:s[oố])?\s*:?\s*([0-9A-Za-z/.\-]+)", re.IGNORECASE)
_CERT_DATE = re.compile(r"\b(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\b")
_CERT_PLACE = re.compile(r"\b(?:t[aạ]i|n[oơ]i\s+(?:đăng\s+ký|dang\s+ky|c[aấ]p))\s*:?\s*(.+)$", re.I)


@functools.cache
def packaged_addresses() -> AddressBook:
    return AddressBook.from_package()


def printable(
    procedure: Procedure,
    fields: Mapping[str, Any],
    book: AddressBook | None = None,
    *,
    for_self: bool = False,
) -> dict[str, Any]:
    """The declaration's values for a dossier's answers (see the module's description)."""
    book = book or packaged_addresses()
    kinds = {f.name: f.kind for f in procedure.form.fields} if procedure.form else {}
    shown: dict[str, Any] = {}
    for name, value in fields.items():
        key = _declaration_key(name)
        printed = _value(key, kinds.get(name, ""), value, book)
        if printed is not None and printed != "":
            shown[key] = printed
    _death_notice(shown)
    _marital_status(shown, fields)
    _marriage_certificate(shown, fields)
    if for_self and "requester_relation" not in shown and "person_name" in shown:
        shown["requester_relation"] = "Bản thân"
    return shown


def _declaration_key(name: str) -> str:
    if name in _RENAMED:
        return _RENAMED[name]
    person, _, rest = name.partition("_")
    return f"{_ALIASES[person]}_{rest}" if person in _ALIASES and rest else name


def _value(key: str, kind: str, value: Any, book: AddressBook) -> Any:
    """One answer as printed; None leaves the line blank."""
    if value is None or isinstance(value, bool):
        return None if value is None else ("Có" if value else "Không")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date | time):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, Mapping):
        return address_display(value) if _is_address(value) else None
    if not isinstance(value, str):
        return None  # a list or anything else no form stores: never printed as Python
    text = " ".join(value.split())
    if not text:
        return None
    iso = _ISO_DATE.match(text)
    if iso:
        try:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            return None
    if kind == "name" or key.endswith("_name"):
        return v.title_name(text)
    if key.endswith("_ethnicity"):
        return official_ethnicity(text) or _capitalised(text)
    if key.endswith("_nationality"):
        return official_nationality(text) or _capitalised(text)
    if key.endswith(_PLACE_SUFFIXES) or kind == "address":
        return _place(text, book)
    if kind == "choice" or key.endswith("_sex") or key == "requester_relation":
        return _capitalised(text)
    return text


def _is_address(value: Mapping[str, Any]) -> bool:
    return all(isinstance(value.get(k), str) for k in ("commune_name", "province_name"))


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _place(text: str, book: AddressBook) -> str:
    """A commune code or a typed place line, with the units' official names."""
    if _COMMUNE_CODE.match(text):
        commune = book.commune(text)
        return f"{lower_unit(commune.name)}, {lower_unit(commune.province_name)}" if commune else ""
    parsed = parse_address(text, book)
    if not isinstance(parsed, v.Valid):
        return text
    # The line re-joins its parts with commas; where the citizen wrote two of them as one
    # ("Trạm y tế xã Thái Tân"), they stay one.
    typed = " , ".join(normalize(part) for part in text.split(","))
    pieces = parsed.display.split(", ")
    joined = [pieces[0]]
    for piece in pieces[1:]:
        pair = f"{normalize(joined[-1].split(', ')[-1])} {normalize(piece)}"
        if f" {pair} " in f" {typed} ":
            joined[-1] = f"{joined[-1]} {piece}"
        else:
            joined.append(piece)
    return ", ".join(joined)


def _death_notice(shown: dict[str, Any]) -> None:
    kind = shown.get("death_notice_kind")
    if kind is None:
        return
    folded = normalize(str(kind))
    found = _DEATH_NOTICE_KINDS.get(folded) or _DEATH_NOTICE_KINDS.get(str(kind))
    if found is None:  # "Không có": the line stays blank, neither phrase struck
        del shown["death_notice_kind"]
    else:
        shown["death_notice_kind"] = found


def _marital_status(shown: dict[str, Any], fields: Mapping[str, Any]) -> None:
    status = shown.pop("person_marital_status", None)
    details = shown.pop("person_marital_details", None)
    earlier = shown.pop("person_previous_residences", None)
    if "marital_status" in shown or not isinstance(status, str):
        return
    sentence = _MARITAL_SENTENCES.get(" ".join(normalize(status.replace(",", " ")).split()))
    detail = f" ({details})" if isinstance(details, str) and details else ""
    if sentence is None:
        shown["marital_status"] = f"{status}{detail}"
    elif "{details}" in sentence:
        shown["marital_status"] = sentence.format(details=detail)
    else:
        shown["marital_status"] = f"{sentence}{detail}"
    if isinstance(earlier, str) and earlier:  # the period is written inside the status (§12.5)
        shown["marital_status"] += f"; nơi cư trú trước đây: {earlier}"


def _marriage_certificate(shown: dict[str, Any], fields: Mapping[str, Any]) -> None:
    """The parents' marriage certificate typed on one line ("số 12, quyển 01/2020, ngày
    05/03/2020, tại UBND xã Minh Tân") onto the declaration's four blanks, when the form did
    not ask them one by one."""
    line = shown.pop("parents_marriage_certificate", None)
    shown.pop("parents_married", None)
    parts = ("marriage_cert_number", "marriage_cert_book", "marriage_cert_date")
    if not isinstance(line, str) or any(p in shown for p in (*parts, "marriage_cert_place")):
        return
    rest = line
    place = _CERT_PLACE.search(rest)
    if place:
        shown["marriage_cert_place"] = _capitalised(place[1].strip(" ,.;"))
        rest = rest[: place.start()]
    book_no = _CERT_BOOK.search(rest)
    if book_no:
        shown["marriage_cert_book"] = book_no[1].strip(" ,.;")
        rest = rest[: book_no.start()] + rest[book_no.end() :]
    when = _CERT_DATE.search(rest)
    if when:
        with contextlib.suppress(ValueError):  # "31/02/2020": left out, the rest printed
            shown["marriage_cert_date"] = date(int(when[3]), int(when[2]), int(when[1]))
        rest = rest[: when.start()] + rest[when.end() :]
    number = _CERT_NUMBER.search(rest)
    if number:
        shown["marriage_cert_number"] = number[1].strip(" ,.;")
    if not any(p in shown for p in (*parts, "marriage_cert_place")):
        shown["marriage_cert_place"] = line  # not read: printed whole where it fits
