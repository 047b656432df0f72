"""The workflow's one message catalogue: status and role names, and why a command was refused.

Each refusal has an English sentence (logs, API error bodies) and a plain Vietnamese one (the
officer's screen), filled from the same fields so they never say different things. Fields:
``from_status``/``to_status``/``role``/``command`` (wire names) and their ``*_vi`` labels, plus
the values a rule names (``item_number``, ``amount``, dates as ``*_iso`` and ``*_vi``).
"""

from __future__ import annotations

from datetime import date

from backoffice.domain.status import Role, Status

STATUS_LABELS: dict[Status, str] = {
    Status.RECEIVED: "Mới đăng ký",
    Status.ACCEPTED: "Được tiếp nhận",
    Status.NOT_ACCEPTED: "Không được tiếp nhận",
    Status.IN_PROGRESS: "Đang xử lý",
    Status.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung giấy tờ",
    Status.PAYMENT_REQUESTED: "Yêu cầu thực hiện nghĩa vụ tài chính",
    Status.PAID: "Đã thực hiện nghĩa vụ tài chính",
    Status.REFUSED: "Dừng xử lý",
    Status.RESULT_READY: "Đã xử lý xong",
    Status.RETURNED: "Đã trả kết quả",
    Status.POSTED: "Đã chuyển bưu điện",
    Status.COLLECTED: "Bưu điện đã nhận kết quả",
    Status.IN_TRANSIT: "Đang chuyển phát",
    Status.DELIVERED: "Đã phát kết quả cho công dân",
    Status.DELIVERY_FAILED: "Phát không thành công",
    Status.RETURNED_TO_OFFICE: "Bưu điện đã hoàn trả về cơ quan",
    Status.WITHDRAWN: "Công dân đã rút hồ sơ",
}
"""Vietnamese status names as an officer reads them (§2.4 wording where §2.4 has one)."""

ROLE_LABELS: dict[Role, str] = {
    Role.OFFICER: "cán bộ một cửa",
    Role.POSTAL_CLERK: "nhân viên bưu điện",
    Role.LEADER: "lãnh đạo",
    Role.ADMIN: "quản trị viên",
    Role.CITIZEN: "công dân",
    Role.SYSTEM: "hệ thống",
}

REFUSALS: dict[str, tuple[str, str]] = {
    "final_status": (
        "The dossier is {from_status}, a final status: nothing moves it to {to_status}.",
        "Hồ sơ đang ở trạng thái “{from_vi}” và đã kết thúc, không thể chuyển tiếp.",
    ),
    "role": (
        "A {role} may not {command} (from {from_status} to {to_status}).",
        "Vai trò {role_vi} không được chuyển hồ sơ từ “{from_vi}” sang “{to_vi}”.",
    ),
    "not_allowed_from": (
        "{command} cannot move a dossier from {from_status} to {to_status}.",
        "Không thể chuyển hồ sơ từ “{from_vi}” sang “{to_vi}”.",
    ),
    "supplement_used": (
        "A supplement was already requested for this dossier (now {from_status}); "
        "the rules allow one request.",
        "Hồ sơ này đã được yêu cầu bổ sung một lần; theo quy định chỉ được yêu cầu bổ sung "
        "một lần, đầy đủ.",
    ),
    "missing_required": (
        "A supplement request (from {from_status}) must list at least one missing item.",
        "Cần ghi rõ ít nhất một giấy tờ còn thiếu để công dân bổ sung.",
    ),
    "reason_required": (
        "Moving the dossier from {from_status} to {to_status} needs a reason for the citizen.",
        "Cần ghi rõ lý do để thông báo cho công dân.",
    ),
    "amount_required": (
        "A payment request (from {from_status}) needs a whole amount in VND above zero, "
        "not {amount}.",
        "Số tiền công dân phải nộp phải là một số nguyên lớn hơn 0 (đồng).",
    ),
    "bad_item_number": (
        "{item_number!r} is not a UPU S10 item number with a valid check digit, so the "
        "dossier stays {from_status}.",
        "Số hiệu bưu gửi “{item_number}” không hợp lệ (sai dạng S10 hoặc sai chữ số kiểm tra).",
    ),
    "item_number_required": (
        "Moving a dossier to {to_status} needs the postal item number.",
        "Cần nhập số hiệu bưu gửi.",
    ),
    "item_number_reused": (
        "The result already went out as {item_number}; posting it again from {from_status} "
        "needs a new item number.",
        "Kết quả đã gửi với số hiệu “{item_number}”; gửi lại cần một số hiệu bưu gửi mới.",
    ),
    "not_a_postal_event": (
        "{event!r} is not a postal event (collected, in_transit, delivered, delivery_failed, "
        "returned_to_office); the dossier stays {from_status}.",
        "“{event}” không phải là một bước chuyển phát của bưu điện.",
    ),
    "postal_event_mismatch": (
        "The postal event {event!r} does not match the target {to_status}.",
        "Bước chuyển phát “{event}” không khớp với trạng thái “{to_vi}”.",
    ),
    "extension_used": (
        "The one new date for this dossier (now {from_status}) was already set; "
        "the rules allow it once.",
        "Hồ sơ đã được hẹn lại ngày trả kết quả một lần; không được hẹn lại lần thứ hai.",
    ),
    "extension_too_late": (
        "A dossier that is {from_status} cannot get a new date: the result is ready or the "
        "dossier is closed.",
        "Hồ sơ đang ở trạng thái “{from_vi}”, không thể hẹn lại ngày trả kết quả.",
    ),
    "apology_required": (
        "A new date for a dossier that is {from_status} needs the apology sent to the citizen.",
        "Cần có nội dung văn bản xin lỗi gửi công dân.",
    ),
    "bad_date": (
        "The new date must be a calendar date, not {new_date!r}.",
        "Ngày hẹn mới không hợp lệ.",
    ),
    "date_not_later": (
        "The new date {new_date_iso} must be later than the due date {due_date_iso} and "
        "later than today {today_iso} (dossier {from_status}).",
        "Ngày hẹn mới ({new_date_vi}) phải sau ngày hẹn hiện tại ({due_date_vi}) và sau hôm nay "
        "({today_vi}).",
    ),
    "calendar_error": (
        "The working-day calendar failed while moving the dossier from {from_status} to "
        "{to_status}: {error}.",
        "Không tính được ngày làm việc; vui lòng báo quản trị viên.",
    ),
    "not_a_target": (
        "No command moves a dossier to {to_status}.",
        "Không có thao tác nào chuyển hồ sơ về trạng thái “{to_vi}”.",
    ),
    "unknown_target": (
        "{to!r} is not a dossier status.",
        "“{to}” không phải là một trạng thái hồ sơ.",
    ),
    "unknown_command": (
        "{command} is not a workflow command.",
        "Thao tác không hợp lệ.",
    ),
    "unknown_status": (
        "The stored status {status!r} is not a known dossier status.",
        "Trạng thái đang lưu của hồ sơ (“{status}”) không xác định; vui lòng báo quản trị viên.",
    ),
    "bad_context": (
        "The command's time must be timezone-aware.",
        "Thời điểm thực hiện thao tác không hợp lệ (thiếu múi giờ); vui lòng báo quản trị viên.",
    ),
    "invalid_input": (
        "The dossier or the command is malformed ({error}).",
        "Dữ liệu hồ sơ hoặc thao tác không hợp lệ; vui lòng báo quản trị viên.",
    ),
}
"""reason -> (English, Vietnamese); every ``Refused.reason`` the workflow gives is a key here."""


def date_vi(day: date | None) -> str:
    """A date as printed on Vietnamese forms (dd/mm/yyyy); "chưa có" when there is none."""
    return "chưa có" if day is None else f"{day:%d/%m/%Y}"
