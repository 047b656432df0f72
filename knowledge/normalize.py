"""Vietnamese text folding and query rewriting for catalogue search.

Citizens type with or without tone marks, with texting abbreviations ("dk ks"), regional words
("khai sanh", "nhập khẩu cho con") and typos. Everything is folded to plain ASCII words first, so
"Đăng ký", "dang ky" and "ĐĂNG KÝ" meet; then the rewrite rules of ``data/synonyms.toml`` turn
village words into the catalogue's words. The rules are data, reviewed like the catalogue.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from rapidfuzz import process
from rapidfuzz.distance import OSA


def _fold_table() -> dict[int, str]:
    # One translate table instead of NFD per call: the query path must stay well under 1 ms.
    table: dict[int, str] = {}
    for start, end in ((0x00C0, 0x0250), (0x1E00, 0x1F00)):
        for point in range(start, end):
            base = unicodedata.normalize("NFD", chr(point))[0].lower()
            if base.isascii() and base.isalpha():
                table[point] = base
    for point in range(0x0300, 0x0370):  # combining marks of decomposed (NFD) input
        table[point] = ""
    table[ord("đ")] = table[ord("Đ")] = "d"
    return table


_FOLD = _fold_table()
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Where a villager says they live ("ở thôn Đông", "xóm Bãi", "bản Nà Lầu", "đội 6"): the unit
# and its name, capitalised or a number, say nothing about the procedure.
_PLACE = re.compile(
    r"\b(?:thôn|thon|xóm|xom|ấp|ap|bản|ban|làng|lang|buôn|buon|khu|đội|doi|tổ|to|khóm|khom|"
    r"phum|sóc|soc)\s+(?:\d+\b|(?:[A-ZĐÀ-Ỹ][^\s,.;:!?]*)(?:\s+[A-ZĐÀ-Ỹ][^\s,.;:!?]*){0,2})"
)


def normalize(text: str) -> str:
    """Fold to lowercase ASCII words: tone marks and đ dropped, punctuation to single spaces."""
    folded = text.lower().translate(_FOLD)
    return _NON_WORD.sub(" ", folded).strip()


def tokens(text: str) -> list[str]:
    return normalize(text).split()


Phrase = tuple[str, ...]


def _rules(table: Mapping[str, object], section: str) -> dict[Phrase, Phrase]:
    rules: dict[Phrase, Phrase] = {}
    for key, value in table.items():
        if not isinstance(value, str):
            raise ValueError(f"synonyms [{section}] {key!r}: the replacement must be a string")
        source = tuple(tokens(key))
        if not source:
            raise ValueError(f"synonyms [{section}] {key!r}: empty after folding")
        rules[source] = tuple(tokens(value))
    return rules


def _rewrite(
    words: Sequence[str], rules: Mapping[Phrase, Phrase], longest: int, skip: frozenset[str]
) -> list[str]:
    """Replace rule keys, longest first; a key may also match with ``skip`` words in between
    ("bố tôi mới mất" meets the key "bố mất")."""
    out: list[str] = []
    i = 0
    count = len(words)
    while i < count:
        match: Phrase | None = None
        end = i + 1
        for size in range(min(longest, count - i), 0, -1):
            match = rules.get(tuple(words[i : i + size]))
            if match is not None:
                end = i + size
                break
        if words[i] not in skip:
            positions = [i]
            j = i + 1
            while j < count and len(positions) < longest:
                if words[j] not in skip:
                    positions.append(j)
                j += 1
            for size in range(len(positions), 1, -1):
                if match is not None and size <= end - i:
                    break
                found = rules.get(tuple(words[p] for p in positions[:size]))
                if found is not None:
                    match, end = found, positions[size - 1] + 1
                    break
        if match is None:
            out.append(words[i])
        else:
            out.extend(match)
        i = end
    return out


@dataclass(frozen=True, slots=True)
class Synonyms:
    """Rewrite rules, keys and values already folded.

    ``words`` (abbreviations, misspellings) apply to catalogue text and queries alike, so "BHYT"
    in a procedure name meets "bảo hiểm y tế" in a question. ``phrases`` (village words, question
    phrases that carry no meaning) apply to queries only: "nhập khẩu" means permanent residence
    to a villager but customs import in a customs procedure's name. ``stop`` words are dropped on
    both sides after rewriting.
    """

    words: Mapping[Phrase, Phrase]
    phrases: Mapping[Phrase, Phrase]
    stop: frozenset[str]
    keep: frozenset[str] = frozenset()
    # Words that set a variant apart from the ordinary procedure ("lại", "nước ngoài", "lưu
    # động"), folded, pairs joined by a space: search prefers the variant that has them.
    variants: frozenset[str] = frozenset()
    _spans: tuple[int, int] = field(default=(0, 0), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spans = (_longest(self.words), _longest(self.phrases))
        object.__setattr__(self, "_spans", spans)

    @classmethod
    def from_toml(cls, text: str) -> Synonyms:
        data = tomllib.loads(text)
        unknown = set(data) - {"words", "phrases", "stop", "keep", "variants"}
        if unknown:
            raise ValueError(f"synonyms: unknown sections {sorted(unknown)}")
        return cls(
            words=_rules(data.get("words", {}), "words"),
            phrases=_rules(data.get("phrases", {}), "phrases"),
            stop=_word_list(data, "stop"),
            keep=_word_list(data, "keep"),
            variants=_phrase_list(data, "variants"),
        )

    def catalogue_words(self, text: str) -> list[str]:
        """Words of catalogue text (names, aliases, summaries) as the index stores them."""
        words = _rewrite(tokens(text), self.words, self._spans[0], frozenset())
        return [w for w in words if w not in self.stop]

    def query_words(self, text: str, correct: Callable[[str], str] | None = None) -> list[str]:
        """Words of a citizen's question, village words rewritten, question words dropped.

        ``correct`` fixes typos word by word before the rules run, so a misspelt village word
        still meets its rule.
        """
        words = tokens(_PLACE.sub(" ", text))
        if correct is not None:
            words = [correct(w) for w in words]
        words = _rewrite(words, self.words, self._spans[0], frozenset())
        words = _rewrite(words, self.phrases, self._spans[1], self.stop)
        kept: list[str] = []
        for word in words:
            # Rules can leave a word twice in a row ("khai sinh con" -> "khai khai sinh").
            if word not in self.stop and (not kept or kept[-1] != word):
                kept.append(word)
                # ... or a phrase ("chứng tử, bố mất" -> "khai tử khai tử"), which would make
                # a pair ("tử khai") that means nothing.
                for size in (2, 3, 4):
                    if len(kept) >= 2 * size and kept[-size:] == kept[-2 * size : -size]:
                        del kept[-size:]
                        break
        return kept

    def vocabulary(self) -> set[str]:
        """Every word the rules know: typo correction keeps them, and corrects towards them."""
        known = set(self.stop) | set(self.keep)
        for phrase in self.variants:
            known.update(phrase.split())
        for rules in (self.words, self.phrases):
            for key, value in rules.items():
                known.update(key)
                known.update(value)
        return known


def _word_list(data: Mapping[str, object], section: str) -> frozenset[str]:
    table = data.get(section, {})
    listed = table.get("words", []) if isinstance(table, dict) else None
    if not isinstance(listed, list) or not all(isinstance(w, str) for w in listed):
        raise ValueError(f"synonyms [{section}] words must be a list of strings")
    found: set[str] = set()
    for word in listed:
        found.update(tokens(word))
    return frozenset(found)


def _phrase_list(data: Mapping[str, object], section: str) -> frozenset[str]:
    table = data.get(section, {})
    listed = table.get("words", []) if isinstance(table, dict) else None
    if not isinstance(listed, list) or not all(isinstance(w, str) for w in listed):
        raise ValueError(f"synonyms [{section}] words must be a list of strings")
    return frozenset(normalize(w) for w in listed if normalize(w))


def _longest(rules: Mapping[Phrase, Phrase]) -> int:
    return max((len(key) for key in rules), default=0)


@cache
def load_synonyms() -> Synonyms:
    """The rules shipped with the package (``knowledge/data/synonyms.toml``)."""
    path = resources.files("knowledge") / "data" / "synonyms.toml"
    return Synonyms.from_toml(path.read_text(encoding="utf-8"))


class TypoCorrector:
    """Maps an unknown word to the closest catalogue word at one edit (a swap counts as one).

    Only words of four letters or more: Vietnamese syllables are short, and at one edit most
    two- or three-letter syllables are another real syllable ("hon" vs "hoa").
    """

    MIN_LENGTH = 4

    def __init__(self, vocabulary: Mapping[str, int], protected: Iterable[str] = ()) -> None:
        # Most frequent first, so a tie between two candidates goes to the commoner word.
        ranked = sorted(vocabulary.items(), key=lambda item: (-item[1], item[0]))
        self._known = frozenset(vocabulary) | frozenset(protected)
        self._choices = [word for word, _ in ranked if len(word) >= self.MIN_LENGTH - 1]
        self._cache: dict[str, str] = {}

    def __contains__(self, word: str) -> bool:
        return word in self._known

    def correct(self, word: str) -> str:
        if word in self._known or len(word) < self.MIN_LENGTH or not word.isalpha():
            return word
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        best = process.extractOne(word, self._choices, scorer=OSA.distance, score_cutoff=1)
        corrected = best[0] if best is not None else word
        if len(self._cache) < 10_000:  # bounded: queries are user input
            self._cache[word] = corrected
        return corrected
