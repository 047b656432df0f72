"""The receipt-and-appointment slip (Mẫu 01, "Giấy tiếp nhận hồ sơ và hẹn trả kết quả").

Layout after TT 01/2018/TT-VPCP Mẫu 01 (vietnam.md §2.8): the agency and the national header
side by side, the title and the dossier code, the applicant, items 1-6 (papers, number of sets,
processing time, time received, time due, where the result is collected), the entry in the
dossier log and the two signatures. Like several 2026 variants we add the fee line, and a QR
code of the dossier code so the officer's scanner (or the citizen's phone) reads it back
without typing. Printed on A5, the size the circular prescribes.

The wording of the slip is fixed form text, so it lives here rather than in the chat message
catalogue; every fact about the commune comes in through :class:`ReceiptData`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal

import segno
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from backoffice.documents.fonts import A5, dejavu_sans, open_pdf

ReturnMethod = Literal["counter", "post"]

_LINE = 4.6  # mm per text line at 9 pt
_QR_SIZE = 22.0  # mm; scans reliably from paper with a cheap phone camera
_POSTAGE_NOTE = "cước phí bưu chính do người dân trả"


@dataclass(frozen=True, slots=True)
class ReceiptData:
    """Everything printed on one slip; the caller (bot/backoffice service) fills it.

    ``received_at`` must be timezone-aware local time; ``appointment_time`` None prints the
    date alone ("trong giờ hành chính"). ``fee_vnd`` None means the procedure has no fee line,
    0 prints "Miễn phí". ``return_place`` is the counter's address for ``"counter"`` and the
    delivery address for ``"post"``. ``qr_text`` defaults to the dossier code.
    """

    agency_name: str  # e.g. "ỦY BAN NHÂN DÂN XÃ THÁI TÂN"
    place: str  # place name of the date line, e.g. "Thái Tân"
    dossier_code: str
    applicant_name: str
    applicant_address: str
    applicant_phone: str
    procedure_name: str
    papers: tuple[str, ...]
    # None (and appointment_on None): the procedure states no time in working days; the slip
    # gives ``processing_text`` and says the officer sets the date.
    processing_days: int | None
    received_at: datetime
    appointment_on: date | None
    return_method: ReturnMethod
    return_place: str
    unit_name: str = "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"
    slip_number: str = ""
    applicant_email: str = ""
    dossier_sets: int = 1
    appointment_time: time | None = None
    fee_vnd: int | None = None
    fee_detail: str = ""  # how the amount is made up, e.g. "2 bản sao × 8.000 đồng"
    fee_payment: str = ""  # how to pay, e.g. "Nộp tại quầy hoặc chuyển khoản (quét mã bên dưới)"
    payment_qr: str = ""  # a VietQR payload, printed beside the fee line when given
    receiving_officer: str = ""
    log_book: str = ""
    log_number: str = ""
    qr_text: str = ""
    copy_label: str = ""  # e.g. "Liên 2: giao người nộp hồ sơ"
    processing_text: str = ""  # the procedure's own words on its time, e.g. "30 ngày nếu ..."


def format_vnd(amount: int) -> str:
    """50000 → "50.000 đồng" (Vietnamese thousands separator is the dot)."""
    return f"{amount:,}".replace(",", ".") + " đồng"


def _qr_png(text: str) -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=8, border=2)
    buffer.seek(0)
    return buffer


def _font(pdf: FPDF, style: str = "", size: float = 9) -> None:
    pdf.set_font(dejavu_sans().family, style=style, size=size)


def _header(pdf: FPDF, data: ReceiptData) -> None:
    left_w = 54.0
    right_w = pdf.epw - left_w
    top = pdf.get_y()
    x0 = pdf.l_margin

    _font(pdf, "", 8.5)
    pdf.multi_cell(left_w, 4.2, data.agency_name.upper(), align=Align.C, new_x=XPos.LEFT)
    _font(pdf, "B", 8.5)
    pdf.multi_cell(left_w, 4.2, data.unit_name.upper(), align=Align.C, new_x=XPos.LEFT)
    left_bottom = pdf.get_y()
    pdf.line(x0 + left_w / 2 - 10, left_bottom + 0.8, x0 + left_w / 2 + 10, left_bottom + 0.8)
    pdf.set_xy(x0, left_bottom + 2)
    _font(pdf, "", 8.5)
    number = data.slip_number or "......"
    pdf.multi_cell(left_w, 4.2, f"Số: {number}", align=Align.C, new_x=XPos.LEFT)
    left_end = pdf.get_y()

    pdf.set_xy(x0 + left_w, top)
    _font(pdf, "B", 8.5)
    pdf.multi_cell(
        right_w, 4.2, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align=Align.C, new_x=XPos.LEFT
    )
    pdf.set_x(x0 + left_w)
    _font(pdf, "B", 9)
    pdf.multi_cell(right_w, 4.6, "Độc lập - Tự do - Hạnh phúc", align=Align.C, new_x=XPos.LEFT)
    rule_y = pdf.get_y() + 0.8
    centre = x0 + left_w + right_w / 2
    pdf.line(centre - 22, rule_y, centre + 22, rule_y)
    pdf.set_xy(x0 + left_w, max(rule_y + 1.2, left_bottom + 2))
    _font(pdf, "I", 8.5)
    day = data.received_at.date()
    pdf.multi_cell(
        right_w,
        4.2,
        f"{data.place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}",
        align=Align.C,
        new_x=XPos.LEFT,
    )
    pdf.set_xy(x0, max(pdf.get_y(), left_end) + 3)


def _labelled(pdf: FPDF, label: str, value: str, note: str = "") -> None:
    """One "Label: value" paragraph; the value is bold so the citizen can check it at a glance."""
    pdf.set_x(pdf.l_margin)
    _font(pdf, "")
    pdf.write(_LINE, label + " ")
    _font(pdf, "B")
    pdf.write(_LINE, value or "..........")
    if note:
        _font(pdf, "I")
        pdf.write(_LINE, f" ({note})")
    pdf.ln(_LINE)


def _result_place(data: ReceiptData) -> str:
    if data.return_method == "post":
        return f"Qua dịch vụ bưu chính công ích, gửi đến địa chỉ: {data.return_place}"
    return data.return_place or "Bộ phận tiếp nhận và trả kết quả"


_NO_STATED_TIME = "theo quy định của thủ tục"
_NO_DATE = "cán bộ sẽ hẹn ngày trả sau khi xem xét hồ sơ"


def _time_line(moment: time | None, day: date) -> str:
    when = f"ngày {day:%d/%m/%Y}"
    if moment is None:
        return f"trong giờ hành chính, {when}"
    return f"{moment.hour:02d} giờ {moment.minute:02d} phút, {when}"


def render_receipt_pdf(data: ReceiptData) -> bytes:
    """The slip as an A5 PDF (one page for a normal list of papers; it flows onto a second)."""
    if data.received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    with open_pdf(A5, data.received_at) as pdf:
        _draw(pdf, data)
        return bytes(pdf.output())


def _draw(pdf: FPDF, data: ReceiptData) -> None:
    pdf.set_title(f"Giấy tiếp nhận hồ sơ và hẹn trả kết quả {data.dossier_code}")
    pdf.set_margins(10, 9, 10)
    pdf.set_auto_page_break(auto=True, margin=10)
    pdf.add_page()

    _header(pdf, data)

    # Title, code and the code's QR side by side: the QR sits at the right edge and the title
    # block is centred in the remaining width so the two never overlap.
    block_top = pdf.get_y()
    text_w = pdf.epw - _QR_SIZE - 2
    _font(pdf, "B", 11)
    pdf.multi_cell(
        text_w, 5.5, "GIẤY TIẾP NHẬN HỒ SƠ\nVÀ HẸN TRẢ KẾT QUẢ", align=Align.C, new_x=XPos.LEFT
    )
    code_line = f"Mã hồ sơ: {data.dossier_code}"
    _font(pdf, "B", 10)
    pdf.multi_cell(text_w, 5.5, code_line, align=Align.C, new_x=XPos.LEFT)
    if data.copy_label:
        _font(pdf, "I", 8.5)
        pdf.multi_cell(text_w, 4.5, f"({data.copy_label})", align=Align.C, new_x=XPos.LEFT)
    pdf.image(
        _qr_png(data.qr_text or data.dossier_code),
        x=pdf.l_margin + pdf.epw - _QR_SIZE,
        y=block_top - 1,
        w=_QR_SIZE,
        h=_QR_SIZE,
        alt_text=f"Mã QR của mã hồ sơ {data.dossier_code}",
    )
    pdf.set_xy(pdf.l_margin, max(pdf.get_y(), block_top + _QR_SIZE) + 1.5)

    _labelled(pdf, f"{data.unit_name.capitalize()} tiếp nhận hồ sơ của:", data.applicant_name)
    _labelled(pdf, "Địa chỉ:", data.applicant_address)
    contact = data.applicant_phone or ".........."
    if data.applicant_email:
        contact += f"     Email: {data.applicant_email}"
    _labelled(pdf, "Số điện thoại:", contact)
    _labelled(pdf, "Nội dung yêu cầu giải quyết:", data.procedure_name)

    pdf.set_x(pdf.l_margin)
    _font(pdf)
    pdf.write(_LINE, "1. Thành phần hồ sơ nộp gồm:")
    pdf.ln(_LINE)
    for number, paper in enumerate(data.papers or ("..........",), start=1):
        pdf.set_x(pdf.l_margin + 5)
        _font(pdf)
        pdf.multi_cell(pdf.epw - 5, _LINE, f"{number}) {paper}", align=Align.L, new_x=XPos.LMARGIN)
    _labelled(pdf, "2. Số lượng hồ sơ:", f"{data.dossier_sets:02d} (bộ)")
    days = data.processing_days
    if days is None:
        due_text = data.processing_text or _NO_STATED_TIME
    else:
        due_text = "trong ngày" if days == 0 else f"{days:02d} ngày làm việc"
    _labelled(pdf, "3. Thời gian giải quyết hồ sơ theo quy định là:", due_text)
    received = data.received_at
    _labelled(pdf, "4. Thời gian nhận hồ sơ:", _time_line(received.time(), received.date()))
    _labelled(
        pdf,
        "5. Thời gian trả kết quả giải quyết hồ sơ:",
        _NO_DATE
        if data.appointment_on is None
        else _time_line(data.appointment_time, data.appointment_on),
    )
    postage = _POSTAGE_NOTE if data.return_method == "post" else ""
    _labelled(pdf, "6. Đăng ký nhận kết quả tại:", _result_place(data), postage)
    if data.fee_vnd is not None:
        _fee(pdf, data, data.fee_vnd)
    _font(pdf, "I", 8.5)
    book = data.log_book or "......"
    entry = data.log_number or "......"
    pdf.multi_cell(
        pdf.epw,
        4.5,
        f"Vào Sổ theo dõi hồ sơ, Quyển số: {book}, Số thứ tự: {entry}",
        align=Align.L,
        new_x=XPos.LMARGIN,
    )
    pdf.ln(2)
    _signatures(pdf, data)


def _fee(pdf: FPDF, data: ReceiptData, fee_vnd: int) -> None:
    amount = "Miễn phí" if fee_vnd == 0 else format_vnd(fee_vnd)
    qr_w = 20.0 if data.payment_qr and fee_vnd > 0 else 0.0
    if qr_w and pdf.get_y() + qr_w > pdf.page_break_trigger:
        pdf.add_page()  # keep the payment QR beside its fee line
    top = pdf.get_y()
    pdf.set_x(pdf.l_margin)
    _font(pdf)
    pdf.write(_LINE, "7. Phí, lệ phí: ")
    _font(pdf, "B")
    pdf.write(_LINE, amount)
    if data.fee_detail and fee_vnd > 0:
        _font(pdf)
        pdf.write(_LINE, f" ({data.fee_detail})")
    pdf.ln(_LINE)
    if data.fee_payment:
        pdf.set_x(pdf.l_margin + 5)
        _font(pdf, "", 9)
        pdf.multi_cell(
            pdf.epw - 5 - qr_w,
            4.4,
            f"Cách nộp: {data.fee_payment}",
            align=Align.L,
            new_x=XPos.LMARGIN,
        )
    if qr_w:
        pdf.image(
            _qr_png(data.payment_qr),
            x=pdf.l_margin + pdf.epw - qr_w,
            y=top,
            w=qr_w,
            h=qr_w,
            alt_text="Mã QR chuyển khoản phí, lệ phí",
        )
        pdf.set_y(max(pdf.get_y(), top + qr_w + 1))


def _signatures(pdf: FPDF, data: ReceiptData) -> None:
    needed = 30.0
    if pdf.get_y() + needed > pdf.page_break_trigger:
        pdf.add_page()
    half = pdf.epw / 2
    top = pdf.get_y()
    for column, (title, name) in enumerate(
        (
            ("NGƯỜI NỘP HỒ SƠ", data.applicant_name),
            ("NGƯỜI TIẾP NHẬN HỒ SƠ", data.receiving_officer),
        )
    ):
        x = pdf.l_margin + column * half
        pdf.set_xy(x, top)
        _font(pdf, "B", 9)
        pdf.cell(half, 4.6, title, align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
        _font(pdf, "I", 8.5)
        pdf.cell(
            half, 4.4, "(Ký và ghi rõ họ tên)", align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT
        )
        if name:
            pdf.set_xy(x, top + 24)
            _font(pdf, "B", 9)
            pdf.multi_cell(half, 4.6, name, align=Align.C, new_x=XPos.LEFT)
    pdf.set_y(top + needed)
