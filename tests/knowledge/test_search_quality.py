"""Search quality on the bundled catalogue, measured on the labelled questions.

``tests/data/questions.jsonl``: one ``{"q": ..., "code": ...}`` per line; ``code`` is null for
small talk and questions the commune cannot answer, which must get no answer at all.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from knowledge.catalogue import Catalogue, load_catalogue
from knowledge.search import Searcher

QUESTIONS = Path(__file__).resolve().parent.parent / "data" / "questions.jsonl"
SEARCH_SET = Path(__file__).resolve().parent.parent / "data" / "search"
KINDS = {"long", "situation", "spoken", "abbrev", "typo", "no_diacritics", "variant", "plain"}
CURATED_CODES = (
    *("1.001193", "1.000689", "1.004884", "1.000894", "1.004746", "1.004873", "1.000656"),
    *("1.005461", "1.001022", "1.004859", "1.004837", "2.000635", "2.000815", "2.000884"),
    *("2.001035", "2.000908", "3.000722", "2.002913", "1.001776", "1.001731", "1.004222"),
    *("1.004194", "1.001612", "1.011606", "1.012812", "1.013225"),
)


def _labelled() -> list[tuple[str, str | None]]:
    rows = []
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        rows.append((record["q"], record["code"]))
    return rows


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def searcher(catalogue: Catalogue) -> Searcher:
    return Searcher(catalogue)


def test_the_labelled_set_is_broad_enough() -> None:
    rows = _labelled()
    per_code = Counter(code for _, code in rows)
    assert len(rows) >= 220
    assert per_code[None] >= 30
    thin = [code for code in CURATED_CODES if per_code[code] < 5]
    assert not thin, f"fewer than 5 questions for {thin}"
    assert len({code for code in per_code if code not in CURATED_CODES and code}) >= 10
    assert len({q for q, _ in rows}) == len(rows), "duplicate questions"


def test_every_labelled_code_is_in_the_catalogue(catalogue: Catalogue) -> None:
    missing = sorted({code for _, code in _labelled() if code and catalogue.get(code) is None})
    assert not missing, f"labelled codes missing from the bundled catalogue: {missing}"


def test_search_answers_the_labelled_questions(searcher: Searcher) -> None:
    top1 = top3 = answerable = refused = unanswerable = 0
    misses: list[str] = []
    for question, code in _labelled():
        hits = searcher.search(question)
        codes = [hit.code for hit in hits]
        shown = ", ".join(f"{hit.code} {hit.score:.2f}" for hit in hits) or "nothing"
        if code is None:
            unanswerable += 1
            refused += not hits
            if hits:
                misses.append(f"should refuse: {question!r} -> {shown}")
            continue
        answerable += 1
        top1 += codes[:1] == [code]
        top3 += code in codes
        if codes[:1] != [code]:
            misses.append(f"{question!r}: want {code}, got {shown}")
    report = (
        f"top-1 {top1 / answerable:.1%}, top-3 {top3 / answerable:.1%}, "
        f"refused {refused / unanswerable:.1%}\n" + "\n".join(misses)
    )
    assert top1 / answerable >= 0.97, report
    assert top3 / answerable >= 0.99, report
    assert refused / unanswerable >= 0.97, report


def _search_part(name: str) -> list[dict[str, object]]:
    path = SEARCH_SET / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_the_search_set_is_sound(catalogue: Catalogue) -> None:
    """The examiner's set (tests/data/search/README.md): integrity only, no accuracy targets.

    Failures name line numbers, not phrasings, so that the held-out part is not printed.
    """
    parts = {name: _search_part(name) for name in ("tuned", "heldout")}
    replaced = {old for p in catalogue.all() for old in p.replaces}
    seen: dict[str, str] = {}
    problems: list[str] = []
    for name, rows in parts.items():
        for number, row in enumerate(rows, 1):
            where = f"{name}.jsonl:{number}"
            if set(row) != {"q", "code", "kinds"}:
                problems.append(f"{where}: keys {sorted(row)}")
            q, code, kinds = row.get("q"), row.get("code"), row.get("kinds")
            if not isinstance(q, str) or not q.strip():
                problems.append(f"{where}: empty question")
                continue
            if code is not None and (not isinstance(code, str) or catalogue.get(code) is None):
                problems.append(f"{where}: code {code!r} is not in the bundled catalogue")
            elif code in replaced:
                problems.append(f"{where}: code {code} is replaced by another procedure")
            if not isinstance(kinds, list) or not kinds or not set(kinds) <= KINDS:
                problems.append(f"{where}: kinds {kinds!r}")
            key = " ".join(q.casefold().split())
            if key in seen:
                problems.append(f"{where}: same phrasing as {seen[key]}")
            seen.setdefault(key, where)
    assert not problems, "\n".join(problems[:50])

    def in_scope(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        return [row for row in rows if row["code"] is not None]

    everything = [*parts["tuned"], *parts["heldout"]]
    assert len(in_scope(everything)) >= 1000
    assert len({row["code"] for row in in_scope(everything)}) >= 120
    assert len(everything) - len(in_scope(everything)) >= 120
    held_share = len(in_scope(parts["heldout"])) / len(in_scope(everything))
    assert 0.28 <= held_share <= 0.38, f"held-out is {held_share:.0%} of the in-scope phrasings"
    out_of_scope = len(everything) - len(in_scope(everything))
    held_out_of_scope = len(parts["heldout"]) - len(in_scope(parts["heldout"]))
    assert 0.25 <= held_out_of_scope / out_of_scope <= 0.40


def test_search_answers_the_tuned_part(searcher: Searcher) -> None:
    """Floors on the tuned part of the examiner's set, a little under what search reaches
    (94.1 % top-1, 97.2 % top-3, 99.2 % refused when this was written, after 52 families of
    near misses and of papers for the school, the bank or the employer were added). Only the
    tuned part: the held-out one is measured by ``python -m bench search`` and never tuned on."""
    rows = _search_part("tuned")
    top1 = top3 = answerable = refused = unanswerable = 0
    for row in rows:
        codes = [hit.code for hit in searcher.search(str(row["q"]))]
        if row["code"] is None:
            unanswerable += 1
            refused += not codes
        else:
            answerable += 1
            top1 += codes[:1] == [row["code"]]
            top3 += row["code"] in codes[:3]
    report = (
        f"tuned part: top-1 {top1 / answerable:.1%}, top-3 {top3 / answerable:.1%}, "
        f"refused {refused / unanswerable:.1%} (python -m bench search lists the misses)"
    )
    assert top1 / answerable >= 0.93, report
    assert top3 / answerable >= 0.96, report
    assert refused / unanswerable >= 0.97, report
