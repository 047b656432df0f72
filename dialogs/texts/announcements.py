"""What the assistant says about the commune's announcements: the offer (once, after a
receipt, or with "/thongbao"), opting in and out, and the announcement itself with its one-tap
«Không nhận thông báo nữa» button."""

from __future__ import annotations

BTN_YES = "Nhận thông báo"
BTN_NO = "Không, cảm ơn"
BTN_STOP = "Không nhận thông báo nữa"


def offer(commune_name: str) -> str:
    return (
        f"Bạn có muốn nhận thông báo của {commune_name} tại đây không ạ? "
        "Ví dụ: thủ tục mới nộp được trực tuyến, ngày nghỉ lễ, ngày tình nguyện ở thôn.\n"
        "Mỗi thông báo có nút «Không nhận thông báo nữa» để dừng bất cứ lúc nào."
    )


def subscribed(commune_name: str) -> str:
    return f"Bạn đang nhận thông báo của {commune_name} tại đây ạ."


def opted_in(commune_name: str) -> str:
    return (
        f"Đã đăng ký nhận thông báo của {commune_name} ạ. "
        "Muốn dừng, bạn bấm «Không nhận thông báo nữa» dưới mỗi thông báo hoặc gõ /thongbao."
    )


DECLINED = "Dạ vâng. Khi nào muốn nhận thông báo của xã, bạn gõ /thongbao nhé."
OPTED_OUT = "Đã dừng gửi thông báo tới bạn ạ. Muốn nhận lại, bạn gõ /thongbao."
ALREADY_OUT = "Bạn không còn nhận thông báo của xã ạ. Muốn nhận lại, bạn gõ /thongbao."
NOT_HERE = (
    "Thông báo của xã được gửi qua Zalo, Telegram hoặc trang hỏi đáp của xã ạ, "
    "chưa gửi được tới kênh này."
)


def announcement(commune_name: str, text: str) -> str:
    """The message a subscriber receives: who speaks, then the officer's words."""
    return f"Thông báo của {commune_name}:\n{text}"


__all__ = [
    "ALREADY_OUT",
    "BTN_NO",
    "BTN_STOP",
    "BTN_YES",
    "DECLINED",
    "NOT_HERE",
    "OPTED_OUT",
    "announcement",
    "offer",
    "opted_in",
    "subscribed",
]
