"""What the Telegram channel itself says: the command menu and the phone-number keyboard.

Everything else comes from the dialog; these lines exist only because Telegram has a command
menu and a contact button that other channels lack.
"""

from __future__ import annotations

# Shown in Telegram's "/" menu; keep each under a phone's width.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Bắt đầu, về menu chính"),
    ("help", "Hướng dẫn và menu chính"),
    ("huy", "Hủy việc đang làm"),
    ("hoso", "Xem hồ sơ của tôi"),
    ("tinhnguyen", "Tình nguyện viên khai hồ sơ giúp bà con"),
)

CONTACT_BUTTON = "📱 Chia sẻ số điện thoại"
CONTACT_PLACEHOLDER = "Bấm nút bên dưới"
CONTACT_PROMPT = "Bạn bấm nút bên dưới để chia sẻ số điện thoại của mình ạ."
OWN_NUMBER_ONLY = "Tôi chỉ nhận số điện thoại của chính bạn ạ. Bạn hãy chia sẻ số của mình."
# A message must carry some text; used when the dialog sends only buttons.
CHOOSE = "Mời bạn chọn:"
