"""Other offices' procedures: a question about one is not answered with the closest commune
procedure, and the citizen is told which office does it when the match is clear."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.catalogue import (
    DATA_DIR,
    ELSEWHERE_FILE,
    Catalogue,
    CatalogueError,
    check_catalogue,
    load_catalogue,
    load_elsewhere,
)
from knowledge.importer import import_elsewhere, other_procedure
from knowledge.model import OtherProcedure, Procedure
from knowledge.search import Searcher, answer_jsonl

SOURCE_DIR = Path(__file__).parents[2].parent / "shared" / "catalogue-source"
ALL_LEVELS = SOURCE_DIR / "procedures-all-levels.jsonl"


def _record(code: str, name: str, offices: str = "", levels: str = "Cấp tỉnh") -> dict[str, str]:
    return {
        "ma_thu_tuc": code,
        "ten_thu_tuc": name,
        "linh_vuc": "Thành lập và hoạt động doanh nghiệp",
        "cap_thuc_hien": levels,
        "co_quan_thuc_hien": offices,
    }


def test_an_other_office_is_named_by_its_first_offices_without_the_portals_hanoi() -> None:
    record = _record(
        "2.001610",
        "Thủ tục đăng ký thành lập doanh nghiệp tư nhân",
        "Sở Tư pháp Thành phố Hà Nội, Sở Tài chính, Phòng Đăng ký kinh doanh, Chi cục Thuế",
    )
    procedure = other_procedure(record)
    assert procedure.name == "Đăng ký thành lập doanh nghiệp tư nhân"
    assert procedure.office == "Sở Tư pháp, Sở Tài chính, Phòng Đăng ký kinh doanh"


def test_without_an_office_the_level_says_who_and_otherwise_nothing_is_made_up() -> None:
    central = other_procedure(_record("1.000001", "Cấp giấy phép", "Không có thông tin", "Cấp bộ"))
    assert central.office == "cơ quan trung ương"
    unknown = other_procedure(_record("1.000002", "Cấp giấy phép", "", "Cơ quan khác"))
    assert unknown.office == ""


def test_the_importer_leaves_out_the_communes_own_procedures(tmp_path: Path) -> None:
    source = tmp_path / "all.jsonl"
    records = [
        _record("1.001193", "Đăng ký khai sinh", "Ủy ban nhân dân cấp xã", "Cấp xã"),
        _record("2.001610", "Đăng ký thành lập doanh nghiệp tư nhân", "Sở Tài chính"),
        _record("1.000005", "Thủ tục hải quan đối với khí", "Chi cục Hải quan khu vực", "Cấp xã"),
        _record("1.000009", "", "Sở Tài chính"),
    ]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    out = tmp_path / ELSEWHERE_FILE
    assert import_elsewhere(source, out, {"1.001193"}) == 2
    first = out.read_bytes()
    rows = json.loads(first)
    assert [row["code"] for row in rows] == ["1.000005", "2.001610"]  # a customs one at commune
    assert rows[0]["name"] == "Hải quan đối với khí"  # level is the customs branch's, kept
    assert len(first.decode().splitlines()) == 4  # one procedure a line, for review
    import_elsewhere(source, out, {"1.001193"})
    assert out.read_bytes() == first


@pytest.mark.skipif(not ALL_LEVELS.exists(), reason=f"the portal crawl is not here ({ALL_LEVELS})")
def test_the_bundled_file_is_what_the_importer_makes_of_the_crawl(tmp_path: Path) -> None:
    import_elsewhere(ALL_LEVELS, tmp_path / ELSEWHERE_FILE, load_catalogue())
    assert (tmp_path / ELSEWHERE_FILE).read_bytes() == (DATA_DIR / ELSEWHERE_FILE).read_bytes()


def _data_dir(tmp_path: Path, rows: object) -> Path:
    data = tmp_path / "data"
    (data / "curated").mkdir(parents=True)
    (data / "curated" / "1.001193.toml").write_text(
        'code = "1.001193"\nname = "Đăng ký khai sinh"\nfield = "Hộ tịch"\n', encoding="utf-8"
    )
    (data / ELSEWHERE_FILE).write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return data


def test_the_check_fails_on_a_code_that_is_the_communes_too(tmp_path: Path) -> None:
    row = {"code": "1.001193", "name": "Đăng ký khai sinh", "field": "Hộ tịch", "office": ""}
    problems = [str(p) for p in check_catalogue(_data_dir(tmp_path, [row]))]
    assert problems == [
        "elsewhere.json [1.001193]: is in the commune catalogue too; re-run motcua catalogue import"
    ]


def test_a_broken_file_is_refused_with_every_problem(tmp_path: Path) -> None:
    rows = [
        {"code": "1.0001", "name": "x", "field": "", "office": ""},
        {"code": "1.000002", "name": "", "field": "", "office": ""},
        {"code": "1.000003", "name": "Cấp phép"},
    ]
    with pytest.raises(CatalogueError) as failed:
        load_elsewhere(_data_dir(tmp_path, rows))
    assert [p.message for p in failed.value.problems] == [
        "code must look like 1.001193",
        "has no name",
        "entry 2: needs exactly the keys code, field, name, office",
    ]


@pytest.fixture(scope="module")
def searchers() -> tuple[Searcher, Searcher]:
    """The bundled catalogue with the bundled other offices, and without them."""
    catalogue = load_catalogue()
    return Searcher(catalogue), Searcher(catalogue, elsewhere=())


@pytest.mark.parametrize(
    ("question", "without"),
    [
        # A personal income tax return is the tax office's; the commune's "low income" worker
        # recognition only shares "thu nhập".
        ("khai thuế thu nhập cá nhân", "3.000412"),
        # A fishing boat is registered by the province's fisheries office, not as a river boat.
        ("đăng ký tàu cá", "1.004088"),
    ],
)
def test_another_offices_procedure_takes_a_question_away_from_the_commune(
    searchers: tuple[Searcher, Searcher], question: str, without: str
) -> None:
    ours, no_others = searchers
    assert [hit.code for hit in no_others.search(question)][:1] == [without]
    assert ours.search(question) == []


def test_a_clear_match_is_named_with_its_office(searchers: tuple[Searcher, Searcher]) -> None:
    ours, _ = searchers
    other = ours.elsewhere("thành lập doanh nghiệp tư nhân thì nộp hồ sơ ở đâu")
    assert other is not None
    assert other.name == "Đăng ký thành lập doanh nghiệp tư nhân"
    assert other.office.startswith("Sở Tài chính")
    licence = ours.elsewhere("cấp lại giấy phép lái xe bị mất")
    assert licence is not None and licence.name == "Cấp lại giấy phép lái xe"


def test_a_match_on_part_of_a_name_is_refused_but_not_named(
    searchers: tuple[Searcher, Searcher],
) -> None:
    ours, _ = searchers
    # "dược" folds like "được" and drops out: what is left fits the auctioneers' licence.
    assert ours.search("cấp chứng chỉ hành nghề dược") == []
    assert ours.elsewhere("cấp chứng chỉ hành nghề dược") is None


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("đăng ký khai sinh cho con", "1.001193"),
        ("lm giấy ks cho con cần những gì", "1.001193"),
        ("đăng ký hộ kinh doanh", "1.001612"),
        ("xin giấy phép xây dựng nhà ở", "1.013225"),
        # The foreign re-registration of an adoption fits "đăng ký lại việc nuôi con nuôi" as
        # well, but explains nothing the commune's re-registration leaves unexplained.
        ("đăng ký lại việc nuôi con nuôi", "2.001255"),
        ("tổ nuôi dê trong bản muốn xin dự án hỗ trợ phát triển sản xuất cộng đồng", "1.014737"),
    ],
)
def test_the_communes_own_questions_are_answered_as_before(
    searchers: tuple[Searcher, Searcher], question: str, code: str
) -> None:
    ours, no_others = searchers
    assert [h.code for h in ours.search(question)] == [h.code for h in no_others.search(question)]
    assert ours.search(question)[0].code == code
    assert ours.elsewhere(question) is None


def test_an_other_office_record_with_a_code_the_catalogue_has_is_left_out() -> None:
    birth = Procedure(code="1.001193", name="Đăng ký khai sinh", field="Hộ tịch")
    shadow = OtherProcedure(code="1.001193", name="Đăng ký khai sinh", field="", office="Sở")
    searcher = Searcher(Catalogue([birth]), elsewhere=[shadow])
    assert [h.code for h in searcher.search("đăng ký khai sinh")] == ["1.001193"]


def test_jsonl_keeps_its_shape_a_question_taken_elsewhere_is_an_empty_list(
    searchers: tuple[Searcher, Searcher],
) -> None:
    ours, _ = searchers
    (line,) = answer_jsonl(ours, ["khai thuế thu nhập cá nhân"])
    assert json.loads(line) == {"query": "khai thuế thu nhập cá nhân", "results": []}
