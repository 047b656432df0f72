"""The catalogue: every procedure the assistant knows, by code and by field."""

from __future__ import annotations

from collections.abc import Iterable

from knowledge.model import Procedure


class Catalogue:
    """An immutable, in-memory set of procedures. Replaced codes resolve to their successors."""

    def __init__(self, procedures: Iterable[Procedure]) -> None:
        self._by_code: dict[str, Procedure] = {}
        self._aliases: dict[str, str] = {}
        for procedure in procedures:
            self._by_code[procedure.code] = procedure
        for procedure in self._by_code.values():
            for old in procedure.replaces:
                self._aliases[old] = procedure.code

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Procedure | None:
        """The procedure with this code, or its successor if the code was replaced."""
        code = self._aliases.get(code, code)
        return self._by_code.get(code)

    def all(self) -> tuple[Procedure, ...]:
        return tuple(self._by_code.values())

    def fields(self) -> list[tuple[str, int]]:
        """Fields (lĩnh vực) with how many procedures each, most procedures first."""
        counts: dict[str, int] = {}
        for procedure in self._by_code.values():
            counts[procedure.field] = counts.get(procedure.field, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def by_field(self, field: str) -> tuple[Procedure, ...]:
        return tuple(
            sorted(
                (p for p in self._by_code.values() if p.field == field),
                key=lambda p: (not p.curated, p.name),
            )
        )
