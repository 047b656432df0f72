"""Which stored file (photo, scan) belongs to which draft or dossier, in which slot."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage.common import aware as _aware
from storage.common import key_filter as _key_filter
from storage.common import key_of as _key
from storage.models import (
    DossierFileRow,
)


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: int
    dossier_id: int | None
    key: ConversationKey
    slot: str
    sha256: str
    storage_key: str
    mime_type: str
    size: int
    width: int | None
    height: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AddedFile:
    """``is_new`` is False when the same picture was already in that slot: say so, keep one."""

    file: StoredFile
    is_new: bool


_FILES = cast(Table, DossierFileRow.__table__)


def _file(row: DossierFileRow) -> StoredFile:
    return StoredFile(
        id=row.id,
        dossier_id=row.dossier_id,
        key=_key(row),
        slot=row.slot,
        sha256=row.sha256,
        storage_key=row.storage_key,
        mime_type=row.mime_type,
        size=row.size,
        width=row.width,
        height=row.height,
        created_at=row.created_at,
    )


class FileRepository:
    """Which stored file (photo, scan) belongs to which draft or dossier, in which slot."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(
        self,
        key: ConversationKey,
        slot: str,
        sha256: str,
        storage_key: str,
        mime_type: str,
        size: int,
        now: datetime,
        *,
        width: int | None = None,
        height: int | None = None,
        dossier_id: int | None = None,
    ) -> AddedFile:
        """Record a file for the conversation's draft (or straight for a dossier, e.g. a
        supplement). The same picture twice in one slot is recorded once."""
        now = _aware(now, "now")
        try:
            async with self._sessions.begin() as session:
                existing = await self._same(session, key, slot, sha256, dossier_id)
                if existing is not None:
                    return AddedFile(file=existing, is_new=False)
                row = DossierFileRow(
                    dossier_id=dossier_id,
                    channel=key.channel,
                    chat_id=key.chat_id,
                    user_id=key.user_id,
                    slot=slot,
                    sha256=sha256,
                    storage_key=storage_key,
                    mime_type=mime_type,
                    size=size,
                    width=width,
                    height=height,
                    created_at=now,
                )
                session.add(row)
                await session.flush()
                return AddedFile(file=_file(row), is_new=True)
        except IntegrityError:
            async with self._sessions() as session:
                existing = await self._same(session, key, slot, sha256, dossier_id)
            if existing is None:
                raise
            return AddedFile(file=existing, is_new=False)

    async def for_conversation(self, key: ConversationKey) -> builtins.list[StoredFile]:
        """The draft's files (not yet part of a dossier), in upload order."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(DossierFileRow)
                .where(*_key_filter(DossierFileRow, key), DossierFileRow.dossier_id.is_(None))
                .order_by(DossierFileRow.id)
            )
            return [_file(row) for row in rows]

    async def for_dossier(self, dossier_id: int) -> builtins.list[StoredFile]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(DossierFileRow)
                .where(DossierFileRow.dossier_id == dossier_id)
                .order_by(DossierFileRow.id)
            )
            return [_file(row) for row in rows]

    async def attach_to_dossier(
        self,
        key: ConversationKey,
        dossier_id: int,
        *,
        slot: str | None = None,
        sha256: Sequence[str] | None = None,
    ) -> builtins.list[StoredFile]:
        """Hand the conversation's loose files over to the dossier: all of them, or those of
        one ``slot`` (a supplement's photos), or only those with the given ``sha256``."""
        only = []
        if slot is not None:
            only.append(DossierFileRow.slot == slot)
        if sha256 is not None:
            only.append(DossierFileRow.sha256.in_(list(sha256)))
        async with self._sessions.begin() as session:
            rows = (
                await session.scalars(
                    update(DossierFileRow)
                    .where(
                        *_key_filter(DossierFileRow, key),
                        DossierFileRow.dossier_id.is_(None),
                        *only,
                    )
                    .values(dossier_id=dossier_id)
                    .returning(DossierFileRow)
                )
            ).all()
            return sorted((_file(row) for row in rows), key=lambda f: f.id)

    async def remove(self, file_id: int) -> StoredFile | None:
        """Forget a file (a retaken photo); the caller deletes its bytes by ``storage_key``."""
        async with self._sessions.begin() as session:
            row = await session.get(DossierFileRow, file_id)
            if row is None:
                return None
            removed = _file(row)
            await session.delete(row)
            return removed

    @staticmethod
    async def _same(
        session: AsyncSession,
        key: ConversationKey,
        slot: str,
        sha256: str,
        dossier_id: int | None,
    ) -> StoredFile | None:
        owner = (
            DossierFileRow.dossier_id.is_(None)
            if dossier_id is None
            else DossierFileRow.dossier_id == dossier_id
        )
        row = await session.scalar(
            select(DossierFileRow).where(
                *_key_filter(DossierFileRow, key),
                owner,
                DossierFileRow.slot == slot,
                DossierFileRow.sha256 == sha256,
            )
        )
        return None if row is None else _file(row)


# --------------------------------------------------------------------------- outbox
