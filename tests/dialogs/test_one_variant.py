"""A procedure with one obvious variant answers at once (issue #11): the common ways a
villager asks for the papers the commune files most are one card, not «Ý bạn là thủ tục
nào?» between two entries of the catalogue (the bundled one, searched as the app does)."""

from __future__ import annotations

import pytest

from dialogs import qa
from knowledge.catalogue import DATA_DIR, load_catalogue
from knowledge.search import Searcher

CATALOGUE = load_catalogue(DATA_DIR)


@pytest.fixture(scope="module")
def searcher() -> Searcher:
    return Searcher(CATALOGUE)


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("lam giay khai sinh cho con can gi", "1.001193"),
        ("khai sinh", "1.001193"),
        ("nộp hồ sơ khai sinh", "1.001193"),
        ("khai sinh cho cháu", "1.001193"),
        ("đăng ký khai tử", "1.000656"),
        ("đăng ký kết hôn", "1.000894"),
        ("xin giấy xác nhận độc thân", "1.004873"),
        ("xin bản sao giấy khai sinh", "2.000635"),
        ("đăng ký nhận cha con", "1.001022"),
        ("đăng ký giám hộ", "1.004837"),
    ],
)
def test_a_common_question_gets_one_answer_not_which_one(
    searcher: Searcher, question: str, code: str
) -> None:
    hits = searcher.search(qa.query_of(question), limit=qa.SEARCH_LIMIT)
    found = qa.pick(hits, CATALOGUE)
    assert [p.code for p in found] == [code]
    assert qa.sure(hits)
