"""Convert the national-portal crawl (``procedures.jsonl``) into ``knowledge/data/imported``.

The portal pages flatten their tables into run-together text, so most of this module is careful
guessing of cell boundaries. Where a split is not reliable the text is kept whole and the record
gets a flag (``Procedure.flags``) so people know to curate it. See
``../shared/catalogue-source/README.md`` for the defects handled here.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Container, Iterable, Mapping
from dataclasses import MISSING, dataclass, fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from knowledge.model import (
    Channel,
    ChannelInfo,
    Fee,
    LegalRef,
    OtherProcedure,
    Paper,
    Procedure,
)

CRAWL_DATE = "2026-07-20"  # the crawl the source file comes from
NO_INFO = "Không có thông tin"

# Data-quality flags written into Procedure.flags.
FLAG_STEPS_CUT_OFF = "steps_cut_off"
FLAG_PRE_2025_WORDING = "pre_2025_wording"
FLAG_PAPERS_UNSPLIT = "papers_unsplit"
FLAG_LEGAL_BASIS_UNSPLIT = "legal_basis_unsplit"
FLAG_CHANNELS_UNPARSED = "channels_unparsed"
FLAG_TIME_WITHOUT_UNIT = "time_without_unit"
FLAG_CHANNEL_TIMES_DIFFER = "channel_times_differ"

# Reasons a record is left out.
LEFT_OUT_CUSTOMS = "customs (Hải quan): a customs branch, not the commune"
LEFT_OUT_TAX = "tax (Thuế): a tax office, not the commune"
LEFT_OUT_OTHER_PAGE = "page belongs to another procedure code"
# Records whose page shows another code (3.000579 or 1.014023), listed in the source README; the
# page text also gives them away, but a crawl without raw_text would not.
BORROWED_PAGES = frozenset(
    [
        "1.002544",
        "1.014208",
        "2.001428",
        "2.001709",
        "3.000224",
        "3.000226",
        "3.000243",
        "3.000244",
        "3.000246",
        "3.000272",
        "3.000274",
        "3.000283",
        "3.000284",
        "3.000285",
        "3.000286",
        "3.000331",
        "3.000332",
    ]
)

_UPPER = "".join(chr(c) for c in range(0x41, 0x1F00) if chr(c).isalpha() and chr(c).isupper())
_LOWER = "".join(chr(c) for c in range(0x61, 0x1F00) if chr(c).isalpha() and chr(c).islower())
_U = f"[{_UPPER}]"
_L = f"[{_LOWER}]"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What ``import_portal`` did."""

    read: int
    kept: int
    left_out: tuple[tuple[str, int], ...]  # (reason, records), most first
    flagged: tuple[tuple[str, int], ...]  # (flag, records), most first
    removed: int  # stale files deleted from the output folder
    out_dir: str

    def summary(self) -> str:
        lines = [f"Read {self.read} records; wrote {self.kept} procedures to {self.out_dir}."]
        left = sum(count for _, count in self.left_out)
        lines.append(f"Left out {left}:")
        lines += [f"  {count:4d}  {reason}" for reason, count in self.left_out]
        lines.append("Flagged (to curate):")
        lines += [f"  {count:4d}  {flag}" for flag, count in self.flagged]
        if self.removed:
            lines.append(f"Removed {self.removed} stale file(s) no longer in the source.")
        return "\n".join(lines)


def import_portal(jsonl_path: Path, out_dir: Path) -> ImportReport:
    """Write one ``<code>.json`` per kept commune procedure; same input, same bytes out."""
    records = [json.loads(line) for line in jsonl_path.read_text("utf-8").splitlines() if line]
    left_out: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    procedures: list[Procedure] = []
    for record in records:
        reason = leave_out_reason(record)
        if reason:
            left_out[reason] += 1
            continue
        procedure = convert_record(record)
        flagged.update(procedure.flags)
        procedures.append(procedure)

    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = {f"{p.code}.json" for p in procedures}
    removed = 0
    for stale in sorted(out_dir.glob("*.json")):
        if stale.name not in wanted:
            stale.unlink()
            removed += 1
    for procedure in procedures:
        text = json.dumps(to_plain(procedure), ensure_ascii=False, sort_keys=True, indent=1)
        path = out_dir / f"{procedure.code}.json"
        data = (text + "\n").encode("utf-8")
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
    return ImportReport(
        read=len(records),
        kept=len(procedures),
        left_out=_most_first(left_out),
        flagged=_most_first(flagged),
        removed=removed,
        out_dir=str(out_dir),
    )


def import_elsewhere(jsonl_path: Path, out_path: Path, commune: Container[str]) -> int:
    """Write ``elsewhere.json``: every portal record of any level whose code is not the commune
    catalogue's (``commune``: a ``Catalogue``, which also holds the codes it replaced), as an
    ``OtherProcedure``; same input, same bytes out. Returns how many were written."""
    records = [json.loads(line) for line in jsonl_path.read_text("utf-8").splitlines() if line]
    found = {
        procedure.code: procedure
        for procedure in (other_procedure(record) for record in records)
        if procedure.code not in commune and procedure.name
    }
    rows = [to_plain(found[code]) for code in sorted(found)]
    # One procedure a line, so that a new crawl's changes read line by line in review.
    lines = ",\n".join(json.dumps(row, ensure_ascii=False, sort_keys=True) for row in rows)
    data = f"[\n{lines}\n]\n".encode()
    if not out_path.exists() or out_path.read_bytes() != data:
        out_path.write_bytes(data)
    return len(rows)


# Levels of the portal's "Cấp thực hiện", as a citizen would be told who does it.
_LEVEL_OFFICE = {"Cấp bộ": "cơ quan trung ương", "Cấp tỉnh": "cơ quan cấp tỉnh"}
_OFFICE_ITEMS = 3  # "Cơ quan thực hiện" lists up to a dozen offices; the first few say enough
# Some records name the offices of Hà Nội, where the portal's example was written ("Sở Tư pháp
# Thành phố Hà Nội"); a commune elsewhere has the same office of its own province.
_HANOI = re.compile(r"\s+(?:[Tt]hành phố|TP\.?)\s+Hà Nội\b")


def other_procedure(record: Mapping[str, str]) -> OtherProcedure:
    """A portal record as another office's procedure: its name, field and who carries it out
    (the first offices the portal lists, else its level)."""
    office = clean(record.get("co_quan_thuc_hien", ""))
    if office:
        items = [item.strip() for item in office.split(",") if item.strip()]
        office = _HANOI.sub("", ", ".join(items[:_OFFICE_ITEMS]))
    else:
        levels = [level.strip() for level in record.get("cap_thuc_hien", "").split(",")]
        office = next((_LEVEL_OFFICE[level] for level in levels if level in _LEVEL_OFFICE), "")
    return OtherProcedure(
        code=record["ma_thu_tuc"],
        name=_name(record.get("ten_thu_tuc", "")),
        field=clean(record.get("linh_vuc", "")),
        office=office,
    )


def _most_first(counter: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def leave_out_reason(record: Mapping[str, str]) -> str:
    """Why a record does not belong in the citizen catalogue, or "" to keep it."""
    field = clean(record.get("linh_vuc", ""))
    if field == "Hải quan":
        return LEFT_OUT_CUSTOMS
    if field == "Thuế":
        return LEFT_OUT_TAX
    code = record["ma_thu_tuc"]
    shown = re.findall(r"Mã thủ tục:?\s*(\d\.\d{6})", record.get("raw_text", ""))
    if (shown and code not in shown) or code in BORROWED_PAGES:
        return LEFT_OUT_OTHER_PAGE
    return ""


def to_plain(value: Any) -> Any:
    """JSON-ready data: dataclasses as tables without their default values, tuples as lists."""
    if is_dataclass(value) and not isinstance(value, type):
        plain: dict[str, Any] = {}
        for f in fields(value):
            item = getattr(value, f.name)
            if f.default is MISSING or item != f.default:
                plain[f.name] = to_plain(item)
        return plain
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_plain(item) for item in value]
    return value


# --- Text -------------------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys([0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF, 0x00AD], None)


def clean(text: str) -> str:
    """NFC, no invisible marks, one space between words, no placeholder "Không có thông tin"."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = " ".join(text.split())  # also turns non-breaking spaces into plain ones
    return "" if text == NO_INFO else text


def _strip_bullet(text: str) -> str:
    return re.sub(r"^(?:[-–•*]+\s*)+", "", text).strip()


# --- One record -------------------------------------------------------------------------------


def convert_record(record: Mapping[str, str]) -> Procedure:
    code = record["ma_thu_tuc"]
    field = clean(record["linh_vuc"])
    flags: set[str] = set()

    channels, fee_parts = parse_channels(record.get("cach_thuc_thuc_hien", ""))
    if not channels and clean(record.get("cach_thuc_thuc_hien", "")):
        flags.add(FLAG_CHANNELS_UNPARSED)
    days, processing_text, time_flags = _processing(channels, field)
    flags |= time_flags

    papers, papers_whole = parse_papers(record.get("thanh_phan_ho_so", ""))
    if not papers_whole:
        flags.add(FLAG_PAPERS_UNSPLIT)
    legal, legal_whole = parse_legal_basis(record.get("can_cu_phap_ly", ""))
    if not legal_whole:
        flags.add(FLAG_LEGAL_BASIS_UNSPLIT)
    steps, cut_off = parse_steps(record.get("trinh_tu_thuc_hien", ""))
    if cut_off:
        flags.add(FLAG_STEPS_CUT_OFF)

    texts = [value for key, value in record.items() if key not in ("raw_text", "detail_url")]
    lowered = " ".join(clean(text) for text in texts).lower()
    if "cấp huyện" in lowered or "thị trấn" in lowered:
        flags.add(FLAG_PRE_2025_WORDING)

    implementing = clean(record.get("co_quan_thuc_hien", ""))
    authority = clean(record.get("co_quan_co_tham_quyen", "")) or implementing
    return Procedure(
        code=code,
        name=_name(record["ten_thu_tuc"]),
        field=field,
        levels=tuple(
            level for level in (clean(p) for p in record["cap_thuc_hien"].split(",")) if level
        ),
        authority=authority,
        handled_by=handled_by(field, implementing),
        who_may_file=clean(record.get("doi_tuong_thuc_hien", "")),
        papers=papers,
        steps=steps,
        processing_days=days,
        processing_text=processing_text,
        fee=build_fee(fee_parts, channels),
        results=parse_results(record.get("ket_qua_xu_ly", "")),
        legal_basis=legal,
        channels=channels,
        conditions=clean(record.get("yeu_cau_dieu_kien", "").split("Từ khóa", 1)[0]),
        decision_no=clean(record.get("so_quyet_dinh", "")),
        source_url=record.get("detail_url", "").strip(),
        last_checked=CRAWL_DATE,
        flags=tuple(sorted(flags)),
    )


def _name(raw: str) -> str:
    name = clean(raw)
    # "Thủ tục đăng ký khai sinh" -> "Đăng ký khai sinh": the word adds nothing in a menu.
    match = re.match(r"^Thủ tục:?\s+(.+)$", name)
    if match:
        rest = match.group(1)
        name = rest[0].upper() + rest[1:]
    return name


_POLICE_FIELDS = frozenset(
    {"Đăng ký, quản lý cư trú", "Cấp, quản lý căn cước", "Định danh và xác thực điện tử"}
)
_COMMUNE_WORDS = ("ủy ban", "uỷ ban", "ubnd", "cấp xã", "xã,", " xã")


# "Cơ quan thực hiện" is a comma-separated list of offices; these start the name of one that is
# not the commune's (matched at the start of an item: "cơ sở dữ liệu" is not a "Sở").
_OTHER_OFFICE = re.compile(
    r"(?:^|, )(?:Sở|Cục|Bộ|Cảng vụ|Khu Quản lý|Ban Quản lý|Chi nhánh Văn phòng"
    r"|Văn phòng [Đđ]ăng ký|Công an) "
)


def handled_by(field: str, implementing: str) -> str:
    """The office a citizen really deals with when it is not the commune People's Committee.

    Only offices recognisable from the portal's "Cơ quan thực hiện"; "" means the commune.
    """
    lowered = implementing.lower()
    if field in _POLICE_FIELDS or "công an cấp xã" in lowered:
        return "Công an xã"
    if "bảo hiểm xã hội" in lowered:
        return "Cơ quan Bảo hiểm xã hội"
    if "kho bạc" in lowered:
        return "Kho bạc Nhà nước"
    if "tòa án" in lowered:
        return "Tòa án nhân dân"
    if any(word in lowered for word in _COMMUNE_WORDS):
        return ""
    if len(implementing) < 300 and _OTHER_OFFICE.search(implementing):
        return implementing
    return ""


# --- Channels, time and fee (cach_thuc_thuc_hien) ----------------------------------------------

_CHANNEL_NAMES = {
    "Trực tuyến": Channel.ONLINE,
    "Dịch vụ bưu chính": Channel.POST,
    "Trực tiếp": Channel.IN_PERSON,
}
# A channel name starts a new row only when its time cell follows at once (a number or the
# placeholder); the same words inside a description are followed by a space or lowercase text.
_CHANNEL_START = re.compile(r"(Trực tuyến|Dịch vụ bưu chính(?: công ích)?|Trực tiếp)(?=\d|Không)")
_TIME = re.compile(
    r"^(?:Không có thông tin|Không phải trả kết quả cho người nộp thuế"
    r"|(\d+(?:[.,]\d+)?)\s*(Ngày làm việc|Ngày|Giờ|Tháng|Phút)?)"
)
_FEE = re.compile(
    r"^(?:Miễn phí|Không có thông tin|(\d[\d.,]*)\s*(VNĐ|Việt Nam Đồng|đồng|Đồng|USD))"
)
_HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"


@dataclass(frozen=True, slots=True)
class FeeCell:
    """One channel's fee cell as published, before it becomes the procedure's ``Fee``."""

    channel: Channel
    cell: str  # "Miễn phí", "70.000 đồng", "10 USD", ""
    amount: int | None
    description: str  # the bracketed text after the cell


def parse_channels(raw: str) -> tuple[tuple[ChannelInfo, ...], tuple[FeeCell, ...]]:
    text = clean(raw)
    if text.startswith(_HEADER):
        text = text[len(_HEADER) :]
    starts = list(_CHANNEL_START.finditer(text))
    channels: list[ChannelInfo] = []
    fees: list[FeeCell] = []
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        channel = _CHANNEL_NAMES[match.group(1).removesuffix(" công ích")]
        body = text[match.end() : end]
        time_match = _TIME.match(body)
        time_text = ""
        if time_match:
            if time_match.group(1):
                number, unit = time_match.group(1), time_match.group(2) or ""
                time_text = f"{number} {unit.lower()}".strip()
            elif time_match.group(0) != NO_INFO:
                time_text = time_match.group(0)
            body = body[time_match.end() :]
        fee_match = _FEE.match(body)
        cell, amount = "", None
        if fee_match:
            cell = "" if fee_match.group(0) == NO_INFO else fee_match.group(0)
            if fee_match.group(2) == "USD":
                cell = f"{fee_match.group(1)} USD"  # paid at a mission abroad, not in đồng
            elif fee_match.group(1):
                amount = int(re.sub(r"[.,]", "", fee_match.group(1)))
                cell = f"{amount:,}".replace(",", ".") + " đồng"
            body = body[fee_match.end() :]
        description = ""
        if body.startswith("("):
            description, body = _balanced(body)
        note = clean(body)
        fee_text = cell
        if description:
            fee_text = f"{cell} ({description})" if cell else description
        channels.append(ChannelInfo(channel, time_text=time_text, fee_text=fee_text, note=note))
        fees.append(FeeCell(channel, cell, amount, description))
    return tuple(channels), tuple(fees)


def _balanced(text: str) -> tuple[str, str]:
    """Split "(a (b) c)rest" into "a (b) c" and "rest"; unbalanced text is all inside."""
    depth = 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                inner = text[1:i].strip()
                while inner.startswith("(") and inner.endswith(")") and _balanced(inner)[1] == "":
                    inner = inner[1:-1].strip()  # "((…))" on some pages
                return clean(inner), text[i + 1 :]
    return clean(text[1:]), ""


_BARE_NUMBER_IS_WORKING_DAYS = frozenset({"Hộ tịch", "Chứng thực"})


def _processing(channels: Iterable[ChannelInfo], field: str) -> tuple[int | None, str, set[str]]:
    times = {c.channel: c.time_text for c in channels if c.time_text}
    flags: set[str] = set()
    if not times:
        return None, "", flags
    distinct = sorted(set(times.values()), key=lambda t: list(times.values()).index(t))
    parsed = [_split_time(t) for t in distinct]
    unitless = any(number and not unit for number, unit in parsed)
    if unitless:
        flags.add(FLAG_TIME_WITHOUT_UNIT)
    if len(distinct) > 1:
        flags.add(FLAG_CHANNEL_TIMES_DIFFER)

    def say(time_text: str) -> str:
        # processing_text is shown to citizens: a bare number is said as working days where
        # that reading is safe, and not said at all elsewhere (the card then tells them to ask);
        # the flag, not the text, tells curators that the portal gave no unit.
        number, unit = _split_time(time_text)
        if number and not unit:
            return f"{number} ngày làm việc" if field in _BARE_NUMBER_IS_WORKING_DAYS else ""
        return time_text

    if len(distinct) == 1:
        text = say(distinct[0])
    else:
        labels = {
            Channel.ONLINE: "Trực tuyến",
            Channel.POST: "Qua bưu điện",
            Channel.IN_PERSON: "Trực tiếp",
        }
        said = [(labels[ch], say(t)) for ch, t in times.items()]
        text = (
            "; ".join(f"{label}: {time}" for label, time in said)
            if all(time for _, time in said)
            else ""
        )

    days: list[int] = []
    for number, unit in parsed:
        if not number.isdigit():
            return None, text, flags
        if unit == "ngày làm việc":
            days.append(int(number))
        elif not unit and field in _BARE_NUMBER_IS_WORKING_DAYS and int(number) > 0:
            # Civil status and certification pages give bare numbers; read as working days,
            # and processing_text says it is only the number as published.
            days.append(int(number))
        else:
            return None, text, flags
    # Different times per channel: promise the longest, never a faster one.
    return max(days), text, flags


def _split_time(time_text: str) -> tuple[str, str]:
    match = re.match(r"^(\d+(?:[.,]\d+)?)\s*(.*)$", time_text)
    return (match.group(1), match.group(2)) if match else ("", time_text)


_HDND = re.compile(r"HĐND|Hội đồng nhân dân", re.IGNORECASE)
_EXEMPT = re.compile(r"Miễn lệ phí (?:cho|đối với) ([^.]+)\.")
# "123/2015/NĐ-CP", "60/2014/QH13", "24/2021/QĐ-TTg", "66.7/2025/NQ-CP"; Đ is the only
# non-ASCII capital in codes, which keeps a glued all-caps title out of the code.
_LAW_CODE = re.compile(r"\d+(?:\.\d+)?/(?:\d{4}/)?[A-ZĐ][A-ZĐ\d]*(?:-(?:TTg|[A-ZĐ][A-ZĐ\d]*))*")
# The same, shortest first, for finding where a code cell ends inside run-together text.
_LAW_CODE_SHORTEST = r"\d+(?:\.\d+)?/(?:\d{4}/)?[A-ZĐ][A-ZĐ\d]*?(?:-(?:TTg|[A-ZĐ][A-ZĐ\d]*?))*?"


def build_fee(cells: Iterable[FeeCell], channels: Iterable[ChannelInfo]) -> Fee | None:
    cells = tuple(cells)
    if not cells or not any(c.cell or c.description for c in cells):
        return None
    notes = " ".join(c.note for c in channels)
    descriptions = " ".join(c.description for c in cells)
    by_province = bool(_HDND.search(descriptions) or _HDND.search(notes))

    def phrase(cell: FeeCell) -> str:
        description = cell.description.rstrip(" .;")
        if by_province and cell.cell == "Miễn phí":
            # The portal cell says "Miễn phí" while the HĐND sets the level: never show it alone.
            if not _HDND.search(description):
                return " ".join(p for p in ("Mức lệ phí do HĐND tỉnh quy định.", description) if p)
            if re.match(r"(?:-\s*)?(?:Mức|Lệ phí|Phí)", description):
                return description
            return f"Lệ phí: {description[0].lower()}{description[1:]}"
        if cell.cell and description:
            return f"{cell.cell} ({description})"
        return cell.cell or description

    distinct: dict[str, list[Channel]] = {}
    for cell in cells:
        said = phrase(cell)
        if said:
            distinct.setdefault(said, []).append(cell.channel)
    if not distinct:
        return None
    if len(distinct) == 1:
        text = next(iter(distinct))
    else:
        labels = {
            Channel.ONLINE: "Trực tuyến",
            Channel.POST: "qua bưu điện",
            Channel.IN_PERSON: "trực tiếp",
        }
        parts = []
        for phrase_text, on in distinct.items():
            who = ", ".join(labels[ch] for ch in on)
            parts.append(f"{who[0].upper()}{who[1:]}: {phrase_text}")
        text = "; ".join(parts)
    amounts = {c.amount for c in cells}
    amount = None
    if not by_province and len(amounts) == 1:
        amount = next(iter(amounts))
        if amount is None and all(c.cell == "Miễn phí" and not c.description for c in cells):
            amount = 0
    exemptions: list[str] = []
    for match in _EXEMPT.finditer(descriptions):
        for part in match.group(1).split(";"):
            part = part.strip(" ,")
            if part and part not in exemptions:
                exemptions.append(part)
    basis = "; ".join(dict.fromkeys(m.group(0) for m in _LAW_CODE.finditer(descriptions)))
    return Fee(
        text=text,
        amount_vnd=amount,
        set_by_province=by_province,
        exemptions=tuple(exemptions),
        basis=basis,
    )


# --- Papers (thanh_phan_ho_so) ------------------------------------------------------------------

_PAPERS_HEADER = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"
# The count cell ("1 bản chính", "0 bản chính,1 bản sao") ends a row; the next row follows with
# no separator. The same words inside a name are followed by a space and lowercase text.
_COUNT = re.compile(
    rf"(\d) (bản chính|bản sao)(?:,(\d) (bản chính|bản sao))?"
    rf"(?=$|[^\s\w)]|{_U}|\d|{_L}{{1,4}}\)|\s+[{_UPPER}\-+*(])"
)
_FORM_FILE = re.compile(r"\.(?:docx?|pdf|xlsx?|rar|zip)$", re.IGNORECASE)


def parse_papers(raw: str) -> tuple[tuple[Paper, ...], bool]:
    """Papers from the flattened table, and whether the split looks reliable."""
    text = clean(raw)
    if not text:
        return (), True
    if _PAPERS_HEADER not in text or not _COUNT.search(text):
        return (Paper(name=text),), False
    chunks = text.split(_PAPERS_HEADER)
    title = chunks[0]
    papers: list[Paper] = []
    for chunk in chunks[1:]:
        position = 0
        rows: list[tuple[str, re.Match[str]]] = []
        for match in _COUNT.finditer(chunk):
            rows.append((chunk[position : match.start()], match))
            position = match.end()
        papers += _papers_in_group(title, rows)
        title = chunk[position:]
    if not papers:
        return (Paper(name=text),), False
    return tuple(papers), True


def _papers_in_group(title: str, rows: list[tuple[str, re.Match[str]]]) -> list[Paper]:
    group = _strip_bullet(title).rstrip(":").strip()
    if "lưu ý" in group.lower():
        return []  # notes to the officer, not papers
    show_only = "xuất trình" in group.lower()
    note = "" if re.fullmatch(r"(?:-*|Giấy tờ phải (?:nộp|xuất trình))", group) else group
    papers = []
    for row, count in rows:
        kinds = [(int(count.group(1)), count.group(2))]
        if count.group(3):
            kinds.append((int(count.group(3)), count.group(4)))
        kinds = [(n, kind) for n, kind in kinds if n > 0]
        if not kinds:
            continue  # "0 bản": the portal uses such rows for remarks, not documents
        name, form = _split_form_file(row)
        name = _strip_bullet(name).rstrip(";,").strip()
        if not name:
            continue
        if len(kinds) == 1:
            copy_kind, number = kinds[0][1], kinds[0][0]
        else:
            copy_kind = " và ".join(f"{n} {kind}" for n, kind in kinds)
            number = None
        papers.append(
            Paper(
                name=name,
                copy_kind=copy_kind,
                count=number,
                form=form,
                show_only=show_only,
                note=note,
            )
        )
    return papers


# Where the form-file cell may start inside "name + file name" run together.
_BOUNDARY = re.compile(
    rf"(?<=[.;:)”\"])"  # after punctuation: "…ký tên.M01b.pdf"
    rf"|(?<=[{_LOWER}\d])(?={_U})"  # lowercase then capital: "…quy địnhMauon.docx"
    rf"|(?<={_U})(?!Tg)(?={_U}{_L})"  # capitals then a word: "…NĐ-CPMau13.docx", not "QĐ-TTg"
)
_NON_ASCII_LOWER = "".join(c for c in _LOWER if not c.isascii())
# File names hold no sentence break, legal code or date, and never run a Vietnamese word into a
# capital ("theo mẫuVăn bản.docx" starts at "Văn"); an ASCII-fied name may start in lowercase,
# Vietnamese prose may not.
_NOT_A_FILE_NAME = re.compile(
    rf"[.:] |;|\d+/\d{{4}}/|\d{{1,2}}/\d{{1,2}}/\d{{4}}| ngày |[{_NON_ASCII_LOWER}]{_U}"
    rf"|^(?=[{_LOWER}]).*[{_NON_ASCII_LOWER}].* "
)


def _split_form_file(row: str) -> tuple[str, str]:
    """ "…theo mẫuMau01.docx" -> ("…theo mẫu", "Mau01.docx"): the form column runs into the name.

    The leftmost plausible start wins; file names hold no sentence break, legal code or date.
    """
    row = row.strip()
    if not _FORM_FILE.search(row):
        return row, ""
    for boundary in _BOUNDARY.finditer(row, max(0, len(row) - 110)):
        candidate = re.sub(r"^[\s.;:,)”\"]*(?:\d+\.+)?", "", row[boundary.start() :]).strip()
        stem = _FORM_FILE.sub("", candidate).strip(" .")
        if not stem or not _FORM_FILE.search(candidate) or _NOT_A_FILE_NAME.search(candidate):
            continue
        name = row[: boundary.start()].strip()
        if name:
            return name, candidate
    return row, ""


# --- Legal basis (can_cu_phap_ly) ---------------------------------------------------------------

_LEGAL_HEADER = "Tên văn bản pháp lýMã văn bản"
# The code cell ends where the next title begins: at the end, after a space before a capital, or
# glued to the next title ("…TT-BTCNghị định", "…NĐ-CPsửa đổi"). A date glued to a code
# ("…TT-BCAngày 01/7/2025") is a typo inside a title, not a cell boundary.
_LEGAL_CELL = re.compile(
    rf"(?:(?:Thông tư|Nghị định|Quyết định|Nghị quyết|Luật)(?: số)? )?({_LAW_CODE_SHORTEST})"
    rf"(?=$|\s+{_U}{_L}"
    rf"|(?!Tg\b|{_U}(?:ngày|năm|sửa|của|về|quy|hướng|ban)\b){_U}{_L}"
    rf"|(?!(?:ngày|năm)\b){_L}{_L})"
)
# "Luật 60/2014/QH1360/2014/QH13": a title ending in its own code, then the code cell.
_REPEATED_CODE = re.compile(rf"({_LAW_CODE.pattern})(?=\1)")
# "Luật Cư trú 202068/2020/QH14": a title ending in the year, then the code cell of that year.
_YEAR_THEN_CODE = re.compile(r"(?<!\d)((?:19|20)\d\d)(\d+(?:\.\d+)?/\1/)")


def parse_legal_basis(raw: str) -> tuple[tuple[LegalRef, ...], bool]:
    # One page runs the placeholder into the next heading: "Không có thông tinCơ quan thực hiện…".
    text = clean(raw.split("Cơ quan thực hiện", 1)[0])
    if not text:
        return (), True
    text = _REPEATED_CODE.sub(r"\1 ", text.removeprefix(_LEGAL_HEADER))
    text = _YEAR_THEN_CODE.sub(r"\1 \2", text)
    refs: list[LegalRef] = []
    position = 0
    for match in _LEGAL_CELL.finditer(text):
        title = text[position : match.start()].strip(" .;,")
        position = match.end()
        code = match.group(1)
        refs.append(LegalRef(title=title or code, code=code))
    rest = text[position:].strip(" .;,")
    if rest:
        refs.append(LegalRef(title=rest))
    whole = bool(refs) and not (rest and len(refs) == 1)
    return _one_per_instrument(refs), whole


def _one_per_instrument(refs: list[LegalRef]) -> tuple[LegalRef, ...]:
    """Each instrument once, where it first appears, under its most telling title.

    Pages list some instruments twice, once with the bare code as the title
    ("101/2024/NĐ-CP101/2024/NĐ-CP") and once with the real title.
    """
    kept: dict[str, LegalRef] = {}
    for ref in refs:
        key = ref.code or " ".join(ref.title.split()).casefold()
        earlier = kept.get(key)
        if earlier is None or _says_more(ref, earlier):
            kept[key] = ref
    return tuple(kept.values())


def _says_more(ref: LegalRef, than: LegalRef) -> bool:
    def words(r: LegalRef) -> int:
        return len(r.title.replace(r.code, " ").split()) if r.code else len(r.title.split())

    return words(ref) > words(than)


# --- Results and steps ----------------------------------------------------------------------------

# "KQ.G15.000031", "KQ-G17.000005", "000.00.00.G04-KQ0257"; the next result follows unspaced.
_RESULT_CODE = re.compile(r"\s*Mã:\s*([A-Z0-9][A-Z0-9.\-]*\d)")


def parse_results(raw: str) -> tuple[str, ...]:
    text = raw.split("Từ khóa", 1)[0]
    text = clean(text)
    if not text:
        return ()
    results: list[str] = []
    position = 0
    for match in _RESULT_CODE.finditer(text):
        name = _strip_bullet(text[position : match.start()]).strip()
        position = match.end()
        if name:
            # The result's code ("KQ.G15.000031") is the portal's internal identifier: a
            # citizen needs the name of the paper they get, not its catalogue number.
            results.append(name)
    rest = _strip_bullet(text[position:])
    if rest:
        results.append(rest)
    return tuple(results)


_DANGLING = re.compile(
    r"(?:\(|\b(?:mục|tại|theo|của|và|hoặc|với|để|là|các|điểm|khoản|điều|tiết)"
    r"|\bmục [\d.]+ \(?)$",
    re.IGNORECASE,
)


def parse_steps(raw: str) -> tuple[tuple[str, ...], bool]:
    """Steps, one per line or "- " bullet, and whether the text stops mid-sentence."""
    text = unicodedata.normalize("NFC", raw)
    steps: list[str] = []
    for line in text.splitlines():
        # Some pages run bullets together on one line: "…hồ sơ. - Bước 2: …".
        for piece in re.split(rf"(?<=[.;:])\s+-\s+(?={_U})", line):
            step = _strip_bullet(clean(piece))
            if step:
                steps.append(step)
    cut_off = bool(steps) and bool(_DANGLING.search(steps[-1]))
    return tuple(steps), cut_off
