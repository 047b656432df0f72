import dataclasses
import unicodedata

from dialogs.cards import render_card, shorten, split_text, utf16_length
from knowledge.model import Channel, ChannelInfo, Fee, LegalRef, Paper, Procedure
from tests.dialogs.transcript import BIRTH, THAI_TAN


def card(procedure: Procedure) -> str:
    parts = render_card(procedure, THAI_TAN)
    assert len(parts) == 1
    return parts[0]


def test_birth_card_has_everything_a_villager_needs() -> None:
    text = card(BIRTH)
    assert text.startswith("Đăng ký khai sinh\nMã thủ tục: 1.001193\n\n")
    assert "Đăng ký khai sinh cho trẻ mới sinh tại UBND xã." in text
    # papers as a checklist; the form named after the paper adds nothing
    assert "Giấy tờ cần nộp:\n☐ Tờ khai đăng ký khai sinh (1 bản chính)\n" in text
    assert "☐ Giấy chứng sinh (1 bản chính)" in text
    assert (
        "Mang theo để xuất trình:\n☐ Căn cước của người đi khai, "
        "hoặc chỉ cần cho biết số định danh cá nhân"
    ) in text
    assert text.index("Giấy chứng sinh") < text.index("Mang theo để xuất trình")
    assert "Lệ phí: Miễn lệ phí nếu đăng ký trong 60 ngày kể từ ngày sinh." in text
    assert "Mức do HĐND tỉnh quy định." in text
    assert "Được miễn:\n• Hộ nghèo\n• Người khuyết tật" in text
    assert "Thời gian giải quyết: Trong ngày; nộp sau 15 giờ" in text
    assert "Bạn nhận được: Giấy khai sinh" in text
    assert "Nơi nộp: Bộ phận một cửa Xã Thái Tân" in text
    assert "Địa chỉ: Thôn Mạc Xá, xã Thái Tân" in text
    assert "Giờ làm việc: Sáng 7:30–11:30" in text
    assert "Điện thoại: 0220 3 755 123" in text
    assert "Làm trực tuyến: được, làm trọn trên mạng tại dichvucong.gov.vn." in text
    assert "Gửi hồ sơ qua bưu điện: được." in text
    assert "Nhận kết quả qua bưu điện: được." in text
    assert "Căn cứ pháp lý: Luật Hộ tịch 60/2014/QH13." in text
    assert text.endswith("Thông tin có thể thay đổi; hãy hỏi cán bộ khi cần.")


def test_a_differently_named_form_and_a_count_without_kind_are_shown() -> None:
    procedure = Procedure(
        code="1.000001",
        name="X",
        field="F",
        papers=(Paper(name="Đơn đề nghị", count=2, form="Mẫu số 01/TP"),),
    )
    assert "☐ Đơn đề nghị (2 bản), theo mẫu Mẫu số 01/TP" in card(procedure)


def test_bare_procedure_says_what_is_not_known_instead_of_inventing() -> None:
    text = card(Procedure(code="1.000002", name="Thủ tục trống", field="F"))
    assert "Giấy tờ: chưa có thông tin, hãy hỏi cán bộ." in text
    assert "Lệ phí: chưa có thông tin, hãy hỏi cán bộ." in text
    assert "Thời gian giải quyết: chưa có thông tin, hãy hỏi cán bộ." in text
    assert "Làm trực tuyến" not in text  # unknown: say nothing rather than guess
    assert "bưu điện" not in text
    assert "Căn cứ pháp lý" not in text


def test_fee_set_only_by_the_province_and_fixed_amounts() -> None:
    base = Procedure(code="1.000003", name="X", field="F")
    by_province = dataclasses.replace(base, fee=Fee(text="", set_by_province=True))
    assert "Lệ phí: mức do HĐND tỉnh quy định." in card(by_province)
    fixed = dataclasses.replace(base, fee=Fee(text="", amount_vnd=8000))
    assert "Lệ phí: 8.000 đồng" in card(fixed)
    free = dataclasses.replace(base, fee=Fee(text="", amount_vnd=0))
    assert "Lệ phí: không mất phí." in card(free)


def test_working_days_when_there_is_no_processing_text() -> None:
    base = Procedure(code="1.000004", name="X", field="F")
    assert "Thời gian giải quyết: 3 ngày làm việc" in card(
        dataclasses.replace(base, processing_days=3)
    )
    assert "Thời gian giải quyết: trong ngày" in card(dataclasses.replace(base, processing_days=0))


def test_another_office_is_named_and_the_commune_hotline_kept_for_questions() -> None:
    procedure = Procedure(code="1.000005", name="X", field="F", handled_by="Công an xã Thái Tân")
    text = card(procedure)
    assert "Nơi nộp: Công an xã Thái Tân" in text
    assert "Cần hỏi thêm: Xã Thái Tân, điện thoại 0220 3 755 123" in text
    assert "Thôn Mạc Xá" not in text


def test_online_and_post_lines_follow_the_data() -> None:
    base = Procedure(code="1.000006", name="X", field="F")
    partly = dataclasses.replace(
        base, channels=(ChannelInfo(Channel.ONLINE),), full_online=False, result_by_post=False
    )
    text = card(partly)
    assert "vẫn phải đến cơ quan một số bước" in text
    assert "Nhận kết quả qua bưu điện: không, nhận tại nơi nộp." in text
    online = dataclasses.replace(base, channels=(ChannelInfo(Channel.ONLINE),))
    assert "Làm trực tuyến: nộp được tại dichvucong.gov.vn." in card(online)
    in_person = dataclasses.replace(base, channels=(ChannelInfo(Channel.IN_PERSON),))
    assert "Làm trực tuyến: chưa được, hãy nộp trực tiếp." in card(in_person)


def test_legal_basis_is_brief() -> None:
    refs = tuple(
        LegalRef(title=f"Nghị định số {n}/2020/NĐ-CP " + "rất dài " * 30) for n in range(5)
    )
    text = card(Procedure(code="1.000007", name="X", field="F", legal_basis=refs))
    line = next(li for li in text.splitlines() if li.startswith("Căn cứ pháp lý"))
    assert line.endswith("và 2 văn bản khác.")
    assert line.count("…") == 3
    assert len(line) < 400


def test_a_huge_card_is_split_at_line_boundaries_into_messages_of_at_most_4096() -> None:
    papers = tuple(
        Paper(name=f"Giấy tờ số {n} " + "có tên rất dài để thử " * 8, copy_kind="bản sao")
        for n in range(300)
    )
    huge = dataclasses.replace(BIRTH, papers=papers)
    parts = render_card(huge, THAI_TAN)
    assert len(parts) > 5
    assert all(0 < utf16_length(part) <= 4096 for part in parts)
    assert parts[0].startswith("Đăng ký khai sinh\nMã thủ tục: 1.001193")
    assert parts[-1].endswith("Thông tin có thể thay đổi; hãy hỏi cán bộ khi cần.")
    lines = [line for part in parts for line in part.splitlines()]
    paper_lines = [line for line in lines if line.startswith("☐ Giấy tờ số")]
    # every paper line arrives whole and in order: no line was cut in the middle
    assert paper_lines == [
        f"☐ Giấy tờ số {n} " + ("có tên rất dài để thử " * 8).strip() + " (bản sao)"
        for n in range(300)
    ]


def test_split_prefers_paragraphs_then_lines_then_words() -> None:
    paragraphs = ["a" * 30, "b" * 30, "c" * 30]
    assert split_text("\n\n".join(paragraphs), limit=70) == [
        "a" * 30 + "\n\n" + "b" * 30,
        "c" * 30,
    ]
    lines = "\n".join(["x" * 30, "y" * 30, "z" * 30])
    assert split_text(lines, limit=70) == ["x" * 30 + "\n" + "y" * 30, "z" * 30]
    words = " ".join(["w" * 10] * 10)
    parts = split_text(words, limit=25)
    assert all(len(p) <= 25 for p in parts)
    assert " ".join(parts) == words


def test_split_cuts_a_giant_word_and_counts_emoji_as_two_units() -> None:
    assert split_text("x" * 10_000) == ["x" * 4096, "x" * 4096, "x" * 1808]
    emoji = "😀" * 3000  # 6,000 UTF-16 units
    parts = split_text(emoji)
    assert [utf16_length(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == emoji


def test_split_normalises_decomposed_vietnamese_first() -> None:
    decomposed = unicodedata.normalize("NFD", "Đăng ký khai sinh ")
    text = decomposed * 220  # 3,960 characters composed, 4,400 decomposed
    assert len(text) > 4096
    parts = split_text(text)
    assert len(parts) == 1
    assert unicodedata.is_normalized("NFC", parts[0])


def test_split_of_blank_text_is_nothing() -> None:
    assert split_text("  \n\n ") == []


def test_shorten_cuts_at_a_word_and_marks_the_cut() -> None:
    assert shorten("Đăng ký khai sinh", 60) == "Đăng ký khai sinh"
    short = shorten("Thủ tục chứng thực hợp đồng, giao dịch liên quan đến tài sản", 30)
    assert short == "Thủ tục chứng thực hợp đồng…"
    assert len(short) <= 30
