"""Search over the catalogue (the ranking lives here; normalisation in knowledge.normalize)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SearchHit:
    code: str
    name: str
    score: float  # 0..1, higher is better; only hits above the answer threshold are returned


class CatalogueSearch(Protocol):
    def search(self, query: str, limit: int = 3) -> list[SearchHit]:
        """Best first; an empty list means "I don't know this one"."""
        ...
