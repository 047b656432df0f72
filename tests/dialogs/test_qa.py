import pytest

from dialogs.qa import Talk, classify, fold, pick, query_of, sure
from knowledge.catalogue import Catalogue
from knowledge.model import Procedure
from knowledge.search import SearchHit
from tests.dialogs.transcript import BIRTH, BIRTH_AGAIN, MARRIAGE, hit

CATALOGUE = Catalogue(
    (
        BIRTH,
        BIRTH_AGAIN,
        MARRIAGE,
        Procedure(code="1.000999", name="Mới", field="F", replaces=("1.000111",)),
    )
)


def test_fold_drops_case_marks_and_punctuation() -> None:
    assert fold("  Cảm ƠN bạn!!  ") == "cam on ban"
    assert fold("Đăng ký   khai-sinh?") == "dang ky khai sinh"


@pytest.mark.parametrize(
    ("text", "talk"),
    [
        ("/start", Talk.MENU),
        ("Menu", Talk.MENU),
        ("bắt đầu", Talk.MENU),
        ("Xin chào", Talk.GREETING),
        ("chào em", Talk.GREETING),
        ("bạn ơi", Talk.GREETING),
        ("Cảm ơn bạn nhiều ạ!", Talk.THANKS),
        ("cám ơn", Talk.THANKS),
        ("thanks", Talk.THANKS),
        ("OK", Talk.OK),
        ("dạ vâng", Talk.OK),
        ("👍", Talk.OK),
        ("Tạm biệt nhé", Talk.BYE),
        ("làm giấy khai sinh", None),
        ("chào bạn, cho hỏi làm giấy khai sinh cần gì", None),
        ("ok cho hỏi đăng ký kết hôn", None),
        ("cảm ơn, còn khai tử thì sao", None),
    ],
)
def test_classify_tells_small_talk_from_questions(text: str, talk: Talk | None) -> None:
    assert classify(text) is talk


def test_query_is_tidied_and_bounded() -> None:
    assert query_of("  làm   giấy\nkhai sinh ") == "làm giấy khai sinh"
    assert len(query_of("x " * 1000)) == 300


def test_pick_one_strong_hit() -> None:
    assert pick([hit(BIRTH, 0.95), hit(BIRTH_AGAIN, 0.6)], CATALOGUE) == (BIRTH,)


def test_pick_close_hits_to_choose_from_best_first() -> None:
    hits = [hit(BIRTH_AGAIN, 0.75), hit(BIRTH, 0.8), hit(MARRIAGE, 0.5)]
    assert pick(hits, CATALOGUE) == (BIRTH, BIRTH_AGAIN)


def test_pick_nothing_when_nothing_is_known() -> None:
    assert pick([], CATALOGUE) == ()
    assert pick([SearchHit("9.999999", "Đã bỏ", 0.9)], CATALOGUE) == ()


def test_pick_counts_a_replaced_code_once_as_its_successor() -> None:
    hits = [SearchHit("1.000111", "Cũ", 0.9), SearchHit("1.000999", "Mới", 0.88)]
    assert [p.code for p in pick(hits, CATALOGUE)] == ["1.000999"]


def test_a_lone_guess_is_asked_about_not_answered() -> None:
    guess = SearchHit(code=BIRTH.code, name=BIRTH.name, score=0.43, sure=False)
    assert pick([guess], CATALOGUE) == (BIRTH,)
    assert not sure([guess])
    assert sure([SearchHit(code=BIRTH.code, name=BIRTH.name, score=0.9)])
    assert not sure([])
