"""What the assistant says to youth-union volunteers ("/tinhnguyen") and to the villagers they
help: asking to volunteer, filing for a villager with their consent, the dossiers filed, and
handing a dossier over to the villager's own chat with a one-time code."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from dialogs.texts.tracking import STATUS_NAMES

# --- Buttons -------------------------------------------------------------------------------

BTN_FILE_FOR = "Khai giúp bà con"
BTN_MY_FILINGS = "Hồ sơ tôi đã khai giúp"
BTN_CONSENT_PHOTO = "Gửi ảnh giấy đồng ý"
BTN_STOP = "Thôi, dừng lại"
BTN_AGAIN = "Gửi lại yêu cầu"


def btn_hand_over(number: int) -> str:
    return f"Trao hồ sơ {number} cho bà con"


# --- Asking to volunteer -------------------------------------------------------------------

ASK_NAME = (
    "Cảm ơn bạn muốn làm tình nguyện viên khai hồ sơ giúp bà con ạ.\nHọ và tên của bạn là gì ạ?"
)
ASK_PHONE = "Số điện thoại của bạn là gì ạ? (ví dụ: 0912345678)"
ASK_BRANCH = "Bạn sinh hoạt ở chi đoàn nào ạ? (ví dụ: Chi đoàn thôn Đông)"
BRANCH_UNCLEAR = "Bạn gõ tên chi đoàn giúp mình nhé (tối đa 120 chữ)."
PENDING = (
    "Đã ghi nhận yêu cầu làm tình nguyện viên của bạn ạ.\n"
    "Cán bộ xã sẽ xem và duyệt; khi có kết quả, mình sẽ nhắn bạn ngay tại đây."
)
STILL_PENDING = "Yêu cầu làm tình nguyện viên của bạn đang chờ cán bộ xã duyệt ạ."
REJECTED_BEFORE = "Lần trước cán bộ xã chưa duyệt yêu cầu của bạn. Bạn có thể gửi lại ạ."
DISABLED = (
    "Cán bộ xã đã thu hồi quyền khai hồ sơ giúp bà con của bạn. "
    "Hồ sơ bạn đã khai vẫn được xử lý bình thường.\n"
    f"Nếu muốn làm tình nguyện viên lại, bạn bấm «{BTN_AGAIN}» để cán bộ xã xem xét ạ."
)
APPROVED_MENU = "Bạn là tình nguyện viên của xã. Bạn muốn làm gì ạ?"
NOT_APPROVED = (
    "Chỉ tình nguyện viên đã được xã duyệt mới khai giúp được ạ. Gõ /tinhnguyen để đăng ký."
)
STOPPED = "Đã dừng. Thông tin vừa gõ không được lưu ạ."

# Told through the outbox once an officer decides, and once a dossier is handed over.
APPROVED_NOTICE = (
    "Chúc mừng bạn! Cán bộ xã đã duyệt bạn làm tình nguyện viên.\n"
    "Bấm «Khai giúp bà con» để nộp hồ sơ giúp người dân."
)
DISABLED_NOTICE = (
    "Cán bộ xã đã dừng quyền khai hồ sơ giúp bà con của bạn. "
    "Hồ sơ bạn đã khai vẫn được xử lý bình thường. Bạn liên hệ cán bộ xã nếu cần ạ."
)
REJECTED_NOTICE = (
    "Cán bộ xã chưa duyệt yêu cầu làm tình nguyện viên của bạn. "
    "Bạn liên hệ Đoàn xã hoặc bộ phận một cửa để biết thêm ạ."
)


def handed_over_notice(code: str) -> str:
    return (
        f"Bà con đã nhận hồ sơ {code} vào Zalo/Telegram của mình. "
        "Từ nay bà con cũng nhận tin báo về hồ sơ này."
    )


# --- Filing for a villager -----------------------------------------------------------------

ASK_VILLAGER_NAME = "Khai giúp bà con.\nHọ và tên của bà con (người cần làm thủ tục) là gì ạ?"
ASK_VILLAGER_ID = "Số căn cước (12 số) của bà con là gì ạ?"
ASK_VILLAGER_PHONE = "Số điện thoại của bà con là gì ạ? (không có thì gõ số của người nhà)"
ASK_CONSENT = (
    "Bà con cần đồng ý cho bạn khai giúp và cho xã dùng thông tin trên để làm hồ sơ.\n"
    "Bạn đưa máy cho bà con gõ: đồng ý\n"
    "Hoặc chụp và gửi ảnh giấy đồng ý bà con đã ký."
)
CONSENT_UNCLEAR = "Bà con gõ «đồng ý» để đồng ý, hoặc bạn gửi ảnh giấy đồng ý đã ký ạ."
CONSENT_REFUSED = "Bà con chưa đồng ý nên mình chưa khai giúp ạ. Thông tin vừa gõ không được lưu."
ASK_CONSENT_PHOTO = "Bạn chụp rõ cả tờ giấy đồng ý có chữ ký của bà con rồi gửi vào đây ạ."
CONSENT_PHOTO_BAD = "Ảnh chưa dùng được (mờ, tối hoặc không phải ảnh). Bạn chụp lại giúp mình nhé."


def consent_recorded(name: str, at: datetime, by_photo: bool) -> str:
    """``at`` in the commune's local time."""
    how = "ảnh giấy đồng ý" if by_photo else "bà con gõ đồng ý"
    return f"Đã ghi nhận {name} đồng ý ({how}, lúc {at:%H:%M ngày %d/%m/%Y})."


ASK_PROCEDURE = "Bà con cần làm thủ tục gì ạ? Gõ tên thủ tục, ví dụ: khai sinh"
WHICH_PROCEDURE = "Bạn chọn thủ tục bà con cần làm ạ:"
NO_PROCEDURE = (
    "Mình chưa tìm được thủ tục nộp được ngay trong chat. "
    "Bạn gõ lại tên khác giúp mình (ví dụ: khai sinh)."
)


# What a volunteer typed of the villager, as the form's note names it (by the field's kind).
PREFILLED_KINDS: Final = {"name": "họ tên", "id_number": "số căn cước", "phone": "số điện thoại"}


def prefilled(name: str, kinds: Collection[str]) -> str:
    """The note on what the volunteer's details filled in («Đã điền sẵn số điện thoại của …»),
    in the order of PREFILLED_KINDS; "" when they filled nothing."""
    shown = [word for kind, word in PREFILLED_KINDS.items() if kind in kinds]
    if not shown:
        return ""
    listed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} và {shown[-1]}"
    return f"Đã điền sẵn {listed} của {name}."


def filed_for(name: str, code: str) -> str:
    return (
        f"Đã nộp hồ sơ {code} cho {name}. Biên nhận gửi vào đây.\n"
        "Muốn bà con tự nhận tin báo, bấm «Hồ sơ tôi đã khai giúp» rồi «Trao hồ sơ cho bà con»."
    )


# --- The volunteer's dossiers --------------------------------------------------------------

NO_FILINGS = "Bạn chưa khai giúp hồ sơ nào ạ."
SHOWN = 8


@dataclass(frozen=True, slots=True)
class FiledLine:
    code: str
    procedure_name: str
    status: str
    villager: str
    handed_over: bool


def my_filings(lines: Sequence[FiledLine], total: int) -> str:
    out = [f"Hồ sơ bạn đã khai giúp ({total}):"]
    for number, line in enumerate(lines, 1):
        status = STATUS_NAMES.get(line.status, line.status)
        given = " · đã trao cho bà con" if line.handed_over else ""
        out.append(
            f"{number}. {line.code} — {line.procedure_name}\n   {line.villager}: {status}{given}"
        )
    if total > len(lines):
        out.append(f"(và {total - len(lines)} hồ sơ cũ hơn)")
    return "\n".join(out)


# --- Handing a dossier over ----------------------------------------------------------------

HANDOVER_WORD = "NHAN"  # what the villager types before the code, in their own chat


def handover_code(code: str, dossier_code: str, minutes: int) -> str:
    return (
        f"Mã trao hồ sơ {dossier_code}: {code}\n"
        f"Bà con mở Zalo hoặc Telegram của mình, nhắn cho xã: {HANDOVER_WORD} {code}\n"
        f"Mã dùng được một lần, trong {minutes} phút."
    )


NOT_YOUR_FILING = "Hồ sơ này không phải bạn khai giúp ạ."


def handed_over(code: str, procedure_name: str) -> str:
    return (
        f"Đã nhận hồ sơ {code} ({procedure_name}) vào đây ạ.\n"
        "Từ nay xã báo tin về hồ sơ này cho bạn. Biên nhận gửi ngay sau đây."
    )


HANDOVER_UNKNOWN = "Mã này không đúng hoặc đã hết hạn ạ. Bạn nhờ tình nguyện viên tạo mã mới."
HANDOVER_USED = "Mã này đã được dùng rồi ạ. Bạn nhờ tình nguyện viên tạo mã mới."
HANDOVER_OWN_CHAT = "Mã này để bà con nhắn từ Zalo hoặc Telegram của chính bà con ạ."
HANDOVER_WRONG_CHANNEL = "Bà con nhắn mã này từ Zalo hoặc Telegram của mình giúp mình ạ."


def handover_stopped(hotline: str) -> str:
    tail = f" hoặc gọi {hotline}" if hotline else ""
    return f"Đã gõ sai mã nhiều lần. Bạn thử lại vào ngày mai{tail} ạ."
