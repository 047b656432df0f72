"""What the assistant says while a citizen fills in a dossier, one question at a time.

Short lines for an elderly villager on a cheap phone: one question per message, an example
under it, and the same few buttons every time (Quay lại, Bỏ qua, Trợ giúp, Hủy).
"""

from __future__ import annotations

import re
from typing import Final

# --- Buttons -----------------------------------------------------------------------------------

BTN_FOR_SELF: Final = "Cho bản thân"
BTN_FOR_OTHER: Final = "Cho người khác"
RELATIONS: Final = (
    "Cha/Mẹ",
    "Ông/Bà",
    "Con",
    "Vợ/Chồng",
    "Anh/Chị/Em",
    "Cán bộ/Tình nguyện viên hỗ trợ",
    "Khác",
)
BTN_BACK: Final = "Quay lại"
BTN_SKIP: Final = "Bỏ qua"
BTN_HELP: Final = "Trợ giúp"
BTN_CANCEL: Final = "Hủy"
BTN_MENU: Final = "Menu chính"
BTN_KEEP: Final = "Giữ nguyên"
BTN_DONE: Final = "Xong"
BTN_SEND: Final = "Gửi hồ sơ"
BTN_CANCEL_YES: Final = "Hủy hồ sơ"
BTN_CANCEL_NO: Final = "Tiếp tục khai"
BTN_RESUME: Final = "Tiếp tục"
BTN_RESTART: Final = "Làm lại từ đầu"
BTN_CONTINUE: Final = "Tiếp tục khai"
BTN_COUNTER: Final = "Nhận tại bộ phận một cửa"
BTN_POST: Final = "Nhận qua bưu điện (cước phí do bạn trả)"
BTN_ID_SURE: Final = "Số này đúng"
BTN_SUCCESSOR_SURE: Final = "Đúng, dùng địa chỉ mới"
BTN_RETYPE: Final = "Gõ lại"
BTN_TONES_USE: Final = "Đúng"
BTN_TONES_RETYPE: Final = "Gõ lại có dấu"
BTN_TONES_KEEP: Final = "Giữ nguyên"
TONES_RETYPE: Final = "Bạn gõ lại họ tên có dấu giúp mình nhé, ví dụ: Trần Văn Nam."


def bare_name_question(typed: str, toned: str | None) -> str:
    """A name typed without tone marks: the papers print names exactly as given."""
    if toned:
        return (
            f"Họ tên «{typed}» chưa có dấu. Có phải là «{toned}» không ạ? "
            "Giấy tờ sẽ in đúng như vậy."
        )
    return (
        f"Họ tên «{typed}» chưa có dấu, giấy tờ sẽ in đúng như vậy. Bạn gõ lại có dấu "
        "giúp mình, hoặc bấm Giữ nguyên nếu tên vốn không có dấu."
    )


YES: Final = "Có"
NO: Final = "Không"


def btn_same_phone(phone: str) -> str:
    return f"Dùng số {phone}"


def btn_edit(label: str) -> str:
    return f"Sửa: {label}"


def btn_edit_photo(label: str) -> str:
    return f"Sửa ảnh: {label}"


def btn_keep_old(name: str) -> str:
    return f"Tiếp tục hồ sơ {name}"


def btn_switch(name: str) -> str:
    return f"Khai hồ sơ mới: {name}"


# --- Starting --------------------------------------------------------------------------------


def intro(name: str, photos: int) -> str:
    text = f"Mình giúp bạn khai hồ sơ {name}: mỗi lần một câu ngắn"
    if photos:
        text += ", rồi bạn chụp giấy tờ gửi vào đây"
    return text + (
        ". Câu nào sai thì bấm Quay lại. Mình lưu từng câu, bạn có thể khai tiếp lúc khác."
    )


WHO_FILES: Final = "Bạn nộp hồ sơ này cho bản thân hay cho người khác ạ?"
WHICH_RELATION: Final = "Bạn là gì của người nhờ nộp hồ sơ ạ?"
RELATION_TEXT: Final = "Bạn ghi ngắn gọn bạn là gì của người đó ạ (ví dụ: hàng xóm, cháu)?"
FOR_SELF: Final = "Cho bản thân"


def for_other(relation: str) -> str:
    return f"Cho người khác ({relation})"


WHAT_TO_FILE: Final = (
    "Bạn muốn nộp hồ sơ thủ tục gì? Bạn gõ tên thủ tục, ví dụ: nộp hồ sơ khai sinh."
)

# --- Questions ---------------------------------------------------------------------------------


def progress(index: int, total: int) -> str:
    return f"Câu {index}/{total}"


def photo_progress(index: int, total: int) -> str:
    return f"Ảnh {index}/{total}"


def example(text: str) -> str:
    return f"Ví dụ: {text}"


OPTIONAL: Final = "(Không bắt buộc: không có thì bấm Bỏ qua.)"


def current_value(display: str) -> str:
    return f"Bạn đã trả lời: {display}\nGõ câu trả lời mới, hoặc bấm Giữ nguyên."


CURRENT_SKIPPED: Final = "Câu này bạn đã bỏ qua. Gõ câu trả lời, hoặc bấm Giữ nguyên."
CONTINUE: Final = "Mình tiếp tục nhé:"
FIRST_QUESTION: Final = "Đây là câu đầu tiên rồi ạ."


REQUIRED: Final = "Câu này bắt buộc, không bỏ qua được ạ."
REQUIRED_PHOTO: Final = "Giấy này bắt buộc, bạn chụp và gửi giúp mình nhé."


HELP_HEADER: Final = "Hướng dẫn:"
HELP_NAVIGATION: Final = (
    "Bấm Quay lại để sửa câu trước, Hủy để bỏ hồ sơ, Menu chính để làm việc khác "
    "(hồ sơ vẫn được giữ)."
)
KIND_HELP: Final = {
    "name": "Ghi đủ họ, chữ đệm và tên, có dấu, đúng như trên giấy tờ.",
    "date": "Ghi ngày/tháng/năm bằng số, cách nhau dấu gạch chéo (ví dụ ở dưới).",
    "id_number": "Số định danh là 12 chữ số in trên thẻ căn cước (CCCD).",
    "phone": "Số điện thoại di động 10 số, bắt đầu bằng 0.",
    "choice": "Bấm một nút, hoặc gõ số thứ tự của mục bạn chọn.",
    "yes_no": "Bấm Có hoặc Không.",
    "sex": "Bấm Nam hoặc Nữ.",
    "number": "Gõ một con số, ví dụ 2.",
    "text": "Gõ ngắn gọn câu trả lời.",
    "address": "Ghi thôn/xóm, xã/phường và tỉnh/thành phố. Từ 1/7/2025 không ghi huyện nữa.",
}
PHONE_CONTACT: Final = "Bạn cũng có thể bấm nút chia sẻ số điện thoại của mình."
CONTACT_NOT_OWN: Final = (
    "Mình chỉ nhận số điện thoại do chính bạn chia sẻ. Bạn gõ số điện thoại giúp mình nhé."
)
CONTACT_NOT_NOW: Final = "Chưa cần số điện thoại ở bước này ạ."
PHOTO_NOT_NOW: Final = "Chưa cần ảnh ở bước này ạ. Bạn trả lời câu hỏi trước nhé."
STALE_BUTTON: Final = "Nút này thuộc câu hỏi trước, không còn dùng được."

# --- Addresses ---------------------------------------------------------------------------------


def own_commune(name: str) -> str:
    return f"Ở {name}"


def which_commune(subject: str) -> str:
    return f"{subject} ở xã, phường nào? Bấm để chọn, hoặc gõ lại địa chỉ đầy đủ:"


def which_village(subject: str) -> str:
    return f"{subject} ở thôn, xóm (tổ dân phố) nào, số nhà bao nhiêu? Không cần thì bấm Bỏ qua."


WHICH_COMMUNE: Final = which_commune("Bạn")
WHICH_VILLAGE: Final = which_village("Bạn")

# Who a question is about, as it names them (FormField.who).
SUBJECTS: Final = {
    "requester": "Bạn",
    "child": "Cháu",
    "mother": "Mẹ cháu",
    "father": "Cha cháu",
    "parents": "Cha mẹ cháu",
    "person": "Người đó",
    "deceased": "Người mất",
    "wife": "Bên nữ",
    "husband": "Bên nam",
    "other_party": "Người bên kia",
    "couple": "Hai người",
}
SUBJECT_RECIPIENT: Final = "Người nhận"
SUBJECT_VILLAGER: Final = "Bà con"
_YOU = re.compile(r"(?<![Hh]ai )\b([Bb])ạn\b")
_YOU_TWO = re.compile(r"\b([Hh])ai bạn\b")


def for_villager(label: str) -> str:
    """A filer's question put to the villager a volunteer files for: "bạn" → "bà con", and
    a couple's "hai bạn" → "hai người" (the volunteer holds the phone: «hai bà con» is no one)."""
    label = _YOU_TWO.sub(lambda m: f"{m.group(1)}ai người", label)
    return _YOU.sub(lambda m: "Bà con" if m.group(1) == "B" else "bà con", label)


_THAT_PERSON = re.compile(r"\b([Nn])gười đó\b")
_THOSE_TWO = re.compile(r"\b([Hh])ai người\b")


def for_own_self(label: str) -> str:
    """A question about the person a dossier is for ("Người đó sinh ngày nào ạ?"), put to
    that person filing for themselves: "người đó" → "bạn"; about a couple ("Hai người cần mấy
    bản sao?"), put to one of the two: "hai người" → "hai bạn"."""
    label = _THAT_PERSON.sub(lambda m: "Bạn" if m.group(1) == "N" else "bạn", label)
    return _THOSE_TWO.sub(lambda m: f"{m.group(1)}ai bạn", label)


def subject(who: str) -> str:
    return SUBJECTS.get(who, "Bạn")


# Review sections, by whose data they hold.
SECTION_TITLES: Final = {
    "requester": "Người đi khai",
    "child": "Cháu",
    "mother": "Mẹ cháu",
    "father": "Cha cháu",
    "parents": "Giấy chứng nhận kết hôn",
    "person": "Người có tên trên giấy",
    "deceased": "Người mất",
    "wife": "Bên nữ",
    "husband": "Bên nam",
    "other_party": "Bên kia",
    "photos": "Ảnh giấy tờ",
    "delivery": "Nhận kết quả",
    "other": "Thông tin khác",
}


def section_title(key: str) -> str:
    return SECTION_TITLES.get(key, SECTION_TITLES["other"])


# A section's name on its review button, short enough for two buttons on a phone's line.
SECTION_BUTTONS: Final = {
    "requester": "Người khai",
    "parents": "Giấy kết hôn",
    "person": "Người có tên",
    "photos": "Ảnh",
    "other": "Khác",
    "delivery": "Địa chỉ nhận",
}


def section_button(key: str) -> str:
    return SECTION_BUTTONS.get(key) or section_title(key)


def btn_open(title: str) -> str:
    """A section's button on the review: its short name (the footer says it opens it)."""
    return title


LINE_HINT: Final = "Gõ được cả dòng như ví dụ (cách nhau dấu phẩy), hoặc từng thứ một."


def filled_from_filer(who: str, shown: list[str]) -> str:
    return f"{who} là bạn, nên mình ghi luôn: {', '.join(shown)}. Sai thì sửa ở bước kiểm tra."


def from_filer(display: str) -> str:
    return f"{display} (như người đi khai)"


# How an answer reads without its question, by the field's kind (FormField.shown overrides).
KIND_SHOWN: Final = {
    "id_number": "số căn cước {}",
    "phone": "điện thoại {}",
    "date": "ngày {}",
    "sex": "giới tính {}",
}
BIRTH_DATE_SHOWN: Final = "sinh ngày {}"  # a "…_birth_date" field


def line_read(shown: list[str]) -> str:
    return f"Mình đã ghi: {'; '.join(shown)}."


VILLAGE_EXAMPLE: Final = "thôn Đông"

# --- Photos ------------------------------------------------------------------------------------


def photo_prompt(label: str) -> str:
    return f"Bạn chụp {label} và gửi vào đây."


PHOTO_PAGES: Final = "Giấy nhiều trang thì gửi lần lượt từng trang, gửi xong bấm Xong."
PHOTO_TIPS: Final = (
    "Đặt giấy trên mặt bàn phẳng, chỗ đủ sáng, chụp thẳng, thấy đủ bốn góc, chữ rõ nét."
)


def photos_so_far(count: int) -> str:
    return f"Bạn đã gửi {count} ảnh. Gửi ảnh mới để thay, hoặc bấm Giữ nguyên."


PHOTO_WANTED: Final = "Ở bước này bạn gửi ảnh giúp mình nhé."
CHECKING: Final = "Đang kiểm tra ảnh…"


BTN_DROP_PHOTOS: Final = "Xóa ảnh đã gửi"


def btn_drop(label: str) -> str:
    return f"Xóa ảnh: {label}"


def photos_dropped(label: str) -> str:
    return f"Đã xóa ảnh {label}. Giấy này không gửi kèm nữa."


def photo_received(label: str) -> str:
    return f"Đã nhận ảnh {label}."


def photos_collected(count: int, label: str) -> str:
    return f"Đã nhận {count} ảnh {label}. Gửi thêm trang, hoặc bấm Xong."


PHOTO_DUPLICATE: Final = "Ảnh này bạn đã gửi rồi ạ."
NO_PHOTO_YET: Final = "Bạn chưa gửi ảnh nào cho giấy này."
PHOTO_PROBLEMS: Final = {
    "unsupported": "Mình chỉ nhận ảnh chụp (JPG, PNG) hoặc tệp PDF. Bạn chụp ảnh rồi gửi lại nhé.",
    "too_large": "Tệp lớn quá. Bạn chụp ảnh bằng máy ảnh của điện thoại rồi gửi lại nhé.",
    "corrupt": "Ảnh bị lỗi, mình không mở được. Bạn chụp lại và gửi lại nhé.",
    "too_small": "Ảnh nhỏ quá, không đọc được chữ. Bạn đưa máy lại gần giấy hơn rồi chụp lại nhé.",
    "too_dark": "Ảnh tối quá. Bạn chụp lại ở chỗ sáng hơn, hoặc bật đèn nhé.",
    "blurred": "Ảnh bị mờ. Bạn giữ chắc tay, chụp lại ở nơi đủ sáng nhé.",
    "blank": "Ảnh trống, không thấy giấy tờ. Bạn chụp lại cho thấy rõ tờ giấy nhé.",
    "duplicate": PHOTO_DUPLICATE,
    "fetch_failed": "Mình chưa nhận được ảnh. Bạn gửi lại giúp mình nhé.",
}
PHOTO_PROBLEM_OTHER: Final = "Ảnh chưa dùng được. Bạn chụp lại và gửi lại nhé."

# --- Result delivery ---------------------------------------------------------------------------

DELIVERY: Final = "Bạn muốn nhận kết quả ở đâu ạ?"
POSTAL_ADDRESS: Final = "Địa chỉ nhận kết quả qua bưu điện ở đâu ạ?"
POSTAL_PHONE: Final = "Số điện thoại của người nhận bưu phẩm ạ?"
DELIVERY_COUNTER: Final = "Nhận tại bộ phận một cửa"
DELIVERY_POST: Final = "Nhận qua bưu điện"

# --- Review ------------------------------------------------------------------------------------


def review_title(name: str) -> str:
    return f"Hồ sơ {name}:"


REVIEW_FILER: Final = "Người nộp"
REVIEW_SKIPPED: Final = "(bỏ qua)"
REVIEW_PHOTOS: Final = "Ảnh giấy tờ:"


def review_photo_count(label: str, count: int) -> str:
    return f"• {label}: {count} ảnh"


def review_photo_skipped(label: str) -> str:
    return f"• {label}: {REVIEW_SKIPPED}"


REVIEW_DELIVERY: Final = "Nhận kết quả"
REVIEW_POSTAL_ADDRESS: Final = "Địa chỉ nhận"
REVIEW_POSTAL_PHONE: Final = "Điện thoại người nhận"
REVIEW_FOOTER: Final = "Đúng thì bấm Gửi hồ sơ. Bấm tên phần để xem, sửa."
REVIEW_NOT_SENT: Final = "chưa gửi"
REVIEW_NO_PHOTOS: Final = "chưa gửi ảnh nào"
BTN_TO_POST: Final = "Nhận qua bưu điện"
BTN_TO_COUNTER: Final = "Nhận tại một cửa"
REVIEW_AT_COUNTER: Final = "nhận tại một cửa"
REVIEW_BY_POST: Final = "nhận qua bưu điện"


def review_facts(parts: list[str]) -> str:
    """The review's one line of what goes with the dossier: "2 ảnh · 1 bản sao · …"."""
    return " · ".join(parts)


BTN_TO_REVIEW: Final = "Về trang kiểm tra hồ sơ"


def photo_count(count: int) -> str:
    return f"{count} ảnh"


SENDING: Final = "Đang gửi hồ sơ…"
ALREADY_SENT: Final = "Hồ sơ này đã gửi rồi, không sửa được nữa ạ."

# --- Cancel, resume, expiry --------------------------------------------------------------------

CONFIRM_CANCEL: Final = "Bạn có chắc muốn hủy hồ sơ này? Các câu đã trả lời sẽ bị xóa."
CANCELLED: Final = "Đã hủy hồ sơ."


def kept_for_later(name: str) -> str:
    return f"Hồ sơ {name} đang khai dở được giữ lại. Khi muốn khai tiếp, bấm Tiếp tục khai."


def resume_question(name: str, answered: int, total: int) -> str:
    return f"Bạn đang khai dở hồ sơ {name} (đã trả lời {answered}/{total} câu). Tiếp tục?"


def switch_question(old: str, answered: int, total: int, new: str) -> str:
    return (
        f"Bạn đang khai dở hồ sơ {old} (đã trả lời {answered}/{total} câu). "
        f"Khai hồ sơ {new} thì hồ sơ {old} sẽ bị bỏ. Bạn chọn:"
    )


def expired(name: str, days: int) -> str:
    return (
        f"Hồ sơ {name} bạn khai dở đã quá {days} ngày nên đã bị xóa. Mình bắt đầu lại từ đầu nhé."
    )


def reminder(name: str, days: int) -> str:
    return (
        f"Hồ sơ {name} của bạn sẽ bị xóa sau {days} ngày nếu chưa khai xong. "
        "Bấm Tiếp tục khai để khai tiếp."
    )


DRAFT_UNREADABLE: Final = (
    "Xin lỗi, mình không đọc được hồ sơ bạn đang khai dở. Bạn bắt đầu lại giúp mình nhé."
)
NO_LONGER_FILED: Final = "Thủ tục này hiện không nộp được qua tin nhắn nữa ạ."
RESTARTED: Final = "Mình bắt đầu lại từ đầu nhé."

# --- Questions asked mid-form --------------------------------------------------------------------


def about(name: str) -> str:
    return f"Về thủ tục {name}:"


ANSWER_WHERE: Final = "Nơi nộp: bộ phận một cửa của xã; nộp qua tin nhắn này cũng được."
ID_RECHECK: Final = "Số định danh đã ghi chưa khớp với ngày sinh, giới tính hoặc quan hệ vừa ghi:"


def successor_question(old: str, new: str, divided: bool) -> str:
    """An old address answered with the unit that took it over, to confirm with one tap."""
    lines = [f"Từ 1/7/2025 không còn huyện, quận: {old} nay là {new}."]
    if divided:
        lines.append("(Xã, phường cũ được chia cho nhiều nơi; đây là nơi nhận phần chính.)")
    lines.append("Bạn dùng địa chỉ mới này nhé? Nếu không đúng, bạn gõ lại địa chỉ mới.")
    return "\n".join(lines)
