"""The papers a filing prints, read back from the PDF as an officer would read them (issue #11).

Each of the four declarations is rendered from a full set of answers as the dialog stores them
(dates ISO, addresses as mappings, names as typed, a commune code for a place), through
``bot.printing.printable``; every field the declaration prints is then looked for in the page's
text, read with pypdf (pure Python). Odd values (None, booleans, mappings, lists, ISO dates)
never reach the page as Python. The receipt's payment QR sits where its words say it does.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from typing import Any

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.documents.declarations import DECLARATION_KEYS, render_declaration_pdf
from backoffice.documents.receipt import ReceiptData, render_receipt_pdf
from backoffice.documents.vietqr import build_vietqr
from bot.printing import printable
from dialogs.texts import receipt as rtexts
from dialogs.vnwords import date_in_words
from knowledge.catalogue import DATA_DIR, load_catalogue
from knowledge.model import FormField, Procedure

CATALOGUE = load_catalogue(DATA_DIR)
DECLARATIONS = {"birth": "1.001193", "marriage": "1.000894", "death": "1.000656"}
DECLARATIONS["marital_status"] = "1.004873"
SIGNED = date(2026, 12, 3)
RESIDENCE = {
    "street": "",
    "hamlet": "xóm Bắc",
    "commune_code": "10642",
    "commune_name": "Xã Thái Tân",
    "province_code": "31",
    "province_name": "Thành phố Hải Phòng",
}
RESIDENCE_LINE = "xóm Bắc, xã Thái Tân, thành phố Hải Phòng"
# Keys a declaration can print that no form asks (the ID's kind, issuer and date): the citizen
# gives the 12-digit number only, which the office looks up.
NOT_ASKED = re.compile(r"_id_(kind|issuer|issued_on)$")

# What a villager types, per field; a field not named here gets a value for its kind.
TYPED: dict[str, Any] = {
    "requester_name": "tran thi lan",  # no capitals, no diacritics: printed in title case
    "child_name": "Trần Minh Khôi",
    "mother_name": "trần thị lan",
    "father_name": "NGUYỄN VĂN BÌNH",
    "wife_name": "phạm thị hồng",
    "husband_name": "lê văn nam",
    "deceased_name": "vũ văn tư",
    "person_name": "đỗ thị mai",
    "requester_birth_date": "1992-07-20",
    "child_birth_date": "2026-11-20",
    "mother_birth_date": "1992-07-20",
    "father_birth_date": "1990-03-05",
    "wife_birth_date": "1998-01-15",
    "husband_birth_date": "1996-09-30",
    "deceased_birth_date": "1941-02-11",
    "person_birth_date": "1999-12-24",
    "death_date": "2026-11-28",
    "death_notice_date": "2026-11-29",
    "death_time": "05:30",
    "child_birth_place": "Trạm y tế xã Thái Tân, TP Hải Phòng",
    "child_hometown": "10642",  # a commune chosen by button: its code
    "death_place": "tại nhà, thôn Mạc Xá, xã Thái Tân, HP",
    "parents_marriage_certificate": "số 12, quyển 01/2020, ngày 5/3/2020, tại UBND xã Minh Tân",
    "marriage_cert_number": "12",
    "marriage_cert_book": "01/2020",
    "marriage_cert_date": "2020-03-05",
    "marriage_cert_place": "10642",
    "death_notice_kind": "Giấy báo tử",
    "death_notice_number": "05/GBT",
    "death_notice_issuer": "Trạm y tế xã Thái Tân",
    "death_cause": "già yếu",
    "person_marital_status": "Đã ly hôn, chưa kết hôn lại",
    "person_marital_details": "Bản án ly hôn số 20/2022/HNGĐ-ST ngày 10/5/2022 của TAND huyện",
    "purpose": "để kết hôn",
    "requester_relation": None,  # the form's first choice
}
# What each printed key must read on the page, where printing changes what was typed.
PRINTED: dict[str, str] = {
    "requester_name": "Tran Thi Lan",
    "mother_name": "Trần Thị Lan",
    "father_name": "Nguyễn Văn Bình",
    "bride_name": "Phạm Thị Hồng",
    "groom_name": "Lê Văn Nam",
    "deceased_name": "Vũ Văn Tư",
    "person_name": "Đỗ Thị Mai",
    "child_birth_place": "Trạm y tế xã Thái Tân, thành phố Hải Phòng",
    "child_hometown": "xã Thái Tân, thành phố Hải Phòng",
    "death_place": "tại nhà, thôn Mạc Xá, xã Thái Tân, thành phố Hải Phòng",
    "marriage_cert_place": "xã Thái Tân, thành phố Hải Phòng",
}


def typed_value(field: FormField) -> Any:
    if field.name in TYPED and TYPED[field.name] is not None:
        return TYPED[field.name]
    if field.kind == "choice":
        return field.choices[0]
    if field.name.endswith("_ethnicity"):
        return "kinh"
    if field.name.endswith("_nationality"):
        return "viet nam"
    by_kind: dict[str, Any] = {
        "name": "Hoàng Văn Sáu",
        "date": "2000-01-01",
        "id_number": "031192001234",
        "phone": "0912345678",
        "yes_no": True,
        "sex": "Nữ",
        "number": 2,
        "address": RESIDENCE,
        "text": f"ghi chú {field.name}",
    }
    return by_kind[field.kind]


def full_answers(procedure: Procedure) -> dict[str, Any]:
    assert procedure.form is not None
    return {f.name: typed_value(f) for f in procedure.form.fields}


def render(kind: str, values: dict[str, Any]) -> bytes:
    return render_declaration_pdf(
        kind, values, "Xã Thái Tân", "xã Thái Tân", SIGNED, date_in_words=date_in_words
    )


def page_text(data: bytes) -> str:
    """Every page's text, runs of whitespace made one space (a wrapped line reads on)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def shown(value: Any) -> str:
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return str(value)


@pytest.mark.parametrize("kind", sorted(DECLARATIONS))
def test_every_field_of_the_declaration_is_printed_from_the_answers(kind: str) -> None:
    procedure = CATALOGUE.get(DECLARATIONS[kind])
    assert procedure is not None and procedure.form is not None
    assert procedure.form.declaration == kind
    values = printable(procedure, full_answers(procedure))
    # Every blank of the declaration is filled, but the ID details no form asks for.
    unfilled = {k for k in DECLARATION_KEYS[kind] - values.keys() if not NOT_ASKED.search(k)}
    assert unfilled == set(), f"{kind}: no answer fills {sorted(unfilled)}"
    text = page_text(render(kind, values))
    for key in sorted(values.keys() & DECLARATION_KEYS[kind]):
        if key in ("copies", "death_notice_kind", "death_time", "death_date"):
            continue  # a ticked box, a struck phrase, the split date line: checked below
        if key == "death_notice_date":
            continue
        expected = PRINTED.get(key, shown(values[key]))
        assert " ".join(expected.split()) in text, f"{kind}: {key} = {expected!r} not printed"
    for raw in ("{", "}", "None", "True", "False", "[", "datetime"):
        assert raw not in text, f"{kind}: {raw!r} on the page"
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), f"{kind}: an ISO date on the page"


def test_the_birth_declaration_reads_as_an_officer_writes_it() -> None:
    procedure = CATALOGUE.get("1.001193")
    assert procedure is not None
    answers = full_answers(procedure)
    # A dossier filed with the earlier form, which took the certificate as one line.
    for key in ("marriage_cert_number", "marriage_cert_book", "marriage_cert_date"):
        answers.pop(key, None)
    answers["marriage_cert_place"] = None
    answers["parents_marriage_certificate"] = (
        "số 12, quyển 01/2020, ngày 5/3/2020, tại UBND xã Minh Tân"
    )
    values = printable(procedure, answers)
    text = page_text(render("birth", values))
    for expected in (
        "Họ, chữ đệm, tên người yêu cầu: Tran Thi Lan",
        "Ngày, tháng, năm sinh: 20/07/1992",
        "Quan hệ với người được khai sinh: Mẹ",
        "Họ, chữ đệm, tên: Trần Minh Khôi",
        "Ngày, tháng, năm sinh: 20/11/2026 ghi bằng chữ: Ngày hai mươi, tháng mười một, "
        "năm hai nghìn không trăm hai mươi sáu",
        "Dân tộc: Kinh",
        "Quốc tịch: Việt Nam",
        "Nơi sinh: (4) Trạm y tế xã Thái Tân, thành phố Hải Phòng",
        "Quê quán: xã Thái Tân, thành phố Hải Phòng",
        "Họ, chữ đệm, tên người mẹ: Trần Thị Lan",
        f"Nơi cư trú: (2) {RESIDENCE_LINE}",
        "Giấy tờ tùy thân: (3) Số định danh cá nhân 031192001234",
        "Họ, chữ đệm, tên người cha: Nguyễn Văn Bình",
        "Năm sinh: (5) 05/03/1990",
        # The certificate typed on one line, read onto the form's four blanks.
        "Số: 12 Quyển số: 01/2020 đăng ký ngày 05/03/2020",
        "tại UBND xã Minh Tân",
        "Đề nghị cấp bản sao (6): Có ☒, Không ☐",
        "Số lượng: 02 bản",
    ):
        assert expected in text, expected


def test_the_marriage_death_and_marital_status_declarations_read_right() -> None:
    marriage = CATALOGUE.get("1.000894")
    death = CATALOGUE.get("1.000656")
    status = CATALOGUE.get("1.004873")
    assert marriage is not None and death is not None and status is not None
    text = page_text(render("marriage", printable(marriage, full_answers(marriage))))
    for expected in ("Phạm Thị Hồng", "Lê Văn Nam", "15/01/1998", "30/09/1996", RESIDENCE_LINE):
        assert expected in text, expected
    assert "Kết hôn lần thứ mấy 2 2" in text
    text = page_text(render("death", printable(death, full_answers(death))))
    for expected in (
        "Họ, chữ đệm, tên: Vũ Văn Tư",
        "Ngày, tháng, năm sinh: 11/02/1941",
        f"Nơi cư trú cuối cùng: (2) {RESIDENCE_LINE}",
        "Đã chết vào lúc: 05 giờ 30 phút, ngày 28 tháng 11 năm 2026",
        "Nơi chết: tại nhà, thôn Mạc Xá, xã Thái Tân, thành phố Hải Phòng",
        "(4) 05/GBT do Trạm y tế xã Thái Tân cấp ngày 29 tháng 11 năm 2026",
    ):
        assert expected in text, expected
    text = page_text(render("marital_status", printable(status, full_answers(status))))
    assert (
        "Tình trạng hôn nhân: (4) Đã ly hôn (Bản án ly hôn số 20/2022/HNGĐ-ST ngày 10/5/2022 "
        "của TAND huyện); hiện tại chưa đăng ký kết hôn với ai; nơi cư trú trước đây: "
        "ghi chú person_previous_residences"
    ) in text
    assert "Mục đích sử dụng Giấy xác nhận tình trạng hôn nhân: (5) để kết hôn" in text
    assert "Giới tính: Nữ Dân tộc: Kinh Quốc tịch: Việt Nam" in text


# --- Odd values never reach the page as Python ------------------------------------------------

SAFE_TEXT = st.text(
    alphabet=st.sampled_from("abcdeghiklmnopqrstuvxyĐđăâêôơưáàảãạếềểễệ ,./0123456789"),
    max_size=30,
)
ISO = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)).map(date.isoformat)
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(),
    ISO,
    ISO.map(lambda d: d + "T10:00:00+07:00"),
    SAFE_TEXT,
    st.dictionaries(SAFE_TEXT, SAFE_TEXT, max_size=2),
    st.lists(SAFE_TEXT, max_size=2),
    st.just(RESIDENCE),
    st.just({"commune_name": None}),
)


@pytest.mark.parametrize("kind", sorted(DECLARATIONS))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_python_representation_reaches_a_printed_page(kind: str, data: st.DataObject) -> None:
    procedure = CATALOGUE.get(DECLARATIONS[kind])
    assert procedure is not None and procedure.form is not None
    names = sorted({f.name for f in procedure.form.fields} | DECLARATION_KEYS[kind])
    answers = data.draw(st.dictionaries(st.sampled_from(names), ODD, max_size=len(names)))
    # Through printable, and straight into the renderer (a caller that skips printable).
    for values in (printable(procedure, answers), answers):
        text = page_text(render(kind, dict(values)))
        for raw in ("{", "}", "[", "]", "'", "None", "True", "False", "nan", "inf", "datetime"):
            assert raw not in text, (raw, values)
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text), values


# --- The receipt's payment QR ---------------------------------------------------------------


def _placements(data: bytes) -> tuple[list[tuple[float, float, float, float]], list[Any]]:
    """The images drawn on page 1 (x, y, width, height in points) and its text runs."""
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    images: list[tuple[float, float, float, float]] = []
    runs: list[tuple[str, float, float]] = []

    def before(op: bytes, args: Any, cm: Any, tm: Any) -> None:
        if op == b"Do":
            images.append((cm[4], cm[5], cm[0], cm[3]))

    def text(chunk: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if chunk.strip():
            runs.append((chunk, tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]))

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return images, runs


def test_the_receipts_payment_qr_sits_where_its_text_says() -> None:
    code = "000.00.31.H31-261203-0001"
    receipt = ReceiptData(
        agency_name="ỦY BAN NHÂN DÂN XÃ THÁI TÂN",
        place="Thái Tân",
        dossier_code=code,
        applicant_name="Trần Thị Lan",
        applicant_address=RESIDENCE_LINE,
        applicant_phone="0912345678",
        procedure_name="Đăng ký khai sinh",
        papers=("Tờ khai đăng ký khai sinh", "Giấy chứng sinh"),
        processing_days=0,
        received_at=datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
        appointment_on=date(2026, 12, 3),
        return_method="counter",
        return_place="Bộ phận một cửa xã Thái Tân",
        fee_vnd=16000,
        fee_detail="2 bản sao × 8.000 đồng",
        fee_payment=rtexts.PAY_BY_QR_ON_SLIP,
        payment_qr=build_vietqr("970415", "113366668888", 16000, "LE PHI 261203-0001"),
    )
    data = render_receipt_pdf(receipt)
    text = page_text(data)
    assert "7. Phí, lệ phí: 16.000 đồng (2 bản sao × 8.000 đồng)" in text
    assert "Quét mã QR chuyển khoản ở bên phải dòng này" in text
    images, runs = _placements(data)
    assert len(images) == 2  # the dossier code's QR, then the payment QR
    code_qr, pay_qr = sorted(images, key=lambda i: -i[1])  # top of the page first
    width = float(pypdf.PdfReader(io.BytesIO(data)).pages[0].mediabox.width)

    def run(start: str) -> tuple[str, float, float]:
        return next(r for r in runs if r[0].strip().startswith(start))

    for qr, words in ((pay_qr, "Cách nộp: Quét mã QR"), (pay_qr, "7. Phí"), (code_qr, "Mã hồ sơ")):
        x, y, w, h = qr
        _, text_x, text_y = run(words)
        assert y <= text_y <= y + h, f"{words!r} is not beside its QR"
        assert x > text_x and x + w > width * 0.8, f"the QR is not at the right of {words!r}"
    # The payment words and QR are beside the fee, below the dossier code's QR.
    assert pay_qr[1] + pay_qr[3] < code_qr[1]
