"""Youth-union volunteers: who asked to file for villagers, the officer's decision, the dossiers
they filed, and the one-time codes that hand a dossier over to the villager's own chat.

Every change is one transaction with its audit entry and, where someone must be told, its
outbox row (a ``notify:<channel>`` row with ``"kind": "volunteer"``, which the notifier carries
like an office notice): a crash leaves all of them or none. A decision is compare-and-set on
the ``pending`` status and a code is used by an update that only one chat can win, so two
officers (or two villagers) at once cannot both succeed.

A rejected or revoked volunteer may ask again: the new request is pending like a first one,
and the officer sees what was decided last time (:attr:`Volunteer.earlier`).

The audit trail names people by conversation or account, never by name, phone or ID number.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage.common import aware as _aware
from storage.common import key_of as _key
from storage.dossiers import Dossier, _dossier
from storage.models import AuditLogRow, DossierRow, HandoverCodeRow, VolunteerRow
from storage.outbox import enqueue_in, notify_topic, receipt_topic

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
DISABLED = "disabled"
VOLUNTEER_NOTICE = "volunteer"  # the ``kind`` of the outbox rows this module queues

Refusal = Literal["unknown", "expired", "used", "own_chat"]


@dataclass(frozen=True, slots=True)
class Volunteer:
    id: int
    commune_code: str
    key: ConversationKey
    name: str
    phone: str
    branch: str
    status: str
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    # For a pending request from a chat an officer turned down before: the last decision
    # (``rejected`` or ``disabled``) and when, read from the audit trail.
    earlier: str = ""
    earlier_at: datetime | None = None

    @property
    def approved(self) -> bool:
        return self.status == APPROVED


@dataclass(frozen=True, slots=True)
class HandedOver:
    dossier: Dossier
    volunteer: Volunteer


def _volunteer(row: VolunteerRow) -> Volunteer:
    return Volunteer(
        id=row.id,
        commune_code=row.commune_code,
        key=_key(row),
        name=row.name,
        phone=row.phone,
        branch=row.branch,
        status=row.status,
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
    )


def _audit(
    session: AsyncSession, at: datetime, actor: str, action: str, target: str, **details: Any
) -> None:
    session.add(AuditLogRow(at=at, actor=actor, action=action, target=target, details=details))


async def _tell(
    session: AsyncSession,
    key: ConversationKey,
    message: str,
    dedupe: str,
    at: datetime,
    **more: Any,
) -> None:
    """Queue a message to a volunteer's chat (or a villager's), carried by the notifier."""
    await enqueue_in(
        session,
        notify_topic(key.channel),
        {
            "kind": VOLUNTEER_NOTICE,
            "message": message,
            "channel": key.channel,
            "chat_id": key.chat_id,
            "user_id": key.user_id,
            **more,
        },
        f"{VOLUNTEER_NOTICE}:{dedupe}",
        at,
    )


_DECISIONS = {f"volunteer_{REJECTED}": REJECTED, f"volunteer_{DISABLED}": DISABLED}


async def _last_decisions(
    session: AsyncSession, volunteer_ids: builtins.list[int]
) -> dict[int, tuple[str, datetime]]:
    """The last rejection or revocation of each volunteer that had one, with its time."""
    if not volunteer_ids:
        return {}
    targets = {f"volunteer:{i}": i for i in volunteer_ids}
    entries = await session.execute(
        select(AuditLogRow.target, AuditLogRow.action, AuditLogRow.at)
        .where(AuditLogRow.target.in_(targets), AuditLogRow.action.in_(_DECISIONS))
        .order_by(AuditLogRow.at, AuditLogRow.id)
    )
    return {targets[t]: (_DECISIONS[a], _aware(at, "at")) for t, a, at in entries}


class VolunteerRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # --- asking and deciding ----------------------------------------------------------------

    async def apply(
        self,
        key: ConversationKey,
        commune_code: str,
        name: str,
        phone: str,
        branch: str,
        now: datetime,
    ) -> Volunteer:
        """Record a chat's request to volunteer (pending). A pending, rejected or revoked
        (disabled) request is replaced by the new one, its audit entry saying what it
        replaced; an approved volunteer is left as it is."""
        now = _aware(now, "now")
        for _ in range(2):  # a second request from the same chat at the same moment
            try:
                async with self._sessions.begin() as session:
                    row = await session.scalar(
                        select(VolunteerRow)
                        .where(
                            VolunteerRow.channel == key.channel, VolunteerRow.user_id == key.user_id
                        )
                        .with_for_update()
                    )
                    if row is not None and row.status == APPROVED:
                        return _volunteer(row)
                    was = "" if row is None else row.status
                    if row is None:
                        row = VolunteerRow(
                            commune_code=commune_code,
                            channel=key.channel,
                            chat_id=key.chat_id,
                            user_id=key.user_id,
                            name=name,
                            phone=phone,
                            branch=branch,
                            status=PENDING,
                            created_at=now,
                        )
                        session.add(row)
                    else:
                        row.commune_code = commune_code
                        row.chat_id = key.chat_id
                        row.name, row.phone, row.branch = name, phone, branch
                        row.status, row.created_at = PENDING, now
                        row.decided_at = row.decided_by = None
                    await session.flush()
                    _audit(
                        session,
                        now,
                        key.as_str(),
                        "volunteer_applied",
                        f"volunteer:{row.id}",
                        commune_code=commune_code,
                        channel=key.channel,
                        **({"was": was} if was else {}),
                    )
                    return _volunteer(row)
            except IntegrityError:
                continue
        raise RuntimeError("volunteer request kept racing")  # pragma: no cover

    async def of(self, key: ConversationKey) -> Volunteer | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(VolunteerRow).where(
                    VolunteerRow.channel == key.channel, VolunteerRow.user_id == key.user_id
                )
            )
            return None if row is None else _volunteer(row)

    async def get(self, volunteer_id: int) -> Volunteer | None:
        async with self._sessions() as session:
            row = await session.get(VolunteerRow, volunteer_id)
            return None if row is None else _volunteer(row)

    async def pending(self, commune_codes: tuple[str, ...] | None) -> builtins.list[Volunteer]:
        """Requests waiting for an officer, oldest first; ``None``: every commune."""
        stmt = select(VolunteerRow).where(VolunteerRow.status == PENDING)
        if commune_codes is not None:
            stmt = stmt.where(VolunteerRow.commune_code.in_(commune_codes))
        async with self._sessions() as session:
            rows = list(
                await session.scalars(stmt.order_by(VolunteerRow.created_at, VolunteerRow.id))
            )
            earlier = await _last_decisions(session, [r.id for r in rows])
            return [
                replace(_volunteer(r), earlier=e[0], earlier_at=e[1])
                if (e := earlier.get(r.id))
                else _volunteer(r)
                for r in rows
            ]

    async def decide(
        self,
        volunteer_id: int,
        approve: bool,
        *,
        actor: str,
        commune_codes: tuple[str, ...] | None,
        now: datetime,
    ) -> Volunteer | None:
        """Approve or reject a pending request of a commune in ``commune_codes``; None when it
        is not (no longer) pending there. The audit entry and the message to the volunteer's
        chat are written in the same transaction."""
        status = APPROVED if approve else REJECTED
        return await self._move(
            volunteer_id, PENDING, status, f"volunteer_{status}", actor, commune_codes, now
        )

    async def approved_in(self, commune_codes: tuple[str, ...] | None) -> builtins.list[Volunteer]:
        """Approved volunteers, by name; ``None``: every commune."""
        stmt = select(VolunteerRow).where(VolunteerRow.status == APPROVED)
        if commune_codes is not None:
            stmt = stmt.where(VolunteerRow.commune_code.in_(commune_codes))
        async with self._sessions() as session:
            rows = await session.scalars(stmt.order_by(VolunteerRow.name, VolunteerRow.id))
            return [_volunteer(r) for r in rows]

    async def disable(
        self,
        volunteer_id: int,
        *,
        actor: str,
        commune_codes: tuple[str, ...] | None,
        now: datetime,
    ) -> Volunteer | None:
        """Revoke an approved volunteer of a commune in ``commune_codes``, with the audit entry
        and the message to their chat in the same transaction; None when they are not
        approved there (any more)."""
        return await self._move(
            volunteer_id, APPROVED, DISABLED, "volunteer_disabled", actor, commune_codes, now
        )

    async def _move(
        self,
        volunteer_id: int,
        was: str,
        status: str,
        action: str,
        actor: str,
        commune_codes: tuple[str, ...] | None,
        now: datetime,
    ) -> Volunteer | None:
        """Compare-and-set a volunteer from ``was`` to ``status`` in a commune of
        ``commune_codes``, audited and told in the same transaction; None when not ``was``."""
        now = _aware(now, "now")
        stmt = (
            update(VolunteerRow)
            .where(VolunteerRow.id == volunteer_id, VolunteerRow.status == was)
            .values(status=status, decided_at=now, decided_by=actor)
            .returning(VolunteerRow.id)
        )
        if commune_codes is not None:
            stmt = stmt.where(VolunteerRow.commune_code.in_(commune_codes))
        async with self._sessions.begin() as session:
            if (await session.execute(stmt)).scalar_one_or_none() is None:
                return None
            row = await session.get(VolunteerRow, volunteer_id)
            assert row is not None
            await session.refresh(row)
            volunteer = _volunteer(row)
            _audit(
                session,
                now,
                actor,
                action,
                f"volunteer:{volunteer_id}",
                commune_code=volunteer.commune_code,
            )
            # Keyed by the move's time: a volunteer approved (or revoked) a second time, after
            # asking again, is told again.
            dedupe = f"{volunteer_id}:{status}:{now.isoformat()}"
            await _tell(session, volunteer.key, status, dedupe, now)
            return volunteer

    # --- what a volunteer filed -------------------------------------------------------------

    async def filed_by(self, volunteer_id: int, limit: int = 50) -> builtins.list[Dossier]:
        """The dossiers a volunteer filed, newest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(DossierRow)
                .where(DossierRow.volunteer_id == volunteer_id)
                .order_by(DossierRow.received_at.desc(), DossierRow.id.desc())
                .limit(limit)
            )
            return [_dossier(r) for r in rows]

    # --- handing a dossier over -------------------------------------------------------------

    async def issue_code(
        self,
        dossier: Dossier,
        volunteer: Volunteer,
        code_hash: str,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """Store a new code's hash (codes issued before for the dossier stay valid until
        they expire: the volunteer may have read the first one out already)."""
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            session.add(
                HandoverCodeRow(
                    dossier_id=dossier.id,
                    volunteer_id=volunteer.id,
                    code_hash=code_hash,
                    created_at=now,
                    expires_at=_aware(expires_at, "expires_at"),
                )
            )
            _audit(
                session,
                now,
                volunteer.key.as_str(),
                "handover_code",
                f"dossier:{dossier.code}",
                volunteer_id=volunteer.id,
            )

    async def redeem(
        self, code_hash: str, key: ConversationKey, now: datetime
    ) -> HandedOver | Refusal:
        """Use a code from ``key``'s chat: the dossier is handed over to that chat, the
        volunteer is told and the receipt is queued to the villager, all in one transaction.
        A code works once, before it expires, and not from the volunteer's own chat."""
        now = _aware(now, "now")
        async with self._sessions.begin() as session:
            code = await session.scalar(
                select(HandoverCodeRow).where(HandoverCodeRow.code_hash == code_hash)
            )
            if code is None:
                return "unknown"
            if code.used_at is not None:
                return "used"
            if _aware(code.expires_at, "expires_at") <= now:
                return "expired"
            volunteer_row = await session.get(VolunteerRow, code.volunteer_id)
            row = await session.get(DossierRow, code.dossier_id)
            if volunteer_row is None or row is None:
                return "unknown"
            volunteer = _volunteer(volunteer_row)
            if key == _key(row) or key == volunteer.key:
                return "own_chat"
            used = await session.execute(
                update(HandoverCodeRow)
                .where(HandoverCodeRow.id == code.id, HandoverCodeRow.used_at.is_(None))
                .values(used_at=now, used_by=key.as_str()[:300])
                .returning(HandoverCodeRow.id)
            )
            if used.scalar_one_or_none() is None:
                return "used"  # another chat typed it a moment earlier
            await session.execute(
                update(DossierRow)
                .where(DossierRow.id == row.id)
                .values(
                    villager_channel=key.channel,
                    villager_chat_id=key.chat_id,
                    villager_user_id=key.user_id,
                    updated_at=now,
                )
            )
            _audit(
                session,
                now,
                key.as_str(),
                "handed_over",
                f"dossier:{row.code}",
                volunteer_id=volunteer.id,
                channel=key.channel,
            )
            await _tell(
                session, volunteer.key, "handed_over", f"{code.id}:handed", now, code=row.code
            )
            topic = receipt_topic(key.channel)
            await enqueue_in(
                session,
                topic,
                {
                    "dossier_id": row.id,
                    "code": row.code,
                    "to": {"channel": key.channel, "chat_id": key.chat_id, "user_id": key.user_id},
                },
                f"{topic}:{row.code}:handover:{code.id}",
                now,
            )
            await session.refresh(row)
            return HandedOver(dossier=_dossier(row), volunteer=volunteer)

    async def refusals(self, key: ConversationKey, since: datetime) -> int:
        """Wrong codes typed in this chat since ``since`` (counted in the audit trail, so every
        worker sees the same count)."""

        async with self._sessions() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(AuditLogRow)
                .where(
                    AuditLogRow.action == "handover_refused",
                    AuditLogRow.target == f"chat:{key.as_str()}"[:255],
                    AuditLogRow.at >= _aware(since, "since"),
                )
            )
            return int(found or 0)

    async def refused(self, key: ConversationKey, reason: str, now: datetime) -> None:
        async with self._sessions.begin() as session:
            _audit(
                session,
                _aware(now, "now"),
                key.as_str(),
                "handover_refused",
                f"chat:{key.as_str()}"[:255],
                reason=reason,
            )


__all__ = [
    "APPROVED",
    "DISABLED",
    "PENDING",
    "REJECTED",
    "VOLUNTEER_NOTICE",
    "HandedOver",
    "Refusal",
    "Volunteer",
    "VolunteerRepository",
]
