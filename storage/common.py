"""What every repository module shares: aware UTC times, the dialect's INSERT, conversation keys.

Repositories: one unit of work per method, plain frozen values out, never ORM objects. Every
method takes the time it should record (``now``, timezone-aware) instead of reading a clock, so
tests and replays are deterministic. Times come back as aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from dialogs.model import ConversationKey
from storage.models import ConversationRow, DossierFileRow, DossierRow


def aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value.astimezone(UTC)


def dialect_insert(session: AsyncSession, target: type[DeclarativeBase] | Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both backends spell it the same).

    Of a model, or of its Core table on the hot paths (executemany, one cached statement)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)


def key_of(row: Any) -> ConversationKey:
    """The conversation key of a row that has channel, chat_id and user_id (ORM or Core)."""
    return ConversationKey(channel=row.channel, chat_id=row.chat_id, user_id=row.user_id)


def key_filter(
    model: type[ConversationRow] | type[DossierFileRow] | type[DossierRow], key: ConversationKey
) -> tuple[Any, ...]:
    return (
        model.channel == key.channel,
        model.chat_id == key.chat_id,
        model.user_id == key.user_id,
    )
