"""The web chat's shared state: files behind tokens, the pages open now, frames written first.

Several workers may serve one deployment behind a load balancer, so a page's upload may land on
worker A and the turn that uses it on worker B, and a receipt drawn by B must reach a page whose
socket A holds. Everything here is in the database (rows) and the shared file store (bytes).

Files (:class:`WebFiles`): an upload waits for the turn that sent it; a reply's file (a
receipt, a QR code) waits for the page to fetch it. Each kind has a total budget, a budget per
session and, for uploads, per sending address (free sessions cost nothing, an address does).
A new file that does not fit pushes out the oldest files first of its own session, then of its
own address, then of anyone: uploads a turn already fetched (confirmed) before those still
waiting. So a visitor who opens a thousand sessions fills only his address's share, and a full
store never refuses a citizen's photo.

Pages (:class:`WebPages`): each open socket is a row (tag, worker), renewed while it lives.
:meth:`WebPages.post` leaves frames for a session; the worker holding that session's page takes
them (:meth:`WebPages.take`) within its next poll and sends them; :meth:`WebPages.withdraw`
takes back frames nobody took, so the sender knows whether they arrived. Frames of words only
are not withdrawn: they wait up to ``KEPT_FOR_PAGE`` for the session's next page, and the
worker that page opens on takes them in its next poll like any other.

Replies (:class:`WebReplies`): the frames that answered each of a session's last frames, so a
page that lost its connection and resends a frame to any worker is answered again.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.common import aware as _aware
from storage.common import dialect_insert as _insert
from storage.files import FileMissingError, FileStore
from storage.models import WebFileRow, WebPageRow, WebPushRow, WebReplyRow

_TOKEN_BYTES: Final = 24  # 32 URL-safe characters, like the file store's keys
MB: Final = 1024 * 1024


# "upload": a photo the page sent, for a turn; "media": a file a reply links to.
FileKind = Literal["upload", "media"]


@dataclass(frozen=True, slots=True)
class Budget:
    ttl: timedelta
    total_bytes: int
    session_bytes: int
    address_bytes: int  # uploads only; media have no sending address


UPLOADS: Final = Budget(timedelta(minutes=30), 256 * MB, 60 * MB, 120 * MB)
MEDIA: Final = Budget(timedelta(hours=12), 128 * MB, 16 * MB, 128 * MB)


@dataclass(frozen=True, slots=True)
class WebFile:
    token: str
    owner: str
    mime_type: str
    filename: str
    size: int
    data: bytes = field(default=b"", repr=False)


class WebFiles:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: FileStore,
        budgets: dict[FileKind, Budget] | None = None,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._budgets = budgets or {"upload": UPLOADS, "media": MEDIA}

    async def put(
        self,
        kind: FileKind,
        owner: str,
        data: bytes,
        mime_type: str,
        filename: str,
        now: datetime,
        *,
        address: str = "",
    ) -> str | None:
        """Keep ``data`` for the session ``owner``; its token, or None when it is larger than a
        session's whole share. Older files make room (see the module's notes)."""
        now = _aware(now, "now")
        budget = self._budgets[kind]
        size = len(data)
        if size > budget.session_bytes or size > budget.address_bytes or size > budget.total_bytes:
            return None
        file_key = await self._store.put(data, suffix="")
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        evicted: list[str] = []
        async with self._sessions.begin() as session:
            await _serialise(session, f"web_files:{kind}")
            expired = await session.scalars(
                delete(WebFileRow)
                .where(WebFileRow.kind == kind, WebFileRow.expires_at <= now)
                .returning(WebFileRow.file_key)
            )
            evicted += list(expired)
            scopes: list[tuple[Any, int]] = [(WebFileRow.owner == owner, budget.session_bytes)]
            if address:
                scopes.append((WebFileRow.address == address, budget.address_bytes))
            scopes.append((None, budget.total_bytes))
            for scope, limit in scopes:
                evicted += await _make_room(session, kind, scope, limit - size)
            session.add(
                WebFileRow(
                    token=token,
                    kind=kind,
                    owner=owner,
                    address=address[:64],
                    mime_type=mime_type[:128],
                    filename=filename[:200],
                    size=size,
                    file_key=file_key,
                    created_at=now,
                    expires_at=now + budget.ttl,
                    confirmed_at=None,
                )
            )
        for key in evicted:
            await self._store.delete(key)
        return token

    async def describe(
        self, kind: FileKind, owner: str, tokens: Sequence[str], now: datetime
    ) -> dict[str, WebFile]:
        """The session's files among ``tokens`` that have not run out, without their bytes."""
        if not tokens:
            return {}
        async with self._sessions() as session:
            rows = await session.scalars(
                select(WebFileRow).where(
                    WebFileRow.token.in_(list(tokens)),
                    WebFileRow.kind == kind,
                    WebFileRow.expires_at > _aware(now, "now"),
                )
            )
            return {
                r.token: WebFile(r.token, r.owner, r.mime_type, r.filename, r.size)
                for r in rows
                if secrets.compare_digest(r.owner, owner)
            }

    async def get(
        self, kind: FileKind, owner: str, token: str, now: datetime, *, confirm: bool = False
    ) -> WebFile | None:
        """The file with its bytes, only for the session that owns it and until it runs out.
        ``confirm``: an upload's turn has it now, so it may be pushed out first."""
        found = await self.describe(kind, owner, [token], now)
        described = found.get(token)
        if described is None:
            return None
        async with self._sessions() as session:
            file_key = await session.scalar(
                select(WebFileRow.file_key).where(WebFileRow.token == token)
            )
        if file_key is None:
            return None
        try:
            data = await self._store.get(file_key)
        except FileMissingError:
            return None
        if confirm:
            async with self._sessions.begin() as session:
                await session.execute(
                    update(WebFileRow)
                    .where(WebFileRow.token == token, WebFileRow.confirmed_at.is_(None))
                    .values(confirmed_at=_aware(now, "now"))
                )
        return WebFile(
            described.token,
            described.owner,
            described.mime_type,
            described.filename,
            described.size,
            data,
        )

    async def usage(self, kind: FileKind) -> int:
        async with self._sessions() as session:
            used = await session.scalar(
                select(func.coalesce(func.sum(WebFileRow.size), 0)).where(WebFileRow.kind == kind)
            )
            return int(used or 0)

    async def sweep(self, now: datetime) -> int:
        """Forget every file that has run out, bytes too; how many."""
        async with self._sessions.begin() as session:
            gone = await session.scalars(
                delete(WebFileRow)
                .where(WebFileRow.expires_at <= _aware(now, "now"))
                .returning(WebFileRow.file_key)
            )
            keys = list(gone)
        for key in keys:
            await self._store.delete(key)
        return len(keys)


async def _serialise(session: AsyncSession, name: str) -> None:
    """One budget check at a time across workers. PostgreSQL: a transaction-scoped advisory
    lock. SQLite: the first write takes the database's one write lock for the transaction."""
    if session.get_bind().dialect.name == "postgresql":
        lock_id = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


async def _make_room(session: AsyncSession, kind: FileKind, scope: Any, room: int) -> list[str]:
    """Delete the oldest files in ``scope`` (confirmed uploads first) until what is left is at
    most ``room`` bytes; the file-store keys of what was deleted."""
    where = [WebFileRow.kind == kind]
    if scope is not None:
        where.append(scope)
    used = int(
        await session.scalar(select(func.coalesce(func.sum(WebFileRow.size), 0)).where(*where)) or 0
    )
    if used <= room:
        return []
    rows = await session.execute(
        select(WebFileRow.token, WebFileRow.size, WebFileRow.file_key)
        .where(*where)
        .order_by(WebFileRow.confirmed_at.is_(None), WebFileRow.created_at)
    )
    doomed: list[str] = []
    keys: list[str] = []
    for token, size, file_key in rows:
        if used <= room:
            break
        doomed.append(token)
        keys.append(file_key)
        used -= size
    if doomed:
        await session.execute(delete(WebFileRow).where(WebFileRow.token.in_(doomed)))
    return keys


# --- Pages open now, and frames written first --------------------------------------------------

PAGE_FRESH: Final = timedelta(seconds=30)  # a page not renewed for this long is gone
# Words written to a session with no page open wait this long for its next page: as long as
# a notice waits for a closed Zalo window (bot.notifier.HOLD_FOR).
KEPT_FOR_PAGE: Final = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Pushed:
    id: int
    tag: str
    frames: list[dict[str, Any]]


class WebPages:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], worker: str) -> None:
        self._sessions = sessions
        self._worker = worker

    async def opened(self, tags: Sequence[str], now: datetime) -> None:
        """These sessions have a page open on this worker now (renewed while they do)."""
        if not tags:
            return
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            statement = _insert(session, WebPageRow)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["tag", "worker"], set_={"seen_at": statement.excluded.seen_at}
                ),
                [{"tag": t, "worker": self._worker, "seen_at": now} for t in sorted(set(tags))],
            )

    async def closed(self, tag: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(WebPageRow).where(WebPageRow.tag == tag, WebPageRow.worker == self._worker)
            )

    async def open_anywhere(self, tag: str, now: datetime) -> bool:
        async with self._sessions() as session:
            found = await session.scalar(
                select(WebPageRow.worker)
                .where(WebPageRow.tag == tag, WebPageRow.seen_at > _aware(now, "now") - PAGE_FRESH)
                .limit(1)
            )
            return found is not None

    async def post(self, tag: str, frames: list[dict[str, Any]], now: datetime) -> int:
        async with self._sessions.begin() as session:
            row = WebPushRow(
                tag=tag, frames={"frames": frames}, created_at=_aware(now, "now"), taken_at=None
            )
            session.add(row)
            await session.flush()
            return int(row.id)

    async def take(self, tags: Sequence[str], now: datetime) -> list[Pushed]:
        """Frames left for these sessions, taken by this worker (no other worker gets them)."""
        if not tags:
            return []
        async with self._sessions() as session:  # a read first: most polls find nothing
            waiting = await session.scalar(
                select(WebPushRow.id)
                .where(WebPushRow.taken_at.is_(None), WebPushRow.tag.in_(sorted(set(tags))))
                .limit(1)
            )
        if waiting is None:
            return []
        async with self._sessions.begin() as session:
            rows = await session.execute(
                update(WebPushRow)
                .where(WebPushRow.taken_at.is_(None), WebPushRow.tag.in_(sorted(set(tags))))
                .values(taken_at=_aware(now, "now"))
                .returning(WebPushRow.id, WebPushRow.tag, WebPushRow.frames)
            )
            taken = [Pushed(int(i), t, list(f.get("frames", []))) for i, t, f in rows]
        return sorted(taken, key=lambda p: p.id)

    async def taken(self, push_id: int) -> bool:
        async with self._sessions() as session:
            at = await session.scalar(select(WebPushRow.taken_at).where(WebPushRow.id == push_id))
            return at is not None

    async def withdraw(self, push_id: int) -> bool:
        """Take back frames no worker took yet: True when they were withdrawn (never sent)."""
        async with self._sessions.begin() as session:
            gone = await session.execute(
                delete(WebPushRow)
                .where(WebPushRow.id == push_id, WebPushRow.taken_at.is_(None))
                .returning(WebPushRow.id)
            )
            return gone.first() is not None

    async def sweep(self, now: datetime) -> None:
        """Forget pages not renewed, frames taken a while ago, and frames no page took in
        ``KEPT_FOR_PAGE``."""
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            await session.execute(delete(WebPageRow).where(WebPageRow.seen_at <= now - PAGE_FRESH))
            await session.execute(
                delete(WebPushRow).where(
                    WebPushRow.taken_at.is_not(None),
                    WebPushRow.created_at <= now - timedelta(minutes=10),
                )
            )
            await session.execute(
                delete(WebPushRow).where(WebPushRow.created_at <= now - KEPT_FOR_PAGE)
            )


# --- Answers kept for a resend -------------------------------------------------------------------

REPLIES_PER_SESSION: Final = 8  # a page resends only what it sent since it lost the connection
REPLIES_KEPT: Final = timedelta(hours=1)


class WebReplies:
    """Each session's last answers. Per session, so other visitors' traffic never pushes out a
    citizen's answer; in the database, so the worker a page reconnects to has it."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], per_session: int = REPLIES_PER_SESSION
    ) -> None:
        self._sessions = sessions
        self._per_session = per_session

    async def remember(
        self, tag: str, frame_id: str, frames: list[dict[str, Any]], now: datetime
    ) -> None:
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            statement = _insert(session, WebReplyRow)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["tag", "frame_id"],
                    set_={
                        "frames": statement.excluded.frames,
                        "created_at": statement.excluded.created_at,
                    },
                ),
                [
                    {
                        "tag": tag,
                        "frame_id": frame_id,
                        "frames": {"frames": frames},
                        "created_at": now,
                    }
                ],
            )
            # This session's oldest answers beyond its share.
            newest = (
                select(WebReplyRow.frame_id)
                .where(WebReplyRow.tag == tag)
                .order_by(WebReplyRow.created_at.desc(), WebReplyRow.frame_id.desc())
                .limit(self._per_session)
            )
            await session.execute(
                delete(WebReplyRow).where(
                    WebReplyRow.tag == tag, WebReplyRow.frame_id.not_in(newest.scalar_subquery())
                )
            )

    async def replay(self, tag: str, frame_id: str, now: datetime) -> list[dict[str, Any]]:
        """The frames that answered ``frame_id``; none once they are forgotten."""
        async with self._sessions() as session:
            kept = await session.scalar(
                select(WebReplyRow.frames).where(
                    WebReplyRow.tag == tag,
                    WebReplyRow.frame_id == frame_id,
                    WebReplyRow.created_at > _aware(now, "now") - REPLIES_KEPT,
                )
            )
        return list(kept.get("frames", [])) if kept else []

    async def sweep(self, now: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(WebReplyRow).where(
                    WebReplyRow.created_at <= _aware(now, "now") - REPLIES_KEPT
                )
            )
