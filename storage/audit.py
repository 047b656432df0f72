"""The append-only audit trail."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.common import aware as _aware
from storage.models import (
    AuditLogRow,
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any] = field(default_factory=dict)


class AuditRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(
        self, actor: str, action: str, target: str, details: dict[str, Any], now: datetime
    ) -> None:
        async with self._sessions.begin() as session:
            session.add(
                AuditLogRow(
                    at=_aware(now, "now"),
                    actor=actor,
                    action=action,
                    target=target,
                    details=details,
                )
            )

    async def for_target(self, target: str, limit: int = 100) -> builtins.list[AuditEntry]:
        """What happened to ``target``, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AuditLogRow)
                .where(AuditLogRow.target == target)
                .order_by(AuditLogRow.at, AuditLogRow.id)
                .limit(limit)
            )
            return [
                AuditEntry(
                    id=r.id,
                    at=r.at,
                    actor=r.actor,
                    action=r.action,
                    target=r.target,
                    details=dict(r.details),
                )
                for r in rows
            ]

    async def count(self, action: str, target: str, since: datetime) -> int:
        """How many times ``action`` was recorded on ``target`` from ``since`` on."""
        async with self._sessions() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(AuditLogRow)
                .where(
                    AuditLogRow.target == target,
                    AuditLogRow.action == action,
                    AuditLogRow.at >= _aware(since, "since"),
                )
            )
            return int(found or 0)
