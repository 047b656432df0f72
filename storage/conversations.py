"""Conversation state between messages, which inbound messages were handled, and the
numbered choices last shown on channels without buttons."""

from __future__ import annotations

import builtins
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage.batching import Batcher
from storage.common import aware as _aware
from storage.common import dialect_insert as _insert
from storage.common import key_filter as _key_filter
from storage.common import key_of as _key
from storage.db import read_only
from storage.handoffs import Thread, write_thread
from storage.models import (
    ChoiceMemoryRow,
    ConversationRow,
    ProcessedMessageRow,
)


@dataclass(frozen=True, slots=True)
class StoredConversation:
    key: ConversationKey
    commune_code: str
    state: dict[str, Any]
    state_version: int
    created_at: datetime
    updated_at: datetime
    last_inbound_at: datetime
    reminder_sent_at: datetime | None
    revision: int  # pass it back to ConversationRepository.save


class Saved(enum.Enum):
    """What a :meth:`ConversationRepository.save` did."""

    SAVED = "saved"
    # That message id was recorded before: the message was handled already; nothing saved.
    DUPLICATE = "duplicate"
    # The conversation was saved by someone else since it was loaded at that revision:
    # nothing saved, the message id not recorded. Load again and redo the turn.
    STALE = "stale"


# A stored row's revision is 1 or more; a conversation not stored yet is loaded as revision 0.
NEW = 0


def _conversation(row: Any) -> StoredConversation:  # an ORM row or a Core row
    return StoredConversation(
        key=_key(row),
        commune_code=row.commune_code,
        state=dict(row.state),
        state_version=row.state_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_inbound_at=row.last_inbound_at,
        reminder_sent_at=row.reminder_sent_at,
        revision=row.revision,
    )


_CONVERSATIONS = cast(Table, ConversationRow.__table__)
_PROCESSED = cast(Table, ProcessedMessageRow.__table__)


@dataclass(frozen=True, slots=True)
class _Save:
    key: ConversationKey
    state: dict[str, Any]
    state_version: int
    commune_code: str
    now: datetime
    inbound: bool
    seen_message: str | None
    revision: int  # the one it was computed from
    thread: Thread | None = None


def _row(save: _Save) -> dict[str, Any]:
    return {
        "channel": save.key.channel,
        "chat_id": save.key.chat_id,
        "user_id": save.key.user_id,
        "commune_code": save.commune_code,
        "state": save.state,
        "state_version": save.state_version,
        "created_at": save.now,
        "updated_at": save.now,
        "last_inbound_at": save.now,
        "reminder_sent_at": None,
        "revision": save.revision + 1,
    }


def _upsert_conversations(session: AsyncSession, inbound: bool) -> Any:
    """Compare-and-set, many rows in one statement: a row is inserted when absent, or updated
    when it is still at the revision its save was computed from (the new one less 1: a
    multi-row INSERT shares one WHERE, so each row's expectation travels in its own values).
    A save of a new conversation brings revision 1 and expects 0, which no row has. Only the
    rows written come back: the others lost the race.

    PostgreSQL evaluates the WHERE on the newest committed row, after waiting for a
    concurrent writer of that row to finish, so two workers cannot both pass it."""
    stmt = _insert(session, _CONVERSATIONS)
    changed: tuple[str, ...] = ("state", "state_version", "commune_code", "updated_at", "revision")
    if inbound:
        # The user is active again: a new reminder may be due after the next silence.
        changed += ("last_inbound_at", "reminder_sent_at")
    return stmt.on_conflict_do_update(
        index_elements=["channel", "chat_id", "user_id"],
        set_={name: stmt.excluded[name] for name in changed},
        where=_CONVERSATIONS.c.revision == stmt.excluded.revision - 1,
    ).returning(_CONVERSATIONS.c.channel, _CONVERSATIONS.c.chat_id, _CONVERSATIONS.c.user_id)


def _order(key: ConversationKey) -> tuple[str, str, str]:
    return (key.channel, key.chat_id, key.user_id)


class ConversationRepository:
    """Conversation state between messages, and which inbound messages were already handled."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # Concurrent turns share round trips: see storage.batching.
        self._loads: Batcher[ConversationKey, StoredConversation | None] = Batcher(self._load_many)
        self._saves: Batcher[_Save, Saved] = Batcher(self._save_many)

    async def load(self, key: ConversationKey) -> StoredConversation | None:
        return await self._loads.submit(key)

    async def save(
        self,
        key: ConversationKey,
        state: dict[str, Any],
        commune_code: str,
        now: datetime,
        *,
        revision: int,
        inbound: bool = True,
        seen_message: str | None = None,
        thread: Thread | None = None,
    ) -> Saved:
        """Store ``state``, computed from the conversation as loaded at ``revision``
        (:data:`NEW` when :meth:`load` found none), if nobody saved it since: otherwise
        nothing is written and :attr:`Saved.STALE` comes back, for the caller to load again
        and redo its work. Several workers on one database can so never overwrite each
        other's turns.

        ``inbound=False`` when the save follows our own outbound message, so the user's
        last-activity time (Zalo's 7-day window, draft expiry) is not moved.

        With ``seen_message`` the inbound message id is recorded in the same transaction, and
        only if the state is written: a turn is either wholly saved and marked handled, or
        neither, so a crash in between can neither lose the message nor handle it twice, and a
        turn that lost the race can run again. :attr:`Saved.DUPLICATE` (nothing saved) when
        that message id was already recorded.

        ``thread``: the step's lines of the transcript and the hand-over to an officer it
        opens or ends (storage.handoffs), written in the same transaction when the state is.

        Saves from concurrent turns are committed together (group commit); each caller returns
        only once its own save is committed."""
        if revision < NEW:
            raise ValueError(f"revision must be {NEW} or more, got {revision}")
        version = state.get("version", 0)
        return await self._saves.submit(
            _Save(
                key=key,
                state=state,
                state_version=version if isinstance(version, int) else 0,
                commune_code=commune_code,
                now=_aware(now, "now"),
                inbound=inbound,
                seen_message=seen_message,
                revision=revision,
                thread=thread,
            )
        )

    async def was_seen(self, channel: str, message_id: str) -> bool:
        async with self._sessions() as session:
            found = await session.scalar(
                select(ProcessedMessageRow.seen_at).where(
                    ProcessedMessageRow.channel == channel,
                    ProcessedMessageRow.message_id == message_id,
                )
            )
            return found is not None

    async def _load_many(
        self, keys: Sequence[ConversationKey]
    ) -> builtins.list[StoredConversation | None]:
        table = _CONVERSATIONS
        chats: dict[str, set[str]] = {}
        for key in keys:
            chats.setdefault(key.channel, set()).add(key.chat_id)
        found: dict[tuple[str, str, str], StoredConversation] = {}
        async with self._sessions() as session:
            # A turn's load must not queue behind other turns' saves (the save's compare-and-set
            # catches a state that changed since).
            await read_only(session)
            # channel + chat_id IN (...) walks the unique index; a row-value IN would scan.
            for channel, chat_ids in chats.items():
                rows = await session.execute(
                    select(table).where(table.c.channel == channel, table.c.chat_id.in_(chat_ids))
                )
                for row in rows:
                    found[(row.channel, row.chat_id, row.user_id)] = _conversation(row)
        return [found.get((k.channel, k.chat_id, k.user_id)) for k in keys]

    async def _save_many(self, saves: Sequence[_Save]) -> builtins.list[Saved]:
        outcome = [Saved.SAVED] * len(saves)
        async with self._sessions.begin() as session:
            first: dict[tuple[str, str], int] = {}
            for index, save in enumerate(saves):
                if save.seen_message is None:
                    continue
                pair = (save.key.channel, save.seen_message)
                if pair in first:
                    outcome[index] = Saved.DUPLICATE  # the same message twice in one batch
                else:
                    first[pair] = index
            if first:
                # Rows in key order, here and below: two workers' batches then take their row
                # locks in the same order on PostgreSQL and cannot wait for each other in a
                # circle within one statement.
                marked = await session.execute(
                    _insert(session, _PROCESSED)
                    .on_conflict_do_nothing()
                    .returning(_PROCESSED.c.channel, _PROCESSED.c.message_id),
                    [
                        {"channel": c, "message_id": m, "seen_at": saves[i].now}
                        for (c, m), i in sorted(first.items())
                    ],
                )
                new = {(c, m) for c, m in marked}
                for pair, index in first.items():
                    if pair not in new:
                        outcome[index] = Saved.DUPLICATE
            todo = [save for save, ok in zip(saves, outcome, strict=True) if ok is Saved.SAVED]
            written: set[int] = set()  # ids of the _Save objects whose row was written
            while todo:
                # One upsert may touch a row only once: a key saved twice goes in a later round.
                keys: set[ConversationKey] = set()
                now_round: builtins.list[_Save] = []
                later: builtins.list[_Save] = []
                for save in todo:
                    (later if save.key in keys else now_round).append(save)
                    keys.add(save.key)
                now_round.sort(key=lambda save: _order(save.key))
                for inbound in (True, False):
                    rows = [save for save in now_round if save.inbound is inbound]
                    if rows:
                        result = await session.execute(
                            _upsert_conversations(session, inbound), [_row(save) for save in rows]
                        )
                        done = {ConversationKey(c, chat, user) for c, chat, user in result}
                        written.update(id(save) for save in rows if save.key in done)
                todo = later
            threads = [
                (save.key, save.commune_code, save.now, save.thread)
                for save in saves
                if save.thread is not None and id(save) in written
            ]
            if threads:
                await write_thread(session, threads)
            lost: builtins.list[tuple[str, str]] = []
            for index, save in enumerate(saves):
                if outcome[index] is Saved.SAVED and id(save) not in written:
                    outcome[index] = Saved.STALE
                    if save.seen_message is not None:
                        lost.append((save.key.channel, save.seen_message))
            if lost:
                # Recorded above in this transaction, for a turn whose state was not written:
                # forgotten again, so that the turn can run once more.
                await session.execute(
                    delete(_PROCESSED).where(
                        tuple_(_PROCESSED.c.channel, _PROCESSED.c.message_id).in_(lost)
                    )
                )
        return outcome

    async def delete(self, key: ConversationKey) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ConversationRow)
                .where(*_key_filter(ConversationRow, key))
                .returning(ConversationRow.id)
            )
            return result.first() is not None

    async def chats_created_before(self, channel: str, before: datetime) -> frozenset[str]:
        """The chat ids of ``channel``'s conversations that began before ``before``."""
        async with self._sessions() as session:
            found = await session.scalars(
                select(ConversationRow.chat_id).where(
                    ConversationRow.channel == channel,
                    ConversationRow.created_at < _aware(before, "before"),
                )
            )
            return frozenset(found)

    async def purge_seen(self, before: datetime) -> int:
        """Forget message ids seen before ``before`` (keep at least a day: platforms retry)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ProcessedMessageRow)
                .where(ProcessedMessageRow.seen_at < _aware(before, "before"))
                .returning(ProcessedMessageRow.message_id)
            )
            return len(result.all())

    async def stale_drafts(
        self, older_than: datetime, limit: int = 100
    ) -> builtins.list[StoredConversation]:
        """Conversations whose user has been silent since before ``older_than``, oldest first.

        Whether the state holds a draft is the dialog's business: the caller looks, then
        reminds (:meth:`mark_reminded`), expires (:meth:`save` with ``inbound=False``) or
        :meth:`delete`\\ s.
        """
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ConversationRow)
                .where(ConversationRow.last_inbound_at < _aware(older_than, "older_than"))
                .order_by(ConversationRow.last_inbound_at, ConversationRow.id)
                .limit(limit)
            )
            return [_conversation(row) for row in rows]

    async def mark_reminded(self, key: ConversationKey, now: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(ConversationRow)
                .where(*_key_filter(ConversationRow, key))
                .values(reminder_sent_at=_aware(now, "now"))
            )


# --------------------------------------------------------------------------- dossiers


class ChoiceRepository:
    """Numbered choices last shown to a user, per channel (see ChoiceMemoryRow)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, channel: str, user_id: str) -> tuple[str, ...]:
        async with self._sessions() as session:
            row = await session.get(ChoiceMemoryRow, (channel, user_id))
            return () if row is None else tuple(str(p) for p in row.payloads)

    async def put(self, channel: str, user_id: str, payloads: Sequence[str], now: datetime) -> None:
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            await session.execute(
                _insert(session, ChoiceMemoryRow)
                .values(channel=channel, user_id=user_id, payloads=list(payloads), updated_at=now)
                .on_conflict_do_update(
                    index_elements=["channel", "user_id"],
                    set_={"payloads": list(payloads), "updated_at": now},
                )
            )
