"""Carrying out what a dialog step asked for: checking and storing photos, filing dossiers.

Each effect returns replies and, for photo checks, a follow-up Inbound that the service feeds
back to the dialog (the dialog stays pure; only here do bytes, files and the database meet).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from backoffice.calendar import WorkCalendar
from backoffice.declarations import render_declaration_pdf
from backoffice.receipt import ReceiptData, render_receipt_pdf
from backoffice.vietqr import build_vietqr, qr_png
from bot.config import Settings
from bot.service import EffectOutcome
from dialogs.filing_answers import address_display
from dialogs.model import (
    Attachment,
    CheckAttachments,
    ConversationKey,
    Effect,
    Inbound,
    Media,
    Reply,
    SubmitDossier,
)
from dialogs.texts import receipt as texts
from handlers.files import MAX_DOWNLOAD, FileTooLarge
from knowledge.catalogue import Catalogue
from knowledge.model import Procedure
from storage.files import FileStore
from storage.images import Accepted, inspect_upload
from storage.repositories import Dossier, DossierRepository, FileRepository, NewDossier

log = logging.getLogger(__name__)


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
        calendar: WorkCalendar,
        dossiers: DossierRepository,
        files: FileRepository,
        store: FileStore,
        fetchers: Mapping[str, AttachmentFetcher],
        on_filed: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._catalogue = catalogue
        self._calendar = calendar
        self._dossiers = dossiers
        self._files = files
        self._store = store
        self._fetchers = fetchers
        self._on_filed = on_filed
        self._clock = clock
        self._tz = ZoneInfo(settings.deployment.timezone)

    async def __call__(self, inbound: Inbound, effect: Effect) -> EffectOutcome:
        if isinstance(effect, CheckAttachments):
            return await self._check(inbound, effect)
        if isinstance(effect, SubmitDossier):
            return await self._submit(inbound.key, effect)
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

    # --- filing -----------------------------------------------------------------------------

    async def _submit(self, key: ConversationKey, effect: SubmitDossier) -> EffectOutcome:
        procedure = self._catalogue.get(effect.procedure_code)
        existing = await self._dossiers.by_submission_key(effect.submission_key)
        if existing is not None:
            return EffectOutcome(replies=(Reply(texts.already_filed(existing.code)),))
        if procedure is None:
            log.error("submission for unknown procedure %s", effect.procedure_code)
            return EffectOutcome(replies=(Reply(texts.SUBMIT_FAILED),))
        now = self._clock()
        local = now.astimezone(self._tz)
        appointment = self._calendar.appointment(local, procedure.processing_days or 0)
        commune = self._settings.commune(effect.commune_code)
        dossier = await self._dossiers.create(
            NewDossier(
                submission_key=effect.submission_key,
                agency_code=commune.agency_code
                or f"000.00.{self._settings.deployment.province_code}.H00",
                commune_code=commune.code,
                procedure_code=procedure.code,
                filer_key=key,
                received_at=now,
                fields=dict(effect.fields),
                filer=dict(effect.filer),
                on_behalf_of=None if effect.filer.get("for_self", True) else dict(effect.filer),
                due_date=appointment,
                result_delivery=effect.result_delivery,
                postal_address=dict(effect.postal_address) if effect.postal_address else None,
            )
        )
        self._on_filed()
        # Drawing PDFs is CPU work (font subsetting): off the event loop, so other
        # conversations keep moving while a receipt is drawn.
        replies = await asyncio.to_thread(self._receipt_replies, dossier, procedure)
        return EffectOutcome(replies=replies)

    def _receipt_replies(self, dossier: Dossier, procedure: Procedure) -> tuple[Reply, ...]:
        commune = self._settings.commune(dossier.commune_code)
        received_local = dossier.received_at.astimezone(self._tz)
        appointment = dossier.due_date or received_local.date()
        fee_vnd = procedure.fee.amount_vnd if procedure.fee else None
        payment = self._settings.payment
        payment_qr = ""
        if fee_vnd and payment.bank_bin and payment.account_number:
            payment_qr = build_vietqr(
                payment.bank_bin, payment.account_number, fee_vnd, f"LE PHI {dossier.code[-11:]}"
            )
        by_post = dossier.result_delivery == "post"
        fields = dossier.fields
        receipt = ReceiptData(
            agency_name=f"ỦY BAN NHÂN DÂN {commune.name.upper()}",
            place=_place_name(commune.name),
            dossier_code=dossier.code,
            applicant_name=_first_of_kind(procedure, fields, "name"),
            applicant_address=_first_of_kind(procedure, fields, "address"),
            applicant_phone=_first_of_kind(procedure, fields, "phone")
            or str(dossier.filer.get("phone", "")),
            procedure_name=procedure.name,
            papers=tuple(p.name for p in procedure.papers if not p.show_only),
            processing_days=procedure.processing_days or 0,
            received_at=received_local,
            appointment_on=appointment,
            return_method="post" if by_post else "counter",
            return_place=_display(dossier.postal_address) if by_post else commune.address,
            fee_vnd=fee_vnd,
            fee_payment=texts.PAY_BY_QR if payment_qr else texts.PAY_AT_COUNTER,
            payment_qr=payment_qr,
        )
        documents = [
            Media(
                filename=f"bien-nhan-{dossier.code}.pdf",
                mime_type="application/pdf",
                data=render_receipt_pdf(receipt),
                caption=texts.RECEIPT_PDF_CAPTION,
            )
        ]
        if procedure.form and procedure.form.declaration:
            documents.append(
                Media(
                    filename=f"to-khai-{dossier.code}.pdf",
                    mime_type="application/pdf",
                    data=render_declaration_pdf(
                        procedure.form.declaration,
                        fields,
                        commune.name,
                        _place_name(commune.name),
                        received_local.date(),
                    ),
                    caption=texts.DECLARATION_PDF_CAPTION,
                )
            )
        images: tuple[Media, ...] = ()
        if payment_qr:
            images = (
                Media(
                    filename="ma-qr-le-phi.png",
                    mime_type="image/png",
                    data=qr_png(payment_qr),
                    caption=texts.PAYMENT_QR_CAPTION,
                ),
            )
        text = texts.filed(
            code=dossier.code,
            procedure_name=procedure.name,
            received_at=received_local,
            appointment_on=appointment,
            by_post=by_post,
            office=commune.address or commune.name,
            fee_text=procedure.fee.text if procedure.fee else "",
            payment_hint=texts.PAY_BY_QR if payment_qr else "",
        )
        return (
            Reply(text=text, images=images, documents=tuple(documents)),
            Reply(texts.queued_for_office()),
        )


def _place_name(commune_name: str) -> str:
    for prefix in ("Xã ", "Phường ", "Đặc khu "):
        if commune_name.startswith(prefix):
            return commune_name[len(prefix) :]
    return commune_name


def _display(value: Any) -> str:
    """How the form showed the answer: addresses as the dialog writes them, the rest as text."""
    if isinstance(value, Mapping):
        return address_display(value) if "commune_name" in value else ""
    return "" if value is None else str(value)


def _first_of_kind(procedure: Procedure, fields: Mapping[str, Any], kind: str) -> str:
    if procedure.form is None:
        return ""
    for field in procedure.form.fields:
        if field.kind == kind and field.name in fields:
            return _display(fields[field.name])
    return ""
