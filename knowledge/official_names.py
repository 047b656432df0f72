"""The official spelling of names a citizen types loosely: ethnic groups and nationalities.

"kinh" is printed "Kinh", "viet nam" and "VN" "Việt Nam", "hmong" "Mông": a declaration is
written as an officer writes it. The 54 ethnic groups are the national list (Danh mục các dân
tộc Việt Nam, QĐ 121-TCTK/PPCĐ, 1979, as the civil-status forms use it); a few spellings in
common use (H'Mông, Ê-đê, Khơ-me) lead to the listed name. A name not on a list is left to the
caller, who prints it as typed.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

from knowledge.normalize import normalize

ETHNIC_GROUPS: tuple[str, ...] = (
    "Kinh", "Tày", "Thái", "Hoa", "Khmer", "Mường", "Nùng", "Mông", "Dao", "Gia Rai",
    "Ngái", "Ê Đê", "Ba Na", "Xơ Đăng", "Sán Chay", "Cơ Ho", "Chăm", "Sán Dìu", "Hrê",
    "Mnông", "Raglai", "Xtiêng", "Bru-Vân Kiều", "Thổ", "Giáy", "Cơ Tu", "Gié Triêng", "Mạ",
    "Khơ Mú", "Co", "Tà Ôi", "Chơ Ro", "Kháng", "Xinh Mun", "Hà Nhì", "Chu Ru", "Lào",
    "La Chí", "La Ha", "Phù Lá", "La Hủ", "Lự", "Lô Lô", "Chứt", "Mảng", "Pà Thẻn",
    "Cơ Lao", "Cống", "Bố Y", "Si La", "Pu Péo", "Brâu", "Ơ Đu", "Rơ Măm",
)  # fmt: skip
_ETHNIC_SPELLINGS: Mapping[str, str] = {
    "dan toc kinh": "Kinh",
    "h mong": "Mông",
    "hmong": "Mông",
    "mong": "Mông",
    "ede": "Ê Đê",
    "e de": "Ê Đê",
    "jrai": "Gia Rai",
    "gia lai": "Gia Rai",
    "khome": "Khmer",
    "kho me": "Khmer",
    "khmer": "Khmer",
    "ra glai": "Raglai",
    "m nong": "Mnông",
    "x tieng": "Xtiêng",
    "bru van kieu": "Bru-Vân Kiều",
    "van kieu": "Bru-Vân Kiều",
    "gie trieng": "Gié Triêng",
    "kho mu": "Khơ Mú",
    "kh mu": "Khơ Mú",
    "ta oi": "Tà Ôi",
    "pa then": "Pà Thẻn",
    "co lao": "Cơ Lao",
}

# Nationalities as the civil-status forms write them: the country's Vietnamese name.
NATIONALITIES: tuple[str, ...] = (
    "Việt Nam", "Lào", "Campuchia", "Trung Quốc", "Thái Lan", "Hàn Quốc", "Nhật Bản",
    "Hoa Kỳ", "Pháp", "Đức", "Nga", "Anh", "Ô-xtrây-li-a", "Ca-na-đa", "Đài Loan",
    "Ma-lai-xi-a", "Xin-ga-po", "In-đô-nê-xi-a", "Phi-líp-pin", "Ấn Độ",
)  # fmt: skip
_NATIONALITY_SPELLINGS: Mapping[str, str] = {
    "vn": "Việt Nam",
    "vietnam": "Việt Nam",
    "viet": "Việt Nam",
    "nuoc viet nam": "Việt Nam",
    "quoc tich viet nam": "Việt Nam",
    "cong hoa xa hoi chu nghia viet nam": "Việt Nam",
    "viet nam": "Việt Nam",
    "my": "Hoa Kỳ",
    "usa": "Hoa Kỳ",
    "campuchia": "Campuchia",
    "cam pu chia": "Campuchia",
    "trung hoa": "Trung Quốc",
    "han": "Hàn Quốc",
    "nhat": "Nhật Bản",
    "uc": "Ô-xtrây-li-a",
    "australia": "Ô-xtrây-li-a",
    "canada": "Ca-na-đa",
    "malaysia": "Ma-lai-xi-a",
    "singapore": "Xin-ga-po",
    "indonesia": "In-đô-nê-xi-a",
    "philippines": "Phi-líp-pin",
}


def _fold(text: str) -> str:
    return " ".join(normalize(text.replace("-", " ").replace("'", " ")).split())


@functools.cache
def _index(names: tuple[str, ...], spellings: tuple[tuple[str, str], ...]) -> dict[str, str]:
    index = {_fold(name): name for name in names}
    for typed, name in spellings:
        index.setdefault(_fold(typed), name)
    return index


def _lookup(text: str, names: tuple[str, ...], spellings: Mapping[str, str]) -> str | None:
    return _index(names, tuple(spellings.items())).get(_fold(text))


def official_ethnicity(text: str) -> str | None:
    """ "kinh" → "Kinh", "H'Mông" → "Mông", "ê đê" → "Ê Đê"; None when not on the list."""
    return _lookup(_strip_words(text, ("dan", "toc")), ETHNIC_GROUPS, _ETHNIC_SPELLINGS)


def official_nationality(text: str) -> str | None:
    """ "viet nam", "VN", "Việt nam" → "Việt Nam"; None when not on the list."""
    return _lookup(_strip_words(text, ("quoc", "tich")), NATIONALITIES, _NATIONALITY_SPELLINGS)


def _strip_words(text: str, lead: Iterable[str]) -> str:
    """ "dân tộc Kinh" → "Kinh", "quốc tịch Việt Nam" → "Việt Nam"."""
    words = text.split()
    lead = tuple(lead)
    folded = [normalize(w) for w in words[: len(lead)]]
    return (
        " ".join(words[len(lead) :]) if tuple(folded) == lead and len(words) > len(lead) else text
    )
