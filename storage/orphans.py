"""Files in the store that no row names: what a crash between the two leaves behind.

Every file is written to the store before the row that names it commits (a photo's
``dossier_files`` row, a web upload's ``web_files`` row), and a row is deleted before its file.
A crash between the two leaves a file nobody can reach: an ID card photo kept for ever. The
sweep deletes files older than a grace period that no row names. The grace period is longer
than any write takes from file to commit, so a photo whose row is being written now is never
taken for an orphan.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.files import LocalFileStore
from storage.models import DossierFileRow, WebFileRow

log = logging.getLogger(__name__)

GRACE: Final = timedelta(hours=1)
_BATCH: Final = 500  # keys per IN (...) query


class OrphanFiles:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: LocalFileStore,
        grace: timedelta = GRACE,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._grace = grace

    async def sweep(self, now: datetime) -> int:
        """Delete the files older than the grace period that no row names; how many."""
        cutoff = now - self._grace
        candidates = await self._store.stored_before(cutoff)
        orphans: list[str] = []
        for start in range(0, len(candidates), _BATCH):
            batch = candidates[start : start + _BATCH]
            named = await self._named(batch)
            orphans += [key for key in batch if key not in named]
        for key in orphans:
            await self._store.delete(key)
        partial = await self._store.forget_partial_writes(cutoff)
        if orphans or partial:
            log.info(
                "file store: %d orphaned files, %d partial writes deleted", len(orphans), partial
            )
        return len(orphans) + partial

    async def _named(self, keys: list[str]) -> set[str]:
        async with self._sessions() as session:
            dossier = await session.scalars(
                select(DossierFileRow.storage_key).where(DossierFileRow.storage_key.in_(keys))
            )
            web = await session.scalars(
                select(WebFileRow.file_key).where(WebFileRow.file_key.in_(keys))
            )
            return {*dossier, *web}
