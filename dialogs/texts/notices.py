"""What the assistant tells a citizen when the office moves their dossier.

Each notice says, in plain words: the dossier code, what happened, what happens next and what
to do. Each ends with how to check it is genuine (the code and the commune's hotline), and none
asks for money outside the official payment step, nor for a password or an OTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

from dialogs.texts.receipt import weekday_name


def _day(d: date) -> str:
    return f"{weekday_name(d)}, {d:%d/%m/%Y}"


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


def head(code: str, procedure_name: str) -> str:
    return f"Thông báo về hồ sơ {code} ({procedure_name}):"


def genuine(code: str, hotline: str) -> str:
    ask = f" hoặc gọi {hotline} và đọc mã {code}" if hotline else ""
    return (
        f"Để kiểm tra tin này, bạn gõ mã hồ sơ vào đây{ask}. Cán bộ không bao giờ "
        "hỏi mật khẩu, mã OTP hay bảo chuyển tiền ngoài bước nộp lệ phí của hồ sơ."
    )


ACCEPTED: Final = "Bộ phận một cửa đã tiếp nhận hồ sơ của bạn."


def accepted(due: date | None) -> str:
    if due is None:
        return ACCEPTED
    return f"{ACCEPTED} Ngày hẹn trả kết quả: {_day(due)}."


def not_accepted(reason: str) -> str:
    why = f" Lý do: {reason}" if reason else ""
    return f"Rất tiếc, hồ sơ không được tiếp nhận.{why} Bạn có thể hỏi cán bộ để làm lại."


IN_PROGRESS: Final = "Hồ sơ đang được cán bộ xử lý. Bạn chưa cần làm gì thêm."


def in_progress_after_supplement(due: date | None) -> str:
    when = f" Ngày hẹn trả mới: {_day(due)}." if due is not None else ""
    return f"Xã đã nhận giấy tờ bổ sung, hồ sơ đang được xử lý tiếp.{when}"


def supplement(missing: Sequence[str], deadline: date | None) -> str:
    lines = ["Hồ sơ cần bổ sung những giấy tờ sau:"]
    lines += [f"• {item}" for item in missing]
    if deadline is not None:
        lines.append(f"Xin bổ sung trước {_day(deadline)}.")
    lines.append(
        "Bạn bấm «Gửi bổ sung» rồi chụp ảnh từng giấy gửi vào đây, hoặc mang đến bộ phận một cửa."
    )
    return "\n".join(lines)


BTN_SUPPLEMENT: Final = "Gửi bổ sung"
BTN_LATER: Final = "Để sau"


def payment(amount: int | None, pay_to: str = "", note: str = "") -> str:
    what = f" {_money(amount)}" if amount else ""
    if pay_to:
        return (
            f"Hồ sơ cần nộp lệ phí{what}. Bạn nộp tại bộ phận một cửa, hoặc quét mã QR kèm theo "
            f"bằng ứng dụng ngân hàng (số tiền và nội dung đã điền sẵn), hoặc chuyển khoản vào "
            f"tài khoản {pay_to}, nội dung: {note}."
        )
    return f"Hồ sơ cần nộp lệ phí{what}. Bạn nộp tại bộ phận một cửa khi đến, nhớ mang mã hồ sơ."


PAID: Final = "Xã đã nhận lệ phí của bạn. Hồ sơ đang được xử lý tiếp."


def refused(reason: str) -> str:
    why = f" Lý do: {reason}" if reason else ""
    return f"Rất tiếc, hồ sơ đã bị dừng xử lý.{why} Bạn có thể hỏi cán bộ về cách làm tiếp."


def result_ready(by_post: bool, office: str) -> str:
    if by_post:
        return "Đã có kết quả. Xã sẽ gửi kết quả qua bưu điện; khi gửi, bạn sẽ nhận tin báo."
    where = f" tại {office}" if office else " tại bộ phận một cửa"
    return f"Đã có kết quả. Mời bạn đến nhận{where}, mang theo căn cước và giấy biên nhận."


RETURNED: Final = "Bạn đã nhận kết quả. Cảm ơn bạn đã dùng dịch vụ."


def posted(item: str) -> str:
    number = f" Số hiệu bưu gửi: {item}." if item else ""
    return (
        f"Kết quả đã được giao cho bưu điện để chuyển đến bạn.{number} Bưu tá sẽ gọi trước; "
        "khi nhận, bạn xuất trình căn cước."
    )


COLLECTED: Final = "Bưu điện đã nhận kết quả từ xã và sắp chuyển đến bạn."
IN_TRANSIT: Final = "Bưu tá đang mang kết quả đến. Bạn để ý điện thoại nhé."
DELIVERED: Final = "Bưu điện báo đã giao kết quả cho bạn. Cảm ơn bạn đã dùng dịch vụ."
DELIVERY_FAILED: Final = (
    "Bưu tá chưa giao được kết quả. Bưu điện sẽ hẹn giao lại; bạn để ý điện thoại nhé."
)
RETURNED_TO_OFFICE: Final = (
    "Bưu điện chưa giao được nên kết quả đã quay về xã. Mời bạn đến bộ phận một cửa nhận."
)
WITHDRAWN: Final = "Hồ sơ đã được rút theo yêu cầu. Khi cần, bạn có thể nộp lại."


def extended(due: date | None, apology: str) -> str:
    when = f" Ngày hẹn trả mới: {_day(due)}." if due is not None else ""
    sorry = f" {apology}" if apology else ""
    return f"Xã xin lỗi vì hồ sơ cần thêm thời gian xử lý.{when}{sorry}"


def other(status_name: str) -> str:
    return f"Tình trạng hồ sơ: {status_name}."


# --- the supplement the citizen sends ------------------------------------------------------------


def supplement_prompt(code: str, missing: Sequence[str]) -> str:
    lines = [f"Bổ sung cho hồ sơ {code}. Xã cần:"]
    lines += [f"• {item}" for item in missing]
    lines.append("Bạn chụp ảnh từng giấy rồi gửi vào đây, hoặc nhắn nội dung. Xong bấm «Xong».")
    return "\n".join(lines)


BTN_DONE: Final = "Xong"
BTN_SEND: Final = "Gửi cho xã"
BTN_MORE: Final = "Gửi thêm"
BTN_CANCEL: Final = "Hủy bổ sung"


def supplement_got(photos: int, notes: int) -> str:
    parts = []
    if photos:
        parts.append(f"{photos} ảnh")
    if notes:
        parts.append(f"{notes} lời nhắn")
    return "Đã nhận " + " và ".join(parts) + ". Gửi thêm, hoặc bấm «Xong»." if parts else ""


SUPPLEMENT_EMPTY: Final = "Bạn chưa gửi ảnh hay lời nhắn nào. Hãy chụp ảnh giấy tờ rồi gửi vào đây."


def supplement_summary(code: str, photos: int, notes: Sequence[str]) -> str:
    lines = [f"Bạn sắp gửi bổ sung cho hồ sơ {code}:"]
    if photos:
        lines.append(f"• {photos} ảnh giấy tờ")
    lines += [f"• Lời nhắn: {note}" for note in notes]
    lines.append("Bấm «Gửi cho xã» để gửi, hoặc «Gửi thêm».")
    return "\n".join(lines)


SUPPLEMENT_SENDING: Final = "Đang gửi giấy tờ bổ sung…"


def supplement_sent(code: str) -> str:
    return f"Đã gửi giấy tờ bổ sung cho hồ sơ {code}. Khi xã xem xong, bạn sẽ nhận tin báo."


SUPPLEMENT_CANCELLED: Final = "Đã hủy. Khi sẵn sàng, bạn bấm lại «Gửi bổ sung» trong thông báo."
SUPPLEMENT_NOT_OPEN: Final = "Hồ sơ này hiện không cần bổ sung, hoặc đã bổ sung rồi ạ."
SUPPLEMENT_FAILED: Final = (
    "Chưa gửi được giấy tờ bổ sung. Bạn bấm «Gửi cho xã» lại sau ít phút nhé."
)
