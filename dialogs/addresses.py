"""Addresses in the two-tier system in force since 1 Jul 2025: xã/phường/đặc khu + tỉnh/thành phố.

The unit list (34 provinces, 3,321 communes) comes from the ``vietnam-provinces`` package; the
search is ours: villagers type without tone marks, abbreviate ("HP", "TPHCM"), drop or add the
"xã"/"tỉnh" words, and still write the pre-2025 district and province. Units are told apart by
code, never by name: a new commune may reuse an old name (Thái Tân) and 238 names are shared by
communes in different provinces, so every match carries its codes and all namesakes are returned.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from dialogs.texts import validation as texts
from dialogs.validators import Invalid, Result, Valid
from knowledge.normalize import normalize

# Folded words before a unit's proper name; "xa", "phuong" and "thanh" also begin real names
# ("Xã Xa Dung", "Phường Phương Liệt", "Xã Thanh Hà"), so a prefix is only ever tried, never
# assumed.
_COMMUNE_TYPES: Mapping[tuple[str, ...], str] = {
    ("xa",): "xa",
    ("x",): "xa",
    ("phuong",): "phuong",
    ("p",): "phuong",
    ("dac", "khu"): "dac khu",
}
_MARKED_TYPE_WORDS = frozenset({"xã", "phường", "đặc", "khu"})
_PROVINCE_TYPES = (("thanh", "pho"), ("tinh",), ("tp",), ("t", "p"))
_HAMLET_WORDS = frozenset(
    {"thon", "xom", "ap", "ban", "buon", "lang", "soc", "khom", "to", "khu", "doi", "phum"}
)
# Pre-2025 units that no longer exist. Tone-marked forms are unambiguous anywhere; the folded
# forms only at the start of a comma-separated part, because "Huyền"/"Quan" begin real names.
_DISTRICT_MARKED = re.compile(r"(?<!\w)(?:huyện|quận|thị trấn|thị xã)(?!\w)")
_DISTRICT_FOLDED = (("huyen",), ("quan",), ("thi", "tran"), ("thi", "xa"))

# Abbreviations people type for the big cities (folded words → 2-digit code).
PROVINCE_ABBREVIATIONS: Mapping[str, str] = {
    "hn": "01",
    "hp": "31",
    "hcm": "79",
    "tphcm": "79",
    "tp hcm": "79",
    "sg": "79",
    "sai gon": "79",
    "thua thien hue": "46",
    "tt hue": "46",
}

# NQ 202/2025/QH15: the 29 provinces merged away on 1 Jul 2025 → the province they joined.
# Only Hải Dương → Hải Phòng is confirmed in the domain notes (§5); the rest agree with the
# post-2025 code table there (each new province keeps one old code) but are unconfirmed.
LEGACY_PROVINCES: Mapping[str, str] = {
    "Hà Giang": "08",
    "Yên Bái": "15",
    "Bắc Kạn": "19",
    "Vĩnh Phúc": "25",
    "Hòa Bình": "25",
    "Bắc Giang": "24",
    "Thái Bình": "33",
    "Hải Dương": "31",
    "Hà Nam": "37",
    "Nam Định": "37",
    "Quảng Bình": "44",
    "Quảng Nam": "48",
    "Kon Tum": "51",
    "Bình Định": "52",
    "Ninh Thuận": "56",
    "Đắk Nông": "68",
    "Bình Thuận": "68",
    "Phú Yên": "66",
    "Bình Dương": "79",
    "Bà Rịa - Vũng Tàu": "79",
    "Bình Phước": "75",
    "Long An": "80",
    "Sóc Trăng": "92",
    "Hậu Giang": "92",
    "Bến Tre": "86",
    "Trà Vinh": "86",
    "Tiền Giang": "82",
    "Bạc Liêu": "96",
    "Kiên Giang": "91",
}

_EXACT = 100.0
_FOLDED_EXACT = 96.0  # same letters, different tone marks ("Thủy"/"Thuỷ", or typed without)
_TYPE_MISMATCH = 2.0  # "phường X" typed, "Xã X" found: still offered, ranked lower
_FUZZY_CAP = 94.0  # a typo never outranks an exact name
_FUZZY_CUTOFF = 80.0
_MAX_ALIAS_WORDS = 5


@dataclass(frozen=True, slots=True)
class ProvinceUnit:
    code: str  # 2 digits, "31"
    name: str  # full official name, "Thành phố Hải Phòng", "Tỉnh Cao Bằng"


@dataclass(frozen=True, slots=True)
class CommuneUnit:
    code: str  # 5 digits, "10642"
    name: str  # "Xã Thái Tân"
    province_code: str


@dataclass(frozen=True, slots=True)
class ProvinceMatch:
    code: str
    name: str
    score: float
    legacy_name: str = ""  # "Hải Dương" when found through a province merged away in 2025


@dataclass(frozen=True, slots=True)
class CommuneMatch:
    code: str
    name: str
    province_code: str
    province_name: str
    score: float

    @property
    def full_name(self) -> str:
        return f"{self.name}, {self.province_name}"


@dataclass(frozen=True, slots=True)
class _Token:
    word: str  # folded
    text: str  # as typed (NFC)
    start: int  # span in the NFC text
    end: int


@dataclass(frozen=True, slots=True)
class _Province:
    code: str
    legacy_name: str  # "" for a current province


@dataclass(frozen=True, slots=True)
class _CommuneHit:
    matches: list[CommuneMatch]
    exact: bool
    part: int  # index of the part the name was found in
    start: int  # character offset where the commune (with its "xã" word) begins


@dataclass(frozen=True, slots=True)
class _Located:
    province: _Province
    part: int  # the part naming the province
    first: int  # its first token that belongs to the province


def _tokens(text: str, offset: int = 0) -> list[_Token]:
    out: list[_Token] = []
    for match in re.finditer(r"[^\W_]+", text):
        for word in normalize(match.group()).split():
            out.append(_Token(word, match.group(), offset + match.start(), offset + match.end()))
    return out


def _segments(text: str) -> list[list[_Token]]:
    parts = [_tokens(m.group(), m.start()) for m in re.finditer(r"[^,;\n]+", text)]
    return [part for part in parts if part]


def _words(tokens: Sequence[_Token]) -> tuple[str, ...]:
    return tuple(token.word for token in tokens)


def _strip_prefix(words: tuple[str, ...], prefixes: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    for prefix in prefixes:
        if len(words) > len(prefix) and words[: len(prefix)] == prefix:
            return words[len(prefix) :]
    return words


def _commune_type(words: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    for prefix, kind in _COMMUNE_TYPES.items():
        if len(words) > len(prefix) and words[: len(prefix)] == prefix:
            return kind, words[len(prefix) :]
    return "", words


def _typed_as_type(tokens: Sequence[_Token]) -> bool:
    return all(t.text.isascii() or t.text.lower() in _MARKED_TYPE_WORDS for t in tokens)


def _names_a_commune(words: tuple[str, ...]) -> bool:
    """Words are left for a commune name: not nothing, not a bare "xã"."""
    return bool(words) and words not in _COMMUNE_TYPES


def _lower_type(name: str) -> str:
    """ "Xã Thái Tân" → "xã Thái Tân": unit words are lower case inside an address line."""
    return name[:1].lower() + name[1:]


def _marked_proper(name: str) -> str:
    """The proper name with its tone marks, lower case: "Xã Thái Tân" → "thái tân"."""
    words = unicodedata.normalize("NFC", name).lower().split()
    kind, _ = _commune_type(tuple(normalize(name).split()))
    return " ".join(words[len(kind.split()) :])


def _ranked(matches: list[CommuneMatch]) -> list[CommuneMatch]:
    return sorted(matches, key=lambda m: (-m.score, m.province_code, m.code))


def _province_full_name(name: str) -> str:
    return name if name.startswith(("Thành phố", "Tỉnh")) else f"Tỉnh {name}"


class AddressBook:
    """Search over the current provinces and communes. Build once (``from_package``) and share."""

    def __init__(self, provinces: Iterable[ProvinceUnit], communes: Iterable[CommuneUnit]) -> None:
        self._provinces = {p.code: p for p in provinces}
        self._communes = list(communes)
        self._province_aliases: dict[tuple[str, ...], _Province] = {}
        for province in self._provinces.values():
            base = _strip_prefix(tuple(normalize(province.name).split()), _PROVINCE_TYPES)
            self._province_aliases[base] = _Province(province.code, "")
        for alias, code in PROVINCE_ABBREVIATIONS.items():
            if code in self._provinces:
                self._province_aliases.setdefault(tuple(alias.split()), _Province(code, ""))
        for old_name, code in LEGACY_PROVINCES.items():
            if code in self._provinces:
                words = tuple(normalize(old_name).split())
                self._province_aliases.setdefault(words, _Province(code, old_name))
        # Two-letter abbreviations are too short to spell-correct towards.
        self._fuzzy_province_aliases = [
            " ".join(words)
            for words in self._province_aliases
            if " ".join(words) not in PROVINCE_ABBREVIATIONS
        ]

        self._index_by_code: dict[str, int] = {}
        self._by_name: dict[tuple[str, ...], list[int]] = {}
        self._names: list[str] = []  # folded proper name, by commune index
        self._kinds: list[str] = []  # "xa", "phuong", "dac khu"
        self._marked: list[str] = []
        self._by_province: dict[str, list[int]] = {}
        for index, commune in enumerate(self._communes):
            kind, proper = _commune_type(tuple(normalize(commune.name).split()))
            self._index_by_code[commune.code] = index
            self._by_name.setdefault(proper, []).append(index)
            self._names.append(" ".join(proper))
            self._kinds.append(kind)
            self._marked.append(_marked_proper(commune.name))
            self._by_province.setdefault(commune.province_code, []).append(index)

    @classmethod
    def from_package(cls) -> AddressBook:
        """The 2025 list shipped in ``vietnam-provinces``, imported here: only needed once."""
        import vietnam_provinces

        provinces = [
            ProvinceUnit(f"{int(p.code):02d}", _province_full_name(p.name))
            for p in vietnam_provinces.Province.iter_all()
        ]
        communes = [
            CommuneUnit(f"{int(w.code):05d}", w.name, f"{int(w.province_code):02d}")
            for w in vietnam_provinces.Ward.iter_all()
        ]
        return cls(provinces, communes)

    @property
    def provinces(self) -> tuple[ProvinceUnit, ...]:
        return tuple(self._provinces.values())

    @property
    def communes(self) -> tuple[CommuneUnit, ...]:
        return tuple(self._communes)

    def province(self, code: str) -> ProvinceUnit | None:
        return self._provinces.get(code)

    def commune(self, code: str) -> CommuneMatch | None:
        index = self._index_by_code.get(code)
        return None if index is None else self._match(index, _EXACT)

    def names_commune(self, words: Sequence[str]) -> bool:
        """Whether folded ``words`` are exactly some commune's name (without "xã"/"phường")."""
        return tuple(words) in self._by_name

    # Provinces -------------------------------------------------------------------------------

    def _province_alias(self, words: tuple[str, ...]) -> _Province | None:
        found = self._province_aliases.get(words)
        if found is None:
            found = self._province_aliases.get(_strip_prefix(words, _PROVINCE_TYPES))
        return found

    def _province_match(self, found: _Province, score: float) -> ProvinceMatch:
        unit = self._provinces[found.code]
        return ProvinceMatch(unit.code, unit.name, score, found.legacy_name)

    def find_province(self, text: str, *, limit: int = 5) -> list[ProvinceMatch]:
        """ "hai phong", "HP", "TP.HCM", "tỉnh Hải Dương" (→ Hải Phòng, with ``legacy_name``),
        a whole address line (its last part), or a near spelling ("hai phog")."""
        segments = _segments(unicodedata.normalize("NFC", text))
        if not segments:
            return []
        located = self._locate_province(segments, allow_whole=True)
        if located is not None:
            return [self._province_match(located.province, _EXACT)]
        query = " ".join(_strip_prefix(_words(segments[-1]), _PROVINCE_TYPES))
        if len(query) < 3:
            return []
        best: dict[str, ProvinceMatch] = {}
        for alias, score, _ in process.extract(
            query, self._fuzzy_province_aliases, scorer=fuzz.ratio, limit=None, score_cutoff=75
        ):
            found = self._province_aliases[tuple(alias.split())]
            match = self._province_match(found, min(float(score), _FUZZY_CAP))
            if found.code not in best or best[found.code].score < match.score:
                best[found.code] = match
        return sorted(best.values(), key=lambda m: (-m.score, m.code))[:limit]

    def _locate_province(
        self, segments: list[list[_Token]], *, allow_whole: bool
    ) -> _Located | None:
        """The province named at the end of an address.

        A whole part naming a province wins ("Thái Tân, HP"); otherwise the last words of the
        last part ("thai tan hai phong") if words are left for a commune. ``allow_whole``: the
        text may be nothing but a province.
        """
        for index in range(len(segments) - 1, -1, -1):
            words = _words(segments[index])
            if _commune_type(words)[0]:
                continue
            found = self._province_alias(words)
            if found is not None and (allow_whole or index > 0):
                return _Located(found, index, 0)
        last = len(segments) - 1
        words = _words(segments[last])
        for size in range(min(_MAX_ALIAS_WORDS, len(words) - 1), 0, -1):
            found = self._province_aliases.get(words[-size:])
            if found is None:
                continue
            head = words[:-size]
            for prefix in _PROVINCE_TYPES:  # "... thanh pho hai phong"
                if len(head) > len(prefix) and head[-len(prefix) :] == prefix:
                    head = head[: -len(prefix)]
                    break
            if _names_a_commune(head):
                return _Located(found, last, len(head))
        return None

    # Communes --------------------------------------------------------------------------------

    def _match(self, index: int, score: float) -> CommuneMatch:
        commune = self._communes[index]
        province = self._provinces.get(commune.province_code)
        return CommuneMatch(
            commune.code,
            commune.name,
            commune.province_code,
            province.name if province else "",
            score,
        )

    def _exact(
        self, tokens: Sequence[_Token], province_code: str | None, marked: bool
    ) -> tuple[list[CommuneMatch], int] | None:
        """Names spelt right (tone marks aside) at the end of ``tokens``, longest first; with
        the index of the first token used, so the words before it (hamlet, street) are kept."""
        for start in range(len(tokens)):
            words = _words(tokens[start:])
            for kind, proper in (("", words), _commune_type(words)):
                if kind and not _typed_as_type(tokens[start : len(tokens) - len(proper)]):
                    continue  # "Mạc Xá Thái Tân": "Xá" is part of a hamlet name, not "xã"
                indices = self._by_name.get(proper, [])
                if province_code is not None:
                    indices = [
                        i for i in indices if self._communes[i].province_code == province_code
                    ]
                if not indices:
                    continue
                typed = " ".join(t.text for t in tokens[len(tokens) - len(proper) :]).lower()
                matches = [
                    self._match(i, self._exact_score(i, typed, kind, marked)) for i in indices
                ]
                return _ranked(matches), start
        return None

    def _exact_score(self, index: int, typed: str, kind: str, marked: bool) -> float:
        # Without a single tone mark in the line, "thanh an" may mean "Thạnh An" as much as
        # "Thanh An": only someone who types marks is taken at their word.
        score = _EXACT if marked and typed == self._marked[index] else _FOLDED_EXACT
        if kind and kind != self._kinds[index]:
            score -= _TYPE_MISMATCH
        return score

    def _fuzzy(
        self, words: tuple[str, ...], province_code: str | None, limit: int
    ) -> list[CommuneMatch]:
        queries = {" ".join(words), " ".join(_commune_type(words)[1])}
        queries |= {" ".join(words[-size:]) for size in range(1, min(4, len(words)) + 1)}
        pool = (
            self._by_province.get(province_code, [])
            if province_code is not None
            else range(len(self._communes))
        )
        names = {i: self._names[i] for i in pool}
        best: dict[int, float] = {}
        for query in (q for q in queries if len(q) >= 4):
            for _, score, index in process.extract(
                query, names, scorer=fuzz.ratio, limit=limit, score_cutoff=_FUZZY_CUTOFF
            ):
                best[index] = max(best.get(index, 0.0), min(float(score), _FUZZY_CAP))
        return _ranked([self._match(i, s) for i, s in best.items()])[:limit]

    def find_commune(
        self, text: str, province_code: str | None = None, *, limit: int = 10
    ) -> list[CommuneMatch]:
        """Communes named in ``text``, best first: "thai tan hai phong", "xa thai tan",
        "Thái Tân, HP", or with a typo. Namesakes in other provinces are all returned unless a
        province is given (``province_code``) or named in the text; a province named alone
        ("hai phong") gives nothing, so the dialog asks for the commune.
        """
        segments = _segments(unicodedata.normalize("NFC", text))
        if not segments:
            return []  # no word at all: "", "!!!", an emoji
        if province_code is None:
            located = self._locate_province(segments, allow_whole=False)
            if located is not None:
                segments = _before(segments, located)
                province_code = located.province.code
        hit = self._search(segments, province_code, limit, marked=not text.isascii())
        if hit is None or (not hit.exact and self._only_province(segments)):
            return []
        return hit.matches

    def _only_province(self, segments: list[list[_Token]]) -> bool:
        return len(segments) == 1 and self._province_alias(_words(segments[0])) is not None

    def _search(
        self, segments: list[list[_Token]], province_code: str | None, limit: int, *, marked: bool
    ) -> _CommuneHit | None:
        for part in range(len(segments) - 1, -1, -1):
            exact = self._exact(segments[part], province_code, marked)
            if exact is not None:
                matches, first = exact
                return _CommuneHit(matches[:limit], True, part, segments[part][first].start)
        if segments:
            fuzzy = self._fuzzy(_words(segments[-1]), province_code, limit)
            if fuzzy:
                return _CommuneHit(fuzzy, False, len(segments) - 1, segments[-1][0].start)
        return None


def _before(segments: list[list[_Token]], located: _Located) -> list[list[_Token]]:
    """The parts of an address before its province: where the commune, hamlet and street are."""
    rest = [*segments[: located.part], segments[located.part][: located.first]]
    return [part for part in rest if part]


# Whole address lines -------------------------------------------------------------------------


def _has_district(line: str, segments: list[list[_Token]], book: AddressBook) -> bool:
    if _DISTRICT_MARKED.search(line.lower()):
        return True
    for part in segments:
        words = _words(part)
        if (
            all(t.text.isascii() for t in part)
            and any(len(words) > len(p) and words[: len(p)] == p for p in _DISTRICT_FOLDED)
            and not book.names_commune(words)  # "quan son": xã Quan Sơn, not a quận
        ):
            return True
    return False


def _is_hamlet(words: tuple[str, ...]) -> bool:
    return bool(words) and words[0] in _HAMLET_WORDS


def parse_address(text: str, book: AddressBook, *, example: str = texts.ADDRESS_EXAMPLE) -> Result:
    """A full line such as "thôn Mạc Xá, xã Thái Tân, Hải Phòng" → the two-tier address.

    ``value`` holds ``street``, ``hamlet``, ``commune_code`` (5 digits), ``commune_name``,
    ``province_code`` (2 digits) and ``province_name``. A pre-2025 line (with a district, or a
    province merged away) is refused with an explanation, because the commune must be named as
    it is now. ``example`` is the deployment's own example address, from config.
    """
    line = unicodedata.normalize("NFC", text).strip()
    segments = _segments(line)
    if not segments:
        return Invalid(texts.ADDRESS_EMPTY.format(example=example))
    located = book._locate_province(segments, allow_whole=True)
    if _has_district(line, segments, book):
        message = texts.ADDRESS_HAS_DISTRICT.format(example=example)
        if located is not None and located.province.legacy_name:
            old, new = _legacy_names(book, located.province)
            note = texts.ADDRESS_LEGACY_PROVINCE_NOTE.format(old=old, new=new)
            message = f"{message} {note[:1].upper()}{note[1:]}"
        return Invalid(message)
    if located is None:
        return Invalid(texts.ADDRESS_NO_PROVINCE.format(example=example))
    if located.province.legacy_name:
        old, new = _legacy_names(book, located.province)
        return Invalid(texts.ADDRESS_LEGACY_PROVINCE.format(old=old, new=new, example=example))
    province = book._provinces[located.province.code]
    province_name = _lower_type(province.name)
    rest = _before(segments, located)
    if not rest:
        return Invalid(texts.ADDRESS_NO_COMMUNE.format(province=province_name, example=example))
    hit = book._search(rest, province.code, limit=3, marked=not line.isascii())
    if hit is None or not hit.exact:
        typed = line[rest[-1][0].start : rest[-1][-1].end]
        if hit is None:
            return Invalid(
                texts.ADDRESS_COMMUNE_NOT_FOUND.format(
                    name=typed, province=province_name, example=example
                )
            )
        suggestions = texts.ADDRESS_SUGGESTION_JOINER.join(_lower_type(m.name) for m in hit.matches)
        return Invalid(
            texts.ADDRESS_COMMUNE_SUGGEST.format(
                name=typed, province=province_name, suggestions=suggestions, example=example
            )
        )
    tied = [m for m in hit.matches if m.score == hit.matches[0].score]
    if len(tied) > 1:  # "van lang": Văn Lang and Văn Lăng are both in Thái Nguyên
        return Invalid(
            texts.ADDRESS_COMMUNE_AMBIGUOUS.format(
                province=province_name,
                names=texts.ADDRESS_NAMES_JOINER.join(_lower_type(m.name) for m in tied),
                example=example,
            )
        )
    commune = hit.matches[0]
    pieces = [line[part[0].start : part[-1].end] for part in rest[: hit.part]]
    pieces += [line[part[0].start : part[-1].end] for part in rest[hit.part + 1 :]]
    lead = line[rest[hit.part][0].start : hit.start].strip(" .-")
    if lead:
        pieces.insert(hit.part, lead)
    hamlets = [p for p in pieces if _is_hamlet(tuple(normalize(p).split()))]
    streets = [p for p in pieces if p not in hamlets]
    value = {
        "street": ", ".join(streets),
        "hamlet": ", ".join(hamlets),
        "commune_code": commune.code,
        "commune_name": commune.name,
        "province_code": province.code,
        "province_name": province.name,
    }
    display = ", ".join([*pieces, _lower_type(commune.name), province_name])
    return Valid(value, display)


def _legacy_names(book: AddressBook, province: _Province) -> tuple[str, str]:
    new = book.province(province.code)
    return f"tỉnh {province.legacy_name}", _lower_type(new.name if new else "")


# Addresses from before the 2025 reorganisation -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Successor:
    """The unit that took over an old commune, offered for the citizen to confirm.

    ``old`` names the old units as they were ("xã Minh Tân, huyện Nam Sách, tỉnh Hải Dương");
    ``value`` and ``display`` are the new address in :func:`parse_address`'s shape, keeping
    the hamlet and street the citizen typed. ``divided``: the old commune was split between
    several new ones and this is the one that kept its main part.
    """

    old: str
    value: dict[str, str]
    display: str
    divided: bool


@dataclass(frozen=True, slots=True)
class _LegacyData:
    parse: Any
    legacy_mode: Any
    new_mode: Any
    provinces: Mapping[str, list[str]]
    whole: Mapping[str, Mapping[str, list[str]]]
    divided: Mapping[str, Mapping[str, list[dict[str, Any]]]]


@functools.cache
def _legacy_data() -> _LegacyData:
    """``vietnamadminunits`` (MIT): its pre-2025 parser and its old → new tables, which use
    the same unit codes as ``vietnam-provinces``. Imported on first use (its tables take about
    a second to load). Its own ``convert_address`` is not used: given a street it geocodes the
    address over the internet to choose between the parts of a divided commune; here only the
    units are passed and a divided commune goes to the part its tables name as the default."""
    from vietnamadminunits import ParseMode
    from vietnamadminunits import parse_address as parse
    from vietnamadminunits.converter import converter_2025 as tables

    return _LegacyData(
        parse=parse,
        legacy_mode=ParseMode.LEGACY,
        new_mode=ParseMode.FROM_2025,
        provinces=tables.DICT_PROVINCE,
        whole=tables.DICT_PROVINCE_WARD_NO_DIVIDED,
        divided=tables.DICT_PROVINCE_WARD_DIVIDED,
    )


def _has_digit(text: str) -> bool:
    return any(char.isdigit() for char in text)


def successor(text: str, book: AddressBook) -> Successor | None:
    """The 2025 commune that an old address names ("xã Minh Tân, huyện Nam Sách, Hải Dương"
    → xã Thái Tân, thành phố Hải Phòng), or None when the line names no old commune that the
    tables know. Works offline: nothing but the unit names is passed to the converter."""
    line = unicodedata.normalize("NFC", text).strip()
    parts = [m.group().strip() for m in re.finditer(r"[^,;\n]+", line)]
    parts = [p for p in parts if p]
    # The hamlet and street stay as typed; the units (commune, district, province) are looked
    # up. A part with a house number or a hamlet word is not a unit.
    kept = [p for p in parts if _has_digit(p) or _is_hamlet(tuple(normalize(p).split()))]
    units = [p for p in parts if p not in kept]
    if len(units) < 2:
        return None
    data = _legacy_data()
    try:
        old = data.parse(", ".join(units), mode=data.legacy_mode, keep_street=False, level=3)
        if not (old.ward_key and old.district_key and old.province_key):
            return None
        province_key = next(
            (new for new, olds in data.provinces.items() if old.province_key in olds), None
        )
        if province_key is None:
            return None
        old_key = f"{old.province_key}_{old.district_key}_{old.ward_key}"
        ward_key = next(
            (new for new, olds in data.whole.get(province_key, {}).items() if old_key in olds),
            None,
        )
        divided = ward_key is None
        if divided:
            parts_of = data.divided.get(province_key, {}).get(old_key, [])
            ward_key = next((p["newWardKey"] for p in parts_of if p["isDefaultNewWard"]), None)
        if ward_key is None:
            return None
        new = data.parse(f"{ward_key}, {province_key}", mode=data.new_mode, level=2)
        code = str(new.ward_code or "")
    except Exception:  # a third-party parser: whatever it trips on, the dialog asks again
        return None
    commune = book.commune(code)
    if commune is None or normalize(commune.name) != normalize(str(new.ward or "")):
        return None  # the two packages disagree about this code: offer nothing
    hamlets = [p for p in kept if _is_hamlet(tuple(normalize(p).split()))]
    streets = [p for p in kept if p not in hamlets]
    value = {
        "street": ", ".join(streets),
        "hamlet": ", ".join(hamlets),
        "commune_code": commune.code,
        "commune_name": commune.name,
        "province_code": commune.province_code,
        "province_name": commune.province_name,
    }
    old_name = ", ".join(
        _lower_type(str(unit)) for unit in (old.ward, old.district, old.province) if unit
    )
    display = ", ".join([*kept, _lower_type(commune.name), _lower_type(commune.province_name)])
    return Successor(old_name, value, display, divided)
