"""Search over the catalogue (the ranking lives here; normalisation in knowledge.normalize).

Ranking is a weighted word overlap over an inverted index. Words and pairs of neighbouring
words are the terms ("khai sinh" is one idea, "khai" and "sinh" alone are vague); each term
weighs its IDF, so "đăng ký", which is in half the catalogue, counts little. A procedure scores
the share of the question's weight it explains (names and aliases in full, the summary and the
field less), times how much of its best-matching name or alias the question covers, so "đăng ký
khai sinh" prefers "Đăng ký khai sinh" to "Đăng ký khai sinh kết hợp nhận cha, mẹ, con". Words
the catalogue has never seen still weigh in the question, so "giá vàng" explains too little of
itself to pass the threshold, and the bot says it does not know instead of guessing.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar, Protocol

from knowledge.catalogue import Catalogue
from knowledge.normalize import Synonyms, TypoCorrector, load_synonyms


@dataclass(frozen=True, slots=True)
class SearchHit:
    code: str
    name: str
    score: float  # 0..1, higher is better; only hits above the answer threshold are returned


class CatalogueSearch(Protocol):
    def search(self, query: str, limit: int = 3) -> list[SearchHit]:
        """Best first; an empty list means "I don't know this one"."""
        ...


def _terms(words: list[str]) -> list[str]:
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(words)]
    return list(dict.fromkeys([*words, *pairs]))


class Searcher:
    """CatalogueSearch over an in-memory inverted index, built once per catalogue."""

    THRESHOLD: ClassVar[float] = 0.45
    NAME_WEIGHT: ClassVar[float] = 1.0  # names and aliases
    SUMMARY_WEIGHT: ClassVar[float] = 0.6
    FIELD_WEIGHT: ClassVar[float] = 0.3
    PAIR_WEIGHT: ClassVar[float] = 1.0  # a known pair of words, times its IDF
    UNKNOWN_WEIGHT: ClassVar[float] = 0.5  # an unknown word, times the highest IDF
    SPECIFICITY: ClassVar[float] = 0.5  # share of the score from covering the name or alias
    CURATED_BONUS: ClassVar[float] = 0.02  # a hand-written entry wins a near tie

    def __init__(self, catalogue: Catalogue, synonyms: Synonyms | None = None) -> None:
        self._synonyms = synonyms if synonyms is not None else load_synonyms()
        everything = catalogue.all()
        # A replaced code answers as its successor: its name becomes one more alias there.
        successor = {old: p.code for p in everything for old in p.replaces}
        procedures = [p for p in everything if p.code not in successor]
        old_names: dict[str, list[str]] = {}
        for p in everything:
            if p.code in successor:
                old_names.setdefault(successor[p.code], []).append(p.name)
        self._codes = [p.code for p in procedures]
        self._names = [p.name for p in procedures]
        self._curated = [p.curated for p in procedures]

        postings: dict[str, dict[int, float]] = {}
        doc_units: list[list[list[str]]] = []
        word_counts: dict[str, int] = {}
        words_of = self._synonyms.catalogue_words
        alias_words = self._synonyms.query_words
        for doc, procedure in enumerate(procedures):
            # Aliases are written the way villagers ask, so they are rewritten like questions.
            units = [
                words_of(procedure.name),
                *(alias_words(alias) for alias in procedure.aliases),
                *(words_of(old) for old in old_names.get(procedure.code, ())),
            ]
            texts = [
                *((self.NAME_WEIGHT, words) for words in units),
                (self.SUMMARY_WEIGHT, words_of(procedure.summary)),
                (self.FIELD_WEIGHT, words_of(procedure.field)),
            ]
            for weight, words in texts:
                for word in words:
                    word_counts[word] = word_counts.get(word, 0) + 1
                for term in _terms(words):
                    posting = postings.setdefault(term, {})
                    if posting.get(doc, 0.0) < weight:
                        posting[doc] = weight
            doc_units.append([_terms(words) for words in units if words])

        count = max(len(procedures), 1)
        self._postings = postings
        self._idf = {
            term: math.log(1.0 + (count - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in postings.items()
        }
        self._unknown_idf = math.log(1.0 + (count + 0.5) / 0.5)
        self._units = [
            [(frozenset(terms), sum(self._idf[t] for t in terms)) for terms in units]
            for units in doc_units
        ]
        rule_words = dict.fromkeys(self._synonyms.vocabulary(), 1)
        self._typos = TypoCorrector(rule_words | word_counts)

    def query_terms(self, query: str) -> list[str]:
        """The terms a question is matched on, after rewriting and typo correction."""
        words = self._synonyms.query_words(query, self._typos.correct)
        # Numbers the catalogue never mentions ("1990", "80 tuổi") say nothing about the procedure.
        return _terms([w for w in words if not w.isdigit() or w in self._idf])

    def search(self, query: str, limit: int = 3) -> list[SearchHit]:
        if limit <= 0:
            return []
        total = 0.0
        known: list[tuple[float, str]] = []
        for term in self.query_terms(query):
            term_idf = self._idf.get(term)
            if term_idf is not None:
                known.append((term_idf * self.PAIR_WEIGHT if " " in term else term_idf, term))
                total += known[-1][0]
            elif term.isalpha() and " " not in term:
                # An unknown word is probably what the question is about; unknown pairs are
                # normal ("khai sinh con") and unknown numbers ("1990") are noise.
                total += self.UNKNOWN_WEIGHT * self._unknown_idf
        if not known:
            return []

        # Rare terms first. Once the terms left weigh too little to lift a procedure that has
        # none of the terms so far over the threshold, only procedures already found can pass,
        # so common terms ("đăng ký") update those instead of walking their long postings.
        known.sort(reverse=True)
        needed = (self.THRESHOLD - self.CURATED_BONUS) * total
        left = sum(weight for weight, _ in known)
        matched: dict[int, float] = {}
        paired: set[int] = set()
        for weight, term in known:
            posting = self._postings[term]
            if left >= needed:
                for doc, field_weight in posting.items():
                    matched[doc] = matched.get(doc, 0.0) + weight * field_weight
                if " " in term:
                    paired.update(posting)
            else:
                for doc in matched:
                    found = posting.get(doc)
                    if found is not None:
                        matched[doc] += weight * found
                        if " " in term:
                            paired.add(doc)
            left -= weight

        query_idf = [(term, self._idf[term]) for _, term in known]
        general = 1.0 - self.SPECIFICITY
        hits: list[tuple[float, bool, str, int]] = []
        for doc, weight in matched.items():
            share = weight / total
            bonus = self.CURATED_BONUS if self._curated[doc] else 0.0
            if share + bonus < self.THRESHOLD:
                continue
            cover = 0.0
            for unit_terms, unit_total in self._units[doc]:
                shared = sum(w for term, w in query_idf if term in unit_terms)
                cover = max(cover, shared / unit_total)
            if doc not in paired and cover < 0.99:
                # Vietnamese ideas take two words ("khai sinh", "hộ nghèo"); a question that
                # shares only lone words with a procedure ("yêu" with "yếu tố") is not about it.
                continue
            score = share * (general + self.SPECIFICITY * cover) + bonus
            if score >= self.THRESHOLD:
                hits.append((min(score, 1.0), self._curated[doc], self._codes[doc], doc))
        hits.sort(key=lambda hit: (-hit[0], not hit[1], hit[2]))
        return [
            SearchHit(code=code, name=self._names[doc], score=score)
            for score, _, code, doc in hits[:limit]
        ]


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
