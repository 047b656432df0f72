"""What the assistant says about the citizen's own dossiers ("/hoso", "Tra cứu hồ sơ")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

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
