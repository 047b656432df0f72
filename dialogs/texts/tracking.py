"""What the assistant says about the citizen's own dossiers ("/hoso", "Tra cứu hồ sơ")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dialogs.model import DossierStatus
from dialogs.texts.receipt import weekday_name

# The one-stop-shop statuses in plain words (domain/vietnam.md §2.4), by the office's names
# (backoffice.domain.Status).
STATUS_NAMES = {
    "received": "Mới đăng ký, đang chờ cán bộ tiếp nhận",
    "accepted": "Đã được tiếp nhận",
    "not_accepted": "Không được tiếp nhận",
    "in_progress": "Đang xử lý",
    "supplement_requested": "Cần bổ sung giấy tờ",
    "payment_requested": "Cần nộp lệ phí",
    "paid": "Đã nộp lệ phí, đang xử lý",
    "refused": "Dừng xử lý",
    "result_ready": "Đã có kết quả",
    "returned": "Đã trả kết quả",
    "posted": "Kết quả đã gửi bưu điện",
    "collected": "Bưu điện đã nhận kết quả",
    "in_transit": "Bưu điện đang chuyển kết quả",
    "delivered": "Đã giao kết quả",
    "delivery_failed": "Bưu điện chưa giao được",
    "returned_to_office": "Kết quả đã quay về xã",
    "withdrawn": "Đã rút hồ sơ",
}
# Once the result is in hand (or the dossier ended), the appointment date no longer matters.
NO_APPOINTMENT = frozenset(
    {
        "returned",
        "delivered",
        "withdrawn",
        "not_accepted",
        "refused",
        "posted",
        "collected",
        "in_transit",
        "delivery_failed",
        "returned_to_office",
        "result_ready",
    }
)
SHOWN = 5  # newest first; a phone screen holds about this many


@dataclass(frozen=True, slots=True)
class DossierLine:
    code: str
    procedure_name: str
    status: str
    appointment_on: date | None


def btn_receipt(number: int) -> str:
    return f"Biên nhận hồ sơ {number}"


def receipt_coming(code: str) -> str:
    return f"Giấy biên nhận của hồ sơ {code} sẽ được gửi lại cho bạn ngay sau đây."


NOT_YOURS = "Không tìm thấy hồ sơ này trong các hồ sơ bạn đã nộp qua tin nhắn này."


def no_dossiers(hotline: str) -> str:
    ask = f" Nếu bạn nộp ở quầy, xin gọi {hotline} để hỏi." if hotline else ""
    return "Bạn chưa nộp hồ sơ nào qua tin nhắn này." + ask


def my_dossiers(lines: Sequence[DossierLine], total: int) -> str:
    head = (
        "Hồ sơ bạn đã nộp:"
        if total <= len(lines)
        else f"Bạn đã nộp {total} hồ sơ; đây là {len(lines)} hồ sơ mới nhất:"
    )
    blocks = [head]
    for number, line in enumerate(lines, 1):
        block = [
            f"{number}. {line.procedure_name}",
            f"Mã hồ sơ: {line.code}",
            f"Tình trạng: {STATUS_NAMES.get(line.status, line.status)}",
        ]
        if line.appointment_on is not None and line.status not in NO_APPOINTMENT:
            day = line.appointment_on
            block.append(f"Ngày hẹn trả: {weekday_name(day)}, {day:%d/%m/%Y}")
        blocks.append("\n".join(block))
    return "\n\n".join(blocks)


# --- A dossier code typed in the chat --------------------------------------------------------

HISTORY_SHOWN = 6  # the latest steps; the whole history is at the desk


def dossier_status(view: DossierStatus) -> str:
    """The status and recent history of one dossier, in plain words."""
    lines = [
        f"Hồ sơ {view.code}",
        view.procedure_name,
        f"Tình trạng: {STATUS_NAMES.get(view.status, view.status)}",
    ]
    if view.status == "supplement_requested" and view.missing:
        lines.append("Cần bổ sung: " + "; ".join(view.missing))
    if view.status == "payment_requested" and view.amount_due:
        lines.append(f"Số tiền cần nộp: {view.amount_due:,} đồng".replace(",", "."))
    if view.postal_item and view.status not in ("returned", "result_ready"):
        lines.append(f"Số hiệu bưu gửi: {view.postal_item}")
    if view.due_date is not None and view.status not in NO_APPOINTMENT:
        day = view.due_date
        late = " (đã quá hạn, xã sẽ báo ngày hẹn mới)" if view.overdue else ""
        lines.append(f"Ngày hẹn trả: {weekday_name(day)}, {day:%d/%m/%Y}{late}")
    steps = view.history[-HISTORY_SHOWN:]
    if steps:
        lines.append("Các bước đã qua:")
        for step in steps:
            why = f" ({step.reason})" if step.reason else ""
            name = STATUS_NAMES.get(step.status, step.status)
            lines.append(f"• {step.at:%H:%M %d/%m}: {name}{why}")
    return "\n".join(lines)


def ask_phone(code: str) -> str:
    return (
        f"Hồ sơ {code} không được nộp từ tin nhắn này. Để giữ kín thông tin, xin bạn gõ số "
        "điện thoại người nộp đã ghi trong hồ sơ (ví dụ: 0912345678)."
    )


PHONE_UNCLEAR = "Số điện thoại chưa đúng. Bạn gõ lại 10 chữ số, ví dụ: 0912345678."


def phone_mismatch(tries_left: int) -> str:
    return (
        "Mã hồ sơ hoặc số điện thoại không khớp. Bạn kiểm tra lại mã trên giấy biên nhận "
        f"và số điện thoại. Bạn còn {tries_left} lần thử."
    )


def lookup_stopped(hotline: str) -> str:
    call = f" hoặc gọi {hotline}" if hotline else ""
    return (
        "Mã hồ sơ hoặc số điện thoại không khớp. Vì an toàn, chúng tôi dừng tra cứu hồ sơ này "
        f"qua tin nhắn. Bạn mang căn cước đến bộ phận một cửa{call} để hỏi."
    )


LOOKUP_BUSY = "Hệ thống của xã đang bận, chưa tra cứu được. Bạn thử lại sau ít phút nhé."
LOOKUP_CANCELLED = "Đã thôi tra cứu."
BTN_STOP_LOOKUP = "Thôi, không tra nữa"
