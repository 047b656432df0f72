from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.vnwords import date_in_words, month_in_words, number_in_words

_VOCABULARY = {
    "không",
    "một",
    "mốt",
    "hai",
    "ba",
    "bốn",
    "năm",
    "lăm",
    "sáu",
    "bảy",
    "tám",
    "chín",
    "mười",
    "mươi",
    "trăm",
    "linh",
    "nghìn",
}


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "không"),
        (1, "một"),
        (5, "năm"),
        (10, "mười"),
        (11, "mười một"),
        (14, "mười bốn"),
        (15, "mười lăm"),
        (20, "hai mươi"),
        (21, "hai mươi mốt"),
        (24, "hai mươi bốn"),
        (25, "hai mươi lăm"),
        (31, "ba mươi mốt"),
        (55, "năm mươi lăm"),
        (100, "một trăm"),
        (101, "một trăm linh một"),
        (105, "một trăm linh năm"),
        (110, "một trăm mười"),
        (115, "một trăm mười lăm"),
        (121, "một trăm hai mươi mốt"),
        (999, "chín trăm chín mươi chín"),
        (1000, "một nghìn"),
        (1005, "một nghìn không trăm linh năm"),
        (1010, "một nghìn không trăm mười"),
        (1990, "một nghìn chín trăm chín mươi"),
        (2000, "hai nghìn"),
        (2001, "hai nghìn không trăm linh một"),
        (2015, "hai nghìn không trăm mười lăm"),
        (2021, "hai nghìn không trăm hai mươi mốt"),
        (2026, "hai nghìn không trăm hai mươi sáu"),
        (2100, "hai nghìn một trăm"),
        (9999, "chín nghìn chín trăm chín mươi chín"),
    ],
)
def test_number_in_words(number: int, words: str) -> None:
    assert number_in_words(number) == words


@pytest.mark.parametrize("number", [-1, 10_000])
def test_number_out_of_range_is_refused(number: int) -> None:
    with pytest.raises(ValueError):
        number_in_words(number)


def test_every_number_reads_differently() -> None:
    # Two amounts or years must never be written the same way on a form.
    assert len({number_in_words(n) for n in range(10_000)}) == 10_000


@given(st.integers(min_value=0, max_value=9999))
def test_words_come_from_the_number_vocabulary(number: int) -> None:
    words = number_in_words(number).split(" ")
    assert set(words) <= _VOCABULARY
    for before, word in itertools.pairwise(words):
        if word == "mốt":
            assert before == "mươi"  # "mười một", "linh một", never "mười mốt"
        if word == "lăm":
            assert before in ("mươi", "mười")  # "linh năm", never "linh lăm"


@pytest.mark.parametrize("month", [0, 13])
def test_month_out_of_range_is_refused(month: int) -> None:
    with pytest.raises(ValueError):
        month_in_words(month)


@pytest.mark.parametrize(
    ("month", "words"), [(1, "một"), (3, "ba"), (4, "tư"), (10, "mười"), (11, "mười một")]
)
def test_month_in_words(month: int, words: str) -> None:
    assert month_in_words(month) == words


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (date(2026, 3, 15), "Ngày mười lăm, tháng ba, năm hai nghìn không trăm hai mươi sáu"),
        (date(2001, 4, 21), "Ngày hai mươi mốt, tháng tư, năm hai nghìn không trăm linh một"),
        (
            date(1990, 12, 25),
            "Ngày hai mươi lăm, tháng mười hai, năm một nghìn chín trăm chín mươi",
        ),
        (date(2025, 7, 1), "Ngày một, tháng bảy, năm hai nghìn không trăm hai mươi lăm"),
        (date(2024, 2, 29), "Ngày hai mươi chín, tháng hai, năm hai nghìn không trăm hai mươi bốn"),
        (date(2010, 10, 10), "Ngày mười, tháng mười, năm hai nghìn không trăm mười"),
    ],
)
def test_date_in_words(day: date, words: str) -> None:
    assert date_in_words(day) == words
