from datetime import date, time
from typing import Any

import pytest

from backoffice.documents.declarations import (
    DECLARATION_KEYS,
    DRAFT_NOTICE,
    IDENTITY_NOTE,
    KINDS,
    render_declaration_pdf,
)
from dialogs.vnwords import date_in_words
from tests.backoffice.pdf_helpers import pdf_text

SIGNED = date(2026, 11, 27)
REQUESTER: dict[str, Any] = {
    "requester_name": "Nguyễn Thị Hằng",
    "requester_birth_date": date(1995, 6, 21),
    "requester_id_kind": "Căn cước",
    "requester_id_number": "031195001234",
    "requester_id_issuer": "Bộ Công an",
    "requester_id_issued_on": date(2024, 7, 5),
}


def render(kind: str, values: dict[str, Any]) -> str:
    return pdf_text(
        render_declaration_pdf(
            kind, values, "Xã Thái Tân", "xã Thái Tân", SIGNED, date_in_words=date_in_words
        )
    )


@pytest.mark.parametrize(
    ("kind", "title", "marker"),
    [
        ("birth", "TỜ KHAI ĐĂNG KÝ KHAI SINH", "(1)"),
        ("marriage", "TỜ KHAI ĐĂNG KÝ KẾT HÔN", "(3)"),
        ("death", "TỜ KHAI ĐĂNG KÝ KHAI TỬ", "(1)"),
        ("marital_status", "TỜ KHAI CẤP GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN", "(1)"),
    ],
)
def test_every_form_has_header_addressee_date_line_and_notes(
    kind: str, title: str, marker: str
) -> None:
    text = render(kind, {})
    assert " ".join(DRAFT_NOTICE.split()) in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc" in text
    assert title in text
    assert f"Kính gửi: {marker} Ủy ban nhân dân xã Thái Tân" in text
    assert "Làm tại: xã Thái Tân, ngày 27 tháng 11 năm 2026" in text
    assert "(Ký, ghi rõ họ, chữ đệm, tên)" in text
    assert "Chú thích:" in text
    assert " ".join(IDENTITY_NOTE.split()) in text
    # Blank fields print as dotted leaders for the requester to fill by hand.
    assert "Họ, chữ đệm, tên" in text
    assert "..........." in text


def test_birth_form_labels_values_and_date_in_words() -> None:
    values = {
        **REQUESTER,
        "requester_relation": "Mẹ",
        "child_name": "TRẦN ĐỨC ƯNG",
        "child_birth_date": date(2026, 3, 15),
        "child_sex": "Nam",
        "child_ethnicity": "Kinh",
        "child_nationality": "Việt Nam",
        "child_birth_place": "Trạm y tế xã Thái Tân, thành phố Hải Phòng",
        "child_hometown": "xã Thái Tân, thành phố Hải Phòng",
        "mother_name": "Nguyễn Thị Hằng",
        "mother_birth_date": date(1995, 6, 21),
        "father_name": "Trần Văn Đức",
        "father_birth_date": 1992,
        "copies": 2,
    }
    text = render("birth", values)
    for expected in (
        "Họ, chữ đệm, tên người yêu cầu: Nguyễn Thị Hằng",
        "Ngày, tháng, năm sinh: 21/06/1995",
        "Giấy tờ tùy thân: (3) Căn cước số 031195001234 do Bộ Công an cấp ngày 05/07/2024",
        "Quan hệ với người được khai sinh: Mẹ",
        "Đề nghị cơ quan đăng ký khai sinh cho người dưới đây:",
        "Họ, chữ đệm, tên: TRẦN ĐỨC ƯNG",
        "Ngày, tháng, năm sinh: 15/03/2026 ghi bằng chữ: Ngày mười lăm, tháng ba, năm hai "
        "nghìn không trăm hai mươi sáu",
        "Giới tính: Nam Dân tộc: Kinh Quốc tịch: Việt Nam",
        "Nơi sinh: (4) Trạm y tế xã Thái Tân, thành phố Hải Phòng",
        "Quê quán: xã Thái Tân, thành phố Hải Phòng",
        "Họ, chữ đệm, tên người mẹ: Nguyễn Thị Hằng",
        "Năm sinh: (5) 21/06/1995",
        "Họ, chữ đệm, tên người cha: Trần Văn Đức",
        "Năm sinh: (5) 1992",
        "Thông tin về Giấy chứng nhận kết hôn của cha, mẹ trẻ (nếu cha, mẹ trẻ đã ĐKKH):",
        "Tôi cam đoan nội dung đề nghị đăng ký khai sinh trên đây là đúng sự thật",
        "Người yêu cầu",
        "Đề nghị cấp bản sao (6): Có ☒, Không ☐",
        "Số lượng: 02 bản",
        "(4) Trường hợp sinh tại cơ sở y tế thì ghi rõ tên cơ sở y tế",
        "(5) Ghi đầy đủ ngày, tháng sinh của cha, mẹ (nếu có).",
    ):
        assert expected in text


def test_copies_default_to_no() -> None:
    assert "Đề nghị cấp bản sao (6): Có ☐, Không ☒" in render("birth", {})
    assert "Đề nghị cấp bản sao (5): Có ☐, Không ☒" in render("death", {})


def test_marriage_is_a_two_column_table_woman_first() -> None:
    values = {
        "bride_name": "Nguyễn Thị Hằng",
        "bride_birth_date": date(1995, 6, 21),
        "bride_id_number": "031195001234",
        "bride_marriage_count": 1,
        "groom_name": "Trần Văn Đức",
        "groom_birth_date": "02/01/1992",
        "groom_nationality": "Việt Nam",
        "copies": 1,
    }
    text = render("marriage", values)
    for expected in (
        "Thông tin Bên nữ Bên nam",
        "Họ, chữ đệm, tên Nguyễn Thị Hằng Trần Văn Đức",
        "Ngày, tháng, năm sinh 21/06/1995 02/01/1992",
        "Nơi cư trú (4)",
        "Giấy tờ tùy thân (5) Số định danh cá nhân 031195001234",
        "Kết hôn lần thứ mấy 1",
        "việc kết hôn của chúng tôi là tự nguyện",
        "Đề nghị Quý cơ quan đăng ký.",
        "Bên nữ (Ký, ghi rõ họ, chữ đệm, tên) Nguyễn Thị Hằng",
        "Bên nam (Ký, ghi rõ họ, chữ đệm, tên) Trần Văn Đức",
        "Đề nghị cấp bản sao (6): Có ☒, Không ☐ Số lượng: 01 bản",
        "(1), (2) Trường hợp làm thủ tục đăng ký kết hôn có yếu tố nước ngoài",
    ):
        assert expected in text
    assert "Người yêu cầu" not in text


def test_death_form_time_and_notice() -> None:
    values = {
        **REQUESTER,
        "requester_relation": "Con",
        "deceased_name": "Nguyễn Văn Ước",
        "death_time": time(5, 30),
        "death_date": date(2026, 11, 20),
        "death_place": "Tại nhà, thôn Mạc Xá",
        "death_cause": "Già yếu",
        "death_notice_kind": "giay_bao_tu",
        "death_notice_number": "05/GBT",
        "death_notice_issuer": "Trạm y tế xã Thái Tân",
        "death_notice_date": date(2026, 11, 21),
    }
    text = render("death", values)
    for expected in (
        "Quan hệ với người đã chết: Con",
        "Đề nghị cơ quan đăng ký khai tử cho người có tên dưới đây:",
        "Nơi cư trú cuối cùng: (2)",
        "Đã chết vào lúc: 05 giờ 30 phút, ngày 20 tháng 11 năm 2026",
        "Nơi chết: Tại nhà, thôn Mạc Xá",
        "Nguyên nhân chết: Già yếu",
        "Số Giấy báo tử/Giấy tờ thay thế Giấy báo tử: (4) 05/GBT do Trạm y tế xã Thái Tân cấp "
        "ngày 21 tháng 11 năm 2026",
        "Tôi cam đoan những nội dung khai trên đây là đúng sự thật",
    ):
        assert expected in text


def test_an_unknown_death_notice_kind_strikes_nothing_and_still_prints() -> None:
    """It raised: the death form's own button text ("Giấy báo tử") stopped the receipt."""
    for kind in ("other", "Giấy báo tử", "Không có"):
        text = render("death", {"death_notice_kind": kind, "deceased_name": "Lê Văn Tư"})
        assert "Số Giấy báo tử/Giấy tờ thay thế Giấy báo tử: (4)" in text
        assert "Lê Văn Tư" in text


def test_marital_status_form_has_no_copies_box() -> None:
    values = {
        **REQUESTER,
        "requester_relation": "Bản thân",
        "person_name": "Nguyễn Thị Hằng",
        "marital_status": "Hiện tại chưa đăng ký kết hôn với ai",
        "purpose": "Để làm thủ tục đăng ký kết hôn",
    }
    text = render("marital_status", values)
    for expected in (
        "Quan hệ với người được cấp Giấy xác nhận tình trạng hôn nhân: Bản thân",
        "Đề nghị cấp Giấy xác nhận tình trạng hôn nhân cho người có tên dưới đây:",
        "Tình trạng hôn nhân: (4) Hiện tại chưa đăng ký kết hôn với ai",
        "Mục đích sử dụng Giấy xác nhận tình trạng hôn nhân: (5) Để làm thủ tục đăng ký kết hôn",
    ):
        assert expected in text
    assert "Đề nghị cấp bản sao" not in text


# Keys whose value is not printed verbatim: they are checked in the tests above.
_NOT_VERBATIM = {"copies", "death_notice_kind", "death_time", "death_date", "death_notice_date"}


@pytest.mark.parametrize("kind", KINDS)
def test_every_documented_key_reaches_the_page(kind: str) -> None:
    keys = sorted(DECLARATION_KEYS[kind] - _NOT_VERBATIM)
    values = {key: f"Q{index:02d}Z" for index, key in enumerate(keys)}
    text = render(kind, values)
    missing = [key for key, token in values.items() if token not in text]
    assert missing == []


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown declaration kind"):
        render_declaration_pdf("divorce", {}, "Xã A", "A", SIGNED, date_in_words=date_in_words)


def test_ward_and_already_lowercase_names() -> None:
    assert "Kính gửi: (1) Ủy ban nhân dân phường Hồng Bàng" in pdf_text(
        render_declaration_pdf(
            "birth", {}, "Phường Hồng Bàng", "Hồng Bàng", SIGNED, date_in_words=date_in_words
        )
    )
