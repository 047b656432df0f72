"""Split newly written question families between the tuned and the held-out part.

The input is a JSON-lines file of new families, kept outside the repository because it holds the
future held-out lines too; one object per phrasing::

    {"family": 7, "q": "...", "code": "1.001193", "kinds": ["situation"]}

Rows with the same ``family`` form one family (a base phrasing and its derived phrasings); families
are taken in the order they first appear. The rule is the one in README.md, applied to the new
families only: within each code (``None`` for out-of-scope questions as one group) the new families
are numbered k = 0, 1, 2, ... in file order; with r = int(md5(code as text).hexdigest(), 16) % 3,
family k goes to the held-out part when (k + r) % 3 == 2, else to the tuned part.

    python tests/data/search/split_new.py NEW.jsonl               # counts only, writes nothing
    python tests/data/search/split_new.py NEW.jsonl --write tuned
    python tests/data/search/split_new.py NEW.jsonl --write heldout

Before writing, the new phrasings are checked against each other, and those about to be written
against ``tuned.jsonl`` and ``heldout.jsonl`` (after case folding and whitespace); only the number
of duplicates is printed, never a line, so the held-out part is not shown to anyone.
``--write heldout`` opens ``heldout.jsonl`` to append only (and reads its last byte, so that no
line is glued onto another). Run a second time with the same input, the script stops at the
duplicate check, so nothing is appended twice.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = {"tuned": HERE / "tuned.jsonl", "heldout": HERE / "heldout.jsonl"}
KINDS = {"long", "situation", "spoken", "abbrev", "typo", "no_diacritics", "variant", "plain"}

Row = dict[str, object]


def key(question: str) -> str:
    return " ".join(question.casefold().split())


def families(path: Path) -> list[list[Row]]:
    grouped: dict[object, list[Row]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if set(row) != {"family", "q", "code", "kinds"}:
            raise SystemExit(f"{path}:{number}: keys {sorted(row)}")
        if not row["kinds"] or not set(row["kinds"]) <= KINDS:
            raise SystemExit(f"{path}:{number}: kinds {row['kinds']!r}")
        grouped.setdefault(row["family"], []).append(row)
    for rows in grouped.values():
        if len({row["code"] for row in rows}) != 1:
            raise SystemExit(f"family {rows[0]['family']!r} mixes codes")
    return list(grouped.values())


def split(new: list[list[Row]]) -> dict[str, list[list[Row]]]:
    parts: dict[str, list[list[Row]]] = {"tuned": [], "heldout": []}
    seen: Counter[str] = Counter()
    for family in new:
        code = str(family[0]["code"])  # None -> "None"
        k = seen[code]
        seen[code] += 1
        r = int(hashlib.md5(code.encode("utf-8")).hexdigest(), 16) % 3
        parts["heldout" if (k + r) % 3 == 2 else "tuned"].append(family)
    return parts


def duplicates(new: list[list[Row]], chosen: list[list[Row]]) -> tuple[int, int, int]:
    """Counts only: duplicates among all the new rows, and of the chosen rows (those about to be
    written) with the lines already in tuned.jsonl and in heldout.jsonl."""
    every = [key(str(row["q"])) for family in new for row in family]
    within = len(every) - len(set(every))
    keys = {key(str(row["q"])) for family in chosen for row in family}
    tuned = {
        key(json.loads(line)["q"])
        for line in PARTS["tuned"].read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    with PARTS["heldout"].open(encoding="utf-8") as held:
        heldout = {key(json.loads(line)["q"]) for line in held if line.strip()}
    return within, len(keys & tuned), len(keys & heldout)


def append(part: str, chosen: list[list[Row]]) -> None:
    path = PARTS[part]
    needs_newline = False
    with path.open("rb") as raw:  # its last byte only, so that no line is glued onto another
        if raw.seek(0, 2) > 0:
            raw.seek(-1, 2)
            needs_newline = raw.read(1) != b"\n"
    with path.open("a", encoding="utf-8") as out:
        if needs_newline:
            out.write("\n")
        for family in chosen:
            for row in family:
                record = {"q": row["q"], "code": row["code"], "kinds": row["kinds"]}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("new", type=Path, help="JSON lines of new families (see the docstring)")
    parser.add_argument("--write", choices=sorted(PARTS), help="append that part's families")
    args = parser.parse_args(argv)
    new = families(args.new)
    parts = split(new)
    for name, chosen in parts.items():
        rows = [row for family in chosen for row in family]
        in_scope = [row for row in rows if row["code"] is not None]
        print(
            f"{name:8} {len(chosen):3} families {len(rows):4} phrasings "
            f"({len(in_scope)} in scope over {len({row['code'] for row in in_scope})} codes, "
            f"{len(rows) - len(in_scope)} out of scope)"
        )
    chosen = parts[args.write] if args.write else new
    within, tuned, heldout = duplicates(new, chosen)
    print(
        f"duplicates: {within} among the new phrasings; of the {args.write or 'new'} ones, "
        f"{tuned} with tuned.jsonl and {heldout} with heldout.jsonl"
    )
    if args.write is None:
        return 0
    if within or tuned or heldout:
        print("not written: remove the duplicates first", file=sys.stderr)
        return 1
    append(args.write, chosen)
    print(f"appended to {PARTS[args.write].name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
