import pytest

from backoffice.documents.vietqr import (
    VietQRTransfer,
    build_vietqr,
    crc16_ccitt_false,
    fold_ascii,
    parse_tlv,
    qr_png,
    read_vietqr,
    verify,
)

GOLDEN_VIETINBANK = (
    "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA5303704"
    "54061200005802VN62170813ung ho lu lut6304C15C"
)
GOLDEN_ACB_STATIC = (
    "00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA53037045802VN6304AE9F"
)
GOLDEN_ACB_DYNAMIC = (
    "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA5303704540510000"
    "5802VN62150811Chuyen tien630453E6"
)


def test_crc_check_value() -> None:
    assert crc16_ccitt_false(b"123456789") == "29B1"


def test_golden_strings_reproduced_exactly() -> None:
    assert build_vietqr("970415", "0011001932418", 120000, "ung ho lu lut") == GOLDEN_VIETINBANK
    assert build_vietqr("970416", "257678859", None, "") == GOLDEN_ACB_STATIC
    assert build_vietqr("970416", "257678859", 10000, "Chuyen tien") == GOLDEN_ACB_DYNAMIC


def test_parse_golden_nested() -> None:
    top = parse_tlv(GOLDEN_VIETINBANK)
    assert top["00"] == "01"
    assert top["01"] == "12"
    assert top["53"] == "704"
    assert top["54"] == "120000"
    assert top["58"] == "VN"
    assert top["63"] == "C15C"
    merchant = parse_tlv(top["38"])
    assert merchant == {"00": "A000000727", "01": merchant["01"], "02": "QRIBFTTA"}
    assert parse_tlv(merchant["01"]) == {"00": "970415", "01": "0011001932418"}
    assert parse_tlv(top["62"]) == {"08": "ung ho lu lut"}


def test_vietnamese_purpose_is_folded_and_cut() -> None:
    payload = build_vietqr("970415", "0011001932418", 50000, "Lệ phí đăng ký khai sinh Đỗ Thị Hằng")
    assert payload.isascii()
    assert verify(payload)
    transfer = read_vietqr(payload)
    assert transfer == VietQRTransfer("970415", "0011001932418", 50000, "Le phi dang ky khai sinh")
    assert len(transfer.purpose) <= 25


def test_fold_ascii() -> None:
    assert fold_ascii("Đường Ưng Bạch, Hưng Yên") == "Duong Ung Bach, Hung Yen"
    assert fold_ascii("  a\tb\n") == "a b"


def test_round_trip_static_and_dynamic() -> None:
    for amount in (None, 1, 2_000_000):
        transfer = read_vietqr(build_vietqr("970422", "123ABC", amount, "HS 000.00.31.H26"))
        assert transfer == VietQRTransfer("970422", "123ABC", amount, "HS 000.00.31.H26")


def test_verify_detects_tampering() -> None:
    assert verify(GOLDEN_ACB_DYNAMIC)
    assert verify(GOLDEN_ACB_DYNAMIC[:-4] + GOLDEN_ACB_DYNAMIC[-4:].lower())
    tampered = GOLDEN_ACB_DYNAMIC.replace("5405100005", "5405900005")
    assert not verify(tampered)
    assert not verify(GOLDEN_ACB_DYNAMIC[:-1])
    assert not verify("")


@pytest.mark.parametrize(
    ("bank_bin", "account", "amount"),
    [("97041", "1", None), ("970415", "", None), ("970415", "1" * 20, None), ("970415", "1", 0)],
)
def test_build_rejects_bad_input(bank_bin: str, account: str, amount: int | None) -> None:
    with pytest.raises(ValueError):
        build_vietqr(bank_bin, account, amount, "")


def test_parse_tlv_rejects_truncated() -> None:
    with pytest.raises(ValueError):
        parse_tlv("000201010")


def test_qr_png_is_a_png() -> None:
    png = qr_png(GOLDEN_ACB_STATIC)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
