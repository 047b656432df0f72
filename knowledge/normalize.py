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


def fold_word(word: str) -> str:
    """One lowercase word folded as ``normalize`` folds it, without the punctuation pass."""
    return word.translate(_FOLD)


def tokens(text: str) -> list[str]:
    return normalize(text).split()


# The tone marks (sắc, huyền, hỏi, ngã, nặng), as combining characters: dropped from a word's
# "letters", which keep â ă ê ô ơ ư đ. Tones are often typed wrong; the letters rarely are.
_TONES = dict.fromkeys(map(ord, "\u0300\u0301\u0303\u0309\u0323"))
_RAW_WORD = re.compile(r"[^\W_]+")


def _untone_table() -> dict[int, str]:
    # One translate table, like _FOLD: a precomposed letter to the same letter without tone.
    table: dict[int, str] = {}
    for start, end in ((0x00C0, 0x0250), (0x1E00, 0x1F00)):
        for point in range(start, end):
            bare = unicodedata.normalize("NFD", chr(point)).translate(_TONES)
            bare = unicodedata.normalize("NFC", bare)
            if bare != chr(point):
                table[point] = bare
    return table


_UNTONE = _untone_table()


def _letters(word: str) -> str:
    return word.translate(_UNTONE)


def marked_tokens(text: str) -> tuple[list[str], list[str]]:
    """The folded words of a text and, beside each, its letters with their marks but without
    tones ("hộ" -> "hô", "họ" -> "ho"), so rules can tell apart what folding merges. A word
    typed without any mark has "" there: it may be any of them."""
    folded = tokens(text)
    letters: list[str] = []
    for raw in _RAW_WORD.findall(unicodedata.normalize("NFC", text.lower())):
        parts = tokens(raw)
        if len(parts) == 1:
            letters.append(_letters(raw) if not raw.isascii() else "")
        else:
            letters += [""] * len(parts)
    if len(letters) != len(folded):  # a script folding does not know: no marks then
        letters = [""] * len(folded)
    return folded, letters


# Where a text's words stop making one idea: in the lists of ``query_words(..., breaks=True)``
# and ``catalogue_words(..., breaks=True)``, where a stop word of ``Synonyms.breaks`` was
# dropped, so that search does not pair words that only met once the story between them was
# dropped ("bán nữa muốn đóng" has no "bán đóng").
BREAK = ""

Phrase = tuple[str, ...]
# Folded key -> (the key's letters, its replacement), one per spelling in the rules file:
# "đổi họ" and "đổi hộ" fold alike but are different rules.
Spellings = Mapping[Phrase, tuple[tuple[Phrase, Phrase], ...]]


def _rules(table: Mapping[str, object], section: str) -> tuple[dict[Phrase, Phrase], Spellings]:
    rules: dict[Phrase, Phrase] = {}
    spellings: dict[Phrase, tuple[tuple[Phrase, Phrase], ...]] = {}
    for key, value in table.items():
        if not isinstance(value, str):
            raise ValueError(f"synonyms [{section}] {key!r}: the replacement must be a string")
        source, letters = marked_tokens(key)
        if not source:
            raise ValueError(f"synonyms [{section}] {key!r}: empty after folding")
        replacement = tuple(tokens(value))
        rules.setdefault(tuple(source), replacement)
        found = spellings.get(tuple(source), ())
        spellings[tuple(source)] = (*found, (tuple(letters), replacement))
    return rules, spellings


# The letters beside a word typed without marks in a message typed with them ("người lao
# động"): that word is spelt as it stands, with no mark and no tone, so it is not a key word
# written with marks or a tone ("người lào" is Laos, "người lao động" a worker).
PLAIN = "="


def _spelt_alike(typed: str, key: str) -> bool:
    if typed == PLAIN:
        return not key
    # A word typed without marks, or a key written without them, may be either.
    return not typed or not key or typed == key


def _plain_in_marked(words: Sequence[str], letters: Sequence[str]) -> list[str]:
    """``letters`` with ``PLAIN`` beside the unmarked words when a third or more of the
    message's words carry marks: it was typed with a Vietnamese keyboard, so an unmarked word
    is meant so. A message typed mostly without marks leaves them "" (any spelling)."""
    marked = sum(bool(t) for t in letters)
    if not marked or 3 * marked < len(letters):
        return list(letters)
    return [t or (PLAIN if w.isalpha() else "") for w, t in zip(words, letters, strict=True)]


def _rewrite(
    words: Sequence[str],
    rules: Mapping[Phrase, Phrase],
    longest: int,
    skip: frozenset[str],
    letters: Sequence[str] | None = None,
    spellings: Spellings | None = None,
    starts: Mapping[str, tuple[int, ...]] | None = None,
) -> tuple[list[str], list[str]]:
    """Replace rule keys, longest first; a key may also match with ``skip`` words in between
    ("bố tôi mới mất" meets the key "bố mất"). With the words' ``letters`` and the rules'
    ``spellings``, a key matches only words spelt like it ("cuối xóm" is not "cưới").
    ``starts`` (first word of a key -> the lengths of its keys, longest first) spares the
    lookups at words no key starts with. Returns the words and their letters ("" for a
    replacement's: it may be spelt any way)."""
    typed = letters if letters is not None and len(letters) == len(words) else [""] * len(words)
    if starts is None:
        starts = _starts(rules)

    def find(key: Phrase, positions: Sequence[int]) -> Phrase | None:
        found = rules.get(key)
        if found is None or spellings is None:
            return found
        for spelt, replacement in spellings.get(key, ()):
            if all(_spelt_alike(typed[p], k) for p, k in zip(positions, spelt, strict=True)):
                return replacement
        return None

    out: list[str] = []
    out_letters: list[str] = []
    i = 0
    count = len(words)
    while i < count:
        sizes = starts.get(words[i], ())
        match: Phrase | None = None
        end = i + 1
        for size in sizes:
            if size <= count - i:
                match = find(tuple(words[i : i + size]), range(i, i + size))
                if match is not None:
                    end = i + size
                    break
        if sizes and sizes[0] > 1:
            # The key's first word may itself be a skipped one: "ông nội em vừa mất" meets
            # "ông nội mất" though "ông" is a pronoun too.
            positions = [i]
            j = i + 1
            while j < count and len(positions) < sizes[0]:
                if words[j] not in skip:
                    positions.append(j)
                j += 1
            for size in range(len(positions), 1, -1):
                if match is not None and size <= end - i:
                    break
                picked = positions[:size]
                found = find(tuple(words[p] for p in picked), picked)
                if found is not None:
                    match, end = found, picked[-1] + 1
                    break
        if match is None:
            out.append(words[i])
            out_letters.append(typed[i])
        else:
            out.extend(match)
            out_letters.extend([""] * len(match))
        i = end
    return out, out_letters


def _starts(rules: Mapping[Phrase, Phrase]) -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for key in rules:
        lengths.setdefault(key[0], set()).add(len(key))
    return {word: tuple(sorted(found, reverse=True)) for word, found in lengths.items()}


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
    # Topics the commune has no procedure for (loans, passports, weather, fortune-telling...),
    # folded: a question about one is refused unless a procedure fits it very well.
    outside: frozenset[str] = frozenset()
    # Stop words that pairs never span (see ``BREAK``); the other stop words they may.
    breaks: frozenset[str] = frozenset()
    # How each key of ``words`` and ``phrases`` is spelt (see ``_rules``); without them a key
    # matches whatever folds like it.
    spellings: tuple[Spellings, Spellings] | None = None
    _spans: tuple[int, int] = field(default=(0, 0), init=False, repr=False, compare=False)
    _starts: tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]] = field(
        default=({}, {}), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        spans = (_longest(self.words), _longest(self.phrases))
        object.__setattr__(self, "_spans", spans)
        object.__setattr__(self, "_starts", (_starts(self.words), _starts(self.phrases)))

    @classmethod
    def from_toml(cls, text: str) -> Synonyms:
        data = tomllib.loads(text)
        known = {"words", "phrases", "stop", "keep", "variants", "outside", "breaks"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"synonyms: unknown sections {sorted(unknown)}")
        words, word_spellings = _rules(data.get("words", {}), "words")
        phrases, phrase_spellings = _rules(data.get("phrases", {}), "phrases")
        return cls(
            words=words,
            phrases=phrases,
            spellings=(word_spellings, phrase_spellings),
            stop=_word_list(data, "stop"),
            keep=_word_list(data, "keep"),
            variants=_phrase_list(data, "variants"),
            outside=_phrase_list(data, "outside"),
            breaks=_word_list(data, "breaks"),
        )

    def catalogue_words(self, text: str, breaks: bool = False) -> list[str]:
        """Words of catalogue text (names, aliases, summaries) as the index stores them; with
        ``breaks``, a ``BREAK`` where words were dropped."""
        spellings = self.spellings or (None, None)
        folded, letters = marked_tokens(text)
        words, _ = _rewrite(
            folded, self.words, self._spans[0], frozenset(), letters, spellings[0], self._starts[0]
        )
        if not breaks:
            return [w for w in words if w not in self.stop]
        kept: list[str] = []
        for word in words:
            if word in self.breaks:
                kept.append(BREAK)
            elif word not in self.stop:
                kept.append(word)
        return _with_breaks(kept)

    def query_words(
        self,
        text: str,
        correct: Callable[[Sequence[str], Sequence[str]], list[str]] | None = None,
        breaks: bool = False,
    ) -> list[str]:
        """Words of a citizen's question, village words rewritten, question words dropped.

        ``correct`` fixes typos (all the words at once, so a word can be read with its
        neighbours) before the rules run, so a misspelt village word still meets its rule;
        it is given each word's letters as typed (see ``marked_tokens``) too. With ``breaks``,
        a ``BREAK`` stands where words were dropped (see ``BREAK``).
        """
        spellings = self.spellings or (None, None)
        words, letters = marked_tokens(_PLACE.sub(" ", text))
        letters = _plain_in_marked(words, letters)
        if correct is not None:
            fixed = correct(words, letters)
            # A corrected word may be spelt any way.
            letters = [t if w == f else "" for w, f, t in zip(words, fixed, letters, strict=True)]
            words = fixed
        words, letters = _rewrite(
            words, self.words, self._spans[0], frozenset(), letters, spellings[0], self._starts[0]
        )
        words, _ = _rewrite(
            words, self.phrases, self._spans[1], self.stop, letters, spellings[1], self._starts[1]
        )
        kept: list[str] = []
        broken: list[bool] = []  # beside each kept word: was a break word dropped before it?
        gap = False
        for word in words:
            if word in self.stop:
                gap = gap or word in self.breaks
            # Rules can leave a word twice in a row ("khai sinh con" -> "khai khai sinh").
            elif not kept or kept[-1] != word:
                kept.append(word)
                broken.append(gap)
                gap = False
                # ... or a phrase ("chứng tử, bố mất" -> "khai tử khai tử"), which would make
                # a pair ("tử khai") that means nothing.
                for size in (2, 3, 4):
                    if len(kept) >= 2 * size and kept[-size:] == kept[-2 * size : -size]:
                        del kept[-size:]
                        del broken[-size:]
                        break
        if not breaks:
            return kept
        out: list[str] = []
        for word, after_gap in zip(kept, broken, strict=True):
            if after_gap and out:
                out.append(BREAK)
            out.append(word)
        return out

    def outside_topics(self, text: str) -> frozenset[str]:
        """The topics of ``outside`` a text names."""
        padded = f" {normalize(text)} "
        return frozenset(topic for topic in self.outside if f" {topic} " in padded)

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


def _with_breaks(words: Sequence[str]) -> list[str]:
    """One ``BREAK`` for each run of them, none at either end."""
    out: list[str] = []
    for word in words:
        if word != BREAK or (out and out[-1] != BREAK):
            out.append(word)
    while out and out[-1] == BREAK:
        out.pop()
    return out


def _marks(letters: str) -> frozenset[str]:
    """The marked letters of a word's letters (â ă ê ô ơ ư đ), in any order."""
    return frozenset(c for c in letters if not c.isascii())


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


# Telex, the usual Vietnamese keyboard, types marks as letters: "aa" is â, "aw" ă, "ow" ơ,
# "uw" ư, "dd" đ, and a final s/f/r/x/j the tone. When the keyboard is off, they stay in the
# text ("ddawng kys", "giaays"); folding drops the marks, so dropping these letters too folds
# the word the way the catalogue's is.
_TELEX_MARKS = (
    ("dd", "d"),
    ("aa", "a"),
    ("ee", "e"),
    ("oo", "o"),
    ("aw", "a"),
    ("ow", "o"),
    ("uw", "u"),
    ("w", "u"),
)
_TELEX_TONES = frozenset("sfrxj")


def _telex_folded(word: str) -> list[str]:
    """What a word with telex leftovers may have been, folded; most likely first."""
    marked = word
    for typed, meant in _TELEX_MARKS:
        marked = marked.replace(typed, meant)
    found = [marked] if marked != word else []
    for base in (marked, word):
        for i in range(len(base) - 1, 0, -1):  # the tone letter: mostly last, else inside
            if base[i] in _TELEX_TONES:
                found.append(base[:i] + base[i + 1 :])
    return list(dict.fromkeys(found))


class TypoCorrector:
    """Maps an unknown word to the closest catalogue word at one edit (a swap counts as one),
    or to what telex leftovers stand for.

    Words of four letters or more on their own: Vietnamese syllables are short, and at one edit
    most two- or three-letter syllables are another real syllable ("hon" vs "hoa"). A word in
    a sentence (``correct_all``) is corrected from three letters, and towards the candidate
    that makes a known pair with its neighbour ("cận nghè" -> "cận nghèo", "tahi sản" ->
    "thai sản"), which also breaks ties better than frequency alone.
    """

    MIN_LENGTH = 4
    MIN_IN_CONTEXT = 3

    def __init__(
        self,
        vocabulary: Mapping[str, int],
        protected: Iterable[str] = (),
        pairs: Iterable[str] = (),
        stop: Iterable[str] = (),
        spellings: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        # Most frequent first, so a tie between two candidates goes to the commoner word.
        ranked = sorted(vocabulary.items(), key=lambda item: (-item[1], item[0]))
        self._known = frozenset(vocabulary) | frozenset(protected)
        self._choices = [word for word, _ in ranked if len(word) >= self.MIN_IN_CONTEXT - 1]
        self._pairs = frozenset(pairs)
        # Question and pronoun words: never read as a slip for another word, and skipped when
        # looking for a neighbour, as the pairs of the catalogue skip them.
        self._stop = frozenset(stop)
        self._cache: dict[str, str] = {}
        self._candidates: dict[str, tuple[str, ...]] = {}
        # Folded word -> the marked letters of its spellings ("chieu" -> {"iê"}): a word typed
        # with marks ("chếu") is a slip for a word spelt with the same marks ("chiếu"), not
        # for one without them ("chủ").
        self._marks = {
            word: frozenset(_marks(spelt) for spelt in found)
            for word, found in (spellings or {}).items()
        }

    def __contains__(self, word: str) -> bool:
        return word in self._known

    def correct(self, word: str) -> str:
        if word in self._known or len(word) < self.MIN_LENGTH or not word.isalpha():
            return word
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        found = self.candidates(word)
        corrected = found[0] if found else word
        if len(self._cache) < 10_000:  # bounded: queries are user input
            self._cache[word] = corrected
        return corrected

    def candidates(self, word: str) -> tuple[str, ...]:
        """Known words this unknown word may be a slip for, likeliest first."""
        cached = self._candidates.get(word)
        if cached is not None:
            return cached
        telex = [w for w in _telex_folded(word) if w in self._known]
        if telex:
            found: tuple[str, ...] = (telex[0],)
        else:
            near = process.extract(
                word, self._choices, scorer=OSA.distance, score_cutoff=1, limit=12
            )
            # Letters swapped are a likelier slip than one dropped or added ("tahi" is "thai"
            # rather than "tai"): candidates with the same letters go first.
            letters = sorted(word)
            found = tuple(sorted((c for c, _, _ in near), key=lambda c: sorted(c) != letters))
        if len(self._candidates) < 10_000:
            self._candidates[word] = found
        return found

    def _dropped_letter(self, word: str) -> tuple[str, ...]:
        """Known words this one is with its last letter dropped: "khẩ" for "khẩu", "nghè"
        for "nghèo" (a letter dropped inside makes another word too often: "nội", "nuôi")."""
        return tuple(word + letter for letter in "cghimnotuy" if word + letter in self._known)

    def _spelt_so(self, word: str, found: tuple[str, ...], typed: str) -> tuple[str, ...]:
        """The candidates a word typed with marks may be a slip for: those spelt with the same
        marks ("chếu" is "chiếu", not "chủ"; "mừng" is not "mương") or what its telex
        leftovers stand for."""
        marks = _marks(typed)
        if not marks or not self._marks:
            return found
        telex = _telex_folded(word)
        return tuple(
            c for c in found if c in telex or any(marks == m for m in self._marks.get(c, ()))
        )

    def correct_all(self, words: Sequence[str], letters: Sequence[str] = ()) -> list[str]:
        """Each word corrected, an unknown one towards a known pair with a neighbour, and a
        known one that pairs with neither neighbour when a letter dropped from it explains a
        known pair ("hộ khẩ", "cận nghè", "chứng thự"). With the words' ``letters`` as typed
        (``marked_tokens``), a word typed with marks is read only as a word spelt with them."""
        out = list(words)
        typed = list(letters) if len(letters) == len(words) else [""] * len(words)
        stop = self._stop
        for i, word in enumerate(words):
            if len(word) < self.MIN_IN_CONTEXT or not word.isalpha() or word in stop:
                continue
            before = next((w for w in reversed(out[:i]) if w not in stop), "")
            after = next((w for w in words[i + 1 :] if w not in stop), "")
            if word in self._known:
                if (
                    not before
                    or f"{before} {word}" in self._pairs
                    or f"{word} {after}" in self._pairs
                ):
                    continue
                longer = [c for c in self._dropped_letter(word) if f"{before} {c}" in self._pairs]
                if longer:
                    out[i] = longer[0]
                continue
            found = self._spelt_so(word, self.candidates(word), typed[i])
            if not found:
                continue
            if found[0] in _telex_folded(word):  # a keyboard's leftovers, not a slip
                out[i] = found[0]
                continue
            paired = [
                c for c in found if f"{before} {c}" in self._pairs or f"{c} {after}" in self._pairs
            ]
            if paired:
                out[i] = paired[0]
            elif len(word) >= self.MIN_LENGTH:
                out[i] = found[0]
        return out
