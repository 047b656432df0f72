"""Carrying out what a dialog step asked for: checking and storing photos, filing dossiers.

Each effect returns replies and, for photo checks, a follow-up Inbound that the service feeds
back to the dialog (the dialog stays pure; only here do bytes, files and the database meet).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from backoffice.client import BackOfficeClient, BackOfficeRejected, BackOfficeUnavailable
from backoffice.domain import Refused
from backoffice.office import Submission
from backoffice.wire import DossierOut
from bot.announcements import AnnouncementEffects
from bot.config import Settings
from bot.receipts import amount_due, pays_by_transfer
from bot.service import EffectOutcome
from bot.volunteers import VolunteerEffects
from dialogs import lookup, notices, validators
from dialogs import volunteer as volunteer_flow
from dialogs.engine import MENU, RECEIPT
from dialogs.model import (
    SUPPLEMENT_SLOT,
    Attachment,
    Button,
    CheckAttachments,
    ConversationKey,
    DossierStatus,
    Effect,
    Inbound,
    ListDossiers,
    LookupDossier,
    Reply,
    ResendReceipt,
    StatusStep,
    SubmitDossier,
    SubmitSupplement,
)
from dialogs.texts import common as ctexts
from dialogs.texts import notices as notice_texts
from dialogs.texts import receipt as texts
from dialogs.texts import tracking
from dialogs.texts import volunteer as volunteer_texts
from handlers.files import MAX_DOWNLOAD, FileTooLarge
from knowledge.catalogue import Catalogue
from knowledge.fees import fee_due
from knowledge.model import Procedure
from storage.attachments import FileRepository
from storage.audit import AuditRepository
from storage.dossiers import DossierRepository
from storage.files import FileStore
from storage.images import Accepted, inspect_upload

log = logging.getLogger(__name__)

# Wrong phone numbers given for one dossier code, from any conversation, before the code is
# no longer looked up for anyone but its filer's own chat (a guessed code, a guessed number).
LOOKUP_REFUSALS = 5
LOOKUP_WINDOW = timedelta(days=1)


class FetchError(Exception):
    """The channel could not hand over the file's bytes."""


class AttachmentFetcher(Protocol):
    async def __call__(self, attachment: Attachment) -> bytes: ...


async def fetch_local_file(attachment: Attachment) -> bytes:
    """Terminal channel: ``/anh PATH`` sends a file from the local disk."""
    path = Path(attachment.ref)

    def read() -> bytes:
        if not path.is_file():
            raise FetchError(f"not a file: {path.name}")
        if path.stat().st_size > MAX_DOWNLOAD:
            raise FileTooLarge(path.name)
        return path.read_bytes()

    return await asyncio.to_thread(read)


class Effects:
    """The effect runner built by ``build_app``."""

    def __init__(
        self,
        *,
        settings: Settings,
        catalogue: Catalogue,
        office: BackOfficeClient,
        dossiers: DossierRepository,
        files: FileRepository,
        audit: AuditRepository,
        store: FileStore,
        fetchers: Mapping[str, AttachmentFetcher],
        wake_couriers: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime],
        volunteers: VolunteerEffects | None = None,
        announcements: AnnouncementEffects | None = None,
    ) -> None:
        self._settings = settings
        self._catalogue = catalogue
        self._office = office
        self._dossiers = dossiers
        self._files = files
        self._audit = audit
        self._store = store
        self._fetchers = fetchers
        self._wake_couriers = wake_couriers  # new outbox rows: deliver them now
        self._clock = clock
        self._tz = ZoneInfo(settings.deployment.timezone)
        self._volunteers = volunteers
        self._announcements = announcements

    async def __call__(self, inbound: Inbound, effect: Effect) -> EffectOutcome:
        if self._volunteers is not None:
            done = await self._volunteers.run(inbound, effect)
            if done is not None:
                return done
        if self._announcements is not None:
            done = await self._announcements.run(inbound, effect)
            if done is not None:
                return done
        if isinstance(effect, CheckAttachments):
            return await self._check(inbound, effect)
        if isinstance(effect, SubmitDossier):
            return await self._submit(inbound, effect)
        if isinstance(effect, ListDossiers):
            return await self._list(inbound.key)
        if isinstance(effect, ResendReceipt):
            return await self._resend(inbound.key, effect.code)
        if isinstance(effect, SubmitSupplement):
            return await self._supplement(inbound, effect)
        if isinstance(effect, LookupDossier):
            return await self._lookup(inbound, effect)
        log.warning("no runner for effect %s", type(effect).__name__)
        return EffectOutcome()

    # --- photos -----------------------------------------------------------------------------

    async def _check(self, inbound: Inbound, effect: CheckAttachments) -> EffectOutcome:
        checked = [await self._check_one(inbound.key, effect.slot, a) for a in effect.attachments]
        followup = Inbound(
            key=inbound.key,
            message_id=f"{inbound.message_id}:checked",
            received_at=inbound.received_at,
            attachments=tuple(checked),
        )
        return EffectOutcome(followup=followup)

    async def _check_one(
        self, key: ConversationKey, slot: str, attachment: Attachment
    ) -> Attachment:
        fetch = self._fetchers.get(key.channel)
        if fetch is None:
            return replace(attachment, problem="fetch_failed")
        try:
            data = await fetch(attachment)
        except FileTooLarge:
            return replace(attachment, problem="too_large")
        except Exception as exc:  # any channel failure is the same to the citizen: send again
            log.warning("fetching a %s attachment failed: %s", key.channel, type(exc).__name__)
            return replace(attachment, problem="fetch_failed")
        verdict = await asyncio.to_thread(inspect_upload, data, declared_name=attachment.filename)
        if not isinstance(verdict, Accepted):
            log.info("photo for slot %s refused: %s", slot, verdict.reason)
            return replace(attachment, problem=verdict.reason)
        storage_key = await self._store.put(verdict.data, suffix=verdict.suffix)
        added = await self._files.add(
            key,
            slot,
            verdict.original_sha256,
            storage_key,
            verdict.mime_type,
            len(verdict.data),
            self._clock(),
            width=verdict.width or None,
            height=verdict.height or None,
        )
        if not added.is_new:
            await self._store.delete(storage_key)  # keep the copy we already had
        return replace(
            attachment,
            stored_key=added.file.storage_key,
            sha256=verdict.original_sha256,
            mime_type=verdict.mime_type,
            size=len(verdict.data),
            width=verdict.width or None,
            height=verdict.height or None,
            pages=verdict.pages,
        )

    # --- the citizen's dossiers --------------------------------------------------------------

    async def _list(self, key: ConversationKey) -> EffectOutcome:
        menu = ((Button(ctexts.BTN_MENU, MENU),),)
        try:
            dossiers = await self._office.filed_from(key)
        except BackOfficeUnavailable:
            return EffectOutcome(replies=(Reply(texts.SUBMIT_FAILED, buttons=menu),))
        if not dossiers:
            commune = self._settings.commune()
            return EffectOutcome(
                replies=(Reply(tracking.no_dossiers(commune.hotline), buttons=menu),)
            )
        lines = []
        shown = dossiers[: tracking.SHOWN]
        for dossier in shown:
            procedure = self._catalogue.get(dossier.procedure_code)
            name = procedure.name if procedure is not None else dossier.procedure_code
            lines.append(
                tracking.DossierLine(dossier.code, name, dossier.status.value, dossier.due_date)
            )
        text = tracking.my_dossiers(lines, len(dossiers))
        resend = [
            Button(tracking.btn_receipt(number), f"{RECEIPT}:{dossier.code}")
            for number, dossier in enumerate(shown, 1)
        ]
        rows = tuple(tuple(resend[i : i + 2]) for i in range(0, len(resend), 2))
        return EffectOutcome(replies=(Reply(text, buttons=(*rows, *menu)),))

    async def _resend(self, key: ConversationKey, code: str) -> EffectOutcome:
        dossier = await self._dossiers.by_code(code)
        if dossier is None or key not in (dossier.filer_key, dossier.villager_key):
            return EffectOutcome(replies=(Reply(tracking.NOT_YOURS),))  # an untrusted payload
        handed_over = dossier.filer_key != key
        await self._dossiers.queue_receipt(dossier, self._clock(), to=key if handed_over else None)
        self._wake_couriers()
        return EffectOutcome(replies=(Reply(tracking.receipt_coming(dossier.code)),))

    async def _lookup(self, inbound: Inbound, effect: LookupDossier) -> EffectOutcome:
        """A code typed in the chat: its status for the chat that filed it, or for whoever
        gives the phone number written in the dossier. Who looked and who failed is audited;
        the answer to a wrong code and to a wrong number is the same."""
        key = inbound.key
        code = lookup.code_in(effect.code)  # the payload is untrusted input
        if code is None:
            return EffectOutcome(replies=(Reply(tracking.NOT_YOURS),))
        try:
            found = await self._office.dossier(code)
        except BackOfficeUnavailable as exc:
            log.warning("status lookup failed: %s", type(exc).__name__)
            menu = ((Button(ctexts.BTN_MENU, MENU),),)
            return EffectOutcome(replies=(Reply(tracking.LOOKUP_BUSY, buttons=menu),))
        if found is not None and (_filed_from(found) == key or await self._handed_to(code, key)):
            return EffectOutcome(replies=(lookup.status_screen(self._status_view(found)),))
        if not effect.phone:
            return EffectOutcome(followup=_followup(inbound, f"{lookup.ASK_PHONE}:{code}"))
        now = self._clock()
        target = f"dossier:{code}"
        refused = await self._audit.count("lookup_refused", target, now - LOOKUP_WINDOW)
        details = {"channel": key.channel}
        if (
            found is None
            or refused >= LOOKUP_REFUSALS
            or not _phone_of(found, self._catalogue.get(found.procedure_code), effect.phone)
        ):
            await self._audit.record(key.as_str(), "lookup_refused", target, details, now)
            if refused + 1 == LOOKUP_REFUSALS:
                log.warning("status lookups of a dossier code stopped for a day: wrong numbers")
            return EffectOutcome(followup=_followup(inbound, f"{lookup.WRONG_PHONE}:{code}"))
        await self._audit.record(key.as_str(), "lookup", target, details, now)
        return EffectOutcome(
            replies=(lookup.status_screen(self._status_view(found)),),
            followup=_followup(inbound, f"{lookup.DONE}:{code}"),
        )

    async def _handed_to(self, code: str, key: ConversationKey) -> bool:
        """Whether a volunteer handed dossier ``code`` over to this chat (the villager's)."""
        stored = await self._dossiers.by_code(code)
        return stored is not None and stored.villager_key == key

    def _status_view(self, dossier: DossierOut) -> DossierStatus:
        procedure = self._catalogue.get(dossier.procedure_code)
        return DossierStatus(
            code=dossier.code,
            procedure_name=procedure.name if procedure is not None else dossier.procedure_code,
            status=dossier.status.value,
            due_date=dossier.due_date,
            overdue=dossier.overdue,
            missing=tuple(dossier.missing),
            amount_due=dossier.amount_due,
            postal_item=dossier.postal_item or "",
            history=tuple(
                StatusStep(
                    at=step.at.astimezone(self._tz),
                    status=step.to.value,
                    # Why it was refused is the citizen's to know; an officer's notes are not.
                    reason=str(step.details.get("reason") or "")
                    if step.to.value in ("not_accepted", "refused")
                    else "",
                )
                for step in dossier.history
            ),
        )

    async def _supplement(self, inbound: Inbound, effect: SubmitSupplement) -> EffectOutcome:
        key = inbound.key
        try:
            moved = await self._office.supplement(effect.code, key, effect.files, effect.text)
        except (BackOfficeUnavailable, BackOfficeRejected) as exc:
            log.warning("supplement for %s not sent: %s", effect.code, type(exc).__name__)
            return EffectOutcome(replies=(Reply(notice_texts.SUPPLEMENT_FAILED),))
        if moved is None:
            return EffectOutcome(replies=(Reply(tracking.NOT_YOURS),))
        if isinstance(moved, Refused):
            # Withdrawn, refused or already supplemented meanwhile: the request is closed.
            log.info("supplement for %s refused: %s", effect.code, moved.reason)
            text = notice_texts.SUPPLEMENT_NOT_OPEN
        else:
            dossier = await self._dossiers.by_code(effect.code)
            if dossier is not None:
                await self._files.attach_to_dossier(
                    key, dossier.id, slot=SUPPLEMENT_SLOT, sha256=effect.files
                )
            text = notice_texts.supplement_sent(effect.code)
        done = Inbound(
            key=key,
            message_id=f"{inbound.message_id}:supplement",
            received_at=inbound.received_at,
            payload=f"{notices.SENT}:{effect.code}",
        )
        return EffectOutcome(
            replies=(Reply(text, buttons=((Button(ctexts.BTN_MENU, MENU),),)),), followup=done
        )

    # --- filing -----------------------------------------------------------------------------

    async def _submit(self, inbound: Inbound, effect: SubmitDossier) -> EffectOutcome:
        key = inbound.key
        procedure = self._catalogue.get(effect.procedure_code)
        if procedure is None:
            log.error("submission for unknown procedure %s", effect.procedure_code)
            return EffectOutcome(replies=(Reply(texts.SUBMIT_FAILED),))
        commune = self._settings.commune(effect.commune_code)
        volunteer = None
        filer = dict(effect.filer)
        on_behalf_of = None if effect.filer.get("for_self", True) else dict(effect.filer)
        if effect.on_behalf_of is not None:
            # Filed for a villager: only by an approved volunteer, checked now, not at the start.
            volunteer = await self._volunteers.approved(key) if self._volunteers else None
            if volunteer is None:
                return EffectOutcome(replies=(Reply(volunteer_texts.NOT_APPROVED),))
            on_behalf_of = {**dict(effect.on_behalf_of), "volunteer_id": volunteer.id}
            filer = {**filer, "name": volunteer.name, "volunteer_id": volunteer.id}
        submission = Submission(
            submission_key=effect.submission_key,
            commune_code=commune.code,
            procedure_code=procedure.code,
            filer_key=key,
            submitted_at=self._clock(),
            fields=dict(effect.fields),
            filer=filer,
            on_behalf_of=on_behalf_of,
            result_delivery="post" if effect.result_delivery == "post" else "counter",
            postal_address=dict(effect.postal_address) if effect.postal_address else None,
            volunteer_id=volunteer.id if volunteer is not None else None,
        )
        try:
            receipt = await self._office.submit(submission)
        except (BackOfficeUnavailable, BackOfficeRejected) as exc:
            # The draft keeps its answers: pressing "Gửi hồ sơ" again files it once.
            log.error("filing %s failed: %s", procedure.code, type(exc).__name__)
            return EffectOutcome(replies=(Reply(texts.SUBMIT_FAILED),))
        if not receipt.created:
            return EffectOutcome(replies=(Reply(texts.already_filed(receipt.code)),))
        # The documents (PDFs, payment QR) follow from the receipt courier, drawn after the
        # turn: see bot.receipts.
        self._wake_couriers()
        received_local = receipt.received_at.astimezone(self._tz)
        amount = amount_due(procedure, effect.fields)
        text = texts.filed(
            code=receipt.code,
            procedure_name=procedure.name,
            received_at=received_local,
            appointment_on=receipt.due_date,
            processing_text=procedure.processing_text,
            by_post=effect.result_delivery == "post",
            office=commune.address or commune.name,
            fee_text=procedure.fee.text if procedure.fee else "",
            fee_due=fee_due(procedure.fee, effect.fields),
            payment_hint=texts.PAY_BY_QR if pays_by_transfer(self._settings, amount) else "",
        )
        replies = (Reply(text), Reply(texts.queued_for_office()))
        if volunteer is not None and self._volunteers is not None and effect.on_behalf_of:
            await self._volunteers.filed_for(key, volunteer, receipt.code, effect.on_behalf_of)
            done = Inbound(
                key=key,
                message_id=f"{effect.submission_key}:{volunteer_flow.FILED}",
                received_at=self._clock(),
                payload=f"{volunteer_flow.FILED}:{receipt.code}",
            )
            return EffectOutcome(replies=replies, followup=done)
        offer = None
        if self._announcements is not None:
            # After the first receipt, once: would they like the commune's announcements?
            offer = await self._announcements.offer_after_receipt(
                inbound, commune.code, effect.submission_key
            )
        return EffectOutcome(replies=replies, followup=offer)


def _filed_from(dossier: DossierOut) -> ConversationKey:
    where = dossier.filed_from
    return ConversationKey(channel=where.channel, chat_id=where.chat_id, user_id=where.user_id)


def _phone_of(dossier: DossierOut, procedure: Procedure | None, typed: str) -> bool:
    """Whether ``typed`` is a phone number the dossier gives: the filer's, or an answer to one
    of the form's phone questions (a volunteer files with the villager's own number)."""
    wanted = validators.parse_phone(typed)
    if isinstance(wanted, validators.Invalid):
        return False
    given = [dossier.filer.get("phone")]
    if dossier.on_behalf_of:
        given.append(dossier.on_behalf_of.get("phone"))
    if procedure is not None and procedure.form is not None:
        given += [dossier.fields.get(f.name) for f in procedure.form.fields if f.kind == "phone"]
    for value in given:
        if isinstance(value, str):
            known = validators.parse_phone(value)
            if not isinstance(known, validators.Invalid) and known.value == wanted.value:
                return True
    return False


def _followup(inbound: Inbound, payload: str) -> Inbound:
    """What the effect tells the dialog, as a payload it handles like a button."""
    return Inbound(
        key=inbound.key,
        message_id=f"{inbound.message_id}:{payload.partition(':')[0]}",
        received_at=inbound.received_at,
        payload=payload,
    )
