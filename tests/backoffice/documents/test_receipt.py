from dataclasses import replace
from datetime import date, datetime, time

import pytest

from backoffice.calendar import VIETNAM_TZ
from backoffice.documents.receipt import ReceiptData, format_vnd, render_receipt_pdf
from backoffice.documents.vietqr import build_vietqr
from tests.backoffice.pdf_helpers import pdf_image_count, pdf_info, pdf_text

BASE = ReceiptData(
    agency_name="Ủy ban nhân dân xã Thái Tân",
    place="Thái Tân",
    dossier_code="000.00.31.H26-261127-0042",
    applicant_name="Nguyễn Thị Hằng",
    applicant_address="Thôn Mạc Xá, xã Thái Tân, thành phố Hải Phòng",
    applicant_phone="0912 345 678",
    procedure_name="Đăng ký khai sinh",
    papers=("Tờ khai đăng ký khai sinh", "Giấy chứng sinh (bản chính)"),
    processing_days=3,
    received_at=datetime(2026, 11, 27, 9, 15, tzinfo=VIETNAM_TZ),
    appointment_on=date(2026, 12, 2),
    return_method="counter",
    return_place="Bộ phận Một cửa, Trung tâm Phục vụ hành chính công xã Thái Tân",
    slip_number="0042/TN",
    receiving_officer="Trần Văn Đức",
)


def test_slip_carries_the_official_blocks() -> None:
    text = pdf_text(render_receipt_pdf(BASE))
    for expected in (
        "ỦY BAN NHÂN DÂN XÃ THÁI TÂN",
        "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 0042/TN",
        "Thái Tân, ngày 27 tháng 11 năm 2026",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "Mã hồ sơ: 000.00.31.H26-261127-0042",
        "tiếp nhận hồ sơ của: Nguyễn Thị Hằng",
        "Địa chỉ: Thôn Mạc Xá, xã Thái Tân, thành phố Hải Phòng",
        "Số điện thoại: 0912 345 678",
        "Nội dung yêu cầu giải quyết: Đăng ký khai sinh",
        "1. Thành phần hồ sơ nộp gồm: 1) Tờ khai đăng ký khai sinh 2) Giấy chứng sinh (bản chính)",
        "2. Số lượng hồ sơ: 01 (bộ)",
        "3. Thời gian giải quyết hồ sơ theo quy định là: 03 ngày làm việc",
        "4. Thời gian nhận hồ sơ: 09 giờ 15 phút, ngày 27/11/2026",
        "5. Thời gian trả kết quả giải quyết hồ sơ: trong giờ hành chính, ngày 02/12/2026",
        "6. Đăng ký nhận kết quả tại: Bộ phận Một cửa, Trung tâm Phục vụ hành chính công",
        "NGƯỜI NỘP HỒ SƠ",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
        "(Ký và ghi rõ họ tên)",
        "Trần Văn Đức",
    ):
        assert expected in text
    assert "bưu chính" not in text
    assert "Phí, lệ phí" not in text


def test_one_a5_page_with_the_code_as_qr() -> None:
    pdf = render_receipt_pdf(BASE)
    info = pdf_info(pdf)
    assert info["Pages"] == "1"
    assert info["Page size"].startswith("419.53 x 595.28")  # A5 in points
    assert pdf_image_count(pdf) == 1


def test_result_by_post_says_who_pays_postage() -> None:
    data = replace(
        BASE,
        return_method="post",
        return_place="số 12 đường Trần Hưng Đạo, xã Thái Tân, thành phố Hải Phòng",
        appointment_time=time(16, 0),
    )
    text = pdf_text(render_receipt_pdf(data))
    assert "Qua dịch vụ bưu chính công ích, gửi đến địa chỉ: số 12 đường Trần Hưng Đạo" in text
    assert "(cước phí bưu chính do người dân trả)" in text
    assert "16 giờ 00 phút, ngày 02/12/2026" in text


def test_fee_and_payment_qr() -> None:
    data = replace(
        BASE,
        fee_vnd=8000,
        fee_payment="nộp tại quầy hoặc chuyển khoản bằng mã QR.",
        payment_qr=build_vietqr("970415", "0011001932418", 8000, "HS 261127-0042"),
    )
    pdf = render_receipt_pdf(data)
    text = pdf_text(pdf)
    assert "7. Phí, lệ phí: 8.000 đồng" in text
    assert "Cách nộp: nộp tại quầy hoặc chuyển khoản bằng mã QR." in text
    assert pdf_image_count(pdf) == 2


def test_free_procedure_and_same_day() -> None:
    text = pdf_text(render_receipt_pdf(replace(BASE, fee_vnd=0, processing_days=0)))
    assert "7. Phí, lệ phí: Miễn phí" in text
    assert "theo quy định là: trong ngày" in text


def test_no_stated_time_gives_the_procedures_words_and_no_date() -> None:
    mediation = replace(
        BASE,
        procedure_name="Hòa giải tranh chấp đất đai",
        processing_days=None,
        appointment_on=None,
        processing_text="30 ngày nếu gửi đơn qua bưu điện, 40 ngày nếu nộp trực tiếp.",
    )
    text = pdf_text(render_receipt_pdf(mediation))
    assert "theo quy định là: 30 ngày nếu gửi đơn qua bưu điện, 40 ngày nếu nộp trực tiếp." in text
    assert "5. Thời gian trả kết quả giải quyết hồ sơ: cán bộ sẽ hẹn ngày trả sau khi xem" in text
    assert "trong ngày" not in text and "02/12/2026" not in text


def test_long_list_of_papers_flows_onto_a_second_page() -> None:
    papers = tuple(
        f"Giấy tờ số {i} cần nộp kèm theo hồ sơ (bản sao có chứng thực)" for i in range(25)
    )
    pdf = render_receipt_pdf(replace(BASE, papers=papers))
    text = pdf_text(pdf)
    assert int(pdf_info(pdf)["Pages"]) >= 2
    assert "25) Giấy tờ số 24" in text
    assert "NGƯỜI TIẾP NHẬN HỒ SƠ" in text


def test_same_input_same_bytes() -> None:
    assert render_receipt_pdf(BASE) == render_receipt_pdf(BASE)


def test_naive_reception_time_is_refused() -> None:
    with pytest.raises(ValueError):
        render_receipt_pdf(replace(BASE, received_at=datetime(2026, 11, 27, 9, 15)))


def test_format_vnd() -> None:
    assert format_vnd(8000) == "8.000 đồng"
    assert format_vnd(1_250_000) == "1.250.000 đồng"
