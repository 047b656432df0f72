"""The catalogue: every procedure the assistant knows, by code and by field.

``load_catalogue`` reads the bundled files (``knowledge/data``: ``imported/*.json`` from the
national portal, ``curated/*.toml`` written by people, the curated one overlaying the imported one
key by key) and ``check_catalogue`` reports every problem in them in one run.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields, replace
from enum import Enum
from pathlib import Path
from typing import Any

from knowledge import model
from knowledge.model import FilingForm, OtherProcedure, Procedure
from knowledge.normalize import load_synonyms, normalize

DATA_DIR = Path(__file__).resolve().parent / "data"
CODE_PATTERN = re.compile(r"^\d\.\d{6}$")
FORM_FIELD_KINDS = frozenset(
    {"name", "date", "id_number", "phone", "choice", "yes_no", "number", "text", "address", "sex"}
)
_FIELD_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_REQUIRED_PROCEDURE_KEYS = ("code", "name", "field")


class Catalogue:
    """An immutable, in-memory set of procedures. Replaced codes resolve to their successors."""

    def __init__(self, procedures: Iterable[Procedure]) -> None:
        self._by_code: dict[str, Procedure] = {}
        self._aliases: dict[str, str] = {}
        for procedure in procedures:
            self._by_code[procedure.code] = procedure
        for procedure in self._by_code.values():
            for old in procedure.replaces:
                self._aliases[old] = procedure.code

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Procedure]:
        return iter(self._by_code.values())

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.get(code) is not None

    def get(self, code: str) -> Procedure | None:
        """The procedure with this code, or its successor if the code was replaced."""
        code = self._aliases.get(code, code)
        return self._by_code.get(code)

    def all(self) -> tuple[Procedure, ...]:
        return tuple(self._by_code.values())

    def fields(self) -> list[tuple[str, int]]:
        """Fields (lĩnh vực) with how many procedures each, most procedures first."""
        counts: dict[str, int] = {}
        for procedure in self._by_code.values():
            counts[procedure.field] = counts.get(procedure.field, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def by_field(self, field: str) -> tuple[Procedure, ...]:
        return tuple(
            sorted(
                (p for p in self._by_code.values() if p.field == field),
                key=lambda p: (not p.curated, p.name),
            )
        )


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a catalogue file."""

    path: str  # relative to the data folder, e.g. "curated/1.001193.toml"
    code: str  # the procedure code, or "" when the file has none
    message: str

    def __str__(self) -> str:
        where = f"{self.path} [{self.code}]" if self.code else self.path
        return f"{where}: {self.message}"


class CatalogueError(Exception):
    """The catalogue files have problems; ``problems`` lists all of them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the catalogue:\n{lines}")


def load_catalogue(data_dir: Path | None = None) -> Catalogue:
    """The catalogue from ``data_dir`` (default: the data bundled with this package).

    Raises ``CatalogueError`` listing every problem when a file is wrong.
    """
    procedures, problems = _read(data_dir or DATA_DIR)
    if problems:
        raise CatalogueError(problems)
    return Catalogue(procedures)


def check_catalogue(data_dir: Path | None = None) -> list[Problem]:
    """Every problem in the catalogue files, in file order; empty when all is well."""
    procedures, problems = _read(data_dir or DATA_DIR)
    _, elsewhere = _read_elsewhere(data_dir or DATA_DIR, Catalogue(procedures))
    return [*problems, *_same_for_search(procedures), *elsewhere]


ELSEWHERE_FILE = "elsewhere.json"
_ELSEWHERE_KEYS = ("code", "field", "name", "office")


def load_elsewhere(data_dir: Path | None = None) -> tuple[OtherProcedure, ...]:
    """The procedures other offices carry out (``elsewhere.json``); none without the file.
    Search leaves out any code its catalogue has (a procedure curated later is the commune's).

    Raises ``CatalogueError`` when the file is wrong.
    """
    found, problems = _read_elsewhere(data_dir or DATA_DIR, Catalogue(()))
    if problems:
        raise CatalogueError(problems)
    return tuple(found)


def _read_elsewhere(
    data_dir: Path, commune: Catalogue
) -> tuple[list[OtherProcedure], list[Problem]]:
    path = data_dir / ELSEWHERE_FILE
    if not path.is_file():
        return [], []
    problems: list[Problem] = []

    def problem(code: str, message: str) -> None:
        problems.append(Problem(ELSEWHERE_FILE, code, message))

    try:
        rows = json.loads(path.read_bytes())
    except ValueError as exc:
        problem("", f"not valid JSON: {exc}")
        return [], problems
    if not isinstance(rows, list):
        problem("", "must be a list of procedures")
        return [], problems
    found: list[OtherProcedure] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or sorted(row) != list(_ELSEWHERE_KEYS):
            problem("", f"entry {index}: needs exactly the keys {', '.join(_ELSEWHERE_KEYS)}")
            continue
        if not all(isinstance(row[key], str) for key in _ELSEWHERE_KEYS):
            problem("", f"entry {index}: every value must be a string")
            continue
        code = row["code"]
        if not CODE_PATTERN.match(code):
            problem(code, "code must look like 1.001193")
        elif code in seen:
            problem(code, "listed twice")
        elif code in commune:
            problem(code, "is in the commune catalogue too; re-run motcua catalogue import")
        elif not row["name"].strip():
            problem(code, "has no name")
        else:
            seen.add(code)
            found.append(OtherProcedure(**row))
    return found, problems


def _same_for_search(procedures: Sequence[Procedure]) -> list[Problem]:
    """A curated phrase that search reads exactly like another procedure's name or phrase.

    Search drops question and pronoun words and rewrites village words, so "chưa có giấy khai
    sinh" reads as "giấy khai sinh", the plain birth registration's alias: the two procedures
    would tie on the plainest question. Names of portal records are not compared with each
    other; they are not ours to change.
    """
    synonyms = load_synonyms()
    seen: dict[tuple[str, ...], tuple[str, str]] = {}
    for procedure in procedures:
        words = tuple(synonyms.catalogue_words(procedure.name))
        seen.setdefault(words, (procedure.code, f"name {procedure.name!r}"))
    problems: list[Problem] = []
    for procedure in procedures:
        for kind, texts in (
            ("alias", procedure.aliases),
            ("spoken", procedure.spoken),
            ("situation", procedure.situations),
        ):
            for text in texts:
                words = tuple(synonyms.query_words(text))
                first = seen.setdefault(words, (procedure.code, f"{kind} {text!r}"))
                if first[0] != procedure.code:
                    problems.append(
                        Problem(
                            "curated or phrasing",
                            procedure.code,
                            f"{kind} {text!r} reads as {' '.join(words)!r} for search, like "
                            f"{first[0]}'s {first[1]}: search cannot tell the two apart",
                        )
                    )
    return problems


# --- Schema, derived once from knowledge.model so the files and the dataclasses never drift ---


@dataclass(frozen=True, slots=True)
class _Slot:
    """How one dataclass field is read from a plain JSON/TOML value."""

    name: str
    shape: str  # "str" | "int" | "bool" | "enum" | "strs" | "items" | "item"
    optional: bool  # None allowed
    required: bool  # no default in the dataclass
    target: type[Any] | None = None  # the nested dataclass or enum


_SHAPE_WORDS = {
    "str": "text",
    "int": "a whole number",
    "bool": "true or false",
    "enum": "text",
    "strs": "a list of texts",
    "items": "a list of tables",
    "item": "a table",
}


def _slots_of(cls: type[Any]) -> dict[str, _Slot]:
    hints = typing.get_type_hints(cls, vars(model))
    slots: dict[str, _Slot] = {}
    for f in fields(cls):
        hint = hints[f.name]
        optional = False
        if isinstance(hint, types.UnionType):
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            optional = len(args) < len(typing.get_args(hint))
            hint = args[0]
        required = f.default is MISSING and f.default_factory is MISSING
        if typing.get_origin(hint) is tuple:
            item = typing.get_args(hint)[0]
            if item is str:
                slot = _Slot(f.name, "strs", optional, required)
            else:
                slot = _Slot(f.name, "items", optional, required, item)
        elif isinstance(hint, type) and issubclass(hint, Enum):
            slot = _Slot(f.name, "enum", optional, required, hint)
        elif hint is str:
            slot = _Slot(f.name, "str", optional, required)
        elif hint is bool:
            slot = _Slot(f.name, "bool", optional, required)
        elif hint is int:
            slot = _Slot(f.name, "int", optional, required)
        else:
            slot = _Slot(f.name, "item", optional, required, hint)
        slots[f.name] = slot
    return slots


_SCHEMA: dict[type[Any], dict[str, _Slot]] = {
    cls: _slots_of(cls)
    for cls in (
        model.Procedure,
        model.Fee,
        model.Paper,
        model.ChannelInfo,
        model.LegalRef,
        model.FilingForm,
        model.FormField,
        model.PhotoSlot,
    )
}

# Report a problem against the top-level key it belongs to (that picks the file to blame).
_Report = Callable[[str, str], None]


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _build(
    cls: type[Any], raw: Mapping[str, Any], where: str, top: str | None, report: _Report
) -> Any:
    """An instance of ``cls`` from ``raw``, or None when a required key is missing or wrong.

    Keys with a wrong type are reported and left at their default, so one run finds them all.
    """
    slots = _SCHEMA[cls]
    values: dict[str, Any] = {}
    broken = False
    for key, value in raw.items():
        owner = top if top is not None else key
        slot = slots.get(key)
        if slot is None:
            hint = difflib.get_close_matches(key, list(slots), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            report(owner, f"unknown key '{where}{key}'{suggestion}")
            continue
        converted, ok = _convert(slot, value, f"{where}{key}", owner, report)
        if ok:
            values[key] = converted
        elif slot.required:
            broken = True
    for slot in slots.values():
        if slot.required and slot.name not in raw:
            report(
                top if top is not None else slot.name, f"missing required key '{where}{slot.name}'"
            )
            broken = True
    if broken:
        return None
    return cls(**values)


def _convert(slot: _Slot, value: Any, where: str, owner: str, report: _Report) -> tuple[Any, bool]:
    def wrong() -> tuple[Any, bool]:
        report(owner, f"'{where}' should be {_SHAPE_WORDS[slot.shape]}, not {_type_name(value)}")
        return None, False

    if value is None:
        return (None, True) if slot.optional else wrong()
    shape = slot.shape
    if shape == "str":
        return (value, True) if isinstance(value, str) else wrong()
    if shape == "bool":
        return (value, True) if isinstance(value, bool) else wrong()
    if shape == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return (value, True) if ok else wrong()
    if shape == "enum":
        assert slot.target is not None
        if not isinstance(value, str):
            return wrong()
        try:
            return slot.target(value), True
        except ValueError:
            allowed = ", ".join(member.value for member in slot.target)
            report(owner, f"unknown {slot.name} '{value}' in '{where}' (expected one of {allowed})")
            return None, False
    if shape == "strs":
        if not isinstance(value, list):
            return wrong()
        bad = [i for i, item in enumerate(value) if not isinstance(item, str)]
        for i in bad:
            report(owner, f"'{where}[{i}]' should be text, not {_type_name(value[i])}")
        return (tuple(value), True) if not bad else (None, False)
    assert slot.target is not None
    if shape == "item":
        if not isinstance(value, dict):
            return wrong()
        built = _build(slot.target, value, f"{where}.", owner, report)
        return built, built is not None
    if not isinstance(value, list):
        return wrong()
    items: list[Any] = []
    whole = True
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            report(owner, f"'{where}[{i}]' should be a table, not {_type_name(item)}")
            whole = False
            continue
        built = _build(slot.target, item, f"{where}[{i}].", owner, report)
        if built is None:
            whole = False
        else:
            items.append(built)
    return tuple(items), whole


def _check_meaning(procedure: Procedure, report: _Report) -> None:
    """Rules the types alone don't catch."""
    if not CODE_PATTERN.match(procedure.code):
        report("code", f"bad code '{procedure.code}' (expected a digit, a dot and six digits)")
    for old in procedure.replaces:
        if not CODE_PATTERN.match(old):
            report("replaces", f"bad code '{old}' in 'replaces'")
    if procedure.processing_days is not None and procedure.processing_days < 0:
        report("processing_days", f"negative processing_days ({procedure.processing_days})")
    amount = procedure.fee.amount_vnd if procedure.fee is not None else None
    if amount is not None and amount < 0:
        report("fee", f"negative fee.amount_vnd ({amount})")
    per_copy = procedure.fee.copy_vnd if procedure.fee is not None else None
    if per_copy is not None and per_copy < 0:
        report("fee", f"negative fee.copy_vnd ({per_copy})")
    asks_copies = procedure.form is not None and any(
        f.name == "copies" for f in procedure.form.fields
    )
    # "8.000 đồng/bản" in words only: the receipt and the QR could not count the copies.
    priced = procedure.fee is not None and "/bản" in procedure.fee.text
    if asks_copies and priced and per_copy is None:
        report("fee", "the form asks for copies at a price per copy but fee.copy_vnd is unset")
    for i, paper in enumerate(procedure.papers):
        if paper.count is not None and paper.count < 0:
            report("papers", f"negative papers[{i}].count ({paper.count})")
    if procedure.form is not None:
        _check_form(procedure.form, report)
    _check_citizen_text(procedure, report)


def _check_form(form: FilingForm, report: _Report) -> None:
    seen: set[str] = set()
    for i, field in enumerate(form.fields):
        where = f"form.fields[{i}]"
        if field.kind not in FORM_FIELD_KINDS:
            kinds = ", ".join(sorted(FORM_FIELD_KINDS))
            report(
                "form", f"unknown kind '{field.kind}' in '{where}.kind' (expected one of {kinds})"
            )
        if field.kind == "choice" and not field.choices:
            report("form", f"choice field '{field.name}' ({where}) has no choices")
        if not _FIELD_NAME_PATTERN.match(field.name):
            report("form", f"field name '{field.name}' ({where}) is not snake_case")
        if field.name in seen:
            report("form", f"duplicate form field name '{field.name}' ({where})")
        seen.add(field.name)
        if field.parties and (field.kind != "choice" or len(field.parties) != len(field.choices)):
            report("form", f"'{where}.parties' needs a choice field with one party per choice")
        if field.joins and i == 0:
            report("form", f"'{where}.joins' on the first field: there is no field before it")
    names = {f.name for f in form.fields}
    photos: set[str] = set()
    for i, photo in enumerate(form.photos):
        if photo.name in photos:
            report("form", f"duplicate photo name '{photo.name}' (form.photos[{i}])")
        photos.add(photo.name)
    conditions = [(f"form.fields[{i}]", f.ask_if) for i, f in enumerate(form.fields)]
    conditions += [(f"form.photos[{i}]", p.ask_if) for i, p in enumerate(form.photos)]
    for where, condition in conditions:
        for part in condition.split("&") if condition else ():
            named = condition_field(part)
            if named not in names:
                report("form", f"'{where}.ask_if' names '{named}', no field of this form")


def condition_field(condition: str) -> str:
    """The field an ``ask_if`` condition looks at: "!a" / "a=b" / "a!=b" -> "a"."""
    return condition.strip().lstrip("!").partition("=")[0].rstrip("!").strip()


@dataclass(frozen=True, slots=True)
class _Source:
    path: str
    raw: dict[str, Any]


def _read_files(
    data_dir: Path, folder: str, parse: Callable[[bytes], object], problems: list[Problem]
) -> dict[str, _Source]:
    found: dict[str, _Source] = {}
    suffix = ".json" if folder == "imported" else ".toml"
    directory = data_dir / folder
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob(f"*{suffix}")):
        rel = f"{folder}/{path.name}"
        try:
            raw = parse(path.read_bytes())
        except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError, TOMLDecodeError
            problems.append(Problem(rel, path.stem, f"cannot be read: {error}"))
            continue
        if not isinstance(raw, dict):
            problems.append(Problem(rel, path.stem, "should hold one table (a JSON object)"))
            continue
        code = raw.get("code")
        if not isinstance(code, str):
            # The missing or mistyped code is reported when the record is built.
            code = path.stem
        elif code != path.stem:
            problems.append(
                Problem(rel, code, f"file name does not match the code (expected {code}{suffix})")
            )
        if code in found:
            problems.append(
                Problem(rel, code, f"duplicate code {code} (also in {found[code].path})")
            )
            continue
        found[code] = _Source(rel, raw)
    return found


def _parse_json(data: bytes) -> object:
    return json.loads(data)


def _parse_toml(data: bytes) -> object:
    return tomllib.loads(data.decode("utf-8"))


def _read(data_dir: Path) -> tuple[list[Procedure], list[Problem]]:
    problems: list[Problem] = []
    imported = _read_files(data_dir, "imported", _parse_json, problems)
    curated = _read_files(data_dir, "curated", _parse_toml, problems)
    procedures: list[Procedure] = []
    for code in sorted(imported.keys() | curated.keys()):
        procedure, found = _merge_and_build(code, imported.get(code), curated.get(code))
        if procedure is not None:
            procedures.append(procedure)
        problems.extend(found)
    # A portal record that a curated entry declares replaced (a legacy code such as 2.000986)
    # is not offered any more: its code resolves to the successor instead.
    retired = {old for p in procedures if p.code in curated for old in p.replaces}
    procedures = [p for p in procedures if p.code in curated or p.code not in retired]
    problems.extend(_check_replaces(procedures, imported, curated))
    procedures = _add_phrasing(data_dir, procedures, problems)
    return procedures, problems


# --- Phrasing: how villagers say it (knowledge/data/phrasing/<field>.toml) ---------------------

PHRASING_KEYS = ("spoken", "situations")


def _add_phrasing(
    data_dir: Path, procedures: list[Procedure], problems: list[Problem]
) -> list[Procedure]:
    """Procedures with the ``spoken`` and ``situations`` of the phrasing files added.

    Each file holds one table per procedure code with the two lists. A phrase that says nothing
    (empty), says it twice, or is given to two procedures (compared folded, as search sees it)
    is a problem: search could not tell the procedures apart by it.
    """
    by_code = {p.code: p for p in procedures}
    extra: dict[str, dict[str, list[str]]] = {}
    owner: dict[str, tuple[str, str]] = {}  # folded phrase -> (code, where it was written)
    for procedure in procedures:
        for text in (*procedure.aliases, *procedure.spoken, *procedure.situations):
            owner.setdefault(normalize(text), (procedure.code, "its curated file"))
    directory = data_dir / "phrasing"
    paths = sorted(directory.glob("*.toml")) if directory.is_dir() else []
    for path in paths:
        rel = f"phrasing/{path.name}"
        try:
            raw = _parse_toml(path.read_bytes())
        except (ValueError, UnicodeDecodeError) as error:
            problems.append(Problem(rel, "", f"cannot be read: {error}"))
            continue
        assert isinstance(raw, dict)
        for code, table in raw.items():

            def report(message: str, code: str = code, rel: str = rel) -> None:
                problems.append(Problem(rel, code, message))

            if not CODE_PATTERN.match(code):
                report(f"bad code '{code}' (expected a digit, a dot and six digits)")
                continue
            if code not in by_code:
                report(f"unknown code {code}: no procedure in the catalogue has it")
                continue
            if code in extra:
                report(f"phrasing for {code} is given twice")
                continue
            if not isinstance(table, dict):
                report(f"'{code}' should be a table with {' and '.join(PHRASING_KEYS)}")
                continue
            lists: dict[str, list[str]] = {}
            for key, value in table.items():
                if key not in PHRASING_KEYS:
                    report(f"unknown key '{key}' (expected {' or '.join(PHRASING_KEYS)})")
                    continue
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    report(f"'{key}' should be a list of texts")
                    continue
                kept: list[str] = []
                for i, text in enumerate(value):
                    folded = normalize(text)
                    if not folded:
                        report(f"'{key}[{i}]' is empty")
                        continue
                    first = owner.get(folded)
                    if first is not None:
                        where = "here" if first[0] == code else f"by {first[0]}"
                        report(f"'{key}[{i}]' {text!r} is already used {where} ({first[1]})")
                        continue
                    owner[folded] = (code, rel)
                    kept.append(text)
                lists[key] = kept
            extra[code] = lists
    if not extra:
        return procedures
    return [
        replace(
            p,
            spoken=(*p.spoken, *extra[p.code].get("spoken", ())),
            situations=(*p.situations, *extra[p.code].get("situations", ())),
        )
        if p.code in extra
        else p
        for p in procedures
    ]


def _merge_and_build(
    code: str, base: _Source | None, overlay: _Source | None
) -> tuple[Procedure | None, list[Problem]]:
    raw: dict[str, Any] = dict(base.raw) if base else {}
    origin = dict.fromkeys(raw, base.path) if base else {}
    if overlay:
        raw.update(overlay.raw)
        origin.update(dict.fromkeys(overlay.raw, overlay.path))
        raw.setdefault("curated", True)
    default_path = overlay.path if overlay else base.path if base else ""
    found: list[Problem] = []

    def report(key: str, message: str) -> None:
        if base is None and message.startswith("missing required key"):
            message += " (no imported record has this code, so the curated file must be complete)"
        found.append(Problem(origin.get(key, default_path), code, message))

    procedure = _build(Procedure, raw, "", None, report)
    if procedure is not None:
        _check_meaning(procedure, report)
    return procedure, found


def _check_replaces(
    procedures: Sequence[Procedure], imported: Mapping[str, _Source], curated: Mapping[str, _Source]
) -> list[Problem]:
    live = {p.code for p in procedures}
    claimed: dict[str, str] = {}
    problems: list[Problem] = []
    for procedure in procedures:
        source = curated.get(procedure.code) or imported.get(procedure.code)
        path = source.path if source else ""
        for old in procedure.replaces:
            if old in live:
                problems.append(
                    Problem(path, procedure.code, f"replaces {old}, which is itself a live record")
                )
            if old in claimed and claimed[old] != procedure.code:
                problems.append(
                    Problem(path, procedure.code, f"{old} is also replaced by {claimed[old]}")
                )
            claimed.setdefault(old, procedure.code)
    return problems


# --- Citizen-facing text: what a card screen shows must be written for the citizen -----------

# Every field an answer-card screen shows (dialogs/cards.py); steps, channel notes, aliases and
# the fee's basis are not shown and may keep the portal's wording.
_CITIZEN_TEXT = ("name", "summary", "who_may_file", "conditions", "handled_by", "processing_text")
_CITIZEN_TEXTS = ("results",)
_PAPER_TEXT = ("name", "copy_kind", "form", "note")

# An internal note talks about the data (where a value came from, that two sources disagree,
# that it is unverified, that someone must look again) instead of about the procedure. Each
# pattern names one such way of talking; ordinary uses of the same words ("nguồn gốc đất",
# "khác với số phí đã kê khai", "cần kiểm tra thực tế") are not matched.
_NOTE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("names the portal as a source", re.compile(r"\bcổng\s+DVC\b", re.IGNORECASE)),
    (
        "says what the portal wrote",
        re.compile(r"Cổng Dịch vụ công(?: quốc gia)?\s+(?:chỉ\s+)?(?:không\s+)?ghi\b", re.I),
    ),
    (
        "cites an unnamed source",
        re.compile(
            r"\b(?:một|hai|các|theo|có) nguồn\s+(?:ghi|khác|cho biết|nói)\b|\btheo nguồn\b", re.I
        ),
    ),
    ("cites a record", re.compile(r"\btheo bản ghi\b|\bbản ghi\s+(?:cũ|khác|gốc)\b", re.I)),
    (
        "reports two sources disagreeing",
        re.compile(
            r"\bmâu thuẫn (?:giữa|với (?:cổng|nguồn|mô tả|bản ghi))"
            r"|\bkhác với (?:cổng|nguồn|mô tả|bản ghi|ô phí)"
            r"|\bô phí\b"
            r"|\bghi\b[^.;()]*\bnhưng\b[^.;()]*\bghi\b",
            re.I,
        ),
    ),
    (
        "says the fact is unverified",
        re.compile(
            r"\bchưa (?:xác minh|kiểm chứng|rõ)\b|\bcần (?:kiểm tra|xác minh|xem) lại\b", re.I
        ),
    ),
    ("has a reviewer's marker", re.compile(r"\b(?:TODO|FIXME|XXX|TBD)\b|\?\?|\[\?\]|\(\?\)")),
    (
        "is a note in English",
        re.compile(
            r"\b(?:the|should|check|verify|source|unclear|todo|according|portal|confirm"
            r"|reviewer|missing|unknown|maybe|wrong|needs?)\b",
            re.IGNORECASE,
        ),
    ),
)
# Result and procedure-internal identifiers: "KQ.G15.000031", "KQ-G17.000005",
# "000.00.00.G04-KQ0257", "TP-G12.00011112"; a leftover "Mã:" cell label too.
_INTERNAL_CODE = re.compile(
    r"\bKQ[.\-]?[A-Z]\d{2}\.\d{3,}\b"
    r"|\b\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-KQ\d+\b"
    r"|\b[A-Z]{2,3}-[A-Z]\d{2}\.\d{5,}\b"
    r"|\bMã:\s*[A-Z0-9]"
)
# A legal instrument's number: "123/2015/NĐ-CP", "60/2014/QH13", "66.7/2025/NQ-CP".
_INSTRUMENT = re.compile(r"\b\d+(?:\.\d+)?/\d{4}/[A-ZĐ][A-ZĐ\d]*(?:-(?:TTg|[A-ZĐ][A-ZĐ\d]*))*")
_BRACKETS = {"(": ")", "[": "]", "“": "”"}


def _check_citizen_text(procedure: Procedure, report: _Report) -> None:
    """Notes to reviewers, internal codes, cut or repeated legal references in shown text."""
    for key, where, text in _shown_texts(procedure):
        for what, pattern in _NOTE_PATTERNS:
            found = pattern.search(text)
            if found:
                report(key, f"'{where}' {what} (internal note: \"{_around(text, found)}\")")
                break
        code = _INTERNAL_CODE.search(text)
        if code:
            report(key, f"'{where}' shows an internal code \"{code.group(0)}\"")
    for where, text in _legal_texts(procedure):
        if not _balanced(text):
            report(where.split(".")[0].split("[")[0], f"'{where}' has unbalanced brackets (cut?)")
    seen: dict[str, int] = {}
    for i, ref in enumerate(procedure.legal_basis):
        instruments = dict.fromkeys(_INSTRUMENT.findall(f"{ref.title} {ref.code}"))
        own = ref.code or next(iter(instruments), "") or " ".join(ref.title.split()).casefold()
        if own in seen:
            report(
                "legal_basis",
                f"'legal_basis[{i}]' repeats {own} (already legal_basis[{seen[own]}])",
            )
        seen.setdefault(own, i)
    if procedure.fee is not None:
        numbers = _INSTRUMENT.findall(procedure.fee.basis)
        twice = sorted({n for n in numbers if numbers.count(n) > 1})
        if twice:
            report("fee", f"'fee.basis' names {', '.join(twice)} twice")


def _shown_texts(procedure: Procedure) -> Iterator[tuple[str, str, str]]:
    """(top-level key, field path, text) for every citizen-facing text of ``procedure``."""
    for name in _CITIZEN_TEXT:
        yield name, name, getattr(procedure, name)
    for name in _CITIZEN_TEXTS:
        for i, text in enumerate(getattr(procedure, name)):
            yield name, f"{name}[{i}]", text
    for i, paper in enumerate(procedure.papers):
        for name in _PAPER_TEXT:
            yield "papers", f"papers[{i}].{name}", getattr(paper, name)
    if procedure.fee is not None:
        yield "fee", "fee.text", procedure.fee.text
        for i, text in enumerate(procedure.fee.exemptions):
            yield "fee", f"fee.exemptions[{i}]", text
    for where, text in _legal_texts(procedure):
        yield "legal_basis", where, text


def _legal_texts(procedure: Procedure) -> Iterator[tuple[str, str]]:
    for i, ref in enumerate(procedure.legal_basis):
        yield f"legal_basis[{i}].title", ref.title
        yield f"legal_basis[{i}].code", ref.code
    if procedure.fee is not None:
        yield "fee.basis", procedure.fee.basis


def _balanced(text: str) -> bool:
    closing = set(_BRACKETS.values())
    stack: list[str] = []
    for char in text:
        if char in _BRACKETS:
            stack.append(_BRACKETS[char])
        elif char in closing and (not stack or stack.pop() != char):
            return False
    return not stack


def _around(text: str, found: re.Match[str], width: int = 30) -> str:
    start, end = max(0, found.start() - width), min(len(text), found.end() + width)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
