"""What the assistant says about the channel itself (not about procedures)."""

from __future__ import annotations

SLOW_DOWN = (
    "Bạn gửi nhanh quá, tôi chưa kịp đọc hết. Bạn chờ khoảng 10 giây rồi gửi lại tin nhắn "
    "quan trọng nhất nhé."
)
TRY_LATER = (
    "Xin lỗi, hệ thống đang gặp trục trặc nên chưa ghi nhận được tin nhắn vừa rồi. Bạn gửi "
    "lại sau ít phút nhé; những gì bạn khai trước đó vẫn được giữ."
)
