"""What the hand-curated catalogue entries tell a villager: checklists, fees, times, filing forms.

The entries are read as the bot reads them: curated files laid over the imported portal records.
Imported records that a curated entry replaces (``replaces``) are left out, because the catalogue
resolves those codes to their successor.
"""

from __future__ import annotations

import re
import shutil
import tomllib

import pytest

from knowledge.catalogue import DATA_DIR, FORM_FIELD_KINDS, Catalogue, load_catalogue
from knowledge.fees import fee_due
from knowledge.model import Channel, FilingForm, Procedure
from knowledge.normalize import normalize
from knowledge.search import Searcher

CURATED_DIR = DATA_DIR / "curated"
CURATED_CODES = (
    *("1.001193", "1.000689", "1.004884", "1.000894", "1.004746", "1.004873", "1.000656"),
    *("1.005461", "1.001022", "1.004859", "1.004837", "2.000635", "2.000815", "2.000884"),
    *("2.001035", "2.000908", "3.000722", "2.002913", "1.001776", "1.001731", "1.004222"),
    *("1.004194", "1.001612", "1.011606", "1.012812", "1.013225"),
    *("1.002755", "1.003197", "1.011607", "1.004772"),
)
IN_PERSON_ONLY = ("2.000815", "2.000884")
NOT_YET_VERIFIED = ("2.002913", "1.001776", "1.001731")
# Health-ministry procedures missing from the portal crawl: how they may be filed is unknown, and
# an empty channel list keeps the card from claiming "not online".
CHANNELS_UNKNOWN = ("1.001776", "1.001731")
SUMMARY_LIMIT = 500

# The lines each paper declaration prints (domain notes §12.2–§12.5), as form field names.
DECLARATION_FIELDS = {
    "birth": (
        *("requester_name", "requester_birth_date", "requester_id_number", "requester_residence"),
        "requester_relation",
        *("child_name", "child_birth_date", "child_sex", "child_ethnicity", "child_nationality"),
        *("child_birth_place", "child_hometown"),
        *("mother_name", "mother_birth_date", "mother_ethnicity", "mother_nationality"),
        *("mother_residence", "mother_id_number"),
        *("father_name", "father_birth_date", "father_ethnicity", "father_nationality"),
        *("father_residence", "father_id_number"),
        "copies",
    ),
    "marriage": (
        *(
            f"{side}_{item}"
            for side in ("wife", "husband")
            for item in (
                *("name", "birth_date", "ethnicity", "nationality", "residence", "id_number"),
                "marriage_count",
            )
        ),
        "copies",
    ),
    "death": (
        *("requester_name", "requester_birth_date", "requester_id_number", "requester_residence"),
        "requester_relation",
        *("deceased_name", "deceased_birth_date", "deceased_sex", "deceased_ethnicity"),
        *("deceased_nationality", "deceased_last_residence", "deceased_id_number"),
        *("death_date", "death_time", "death_place", "death_cause"),
        *("death_notice_number", "death_notice_issuer", "death_notice_date"),
        "copies",
    ),
    "marital_status": (
        *("requester_name", "requester_birth_date", "requester_id_number", "requester_residence"),
        "requester_relation",
        *("person_name", "person_birth_date", "person_id_number", "person_sex"),
        *("person_ethnicity", "person_nationality", "person_residence"),
        *("person_marital_status", "purpose"),
    ),
}
# Lines the form itself marks as conditional (residence only without an ID number) or that may
# be unknown (no father established, no death notice, hour of death).
OPTIONAL_IN_DECLARATION = re.compile(
    r"^father_|^(requester|mother|wife|husband|person)_residence$|^death_notice_|^death_time$"
)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    data = tmp_path_factory.mktemp("data")
    shutil.copytree(CURATED_DIR, data / "curated")
    replaced = {
        old
        for path in CURATED_DIR.glob("*.toml")
        for old in tomllib.loads(path.read_text(encoding="utf-8")).get("replaces", [])
    }
    (data / "imported").mkdir()
    for path in (DATA_DIR / "imported").glob("*.json"):
        if path.stem not in replaced:
            shutil.copy(path, data / "imported" / path.name)
    return load_catalogue(data)


@pytest.fixture(scope="module")
def curated(catalogue: Catalogue) -> list[Procedure]:
    return [p for p in catalogue.all() if p.code in CURATED_CODES]


def _get(catalogue: Catalogue, code: str) -> Procedure:
    procedure = catalogue.get(code)
    assert procedure is not None, f"{code} missing"
    return procedure


def _form(procedure: Procedure) -> FilingForm:
    assert procedure.form is not None, f"{procedure.code} has no filing form"
    return procedure.form


def test_every_listed_procedure_has_a_curated_entry(curated: list[Procedure]) -> None:
    assert sorted(p.code for p in curated) == sorted(CURATED_CODES)
    assert sorted(path.stem for path in CURATED_DIR.glob("*.toml")) == sorted(CURATED_CODES)


def test_every_entry_answers_the_villagers_first_questions(curated: list[Procedure]) -> None:
    for procedure in curated:
        where = procedure.code
        assert procedure.curated, where
        assert len(procedure.aliases) >= 3, where
        assert procedure.summary and len(procedure.summary) <= SUMMARY_LIMIT, where
        assert procedure.papers, where
        assert procedure.fee is not None and procedure.fee.text, where
        assert bool(procedure.channels) != (procedure.code in CHANNELS_UNKNOWN), where
        assert procedure.processing_text, where
        assert procedure.authority, where
        assert procedure.last_checked == "2026-11-27", where


def test_no_village_phrase_points_at_two_procedures(curated: list[Procedure]) -> None:
    owner: dict[str, str] = {}
    for procedure in curated:
        for alias in procedure.aliases:
            key = normalize(alias)
            assert owner.setdefault(key, procedure.code) == procedure.code, (
                f"'{alias}' is an alias of both {owner[key]} and {procedure.code}"
            )


def test_birth_is_free_within_60_days_and_same_day(catalogue: Catalogue) -> None:
    birth = _get(catalogue, "1.001193")
    assert birth.fee is not None
    assert "60 ngày" in birth.fee.text
    assert any("60 ngày" in exemption for exemption in birth.fee.exemptions)
    assert "8.000 đồng" in birth.fee.text  # copies are paid even when the registration is free
    assert birth.processing_days == 0
    assert "15 giờ" in birth.processing_text


def test_death_is_free_within_15_days(catalogue: Catalogue) -> None:
    death = _get(catalogue, "1.000656")
    assert death.fee is not None
    assert "15 ngày" in death.fee.text
    assert any("15 ngày" in exemption for exemption in death.fee.exemptions)


def test_marriage_is_free_but_both_must_come_to_sign(catalogue: Catalogue) -> None:
    marriage = _get(catalogue, "1.000894")
    assert marriage.fee is not None
    assert marriage.fee.text.startswith("Miễn lệ phí")
    assert marriage.fee.amount_vnd == 0
    assert not marriage.fee.set_by_province
    assert marriage.full_online is False
    assert marriage.result_by_post is False
    assert "cả hai" in marriage.summary


def test_guardianship_is_free(catalogue: Catalogue) -> None:
    guardianship = _get(catalogue, "1.004837")
    assert guardianship.fee is not None
    assert guardianship.fee.text.startswith("Miễn lệ phí")


def test_certified_copy_costs_per_page_and_is_in_person_only(catalogue: Catalogue) -> None:
    copy = _get(catalogue, "2.000815")
    assert copy.fee is not None
    assert "2.000 đồng/trang" in copy.fee.text
    assert "200.000 đồng" in copy.fee.text
    assert "công chứng giấy tờ" in copy.aliases
    signature = _get(catalogue, "2.000884")
    assert signature.fee is not None and signature.fee.amount_vnd == 10_000


def test_in_person_only_procedures_have_no_filing_form(catalogue: Catalogue) -> None:
    for code in IN_PERSON_ONLY:
        procedure = _get(catalogue, code)
        assert [c.channel for c in procedure.channels] == [Channel.IN_PERSON], code
        assert procedure.form is None, code
        assert procedure.full_online is False, code


def test_permanent_residence_fee_shows_online_and_in_person(catalogue: Catalogue) -> None:
    residence = _get(catalogue, "1.004222")
    assert residence.fee is not None
    assert "10.000 đồng nếu nộp trực tuyến" in residence.fee.text
    assert "20.000 đồng nếu nộp trực tiếp" in residence.fee.text
    assert "Công an" in residence.handled_by
    assert {"nhập khẩu", "nhập hộ khẩu"} <= set(residence.aliases)
    temporary = _get(catalogue, "1.004194")
    assert temporary.fee is not None
    assert "7.000 đồng" in temporary.fee.text and "10.000 đồng" in temporary.fee.text


def test_copy_of_a_civil_status_extract_costs_8000(catalogue: Catalogue) -> None:
    copies = _get(catalogue, "2.000635")
    assert copies.fee is not None and copies.fee.copy_vnd == 8_000
    # Nothing but the copies is charged: two copies cost 16.000 đồng, none costs nothing.
    assert copies.fee.amount_vnd is None
    due = fee_due(copies.fee, {"copies": 2})
    assert due is not None and due.total == 16_000
    assert fee_due(copies.fee, {"copies": 0}) is None


def test_every_form_that_sells_copies_says_what_a_copy_costs(catalogue: Catalogue) -> None:
    """A copy fee only in words ("8.000 đồng/bản") never reached the receipt or the QR."""
    selling = [
        p
        for p in catalogue.all()
        if p.form is not None
        and any(f.name == "copies" for f in p.form.fields)
        and p.fee is not None
        and "/bản" in p.fee.text
    ]
    assert len(selling) >= 10
    for procedure in selling:
        assert procedure.fee is not None and procedure.fee.copy_vnd == 8_000, procedure.code
    birth = _get(catalogue, "1.001193")
    assert birth.fee is not None
    due = fee_due(birth.fee, {"copies": 3})  # on time: the registration itself is free
    assert due is not None and (due.total, due.base, due.copies) == (24_000, None, 3)


def test_replaced_codes_lead_to_the_current_linked_procedures(catalogue: Catalogue) -> None:
    for old in ("2.000986", "2.001023"):
        assert _get(catalogue, old).code == "3.000722"
    for old in ("2.002622", "2.002621"):
        assert _get(catalogue, old).code == "2.002913"
    linked_birth = _get(catalogue, "3.000722")
    assert [c.channel for c in linked_birth.channels] == [Channel.ONLINE]
    assert linked_birth.full_online is True


def test_unverified_facts_are_marked_as_such(catalogue: Catalogue) -> None:
    for code in NOT_YET_VERIFIED:
        procedure = _get(catalogue, code)
        assert procedure.fee is not None
        told = f"{procedure.fee.text} {procedure.processing_text}"
        assert "chưa xác minh" in told or "chưa có thông tin" in told.lower(), code
        assert "hỏi cán bộ" in told, code


def test_every_online_or_postal_procedure_has_a_filing_form(curated: list[Procedure]) -> None:
    for procedure in curated:
        can_file = procedure.has_channel(Channel.ONLINE) or procedure.has_channel(Channel.POST)
        assert (procedure.form is not None) == can_file, procedure.code


def test_filing_forms_ask_known_kinds_and_the_phone(curated: list[Procedure]) -> None:
    for procedure in curated:
        if procedure.form is None:
            continue
        fields = procedure.form.fields
        names = [field.name for field in fields]
        assert len(names) == len(set(names)), procedure.code
        assert any(field.kind == "phone" for field in fields), procedure.code
        for field in fields:
            where = f"{procedure.code} {field.name}"
            assert field.kind in FORM_FIELD_KINDS, where
            assert field.label.endswith(("?", ".", ")")), where
            assert field.who, where
            if field.kind == "choice":
                assert len(field.choices) >= 2, where
            if field.kind == "text":
                assert field.max_length, where
        photo_names = [photo.name for photo in procedure.form.photos]
        assert len(photo_names) == len(set(photo_names)), procedure.code
        assert all(photo.label for photo in procedure.form.photos), procedure.code


@pytest.mark.parametrize(
    ("code", "declaration"),
    [
        ("1.001193", "birth"),
        ("1.000689", "birth"),
        ("1.000894", "marriage"),
        ("1.000656", "death"),
        ("1.004873", "marital_status"),
    ],
)
def test_declaration_forms_ask_every_line_the_paper_form_prints(
    catalogue: Catalogue, code: str, declaration: str
) -> None:
    form = _form(_get(catalogue, code))
    assert form.declaration == declaration
    fields = {field.name: field for field in form.fields}
    missing = [name for name in DECLARATION_FIELDS[declaration] if name not in fields]
    assert not missing, f"{code} does not ask {missing}"
    for name in DECLARATION_FIELDS[declaration]:
        field = fields[name]
        owner = name.split("_", 1)[0]
        if owner in ("requester", "child", "mother", "father", "deceased", "wife", "husband"):
            assert field.who == owner, f"{code} {name} belongs to {field.who}"
        if OPTIONAL_IN_DECLARATION.search(name):
            assert not field.required, f"{code} {name} should be optional"


def test_required_declaration_identities_are_asked_as_id_numbers(catalogue: Catalogue) -> None:
    for code in ("1.001193", "1.000894", "1.000656", "1.004873"):
        for field in _form(_get(catalogue, code)).fields:
            if field.name.endswith("_id_number"):
                assert field.kind == "id_number", f"{code} {field.name}"
            if field.name.endswith("birth_date") or field.name == "death_date":
                assert field.kind == "date", f"{code} {field.name}"


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("làm giấy khai sinh cho con", "1.001193"),
        ("công chứng giấy tờ", "2.000815"),
        ("nhập hộ khẩu cho vợ", "1.004222"),
        ("xin giấy xác nhận độc thân", "1.004873"),
        ("mai táng phí", "1.001731"),
        ("trợ cấp người già", "1.001776"),
        ("xin phép xây nhà", "1.013225"),
        ("giấy phép kinh doanh hộ cá thể", "1.001612"),
        ("tranh chấp đất với hàng xóm", "1.012812"),
        ("báo tử cho bố", "1.000656"),
        ("bản sao giấy khai sinh", "2.000635"),
        ("hộ nghèo", "1.011606"),
    ],
)
def test_village_words_find_the_curated_entry_first(
    catalogue: Catalogue, question: str, code: str
) -> None:
    hits = Searcher(catalogue).search(question)
    assert hits and hits[0].code == code, [(hit.code, round(hit.score, 2)) for hit in hits]


def test_files_are_tidy() -> None:
    for path in CURATED_DIR.glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n"), path.name
        assert "\t" not in text and " \n" not in text, path.name
