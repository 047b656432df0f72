"""Loading and checking the catalogue files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.catalogue import (
    Catalogue,
    CatalogueError,
    Problem,
    check_catalogue,
    load_catalogue,
)
from knowledge.model import Channel


def _write_json(data_dir: Path, name: str, record: dict[str, object]) -> None:
    folder = data_dir / "imported"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")


def _write_toml(data_dir: Path, name: str, text: str) -> None:
    folder = data_dir / "curated"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


IMPORTED_BIRTH = {
    "code": "1.001193",
    "name": "Đăng ký khai sinh",
    "field": "Hộ tịch",
    "processing_days": 1,
    "processing_text": "1 ngày làm việc",
    "channels": [{"channel": "online", "time_text": "1"}, {"channel": "in_person"}],
    "fee": {"text": "Miễn phí", "amount_vnd": 0},
    "source_url": "https://dichvucong.gov.vn/thu-tuc-hanh-chinh/x",
}


def test_bundled_catalogue_loads_and_knows_the_common_procedures() -> None:
    catalogue = load_catalogue()

    birth = catalogue.get("1.001193")
    residence = catalogue.get("1.004222")
    assert birth is not None and "khai sinh" in birth.name.lower()
    assert residence is not None and residence.handled_by.startswith("Công an xã")
    assert residence.has_channel(Channel.ONLINE)
    assert len(catalogue) > 300
    assert dict(catalogue.fields())["Hộ tịch"] >= 20


def test_bundled_catalogue_has_no_problems() -> None:
    assert [str(p) for p in check_catalogue()] == []


def test_curated_file_overlays_the_imported_record_key_by_key(tmp_path: Path) -> None:
    _write_json(tmp_path, "1.001193.json", IMPORTED_BIRTH)
    _write_toml(
        tmp_path,
        "1.001193.toml",
        """
code = "1.001193"
aliases = ["làm giấy khai sinh"]
processing_days = 0
processing_text = "Trong ngày"

[fee]
text = "Miễn lệ phí nếu đăng ký trong 60 ngày kể từ ngày sinh"
set_by_province = true
""",
    )

    birth = load_catalogue(tmp_path).get("1.001193")

    assert birth is not None
    assert birth.curated
    assert birth.aliases == ("làm giấy khai sinh",)
    assert birth.processing_days == 0 and birth.processing_text == "Trong ngày"
    # A curated table replaces the imported one whole: no amount survives from the portal.
    assert birth.fee is not None and birth.fee.set_by_province and birth.fee.amount_vnd is None
    # Keys the curated file does not give stay as imported.
    assert birth.source_url == IMPORTED_BIRTH["source_url"]
    assert [c.channel for c in birth.channels] == [Channel.ONLINE, Channel.IN_PERSON]


def test_replaced_code_resolves_to_its_successor(tmp_path: Path) -> None:
    _write_json(tmp_path, "1.001193.json", IMPORTED_BIRTH)
    _write_toml(
        tmp_path,
        "3.000722.toml",
        """
code = "3.000722"
name = "Liên thông đăng ký khai sinh, thường trú, thẻ BHYT, căn cước cho trẻ dưới 6 tuổi"
field = "Hộ tịch"
replaces = ["2.000986", "2.001023"]
""",
    )

    catalogue = load_catalogue(tmp_path)

    linked = catalogue.get("2.000986")
    assert linked is not None and linked.code == "3.000722"
    assert "2.001023" in catalogue and "9.999999" not in catalogue
    assert catalogue.get("1.001193") is not None
    assert len(catalogue) == 2


def test_check_reports_every_planted_problem_in_one_run(tmp_path: Path) -> None:
    _write_json(tmp_path, "1.001193.json", IMPORTED_BIRTH)
    _write_json(
        tmp_path, "1.000656.json", {**IMPORTED_BIRTH, "code": "1.000656", "name": "Khai tử"}
    )
    _write_json(
        tmp_path, "1.000894.json", {**IMPORTED_BIRTH, "code": "1.000895", "name": "Kết hôn"}
    )
    _write_json(tmp_path, "12345.json", {**IMPORTED_BIRTH, "code": "12345"})
    _write_json(
        tmp_path,
        "1.004222.json",
        {
            "code": "1.004222",
            "name": "Đăng ký thường trú",
            "field": "Cư trú",
            "processing_days": "7",
            "channels": [{"channel": "fax"}],
        },
    )
    _write_toml(
        tmp_path,
        "1.001193.toml",
        """
code = "1.001193"
aliasses = ["khai sinh"]
processing_days = -1
replaces = ["1.000656"]

[form]
[[form.fields]]
name = "child_name"
kind = "name"
label = "Họ tên cháu?"

[[form.fields]]
name = "child_name"
kind = "nickname"
label = "Tên ở nhà?"

[[form.fields]]
name = "child_sex"
kind = "choice"
label = "Cháu là trai hay gái?"
""",
    )
    _write_toml(tmp_path, "2.000815.toml", 'code = "2.000815"\naliases = ["sao y"]\n')
    # Curated, so still live: replacing it is a mistake (an imported-only record would retire).
    _write_toml(tmp_path, "1.000656.toml", 'code = "1.000656"\naliases = ["khai tử"]\n')

    problems = check_catalogue(tmp_path)
    text = "\n".join(str(p) for p in problems)

    expected = [
        ("curated/1.001193.toml", "unknown key 'aliasses' (did you mean 'aliases'?)"),
        ("curated/1.001193.toml", "negative processing_days (-1)"),
        ("curated/1.001193.toml", "unknown kind 'nickname' in 'form.fields[1].kind'"),
        ("curated/1.001193.toml", "duplicate form field name 'child_name'"),
        ("curated/1.001193.toml", "choice field 'child_sex' (form.fields[2]) has no choices"),
        ("curated/1.001193.toml", "replaces 1.000656, which is itself a live record"),
        ("imported/1.004222.json", "'processing_days' should be a whole number, not text"),
        ("imported/1.004222.json", "unknown channel 'fax' in 'channels[0].channel'"),
        ("imported/1.000894.json", "file name does not match the code (expected 1.000895.json)"),
        ("imported/12345.json", "bad code '12345'"),
        ("curated/2.000815.toml", "missing required key 'name' (no imported record"),
        ("curated/2.000815.toml", "missing required key 'field' (no imported record"),
    ]
    for path, message in expected:
        assert any(p.path == path and message in p.message for p in problems), (path, message, text)
    assert len(problems) == len(expected)

    with pytest.raises(CatalogueError) as raised:
        load_catalogue(tmp_path)
    assert raised.value.problems == tuple(problems)
    assert "unknown key 'aliasses'" in str(raised.value)


def test_unreadable_files_and_duplicates_are_problems_too(tmp_path: Path) -> None:
    _write_json(tmp_path, "1.001193.json", IMPORTED_BIRTH)
    _write_toml(tmp_path, "1.001193.toml", 'code = "1.001193"\nname = "unterminated\n')
    _write_toml(
        tmp_path,
        "1.000656.toml",
        'code = "1.001193"\nname = "Khai tử"\nfield = "Hộ tịch"\n',
    )

    messages = [str(p) for p in check_catalogue(tmp_path)]

    assert any(m.startswith("curated/1.001193.toml [1.001193]: cannot be read") for m in messages)
    assert any("duplicate code 1.001193" in m or "does not match" in m for m in messages)


def test_problem_reads_as_file_code_and_message() -> None:
    problem = Problem("curated/1.001193.toml", "1.001193", "unknown key 'aliasses'")
    assert str(problem) == "curated/1.001193.toml [1.001193]: unknown key 'aliasses'"
    assert (
        str(Problem("imported/x.json", "", "cannot be read")) == "imported/x.json: cannot be read"
    )


def test_catalogue_lists_fields_and_puts_curated_first(tmp_path: Path) -> None:
    _write_json(tmp_path, "1.001193.json", IMPORTED_BIRTH)
    _write_json(tmp_path, "1.000656.json", {**IMPORTED_BIRTH, "code": "1.000656", "name": "A"})
    _write_toml(tmp_path, "1.001193.toml", 'code = "1.001193"\n')

    catalogue = load_catalogue(tmp_path)

    assert catalogue.fields() == [("Hộ tịch", 2)]
    assert [p.code for p in catalogue.by_field("Hộ tịch")] == ["1.001193", "1.000656"]
    assert isinstance(catalogue, Catalogue) and len(list(catalogue)) == 2


def test_legacy_portal_codes_resolve_to_the_curated_successor() -> None:
    catalogue = load_catalogue()
    successor = catalogue.get("2.000986")  # legacy birth + residence + health-insurance bundle
    assert successor is not None
    assert successor.code == "3.000722"
    assert all(p.code != "2.000986" for p in catalogue.all())  # not offered as its own entry


# --- Citizen-facing text: internal notes, cut or repeated references, internal codes ----------


def _problems_of(tmp_path: Path, curated: str) -> list[str]:
    """Problems of the imported birth record overlaid by one small curated file."""
    _write_json(tmp_path, "1.001193.json", IMPORTED_BIRTH)
    _write_toml(tmp_path, "1.001193.toml", curated)
    return [str(p) for p in check_catalogue(tmp_path)]


@pytest.mark.parametrize(
    ("curated", "field", "what"),
    [
        (
            '[fee]\ntext = "Theo mức của tỉnh (cổng DVC ghi \\"Miễn phí\\" nhưng mô tả khác)."',
            "'fee.text'",
            "names the portal as a source",
        ),
        (
            'processing_text = "3 ngày làm việc (Cổng Dịch vụ công chỉ ghi “3”)"',
            "'processing_text'",
            "says what the portal wrote",
        ),
        ('summary = "Làm tại xã; một nguồn ghi 5 ngày."', "'summary'", "cites an unnamed source"),
        ('summary = "Làm tại xã, theo bản ghi năm 2021."', "'summary'", "cites a record"),
        (
            'summary = "Mức phí có mâu thuẫn giữa hai văn bản."',
            "'summary'",
            "reports two sources disagreeing",
        ),
        (
            '[[papers]]\nname = "Tờ khai"\nnote = "mẫu cụ thể chưa xác minh"',
            "'papers[0].note'",
            "says the fact is unverified",
        ),
        ('results = ["Giấy khai sinh TODO"]', "'results[0]'", "has a reviewer's marker"),
        (
            'conditions = "Cần đủ 18 tuổi (check the source: unclear)."',
            "'conditions'",
            "is a note in English",
        ),
    ],
)
def test_check_names_the_file_and_field_of_an_internal_note(
    tmp_path: Path, curated: str, field: str, what: str
) -> None:
    problems = _problems_of(tmp_path, curated)
    assert len(problems) == 1, problems
    assert problems[0].startswith("curated/1.001193.toml [1.001193]: ")
    assert field in problems[0] and what in problems[0]


def test_ordinary_words_that_look_like_notes_pass(tmp_path: Path) -> None:
    # the same words in their everyday sense: land origin, an amount differing from the declared
    assert (
        _problems_of(
            tmp_path,
            'summary = "Giấy tờ về nguồn gốc đất; số phí khác với số đã kê khai thì nộp bổ sung."\n'
            'conditions = "Trường hợp cần kiểm tra thực tế thì có thể lâu hơn."',
        )
        == []
    )


def test_check_catches_a_legal_reference_cut_mid_parenthesis(tmp_path: Path) -> None:
    problems = _problems_of(
        tmp_path,
        '[[legal_basis]]\ntitle = "Nghị định quy định chi tiết (Điều 21–23: xác nhận"\n'
        'code = "123/2015/NĐ-CP"',
    )
    assert problems == [
        "curated/1.001193.toml [1.001193]: 'legal_basis[0].title' has unbalanced brackets (cut?)"
    ]


def test_check_catches_the_same_instrument_twice(tmp_path: Path) -> None:
    problems = _problems_of(
        tmp_path,
        '[[legal_basis]]\ntitle = "101/2024/NĐ-CP"\ncode = "101/2024/NĐ-CP"\n'
        '[[legal_basis]]\ntitle = "Nghị định về điều tra cơ bản đất đai"\ncode = "101/2024/NĐ-CP"\n'
        '[fee]\ntext = "Miễn phí"\nbasis = "TT 85/2019/TT-BTC; TT 85/2019/TT-BTC"',
    )
    assert problems == [
        "curated/1.001193.toml [1.001193]: "
        "'legal_basis[1]' repeats 101/2024/NĐ-CP (already legal_basis[0])",
        "curated/1.001193.toml [1.001193]: 'fee.basis' names 85/2019/TT-BTC twice",
    ]


@pytest.mark.parametrize(
    "result",
    [
        "Giấy xác nhận tình trạng hôn nhân (KQ.G15.000038)",
        "Quyết định hình thức sử dụng đất. (KQ-G10.000935)",
        "Văn bản trả lời 000.00.00.G04-KQ0257",
        "Giấy chứng nhận TP-G12.00011112",
    ],
)
def test_check_catches_an_internal_result_code(tmp_path: Path, result: str) -> None:
    problems = _problems_of(tmp_path, f'results = ["{result}"]')
    assert len(problems) == 1 and "'results[0]' shows an internal code" in problems[0]


def test_imported_text_is_blamed_on_the_imported_file(tmp_path: Path) -> None:
    record = dict(IMPORTED_BIRTH, results=["Giấy khai sinh (KQ.G15.000031)"])
    _write_json(tmp_path, "1.001193.json", record)
    problems = [str(p) for p in check_catalogue(tmp_path)]
    assert problems == [
        "imported/1.001193.json [1.001193]: 'results[0]' shows an internal code \"KQ.G15.000031\""
    ]
