"""What the assistant says only on Zalo, where buttons become numbered lines."""

from __future__ import annotations

CHOOSE_HINT = "(Gõ số để chọn, ví dụ: 1)"
CONTACT_TITLE = "Gửi số điện thoại"
CONTACT_SUBTITLE = "Bấm vào đây để gửi số điện thoại của bạn cho xã."


def numbered(number: int, label: str) -> str:
    return f"{number}. {label}"


def bulleted(label: str) -> str:
    """A button shown while the question wants a number: typed by its words, not a number."""
    return f"• {label}"


TYPE_WORDS_HINT = "(Muốn chọn mục có dấu • thì gõ đúng chữ đó, ví dụ: quay lại)"
