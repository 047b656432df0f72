"""How villagers really ask, on the bundled catalogue: long stories, situations, chat shorthand,
variants, ambiguity and refusals. The questions are written here, not taken from a question set."""

from __future__ import annotations

import json

import pytest

from knowledge.catalogue import Catalogue, load_catalogue
from knowledge.model import Procedure
from knowledge.search import Searcher, answer_jsonl


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def searcher(catalogue: Catalogue) -> Searcher:
    return Searcher(catalogue)


def _top(searcher: Searcher, query: str) -> str | None:
    hits = searcher.search(query)
    return hits[0].code if hits else None


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (
            "chào anh chị ạ, em là Lan ở thôn Đông, nhà em năm nay làm ăn cũng khó khăn, em với "
            "anh nhà em tính cưới vào tháng sau, em muốn đăng ký kết hôn thì cần mang những gì ạ",
            "1.000894",
        ),
        (
            "dạ em chào cán bộ, bố em mới mất tuần trước ở nhà, cả nhà lo hậu sự xong rồi, "
            "giờ em phải làm giấy gì ạ",
            "1.000656",
        ),
    ],
)
def test_a_long_story_finds_its_procedure(searcher: Searcher, query: str, code: str) -> None:
    assert _top(searcher, query) == code


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("con em sinh bên Đài Loan, giờ cả nhà về quê rồi mà cháu chưa có giấy tờ gì", "2.000528"),
        ("đất ông bà để lại chưa có sổ, giờ muốn làm thì sao", "1.013978"),
        ("hàng xóm xây tường lấn sang đất nhà em nửa mét", "1.012812"),
        ("lợn nhà em chết hết vì dịch tả có được hỗ trợ không", "1.013997"),
        ("con trai em lấy vợ muốn tách khẩu ra ở riêng", "1.010038"),
        ("em nghỉ làm công ty về quê, muốn lấy tiền bảo hiểm", "1.001613"),
    ],
)
def test_a_situation_finds_its_procedure(searcher: Searcher, query: str, code: str) -> None:
    assert _top(searcher, query) == code


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("dk ket hon cần nhung gi v", "1.000894"),
        ("kahi sinh cho con", "1.001193"),
        ("dăng ký kêt hôn", "1.000894"),
        ("quán ế quá em muốn dẹp tiệm luôn thì làm sao", "1.001266"),
        ("làm sổ đỏ cần giấy tờ gì", "1.013978"),
    ],
)
def test_shorthand_typos_and_spoken_words(searcher: Searcher, query: str, code: str) -> None:
    assert _top(searcher, query) == code


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("con gái em lấy chồng Hàn Quốc thì đăng ký kết hôn ở đâu", "2.000806"),
        ("cấp lại giấy chứng nhận đăng ký hộ kinh doanh", "2.000575"),
        ("hợp tác xã đang sử dụng đất muốn cấp sổ đỏ cho tổ chức", "1.012753"),
        ("xóa tạm trú cho người thuê trọ đã chuyển đi", "1.010028"),
    ],
)
def test_the_variant_is_ranked_first(searcher: Searcher, query: str, code: str) -> None:
    assert _top(searcher, query) == code


def test_an_ambiguous_question_offers_two_or_three(searcher: Searcher) -> None:
    codes = [hit.code for hit in searcher.search("căn cước cho con")]
    assert 2 <= len(codes) <= 3
    assert {"1.014061", "1.014062"} <= set(codes)


@pytest.mark.parametrize(
    "query",
    [
        "chào bạn, hôm nay trời đẹp quá nhỉ, bạn có biết giá vàng hôm nay không",
        "con em bị sốt cao từ hôm qua thì uống thuốc gì",
        "cho em hỏi cách nấu canh chua cá lóc",
        "tối nay đội tuyển đá mấy giờ",
    ],
)
def test_out_of_scope_is_still_refused(searcher: Searcher, query: str) -> None:
    assert searcher.search(query) == []


def test_jsonl_keeps_its_shape(searcher: Searcher) -> None:
    lines = list(answer_jsonl(searcher, ["căn cước cho con", "", "giá vàng hôm nay"]))
    rows = [json.loads(line) for line in lines]
    assert [set(row) for row in rows] == [{"query", "results"}] * 2
    assert all(set(hit) == {"code", "name", "score"} for hit in rows[0]["results"])
    assert rows[1]["results"] == []


def test_every_phrasing_names_a_known_procedure(catalogue: Catalogue) -> None:
    phrased = [p for p in catalogue if p.spoken or p.situations]
    assert len(phrased) >= 120
    assert all(text.strip() for p in phrased for text in (*p.spoken, *p.situations))


def test_the_plain_birth_registration_wins_outright(searcher: Searcher) -> None:
    # It tied with the late registration of adults (1.004772), whose alias "chưa có giấy khai
    # sinh" read as "giấy khai sinh" once "chưa" and "có" were dropped: "Ý bạn là..." then.
    hits = searcher.search("lam giay khai sinh can gi")
    assert [hit.code for hit in hits] == ["1.001193"]
    assert hits[0].sure


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("chồng em người Hàn Quốc, con sinh ở bệnh viện huyện, làm khai sinh thế nào", "2.000528"),
        (
            "bà em nằm một chỗ không lên xã được, xã có cử người đến nhà làm khai tử không",
            "1.000419",
        ),
        ("căn cước của em bị gãy đôi, chữ mờ hết", "1.014063"),
        ("thay đổi hộ kinh doanh sang tên vợ", "2.000720"),
        ("dạ em chào cán bộ xã ạ, em ở thôn Đông, cho em hỏi đăng ký tạm trú cần gì ạ", "1.004194"),
        ("lm giấy ks cho bé cần j ạ", "1.001193"),
        ("ddawng kys khai sinh cho con", "1.001193"),
    ],
)
def test_variants_stories_and_slips(searcher: Searcher, query: str, code: str) -> None:
    assert _top(searcher, query) == code


@pytest.mark.parametrize(
    "query",
    [
        "vay tiền ngân hàng lãi suất bao nhiêu",
        "mua xe máy trả góp cần giấy tờ gì",
        "đổi bằng lái xe máy ở đâu",
        "làm hộ chiếu đi Hàn Quốc ở đâu",
        "tuổi dần năm nay làm nhà được không",
    ],
)
def test_topics_the_commune_does_not_handle_are_refused(searcher: Searcher, query: str) -> None:
    assert searcher.search(query) == []


def test_a_topic_the_best_procedure_is_about_is_not_refused(searcher: Searcher) -> None:
    assert _top(searcher, "bị mất hộ chiếu thì trình báo ở đâu") == "1.010386"


@pytest.mark.parametrize(
    "query",
    [
        # A situation of 2.000740 mentions the account its pension goes to; a situation is no
        # licence to answer banking questions.
        "chuyển tiền qua điện thoại bị nhầm số tài khoản",
        "hàng xóm mượn tiền không trả, em kiện ra tòa được không",
        "mua xe máy loại nào bền",
        "mua bảo hiểm xe máy bắt buộc ở đâu",
        "cách nuôi tôm sú cho nhanh lớn",
        "tiền điện tháng này sao cao thế",
    ],
)
def test_a_topic_mentioned_only_in_a_situation_is_still_refused(
    searcher: Searcher, query: str
) -> None:
    assert searcher.search(query) == []


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("e mún tạm ngưng kd 3 tháng", "1.001570"),
        ("bố e mất r, lm giấy chứng tử ở đâu v", "1.000656"),
        ("đăng kí kết hôn vs ng nc ngoài", "2.000806"),
        ("hưởng ts khi sinh con", "2.000693"),
        ("xin xn tình trạng hn", "1.004873"),
        ("mk mún đki kết hôn", "1.000894"),
    ],
)
def test_more_chat_shorthand(searcher: Searcher, query: str, code: str) -> None:
    assert _top(searcher, query) == code


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("người lao động nghỉ làm về quê, giờ em muốn dẹp quán luôn", "1.001266"),
        ("em đi đẻ muốn tạm nghỉ bán vài tháng", "1.001570"),
        ("nhà có người lớn tuổi mất ở nhà, làm giấy chứng tử thế nào", "1.000656"),
        ("con gái em đi lấy chồng xã khác, chuyển khẩu đi thế nào", "1.003197"),
        ("đất cha ông để lại chưa có giấy tờ gì, giờ muốn làm sổ", "1.013978"),
        ("anh em trong nhà thỏa thuận chia nhà đất bố mẹ để lại", "2.001406"),
        ("người khuyết tật muốn được trợ cấp hàng tháng", "1.001776"),
        ("xe máy cũ nát bán phế liệu thì nộp lại biển số thế nào", "1.013123"),
        ("nhận nuôi đứa cháu mồ côi làm con nuôi", "2.001263"),
        ("ở bên kia biên giới người Lào muốn nhận cháu bé ở xã làm con nuôi", "1.003005"),
    ],
)
def test_situations_of_village_life(searcher: Searcher, query: str, code: str) -> None:
    assert _top(searcher, query) == code


def test_an_organisation_is_not_read_as_a_household(searcher: Searcher) -> None:
    # "tớ" (I) was a stop word and folds like "tổ": "tổ chức" lost its "tổ", so the variant
    # word was never seen and the household's first land certificate won.
    assert _top(searcher, "cấp giấy chứng nhận quyền sử dụng đất lần đầu cho tổ chức") == (
        "1.012753"
    )
    assert _top(searcher, "làm sổ đỏ lần đầu cho nhà em") == "1.013978"


def test_a_pair_spelt_otherwise_is_another_word() -> None:
    """Typed with marks, "công nhân" (a worker) is not the catalogue's "công nhận"
    (recognition), though both fold to "cong nhan"; typed without marks it may be either."""
    catalogue = Catalogue(
        [
            Procedure(code="9.000001", name="Công nhận hộ thoát nghèo", field="Giảm nghèo"),
            Procedure(code="9.000002", name="Cấp giấy phép nhân giống", field="Trồng trọt"),
        ]
    )
    searcher = Searcher(catalogue)
    marked = searcher.search("công nhân thoát nghèo")
    plain = searcher.search("cong nhan thoat ngheo")
    assert [hit.code for hit in plain] == ["9.000001"]
    assert not marked or marked[0].score < plain[0].score - 0.1


def test_no_pair_across_the_story(searcher: Searcher) -> None:
    assert "ban dong" not in searcher.query_terms("bán hàng không được nữa muốn đóng")
    assert "can cuoc" in searcher.query_terms("làm căn cước cho con")


@pytest.mark.parametrize(
    "query",
    [
        "hộ chếu của em sắp hết hạn thì gia hạn ở đâu",  # a slip in the outside topic
        "em làm mất thẻ atm ngân hàng thì làm lại ở đâu",
        "công nhân nghỉ việc có được nhận trợ cấp thất nghiệp không",
    ],
)
def test_more_questions_the_commune_cannot_answer(searcher: Searcher, query: str) -> None:
    assert searcher.search(query) == []


def test_a_plain_name_with_an_unmarked_word_is_found(searcher: Searcher) -> None:
    hits = searcher.search("công nhận người lao động có thu nhập thấp")
    assert hits and hits[0].code == "3.000412" and hits[0].score > 0.9


@pytest.mark.parametrize(
    "query",
    [
        "con em lên lớp 6 thì đóng học phí ở đâu",
        "công ty nợ lương 3 tháng em đòi ở đâu",
        "xin giấy khám sức khỏe để đi làm ở đâu",
        "giá thuê phòng ở xã mình bao nhiêu",
        "lắp mạng internet cho nhà em",
        "mở tài khoản ngân hàng cho con",
    ],
)
def test_the_school_the_employer_the_hospital_and_the_bank_are_not_the_commune(
    searcher: Searcher, query: str
) -> None:
    assert searcher.search(query) == []


@pytest.mark.parametrize(
    ("query", "code"),
    [
        # ... but a paper the school, the employer or the bank asks for is the commune's.
        ("chứng thực học bạ để nộp hồ sơ nhập học", "2.000815"),
        ("sao y bằng tốt nghiệp để nộp hồ sơ xin việc", "2.000815"),
        ("lương hưu của bố em nhận qua tài khoản ngân hàng được không", "2.000740"),
        ("sinh con ở bệnh viện huyện thì làm khai sinh ở đâu", "1.001193"),
    ],
)
def test_a_paper_for_the_school_or_the_bank_is_still_found(
    searcher: Searcher, query: str, code: str
) -> None:
    assert _top(searcher, query) == code


def test_a_private_company_is_refused_a_divorce_recorded_from_abroad_is_found(
    searcher: Searcher,
) -> None:
    # A private company is registered by the province, not by the cooperative's notice of
    # founding a company, which shares most of its words.
    assert searcher.search("thành lập doanh nghiệp tư nhân thì nộp hồ sơ ở đâu") == []
    # A divorce granted by a foreign court is the commune's to record, "tòa án" and all.
    query = "ly hôn ở tòa án bên Nhật rồi, về quê ghi chú ly hôn vào sổ ở xã thế nào"
    assert _top(searcher, query) == "2.000554"


def test_every_outside_topic_named_must_be_the_procedures_own(searcher: Searcher) -> None:
    # 2.000554 (a divorce granted abroad) names "ly hôn" and "tòa án"; the court's fee for a
    # divorce by consent is the court's business, not a reason to offer it.
    assert searcher.search("ly hôn thuận tình thì án phí hết bao nhiêu") == []
    assert searcher.search("xây nhà cấp 4 trọn gói bây giờ bao nhiêu tiền một mét vuông") == []
    assert _top(searcher, "xin giấy phép xây nhà cấp 4 ở xã") == "1.013225"


def test_everyday_words_are_not_read_as_slips_for_catalogue_words(searcher: Searcher) -> None:
    terms = searcher.query_terms("con em thi vào lớp 10, nộp giấy khen")
    assert "lop" in terms and "lon" not in terms
    assert "khen" in terms and "kien" not in terms
