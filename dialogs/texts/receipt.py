"""What the assistant says once a dossier is filed: the receipt and how to pay."""

from __future__ import annotations

from datetime import date, datetime

from knowledge.fees import FeeDue

NO_STATED_TIME = "theo quy định của thủ tục"  # a procedure that gives no time of its own
RECEIPT_PDF_CAPTION = "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
DECLARATION_PDF_CAPTION = "Tờ khai (bản nháp để bạn kiểm tra và ký khi đến nhận kết quả)"
PAYMENT_QR_CAPTION = "Mã QR chuyển khoản lệ phí"
SUBMIT_FAILED = (
    "Xin lỗi, hệ thống đang bận nên chưa lưu được hồ sơ. Bạn bấm “Gửi hồ sơ” lại sau ít phút nhé. "
    "Các thông tin bạn đã khai vẫn được giữ nguyên."
)


def weekday_name(day: date) -> str:
    return ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")[
        day.weekday()
    ]


def filed(
    *,
    code: str,
    procedure_name: str,
    received_at: datetime,
    appointment_on: date | None,
    by_post: bool,
    office: str,
    fee_text: str,
    payment_hint: str,
    fee_due: FeeDue | None = None,
    processing_text: str = "",
) -> str:
    where = (
        "Kết quả sẽ được gửi qua bưu điện đến địa chỉ bạn đã khai (cước phí bưu chính do bạn trả)."
        if by_post
        else f"Bạn nhận kết quả tại: {office}."
    )
    lines = [
        "Đã nhận hồ sơ của bạn ✅",
        f"Mã hồ sơ: {code}",
        f"Thủ tục: {procedure_name}",
        f"Thời gian nhận: {received_at:%H:%M} ngày {received_at:%d/%m/%Y}",
        f"Ngày hẹn trả kết quả: {weekday_name(appointment_on)}, {appointment_on:%d/%m/%Y}"
        if appointment_on is not None
        else f"Thời gian giải quyết: {(processing_text or NO_STATED_TIME).rstrip('. ')}. "
        "Cán bộ sẽ báo bạn ngày trả kết quả sau khi xem xét hồ sơ.",
        where,
    ]
    if fee_text:
        lines.append(f"Lệ phí: {fee_text}")
    if fee_due is not None and fee_due.total > 0:
        lines.append(f"Số tiền cần nộp: {vnd(fee_due.total)} ({fee_detail(fee_due)})")
    if payment_hint:
        lines.append(payment_hint)
    lines.append(
        "Bạn giữ mã hồ sơ này để tra cứu. Cán bộ xã không bao giờ xin mật khẩu hay mã OTP."
    )
    return "\n".join(lines)


def already_filed(code: str) -> str:
    return f"Hồ sơ này đã được gửi rồi, mã hồ sơ {code}. Bạn không cần gửi lại ạ."


def queued_for_office() -> str:
    return (
        "Hồ sơ đã đến bộ phận một cửa của xã; bạn không cần làm gì thêm. Mỗi khi hồ sơ có "
        "tiến triển, bạn sẽ nhận tin nhắn tại đây. Giấy biên nhận (PDF) sẽ được gửi ngay sau đây."
    )


def documents_of(code: str) -> str:
    return f"Giấy tờ của hồ sơ {code}, bạn tải về và giữ lại nhé:"


PAY_BY_QR = (
    "Bạn có thể quét mã QR bên dưới để chuyển khoản lệ phí (nội dung chuyển khoản ghi mã hồ sơ)."
)
PAY_AT_COUNTER = (
    "Bạn nộp lệ phí tại bộ phận một cửa khi đến nhận kết quả, hoặc cho nhân viên bưu điện."
)


def vnd(amount: int) -> str:
    """16000 → "16.000 đồng"."""
    return f"{amount:,}".replace(",", ".") + " đồng"


def fee_detail(due: FeeDue) -> str:
    """How the amount is made up: "2 bản sao × 8.000 đồng", "lệ phí 50.000 đồng và ..."."""
    parts = []
    if due.base:
        parts.append(f"lệ phí {vnd(due.base)}")
    if due.copies:
        parts.append(f"{due.copies} bản sao × {vnd(due.per_copy)}")
    return " và ".join(parts) if parts else ("miễn phí" if due.total == 0 else "")


# On the paper slip the payment QR is printed at the right of these lines, beside the fee.
PAY_BY_QR_ON_SLIP = (
    "Quét mã QR chuyển khoản ở bên phải dòng này (số tiền và nội dung chuyển khoản "
    "đã có sẵn), hoặc nộp tại bộ phận một cửa."
)
