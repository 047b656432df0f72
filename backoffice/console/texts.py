"""The console's one message catalogue: what the Python side puts on a page (the templates
hold the rest of the page's words). Status names come from the workflow's own catalogue."""

from __future__ import annotations

from backoffice.domain import Role, Status
from backoffice.domain.texts import ROLE_LABELS, STATUS_LABELS

ACTIONS: dict[Status, str] = {
    Status.ACCEPTED: "Tiếp nhận hồ sơ",
    Status.NOT_ACCEPTED: "Không tiếp nhận",
    Status.IN_PROGRESS: "Bắt đầu xử lý",
    Status.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung giấy tờ",
    Status.PAYMENT_REQUESTED: "Yêu cầu nộp phí, lệ phí",
    Status.PAID: "Xác nhận đã nộp phí, lệ phí",
    Status.REFUSED: "Dừng xử lý (từ chối)",
    Status.RESULT_READY: "Đã có kết quả",
    Status.RETURNED: "Đã trả kết quả tại quầy",
    Status.POSTED: "Giao kết quả cho bưu điện",
    Status.COLLECTED: "Bưu điện đã nhận kết quả",
    Status.IN_TRANSIT: "Đang chuyển phát",
    Status.DELIVERED: "Đã phát cho công dân",
    Status.DELIVERY_FAILED: "Phát không thành công",
    Status.RETURNED_TO_OFFICE: "Bưu điện hoàn trả về cơ quan",
    Status.WITHDRAWN: "Công dân rút hồ sơ",
}
"""The button of the form that moves a dossier to each status."""

CHANNELS: dict[str, str] = {
    "telegram": "Telegram",
    "zalo": "Zalo",
    "web": "Trang web",
    "terminal": "Máy tính tại quầy (dòng lệnh)",
    "counter": "Nộp giấy tại quầy",
    "api": "Hệ thống khác",
}

LOGIN_WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."
LOGIN_LIMITED = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút."
LOGIN_DISABLED = "Tài khoản này đã bị khóa. Vui lòng liên hệ quản trị viên."
LOGIN_EXPIRED = "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại."
LOGIN_FORM_OLD = "Trang đăng nhập đã cũ. Vui lòng nhập lại."
LOGGED_OUT = "Bạn đã đăng xuất."
MUST_CHANGE = "Đây là mật khẩu dùng một lần: vui lòng đặt mật khẩu mới trước khi làm việc."
PASSWORD_CHANGED = "Đã đổi mật khẩu."
PASSWORDS_DIFFER = "Hai lần nhập mật khẩu mới không giống nhau."
CSRF_FAILED = "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang và thử lại."
NOT_FOUND = "Không tìm thấy trang hoặc hồ sơ này."
FORBIDDEN = "Vai trò của bạn không được thực hiện thao tác này."
MOVED = "Đã chuyển hồ sơ sang “{status}”. Người nộp sẽ nhận được tin báo."
EXTENDED = "Đã hẹn lại ngày trả kết quả: {day}."
FILED = "Đã ghi nhận hồ sơ nộp tại quầy."
NOT_A_NUMBER = "Số tiền phải là một số nguyên (đồng)."
BAD_DATE = "Ngày hẹn mới không hợp lệ (dạng năm-tháng-ngày)."
COUNTER_NAME = "Cần nhập họ và tên người nộp."
COUNTER_PHONE = "Số điện thoại không hợp lệ (10 chữ số, bắt đầu bằng 0)."
COUNTER_PROCEDURE = "Cần chọn thủ tục."
USER_DISABLED = "Đã khóa tài khoản {name}."
TREND_UP = "tăng {points} điểm so với quý trước"
TREND_DOWN = "giảm {points} điểm so với quý trước"
TREND_FLAT = "không đổi so với quý trước"
CHAT_UNLINKED = "Đã bỏ liên kết chat."


def status_label(status: Status) -> str:
    return STATUS_LABELS[status]


def role_label(role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return role


# --- "Gặp cán bộ" ----------------------------------------------------------------------------

HANDOFF_CITIZEN = "Công dân"
HANDOFF_ASSISTANT = "Trợ lý"
HANDOFF_OFFICER = "Cán bộ {name}"
HANDOFF_EMPTY = "Cần nhập câu trả lời."
HANDOFF_CLOSED = "Cuộc trò chuyện này đã kết thúc."
HANDOFF_TAKEN = "Cán bộ khác đang trả lời cuộc trò chuyện này."
HANDOFF_DONE = {
    "answered": "Đã gửi câu trả lời tới công dân.",
    "claimed": "Bạn đã nhận trả lời cuộc trò chuyện này.",
    "closed": "Đã kết thúc; trợ lý tiếp tục trả lời công dân.",
}


def handoff_state(
    is_open: bool, waiting: bool, claimed_by: str | None, closed_by: str | None
) -> str:
    if not is_open:
        if closed_by == "idle":
            return "Đã kết thúc (lâu không có tin nhắn)"
        if closed_by == "citizen":
            return "Công dân đã quay lại trợ lý"
        return f"Đã kết thúc ({closed_by})" if closed_by else "Đã kết thúc"
    if waiting:
        return "Lời nhắn ngoài giờ, chờ trả lời"
    if claimed_by:
        return f"Cán bộ {claimed_by} đang trả lời"
    return "Chờ cán bộ nhận"


# --- volunteers --------------------------------------------------------------------------

VOLUNTEERS_NONE = "Không có yêu cầu làm tình nguyện viên nào chờ duyệt."
VOLUNTEER_APPROVE = "Duyệt"
VOLUNTEER_REJECT = "Không duyệt"
VOLUNTEER_APPROVED = "Đã duyệt tình nguyện viên; bạn ấy được báo trong chat."
VOLUNTEER_REJECTED = "Đã không duyệt; bạn ấy được báo trong chat."
VOLUNTEER_GONE = "Yêu cầu này đã được xử lý hoặc không thuộc xã của bạn."
VOLUNTEER_DISABLE = "Thu hồi"
VOLUNTEER_DISABLED = "Đã thu hồi quyền khai giúp; bạn ấy được báo trong chat."
VOLUNTEER_NOT_APPROVED = "Tình nguyện viên này không còn được duyệt hoặc không thuộc xã của bạn."
# On a pending request from someone an officer turned down before; {at}: local time.
VOLUNTEER_EARLIER = {
    "disabled": "Yêu cầu mới: bạn ấy đã bị thu hồi quyền khai giúp lúc {at}.",
    "rejected": "Yêu cầu mới: lần trước không được duyệt (lúc {at}).",
}
VOLUNTEERS_APPROVED_NONE = "Chưa có tình nguyện viên nào được duyệt."

# --- announcements ---------------------------------------------------------------------------

ANNOUNCE_MAX = 1500
"""Characters of an announcement: with its heading it fits one Zalo message (2,000)."""
ANNOUNCE_EMPTY = "Vui lòng viết nội dung thông báo."
ANNOUNCE_TOO_LONG = "Thông báo dài quá: tối đa {limit} ký tự (hiện có {count})."
ANNOUNCE_NOBODY = "Chưa có người dân nào của xã đăng ký nhận thông báo: chưa gửi được."
ANNOUNCE_SENT = "Đã xếp thông báo để gửi tới {count} người; số đã gửi được cập nhật dưới đây."
ANNOUNCE_AGAIN = "Thông báo này đã được gửi trước đó (bấm gửi hai lần): không gửi lại."
ANNOUNCE_NONE = "Chưa có thông báo nào."
# A web chat whose page is closed keeps the message for the citizen's next visit (up to 30
# days): not delivered until they open the chat.
ANNOUNCE_KEPT = "Chờ người dân mở trang chat"
ANNOUNCE_COUNTS_NOTE = (
    "Chờ người dân mở trang chat: người dân đã đóng trang chat trên web; thông báo hiện ra"
    " khi họ mở lại (giữ tối đa 30 ngày). Chờ gửi: đang đến lượt, hoặc chờ hết giờ nghỉ đêm."
    " Chưa gửi được: hệ thống sẽ thử lại."
)


def announce_line(recipients: int, *, sent: int, kept: int, queued: int, failed: int) -> str:
    """An announcement's counts on one line of the list."""
    parts = [f"{recipients} người nhận", f"đã gửi {sent}"]
    if kept:
        parts.append(f"chờ mở trang chat {kept}")
    parts += [f"chờ gửi {queued}", f"chưa gửi được {failed}"]
    return " · ".join(parts)
