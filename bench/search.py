"""Catalogue search: speed and accuracy against a naive fuzzy baseline, at two scales.

For each catalogue (the bundled one; all 2,642 portal records; the 2,642 with the bundled
procedures laid over them) it reports, for our ``Searcher`` and for the baseline
``rapidfuzz.process.extract(normalize(q), normalised_names, scorer=fuzz.token_set_ratio,
limit=3)`` over the same labelled questions: index build time, per-question latency (median
and p99, wall clock and thread CPU time, which ignores time the scheduler gave to other
processes), top-1 and top-3 accuracy and the share of out-of-scope questions refused.

Then, on the bundled catalogue, the examiner's set in ``tests/data/search/`` (villagers' phrasings
as typed on Zalo): the same three figures separately for the tuned part and the held-out part, for
ours and the baseline, the held-out misses by kind of phrasing and the ten procedures with the most
held-out misses. Only aggregates and procedure codes are printed, never a held-out phrasing: the
held-out part must not be read while tuning (tests/data/search/README.md).
``python -m bench search``.

While tuning, look at the tuned part only: ``python -m bench.search --part tuned`` (or
``BENCH_SEARCH_PART=tuned python -m bench search``) prints the timings and the tuned part's
figures and never reads ``heldout.jsonl``; ``--part held-out`` prints that part alone, and
``--no-scales`` skips the timings at the three catalogue sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from knowledge.catalogue import Catalogue, load_catalogue
from knowledge.model import Procedure
from knowledge.normalize import normalize
from knowledge.search import Searcher

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"
SEARCH_SET = ROOT / "tests" / "data" / "search"
PARTS = (("tuned", SEARCH_SET / "tuned.jsonl"), ("held-out", SEARCH_SET / "heldout.jsonl"))
KINDS = ("long", "situation", "spoken", "abbrev", "typo", "no_diacritics", "variant", "plain")
ALL_LEVELS = Path("/work/shared/catalogue-source/procedures-all-levels.jsonl")
REPEATS = 20
BASELINE_REPEATS = 3


@dataclass(frozen=True, slots=True)
class Measured:
    build_ms: float
    wall_us: list[float]
    cpu_us: list[float]
    top1: float
    top3: float
    refused: float


def _questions() -> list[tuple[str, str | None]]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    return [(row["q"], row["code"]) for row in rows]


@dataclass(frozen=True, slots=True)
class Labelled:
    q: str
    code: str | None
    kinds: tuple[str, ...]


def _part(path: Path) -> list[Labelled]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [Labelled(row["q"], row["code"], tuple(row.get("kinds", ()))) for row in rows]


@dataclass(frozen=True, slots=True)
class Scored:
    top1: float
    top3: float
    refused: float
    answerable: int
    unanswerable: int


def _score(answers: Sequence[list[str]], rows: Sequence[Labelled]) -> Scored:
    top1 = top3 = refused = 0
    for codes, row in zip(answers, rows, strict=True):
        if row.code is None:
            refused += not codes
        else:
            top1 += codes[:1] == [row.code]
            top3 += row.code in codes[:3]
    answerable = sum(row.code is not None for row in rows)
    unanswerable = len(rows) - answerable
    return Scored(
        top1=top1 / max(answerable, 1),
        top3=top3 / max(answerable, 1),
        refused=refused / max(unanswerable, 1),
        answerable=answerable,
        unanswerable=unanswerable,
    )


def _breakdown(
    answers: Sequence[list[str]],
    rows: Sequence[Labelled],
    catalogue: Catalogue,
    label: str = "held-out",
) -> list[str]:
    lines = [
        f"{label} misses by kind (a phrasing counts under each of its kinds; ours; "
        "'no answer' = in scope but refused):",
        f"{'kind':<14} {'n':>5} {'top-1 miss':>10} {'top-3 miss':>10} {'top-1':>6} {'top-3':>6} "
        f"{'no answer':>9}",
    ]
    kinds = [*KINDS, *sorted({k for r in rows for k in r.kinds} - set(KINDS))]
    for kind in kinds:
        picked = [(a, r) for a, r in zip(answers, rows, strict=True) if r.code and kind in r.kinds]
        if not picked:
            continue
        miss1 = sum(a[:1] != [r.code] for a, r in picked)
        miss3 = sum(r.code not in a[:3] for a, r in picked)
        n = len(picked)
        silent = sum(not a for a, _ in picked)
        lines.append(
            f"{kind:<14} {n:>5} {miss1:>10} {miss3:>10} "
            f"{1 - miss1 / n:>6.1%} {1 - miss3 / n:>6.1%} {silent:>9}"
        )
    for group, curated in (("curated", True), ("not curated", False)):
        picked = [
            (a, r)
            for a, r in zip(answers, rows, strict=True)
            if r.code and bool(getattr(catalogue.get(r.code), "curated", False)) == curated
        ]
        if picked:
            miss1 = sum(a[:1] != [r.code] for a, r in picked)
            miss3 = sum(r.code not in a[:3] for a, r in picked)
            n = len(picked)
            silent = sum(not a for a, _ in picked)
            lines.append(
                f"{'(' + group + ')':<14} {n:>5} {miss1:>10} {miss3:>10} "
                f"{1 - miss1 / n:>6.1%} {1 - miss3 / n:>6.1%} {silent:>9}"
            )
    wrongly = sum(bool(a) for a, r in zip(answers, rows, strict=True) if r.code is None)
    outside = sum(r.code is None for r in rows)
    lines.append(f"{'out of scope':<14} {outside:>5} {'answered anyway: ' + str(wrongly):>21}")
    # Which kinds of out-of-scope phrasing get an answer, and which procedures answer them:
    # codes and kinds only, so the held-out part's phrasings are never printed.
    kinds_out: dict[str, list[int]] = {}
    answered_by: dict[str, int] = {}
    for a, r in zip(answers, rows, strict=True):
        if r.code is not None:
            continue
        for kind in r.kinds or ("(none)",):
            counts = kinds_out.setdefault(kind, [0, 0])
            counts[0] += 1
            counts[1] += bool(a)
        if a:
            answered_by[a[0]] = answered_by.get(a[0], 0) + 1
    if wrongly:
        lines.append(
            "  answered out of scope, by kind: "
            + ", ".join(f"{k} {v[1]}/{v[0]}" for k, v in sorted(kinds_out.items()) if v[1])
        )
        lines.append(
            "  ... by the procedure offered first: "
            + ", ".join(
                f"{c} x{n}" for c, n in sorted(answered_by.items(), key=lambda cn: (-cn[1], cn[0]))
            )
        )
    per_code: dict[str, list[int]] = {}
    for a, r in zip(answers, rows, strict=True):
        if r.code is None:
            continue
        n_miss = per_code.setdefault(r.code, [0, 0, 0])
        n_miss[0] += 1
        n_miss[1] += a[:1] != [r.code]
        n_miss[2] += r.code not in a[:3]
    worst = sorted(
        ((c, v) for c, v in per_code.items() if v[1]), key=lambda cv: (-cv[1][1], -cv[1][2], cv[0])
    )[:10]
    lines += [
        "",
        f"{label} procedures that miss most (top 10 by top-1 misses; ours):",
        f"{'code':<9} {'n':>3} {'top-1 miss':>10} {'top-3 miss':>10}  name",
    ]
    for code, (n, miss1, miss3) in worst:
        procedure = catalogue.get(code)
        name = procedure.name if procedure else "(not in the bundled catalogue)"
        name = name if len(name) <= 60 else name[:59] + "…"
        lines.append(f"{code:<9} {n:>3} {miss1:>10} {miss3:>10}  {name}")
    return lines


def _search_set(bundled: Catalogue, part: str = "both") -> list[str]:
    # The held-out file is not even opened unless its figures are asked for.
    parts = [
        (label, _part(path)) for label, path in PARTS if path.exists() and part in ("both", label)
    ]
    if not parts:
        return [f"no search set under {SEARCH_SET}"]
    ours = _ours(bundled)()
    base = _baseline(bundled)()
    lines = [
        "",
        f"search set {SEARCH_SET.relative_to(ROOT)}, bundled catalogue ({len(bundled)} procedures)",
        f"{'part':<9} {'method':<9} {'phrasings':>9} {'in scope':>8} {'procs':>5} "
        f"{'top-1':>6} {'top-3':>6} {'refused':>7}",
    ]
    ours_answers: list[tuple[str, list[list[str]], list[Labelled]]] = []
    for label, rows in parts:
        procs = len({r.code for r in rows if r.code})
        for method, answer in (("ours", ours), ("baseline", base)):
            answers = [answer(r.q) for r in rows]
            m = _score(answers, rows)
            lines.append(
                f"{label:<9} {method:<9} {len(rows):>9} {m.answerable:>8} {procs:>5} "
                f"{m.top1:>6.1%} {m.top3:>6.1%} {m.refused:>7.1%}"
            )
            if method == "ours" and (label == "held-out" or part == label):
                ours_answers.append((label, answers, rows))
    for label, answers, rows in ours_answers:
        lines += ["", *_breakdown(answers, rows, bundled, label)]
    labelled = {r.code for _, rows in parts for r in rows if r.code}
    missing = sorted(c for c in labelled if bundled.get(c) is None)
    lines += [
        "",
        f"search-set codes missing from the bundled catalogue: {', '.join(missing) or 'none'}",
    ]
    return lines


def _minimal(record: Mapping[str, str]) -> Procedure:
    return Procedure(
        code=record["ma_thu_tuc"], name=record["ten_thu_tuc"], field=record["linh_vuc"]
    )


def _portal_procedures() -> list[Procedure]:
    convert: Callable[[Mapping[str, str]], Procedure] = _minimal
    try:
        from knowledge.importer import convert_record

        convert = convert_record
    except ImportError:  # name and field are all that search needs
        pass
    with ALL_LEVELS.open(encoding="utf-8") as fh:
        return [convert(json.loads(line)) for line in fh]


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _measure(
    build: Callable[[], Callable[[str], list[str]]],
    questions: list[tuple[str, str | None]],
    repeats: int,
) -> Measured:
    started = time.perf_counter()
    answer = build()
    build_ms = (time.perf_counter() - started) * 1000
    top1 = top3 = refused = 0
    for question, code in questions:  # also warms caches before timing
        codes = answer(question)
        if code is None:
            refused += not codes
        else:
            top1 += codes[:1] == [code]
            top3 += code in codes
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeats):
        for question, _ in questions:
            wall_start, cpu_start = time.perf_counter_ns(), time.thread_time_ns()
            answer(question)
            cpu.append((time.thread_time_ns() - cpu_start) / 1000)
            wall.append((time.perf_counter_ns() - wall_start) / 1000)
    answerable = sum(code is not None for _, code in questions)
    unanswerable = len(questions) - answerable
    return Measured(
        build_ms=build_ms,
        wall_us=wall,
        cpu_us=cpu,
        top1=top1 / answerable,
        top3=top3 / answerable,
        refused=refused / unanswerable,
    )


def _ours(catalogue: Catalogue) -> Callable[[], Callable[[str], list[str]]]:
    def build() -> Callable[[str], list[str]]:
        searcher = Searcher(catalogue)
        return lambda q: [hit.code for hit in searcher.search(q)]

    return build


def _baseline(catalogue: Catalogue) -> Callable[[], Callable[[str], list[str]]]:
    def build() -> Callable[[str], list[str]]:
        procedures = catalogue.all()
        codes = [p.code for p in procedures]
        names = [normalize(p.name) for p in procedures]

        def answer(question: str) -> list[str]:
            found = process.extract(
                normalize(question), names, scorer=fuzz.token_set_ratio, limit=3
            )
            return [codes[index] for _, _, index in found]

        return answer

    return build


PART_CHOICES = ("both", "tuned", "held-out")


def run(part: str | None = None, scales: bool = True) -> list[str]:
    """The report; ``part`` picks which part(s) of the search set are read and scored
    (default: both, or ``BENCH_SEARCH_PART``)."""
    part = part or os.environ.get("BENCH_SEARCH_PART", "both")
    if part not in PART_CHOICES:
        raise ValueError(f"part must be one of {PART_CHOICES}, not {part!r}")
    questions = _questions()
    bundled = load_catalogue()
    portal = _portal_procedures()
    sizes = [
        ("bundled", bundled),
        ("all levels", Catalogue(portal)),
        ("all + bundled", Catalogue([*portal, *bundled.all()])),
    ]
    in_scope = sum(code is not None for _, code in questions)
    lines = [
        f"{len(questions)} labelled questions ({in_scope} in scope), "
        f"ours x{REPEATS}, baseline x{BASELINE_REPEATS}; times in µs per question",
        "",
        f"{'catalogue':<14} {'size':>5} {'method':<9} {'build ms':>9} {'median':>8} "
        f"{'p99':>8} {'cpu med':>8} {'cpu p99':>8} {'top-1':>6} {'top-3':>6} {'refused':>7}",
    ]
    for label, catalogue in sizes if scales else []:
        ours = _measure(_ours(catalogue), questions, REPEATS)
        base = _measure(_baseline(catalogue), questions, BASELINE_REPEATS)
        for method, m in (("ours", ours), ("baseline", base)):
            lines.append(
                f"{label:<14} {len(catalogue):>5} {method:<9} {m.build_ms:>9.1f} "
                f"{statistics.median(m.wall_us):>8.0f} {_percentile(m.wall_us, 0.99):>8.0f} "
                f"{statistics.median(m.cpu_us):>8.0f} {_percentile(m.cpu_us, 0.99):>8.0f} "
                f"{m.top1:>6.1%} {m.top3:>6.1%} {m.refused:>7.1%}"
            )
        speedup = statistics.median(base.wall_us) / statistics.median(ours.wall_us)
        speedup_p99 = _percentile(base.cpu_us, 0.99) / _percentile(ours.cpu_us, 0.99)
        lines.append(
            f"{'':<14} {'':>5} ours is {speedup:.0f}x faster (median), {speedup_p99:.0f}x (cpu p99)"
        )
    missing = sorted({c for _, c in questions if c and bundled.get(c) is None})
    portal_codes = {p.code for p in portal}
    absent = sorted({c for _, c in questions if c and c not in portal_codes})
    lines += [
        "",
        f"labelled codes missing from the bundled catalogue: {', '.join(missing) or 'none'}",
        f"labelled codes absent from the portal records: {', '.join(absent) or 'none'}",
        "the baseline never refuses: it always returns its three closest names",
    ]
    lines += _search_set(bundled, part)
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--part", choices=PART_CHOICES, default=None)
    parser.add_argument("--no-scales", action="store_true", help="skip the timings")
    args = parser.parse_args(argv)
    print("\n".join(run(args.part, scales=not args.no_scales)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
