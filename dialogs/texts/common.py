"""What the assistant says around menus, questions, browsing and answer cards.

Plain words for an elderly villager reading on a cheap phone: short lines, no jargon, polite
("ạ", "bạn"). Commune facts (name, address, hours, hotline) are passed in, never written here.
"""

from __future__ import annotations

from dialogs.context import CommuneFacts
from knowledge.model import OtherProcedure

# --- Buttons -------------------------------------------------------------------------------

BTN_ASK = "Hỏi về thủ tục"
BTN_BROWSE = "Xem thủ tục theo lĩnh vực"
BTN_TRACK = "Tra cứu hồ sơ"
BTN_OFFICER = "Gặp cán bộ"
BTN_MENU = "Menu chính"
BTN_ASK_OTHER = "Hỏi thủ tục khác"
BTN_FILE = "Nộp hồ sơ"
BTN_ALL_PAPERS = "Xem đủ giấy tờ"
BTN_DETAILS = "Xem chi tiết"
BTN_LEGAL = "Căn cứ pháp lý"
BTN_MORE = "Xem thêm"
BTN_PREVIOUS = "Trang trước"
BTN_OTHER_FIELDS = "Lĩnh vực khác"

ELLIPSIS = "…"


def field_button(field: str, count: int) -> str:
    return f"{field} ({count})"


# --- Menu ------------------------------------------------------------------------------------


def hello(commune: CommuneFacts) -> str:
    return f"Xin chào! Tôi là trợ lý thủ tục hành chính của {commune.name}."


MENU_PROMPT = (
    'Bạn cần giúp gì ạ? Hãy bấm một nút bên dưới, hoặc gõ câu hỏi, ví dụ: "làm giấy khai sinh".'
)


def greeting(commune: CommuneFacts) -> str:
    return f"{hello(commune)}\n{MENU_PROMPT}"


STALE_CHOICE = "Lựa chọn này không còn hiệu lực."
TEXT_ONLY = "Hiện tôi chỉ đọc được tin nhắn chữ. Bạn hãy gõ câu hỏi hoặc bấm một nút bên dưới."


def contact_lines(commune: CommuneFacts) -> list[str]:
    """How to reach the commune's one-stop-shop office; empty facts are left out."""
    lines = [f"Bộ phận một cửa {commune.name}"]
    if commune.address:
        lines.append(f"Địa chỉ: {commune.address}")
    if commune.office_hours:
        lines.append(f"Giờ làm việc: {commune.office_hours}")
    if commune.hotline:
        lines.append(f"Điện thoại: {commune.hotline}")
    return lines


# --- Questions ---------------------------------------------------------------------------------

ASK_PROMPT = (
    "Bạn cần làm thủ tục gì? Hãy gõ ngắn gọn, ví dụ:\n"
    "• làm giấy khai sinh\n"
    "• đăng ký kết hôn\n"
    "• chứng thực bản sao"
)
WHICH_ONE = "Ý bạn là thủ tục nào? Bấm vào tên thủ tục:"


def which_one(differences: list[tuple[str, str]]) -> str:
    """The question with, under it, what tells the procedures apart (their first sentence)."""
    lines = [WHICH_ONE]
    lines += [f"• {name}: {what}" for name, what in differences if what]
    return "\n".join(lines)


def dont_know(commune: CommuneFacts) -> str:
    text = (
        "Tôi chưa biết thủ tục này. Bạn thử gõ cách khác, hoặc xem thủ tục theo lĩnh vực, "
        "hoặc hỏi cán bộ."
    )
    return text + _hotline(commune)


_OTHER_NAME_LENGTH = 120  # national procedures' names run to 300 characters


def done_elsewhere(other: OtherProcedure, commune: CommuneFacts) -> str:
    """A question about another office's procedure: not done here, and who does it."""
    name = other.name
    if len(name) > _OTHER_NAME_LENGTH:
        name = name[:_OTHER_NAME_LENGTH].rsplit(" ", 1)[0].rstrip(",;:(") + "…"
    # "Not in this commune's list", not "not done at the commune": the portal's list of
    # offices may name the commune police too ("Công an cấp Xã, Cục cảnh sát giao thông").
    who = f", do {other.office} giải quyết" if other.office else ""
    text = (
        f"Thủ tục này không có trong danh mục của {commune.name}. Trên Cổng Dịch vụ công "
        f"quốc gia, thủ tục gần nhất là «{name}»{who}.\n"
        "Nếu bạn hỏi việc khác, bạn thử gõ cách khác hoặc hỏi cán bộ."
    )
    return text + _hotline(commune)


def _hotline(commune: CommuneFacts) -> str:
    return f"\nĐiện thoại của {commune.name}: {commune.hotline}" if commune.hotline else ""


THANKS_REPLY = "Dạ, không có gì ạ. Bạn cần hỏi gì thêm cứ nhắn cho tôi nhé."
OK_REPLY = "Dạ vâng. Bạn cần hỏi gì thêm cứ nhắn cho tôi nhé."
BYE_REPLY = "Chào bạn, chúc bạn một ngày tốt lành! Khi cần, cứ nhắn cho tôi ạ."

# --- Browsing by field -------------------------------------------------------------------------

NO_FIELDS = "Danh mục thủ tục đang được cập nhật. Bạn hãy gõ câu hỏi, hoặc hỏi cán bộ."


def _page_note(page: int, pages: int) -> str:
    return f" (trang {page}/{pages})" if pages > 1 else ""


def fields_title(page: int, pages: int) -> str:
    return f"Chọn lĩnh vực{_page_note(page, pages)}:"


def field_title(field: str, count: int, page: int, pages: int) -> str:
    return f"{field}: {count} thủ tục{_page_note(page, pages)}. Chọn một thủ tục:"


# --- Filing (until filing in the chat arrives) -------------------------------------------------

FILING_SOON = "Nộp hồ sơ ngay trong tin nhắn sắp có ạ. Trong lúc chờ, bạn có thể:"
FILING_ONLINE = "• Nộp trực tuyến tại Cổng Dịch vụ công quốc gia: dichvucong.gov.vn"
FILING_POST = "• Gửi hồ sơ qua bưu điện (dịch vụ bưu chính công ích)"


def filing_in_person(office: str) -> str:
    return f"• Nộp trực tiếp tại {office}"


# --- Answer card -------------------------------------------------------------------------------
# The first answer is short (what it is, the main papers, fee, time, where, online or by post);
# the full paper list, the details and the legal basis are behind the buttons above.

CARD_PAPERS_FIRST = "Giấy tờ cần có:"
CARD_SHOWN_MARK = " (xuất trình)"


def card_more_papers(count: int, *, only_sometimes: bool) -> str:
    text = f"{ELLIPSIS} và {count} giấy khác"
    return text + (", tùy trường hợp" if only_sometimes else "")


def card_time_brief(text: str) -> str:
    return f"Thời gian: {text}"


CARD_TIME_BRIEF_UNKNOWN = "Thời gian: chưa có thông tin, hãy hỏi cán bộ."
ONLINE_YES = "được"
ONLINE_PART = "được một phần"
ONLINE_NO = "chưa được"


def card_ways_brief(online: str, post: bool) -> str:
    """ "Nộp trực tuyến: được. Qua bưu điện: được." ("" for either part leaves it out)."""
    parts = []
    if online:
        parts.append(f"Nộp trực tuyến: {online}.")
    if post:
        parts.append("Qua bưu điện: được.")
    return " ".join(parts)


def card_head(name: str, code: str) -> str:
    """The head of a detail screen: which procedure it is about."""
    return f"{name}\n{card_code(code)}"


CARD_LEGAL = "Căn cứ pháp lý:"
CARD_NO_LEGAL = "Chưa có thông tin về căn cứ pháp lý, hãy hỏi cán bộ."


def card_fee_basis(basis: str) -> str:
    return f"Căn cứ thu lệ phí: {basis}"


def card_decision(decision: str) -> str:
    return f"Quyết định công bố thủ tục: {decision}"


def card_code(code: str) -> str:
    return f"Mã thủ tục: {code}"


CARD_PAPERS = "Giấy tờ cần nộp:"
CARD_SHOW_ONLY = "Mang theo để xuất trình:"
CARD_PAPERS_UNKNOWN = "Giấy tờ: chưa có thông tin, hãy hỏi cán bộ."
CHECKBOX = "☐"


def paper_amount(count: int | None, copy_kind: str) -> str:
    """ "1 bản chính", "bản sao", "2 bản" or "" when neither is known."""
    if count is not None and copy_kind:
        return f"{count} {copy_kind}"
    if count is not None:
        return f"{count} bản"
    return copy_kind


def paper_form(form: str) -> str:
    return f"theo mẫu {form}"


FEE_LABEL = "Lệ phí"


def card_fee(text: str) -> str:
    return f"{FEE_LABEL}: {text}"


def vnd(amount: int) -> str:
    return f"{amount:,} đồng".replace(",", ".")


CARD_FEE_FREE = "Lệ phí: không mất phí."
CARD_FEE_UNKNOWN = "Lệ phí: chưa có thông tin, hãy hỏi cán bộ."
CARD_FEE_BY_PROVINCE = "Mức do HĐND tỉnh quy định."
CARD_FEE_ONLY_BY_PROVINCE = "Lệ phí: mức do HĐND tỉnh quy định."
CARD_FEE_EXEMPT = "Được miễn:"
BULLET = "•"


def card_time(text: str) -> str:
    return f"Thời gian giải quyết: {text}"


def working_days(days: int) -> str:
    return "trong ngày" if days == 0 else f"{days} ngày làm việc"


CARD_TIME_UNKNOWN = "Thời gian giải quyết: chưa có thông tin, hãy hỏi cán bộ."


def card_results(results: str) -> str:
    return f"Bạn nhận được: {results}"


def card_where(office: str) -> str:
    return f"Nơi nộp: {office}"


def commune_office(commune: CommuneFacts) -> str:
    return f"Bộ phận một cửa {commune.name}"


def card_ask_commune(commune: CommuneFacts) -> str:
    return f"Cần hỏi thêm: {commune.name}, điện thoại {commune.hotline}"


def card_address(address: str) -> str:
    return f"Địa chỉ: {address}"


def card_hours(hours: str) -> str:
    return f"Giờ làm việc: {hours}"


def card_hotline(hotline: str) -> str:
    return f"Điện thoại: {hotline}"


CARD_ONLINE_FULL = "Làm trực tuyến: được, làm trọn trên mạng tại dichvucong.gov.vn."
CARD_ONLINE_PART = (
    "Làm trực tuyến: nộp được tại dichvucong.gov.vn, nhưng vẫn phải đến cơ quan một số bước."
)
CARD_ONLINE = "Làm trực tuyến: nộp được tại dichvucong.gov.vn."
CARD_ONLINE_NO = "Làm trực tuyến: chưa được, hãy nộp trực tiếp."
CARD_POST_FILING = "Gửi hồ sơ qua bưu điện: được."
CARD_RESULT_BY_POST = "Nhận kết quả qua bưu điện: được."
CARD_RESULT_NOT_BY_POST = "Nhận kết quả qua bưu điện: không, nhận tại nơi nộp."


CARD_DISCLAIMER = "Thông tin có thể thay đổi; hãy hỏi cán bộ khi cần."

# --- Terminal channel (``motcua chat``) ---------------------------------------------------------

TERMINAL_CONTACT_HINT = "(Gõ số điện thoại của bạn.)"


def terminal_image(filename: str, caption: str) -> str:
    return f"[Ảnh: {filename}]" + (f" {caption}" if caption else "")


def terminal_document(filename: str, size: int, caption: str) -> str:
    kilobytes = max(1, round(size / 1024))
    return f"[Tệp: {filename}, {kilobytes} KB]" + (f" {caption}" if caption else "")


def terminal_no_file(path: str) -> str:
    return f"Không thấy tệp ảnh: {path}"


TERMINAL_PHOTO_USAGE = "Cách gửi ảnh: /anh ĐƯỜNG_DẪN_TỆP"
