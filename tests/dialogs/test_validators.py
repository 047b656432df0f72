from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.validators import (
    FEMALE,
    ID_PROVINCES,
    MALE,
    Invalid,
    Result,
    Valid,
    format_date,
    id_sex_century_digit,
    mask_id,
    parse_choice,
    parse_date,
    parse_id_number,
    parse_name,
    parse_number,
    parse_phone,
    parse_sex,
    parse_text,
    parse_yes_no,
    to_e164_vn,
)

TODAY = date(2026, 3, 15)


def valid(result: Result) -> Valid:
    assert isinstance(result, Valid), result
    return result


def invalid(result: Result) -> str:
    assert isinstance(result, Invalid), result
    return result.message


# Names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("nguyễn văn AN", "Nguyễn Văn An"),
        ("  TRẦN   thị   bích  ", "Trần Thị Bích"),
        ("lê thị b", "Lê Thị B"),
        ("h'hen niê", "H'Hen Niê"),
        ("ksor h’bia", "Ksor H'Bia"),
        ("Lò", "Lò"),  # one-word names exist in some ethnic groups
        ("ĐINH NGỌC ÁNH", "Đinh Ngọc Ánh"),
        ("Nguye\u0302\u0303n Va\u0306n An", "Nguyễn Văn An"),  # decomposed input → NFC
    ],
)
def test_name_is_tidied(typed: str, name: str) -> None:
    result = valid(parse_name(typed))
    assert result.value == name
    assert result.display == name


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "chưa ghi họ tên"),
        ("   ", "chưa ghi họ tên"),
        ("Nguyễn Văn 2", "không có chữ số"),
        ("An", None),
        ("A", "ngắn quá"),
        ("Lê @ An", "@"),
        ("Nguyễn Văn An.", "."),
        ("Đinh - An", "chỉ gồm chữ cái"),
        ("Nguyễn " + "a" * 100, "dài quá"),
    ],
)
def test_bad_names_are_refused_with_an_example(typed: str, says: str | None) -> None:
    result = parse_name(typed)
    if says is None:
        assert isinstance(result, Valid)
        return
    message = invalid(result)
    assert says in message
    assert "ví dụ" in message


@given(st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậ AĐ", max_size=60))
def test_a_tidied_name_stays_the_same(text: str) -> None:
    result = parse_name(text)
    if isinstance(result, Valid):
        assert valid(parse_name(result.value)).value == result.value


# Dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("15/03/1990", "1990-03-15"),
        ("1/2/90", "1990-02-01"),
        ("01-02-1990", "1990-02-01"),
        ("01.02.1990", "1990-02-01"),
        ("1 2 1990", "1990-02-01"),
        ("2 tháng 1 năm 1990", "1990-01-02"),
        ("ngày 2 tháng 1 năm 1990", "1990-01-02"),
        ("Ngày 02 tháng 01 năm 1990.", "1990-01-02"),
        ("2 thang 1 nam 1990", "1990-01-02"),
        ("sinh ngày mùng 5 tháng 6 năm 2001", "2001-06-05"),
        ("15031990", "1990-03-15"),
        ("1990-03-15", "1990-03-15"),
        ("29/02/2024", "2024-02-29"),
        ("1/1/26", "2026-01-01"),  # two-digit year: this century when not in the future
        ("1/12/26", "1926-12-01"),  # ... otherwise the last one
        ("5/5/05", "2005-05-05"),
        ("15/03/2026", "2026-03-15"),  # today itself is allowed
    ],
)
def test_dates_people_type(typed: str, iso: str) -> None:
    result = valid(parse_date(typed, TODAY))
    assert result.value == iso
    assert result.display == format_date(date.fromisoformat(iso))


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "dạng ngày/tháng/năm"),
        ("hôm qua", "dạng ngày/tháng/năm"),
        ("15/03", "ghi thêm năm"),
        ("31/02/1990", "Không có ngày 31/02/1990: tháng 2 năm 1990 chỉ có 28 ngày"),
        ("29/2/23", "tháng 2 năm 2023 chỉ có 28 ngày"),
        ("31/4/2000", "tháng 4 năm 2000 chỉ có 30 ngày"),
        ("0/4/2000", "Không có ngày 00/04/2000"),
        ("1/13/1990", "Không có tháng 13"),
        ("16/03/2026", "chưa tới, hôm nay mới là 15/03/2026"),
        ("1/1/1890", "Năm 1890 sớm quá"),
        ("1/1/990", "4 chữ số"),
        ("15/03/1990 10:30", "dạng ngày/tháng/năm"),
    ],
)
def test_impossible_dates_are_refused_with_the_reason(typed: str, says: str) -> None:
    message = invalid(parse_date(typed, TODAY))
    assert says in message
    assert "ví dụ" in message


def test_future_dates_allowed_when_asked() -> None:
    assert valid(parse_date("20/4/2026", TODAY, past_only=False)).value == "2026-04-20"
    assert valid(parse_date("20/4/27", TODAY, past_only=False)).value == "2027-04-20"


def test_min_year_is_configurable() -> None:
    assert "sớm quá" in invalid(parse_date("1/1/2000", TODAY, min_year=2010))
    assert isinstance(parse_date("1/1/1850", TODAY, min_year=1800), Valid)


def test_max_age_days_bounds_how_long_ago() -> None:
    assert isinstance(parse_date("14/01/2026", TODAY, max_age_days=60), Valid)
    message = invalid(parse_date("13/01/2026", TODAY, max_age_days=60))
    assert "đã quá 60 ngày" in message
    assert "từ 14/01/2026" in message


_past_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@given(_past_dates)
def test_any_past_date_round_trips(day: date) -> None:
    for typed in (
        format_date(day),
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day:02d}-{day.month:02d}-{day.year}",
        f"ngày {day.day} tháng {day.month} năm {day.year}",
        day.isoformat(),
    ):
        result = valid(parse_date(typed, TODAY))
        assert result.value == day.isoformat()
        assert result.display == format_date(day)
        json.dumps(result.value)


@given(_past_dates)
def test_two_digit_years_are_never_in_the_future(day: date) -> None:
    result = parse_date(f"{day.day}/{day.month}/{day.year % 100:02d}", TODAY)
    if isinstance(result, Valid):  # 29/02 of a leap year may not exist a century apart
        parsed = date.fromisoformat(result.value)
        assert parsed <= TODAY
        assert parsed.year % 100 == day.year % 100
        assert parsed > TODAY.replace(year=TODAY.year - 100)


@given(st.dates(min_value=TODAY + timedelta(days=1)))
def test_any_future_date_is_refused(day: date) -> None:
    assert "chưa tới" in invalid(parse_date(format_date(day), TODAY))


# Sex -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "sex"),
    [
        ("nam", MALE),
        ("Nam", MALE),
        ("con trai", MALE),
        ("bé trai", MALE),
        ("đàn ông", MALE),
        ("nữ", FEMALE),
        ("Nu", FEMALE),
        ("gái", FEMALE),
        ("con gai", FEMALE),
        ("phụ nữ", FEMALE),
    ],
)
def test_sex(typed: str, sex: str) -> None:
    assert valid(parse_sex(typed)).value == sex


@pytest.mark.parametrize("typed", ["", "abc", "nam nữ", "không biết"])
def test_unclear_sex(typed: str) -> None:
    assert "Nam hoặc Nữ" in invalid(parse_sex(typed))


# ID numbers ----------------------------------------------------------------------------------


def test_province_table_has_the_63_legacy_codes() -> None:
    assert len(ID_PROVINCES) == 63
    assert ID_PROVINCES["030"] == "Hải Dương"
    assert ID_PROVINCES["031"] == "Hải Phòng"
    assert all(len(code) == 3 and code.startswith("0") for code in ID_PROVINCES)


@pytest.mark.parametrize(
    "typed", ["030190012389", "0301 9001 2389", "030.190.012.389", " 030-190-012-389 "]
)
def test_id_number_separators_are_dropped(typed: str) -> None:
    result = valid(parse_id_number(typed))
    assert result.value == "030190012389"


def test_full_width_digits_from_some_keyboards() -> None:
    assert valid(parse_id_number("０３０１９００１２３８９")).value == "030190012389"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "chưa ghi số định danh"),
        ("03019001238a", "chỉ gồm chữ số"),
        ("123456789", "chứng minh nhân dân cũ"),
        ("03019001238", "bạn đã nhập 11 số"),
        ("0301900123891", "bạn đã nhập 13 số"),
        ("999190012389", "Ba số đầu (999)"),
        ("003190012389", "Ba số đầu (003)"),
    ],
)
def test_id_number_shape_errors(typed: str, says: str) -> None:
    message = invalid(parse_id_number(typed))
    assert says in message
    assert "ví dụ" in message


@pytest.mark.parametrize(
    ("number", "birth", "sex", "says"),
    [
        ("030190012389", date(1990, 1, 1), "Nam", "Với người Nam sinh năm 1990, số thứ tư là 0"),
        ("030090012389", date(1990, 1, 1), "Nữ", "Với người Nữ sinh năm 1990, số thứ tư là 1"),
        ("030290012389", None, "Nữ", "số lẻ"),
        ("030390012389", None, "Nam", "số chẵn"),
        ("030390012389", date(1990, 1, 1), None, "số thứ tư là 0 hoặc 1"),
        ("030390012389", date(1990, 1, 1), "Nữ", "sinh năm 2000–2099"),
        ("030105012389", date(2005, 1, 1), "Nữ", "Với người sinh năm 2005, số thứ tư là 3"),
        ("030190012389", date(1991, 6, 1), "Nữ", "hai số cuối của năm sinh (1991), tức là 91"),
        ("030100012389", date(1900, 6, 1), "Nữ", None),
        ("030390012389", date(1899, 6, 1), "Nữ", "Năm sinh 1899 không hợp"),
    ],
)
def test_id_number_against_sex_and_birth_date(
    number: str, birth: date | None, sex: str | None, says: str | None
) -> None:
    result = parse_id_number(number, birth_date=birth, sex=sex)
    if says is None:
        assert isinstance(result, Valid)
    else:
        assert says in invalid(result)


def test_id_sex_must_be_a_known_value() -> None:
    with pytest.raises(ValueError):
        parse_id_number("030190012389", sex="x")


@st.composite
def _people(draw: st.DrawFn) -> tuple[str, date, str]:
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
    sex = draw(st.sampled_from([MALE, FEMALE]))
    province = draw(st.sampled_from(sorted(ID_PROVINCES)))
    serial = draw(st.integers(min_value=0, max_value=999_999))
    digit = id_sex_century_digit(birth.year, sex)
    return f"{province}{digit}{birth.year % 100:02d}{serial:06d}", birth, sex


@given(_people())
def test_generated_id_passes_and_a_flipped_sex_digit_fails(person: tuple[str, date, str]) -> None:
    number, birth, sex = person
    assert valid(parse_id_number(number, birth_date=birth, sex=sex)).value == number
    flipped = number[:3] + str(int(number[3]) ^ 1) + number[4:]
    assert "giới tính" in invalid(parse_id_number(flipped, birth_date=birth, sex=sex))
    other_year = f"{(birth.year + 1) % 100:02d}"
    wrong_year = number[:4] + other_year + number[6:]
    assert "năm sinh" in invalid(parse_id_number(wrong_year, birth_date=birth, sex=sex))


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_masked_id_keeps_only_the_ends(number: str) -> None:
    masked = mask_id(number)
    assert masked == number[:4] + "******" + number[-2:]
    assert number[4:10] not in masked or number[4:10] == "******"


def test_mask_id_example_and_short_input() -> None:
    assert mask_id("030190012389") == "0301******89"
    assert mask_id("0301 9001 2389") == "0301******89"
    assert mask_id("12345") == "*****"


# Phones --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "phone"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("+84 (0) 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0084912345678", "0912345678"),
        ("912345678", "0912345678"),
        ("0321234567", "0321234567"),
        ("0561234567", "0561234567"),
        ("0701234567", "0701234567"),
        ("0861234567", "0861234567"),
        ("02203123456", "02203123456"),  # Hải Dương landline
        ("024 3825 1234", "02438251234"),  # Hà Nội landline
        ("+84 24 3825 1234", "02438251234"),
    ],
)
def test_phone_numbers(typed: str, phone: str) -> None:
    assert valid(parse_phone(typed)).value == phone


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "chưa ghi số điện thoại"),
        ("abc", "chỉ gồm chữ số"),
        ("091234567", "bạn đã nhập 9 số"),
        ("09123456789", "bạn đã nhập 11 số"),
        ("0243825123", "Số máy bàn có 11 chữ số"),
        ("0112345678", "không phải số điện thoại Việt Nam"),
        ("0412345678", "không phải số điện thoại Việt Nam"),
        ("+1 555 123 4567", "không phải số điện thoại Việt Nam"),
        ("0", "bạn đã nhập 1 số"),
    ],
)
def test_bad_phone_numbers(typed: str, says: str) -> None:
    message = invalid(parse_phone(typed))
    assert says in message
    assert "ví dụ" in message


@given(
    st.sampled_from("35789"),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.sampled_from(["0{}", "+84{}", "84{}", "+84 {}", "{}"]),
)
def test_mobile_numbers_round_trip(second: str, rest: str, shape: str) -> None:
    national = f"0{second}{rest}"
    typed = shape.format(national[1:])
    assert valid(parse_phone(typed)).value == national
    assert to_e164_vn(typed) == "84" + national[1:]


def test_e164_for_zalo() -> None:
    assert to_e164_vn("0912345678") == "84912345678"
    assert to_e164_vn("0912 345 678") == "84912345678"
    with pytest.raises(ValueError):
        to_e164_vn("12345")


# Yes / no ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "có",
        "Co",
        "CÓ",
        "ừ",
        "u",
        "uh",
        "vâng",
        "vang",
        "đúng",
        "Đúng rồi",
        "yes",
        "ok",
        "OK!",
        "1",
        "dạ",
        "dạ vâng",
        "có ạ",
        "đồng ý",
        "được",
    ],
)
def test_yes(typed: str) -> None:
    result = valid(parse_yes_no(typed))
    assert result.value is True
    assert result.display == "Có"


@pytest.mark.parametrize(
    "typed",
    [
        "không",
        "khong",
        "Không ạ",
        "ko",
        "k",
        "no",
        "chưa",
        "chua",
        "0",
        "dạ không",
        "sai",
        "không đúng",
        "không phải",
        "không có",
    ],
)
def test_no(typed: str) -> None:
    result = valid(parse_yes_no(typed))
    assert result.value is False
    assert result.display == "Không"


@pytest.mark.parametrize("typed", ["", "không biết", "có thể", "maybe", "2", "để tôi xem"])
def test_unclear_yes_no(typed: str) -> None:
    assert "Có hoặc Không" in invalid(parse_yes_no(typed))


# Choices -------------------------------------------------------------------------------------

RELATIONS = ("Cha", "Mẹ", "Ông bà nội", "Ông bà ngoại", "Người khác")


@pytest.mark.parametrize(
    ("typed", "chosen"),
    [
        ("2", "Mẹ"),
        (" 3. ", "Ông bà nội"),
        ("số 4", "Ông bà ngoại"),
        ("chọn 1", "Cha"),
        ("Mẹ", "Mẹ"),
        ("me", "Mẹ"),
        ("MẸ.", "Mẹ"),
        ("ong ba noi", "Ông bà nội"),
        ("bà ngoại", "Ông bà ngoại"),
        ("tôi là mẹ", "Mẹ"),
        ("nguoi khac", "Người khác"),
        ("nguoi khak", "Người khác"),  # a typo, close to one choice only
    ],
)
def test_choice(typed: str, chosen: str) -> None:
    result = valid(parse_choice(typed, RELATIONS))
    assert result.value == chosen
    assert result.display == chosen


def test_choice_prefers_the_exact_tone_marks() -> None:
    assert valid(parse_choice("năm", ["Nam", "Năm"])).value == "Năm"
    assert valid(parse_choice("Nam", ["Nam", "Năm"])).value == "Nam"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("7", "Chỉ có 5 mục"),
        ("0", "Chỉ có 5 mục"),
        ("ông bà", "hợp với nhiều mục"),
        ("cha mẹ", "hợp với nhiều mục"),
        ("xyz", "chưa rõ bạn chọn mục nào"),
        ("Ong ba ngaoi", "chưa rõ bạn chọn mục nào"),  # a typo as close to "nội" as "ngoại"
        ("", "chưa rõ bạn chọn mục nào"),
    ],
)
def test_unclear_choice_lists_the_options(typed: str, says: str) -> None:
    message = invalid(parse_choice(typed, RELATIONS))
    assert says in message
    assert "1. Cha\n2. Mẹ\n3. Ông bà nội\n4. Ông bà ngoại\n5. Người khác" in message


def test_a_choice_that_is_a_number_is_matched_by_its_text() -> None:
    assert valid(parse_choice("5", ["1", "5"])).value == "5"


def test_choice_needs_choices() -> None:
    with pytest.raises(ValueError):
        parse_choice("1", [])


# Numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("2", 2),
        ("2 bản", 2),
        ("cho tôi 3 bản nhé", 3),
        ("hai bản", 2),
        ("Một", 1),
        ("ba", 3),
        ("bốn", 4),
        ("tư", 4),
        ("năm bản", 5),
        ("mười", 10),
        ("mười lăm", 15),
        ("hai mươi mốt", 21),
        ("1.000", 1000),
        ("０２", 2),
    ],
)
def test_numbers(typed: str, number: int) -> None:
    result = valid(parse_number(typed, min_value=0, max_value=2000))
    assert result.value == number
    assert result.display == str(number)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "nhập một con số"),
        ("nhiều", "nhập một con số"),
        ("2 hoặc 3", "chỉ nhập một con số"),
        ("hai hoặc ba", "chỉ nhập một con số"),
        ("2.5", "số nguyên"),
        ("2,5", "số nguyên"),
        ("-1", "Số nhỏ nhất là 1"),
        ("0", "Số nhỏ nhất là 1"),
        ("11", "Số lớn nhất là 10"),
        ("mười một", "Số lớn nhất là 10"),
    ],
)
def test_bad_numbers(typed: str, says: str) -> None:
    message = invalid(parse_number(typed, min_value=1, max_value=10))
    assert says in message
    assert "ví dụ 2" in message


@given(st.integers(min_value=1, max_value=10_000))
def test_any_number_in_range_round_trips(number: int) -> None:
    assert valid(parse_number(str(number), min_value=1, max_value=10_000)).value == number


# Free text -----------------------------------------------------------------------------------


def test_text_is_tidied_and_bounded() -> None:
    assert valid(parse_text("  Bà   nội \n", max_length=20)).value == "Bà nội"
    assert "chưa ghi gì" in invalid(parse_text("   ", max_length=20))
    assert "dài quá (21 ký tự, tối đa 20)" in invalid(parse_text("x" * 21, max_length=20))
    assert "ít nhất 3 ký tự" in invalid(parse_text("ab", max_length=20, min_length=3))


# Every value goes into JSON conversation state -----------------------------------------------


@pytest.mark.parametrize(
    "result",
    [
        parse_name("nguyễn văn an"),
        parse_date("1/2/1990", TODAY),
        parse_id_number("030190012389"),
        parse_phone("0912345678"),
        parse_yes_no("có"),
        parse_choice("1", RELATIONS),
        parse_number("2", min_value=0, max_value=5),
        parse_text("x", max_length=5),
        parse_sex("nữ"),
    ],
)
def test_values_are_json_serialisable(result: Result) -> None:
    value = valid(result).value
    assert json.loads(json.dumps(value)) == value
