"""Understanding free text: commands, small talk, and picking the answer among search hits."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from enum import Enum

from knowledge.catalogue import Catalogue
from knowledge.model import Procedure
from knowledge.search import SearchHit

# Hits within this distance of the best one are "close": the user must choose among them.
CLOSE_MARGIN = 0.1
MAX_CHOICES = 5
SEARCH_LIMIT = 5
# A question longer than this is a pasted text, not a question; the start carries the intent.
QUERY_LENGTH = 300


class Talk(Enum):
    """Short messages that are not questions about a procedure."""

    MENU = "menu"  # an explicit command: show the main menu wherever the user is
    GREETING = "greeting"
    THANKS = "thanks"
    OK = "ok"
    BYE = "bye"


_PHRASES: dict[Talk, frozenset[str]] = {
    Talk.MENU: frozenset(
        {"start", "menu", "menu chinh", "bat dau", "trang chu", "help", "tro giup"}
    ),
    Talk.GREETING: frozenset(
        {"chao", "xin chao", "hello", "hi", "alo", "chao buoi sang", "chao buoi chieu"}
    ),
    Talk.THANKS: frozenset(
        {"cam on", "camon", "thanks", "thank", "thank you", "thanks you", "tks", "cam on da giup"}
    ),
    Talk.OK: frozenset(
        {
            "ok",
            "oke",
            "okay",
            "okie",
            "vang",
            "da",
            "da vang",
            "u",
            "uh",
            "duoc",
            "duoc roi",
            "roi",
            "hieu roi",
            "biet roi",
            "tot",
            "tot qua",
            "dong y",
            "",  # only emoji or punctuation, e.g. a thumbs-up
        }
    ),
    Talk.BYE: frozenset({"tam biet", "chao tam biet", "bye", "bye bye", "goodbye", "bai"}),
}

# Polite particles and forms of address that do not change what a short message means.
_FILLERS = frozenset(
    {"a", "nhe", "nha", "nhi", "ban", "em", "anh", "chi", "bac", "nhieu", "lam", "ad", "admin"}
    | {"bot", "oi", "ha", "vay", "so", "much", "you"}
)

_NOT_WORD = re.compile(r"[^\w\s]+")


def fold(text: str) -> str:
    """Lower case, no diacritics, no punctuation, single spaces: "Cảm ơn!" -> "cam on"."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", bare).replace("_", " ").split())


def classify(text: str) -> Talk | None:
    """What a short message is, or None when it should be treated as a question."""
    words = fold(text).split()
    if len(words) > 6:
        return None
    core = " ".join(w for w in words if w not in _FILLERS)
    if not core and words:
        return Talk.GREETING  # only calling out ("bạn ơi", "ad ơi")
    for talk, phrases in _PHRASES.items():
        if core in phrases:
            return talk
    return None


def query_of(text: str) -> str:
    """The part of a message worth searching for."""
    return " ".join(text.split())[:QUERY_LENGTH]


def pick(hits: Sequence[SearchHit], catalogue: Catalogue) -> tuple[Procedure, ...]:
    """The procedures to offer: none (unknown), one (answer it) or several close ones (ask).

    Hits the catalogue no longer knows are dropped (a search index built from an older
    catalogue), and a replaced code counts once, as its successor.
    """
    found: list[tuple[float, Procedure]] = []
    seen: set[str] = set()
    for hit in sorted(hits, key=lambda h: -h.score):
        procedure = catalogue.get(hit.code)
        if procedure is None or procedure.code in seen:
            continue
        seen.add(procedure.code)
        found.append((hit.score, procedure))
    if not found:
        return ()
    best = found[0][0]
    return tuple(p for score, p in found if best - score <= CLOSE_MARGIN)[:MAX_CHOICES]


def sure(hits: Sequence[SearchHit]) -> bool:
    """Whether the best hit is an answer, not just the closest guess: a guess is offered as a
    "Ý bạn là..." button, even alone, instead of a card the villager did not ask for."""
    return bool(hits) and hits[0].sure
