"""Officer-console accounts, their signed-in sessions and the login attempts that rate-limit
password guessing. Everything here is shared by every worker through the database.

Storage keeps what the console service (``backoffice.accounts``) decides: it never hashes a
password or makes a token; it is handed the hash and the token's digest.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.common import aware as _aware
from storage.models import ConsoleLoginAttemptRow, ConsoleSessionRow, ConsoleUserRow


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str
    role: str
    commune_code: str  # a 5-digit unit code, or "*" for the whole province
    password_hash: str
    must_change_password: bool
    disabled_at: datetime | None
    created_at: datetime
    password_changed_at: datetime

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    token_hash: str
    account: Account
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime


class AccountExistsError(ValueError):
    """An account with that name exists already."""


def _account(row: ConsoleUserRow) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        role=row.role,
        commune_code=row.commune_code,
        password_hash=row.password_hash,
        must_change_password=bool(row.must_change_password),
        disabled_at=row.disabled_at,
        created_at=row.created_at,
        password_changed_at=row.password_changed_at,
    )


class AccountRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # --- accounts ---------------------------------------------------------------------------

    async def add(
        self, name: str, role: str, commune_code: str, password_hash: str, now: datetime
    ) -> Account:
        """A new account whose password must be changed at first login."""
        now = _aware(now, "now")
        row = ConsoleUserRow(
            name=name,
            role=role,
            commune_code=commune_code,
            password_hash=password_hash,
            must_change_password=True,
            disabled_at=None,
            created_at=now,
            password_changed_at=now,
        )
        try:
            async with self._sessions.begin() as session:
                session.add(row)
                await session.flush()
                return _account(row)
        except IntegrityError as exc:
            raise AccountExistsError(name) from exc

    async def by_name(self, name: str) -> Account | None:
        async with self._sessions() as session:
            row = await session.scalar(select(ConsoleUserRow).where(ConsoleUserRow.name == name))
            return None if row is None else _account(row)

    async def list(self) -> builtins.list[Account]:
        async with self._sessions() as session:
            rows = await session.scalars(select(ConsoleUserRow).order_by(ConsoleUserRow.name))
            return [_account(r) for r in rows]

    async def disable(self, name: str, now: datetime) -> bool:
        """Disable the account and end its sessions; False when there is no such account."""
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            user_id = await session.scalar(
                select(ConsoleUserRow.id).where(ConsoleUserRow.name == name)
            )
            if user_id is None:
                return False
            await session.execute(
                update(ConsoleUserRow)
                .where(ConsoleUserRow.id == user_id, ConsoleUserRow.disabled_at.is_(None))
                .values(disabled_at=now)
            )
            await session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.user_id == user_id)
            )
            return True

    async def enable(self, name: str) -> bool:
        """A disabled account may sign in again; False when there is no such account."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(ConsoleUserRow)
                .where(ConsoleUserRow.name == name)
                .values(disabled_at=None)
                .returning(ConsoleUserRow.id)
            )
            return result.first() is not None

    async def reset_password(self, name: str, password_hash: str, now: datetime) -> bool:
        """A one-time password someone else chose: to be changed at the next sign-in; every
        session of the account ends. False when there is no such account."""
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            user_id = await session.scalar(
                update(ConsoleUserRow)
                .where(ConsoleUserRow.name == name)
                .values(
                    password_hash=password_hash, must_change_password=True, password_changed_at=now
                )
                .returning(ConsoleUserRow.id)
            )
            if user_id is None:
                return False
            await session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.user_id == user_id)
            )
            return True

    async def set_password(
        self, user_id: int, password_hash: str, now: datetime, *, keep_session: str
    ) -> None:
        """A password its owner chose; every other session of the account ends."""
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            await session.execute(
                update(ConsoleUserRow)
                .where(ConsoleUserRow.id == user_id)
                .values(
                    password_hash=password_hash,
                    must_change_password=False,
                    password_changed_at=now,
                )
            )
            await session.execute(
                delete(ConsoleSessionRow).where(
                    ConsoleSessionRow.user_id == user_id,
                    ConsoleSessionRow.token_hash != keep_session,
                )
            )

    async def rehash(self, user_id: int, password_hash: str) -> None:
        """The same password under today's hashing parameters."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(ConsoleUserRow)
                .where(ConsoleUserRow.id == user_id)
                .values(password_hash=password_hash)
            )

    # --- sessions ---------------------------------------------------------------------------

    async def open_session(
        self, token_hash: str, user_id: int, csrf_token: str, now: datetime
    ) -> None:
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            session.add(
                ConsoleSessionRow(
                    token_hash=token_hash,
                    user_id=user_id,
                    csrf_token=csrf_token,
                    created_at=now,
                    last_seen_at=now,
                )
            )

    async def session(self, token_hash: str) -> ConsoleSession | None:
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(ConsoleSessionRow, ConsoleUserRow)
                    .join(ConsoleUserRow, ConsoleUserRow.id == ConsoleSessionRow.user_id)
                    .where(ConsoleSessionRow.token_hash == token_hash)
                )
            ).one_or_none()
            if found is None:
                return None
            row, user = found
            return ConsoleSession(
                token_hash=row.token_hash,
                account=_account(user),
                csrf_token=row.csrf_token,
                created_at=row.created_at,
                last_seen_at=row.last_seen_at,
            )

    async def touch(self, token_hash: str, now: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(ConsoleSessionRow)
                .where(ConsoleSessionRow.token_hash == token_hash)
                .values(last_seen_at=_aware(now, "now"))
            )

    async def close_session(self, token_hash: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == token_hash)
            )

    async def expire_sessions(self, idle_since: datetime) -> int:
        """Delete sessions not seen since ``idle_since``; how many."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ConsoleSessionRow).where(
                    ConsoleSessionRow.last_seen_at < _aware(idle_since, "idle_since")
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)

    # --- login attempts ---------------------------------------------------------------------

    async def record_attempt(
        self, account: str, address: str, succeeded: bool, now: datetime
    ) -> None:
        async with self._sessions.begin() as session:
            session.add(
                ConsoleLoginAttemptRow(
                    at=_aware(now, "now"),
                    account=account[:64],
                    address=address[:64],
                    succeeded=succeeded,
                )
            )

    async def failures(
        self, since: datetime, *, account: str | None = None, address: str | None = None
    ) -> int:
        """Failed attempts from ``since`` on, for one account or one address."""
        stmt = (
            select(func.count())
            .select_from(ConsoleLoginAttemptRow)
            .where(
                ConsoleLoginAttemptRow.at >= _aware(since, "since"),
                ConsoleLoginAttemptRow.succeeded.is_(False),
            )
        )
        if account is not None:
            stmt = stmt.where(ConsoleLoginAttemptRow.account == account[:64])
        if address is not None:
            stmt = stmt.where(ConsoleLoginAttemptRow.address == address[:64])
        async with self._sessions() as session:
            return int(await session.scalar(stmt) or 0)

    async def forget_attempts(self, before: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(ConsoleLoginAttemptRow).where(
                    ConsoleLoginAttemptRow.at < _aware(before, "before")
                )
            )
