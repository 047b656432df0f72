from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.dossier_code import DossierCode, format_code, parse_code


def test_format() -> None:
    assert format_code("000.00.31.H26", date(2026, 11, 27), 42) == "000.00.31.H26-261127-0042"


@pytest.mark.parametrize(
    ("agency", "seq"),
    [("000.00.31.h26", 1), ("00.00.31.H26", 1), ("000.00.31.H26", 0), ("000.00.31.H26", 10000)],
)
def test_format_rejects_bad_parts(agency: str, seq: int) -> None:
    with pytest.raises(ValueError):
        format_code(agency, date(2026, 1, 5), seq)


@pytest.mark.parametrize(
    "text",
    [
        "000.00.31.H26-261127-0042",
        "000.00.31.h26-261127-0042",
        "  000.00.31.H26 - 261127 - 0042 ",
        "000 . 00 . 31 . H26-261127-0042",
        "000.00.31.H26–261127–0042",
        "Mã hồ sơ của tôi là 000.00.31.h26-261127-0042 ạ",
    ],
)
def test_parse_tolerates_what_people_type(text: str) -> None:
    assert parse_code(text) == DossierCode("000.00.31.H26", date(2026, 11, 27), 42)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hồ sơ khai sinh",
        "000.00.31.H26-261327-0042",  # month 13
        "000.00.31.H26-260230-0042",  # 30 February
        "000.00.31.H26-261127-0000",  # sequence starts at 1
        "000.00.31.H26-261127-00421",  # five-digit sequence
        "1000.00.31.H26-261127-0042",
    ],
)
def test_parse_rejects_malformed(text: str) -> None:
    assert parse_code(text) is None


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    seq=st.integers(min_value=1, max_value=9999),
    letter=st.sampled_from("ABGHKT"),
)
def test_round_trip(day: date, seq: int, letter: str) -> None:
    code = format_code(f"000.00.31.{letter}26", day, seq)
    parsed = parse_code(code)
    assert parsed is not None
    assert parsed.text == code
