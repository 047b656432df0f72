"""Pre-filled civil-status declarations (tờ khai) printed as drafts for the requester to sign.

Four forms of the TT 04/2024/TT-BTP annex, rebuilt from transcriptions (vietnam.md §12; no
form is confirmed against the official annex): birth, marriage, death and marital status.
Labels are printed exactly as on the form, with their note markers "(1)", "(2)" ...; a value
goes after the marker, an empty value becomes a dotted leader the requester fills by hand, and
the notes the markers point to are printed at the foot ("Chú thích"). A line at the top says
the paper is a draft to check and sign: the bot fills it, the citizen owns it.

Values are plain: ``str`` (printed as given), ``int``, ``datetime.date`` (printed dd/mm/yyyy) and,
for the time of death, ``datetime.time``. Dates given as "dd/mm/yyyy" strings are accepted too.
Missing keys, ``None`` and ``""`` all mean "leave blank". Keys a kind does not read are ignored;
:data:`DECLARATION_KEYS` lists the ones each kind reads, so callers can check their field names.

Identity documents (the ``<person>_id_*`` keys) are composed into the form's single string
"⟨kind⟩ số ⟨number⟩ do ⟨issuer⟩ cấp ngày ⟨dd/mm/yyyy⟩", e.g. "Căn cước số 031190001234 do Bộ
Công an cấp ngày 05/07/2024"; ``<person>_id_kind`` defaults to "Số định danh cá nhân" when only
the 12-digit number is known.

Keys read, per kind (``<P>`` stands for the person prefix, ``<ID>`` for the four identity keys
``<P>_id_kind``, ``<P>_id_number``, ``<P>_id_issuer``, ``<P>_id_issued_on``):

* birth: requester_name, requester_birth_date, requester_residence, requester <ID>,
  requester_relation; child_name, child_birth_date (the date is also written in words),
  child_sex, child_ethnicity, child_nationality, child_birth_place, child_hometown;
  mother_name, mother_birth_date (a date, or an int year), mother_ethnicity,
  mother_nationality, mother_residence, mother <ID>; father_* as mother_*;
  marriage_cert_number, marriage_cert_book, marriage_cert_date, marriage_cert_place; copies.
* marriage: bride_* and groom_* each with name, birth_date, ethnicity, nationality, residence,
  <ID>, marriage_count; copies.
* death: requester_name, requester_birth_date, requester_residence, requester <ID>,
  requester_relation; deceased_name, deceased_birth_date, deceased_sex, deceased_ethnicity,
  deceased_nationality, deceased_residence (last residence), deceased <ID>; death_time,
  death_date, death_place, death_cause; death_notice_kind ("giay_bao_tu" or "thay_the": which
  phrase of the label to strike through, note (4)), death_notice_number, death_notice_issuer,
  death_notice_date; copies.
* marital_status: requester_name, requester_birth_date, requester_residence, requester <ID>,
  requester_relation; person_name, person_birth_date, person_sex, person_ethnicity,
  person_nationality, person_residence, person <ID>; marital_status (the full sentence, see
  vietnam.md §12.5), purpose.

``copies`` is the number of extracts (bản sao) wanted; 0 or missing ticks "Không".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from fpdf import FPDF
from fpdf.enums import Align, TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace

from backoffice.documents.fonts import A4, dejavu_sans, open_pdf

KINDS = ("birth", "marriage", "death", "marital_status")

# Spells a date out in Vietnamese words; passed in by the caller (see render_declaration_pdf).
InWords = Callable[[date], str]

_ID_KEYS = ("id_kind", "id_number", "id_issuer", "id_issued_on")


def _person(prefix: str, *fields: str) -> frozenset[str]:
    return frozenset(f"{prefix}_{f}" for f in fields)


# The forms name the requester's relation "requester_relation", like the rest of their answers
# (it was read as "relation", which no form has: the line was always left blank).
_REQUESTER = _person("requester", "name", "birth_date", "residence", "relation", *_ID_KEYS)
_PARENT_FIELDS = ("name", "birth_date", "ethnicity", "nationality", "residence", *_ID_KEYS)
_SUBJECT_FIELDS = (
    "name",
    "birth_date",
    "sex",
    "ethnicity",
    "nationality",
    "residence",
    *_ID_KEYS,
)

DECLARATION_KEYS: Mapping[str, frozenset[str]] = {
    "birth": _REQUESTER
    | _person("child", "name", "birth_date", "sex", "ethnicity", "nationality")
    | _person("child", "birth_place", "hometown")
    | _person("mother", *_PARENT_FIELDS)
    | _person("father", *_PARENT_FIELDS)
    | _person("marriage_cert", "number", "book", "date", "place")
    | {"copies"},
    "marriage": _person("bride", *_PARENT_FIELDS, "marriage_count")
    | _person("groom", *_PARENT_FIELDS, "marriage_count")
    | {"copies"},
    "death": _REQUESTER
    | _person("deceased", *_SUBJECT_FIELDS)
    | _person("death", "time", "date", "place", "cause")
    | _person("death_notice", "kind", "number", "issuer", "date")
    | {"copies"},
    "marital_status": _REQUESTER
    | _person("person", *_SUBJECT_FIELDS)
    | {"marital_status", "purpose"},
}

DRAFT_NOTICE = (
    "BẢN ĐIỀN SẴN để người yêu cầu kiểm tra: đọc kỹ từng dòng, sửa chỗ sai hoặc còn trống, "
    "rồi tự ký tên. Bản này chưa có giá trị khi chưa được ký."
)

# Notes printed at the foot (vietnam.md §12.1-§12.5, TT 04/2024 texts as transcribed in [F1]/[F2]).
_RESIDENCE_WHERE = (
    "Trường hợp phải cung cấp thông tin “Nơi cư trú” thì ghi theo nơi đăng ký thường trú; nếu "
    "không có nơi đăng ký thường trú thì ghi theo nơi đăng ký tạm trú; trường hợp không có nơi "
    "đăng ký thường trú và nơi đăng ký tạm trú thì ghi theo nơi ở hiện tại."
)
_RESIDENCE_ONLY_IF = (
    "Chỉ ghi trong trường hợp người có yêu cầu đăng ký hộ tịch chưa có/không cung cấp số định "
    "danh cá nhân/căn cước công dân/thẻ căn cước/chứng minh nhân dân"
)
RESIDENCE_NOTE = (
    f"{_RESIDENCE_ONLY_IF}; không cung cấp đầy đủ thông tin ngày, tháng, năm sinh.\n"
    f"{_RESIDENCE_WHERE}"
)
RESIDENCE_NOTE_MARRIAGE = f"{_RESIDENCE_ONLY_IF}.\n{_RESIDENCE_WHERE}"
IDENTITY_NOTE = (
    "Ghi số định danh cá nhân/căn cước công dân/thẻ căn cước (ví dụ: Căn cước công dân số "
    "025188001010 do Cục Cảnh sát QLHC về TTXH cấp ngày 20/11/2021). Trường hợp không có số định "
    "danh cá nhân/căn cước công dân/thẻ căn cước thì ghi giấy tờ hợp lệ thay thế (hộ chiếu, "
    "chứng minh nhân dân,...)."
)
COPIES_NOTE = "Đề nghị đánh dấu X vào ô nếu có yêu cầu cấp bản sao và ghi rõ số lượng."

_BIRTH_NOTES = (
    ("(1)", "Ghi rõ tên cơ quan đăng ký khai sinh."),
    ("(2)", RESIDENCE_NOTE),
    ("(3)", IDENTITY_NOTE),
    (
        "(4)",
        # The transcription reads "và và": a typo we do not reproduce.
        "Trường hợp sinh tại cơ sở y tế thì ghi rõ tên cơ sở y tế và địa chỉ trụ sở cơ sở y tế "
        "đó.\nVí dụ: - Bệnh viện Phụ sản Hà Nội, đường La Thành, phường Ngọc Khánh, quận Ba Đình, "
        "Hà Nội.\n- Trạm y tế xã Đình Bảng, huyện Từ Sơn, tỉnh Bắc Ninh.\nTrường hợp sinh ra "
        "ngoài cơ sở y tế thì ghi địa danh của 03 cấp hành chính (xã, huyện, tỉnh), nơi sinh ra."
        "\nVí dụ: xã Đình Bảng, huyện Từ Sơn, tỉnh Bắc Ninh.",
    ),
    ("(5)", "Ghi đầy đủ ngày, tháng sinh của cha, mẹ (nếu có)."),
    ("(6)", COPIES_NOTE),
)
_MARRIAGE_NOTES = (
    (
        "(1), (2)",
        "Trường hợp làm thủ tục đăng ký kết hôn có yếu tố nước ngoài, thì phải dán ảnh của hai "
        "bên nam, nữ.",
    ),
    ("(3)", "Ghi rõ tên cơ quan đăng ký kết hôn."),
    ("(4)", RESIDENCE_NOTE_MARRIAGE),
    ("(5)", IDENTITY_NOTE),
    ("(6)", COPIES_NOTE),
)
_DEATH_NOTES = (
    ("(1)", "Ghi rõ tên cơ quan đăng ký khai tử."),
    ("(2)", RESIDENCE_NOTE),
    ("(3)", IDENTITY_NOTE),
    (
        "(4)",
        "Nếu ghi theo Giấy báo tử, thì gạch cụm từ “Giấy tờ thay thế Giấy báo tử”; nếu ghi theo "
        "số Giấy tờ thay thế Giấy báo tử thì ghi rõ tên, số giấy tờ và gạch cụm từ “Giấy báo "
        "tử”; trường hợp không có thì mục này để trống.",
    ),
    ("(5)", COPIES_NOTE),
)
# Only the notes whose printed text is known (vietnam.md §12.5: notes (1), (4), (5) not found).
_MARITAL_STATUS_NOTES = (
    ("(2)", RESIDENCE_NOTE),
    ("(3)", IDENTITY_NOTE),
)

_BODY_PT = 10.5
_LINE = 5.6
_GAP = "   "  # between two fields sharing a line
_DOT = "."
_SHORT_BLANK = 32.0  # mm of dots for a blank value that shares its line with other fields
_DMY_RE = re.compile(r"^\s*([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\s*$")
_ISO_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ][0-9:.+\-Z]*)?$")
_TYPE_WORDS = ("Xã ", "Phường ", "Đặc khu ", "Thị trấn ")


# ---------------------------------------------------------------------------- value helpers


def _text(values: Mapping[str, Any], key: str) -> str:
    """A value as printed. Only plain values print: a mapping, a list or any other shape is a
    caller's mistake and leaves the line blank rather than putting Python on the page."""
    value = values.get(key)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        return ""
    text = " ".join(value.split())
    iso = _ISO_RE.match(text)
    if iso:  # an ISO date that slipped through: as the form writes dates
        return f"{iso[3]}/{iso[2]}/{iso[1]}"
    return text


def _as_date(values: Mapping[str, Any], key: str) -> date | None:
    value = values.get(key)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        match = _DMY_RE.match(value)
        iso = _ISO_RE.match(value)
        try:
            if match:
                return date(int(match[3]), int(match[2]), int(match[1]))
            if iso:
                return date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            return None
    return None


def _identity(values: Mapping[str, Any], prefix: str) -> str:
    number = _text(values, f"{prefix}_id_number")
    if not number:
        return ""
    kind = _text(values, f"{prefix}_id_kind") or "Số định danh cá nhân"
    text = f"{kind} {number}" if kind == "Số định danh cá nhân" else f"{kind} số {number}"
    issuer = _text(values, f"{prefix}_id_issuer")
    issued = _text(values, f"{prefix}_id_issued_on")
    if issuer:
        text += f" do {issuer} cấp"
    if issued:
        text += f" ngày {issued}" if issuer else f" cấp ngày {issued}"
    return text


def _copies(values: Mapping[str, Any]) -> int:
    """The extracts asked for; anything but a whole number above zero ticks "Không"."""
    raw = values.get("copies")
    if isinstance(raw, bool):
        return 0
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw)
    return raw if isinstance(raw, int) and raw > 0 else 0


def _authority(commune_name: str) -> str:
    """ "Xã Thái Tân" → "Ủy ban nhân dân xã Thái Tân" (the type word is lower case mid-sentence)."""
    name = " ".join(commune_name.split())
    if name.startswith(_TYPE_WORDS):
        name = name[0].lower() + name[1:]
    return f"Ủy ban nhân dân {name}"


# ------------------------------------------------------------------------------ PDF helpers


@dataclass(frozen=True, slots=True)
class _Part:
    """One "label value" run of a form line; ``blank_mm`` is the dotted width when empty."""

    label: str
    value: str
    blank_mm: float = _SHORT_BLANK


def _font(pdf: FPDF, style: str = "", size: float = _BODY_PT) -> None:
    pdf.set_font(dejavu_sans().family, style=style, size=size)


def _dots(pdf: FPDF, width: float) -> str:
    # Kept 2 mm short of the width: write() adds a cell margin, and a run that overflows by a
    # hair wraps its last dot onto a line of its own.
    return _DOT * max(3, int((width - 2) / pdf.get_string_width(_DOT)))


def _line(pdf: FPDF, *parts: _Part, carry_on: bool = False) -> None:
    """A form line: each label in regular type, its value in bold, blanks as dotted leaders.

    The last blank runs to the right margin, like the dotted lines of the printed form.
    ``carry_on`` continues from the current position instead of the left margin.
    """
    if not carry_on:
        pdf.set_x(pdf.l_margin)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        _font(pdf)
        if part.label:
            pdf.write(_LINE, part.label + " ")
        if part.value:
            _font(pdf, "B")
            pdf.write(_LINE, part.value + ("" if last else _GAP))
            continue
        room = pdf.w - pdf.r_margin - pdf.get_x()
        if room < 8:
            pdf.ln(_LINE)
            room = pdf.epw
        width = room if last else min(part.blank_mm, room)
        _font(pdf)
        pdf.write(_LINE, _dots(pdf, width) + ("" if last else _GAP))
    pdf.ln(_LINE)


def _paragraph(pdf: FPDF, text: str, style: str = "", size: float = _BODY_PT) -> None:
    _font(pdf, style, size)
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(pdf.epw, _LINE, text, align=Align.J, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _draft_banner(pdf: FPDF) -> None:
    _font(pdf, "I", 8.5)
    pdf.set_text_color(110, 110, 110)
    pdf.set_draw_color(150, 150, 150)
    pdf.multi_cell(
        pdf.epw, 4.4, DRAFT_NOTICE, border=1, align=Align.C, new_x=XPos.LMARGIN, padding=1
    )
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(3)


def _national_header(pdf: FPDF, title: str, commune_name: str, marker: str) -> None:
    _font(pdf, "B", 12)
    pdf.cell(pdf.epw, 6, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align=Align.C, new_x=XPos.LMARGIN)
    pdf.ln(6)
    _font(pdf, "B", 12)
    motto = "Độc lập - Tự do - Hạnh phúc"
    pdf.cell(pdf.epw, 6, motto, align=Align.C, new_x=XPos.LMARGIN)
    pdf.ln(6)
    half = pdf.get_string_width(motto) / 2
    centre = pdf.l_margin + pdf.epw / 2
    pdf.line(centre - half, pdf.get_y() + 0.3, centre + half, pdf.get_y() + 0.3)
    pdf.ln(7)
    _font(pdf, "B", 14)
    pdf.multi_cell(pdf.epw, 7, title, align=Align.C, new_x=XPos.LMARGIN)
    pdf.ln(3)
    label = f"Kính gửi: {marker} "
    authority = _authority(commune_name)
    _font(pdf)
    width = pdf.get_string_width(label)
    _font(pdf, "B")
    width += pdf.get_string_width(authority)
    pdf.set_x(pdf.l_margin + max(0.0, (pdf.epw - width) / 2))
    _font(pdf)
    pdf.write(_LINE, label)
    _font(pdf, "B")
    pdf.write(_LINE, authority)
    pdf.ln(_LINE + 3)


def _ensure_room(pdf: FPDF, height: float) -> None:
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def _date_line(place: str, signed_on: date) -> str:
    where = " ".join(place.split()) or "......"
    d = signed_on
    return f"Làm tại: {where}, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"


def _signature(pdf: FPDF, x: float, y: float, width: float, title: str, name: str) -> None:
    pdf.set_xy(x, y)
    _font(pdf, "B")
    pdf.cell(width, _LINE, title, align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    _font(pdf, "I", 10)
    pdf.cell(width, 5, "(Ký, ghi rõ họ, chữ đệm, tên)", align=Align.C, new_x=XPos.LEFT)
    pdf.set_xy(x, y + 30)
    _font(pdf, "B")
    pdf.multi_cell(width, _LINE, name or _dots(pdf, width * 0.7), align=Align.C, new_x=XPos.LEFT)


def _copies_box(pdf: FPDF, x: float, y: float, marker: str, copies: int) -> None:
    yes, no = ("☒", "☐") if copies else ("☐", "☒")
    pdf.set_xy(x, y)
    _font(pdf)
    pdf.write(_LINE, f"Đề nghị cấp bản sao {marker}: Có ")
    _font(pdf, "B")
    pdf.write(_LINE, yes)
    _font(pdf)
    pdf.write(_LINE, ", Không ")
    _font(pdf, "B")
    pdf.write(_LINE, no)
    pdf.ln(_LINE)
    pdf.set_x(x)
    _font(pdf)
    pdf.write(_LINE, "Số lượng: ")
    if copies:
        _font(pdf, "B")
        pdf.write(_LINE, f"{copies:02d}")
        _font(pdf)
    else:
        pdf.write(_LINE, "......")
    pdf.write(_LINE, " bản")
    pdf.ln(_LINE)


def _single_signer_foot(
    pdf: FPDF,
    place: str,
    signed_on: date,
    signer: str,
    copies_marker: str | None,
    copies: int,
) -> None:
    """Date line and signature on the right; the copies box, if the form has one, on the left."""
    _ensure_room(pdf, 48)
    pdf.ln(3)
    right_w = pdf.epw * 0.62
    top = pdf.get_y()
    right_x = pdf.l_margin + pdf.epw - right_w
    pdf.set_xy(right_x, top)
    _font(pdf, "I")
    pdf.multi_cell(right_w, _LINE, _date_line(place, signed_on), align=Align.C, new_x=XPos.LEFT)
    sign_top = pdf.get_y() + 1
    _signature(pdf, right_x, sign_top, right_w, "Người yêu cầu", signer)
    bottom = pdf.get_y()
    if copies_marker is not None:
        _copies_box(pdf, pdf.l_margin, sign_top + _LINE * 2, copies_marker, copies)
    pdf.set_xy(pdf.l_margin, max(bottom, pdf.get_y()) + 4)


def _notes(pdf: FPDF, notes: tuple[tuple[str, str], ...]) -> None:
    _ensure_room(pdf, 20)
    pdf.set_draw_color(120, 120, 120)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + 50, pdf.get_y())
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(1.5)
    _font(pdf, "BI", 8.5)
    pdf.cell(pdf.epw, 4.4, "Chú thích:", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _font(pdf, "", 8.5)
    for marker, text in notes:
        pdf.multi_cell(
            pdf.epw, 4.2, f"{marker} {text}", align=Align.J, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )


def _date_with_words(values: Mapping[str, Any], key: str, in_words: InWords) -> list[_Part]:
    day = _as_date(values, key)
    words = in_words(day) if day else ""
    return [_Part("Ngày, tháng, năm sinh:", _text(values, key), 28), _Part("ghi bằng chữ:", words)]


def _sex_ethnicity_nationality(
    values: Mapping[str, Any], prefix: str, marker: str = ""
) -> list[_Part]:
    tail = f" {marker}" if marker else ""
    return [
        _Part(f"Giới tính:{tail}", _text(values, f"{prefix}_sex"), 22),
        _Part(f"Dân tộc:{tail}", _text(values, f"{prefix}_ethnicity"), 28),
        _Part(f"Quốc tịch:{tail}", _text(values, f"{prefix}_nationality")),
    ]


def _requester_block(pdf: FPDF, values: Mapping[str, Any], relation_label: str) -> None:
    _line(pdf, _Part("Họ, chữ đệm, tên người yêu cầu:", _text(values, "requester_name")))
    _line(pdf, _Part("Ngày, tháng, năm sinh:", _text(values, "requester_birth_date")))
    _line(pdf, _Part("Nơi cư trú: (2)", _text(values, "requester_residence")))
    _line(pdf, _Part("Giấy tờ tùy thân: (3)", _identity(values, "requester")))
    _line(pdf, _Part(relation_label, _text(values, "requester_relation")))


# ---------------------------------------------------------------------------------- forms


def _birth(
    pdf: FPDF, values: Mapping[str, Any], place: str, signed_on: date, in_words: InWords
) -> None:
    _requester_block(pdf, values, "Quan hệ với người được khai sinh:")
    _paragraph(pdf, "Đề nghị cơ quan đăng ký khai sinh cho người dưới đây:", "B")
    _line(pdf, _Part("Họ, chữ đệm, tên:", _text(values, "child_name")))
    _line(pdf, *_date_with_words(values, "child_birth_date", in_words))
    _line(pdf, *_sex_ethnicity_nationality(values, "child"))
    _line(pdf, _Part("Nơi sinh: (4)", _text(values, "child_birth_place")))
    _line(pdf, _Part("Quê quán:", _text(values, "child_hometown")))
    for parent, who in (("mother", "người mẹ"), ("father", "người cha")):
        birth = values.get(f"{parent}_birth_date")
        whole_year = isinstance(birth, int) and not isinstance(birth, bool)
        year = str(birth) if whole_year else _text(values, f"{parent}_birth_date")
        _line(pdf, _Part(f"Họ, chữ đệm, tên {who}:", _text(values, f"{parent}_name")))
        _line(
            pdf,
            _Part("Năm sinh: (5)", year, 28),
            _Part("Dân tộc: (2)", _text(values, f"{parent}_ethnicity"), 28),
            _Part("Quốc tịch: (2)", _text(values, f"{parent}_nationality")),
        )
        _line(pdf, _Part("Nơi cư trú: (2)", _text(values, f"{parent}_residence")))
        _line(pdf, _Part("Giấy tờ tùy thân: (3)", _identity(values, parent)))
    _paragraph(
        pdf, "Thông tin về Giấy chứng nhận kết hôn của cha, mẹ trẻ (nếu cha, mẹ trẻ đã ĐKKH):"
    )
    _line(
        pdf,
        _Part("Số:", _text(values, "marriage_cert_number"), 22),
        _Part("Quyển số:", _text(values, "marriage_cert_book"), 22),
        _Part("đăng ký ngày", _text(values, "marriage_cert_date"), 28),
    )
    _line(pdf, _Part("tại", _text(values, "marriage_cert_place")))
    pdf.ln(1)
    _paragraph(
        pdf,
        "Tôi cam đoan nội dung đề nghị đăng ký khai sinh trên đây là đúng sự thật, được sự thỏa "
        "thuận nhất trí của các bên liên quan theo quy định pháp luật.\n"
        "Tôi chịu hoàn toàn trách nhiệm trước pháp luật về nội dung cam đoan của mình.",
    )
    _single_signer_foot(
        pdf, place, signed_on, _text(values, "requester_name"), "(6)", _copies(values)
    )
    _notes(pdf, _BIRTH_NOTES)


def _death(
    pdf: FPDF, values: Mapping[str, Any], place: str, signed_on: date, in_words: InWords
) -> None:
    _requester_block(pdf, values, "Quan hệ với người đã chết:")
    _paragraph(pdf, "Đề nghị cơ quan đăng ký khai tử cho người có tên dưới đây:", "B")
    _line(pdf, _Part("Họ, chữ đệm, tên:", _text(values, "deceased_name")))
    _line(pdf, _Part("Ngày, tháng, năm sinh:", _text(values, "deceased_birth_date")))
    _line(pdf, *_sex_ethnicity_nationality(values, "deceased"))
    _line(pdf, _Part("Nơi cư trú cuối cùng: (2)", _text(values, "deceased_residence")))
    _line(pdf, _Part("Giấy tờ tùy thân: (3)", _identity(values, "deceased")))
    _death_moment(pdf, values)
    _line(pdf, _Part("Nơi chết:", _text(values, "death_place")))
    _line(pdf, _Part("Nguyên nhân chết:", _text(values, "death_cause")))
    _death_notice(pdf, values)
    pdf.ln(1)
    _paragraph(
        pdf,
        "Tôi cam đoan những nội dung khai trên đây là đúng sự thật và chịu trách nhiệm trước "
        "pháp luật về cam đoan của mình.",
    )
    _single_signer_foot(
        pdf, place, signed_on, _text(values, "requester_name"), "(5)", _copies(values)
    )
    _notes(pdf, _DEATH_NOTES)


def _death_moment(pdf: FPDF, values: Mapping[str, Any]) -> None:
    raw_time = values.get("death_time")
    hour = minute = ""
    if isinstance(raw_time, time):
        hour, minute = f"{raw_time.hour:02d}", f"{raw_time.minute:02d}"
    elif isinstance(raw_time, str) and (
        m := re.match(r"^\s*([0-9]{1,2})[:hgH]([0-9]{2})", raw_time)
    ):
        hour, minute = f"{int(m[1]):02d}", m[2]
    day = _as_date(values, "death_date")
    d, mth, yr = (f"{day.day:02d}", f"{day.month:02d}", str(day.year)) if day else ("", "", "")
    _line(
        pdf,
        _Part("Đã chết vào lúc:", hour, 12),
        _Part("giờ", minute, 12),
        _Part("phút, ngày", d, 12),
        _Part("tháng", mth, 12),
        _Part("năm", yr),
    )


def _death_notice(pdf: FPDF, values: Mapping[str, Any]) -> None:
    """Item 14: strike the phrase that does not apply (note (4))."""
    kind = _text(values, "death_notice_kind")  # any other value strikes neither phrase
    pdf.set_x(pdf.l_margin)
    _font(pdf)
    pdf.write(_LINE, "Số ")
    _font(pdf, "S" if kind == "thay_the" else "")
    pdf.write(_LINE, "Giấy báo tử")
    _font(pdf)
    pdf.write(_LINE, "/")
    _font(pdf, "S" if kind == "giay_bao_tu" else "")
    pdf.write(_LINE, "Giấy tờ thay thế Giấy báo tử")
    _font(pdf)
    pdf.write(_LINE, ": (4) ")
    number = _text(values, "death_notice_number")
    if number:
        _font(pdf, "B")
        pdf.write(_LINE, number + " ")
    else:
        pdf.write(_LINE, _dots(pdf, 30) + " ")
    issued = _as_date(values, "death_notice_date")
    d, mth, yr = (
        (f"{issued.day:02d}", f"{issued.month:02d}", str(issued.year)) if issued else ("", "", "")
    )
    _line(
        pdf,
        _Part("do", _text(values, "death_notice_issuer"), 40),
        _Part("cấp ngày", d, 12),
        _Part("tháng", mth, 12),
        _Part("năm", yr),
        carry_on=True,
    )


def _marital_status(
    pdf: FPDF, values: Mapping[str, Any], place: str, signed_on: date, in_words: InWords
) -> None:
    _requester_block(pdf, values, "Quan hệ với người được cấp Giấy xác nhận tình trạng hôn nhân:")
    _paragraph(pdf, "Đề nghị cấp Giấy xác nhận tình trạng hôn nhân cho người có tên dưới đây:", "B")
    _line(pdf, _Part("Họ, chữ đệm, tên:", _text(values, "person_name")))
    _line(pdf, _Part("Ngày, tháng, năm sinh:", _text(values, "person_birth_date")))
    _line(pdf, *_sex_ethnicity_nationality(values, "person"))
    _line(pdf, _Part("Nơi cư trú:", _text(values, "person_residence")))
    _line(pdf, _Part("Giấy tờ tùy thân:", _identity(values, "person")))
    _line(pdf, _Part("Tình trạng hôn nhân: (4)", _text(values, "marital_status")))
    _line(
        pdf,
        _Part("Mục đích sử dụng Giấy xác nhận tình trạng hôn nhân: (5)", _text(values, "purpose")),
    )
    pdf.ln(1)
    _paragraph(
        pdf,
        "Tôi cam đoan những nội dung khai trên đây là đúng sự thật và chịu trách nhiệm trước "
        "pháp luật về cam đoan của mình.",
    )
    _single_signer_foot(pdf, place, signed_on, _text(values, "requester_name"), None, 0)
    _notes(pdf, _MARITAL_STATUS_NOTES)


_MARRIAGE_ROWS = (
    ("Họ, chữ đệm, tên", "name"),
    ("Ngày, tháng, năm sinh", "birth_date"),
    ("Dân tộc", "ethnicity"),
    ("Quốc tịch", "nationality"),
    ("Nơi cư trú (4)", "residence"),
    ("Giấy tờ tùy thân (5)", "id"),
    ("Kết hôn lần thứ mấy", "marriage_count"),
)


def _marriage_photo_boxes(pdf: FPDF) -> None:
    """Two photo boxes (markers (1), (2)), needed only for marriages with a foreign element."""
    top = pdf.get_y()
    width, height = 20.0, 26.0
    _font(pdf, "", 9)
    for marker, x in (
        ("(1)", pdf.l_margin),
        ("(2)", pdf.l_margin + pdf.epw - width),
    ):
        pdf.rect(x, top, width, height)
        pdf.set_xy(x, top + height / 2 - 2)
        pdf.cell(width, 4, marker, align=Align.C)
    pdf.set_xy(pdf.l_margin, top)


def _marriage(
    pdf: FPDF, values: Mapping[str, Any], place: str, signed_on: date, in_words: InWords
) -> None:
    _font(pdf)
    label_w = 48.0
    side_w = (pdf.epw - label_w) / 2
    blank = _dots(pdf, side_w - 6)
    with pdf.table(
        col_widths=(label_w, side_w, side_w),
        text_align=(Align.L, Align.L, Align.L),
        line_height=_LINE,
        headings_style=FontFace(emphasis="BOLD"),
        cell_fill_mode=TableCellFillMode.NONE,
        padding=1.5,
        first_row_as_headings=True,
    ) as table:
        heading = table.row()
        for text in ("Thông tin", "Bên nữ", "Bên nam"):
            heading.cell(text, align=Align.C)
        for label, field in _MARRIAGE_ROWS:
            row = table.row()
            row.cell(label)
            for side in ("bride", "groom"):
                value = (
                    _identity(values, side) if field == "id" else _text(values, f"{side}_{field}")
                )
                row.cell(value or blank, style=FontFace(emphasis="BOLD" if value else None))
    pdf.ln(3)
    _paragraph(
        pdf,
        "Chúng tôi cam đoan những lời khai trên đây là đúng sự thật, việc kết hôn của chúng tôi "
        "là tự nguyện, không vi phạm quy định của Luật Hôn nhân và gia đình Việt Nam.\n"
        "Chúng tôi chịu hoàn toàn trách nhiệm trước pháp luật về cam đoan của mình.\n"
        "Đề nghị Quý cơ quan đăng ký.",
    )
    _ensure_room(pdf, 62)
    pdf.ln(3)
    _font(pdf, "I")
    pdf.multi_cell(pdf.epw, _LINE, _date_line(place, signed_on), align=Align.R, new_x=XPos.LMARGIN)
    pdf.ln(1)
    half = pdf.epw / 2
    top = pdf.get_y()
    _signature(pdf, pdf.l_margin, top, half, "Bên nữ", _text(values, "bride_name"))
    bottom = pdf.get_y()
    _signature(pdf, pdf.l_margin + half, top, half, "Bên nam", _text(values, "groom_name"))
    pdf.set_y(max(bottom, pdf.get_y()) + 3)
    _copies_box(pdf, pdf.l_margin, pdf.get_y(), "(6)", _copies(values))
    pdf.ln(3)
    _notes(pdf, _MARRIAGE_NOTES)


_TITLES = {
    "birth": ("TỜ KHAI ĐĂNG KÝ KHAI SINH", "(1)"),
    "marriage": ("TỜ KHAI ĐĂNG KÝ KẾT HÔN", "(3)"),
    "death": ("TỜ KHAI ĐĂNG KÝ KHAI TỬ", "(1)"),
    "marital_status": ("TỜ KHAI CẤP GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN", "(1)"),
}
_BODIES = {
    "birth": _birth,
    "marriage": _marriage,
    "death": _death,
    "marital_status": _marital_status,
}


def render_declaration_pdf(
    kind: str,
    values: dict[str, Any],
    commune_name: str,
    place: str,
    signed_on: date,
    *,
    date_in_words: InWords,
) -> bytes:
    """The declaration ``kind`` (one of :data:`KINDS`) filled with ``values``, as an A4 PDF.

    ``commune_name`` names the registering People's Committee ("Xã Thái Tân" gives "Kính gửi:
    Ủy ban nhân dân xã Thái Tân"); ``place`` and ``signed_on`` fill "Làm tại: ..., ngày ...".
    ``date_in_words`` spells a date out ("Ngày mười lăm, tháng ba, năm ..."), as the birth
    form asks for the child's birth date; the caller passes ``dialogs.vnwords.date_in_words``,
    which this package may not import.
    """
    if kind not in _TITLES:
        raise ValueError(f"unknown declaration kind {kind!r}; expected one of {', '.join(KINDS)}")
    title, marker = _TITLES[kind]
    created = datetime(signed_on.year, signed_on.month, signed_on.day, tzinfo=UTC)
    with open_pdf(A4, created) as pdf:
        pdf.set_title(f"Bản điền sẵn - {title.capitalize()}")
        pdf.set_margins(20, 12, 15)
        pdf.set_auto_page_break(auto=True, margin=12)
        pdf.add_page()
        _draft_banner(pdf)
        if kind == "marriage":
            _marriage_photo_boxes(pdf)
        _national_header(pdf, title, commune_name, marker)
        _BODIES[kind](pdf, values, place, signed_on, date_in_words)
        return bytes(pdf.output())
