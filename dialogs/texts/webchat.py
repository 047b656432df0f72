"""What the web chat page itself says: its title, buttons, upload and connection messages.

The page's script reads these from a JSON block rendered into the page, so every Vietnamese
word the citizen sees stays in this catalogue rather than in JavaScript.
"""

from __future__ import annotations

TITLE = "Hỏi đáp thủ tục hành chính"
SUBTITLE = "Hỏi về giấy tờ, lệ phí, thời gian, nơi nộp"
EMBED_BUTTON = "Hỏi thủ tục"
EMBED_CLOSE = "Đóng"
FRAME_TITLE = "Hỏi đáp thủ tục hành chính"

DOWNLOAD_RECEIPT = "Tải biên nhận (PDF)"
DOWNLOAD_DECLARATION = "Tải tờ khai (PDF)"
DOWNLOAD_OTHER = "Tải tệp (PDF)"


def header(commune_name: str) -> str:
    return f"{commune_name} — Hỏi đáp thủ tục"


def download_label(filename: str) -> str:
    """The link text for a document the bot sent; the receipt is the one people look for."""
    if filename.startswith("bien-nhan"):
        return DOWNLOAD_RECEIPT
    if filename.startswith("to-khai"):
        return DOWNLOAD_DECLARATION
    return DOWNLOAD_OTHER


# Read by the page's script (keys are the script's names for them).
PAGE = {
    "placeholder": "Nhập câu hỏi",
    "question": "Câu hỏi",
    "send": "Gửi",
    "attach": "Gửi ảnh",
    "restart": "Bắt đầu lại",
    "print": "In biên nhận",
    "reconnecting": "Mất kết nối, đang kết nối lại…",
    "waiting": "Đang trả lời…",
    "uploading": "Đang gửi ảnh…",
    "too_large": "Tệp quá lớn: mỗi ảnh tối đa 20 MB. Bạn hãy chụp lại hoặc chọn ảnh khác.",
    "wrong_type": "Chỉ gửi được ảnh hoặc tệp PDF.",
    "too_many": "Mỗi lần gửi tối đa 10 ảnh.",
    "upload_failed": "Gửi ảnh không được. Bạn kiểm tra mạng rồi thử lại nhé.",
    "busy": "Hệ thống đang bận. Bạn thử gửi lại sau ít phút nhé.",
    "photos_sent": "Đã gửi {n} tệp",
    "expired": "(Tệp đã hết hạn, bạn hỏi cán bộ để lấy lại)",
    "no_receipt": "Chưa có biên nhận để in.",
}
