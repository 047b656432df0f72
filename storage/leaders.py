"""Leaders' chats: which chat belongs to which console account, tied with a one-time code.

The console makes a code for a signed-in leader (:meth:`LeaderChatRepository.new_code`);
typed in a chat, :meth:`link` ties that chat to the account and deletes the code, in one
transaction, so a code links one chat at most. Only the code's SHA-256 is stored. The codes
have 40 random bits, and expire after ``ttl``: guessing one is out of reach without a limit
on tries.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage.accounts import Account, _account
from storage.common import aware
from storage.common import dialect_insert as _insert
from storage.models import AuditLogRow, ConsoleUserRow, LeaderChatRow, LeaderLinkCodeRow

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a screen, typed on a phone
CODE_LENGTH = 8
TTL = timedelta(minutes=15)


def normalise_code(text: str) -> str:
    """What a person typed, as the code is stored: upper case, no spaces or dashes."""
    return "".join(c for c in text.upper() if c.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


class LeaderChatRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def new_code(self, account_id: int, now: datetime, ttl: timedelta = TTL) -> str:
        """A fresh code for the account (its older codes stop working)."""
        now = aware(now, "now")
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        async with self._sessions.begin() as session:
            await session.execute(
                delete(LeaderLinkCodeRow).where(
                    (LeaderLinkCodeRow.account_id == account_id)
                    | (LeaderLinkCodeRow.expires_at < now)
                )
            )
            session.add(
                LeaderLinkCodeRow(
                    code_hash=_hash(code),
                    account_id=account_id,
                    created_at=now,
                    expires_at=now + ttl,
                )
            )
        return f"{code[:4]}-{code[4:]}"

    async def link(self, code: str, key: ConversationKey, now: datetime) -> Account | None:
        """Tie ``key``'s chat to the code's account; None when the code is unknown, used or
        expired, or the account is disabled or no leader."""
        now = aware(now, "now")
        async with self._sessions.begin() as session:
            taken = (
                await session.execute(
                    delete(LeaderLinkCodeRow)
                    .where(LeaderLinkCodeRow.code_hash == _hash(code))
                    .returning(LeaderLinkCodeRow.account_id, LeaderLinkCodeRow.expires_at)
                )
            ).first()
            if taken is None or aware(taken[1], "expires_at") < now:
                return None
            row = await session.get(ConsoleUserRow, taken[0])
            if row is None or row.disabled_at is not None or row.role != "leader":
                return None
            stmt = _insert(session, LeaderChatRow).values(
                account_id=row.id,
                channel=key.channel,
                chat_id=key.chat_id,
                user_id=key.user_id,
                linked_at=now,
            )
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["channel", "user_id"],
                    set_={"account_id": row.id, "chat_id": key.chat_id, "linked_at": now},
                )
            )
            session.add(
                AuditLogRow(
                    at=now,
                    actor=f"console:{row.name}",
                    action="leader_chat_linked",
                    target=f"account:{row.name}",
                    details={"channel": key.channel},
                )
            )
            return _account(row)

    async def leader_of(self, key: ConversationKey) -> Account | None:
        """The active leader account this chat is tied to, if any."""
        async with self._sessions() as session:
            row = await session.scalar(
                select(ConsoleUserRow)
                .join(LeaderChatRow, LeaderChatRow.account_id == ConsoleUserRow.id)
                .where(
                    LeaderChatRow.channel == key.channel,
                    LeaderChatRow.user_id == key.user_id,
                    ConsoleUserRow.disabled_at.is_(None),
                    ConsoleUserRow.role == "leader",
                )
            )
            return None if row is None else _account(row)

    async def chats_of(self, account_id: int) -> builtins.list[tuple[int, str, datetime]]:
        """(link id, channel, linked at) of the account's chats."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(LeaderChatRow.id, LeaderChatRow.channel, LeaderChatRow.linked_at)
                .where(LeaderChatRow.account_id == account_id)
                .order_by(LeaderChatRow.linked_at)
            )
            return [(int(r[0]), str(r[1]), aware(r[2], "linked_at")) for r in rows]

    async def unlink(self, account_id: int, link_id: int) -> bool:
        async with self._sessions.begin() as session:
            gone = await session.execute(
                delete(LeaderChatRow)
                .where(LeaderChatRow.id == link_id, LeaderChatRow.account_id == account_id)
                .returning(LeaderChatRow.id)
            )
            return gone.first() is not None
