"""The national-portal importer, on real records of the crawl."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import pytest

from knowledge.catalogue import DATA_DIR, check_catalogue, load_catalogue
from knowledge.importer import (
    FLAG_PRE_2025_WORDING,
    FLAG_STEPS_CUT_OFF,
    FLAG_TIME_WITHOUT_UNIT,
    LEFT_OUT_CUSTOMS,
    LEFT_OUT_OTHER_PAGE,
    LEFT_OUT_TAX,
    clean,
    convert_record,
    import_portal,
    leave_out_reason,
    parse_channels,
    parse_legal_basis,
    parse_papers,
)
from knowledge.model import Channel

SOURCE_DIR = Path(__file__).parents[2].parent / "shared" / "catalogue-source"
SOURCE = SOURCE_DIR / "procedures.jsonl"

needs_source = pytest.mark.skipif(
    not SOURCE.exists(), reason=f"the portal crawl is not beside the repository ({SOURCE})"
)


@cache
def _records() -> dict[str, Mapping[str, str]]:
    with SOURCE.open(encoding="utf-8") as lines:
        return {r["ma_thu_tuc"]: r for r in (json.loads(line) for line in lines)}


def _record(code: str) -> Mapping[str, str]:
    return _records()[code]


@needs_source
def test_fee_set_by_the_provincial_council_is_never_shown_as_free() -> None:
    marital = convert_record(_record("1.004873"))  # portal cell "Miễn phí", HĐND sets the level

    assert marital.fee is not None
    assert marital.fee.set_by_province
    assert "Hội đồng nhân dân" in marital.fee.text
    assert not marital.fee.text.startswith("Miễn phí")
    assert marital.fee.amount_vnd is None
    assert "người thuộc hộ nghèo" in marital.fee.exemptions
    # The portal's own cell is kept, as published, per channel.
    assert all(c.fee_text.startswith("Miễn phí (Mức lệ phí") for c in marital.channels)


@needs_source
def test_channels_time_and_fee_are_split_from_the_flattened_table() -> None:
    residence = convert_record(_record("1.004222"))

    assert [c.channel for c in residence.channels] == [Channel.ONLINE, Channel.IN_PERSON]
    assert {c.time_text for c in residence.channels} == {"7 ngày làm việc"}
    assert residence.channels[0].fee_text.startswith("10.000 đồng")
    assert residence.channels[1].fee_text.startswith("20.000 đồng")
    assert residence.processing_days == 7
    assert residence.handled_by == "Công an xã"
    assert residence.name == "Đăng ký thường trú"
    # the portal's result code (KQ.G01.000064) is its own identifier, not for citizens
    assert residence.results[0] == "Cập nhật thông tin trong Cơ sở dữ liệu quốc gia về dân cư"
    assert not any("Từ khóa" in r or "Nộp hồ sơ" in r for r in residence.results)


@needs_source
def test_bare_number_time_of_civil_status_is_read_as_working_days_and_says_so() -> None:
    birth = convert_record(_record("1.001193"))

    assert birth.processing_days == 1
    # said to citizens plainly; the flag, not the text, tells curators the unit was missing
    assert birth.processing_text == "1 ngày làm việc"
    assert FLAG_TIME_WITHOUT_UNIT in birth.flags
    assert birth.results == ("Giấy khai sinh",)
    assert birth.decision_no == "163/QĐ-BTP"
    assert birth.last_checked == "2026-07-20"
    assert birth.source_url.startswith("https://dichvucong.gov.vn/thu-tuc-hanh-chinh/")


@needs_source
def test_bare_number_elsewhere_gives_no_days() -> None:
    poverty = convert_record(_record("1.011606"))  # "1" with no unit, not civil status

    assert poverty.processing_days is None
    assert poverty.processing_text == ""  # a bare "1" of who knows what is not said at all
    assert FLAG_TIME_WITHOUT_UNIT in poverty.flags


@needs_source
def test_papers_and_legal_basis_come_out_as_separate_entries() -> None:
    birth = convert_record(_record("1.001193"))
    contract = convert_record(_record("2.001035"))

    names = [p.name for p in birth.papers]
    assert any(n.startswith("Giấy chứng sinh") for n in names)
    # Rows the portal counts as "0 bản" are remarks, not papers.
    assert not any("không phải nộp bản giấy" in n for n in names)
    assert any(p.show_only and p.name.startswith("Hộ chiếu/Thẻ căn cước") for p in birth.papers)
    assert {ref.code for ref in birth.legal_basis} >= {"60/2014/QH13", "123/2015/NĐ-CP"}
    assert all(ref.code and not ref.title.startswith("P ") for ref in birth.legal_basis)

    draft = [p for p in contract.papers if p.name == "Dự thảo giao dịch"]
    assert len(draft) == 1 and draft[0].copy_kind == "bản chính" and draft[0].count == 1
    assert contract.fee is not None and contract.fee.amount_vnd == 50_000


def test_an_instrument_listed_twice_is_kept_once_under_its_real_title() -> None:
    refs, whole = parse_legal_basis(
        "Tên văn bản pháp lýMã văn bản"
        "66/2023/TT-BCA66/2023/TT-BCA"
        "Sửa đổi, bổ sung một số điều của Thông tư số 55/2021/TT-BCA66/2023/TT-BCA"
        "Luật Cư trú 202068/2020/QH14"
    )

    assert whole
    assert [ref.code for ref in refs] == ["66/2023/TT-BCA", "68/2020/QH14"]
    assert refs[0].title.startswith("Sửa đổi, bổ sung")


@needs_source
def test_bundled_legal_bases_name_each_instrument_once() -> None:
    for code in ("1.012753", "1.003677", "2.002189"):
        refs = convert_record(_record(code)).legal_basis
        codes = [ref.code for ref in refs if ref.code]
        assert len(codes) == len(set(codes)), code


@needs_source
def test_form_file_names_are_split_off_the_paper_name() -> None:
    poverty = convert_record(_record("1.011606"))

    assert poverty.papers[0].form == "Giấy đề nghị.pdf"
    assert poverty.papers[0].name.endswith("Quyết định số 24/2021/QĐ-TTg")


@needs_source
def test_cut_off_steps_and_old_wording_are_flagged() -> None:
    pension = convert_record(_record("1.001521"))  # social insurance, text stops at "mục 5.3 ("
    birth = convert_record(_record("1.001193"))

    assert FLAG_STEPS_CUT_OFF in pension.flags
    assert pension.handled_by == "Cơ quan Bảo hiểm xã hội"
    assert FLAG_STEPS_CUT_OFF not in birth.flags
    assert birth.steps[0].startswith("Nếu lựa chọn hình thức nộp hồ sơ trực tiếp")
    assert not any(step.startswith("- ") for step in birth.steps)
    assert any(FLAG_PRE_2025_WORDING in convert_record(r).flags for r in _kept_records())


def _kept_records() -> list[Mapping[str, str]]:
    return [r for r in _records().values() if not leave_out_reason(r)][:60]


@needs_source
def test_customs_tax_and_borrowed_pages_are_left_out() -> None:
    records = _records()
    customs = next(r for r in records.values() if r["linh_vuc"] == "Hải quan")
    tax = next(r for r in records.values() if r["linh_vuc"] == "Thuế")

    assert leave_out_reason(customs) == LEFT_OUT_CUSTOMS
    assert leave_out_reason(tax) == LEFT_OUT_TAX
    assert leave_out_reason(records["3.000226"]) == LEFT_OUT_OTHER_PAGE  # shows 3.000579
    assert leave_out_reason(records["1.002544"]) == LEFT_OUT_OTHER_PAGE  # shows 1.014023
    without_page_text = {k: v for k, v in records["3.000332"].items() if k != "raw_text"}
    assert leave_out_reason(without_page_text) == LEFT_OUT_OTHER_PAGE
    assert leave_out_reason(records["1.001193"]) == ""


@needs_source
def test_import_writes_small_deterministic_files_that_load(tmp_path: Path) -> None:
    picked = ["1.000005", "1.001193", "1.004222", "2.001035", "3.000226"]
    source = tmp_path / "some.jsonl"
    source.write_text(
        "".join(json.dumps(_record(c), ensure_ascii=False) + "\n" for c in picked),
        encoding="utf-8",
    )
    out = tmp_path / "data" / "imported"
    out.mkdir(parents=True)
    (out / "9.999999.json").write_text("{}", encoding="utf-8")  # left from an older import

    report = import_portal(source, out)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    import_portal(source, out)
    second = {p.name: p.read_bytes() for p in out.iterdir()}

    assert sorted(first) == ["1.001193.json", "1.004222.json", "2.001035.json"]
    assert first == second
    assert report.kept == 3 and report.read == 5 and report.removed == 1
    assert dict(report.left_out) == {LEFT_OUT_CUSTOMS: 1, LEFT_OUT_OTHER_PAGE: 1}
    assert "wrote 3 procedures" in report.summary()
    text = first["1.001193.json"].decode("utf-8")
    assert text.endswith("}\n") and "Hộ tịch" in text and "raw_text" not in text
    assert check_catalogue(tmp_path / "data") == []
    assert load_catalogue(tmp_path / "data").get("1.004222") is not None


@needs_source
def test_bundled_imported_files_are_what_the_importer_makes_now(tmp_path: Path) -> None:
    report = import_portal(SOURCE, tmp_path)

    assert report.kept == 336
    assert dict(report.left_out) == {
        LEFT_OUT_CUSTOMS: 124,
        LEFT_OUT_TAX: 111,
        LEFT_OUT_OTHER_PAGE: 17,
    }
    assert dict(report.flagged)[FLAG_STEPS_CUT_OFF] == 22
    fresh = {p.name: p.read_bytes() for p in tmp_path.glob("*.json")}
    bundled = {p.name: p.read_bytes() for p in (DATA_DIR / "imported").glob("*.json")}
    stale = sorted(
        name for name in fresh.keys() | bundled.keys() if fresh.get(name) != bundled.get(name)
    )
    assert stale == [], "re-run `motcua catalogue import` to refresh knowledge/data/imported"


def test_clean_normalises_spaces_and_placeholders() -> None:
    assert clean("  Cấp\u00a0xã\n\tphường\u200e ") == "Cấp xã phường"
    assert clean("Không có thông tin") == ""
    assert clean("Hoa\u0300") == "Hoà"  # NFC


def test_channel_words_inside_a_description_do_not_start_a_row() -> None:
    channels, _ = parse_channels(
        "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyếnKhông có thông tin8,000 VNĐ(8.000 đồng/"
        "văn bản)Trực tiếp thực hiện hoặc ủy quyền Dịch vụ bưu chính2 Ngày làm việcMiễn phí"
    )

    assert [c.channel for c in channels] == [Channel.ONLINE, Channel.POST]
    assert channels[0].fee_text == "8.000 đồng (8.000 đồng/văn bản)"
    assert channels[0].note == "Trực tiếp thực hiện hoặc ủy quyền"
    assert channels[1].time_text == "2 ngày làm việc"


def test_papers_that_cannot_be_split_stay_whole_and_are_flagged() -> None:
    papers, whole = parse_papers("Hồ sơ theo quy định tại mục 5.2 của quy trình")

    assert not whole
    assert [p.name for p in papers] == ["Hồ sơ theo quy định tại mục 5.2 của quy trình"]
