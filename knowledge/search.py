"""Search over the catalogue (the ranking lives here; normalisation in knowledge.normalize).

Ranking is a weighted word overlap over an inverted index. Words and pairs of neighbouring
words are the terms ("khai sinh" is one idea, "khai" and "sinh" alone are vague); each term
weighs its IDF, so "đăng ký", which is in half the catalogue, counts little. A procedure scores
the share of the question's weight it explains (names and aliases in full, the summary and the
field less), times how much of its best-matching name or alias the question covers, so "đăng ký
khai sinh" prefers "Đăng ký khai sinh" to "Đăng ký khai sinh kết hợp nhận cha, mẹ, con". Words
the catalogue has never seen still weigh in the question, so "giá vàng" explains too little of
itself to pass the threshold, and the bot says it does not know instead of guessing.

A second index holds the names of the procedures other offices carry out (the national portal's
other levels, ``knowledge/data/elsewhere.json``). A question that one of them fits better than
the commune's best, and in words the commune's best does not explain ("khai thuế thu nhập cá
nhân" is the tax office's, not the commune's "người lao động có thu nhập thấp"), is refused, and
the chat names that procedure and its office when the question holds most of its name.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar, Protocol

from knowledge.catalogue import Catalogue, load_elsewhere
from knowledge.model import OtherProcedure
from knowledge.normalize import (
    BREAK,
    Synonyms,
    TypoCorrector,
    fold_word,
    load_synonyms,
    marked_tokens,
)


@dataclass(frozen=True, slots=True)
class SearchHit:
    code: str
    name: str
    score: float  # 0..1, higher is better
    # False when no procedure reached the answer threshold and these are only the closest
    # ones: the chat asks "Ý bạn là..." instead of answering.
    sure: bool = True


class CatalogueSearch(Protocol):
    def search(self, query: str, limit: int = 3) -> list[SearchHit]:
        """Best first; an empty list means "I don't know this one"."""
        ...

    def elsewhere(self, query: str) -> OtherProcedure | None:
        """The procedure of another office (not the commune) that a question the search does
        not answer is clearly about, so the citizen can be told where to go; None if unsure."""
        ...


# Where a message's clauses end: punctuation, line breaks, and the words that join a story to
# the question ("..., thì", "... nên").
_CLAUSE_BREAK = re.compile(
    r"[.,;:!?()\n]+|\s(?:thì|thi|nên|nhưng|mà|vì)\s"
    # ... and the words around the question in a chat: the greeting before it ("chị ơi",
    # "em chào anh") and the ask ("cho em hỏi", "muốn hỏi là") with its particles.
    r"|(?:^|\s)(?:hỏi|hoi|chào|chao|ơi|oi|alo|ạ|à|nhé)(?=\s|$)",
    re.IGNORECASE,
)


_WORD = re.compile(r"[^\W\d_]+")
# Spellings that villagers mix up and that are still one word: the hỏi and ngã tones, i and y.
_SPELT_ALIKE = str.maketrans({"\u0303": "\u0309", "y": "i"})


def _spelt(word: str) -> str:
    """A word as typed, with its marks and tones, hỏi = ngã and i = y; "" when typed without
    marks (it may be any word that folds like it)."""
    if word.isascii():
        return ""
    return unicodedata.normalize("NFD", word).translate(_SPELT_ALIKE)


def _spelt_pairs(text: str) -> Iterator[tuple[str, str, str, str]]:
    """Neighbouring words of a text as typed: (first, second, their folded pair, spelt pair)."""
    words = _WORD.findall(unicodedata.normalize("NFC", text.lower()))
    for a, b in itertools.pairwise(words):
        folded = f"{fold_word(a)} {fold_word(b)}"
        yield a, b, folded, f"{_spelt(a)} {_spelt(b)}"


def _terms(words: list[str]) -> list[str]:
    """Words and pairs of neighbouring words; no pair across a ``BREAK`` (dropped words)."""
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(words) if a and b]
    return list(dict.fromkeys([*(w for w in words if w), *pairs]))


@dataclass(frozen=True, slots=True)
class _Doc:
    """One procedure as an index sees it: its names (and aliases, spoken words, old names), its
    situations, and the texts that count less (summary, field), each as rewritten words."""

    code: str
    name: str
    curated: bool
    named: list[list[str]]
    situations: list[list[str]]
    weaker: list[tuple[float, list[str]]]


class _Index:
    """An inverted index over procedures, with what scoring a question against it needs: each
    term's IDF and, per procedure, which of its names and situations hold each term."""

    def __init__(
        self,
        docs: list[_Doc],
        name_weight: float,
        situation_weight: float,
        variants: frozenset[str],
    ) -> None:
        self.codes = [d.code for d in docs]
        self.names = [d.name for d in docs]
        self.curated = [d.curated for d in docs]
        postings: dict[str, dict[int, float]] = {}
        doc_units: list[list[list[str]]] = []
        doc_variants: list[frozenset[str]] = []
        word_counts: dict[str, int] = {}
        for doc, d in enumerate(docs):
            texts = [
                *((name_weight, words) for words in d.named),
                *((situation_weight, words) for words in d.situations),
                *d.weaker,
            ]
            for weight, words in texts:
                for word in words:
                    if word:
                        word_counts[word] = word_counts.get(word, 0) + 1
                for term in _terms(words):
                    posting = postings.setdefault(term, {})
                    if posting.get(doc, 0.0) < weight:
                        posting[doc] = weight
            doc_units.append([_terms(words) for words in [*d.named, *d.situations] if words])
            doc_variants.append(
                frozenset(v for words in d.named for v in _terms(words) if v in variants)
            )
        count = max(len(docs), 1)
        self.postings = postings
        self.word_counts = word_counts
        self.variants = doc_variants
        self.idf = {
            term: math.log(1.0 + (count - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in postings.items()
        }
        self.unknown_idf = math.log(1.0 + (count + 0.5) / 0.5)
        # Per procedure: which of its names, aliases and situations each term is in, and what
        # each of those weighs, so covering is a walk over the question's terms, not the units.
        self.unit_totals = [
            [sum(self.idf[t] for t in set(terms)) for terms in units] for units in doc_units
        ]
        self.lightest = [
            min((t for t in totals if t), default=math.inf) for totals in self.unit_totals
        ]
        self.unit_terms: list[dict[str, tuple[int, ...]]] = []
        for units in doc_units:
            where: dict[str, list[int]] = {}
            for index, terms in enumerate(units):
                for term in dict.fromkeys(terms):
                    where.setdefault(term, []).append(index)
            self.unit_terms.append({term: tuple(found) for term, found in where.items()})

    def terms_of(self, words: list[str]) -> list[str]:
        # Numbers the index never mentions ("1990", "80 tuổi") say nothing about the procedure.
        return _terms([w if not w.isdigit() or w in self.idf else BREAK for w in words])


class Searcher:
    """CatalogueSearch over an in-memory inverted index, built once per catalogue."""

    THRESHOLD: ClassVar[float] = 0.45
    NAME_WEIGHT: ClassVar[float] = 1.0  # names and aliases
    SITUATION_WEIGHT: ClassVar[float] = 0.9
    SUMMARY_WEIGHT: ClassVar[float] = 0.6
    FIELD_WEIGHT: ClassVar[float] = 0.3
    PAIR_WEIGHT: ClassVar[float] = 1.0  # a known pair of words, times its IDF
    UNKNOWN_WEIGHT: ClassVar[float] = 0.5  # an unknown word, times the highest IDF
    SPECIFICITY: ClassVar[float] = 0.5  # share of the score from covering the name or alias
    CURATED_BONUS: ClassVar[float] = 0.02  # a hand-written entry wins a near tie
    SUGGEST: ClassVar[float] = 0.42  # below the threshold but this close: offered as choices
    CHOICE_MARGIN: ClassVar[float] = 0.12  # hits this close to a sure best are offered too
    SUGGEST_MARGIN: ClassVar[float] = 0.08
    MAX_CHOICES: ClassVar[int] = 3
    SEGMENT_WORDS: ClassVar[int] = 8  # windows of a long clause, in words after rewriting
    SEGMENT_STEP: ClassVar[int] = 4
    MAX_SEGMENTS: ClassVar[int] = 16
    SEGMENT_DISCOUNT: ClassVar[float] = 0.92
    SEGMENT_SHORT: ClassVar[float] = 0.2  # taken off a part that holds little of the message
    VARIANT_MISSING: ClassVar[float] = 0.85  # per variant word of the question a name lacks
    OUTSIDE_SURE: ClassVar[float] = 0.9  # a question on a topic outside the commune's remit
    # Another office's procedure (``OtherProcedure``) that fits a question at least this well,
    # and no worse than the commune's best, takes the question away from the commune, when its
    # name explains words of the question worth ELSEWHERE_EXTRA (in its own IDF) that the
    # commune's best leaves unexplained: "thành lập doanh nghiệp tư nhân" is the provincial
    # business registry's, not the commune's cooperative notice that shares "thành lập".
    ELSEWHERE_MIN: ClassVar[float] = 0.55
    ELSEWHERE_EXTRA: ClassVar[float] = 8.0
    # ... and this well, the question holding this much of its name: named to the citizen
    # ("cấp chứng chỉ hành nghề dược" is not told of the auctioneers' "chứng chỉ hành nghề").
    ELSEWHERE_NAMED: ClassVar[float] = 0.75
    ELSEWHERE_NAMED_COVER: ClassVar[float] = 0.7

    def __init__(
        self,
        catalogue: Catalogue,
        synonyms: Synonyms | None = None,
        elsewhere: Iterable[OtherProcedure] | None = None,
    ) -> None:
        """``elsewhere``: the procedures other offices carry out (default: the bundled ones);
        any code the catalogue has is left out of them."""
        self._synonyms = synonyms if synonyms is not None else load_synonyms()
        everything = catalogue.all()
        # A replaced code answers as its successor: its name becomes one more alias there.
        successor = {old: p.code for p in everything for old in p.replaces}
        procedures = [p for p in everything if p.code not in successor]
        old_names: dict[str, list[str]] = {}
        for p in everything:
            if p.code in successor:
                old_names.setdefault(successor[p.code], []).append(p.name)
        synonyms = self._synonyms
        variants = synonyms.variants

        def words_of(text: str) -> list[str]:
            return synonyms.catalogue_words(text, breaks=True)

        def alias_words(text: str) -> list[str]:
            return synonyms.query_words(text, breaks=True)

        docs = [
            _Doc(
                code=p.code,
                name=p.name,
                curated=p.curated,
                # Aliases are written the way villagers ask, so they are rewritten like questions.
                named=[
                    words_of(p.name),
                    *(alias_words(alias) for alias in p.aliases),
                    *(alias_words(spoken) for spoken in p.spoken),
                    *(words_of(old) for old in old_names.get(p.code, ())),
                ],
                # A situation ("bố mới mất tuần trước") is a story, not a name: it counts a
                # little less than a name, and it may be covered in part.
                situations=[alias_words(text) for text in p.situations],
                weaker=[
                    (self.SUMMARY_WEIGHT, words_of(p.summary)),
                    (self.FIELD_WEIGHT, words_of(p.field)),
                ],
            )
            for p in procedures
        ]
        self._index = index = _Index(docs, self.NAME_WEIGHT, self.SITUATION_WEIGHT, variants)
        self._codes = index.codes
        self._names = index.names
        self._curated = index.curated
        self._variants = index.variants

        # How the catalogue spells its words and neighbouring pairs, marks and tones kept: a
        # question typed with marks says "công nhân" (a worker), which folds like the
        # catalogue's "công nhận" (recognition) but is another word.
        spelt_words: set[str] = set()
        spelt_pairs: set[str] = set()
        folded_pairs: set[str] = set()
        letters_of: dict[str, set[str]] = {}
        for p in everything:
            for text in (p.name, *p.aliases, *p.spoken, *p.situations, p.summary, p.field):
                folded_words, letters = marked_tokens(text)
                for word, spelt in zip(folded_words, letters, strict=True):
                    letters_of.setdefault(word, set()).add(spelt)
                for a, b, folded, pair in _spelt_pairs(text):
                    spelt_words.update((_spelt(a), _spelt(b)))
                    spelt_pairs.add(pair)
                    folded_pairs.add(folded)
        self._spelt_words = frozenset(spelt_words)
        self._spelt_pairs = frozenset(spelt_pairs)
        self._folded_pairs = frozenset(folded_pairs & set(index.postings))

        # A topic the commune does not handle is let through when the procedure's own words
        # are about it ("trình báo mất hộ chiếu"), not when a situation mentions it in passing
        # ("... nhưng có hộ chiếu").
        outside = self._synonyms.outside_topics
        self._topics = [outside(" ".join([p.name, *p.aliases, *p.spoken])) for p in procedures]
        rule_words = dict.fromkeys(self._synonyms.vocabulary(), 1)
        rule_pairs = [
            f"{a} {b}"
            for rules in (self._synonyms.words, self._synonyms.phrases)
            for phrase in (*rules.keys(), *rules.values())
            for a, b in itertools.pairwise(phrase)
        ]
        pairs = [term for term in index.postings if " " in term]
        self._typos = TypoCorrector(
            rule_words | index.word_counts,
            pairs=[*pairs, *rule_pairs],
            stop=self._synonyms.stop,
            spellings=letters_of,
        )

        # Other offices' procedures, by their names and fields, read like the catalogue's. A
        # question's words are corrected towards the catalogue's only, never towards theirs.
        others = [
            o
            for o in (load_elsewhere() if elsewhere is None else elsewhere)
            if o.code not in catalogue  # a replaced code is the catalogue's too
        ]
        self._other = {o.code: o for o in others}
        self._elsewhere = _Index(
            [
                _Doc(
                    code=o.code,
                    name=o.name,
                    curated=False,
                    named=[words_of(o.name)],
                    situations=[],
                    weaker=[(self.FIELD_WEIGHT, words_of(o.field))],
                )
                for o in others
            ],
            self.NAME_WEIGHT,
            self.SITUATION_WEIGHT,
            variants,
        )

    def _misread_pairs(self, query: str) -> frozenset[str]:
        """Pairs of a question typed with marks that fold like a pair of the catalogue but are
        spelt otherwise, each word spelt as the catalogue spells it somewhere ("công nhân" is
        not "công nhận"): they are other words, so they match nothing. A word the catalogue
        never spells that way ("kêt hôn") may be a slip of the keyboard and is left alone."""
        if query.isascii():
            return frozenset()
        misread: set[str] = set()
        fine: set[str] = set()
        text = unicodedata.normalize("NFC", query.lower())
        # Folding the text at once keeps each letter's place (precomposed letters fold to one).
        whole = fold_word(text)
        spans = [m.span() for m in _WORD.finditer(text)]
        words = [text[a:b] for a, b in spans]
        if len(whole) == len(text):
            folded = [whole[a:b] for a, b in spans]
        else:
            folded = [fold_word(w) for w in words]
        for i in range(len(words) - 1):
            pair = f"{folded[i]} {folded[i + 1]}"
            if pair not in self._folded_pairs:
                continue
            sa, sb = _spelt(words[i]), _spelt(words[i + 1])
            if (
                sa
                and sb
                and f"{sa} {sb}" not in self._spelt_pairs
                and sa in self._spelt_words
                and sb in self._spelt_words
            ):
                misread.add(pair)
            else:
                fine.add(pair)
        return frozenset(misread - fine)

    def query_terms(self, query: str) -> list[str]:
        """The terms a question is matched on, after rewriting and typo correction."""
        return self._terms_of(self._words(query))

    def _words(self, text: str) -> list[str]:
        return self._synonyms.query_words(text, self._typos.correct_all, breaks=True)

    def _terms_of(self, words: list[str]) -> list[str]:
        return self._index.terms_of(words)

    def segments(self, query: str) -> list[list[str]]:
        """The parts of a message that are scored on their own: the whole, each clause, and
        windows of a long clause. A villager writes greeting, story and question in one
        message; the procedure is named in one part of it, and the rest must not dilute it."""
        whole = self._words(query)
        found = [whole]
        if len(whole) > self.SEGMENT_WORDS // 2:
            clauses = [self._words(part) for part in _CLAUSE_BREAK.split(query)]
            for words in [whole, *clauses]:
                if len(words) >= 2 and words is not whole:
                    found.append(words)
                if len(words) > self.SEGMENT_WORDS:
                    last = len(words) - self.SEGMENT_WORDS
                    for start in range(0, last + self.SEGMENT_STEP, self.SEGMENT_STEP):
                        start = min(start, last)
                        found.append(words[start : start + self.SEGMENT_WORDS])
        unique = list({tuple(words): words for words in found}.values())
        return unique[: self.MAX_SEGMENTS]

    def search(self, query: str, limit: int = 3) -> list[SearchHit]:
        """What the citizen is offered, best first: the answer when one procedure is clearly
        it, the two or three that fit when several do (the chat asks "Ý bạn là..."), and
        nothing when nothing fits well enough."""
        if limit <= 0:
            return []
        return self._lookup(query, limit, name_other=False)[0]

    def elsewhere(self, query: str) -> OtherProcedure | None:
        hits, other = self._lookup(query, self.MAX_CHOICES, name_other=True)
        if hits or other is None or other[0] < self.ELSEWHERE_NAMED:
            return None
        _, doc, terms = other
        index = self._elsewhere
        shared = sum(index.idf[t] for t in set(terms) if 0 in index.unit_terms[doc].get(t, ()))
        if shared < self.ELSEWHERE_NAMED_COVER * index.unit_totals[doc][0]:
            return None
        return self._other[index.codes[doc]]

    def _lookup(
        self, query: str, limit: int, name_other: bool
    ) -> tuple[list[SearchHit], tuple[float, int, list[str]] | None]:
        """The hits, and the best other office's procedure with its score when it took the
        question away (or, with ``name_other``, when nothing in the catalogue answers)."""
        best: dict[int, float] = {}
        segments = self.segments(query)
        misread = self._misread_pairs(query)
        # Variant words count wherever they are: "lấy chồng Hàn Quốc, thì đăng ký kết hôn ở
        # đâu" wants the foreign variant even in the clause that does not say so.
        wanted = self._synonyms.variants.intersection(self._terms_of(segments[0]))
        extra = list(dict.fromkeys(t for v in sorted(wanted) for t in _terms(v.split())))
        # Only hits within CHOICE_MARGIN of the best are ever shown, so once a part has found
        # a good one, the other parts need not score what cannot come near it.
        floor = self.SUGGEST
        for i, (terms, discount) in enumerate(self._parts(segments, self._index)):
            if i:
                # ... and they are part of every part: "con sinh ở Nhật, ..., khai sinh thế nào"
                # asks for the foreign birth registration in its last clause too.
                terms += [t for t in extra if t not in terms]
            for doc, score in self._score(terms, floor / discount, misread).items():
                missing = len(wanted - self._variants[doc])
                score *= discount * self.VARIANT_MISSING**missing
                if score >= floor and score > best.get(doc, 0.0):
                    best[doc] = score
                    floor = max(floor, score - self.CHOICE_MARGIN)
        hits = sorted(
            ((score, self._curated[doc], self._codes[doc], doc) for doc, score in best.items()),
            key=lambda hit: (-hit[0], not hit[1], hit[2]),
        )
        if not hits:
            return [], self._other_office(segments, 0.0, None) if name_other else None
        top = hits[0][0]
        if top < self.OUTSIDE_SURE:
            # A topic the commune does not handle ("vay tiền", "hộ chiếu") refuses the question,
            # unless the best procedure itself is about it ("trình báo mất hộ chiếu"): about
            # every such topic the question names, so that "ly hôn thuận tình thì án phí bao
            # nhiêu" is not let through by the recording of a divorce granted abroad, whose
            # words name "ly hôn" and "tòa án" but not the court's fee.
            # ... typed with a slip too ("hộ chếu"): the corrected words are looked at as well.
            topics = self._synonyms.outside_topics(query)
            if not topics:
                words, letters = marked_tokens(query)
                if any(w not in self._typos for w in words):
                    fixed = self._typos.correct_all(words, letters)
                    topics = self._synonyms.outside_topics(" ".join(fixed))
            if topics - self._topics[hits[0][3]]:
                return [], self._other_office(segments, 0.0, None) if name_other else None
            # Another office's procedure that fits better and explains what the commune's does
            # not ("nhập quốc tịch" beside the foreign birth registration's "người nước ngoài").
            other = self._other_office(segments, top, hits[0][3])
            if other is not None:
                return [], other
        sure = top >= self.THRESHOLD
        floor = top - (self.CHOICE_MARGIN if sure else self.SUGGEST_MARGIN)
        found = [
            SearchHit(code=code, name=self._names[doc], score=min(score, 1.0), sure=sure)
            for score, _, code, doc in hits[: min(limit, self.MAX_CHOICES)]
            if score >= floor
        ]
        return found, None

    def _parts(self, segments: list[list[str]], index: _Index) -> Iterator[tuple[list[str], float]]:
        """Each part of a message as ``index``'s terms, with what its scores are worth: a part
        counts less than the whole, and the less of the message it holds, the less it counts,
        so that when the whole message fits one procedure, a short clause that fits another
        ("bố em mất, ...") does not outvote it."""
        whole_weight = 0.0
        for i, words in enumerate(segments):
            terms = index.terms_of(words)
            weight = sum(index.idf.get(t, 0.0) for t in terms)
            if i == 0:
                whole_weight = weight
                yield terms, 1.0
                continue
            held = min(1.0, weight / whole_weight) if whole_weight else 1.0
            yield terms, self.SEGMENT_DISCOUNT - self.SEGMENT_SHORT * (1.0 - held)

    def _other_office(
        self, segments: list[list[str]], top: float, ours: int | None
    ) -> tuple[float, int, list[str]] | None:
        """(score, procedure, terms of the part it fits) of the other office's procedure that
        fits the message at least ELSEWHERE_MIN and ``top``, each part of the message counted
        as in ``_lookup``, when it explains words worth ELSEWHERE_EXTRA that the catalogue's
        procedure ``ours`` does not (any words, with ``ours`` None); None when there is none."""
        index = self._elsewhere
        if not index.codes:
            return None
        floor = max(self.ELSEWHERE_MIN, top)
        found: tuple[float, int, list[str]] | None = None
        for terms, discount in self._parts(segments, index):
            for doc, score in self._score(terms, floor / discount, index=index).items():
                score *= discount
                if score >= floor and (found is None or score > found[0]):
                    found = (score, doc, terms)
        if found is None:
            return None
        score, doc, terms = found
        commune = self._index.postings
        extra = sum(
            index.idf[t]
            for t in terms
            if doc in index.postings.get(t, {}) and (ours is None or ours not in commune.get(t, {}))
        )
        return found if extra >= self.ELSEWHERE_EXTRA else None

    def _score(
        self,
        terms: list[str],
        at_least: float = 0.0,
        misread: frozenset[str] = frozenset(),
        index: _Index | None = None,
    ) -> dict[int, float]:
        """Procedure -> score for one part of a message, for those at or above ``at_least``
        and SUGGEST, over the catalogue's index (or ``index``). ``misread`` pairs (see
        ``_misread_pairs``) weigh in the question but match nothing."""
        index = index if index is not None else self._index
        floor = max(at_least, self.SUGGEST)
        total = 0.0
        known: list[tuple[float, str]] = []
        for term in terms:
            term_idf = index.idf.get(term)
            if term_idf is not None and term in misread:
                total += term_idf * self.PAIR_WEIGHT
            elif term_idf is not None:
                known.append((term_idf * self.PAIR_WEIGHT if " " in term else term_idf, term))
                total += known[-1][0]
            elif term.isalpha() and " " not in term:
                # An unknown word is probably what the question is about; unknown pairs are
                # normal ("khai sinh con") and unknown numbers ("1990") are noise.
                total += self.UNKNOWN_WEIGHT * index.unknown_idf
        if not known:
            return {}

        # Rare terms first. Once the terms left weigh too little to lift a procedure that has
        # none of the terms so far over the floor, only procedures already found can pass,
        # so common terms ("đăng ký") update those instead of walking their long postings.
        known.sort(reverse=True)
        # A score is at most the share plus the bonus, so this is what a procedure must reach.
        needed = (floor - self.CURATED_BONUS) * total
        left = sum(weight for weight, _ in known)
        matched: dict[int, float] = {}
        paired: set[int] = set()
        admitting = True
        for weight, term in known:
            posting = index.postings[term]
            if admitting and left < needed:
                # From here on no new procedure can pass, and one found so far passes only if
                # the terms left can still lift it: drop the others before walking on.
                admitting = False
                matched = {doc: w for doc, w in matched.items() if w + left >= needed}
            if admitting:
                get = matched.get
                for doc, field_weight in posting.items():
                    matched[doc] = get(doc, 0.0) + weight * field_weight
                if " " in term:
                    paired.update(posting)
            elif len(posting) < len(matched):
                for doc, found in posting.items():
                    if doc in matched:
                        matched[doc] += weight * found
                        if " " in term:
                            paired.add(doc)
            else:
                for doc in matched:
                    in_doc = posting.get(doc)
                    if in_doc is not None:
                        matched[doc] += weight * in_doc
                        if " " in term:
                            paired.add(doc)
            left -= weight

        query_idf = [(term, index.idf[term]) for _, term in known]
        query_total = sum(w for _, w in query_idf)
        general = 1.0 - self.SPECIFICITY
        scores: dict[int, float] = {}
        for doc, weight in matched.items():
            share = weight / total
            bonus = self.CURATED_BONUS if index.curated[doc] else 0.0
            if share + bonus < floor:
                continue
            # Covering is at most what the question's terms weigh against the lightest name.
            most = min(1.0, query_total / index.lightest[doc])
            if share * (general + self.SPECIFICITY * most) + bonus < floor:
                continue
            unit_totals = index.unit_totals[doc]
            shared = [0.0] * len(unit_totals)
            unit_terms = index.unit_terms[doc]
            for term, w in query_idf:
                for unit in unit_terms.get(term, ()):
                    shared[unit] += w
            cover = max(
                (part / whole for part, whole in zip(shared, unit_totals, strict=True) if whole),
                default=0.0,
            )
            if doc not in paired and cover < 0.99:
                # Vietnamese ideas take two words ("khai sinh", "hộ nghèo"); a question that
                # shares only lone words with a procedure ("yêu" with "yếu tố") is not about it.
                continue
            score = share * (general + self.SPECIFICITY * cover) + bonus
            if score >= floor:
                scores[doc] = score
        return scores


def answer_jsonl(searcher: CatalogueSearch, lines: Iterable[str]) -> Iterator[str]:
    """One JSON line per non-blank question: ``{"query", "results": [{"code","name","score"}]}``."""
    for line in lines:
        query = line.strip()
        if not query:
            continue
        results = [
            {"code": hit.code, "name": hit.name, "score": round(hit.score, 3)}
            for hit in searcher.search(query)
        ]
        yield json.dumps({"query": query, "results": results}, ensure_ascii=False)
