""" "Gặp cán bộ": what the assistant says when a conversation goes to an officer and back.

Times are the office's local time, said the way people say them: "7 giờ 30 sáng thứ Hai, 07/12".
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

BTN_BACK: Final = "Quay lại trợ lý"

HANDED_OVER: Final = (
    "Đã chuyển cuộc trò chuyện tới cán bộ một cửa. Bạn cứ nhắn ngay tại đây, cán bộ sẽ trả lời "
    "bạn. Trong lúc này trợ lý tạm dừng.\nMuốn quay lại trợ lý, bấm «Quay lại trợ lý»."
)
RELAYED: Final = "Đã gửi tới cán bộ ạ. Xin bạn chờ cán bộ trả lời."
STILL_WITH_OFFICER: Final = (
    "Bạn đang nhắn với cán bộ một cửa. Muốn quay lại trợ lý, bấm «Quay lại trợ lý»."
)
OFFICER_SAYS: Final = "Cán bộ một cửa trả lời:"
BACK_BY_CITIZEN: Final = "Trợ lý đã quay lại. Bạn cần giúp gì ạ?"
BACK_BY_OFFICER: Final = (
    "Cán bộ đã kết thúc cuộc trò chuyện. Trợ lý đã quay lại, bạn cần giúp gì ạ?"
)
BACK_IDLE: Final = (
    "Lâu rồi không có tin nhắn nên trợ lý đã quay lại. Muốn nhắn cán bộ, bấm «Gặp cán bộ»."
)
NOTE_EMPTY: Final = "Bạn hãy gõ lời nhắn cho cán bộ, hoặc bấm «Quay lại trợ lý»."

_WEEKDAYS: Final = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


def clock(moment: datetime) -> str:
    """ "7 giờ 30 sáng", "1 giờ 30 chiều", "8 giờ sáng"."""
    hour, minute = moment.hour, moment.minute
    period = "sáng" if hour < 11 else "trưa" if hour < 13 else "chiều" if hour < 18 else "tối"
    shown = hour - 12 if hour > 12 else hour
    return f"{shown} giờ {minute:02d} {period}" if minute else f"{shown} giờ {period}"


def opening(opens: datetime, now: datetime) -> str:
    """ "7 giờ 30 sáng thứ Hai, 07/12"; the same day is "hôm nay"."""
    local_now = now.astimezone(opens.tzinfo) if opens.tzinfo is not None else now
    day = _WEEKDAYS[opens.weekday()]
    if opens.date() == local_now.date():
        day = "hôm nay"
    return f"{clock(opens)} {day}, {opens:%d/%m}"


def closed_now(opens: datetime, now: datetime) -> str:
    return (
        "Bây giờ là ngoài giờ làm việc của bộ phận một cửa. "
        f"Cán bộ sẽ trả lời từ {opening(opens, now)}.\n"
        "Bạn có thể để lại lời nhắn: hãy gõ lời nhắn ngay bên dưới, cán bộ sẽ đọc và trả lời bạn."
    )


def note_left(opens: datetime | None, now: datetime) -> str:
    when = f" từ {opening(opens, now)}" if opens is not None else ""
    return (
        f"Đã ghi lại lời nhắn của bạn. Cán bộ sẽ trả lời bạn{when} ngay tại đây. "
        "Trợ lý tiếp tục giúp bạn."
    )


def officer_says(text: str, first: bool) -> str:
    said = f"{OFFICER_SAYS}\n{text}"
    if first:
        said += "\n\n(Bạn trả lời ngay tại đây. Muốn quay lại trợ lý, bấm «Quay lại trợ lý».)"
    return said
