"""Folding and query rewriting: what a citizen types becomes the catalogue's words."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.normalize import (
    BREAK,
    Synonyms,
    TypoCorrector,
    load_synonyms,
    marked_tokens,
    normalize,
    tokens,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đăng ký khai sinh", "dang ky khai sinh"),
        ("ĐĂNG KÝ KẾT HÔN!!!", "dang ky ket hon"),
        ("làm giấy khai sinh, cần gì?", "lam giay khai sinh can gi"),
        ("  Xác   nhận\ttình trạng\nhôn nhân ", "xac nhan tinh trang hon nhan"),
        ("Hòa giải (tranh chấp) đất đai.", "hoa giai tranh chap dat dai"),
        ("thẻ BHYT/CCCD - 6 tuổi", "the bhyt cccd 6 tuoi"),
        ("Ủy ban nhân dân xã Thái Tân", "uy ban nhan dan xa thai tan"),
    ],
)
def test_normalize_folds_marks_case_and_punctuation(text: str, folded: str) -> None:
    assert normalize(text) == folded


def test_decomposed_input_folds_like_composed() -> None:
    composed = "Giấy xác nhận tình trạng hôn nhân của bà Đặng Thị Ửng"
    assert normalize(unicodedata.normalize("NFD", composed)) == normalize(composed)


@given(st.text())
def test_normalize_gives_plain_words_and_is_stable(text: str) -> None:
    folded = normalize(text)
    assert all(ch.isascii() and (ch.isalnum() or ch == " ") for ch in folded)
    assert "  " not in folded
    assert folded == folded.strip()
    assert normalize(folded) == folded


@pytest.fixture(scope="module")
def synonyms() -> Synonyms:
    return load_synonyms()


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("dk ket hon", "dang ky ket hon"),
        ("đk kh cần giấy tờ gì", "dang ky ket hon"),
        ("gks cho con", "giay khai sinh"),
        ("cccd", "the can cuoc"),
        ("nhập khẩu cho con", "dang ky thuong tru con"),
        ("xin giấy xác nhận độc thân", "giay xac nhan tinh trang hon nhan"),
        ("công chứng chữ ký", "chung thuc chu ky"),
        ("báo tử ở đâu", "khai tu"),
        ("xây nhà có cần xin phép không", "giay phep xay dung nha rieng le phep"),
        ("mất giấy khai sinh thì làm sao", "ban sao giay khai sinh"),
        ("khai sanh", "khai sinh"),
    ],
)
def test_village_words_become_catalogue_words(
    synonyms: Synonyms, question: str, words: str
) -> None:
    assert " ".join(synonyms.query_words(question)) == words


def test_question_words_and_small_talk_leave_nothing(synonyms: Synonyms) -> None:
    for text in ("thủ tục cần gì, ở đâu, bao nhiêu tiền, mất bao lâu", "xin chào", "cảm ơn", "ok"):
        assert synonyms.query_words(text) == [], text


def test_a_village_phrase_matches_across_filler_words(synonyms: Synonyms) -> None:
    assert synonyms.query_words("bố tôi mới mất") == ["khai", "tu"]


def test_village_words_do_not_rewrite_catalogue_text(synonyms: Synonyms) -> None:
    # In a customs procedure "nhập khẩu" is import, not permanent residence.
    words = synonyms.catalogue_words("Thủ tục hải quan đối với hàng nhập khẩu")
    assert words == ["hai", "quan", "doi", "hang", "nhap", "khau"]
    # Abbreviations do apply, so "BHYT" in a name meets "bảo hiểm y tế" in a question.
    assert synonyms.catalogue_words("Cấp thẻ BHYT") == ["cap", "the", "bao", "hiem", "y", "te"]


def test_rules_come_from_data() -> None:
    rules = Synonyms.from_toml(
        '[words]\n"tkx" = "thẻ căn cước"\n[phrases]\n"làm thẻ" = "cấp thẻ"\n'
        '[stop]\nwords = ["nhé"]\n'
    )
    assert rules.query_words("làm tkx nhé") == ["cap", "the", "can", "cuoc"]


def test_unknown_sections_and_bad_values_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown sections"):
        Synonyms.from_toml('[word]\n"dk" = "đăng ký"\n')
    with pytest.raises(ValueError, match="must be a string"):
        Synonyms.from_toml('[words]\n"dk" = 1\n')
    with pytest.raises(ValueError, match="empty after folding"):
        Synonyms.from_toml('[phrases]\n"?!" = "gì"\n')


def test_shipped_rules_never_fold_away_catalogue_words(synonyms: Synonyms) -> None:
    # Folding merges words; a stop word that folds like a catalogue word would erase it.
    for word in tokens("tử tịch hộ thẻ căn chứng sao tạm vắng đăng ký mai táng hội chủ chi tháng"):
        assert word not in synonyms.stop, word


def test_typo_corrector_fixes_one_slip_in_long_words() -> None:
    corrector = TypoCorrector({"khai": 10, "sinh": 8, "thuong": 5, "tru": 5}, protected=["vang"])
    assert corrector.correct("khia") == "khai"  # two letters swapped
    assert corrector.correct("thuog") == "thuong"  # one letter missing
    assert corrector.correct("sinhh") == "sinh"
    assert corrector.correct("tru") == "tru"
    assert corrector.correct("tra") == "tra"  # short: another real syllable, not a typo
    assert corrector.correct("vang") == "vang"  # a real word the catalogue lacks
    assert corrector.correct("kkkhai") == "kkkhai"  # two edits away
    assert "khai" in corrector


def test_rules_tell_apart_words_that_fold_alike() -> None:
    # "đổi họ" (a surname) and "đổi hộ" (a household) fold to the same letters; a question
    # typed with marks meets only the rule spelt like it, one typed without meets either.
    rules = Synonyms.from_toml('[phrases]\n"đổi họ" = "cải chính"\n"cưới" = "kết hôn"\n')
    assert rules.query_words("thay đổi hộ kinh doanh") == ["thay", "doi", "ho", "kinh", "doanh"]
    assert rules.query_words("muốn đổi họ cho con") == ["muon", "cai", "chinh", "cho", "con"]
    assert rules.query_words("muon doi ho cho con") == ["muon", "cai", "chinh", "cho", "con"]
    assert rules.query_words("chị ở cuối xóm") == ["chi", "o", "cuoi", "xom"]
    assert rules.query_words("sắp cưới vợ") == ["sap", "ket", "hon", "vo"]


def test_marked_tokens_keep_the_letters_beside_the_folded_words() -> None:
    assert marked_tokens("Đổi HỘ, ho") == (["doi", "ho", "ho"], ["đôi", "hô", ""])


def test_typo_corrector_reads_telex_leftovers() -> None:
    corrector = TypoCorrector({"dang": 9, "ky": 9, "giay": 5, "cuoc": 3, "chung": 3, "thuc": 3})
    assert corrector.correct_all(["ddawng", "kys", "giaays"]) == ["dang", "ky", "giay"]
    assert corrector.correct("cuwowcs") == "cuoc"


def test_typo_corrector_reads_a_word_with_its_neighbours() -> None:
    vocabulary = {"thai": 2, "tai": 9, "san": 5, "ho": 9, "khau": 3, "kha": 4, "can": 5}
    pairs = ["thai san", "tai san", "ho khau"]
    corrector = TypoCorrector(vocabulary, pairs=pairs, stop=["em"])
    # Swapped letters are likelier than a dropped one: "tahi" is "thai", not "tai".
    assert corrector.correct_all(["tahi", "san"]) == ["thai", "san"]
    # A known word that pairs with neither neighbour lost its last letter: "hộ khẩ".
    assert corrector.correct_all(["ho", "kha"]) == ["ho", "khau"]
    assert corrector.correct_all(["kha", "can"]) == ["kha", "can"]  # no pair explains it
    # Pronouns are skipped when looking for a neighbour, as the catalogue's pairs skip them.
    assert corrector.correct_all(["ho", "em", "kha"]) == ["ho", "em", "khau"]


def test_a_word_typed_with_marks_is_read_only_as_a_word_spelt_with_them() -> None:
    vocabulary = {"chu": 9, "chieu": 1, "ho": 9, "muong": 2}
    spellings = {"chu": ["chu"], "chieu": ["chiêu"], "ho": ["hô"], "muong": ["mương"]}
    corrector = TypoCorrector(vocabulary, spellings=spellings)
    # "hộ chếu" dropped the i of "chiếu"; without its marks "cheu" is likelier "chu".
    assert corrector.correct_all(["ho", "cheu"], ["hô", "chêu"]) == ["ho", "chieu"]
    assert corrector.correct_all(["ho", "cheu"]) == ["ho", "chu"]
    # "mừng" is a word the catalogue lacks, not a slip for "mương".
    assert corrector.correct_all(["mung"], ["mưng"]) == ["mung"]
    assert corrector.correct_all(["mung"]) == ["muong"]


def test_pairs_do_not_span_the_story_between_two_ideas(synonyms: Synonyms) -> None:
    # "nữa" and "muốn" end one thing a villager says and start the next: no pair across them.
    assert synonyms.query_words("bán nữa muốn đóng", breaks=True) == ["ban", BREAK, "dong"]
    # ... but a pair spans a pronoun or a preposition inside one idea.
    assert synonyms.query_words("sổ hộ tịch của em", breaks=True) == ["so", "ho", "tich"]
    assert BREAK not in synonyms.query_words("căn cước cho con", breaks=True)
    # Without breaks the words are the same as before.
    assert synonyms.query_words("bán nữa muốn đóng") == ["ban", "dong"]


def test_an_unmarked_word_in_a_marked_message_is_spelt_as_it_stands(synonyms: Synonyms) -> None:
    # "người Lào" is a foreigner; in a message typed with marks, "người lao động" is a worker.
    assert "nuoc" in synonyms.query_words("chồng em là người Lào")
    assert synonyms.query_words("công nhận người lao động") == [
        "cong", "nhan", "nguoi", "lao", "dong"
    ]  # fmt: skip
