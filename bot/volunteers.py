"""Carrying out the volunteer dialog's effects (``dialogs.volunteer``): the database says who is
an approved volunteer, records consents and handover codes, and audits every step.

Logs name dossiers by code and volunteers by id: never names, phone or ID numbers. The audit
trail keeps the villager's ID number masked (``dialogs.validators.mask_id``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from bot.service import EffectOutcome
from dialogs import volunteer as flow
from dialogs.engine import MENU
from dialogs.model import CONSENT_SLOT, Button, ConversationKey, Effect, Inbound, Reply
from dialogs.texts import common as ctexts
from dialogs.texts import volunteer as texts
from dialogs.validators import mask_id
from knowledge.catalogue import Catalogue
from storage.attachments import FileRepository
from storage.audit import AuditRepository
from storage.dossiers import DossierRepository
from storage.files import FileStore
from storage.volunteers import PENDING, HandedOver, Volunteer, VolunteerRepository

log = logging.getLogger(__name__)

HANDOVER_VALID = timedelta(minutes=30)
HANDOVER_CHANNELS = frozenset({"telegram", "zalo"})  # the villager's own messenger
# Wrong handover codes one chat may type in a day (like the dossier-code lookup's numbers).
HANDOVER_REFUSALS = 5
HANDOVER_WINDOW = timedelta(days=1)
_MENU = ((Button(ctexts.BTN_MENU, MENU),),)


def code_hash(code: str) -> str:
    """What the database keeps of a handover code."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def new_handover_code() -> str:
    return "".join(secrets.choice(flow.HANDOVER_ALPHABET) for _ in range(flow.HANDOVER_LENGTH))


class VolunteerEffects:
    def __init__(
        self,
        *,
        volunteers: VolunteerRepository,
        dossiers: DossierRepository,
        files: FileRepository,
        store: FileStore,
        audit: AuditRepository,
        catalogue: Catalogue,
        clock: Callable[[], datetime],
        hotline: Callable[[], str] = lambda: "",
        wake: Callable[[], None] = lambda: None,
        new_code: Callable[[], str] = new_handover_code,
        timezone: tzinfo = UTC,
    ) -> None:
        self._timezone = timezone
        self._volunteers = volunteers
        self._dossiers = dossiers
        self._files = files
        self._store = store
        self._audit = audit
        self._catalogue = catalogue
        self._clock = clock
        self._hotline = hotline
        self._wake = wake  # outbox rows were queued: deliver them now
        self._new_code = new_code

    async def run(self, inbound: Inbound, effect: Effect) -> EffectOutcome | None:
        """The outcome of a volunteer effect; None for an effect that is not one."""
        key = inbound.key
        if isinstance(effect, flow.CheckVolunteer):
            found = await self._volunteers.of(key)
            status = "none" if found is None else found.status
            then = f":{effect.then}" if effect.then else ""
            return EffectOutcome(followup=_followup(inbound, f"{flow.STATUS}:{status}{then}"))
        if isinstance(effect, flow.ApplyVolunteer):
            volunteer = await self._volunteers.apply(
                key, effect.commune_code, effect.name, effect.phone, effect.branch, self._clock()
            )
            log.info("volunteer %s asked (%s)", volunteer.id, volunteer.status)
            if volunteer.status != PENDING:  # approved or disabled already: say so
                followup = _followup(inbound, f"{flow.STATUS}:{volunteer.status}")
                return EffectOutcome(followup=followup)
            return EffectOutcome(replies=(Reply(texts.PENDING, buttons=_MENU),))
        if isinstance(effect, flow.RecordConsent):
            return await self._consent(inbound, effect)
        if isinstance(effect, flow.DropConsentPhotos):
            for stored in await self._files.for_conversation(key):
                if stored.slot == CONSENT_SLOT and await self._files.remove(stored.id):
                    await self._store.delete(stored.storage_key)
            return EffectOutcome()
        if isinstance(effect, flow.ListFiledForOthers):
            return await self._list(key)
        if isinstance(effect, flow.IssueHandover):
            return await self._issue(key, effect.code)
        if isinstance(effect, flow.RedeemHandover):
            return await self._redeem(key, effect.code)
        return None

    async def approved(self, key: ConversationKey) -> Volunteer | None:
        found = await self._volunteers.of(key)
        return found if found is not None and found.approved else None

    async def _consent(self, inbound: Inbound, effect: flow.RecordConsent) -> EffectOutcome:
        volunteer = await self.approved(inbound.key)
        if volunteer is None:
            return EffectOutcome(replies=(Reply(texts.NOT_APPROVED, buttons=_MENU),))
        await self._audit.record(
            inbound.key.as_str(),
            "consent_recorded",
            f"volunteer:{volunteer.id}",
            {
                "kind": effect.kind,
                "at": effect.at,
                "id_number": mask_id(str(effect.villager.get("id_number", ""))),
                "photo_sha256": effect.photo_sha256,
            },
            self._clock(),
        )
        at = datetime.fromisoformat(effect.at).astimezone(self._timezone)
        name = str(effect.villager.get("name", ""))
        text = texts.consent_recorded(name, at, effect.kind == "photo")
        return EffectOutcome(replies=(Reply(text),), followup=_followup(inbound, flow.CONSENTED))

    async def filed_for(
        self, key: ConversationKey, volunteer: Volunteer, code: str, villager: Mapping[str, Any]
    ) -> None:
        """Audit a dossier filed for a villager (the reception itself is audited by storage)."""
        await self._audit.record(
            key.as_str(),
            "filed_for_villager",
            f"dossier:{code}",
            {
                "volunteer_id": volunteer.id,
                "id_number": mask_id(str(villager.get("id_number", ""))),
                "consent": str((villager.get("consent") or {}).get("kind", "")),
            },
            self._clock(),
        )
        log.info("dossier %s filed by volunteer %s", code, volunteer.id)

    async def _list(self, key: ConversationKey) -> EffectOutcome:
        volunteer = await self.approved(key)
        if volunteer is None:
            return EffectOutcome(replies=(Reply(texts.NOT_APPROVED, buttons=_MENU),))
        filed = await self._volunteers.filed_by(volunteer.id)
        if not filed:
            empty = ((Button(texts.BTN_FILE_FOR, flow.FILE_FOR),), *_MENU)
            return EffectOutcome(replies=(Reply(texts.NO_FILINGS, buttons=empty),))
        shown = filed[: texts.SHOWN]
        lines = []
        for dossier in shown:
            procedure = self._catalogue.get(dossier.procedure_code)
            lines.append(
                texts.FiledLine(
                    code=dossier.code,
                    procedure_name=procedure.name if procedure else dossier.procedure_code,
                    status=dossier.status,
                    villager=str((dossier.on_behalf_of or {}).get("name", "")),
                    handed_over=dossier.villager_key is not None,
                )
            )
        rows: tuple[tuple[Button, ...], ...] = tuple(
            (Button(texts.btn_hand_over(number), f"{flow.HAND_OVER}:{dossier.code}"),)
            for number, dossier in enumerate(shown, 1)
        )
        text = texts.my_filings(lines, len(filed))
        return EffectOutcome(replies=(Reply(text, buttons=(*rows, *_MENU)),))

    async def _issue(self, key: ConversationKey, code: str) -> EffectOutcome:
        volunteer = await self.approved(key)
        if volunteer is None:
            return EffectOutcome(replies=(Reply(texts.NOT_APPROVED, buttons=_MENU),))
        dossier = await self._dossiers.by_code(code)
        if dossier is None or dossier.volunteer_id != volunteer.id:  # the payload is untrusted
            return EffectOutcome(replies=(Reply(texts.NOT_YOUR_FILING, buttons=_MENU),))
        now = self._clock()
        one_time = self._new_code()
        await self._volunteers.issue_code(
            dossier, volunteer, code_hash(one_time), now, now + HANDOVER_VALID
        )
        minutes = int(HANDOVER_VALID.total_seconds() // 60)
        return EffectOutcome(replies=(Reply(texts.handover_code(one_time, dossier.code, minutes)),))

    async def _redeem(self, key: ConversationKey, code: str) -> EffectOutcome:
        now = self._clock()
        if key.channel not in HANDOVER_CHANNELS:
            return EffectOutcome(replies=(Reply(texts.HANDOVER_WRONG_CHANNEL, buttons=_MENU),))
        if await self._volunteers.refusals(key, now - HANDOVER_WINDOW) >= HANDOVER_REFUSALS:
            return EffectOutcome(
                replies=(Reply(texts.handover_stopped(self._hotline()), buttons=_MENU),)
            )
        result = await self._volunteers.redeem(code_hash(code), key, now)
        if not isinstance(result, HandedOver):
            if result != "own_chat":
                await self._volunteers.refused(key, result, now)
                log.info("handover code refused: %s", result)
            message = {
                "used": texts.HANDOVER_USED,
                "own_chat": texts.HANDOVER_OWN_CHAT,
            }.get(result, texts.HANDOVER_UNKNOWN)
            return EffectOutcome(replies=(Reply(message, buttons=_MENU),))
        self._wake()
        dossier = result.dossier
        log.info("dossier %s handed over by volunteer %s", dossier.code, result.volunteer.id)
        procedure = self._catalogue.get(dossier.procedure_code)
        name = procedure.name if procedure is not None else dossier.procedure_code
        return EffectOutcome(replies=(Reply(texts.handed_over(dossier.code, name), buttons=_MENU),))


def notice_replies(payload: Mapping[str, Any]) -> tuple[Reply, ...] | None:
    """The words of a ``"kind": "volunteer"`` outbox row (storage.volunteers); None if the row
    is not one we can read."""
    message = payload.get("message")
    if message == "approved":
        rows = (
            (Button(texts.BTN_FILE_FOR, flow.FILE_FOR),),
            (Button(texts.BTN_MY_FILINGS, flow.LIST),),
        )
        return (Reply(texts.APPROVED_NOTICE, buttons=rows),)
    if message == "rejected":
        return (Reply(texts.REJECTED_NOTICE),)
    if message == "disabled":
        return (Reply(texts.DISABLED_NOTICE),)
    if message == "handed_over" and isinstance(payload.get("code"), str):
        return (Reply(texts.handed_over_notice(str(payload["code"]))),)
    return None


def _followup(inbound: Inbound, payload: str) -> Inbound:
    return Inbound(
        key=inbound.key,
        message_id=f"{inbound.message_id}:{payload.partition(':')[0]}",
        received_at=inbound.received_at,
        payload=payload,
    )


__all__ = [
    "HANDOVER_CHANNELS",
    "HANDOVER_REFUSALS",
    "HANDOVER_VALID",
    "VolunteerEffects",
    "code_hash",
    "new_handover_code",
    "notice_replies",
]
