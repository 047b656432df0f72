"""Re-asks for answers the form could not accept: say what was wrong, then show an example.

Placeholders are filled with ``str.format`` by ``dialogs.validators`` and ``dialogs.addresses``.
The address example is only a default: a deployment passes its own commune's example from config.
"""

from __future__ import annotations

from typing import Final

# Names
NAME_EMPTY: Final = "Bạn chưa ghi họ tên. Bạn ghi đủ họ, chữ đệm và tên, ví dụ: Nguyễn Văn An."
NAME_HAS_DIGITS: Final = (
    "Họ tên không có chữ số. Bạn ghi lại họ tên bằng chữ, ví dụ: Nguyễn Văn An."
)
NAME_BAD_CHARACTERS: Final = (
    "Họ tên chỉ gồm chữ cái, không có ký hiệu như {characters}. "
    "Bạn ghi lại giúp mình, ví dụ: Nguyễn Văn An."
)
NAME_TOO_SHORT: Final = "Họ tên ngắn quá. Bạn ghi đủ họ, chữ đệm và tên, ví dụ: Nguyễn Văn An."
NAME_TOO_LONG: Final = (
    "Họ tên dài quá ({length} ký tự, tối đa {limit}). "
    "Bạn ghi đúng như trên giấy tờ, ví dụ: Nguyễn Văn An."
)

# Dates
DATE_EXAMPLE: Final = "15/03/1990"
DATE_FORMAT: Final = (
    "Ngày chưa đúng. Bạn nhập theo dạng ngày/tháng/năm, ví dụ " + DATE_EXAMPLE + "."
)
DATE_NO_YEAR: Final = (
    "Bạn ghi thêm năm giúp mình. Bạn nhập theo dạng ngày/tháng/năm, ví dụ " + DATE_EXAMPLE + "."
)
DATE_BAD_YEAR: Final = "Năm cần đủ 4 chữ số. Bạn nhập lại, ví dụ " + DATE_EXAMPLE + "."
DATE_BAD_MONTH: Final = (
    "Không có tháng {month}: tháng chỉ từ 1 đến 12. "
    "Bạn nhập lại theo dạng ngày/tháng/năm, ví dụ " + DATE_EXAMPLE + "."
)
DATE_BAD_DAY: Final = (
    "Không có ngày {date}: tháng {month} năm {year} chỉ có {days} ngày. "
    "Bạn nhập lại, ví dụ " + DATE_EXAMPLE + "."
)
DATE_IN_FUTURE: Final = (
    "Ngày {date} chưa tới, hôm nay mới là {today}. "
    "Bạn kiểm tra lại ngày, ví dụ " + DATE_EXAMPLE + "."
)
DATE_TOO_EARLY: Final = (
    "Năm {year} sớm quá, năm phải từ {min_year} trở đi. "
    "Bạn kiểm tra lại năm, ví dụ " + DATE_EXAMPLE + "."
)
DATE_TOO_OLD: Final = (
    "Ngày {date} đã quá {days} ngày. Ngày phải từ {earliest} trở lại đây. "
    "Bạn kiểm tra lại giúp mình, ví dụ {today}."
)

# 12-digit personal ID number
ID_EXAMPLE: Final = "030190012345"
ID_EMPTY: Final = (
    "Bạn chưa ghi số định danh. Bạn nhập 12 số trên thẻ căn cước, ví dụ " + ID_EXAMPLE + "."
)
ID_NOT_DIGITS: Final = (
    "Số định danh chỉ gồm chữ số. Bạn nhập 12 số trên thẻ căn cước, ví dụ " + ID_EXAMPLE + "."
)
ID_OLD_CMND: Final = (
    "Số 9 chữ số là số chứng minh nhân dân cũ. "
    "Bạn nhập số định danh 12 chữ số trên thẻ căn cước, ví dụ " + ID_EXAMPLE + "."
)
ID_WRONG_LENGTH: Final = (
    "Số định danh có đúng 12 chữ số, bạn đã nhập {count} số. "
    "Bạn kiểm tra lại, ví dụ " + ID_EXAMPLE + "."
)
ID_BAD_PROVINCE: Final = (
    "Ba số đầu ({prefix}) không phải mã tỉnh nơi khai sinh. "
    "Bạn kiểm tra lại số trên thẻ căn cước, ví dụ " + ID_EXAMPLE + "."
)
ID_SEX_MISMATCH: Final = (
    "Số thứ tư ({digit}) là của người {id_sex}, nhưng giới tính đã ghi là {sex}. "
    "Với người {sex} sinh năm {year}, số thứ tư là {expected}. "
    "Bạn kiểm tra lại số định danh."
)
ID_SEX_MISMATCH_NO_YEAR: Final = (
    "Số thứ tư ({digit}) là của người {id_sex}, nhưng giới tính đã ghi là {sex}. "
    "Với người {sex}, số thứ tư là số {parity}. Bạn kiểm tra lại số định danh."
)
ID_CENTURY_MISMATCH: Final = (
    "Số thứ tư ({digit}) là của người sinh năm {first}–{last}, nhưng năm sinh đã ghi là {year}. "
    "Với người sinh năm {year}, số thứ tư là {expected}. Bạn kiểm tra lại số định danh."
)
ID_YEAR_MISMATCH: Final = (
    "Số thứ năm và thứ sáu ({digits}) phải là hai số cuối của năm sinh ({year}), "
    "tức là {expected}. Bạn kiểm tra lại số định danh."
)
ID_BIRTH_YEAR_UNSUPPORTED: Final = (
    "Năm sinh {year} không hợp với số định danh. Bạn kiểm tra lại năm sinh giúp mình."
)
# A number that disagrees with its owner's sex or birth date is questioned, never refused.
ID_DOUBT_TAIL: Final = (
    "Bạn xem lại thẻ căn cước giúp mình: nếu số đúng như trên thẻ thì bấm “Số này đúng”, "
    "nếu gõ nhầm thì gõ lại số nhé."
)
ID_DOUBT_SEX: Final = (
    "Số thứ tư của số định danh ({digit}) là số của người {id_sex}, mà {person}; "
    "với người như vậy số thứ tư thường là số {parity}. " + ID_DOUBT_TAIL
)
ID_DOUBT_CENTURY: Final = (
    "Số thứ tư của số định danh ({digit}) là của người sinh năm {first}–{last}, "
    "mà năm sinh đã ghi là {year}. " + ID_DOUBT_TAIL
)
ID_DOUBT_YEAR: Final = (
    "Số thứ năm và thứ sáu của số định danh ({digits}) thường là hai số cuối của năm sinh, "
    "mà năm sinh đã ghi là {year} (tức là {expected}). " + ID_DOUBT_TAIL
)
ID_SOMEONE: Final = "người này là {sex}"
ID_ROLE_PERSON: Final = {
    "father": "đây là số của người cha",
    "husband": "đây là số của bên chồng",
    "groom": "đây là số của bên nam",
    "mother": "đây là số của người mẹ",
    "wife": "đây là số của bên vợ",
    "bride": "đây là số của bên nữ",
}
ID_EVEN: Final = "chẵn (0, 2, 4, 6, 8)"
ID_ODD: Final = "lẻ (1, 3, 5, 7, 9)"
ID_EITHER: Final = "{first} hoặc {second}"

# Phone numbers
PHONE_EXAMPLE: Final = "0912345678"
PHONE_EMPTY: Final = "Bạn chưa ghi số điện thoại. Bạn nhập lại, ví dụ " + PHONE_EXAMPLE + "."
PHONE_NOT_DIGITS: Final = "Số điện thoại chỉ gồm chữ số. Bạn nhập lại, ví dụ " + PHONE_EXAMPLE + "."
PHONE_MOBILE_LENGTH: Final = (
    "Số di động có 10 chữ số, bạn đã nhập {count} số. "
    "Bạn kiểm tra lại, ví dụ " + PHONE_EXAMPLE + "."
)
PHONE_LANDLINE_LENGTH: Final = (
    "Số máy bàn có 11 chữ số (kể cả mã vùng), bạn đã nhập {count} số. "
    "Bạn kiểm tra lại, ví dụ 02203123456 hoặc số di động " + PHONE_EXAMPLE + "."
)
PHONE_BAD_PREFIX: Final = (
    "Số {number} không phải số điện thoại Việt Nam. "
    "Bạn nhập số bắt đầu bằng 0, ví dụ " + PHONE_EXAMPLE + "."
)

# Short answers
YES_NO_UNCLEAR: Final = "Mình chưa rõ ý bạn. Bạn trả lời Có hoặc Không giúp mình nhé."
SEX_UNCLEAR: Final = "Mình chưa rõ giới tính. Bạn trả lời Nam hoặc Nữ giúp mình nhé."
CHOICE_UNCLEAR: Final = (
    "Mình chưa rõ bạn chọn mục nào. Bạn gõ số thứ tự, ví dụ 1 để chọn “{first}”:\n{options}"
)
CHOICE_OUT_OF_RANGE: Final = (
    "Chỉ có {count} mục. Bạn gõ số từ 1 đến {count}, ví dụ 1 để chọn “{first}”:\n{options}"
)
CHOICE_AMBIGUOUS: Final = (
    "Câu trả lời hợp với nhiều mục. Bạn gõ số thứ tự, ví dụ {number} để chọn “{name}”:\n{options}"
)
CHOICE_OPTION: Final = "{number}. {name}"
NUMBER_UNCLEAR: Final = "Bạn nhập một con số giúp mình, ví dụ {example}."
NUMBER_SEVERAL: Final = "Bạn chỉ nhập một con số thôi, ví dụ {example}."
NUMBER_NOT_WHOLE: Final = "Bạn nhập số nguyên, không có phần lẻ, ví dụ {example}."
NUMBER_TOO_SMALL: Final = "Số nhỏ nhất là {minimum}. Bạn nhập lại, ví dụ {example}."
NUMBER_TOO_LARGE: Final = "Số lớn nhất là {maximum}. Bạn nhập lại, ví dụ {example}."
TEXT_EMPTY: Final = "Bạn chưa ghi gì. Bạn gõ câu trả lời rồi gửi lại giúp mình nhé."
TEXT_TOO_SHORT: Final = "Câu trả lời ngắn quá (ít nhất {limit} ký tự). Bạn ghi rõ hơn giúp mình."
TEXT_TOO_LONG: Final = (
    "Câu trả lời dài quá ({length} ký tự, tối đa {limit}). Bạn ghi ngắn gọn lại giúp mình."
)

# Addresses (two tiers since 1 Jul 2025: xã/phường/đặc khu + tỉnh/thành phố, no district)
ADDRESS_EXAMPLE: Final = "thôn Mạc Xá, xã Thái Tân, thành phố Hải Phòng"
ADDRESS_EMPTY: Final = (
    "Bạn chưa ghi địa chỉ. Bạn ghi thôn/xóm, xã/phường và tỉnh/thành phố, ví dụ: {example}."
)
ADDRESS_NO_PROVINCE: Final = "Bạn ghi thêm tên tỉnh hoặc thành phố giúp mình, ví dụ: {example}."
ADDRESS_NO_COMMUNE: Final = (
    "Bạn ghi thêm tên xã hoặc phường ở {province} giúp mình, ví dụ: {example}."
)
ADDRESS_COMMUNE_NOT_FOUND: Final = (
    "Mình không thấy xã, phường “{name}” ở {province}. "
    "Từ 1/7/2025 nhiều xã đã sáp nhập và đổi tên. "
    "Bạn ghi tên xã, phường mới, ví dụ: {example}."
)
ADDRESS_COMMUNE_SUGGEST: Final = (
    "Mình không thấy xã, phường “{name}” ở {province}. Có phải là {suggestions}? "
    "Bạn ghi lại cho đúng tên, ví dụ: {example}."
)
ADDRESS_COMMUNE_AMBIGUOUS: Final = (
    "Ở {province} có cả {names}. Bạn ghi lại tên có dấu cho rõ, ví dụ: {example}."
)
ADDRESS_HAS_DISTRICT: Final = (
    "Từ 1/7/2025 không còn huyện, quận. Địa chỉ chỉ cần xã hoặc phường mới và tỉnh "
    "hoặc thành phố. Bạn ghi lại giúp mình, ví dụ: {example}."
)
ADDRESS_LEGACY_PROVINCE: Final = (
    "Từ 1/7/2025 {old} đã nhập vào {new}. "
    "Bạn ghi tên xã hoặc phường mới và {new}, ví dụ: {example}."
)
ADDRESS_LEGACY_PROVINCE_NOTE: Final = "{old} nay thuộc {new}."
ADDRESS_SUGGESTION_JOINER: Final = " hoặc "
ADDRESS_NAMES_JOINER: Final = " và "
