"""What the assistant says to a commune leader in the chat ("/thongke", "/lienket")."""

from __future__ import annotations

NOT_A_LEADER = (
    "Dạ, mục thống kê chỉ dành cho lãnh đạo xã đã liên kết tài khoản. "
    "Anh/chị cần hỏi thủ tục hay tra cứu hồ sơ, xin bấm «Menu chính» ạ."
)
HOW_TO_LINK = (
    "Để xem thống kê trong chat này, lãnh đạo xã vào bàn làm việc (mục «Liên kết chat»), "
    "lấy mã liên kết rồi gõ ở đây: /lienket MÃ (ví dụ /lienket ABCD-2345)."
)
LINK_FAILED = (
    "Mã liên kết không đúng hoặc đã hết hạn (mã dùng một lần, trong 15 phút). "
    "Xin lấy mã mới ở bàn làm việc rồi gõ lại: /lienket MÃ."
)
LINKED = "Đã liên kết chat này với tài khoản {name}. Gõ /thongke để xem số liệu quý này."
SUMMARY_FAILED = "Xin lỗi, chưa lấy được số liệu lúc này. Anh/chị thử lại sau ít phút ạ."
CHART_CAPTION = "Tỉ lệ hồ sơ nộp trực tuyến theo quý so với mục tiêu {target}%"
