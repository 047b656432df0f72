import pytest

from backoffice.domain.postal import (
    is_valid_s10,
    looks_like_s10,
    normalise_item_number,
    s10_check_digit,
)


@pytest.mark.parametrize(
    ("serial", "check"),
    [
        ("00071758", 1),
        ("96633102", 0),
        ("76129403", 8),
        ("00071761", 8),
        ("00071759", 5),
        ("47110815", 1),
    ],
)
def test_check_digit_vectors(serial: str, check: int) -> None:
    assert s10_check_digit(serial) == check


@pytest.mark.parametrize(
    "code", ["EB000717618HK", "EB000717595HK", "EE471108151FR", " ee471108151fr"]
)
def test_valid_codes(code: str) -> None:
    assert is_valid_s10(code)


@pytest.mark.parametrize("code", ["EB000717594HK", "EB00071759HK", "E1000717595HK", "", "VN123"])
def test_invalid_codes(code: str) -> None:
    assert not is_valid_s10(code)


def test_shape_without_check() -> None:
    assert looks_like_s10("EB000717594HK")
    assert not looks_like_s10("VNP-2026-00042")


@pytest.mark.parametrize("serial", ["1234567", "123456789", "1234567a", "１２３４５６７８"])
def test_check_digit_rejects_bad_serial(serial: str) -> None:
    with pytest.raises(ValueError):
        s10_check_digit(serial)


def test_item_numbers_typed_in_groups_are_normalised() -> None:
    assert normalise_item_number(" ee 000 717 581 vn ") == "EE000717581VN"
    assert is_valid_s10(normalise_item_number("EE 000 717 581 VN"))
