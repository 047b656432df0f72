import dataclasses
import statistics
import unicodedata

import pytest

from dialogs.cards import (
    FIRST_LINES,
    FIRST_PAPERS,
    LINE_LENGTH,
    LONG_LINE_LENGTH,
    SCREEN_ROWS,
    brief,
    render_card,
    render_details,
    render_legal,
    render_papers,
    screen_rows,
    shorten,
    split_text,
    utf16_length,
)
from handlers.zalo_client import MAX_TEXT as ZALO_MAX_TEXT
from knowledge.catalogue import load_catalogue
from knowledge.model import Channel, ChannelInfo, Fee, LegalRef, Paper, Procedure
from tests.dialogs.transcript import BIRTH, THAI_TAN

CATALOGUE = load_catalogue()


def one(parts: list[str]) -> str:
    assert len(parts) == 1
    return parts[0]


def details(procedure: Procedure) -> str:
    return one(render_details(procedure, THAI_TAN))


# --- The first answer ------------------------------------------------------------------------


def test_the_first_birth_answer_is_ten_short_lines_of_what_matters() -> None:
    assert render_card(BIRTH, THAI_TAN).splitlines() == [
        "Đăng ký khai sinh",
        "Giấy tờ cần có:",
        "☐ Tờ khai đăng ký khai sinh",
        "☐ Giấy chứng sinh",
        "☐ Căn cước của người đi khai (xuất trình)",
        "Lệ phí: Miễn lệ phí nếu đăng ký trong 60 ngày kể từ ngày sinh",
        "Thời gian: Trong ngày; nộp sau 15 giờ thì trả kết quả ngày làm việc tiếp theo",
        "Nơi nộp: Bộ phận một cửa Xã Thái Tân",
        "Nộp trực tuyến: được. Qua bưu điện: được.",
    ]


def test_every_first_answer_of_the_catalogue_fits_one_phone_screen() -> None:
    counts = []
    for procedure in CATALOGUE.all():
        text = render_card(procedure, THAI_TAN)
        lines = text.splitlines()
        counts.append(len(lines))
        assert len(lines) <= FIRST_LINES, procedure.code
        assert screen_rows(lines) <= SCREEN_ROWS, procedure.code
        for line in lines:
            long = line.startswith(("Lệ phí:", "Thời gian:"))
            assert 0 < len(line) <= (LONG_LINE_LENGTH if long else LINE_LENGTH), procedure.code
        assert sum(line.startswith("☐") for line in lines) <= FIRST_PAPERS, procedure.code
        # one message on every channel: Telegram's 4,096 units, Zalo's 2,000 characters
        assert split_text(text) == [text]
        assert len(text) < ZALO_MAX_TEXT // 2, procedure.code
        assert "Căn cứ pháp lý" not in text
    assert statistics.median(counts) <= 10


def test_more_than_five_papers_shows_five_and_says_how_many_more() -> None:
    papers = tuple(Paper(name=f"Giấy số {n}") for n in range(1, 9))
    text = render_card(Procedure(code="1.000010", name="X", field="F", papers=papers), THAI_TAN)
    shown = [line for line in text.splitlines() if line.startswith("☐")]
    assert shown == [f"☐ Giấy số {n}" for n in range(1, 6)]
    assert "… và 3 giấy khác" in text.splitlines()


def test_papers_needed_only_in_some_cases_wait_for_the_full_list() -> None:
    papers = (
        Paper(name="Đơn đề nghị"),
        Paper(name="Văn bản ủy quyền", note="chỉ khi nhờ người khác nộp thay"),
        Paper(name="Trường hợp ở nước ngoài: giấy tờ hợp pháp hóa"),
        Paper(name="Giấy phép xây dựng (nếu có)"),
    )
    text = render_card(Procedure(code="1.000011", name="X", field="F", papers=papers), THAI_TAN)
    assert [line for line in text.splitlines() if line.startswith("☐")] == ["☐ Đơn đề nghị"]
    assert "… và 3 giấy khác, tùy trường hợp" in text
    # when every paper is such a one, the first ones are shown as they are
    only_cases = papers[1:]
    text = render_card(Procedure(code="1.000012", name="X", field="F", papers=only_cases), THAI_TAN)
    assert sum(line.startswith("☐") for line in text.splitlines()) == 3
    assert "giấy khác" not in text


def test_papers_that_read_the_same_once_shortened_are_shown_once() -> None:
    same = "Bản sao văn bản ủy quyền của các thành viên hộ gia đình cho chủ hộ kinh doanh"
    papers = (Paper(name=same), Paper(name=same + " (bản sao)"), Paper(name="Đơn"))
    text = render_card(Procedure(code="1.000013", name="X", field="F", papers=papers), THAI_TAN)
    assert sum(line.startswith("☐") for line in text.splitlines()) == 2
    assert "giấy khác" not in text


def test_the_first_answer_takes_the_gist_of_long_texts() -> None:
    procedure = Procedure(
        code="1.000014",
        name="Cấp giấy phép xây dựng sửa chữa, cải tạo đối với công trình cấp III, cấp IV",
        field="F",
        papers=(Paper(name="+ Giấy chứng sinh (không có thì văn bản của người làm chứng)"),),
        fee=Fee(text="Lệ phí: - Mức do HĐND tỉnh quyết định (căn cứ TT 85/2019). - Nộp khi"),
        processing_text="Trực tuyến: 20 ngày; Qua bưu điện: 20 ngày",
        handled_by="Công an xã Thái Tân",
        channels=(ChannelInfo(Channel.IN_PERSON),),
    )
    lines = render_card(procedure, THAI_TAN).splitlines()
    assert lines == [
        "Cấp giấy phép xây dựng sửa chữa, cải tạo đối với công…",
        "Giấy tờ cần có:",
        "☐ Giấy chứng sinh",
        "Lệ phí: Mức do HĐND tỉnh quyết định. Nộp khi",
        "Thời gian: Trực tuyến: 20 ngày; Qua bưu điện: 20 ngày",
        "Nơi nộp: Công an xã Thái Tân",
        "Nộp trực tuyến: chưa được.",
    ]


def test_a_bare_procedure_says_what_is_not_known_instead_of_inventing() -> None:
    text = render_card(Procedure(code="1.000002", name="Thủ tục trống", field="F"), THAI_TAN)
    assert text.splitlines() == [
        "Thủ tục trống",
        "Giấy tờ: chưa có thông tin, hãy hỏi cán bộ.",
        "Lệ phí: chưa có thông tin, hãy hỏi cán bộ.",
        "Thời gian: chưa có thông tin, hãy hỏi cán bộ.",
        "Nơi nộp: Bộ phận một cửa Xã Thái Tân",
    ]  # online and post unknown: nothing said rather than a guess


def test_first_answer_fee_and_online_lines_follow_the_data() -> None:
    base = Procedure(code="1.000003", name="X", field="F")

    def card(**changes: object) -> str:
        return render_card(dataclasses.replace(base, **changes), THAI_TAN)  # type: ignore[arg-type]

    assert "Lệ phí: mức do HĐND tỉnh quy định." in card(fee=Fee(text="", set_by_province=True))
    assert "Lệ phí: 8.000 đồng" in card(fee=Fee(text="", amount_vnd=8000))
    assert "Lệ phí: không mất phí." in card(fee=Fee(text="", amount_vnd=0))
    assert "Thời gian: 3 ngày làm việc" in card(processing_days=3)
    partly = card(channels=(ChannelInfo(Channel.ONLINE),), full_online=False)
    assert partly.endswith("Nộp trực tuyến: được một phần.")
    assert card(channels=(ChannelInfo(Channel.POST),)).endswith(
        "Nộp trực tuyến: chưa được. Qua bưu điện: được."
    )


def test_screen_rows_wrap_at_words_like_a_phone() -> None:
    assert screen_rows(["Đăng ký khai sinh"]) == 1
    # the web chat's 19 px text at 360 px: "Thực hiện, điều chỉnh, thôi" is a full row
    assert screen_rows(["Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng"]) == 3
    assert screen_rows(["a", "", "b"]) == 2


def test_brief_keeps_the_first_clause_without_brackets_and_marks_only_a_cut_word() -> None:
    assert brief("Trong ngày; nộp sau 15 giờ thì trả kết quả hôm sau.", 40) == "Trong ngày"
    # a fee's second clause may be the other price: kept, cut at a word if it must be
    fee = "10.000 đồng nếu nộp trực tuyến; 20.000 đồng nếu nộp trực tiếp."
    assert brief(fee, 80, first_clause=False) == fee.rstrip(".")
    assert brief(fee, 50, first_clause=False) == "10.000 đồng nếu nộp trực tuyến; 20.000 đồng nếu…"
    assert brief("Miễn phí (Không)", 40) == "Miễn phí"
    assert brief("8.000 đồng/bản", 40) == "8.000 đồng/bản"
    assert brief("Lệ phí: 50.000 đồng", 40, label="Lệ phí") == "50.000 đồng"
    assert brief("(1.3) Đơn đề nghị cấp phép sửa chữa công trình", 20) == "Đơn đề nghị cấp…"
    assert brief("(chỉ trong ngoặc)", 40) == "(chỉ trong ngoặc)"


# --- The detail screens ----------------------------------------------------------------------


def test_the_full_paper_list_has_every_paper_with_counts_forms_and_notes() -> None:
    text = one(render_papers(BIRTH))
    assert text.startswith("Đăng ký khai sinh\nMã thủ tục: 1.001193\n\n")
    # papers as a checklist; the form named after the paper adds nothing
    assert "Giấy tờ cần nộp:\n☐ Tờ khai đăng ký khai sinh (1 bản chính)\n" in text
    assert "☐ Giấy chứng sinh (1 bản chính)" in text
    assert (
        "Mang theo để xuất trình:\n☐ Căn cước của người đi khai, "
        "hoặc chỉ cần cho biết số định danh cá nhân"
    ) in text
    assert text.index("Giấy chứng sinh") < text.index("Mang theo để xuất trình")


def test_a_differently_named_form_and_a_count_without_kind_are_shown() -> None:
    procedure = Procedure(
        code="1.000001",
        name="X",
        field="F",
        papers=(Paper(name="Đơn đề nghị", count=2, form="Mẫu số 01/TP"),),
    )
    assert "☐ Đơn đề nghị (2 bản), theo mẫu Mẫu số 01/TP" in one(render_papers(procedure))


def test_details_have_summary_fee_time_results_contact_and_ways() -> None:
    text = details(BIRTH)
    assert text.startswith("Đăng ký khai sinh\nMã thủ tục: 1.001193\n\n")
    assert "Đăng ký khai sinh cho trẻ mới sinh tại UBND xã." in text
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
    assert "Căn cứ pháp lý" not in text
    assert text.endswith("Thông tin có thể thay đổi; hãy hỏi cán bộ khi cần.")


def test_details_of_a_bare_procedure_say_what_is_not_known() -> None:
    text = details(Procedure(code="1.000002", name="Thủ tục trống", field="F"))
    assert "Lệ phí: chưa có thông tin, hãy hỏi cán bộ." in text
    assert "Thời gian giải quyết: chưa có thông tin, hãy hỏi cán bộ." in text
    assert "Làm trực tuyến" not in text
    assert "bưu điện" not in text


def test_another_office_is_named_and_the_commune_hotline_kept_for_questions() -> None:
    procedure = Procedure(code="1.000005", name="X", field="F", handled_by="Công an xã Thái Tân")
    text = details(procedure)
    assert "Nơi nộp: Công an xã Thái Tân" in text
    assert "Cần hỏi thêm: Xã Thái Tân, điện thoại 0220 3 755 123" in text
    assert "Thôn Mạc Xá" not in text


def test_detail_online_and_post_lines_follow_the_data() -> None:
    base = Procedure(code="1.000006", name="X", field="F")
    partly = dataclasses.replace(
        base, channels=(ChannelInfo(Channel.ONLINE),), full_online=False, result_by_post=False
    )
    text = details(partly)
    assert "vẫn phải đến cơ quan một số bước" in text
    assert "Nhận kết quả qua bưu điện: không, nhận tại nơi nộp." in text
    online = dataclasses.replace(base, channels=(ChannelInfo(Channel.ONLINE),))
    assert "Làm trực tuyến: nộp được tại dichvucong.gov.vn." in details(online)
    in_person = dataclasses.replace(base, channels=(ChannelInfo(Channel.IN_PERSON),))
    assert "Làm trực tuyến: chưa được, hãy nộp trực tiếp." in details(in_person)


def test_the_legal_basis_lists_every_instrument_and_the_fee_basis() -> None:
    refs = tuple(LegalRef(title=f"Nghị định số {n}/2020/NĐ-CP về việc {n}") for n in range(5))
    procedure = Procedure(
        code="1.000007",
        name="X",
        field="F",
        legal_basis=refs,
        fee=Fee(text="", basis="TT 85/2019/TT-BTC"),
        decision_no="163/QĐ-BTP",
    )
    text = one(render_legal(procedure))
    assert "Căn cứ pháp lý:\n" + "\n".join(f"• {r.title}" for r in refs) in text
    assert "Căn cứ thu lệ phí: TT 85/2019/TT-BTC" in text
    assert "Quyết định công bố thủ tục: 163/QĐ-BTP" in text
    assert "văn bản khác" not in text
    assert "Chưa có thông tin về căn cứ pháp lý" in one(
        render_legal(Procedure(code="1.000008", name="X", field="F"))
    )


@pytest.mark.parametrize("procedure", CATALOGUE.all(), ids=lambda p: p.code)
def test_every_detail_screen_of_the_catalogue_fits_the_message_limit(
    procedure: Procedure,
) -> None:
    papers = render_papers(procedure)
    screens = [papers, render_details(procedure, THAI_TAN), render_legal(procedure)]
    assert all(0 < utf16_length(part) <= 4096 for parts in screens for part in parts)
    listed = [line for part in papers for line in part.splitlines() if line.startswith("☐")]
    assert len(listed) == len(procedure.papers)
    legal = "\n".join(render_legal(procedure))
    assert all(" ".join(ref.title.split())[:40] in legal for ref in procedure.legal_basis)


def test_a_huge_paper_list_is_split_at_line_boundaries_into_messages_of_at_most_4096() -> None:
    papers = tuple(
        Paper(name=f"Giấy tờ số {n} " + "có tên rất dài để thử " * 8, copy_kind="bản sao")
        for n in range(300)
    )
    huge = dataclasses.replace(BIRTH, papers=papers)
    parts = render_papers(huge)
    assert len(parts) > 5
    assert all(0 < utf16_length(part) <= 4096 for part in parts)
    assert parts[0].startswith("Đăng ký khai sinh\nMã thủ tục: 1.001193")
    lines = [line for part in parts for line in part.splitlines()]
    paper_lines = [line for line in lines if line.startswith("☐ Giấy tờ số")]
    # every paper line arrives whole and in order: no line was cut in the middle
    assert paper_lines == [
        f"☐ Giấy tờ số {n} " + ("có tên rất dài để thử " * 8).strip() + " (bản sao)"
        for n in range(300)
    ]
    # so many long names: fewer than five are named, so that the first answer fits a screen
    first = render_card(huge, THAI_TAN).splitlines()
    named = sum(line.startswith("☐") for line in first)
    assert 0 < named < FIRST_PAPERS
    assert f"… và {300 - named} giấy khác" in first
    assert screen_rows(first) <= SCREEN_ROWS


# --- Splitting and shortening ----------------------------------------------------------------


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
