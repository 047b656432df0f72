from __future__ import annotations

import json

import pytest

from dialogs.addresses import (
    LEGACY_PROVINCES,
    AddressBook,
    CommuneUnit,
    ProvinceUnit,
    parse_address,
)
from dialogs.validators import Invalid, Result, Valid
from knowledge.normalize import normalize

THAI_TAN = "10642"
HAI_PHONG = "31"


@pytest.fixture(scope="module")
def book() -> AddressBook:
    return AddressBook.from_package()


def valid(result: Result) -> Valid:
    assert isinstance(result, Valid), result
    return result


def invalid(result: Result) -> str:
    assert isinstance(result, Invalid), result
    return result.message


# The list ------------------------------------------------------------------------------------


def test_the_2025_list(book: AddressBook) -> None:
    assert len(book.provinces) == 34
    assert len(book.communes) == 3321
    assert all(len(p.code) == 2 and p.code.isdigit() for p in book.provinces)
    assert all(len(c.code) == 5 and c.code.isdigit() for c in book.communes)
    assert book.province(HAI_PHONG) == ProvinceUnit(HAI_PHONG, "Thành phố Hải Phòng")
    assert book.province("04") == ProvinceUnit("04", "Tỉnh Cao Bằng")
    thai_tan = book.commune(THAI_TAN)
    assert thai_tan is not None
    assert thai_tan.full_name == "Xã Thái Tân, Thành phố Hải Phòng"
    assert book.commune("99999") is None


def test_legacy_provinces_point_at_current_ones(book: AddressBook) -> None:
    assert len(LEGACY_PROVINCES) == 29  # 63 before 1 Jul 2025, 34 after
    current = {normalize(p.name) for p in book.provinces}
    for old, code in LEGACY_PROVINCES.items():
        assert book.province(code) is not None, old
        assert all(normalize(old) not in name for name in current), old


# Provinces -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("hai phong", "31"),
        ("Hải Phòng", "31"),
        ("Thành phố Hải Phòng", "31"),
        ("TP Hải Phòng", "31"),
        ("HP", "31"),
        ("hn", "01"),
        ("Hà Nội", "01"),
        ("HCM", "79"),
        ("TPHCM", "79"),
        ("TP.HCM", "79"),
        ("tp hồ chí minh", "79"),
        ("Sài Gòn", "79"),
        ("tinh cao bang", "04"),
        ("Huế", "46"),
        ("Thừa Thiên Huế", "46"),
        ("đắk lắk", "66"),
        ("xã Thái Tân, Hải Phòng", "31"),
    ],
)
def test_find_province(book: AddressBook, typed: str, code: str) -> None:
    matches = book.find_province(typed)
    assert [m.code for m in matches] == [code]
    assert matches[0].score == 100
    assert matches[0].legacy_name == ""


def test_a_merged_province_leads_to_its_new_one(book: AddressBook) -> None:
    [match] = book.find_province("tỉnh Hải Dương")
    assert (match.code, match.name, match.legacy_name) == ("31", "Thành phố Hải Phòng", "Hải Dương")


def test_province_typo_is_ranked_below_exact(book: AddressBook) -> None:
    matches = book.find_province("hai phog")
    assert matches[0].code == "31"
    assert 75 <= matches[0].score < 100


@pytest.mark.parametrize("typed", ["", "ha", "xyzxyz"])
def test_no_province(book: AddressBook, typed: str) -> None:
    assert book.find_province(typed) == []


# Communes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "thai tan hai phong",
        "xa thai tan",
        "Thái Tân, HP",
        "Xã Thái Tân, Thành phố Hải Phòng",
        "thai tan, tp hai phong",
        "xã thái tân thành phố hải phòng",
        "Thai Tan",
    ],
)
def test_find_the_seed_commune(book: AddressBook, typed: str) -> None:
    matches = book.find_commune(typed)
    assert [m.code for m in matches] == [THAI_TAN]
    assert matches[0].province_code == HAI_PHONG
    assert matches[0].name == "Xã Thái Tân"
    assert matches[0].province_name == "Thành phố Hải Phòng"


@pytest.mark.parametrize("typed", ["", "   ", "!!!", "???", ",,,", "😀", "ß", "_"])
def test_text_without_a_word_names_no_commune(book: AddressBook, typed: str) -> None:
    assert book.find_commune(typed) == []
    assert book.find_commune(typed, HAI_PHONG) == []


def test_exact_tone_marks_score_highest(book: AddressBook) -> None:
    assert book.find_commune("Thái Tân, HP")[0].score == 100
    assert book.find_commune("thai tan, hp")[0].score < 100


def test_a_province_alone_is_not_a_commune(book: AddressBook) -> None:
    assert book.find_commune("hai phong") == []


def test_namesakes_in_other_provinces_are_all_returned(book: AddressBook) -> None:
    matches = book.find_commune("Tân Tiến")
    assert [m.name for m in matches].count("Xã Tân Tiến") == 7
    assert [m.name for m in matches].count("Phường Tân Tiến") == 1
    assert len({m.province_code for m in matches}) == 8
    assert len(book.find_commune("Tân Tiến", limit=3)) == 3


def test_minh_tan_is_gone_from_hai_phong(book: AddressBook) -> None:
    # The seed commune's old name lives on elsewhere (Tuyên Quang, Ninh Bình), not in Hải Phòng.
    elsewhere = book.find_commune("xã Minh Tân")
    assert [(m.code, m.province_code) for m in elsewhere] == [("00919", "08"), ("13750", "37")]
    assert book.find_commune("xã Minh Tân, Hải Phòng") == []
    assert book.find_commune("minh tan", province_code=HAI_PHONG) == []


def test_province_code_restricts_the_search(book: AddressBook) -> None:
    assert [m.code for m in book.find_commune("minh tan", province_code="37")] == ["13750"]


def test_the_typed_kind_ranks_first(book: AddressBook) -> None:
    matches = book.find_commune("phường Thái Bình")
    assert matches[0].name == "Phường Thái Bình"
    assert matches[0].province_code == "33"
    assert {m.name for m in matches[1:]} == {"Xã Thái Bình"}


def test_names_that_begin_like_a_unit_word(book: AddressBook) -> None:
    assert book.find_commune("Phường Phương Liệt, Hà Nội")[0].name == "Phường Phương Liệt"
    assert book.find_commune("phuong liet ha noi")[0].name == "Phường Phương Liệt"
    assert book.find_commune("xa xa dung, dien bien")[0].name == "Xã Xa Dung"
    assert book.find_commune("đặc khu Cát Hải")[0].name == "Đặc khu Cát Hải"


def test_same_letters_different_tone_marks_in_one_province(book: AddressBook) -> None:
    marked = book.find_commune("Văn Lăng, Thái Nguyên")
    assert marked[0].name == "Xã Văn Lăng"
    assert marked[0].score > marked[1].score
    unmarked = book.find_commune("van lang, thai nguyen")
    assert {m.name for m in unmarked} == {"Xã Văn Lang", "Xã Văn Lăng"}
    assert unmarked[0].score == unmarked[1].score


def test_unmarked_input_does_not_prefer_unmarked_names(book: AddressBook) -> None:
    unmarked = book.find_commune("xa thanh an, tp hcm")
    assert {m.name for m in unmarked} == {"Xã Thanh An", "Xã Thạnh An"}
    assert unmarked[0].score == unmarked[1].score
    assert book.find_commune("Xã Thanh An, Hồ Chí Minh")[0].name == "Xã Thanh An"


def test_a_typo_is_found_but_ranked_below_exact(book: AddressBook) -> None:
    [match] = book.find_commune("thai tam, hai phong")
    assert match.code == THAI_TAN
    assert 80 <= match.score < 96


def test_every_commune_is_found_by_its_name_and_province(book: AddressBook) -> None:
    for commune in book.communes:
        province = book.province(commune.province_code)
        assert province is not None
        line = f"{commune.name}, {province.name}"
        assert book.find_commune(line)[0].code == commune.code, line
        unmarked = book.find_commune(normalize(line))
        best = [m.code for m in unmarked if m.score == unmarked[0].score]
        assert commune.code in best, line


def test_a_small_book_built_from_plain_records() -> None:
    small = AddressBook(
        [ProvinceUnit("31", "Thành phố Hải Phòng")], [CommuneUnit("10642", "Xã Thái Tân", "31")]
    )
    assert [m.code for m in small.find_commune("thai tan hp")] == ["10642"]
    assert small.find_province("HN") == []  # abbreviations of absent provinces are ignored


# Whole address lines -------------------------------------------------------------------------

SEED = {
    "street": "",
    "hamlet": "thôn Mạc Xá",
    "commune_code": THAI_TAN,
    "commune_name": "Xã Thái Tân",
    "province_code": HAI_PHONG,
    "province_name": "Thành phố Hải Phòng",
}


def test_the_seed_address(book: AddressBook) -> None:
    result = valid(parse_address("thôn Mạc Xá, xã Thái Tân, Hải Phòng", book))
    assert result.value == SEED
    assert result.display == "thôn Mạc Xá, xã Thái Tân, thành phố Hải Phòng"
    assert json.loads(json.dumps(result.value)) == SEED


@pytest.mark.parametrize(
    ("typed", "street", "hamlet"),
    [
        ("thôn Mạc Xá, xã Thái Tân, HP", "", "thôn Mạc Xá"),
        ("thôn Mạc Xá xã Thái Tân thành phố Hải Phòng", "", "thôn Mạc Xá"),
        ("thon mac xa, xa thai tan, hai phong", "", "thon mac xa"),
        ("Mạc Xá Thái Tân HP", "Mạc Xá", ""),  # "Xá" with its mark is not "xã"
        (
            "số 5 đường Lê Lợi, thôn Mạc Xá, xã Thái Tân, TP Hải Phòng",
            "số 5 đường Lê Lợi",
            "thôn Mạc Xá",
        ),
        ("xã Thái Tân, thôn Mạc Xá, Hải Phòng", "", "thôn Mạc Xá"),
        ("Xã Thái Tân, Thành phố Hải Phòng", "", ""),
        ("tổ dân phố 3, Thái Tân, Hải Phòng", "", "tổ dân phố 3"),
    ],
)
def test_address_shapes(book: AddressBook, typed: str, street: str, hamlet: str) -> None:
    value = valid(parse_address(typed, book)).value
    assert value["commune_code"] == THAI_TAN
    assert value["province_code"] == HAI_PHONG
    assert (value["street"], value["hamlet"]) == (street, hamlet)


def test_old_address_with_a_district_is_explained(book: AddressBook) -> None:
    message = invalid(parse_address("xã Minh Tân, huyện Nam Sách, tỉnh Hải Dương", book))
    assert "Từ 1/7/2025 không còn huyện" in message
    assert "Tỉnh Hải Dương nay thuộc thành phố Hải Phòng" in message
    assert "ví dụ: thôn Mạc Xá, xã Thái Tân, thành phố Hải Phòng" in message


@pytest.mark.parametrize(
    "typed",
    [
        "xa minh tan, huyen nam sach, tinh hai duong",
        "phường Trần Phú, quận Hoàng Mai, Hà Nội",
        "thị trấn Nam Sách, Hải Phòng",
    ],
)
def test_any_district_level_word_is_explained(book: AddressBook, typed: str) -> None:
    assert "không còn huyện" in invalid(parse_address(typed, book))


def test_a_commune_named_like_a_district_word_is_not_a_district(book: AddressBook) -> None:
    assert valid(parse_address("quan son, lang son", book)).value["commune_name"] == "Xã Quan Sơn"


def test_merged_province_is_explained(book: AddressBook) -> None:
    message = invalid(parse_address("xã Thái Tân, tỉnh Hải Dương", book))
    assert "Từ 1/7/2025 tỉnh Hải Dương đã nhập vào thành phố Hải Phòng" in message
    assert "ví dụ" in message


def test_minh_tan_address_asks_for_the_new_name(book: AddressBook) -> None:
    message = invalid(parse_address("thôn Mạc Xá, xã Minh Tân, Hải Phòng", book))
    assert "không thấy xã, phường “xã Minh Tân” ở thành phố Hải Phòng" in message
    assert "nhiều xã đã sáp nhập và đổi tên" in message
    assert "ví dụ" in message


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "chưa ghi địa chỉ"),
        (" , ", "chưa ghi địa chỉ"),
        ("xã Thái Tân", "ghi thêm tên tỉnh hoặc thành phố"),
        ("thôn Mạc Xá", "ghi thêm tên tỉnh hoặc thành phố"),
        ("Hải Phòng", "ghi thêm tên xã hoặc phường ở thành phố Hải Phòng"),
        ("thai tam, hai phong", "Có phải là xã Thái Tân?"),
        ("van lang, thai nguyen", "có cả xã Văn Lang và xã Văn Lăng"),
        ("thanh an, ho chi minh", "có cả xã Thanh An và xã Thạnh An"),
    ],
)
def test_incomplete_addresses(book: AddressBook, typed: str, says: str) -> None:
    message = invalid(parse_address(typed, book))
    assert says in message
    assert "ví dụ" in message


def test_the_example_comes_from_the_caller(book: AddressBook) -> None:
    message = invalid(parse_address("Hà Nội", book, example="phường Hoàn Kiếm, Hà Nội"))
    assert message.endswith("ví dụ: phường Hoàn Kiếm, Hà Nội.")


def test_every_commune_parses_as_an_address(book: AddressBook) -> None:
    for commune in book.communes:
        province = book.province(commune.province_code)
        assert province is not None
        value = valid(parse_address(f"thôn Đông, {commune.name}, {province.name}", book)).value
        assert (value["commune_code"], value["hamlet"]) == (commune.code, "thôn Đông")
