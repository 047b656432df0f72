"""The receipt's documents: drawn after the turn, sent when ready, never lost.

Filing answers at once with the dossier code and the appointment date. The PDFs (the receipt
slip, the filled-in declaration) and the payment QR take a tenth of a second or more of CPU
each to draw, so they are not drawn inside the turn, where they would hold up every other
conversation. ``DossierRepository.create`` queues a ``send_receipt:<channel>`` outbox row in
the same transaction as the dossier; :class:`ReceiptCourier` claims the rows of the channels
this process can reach, draws the documents off the event loop and pushes them to the citizen
(:mod:`bot.push`). A web page that is closed,
Zalo's window or a network failure leaves the row for a later attempt with backoff; a crash
leaves it leased and it comes back. After ``MAX_ATTEMPTS`` the row is parked for a person.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from typing_extensions import Unpack

from backoffice.documents.vietqr import build_vietqr, fee_purpose, qr_png
from bot.config import Settings
from bot.outbox import DeliveryQueue, LoopOptions, OutboxLoop
from bot.push import Push
from dialogs.filing_answers import address_display
from dialogs.model import Media, Reply
from dialogs.texts import receipt as texts
from dialogs.vnwords import date_in_words
from knowledge.catalogue import Catalogue
from knowledge.model import Procedure
from storage.dossiers import Dossier
from storage.outbox import OutboxItem, receipt_topic

log = logging.getLogger(__name__)

# With backoff from 5 s doubling to 15 min, 12 attempts span about an hour and a half: long
# enough for a citizen to come back to the web page, short of spamming a Zalo user later.
MAX_ATTEMPTS = 12


class DossierSource(Protocol):
    async def get(self, dossier_id: int) -> Dossier | None: ...


class SentFile(Protocol):
    @property
    def slot(self) -> str: ...


class DossierFiles(Protocol):
    async def for_dossier(self, dossier_id: int) -> Sequence[SentFile]: ...


def papers_sent(procedure: Procedure, slots: Sequence[str] | None) -> tuple[str, ...]:
    """The receipt's list of papers: with the dossier's photos known, the declaration the
    answers fill in and each paper actually photographed (not the ones skipped or removed);
    without them, every paper the procedure files."""
    form = procedure.form
    if slots is None or form is None:
        return tuple(p.name for p in procedure.papers if not p.show_only)
    filled = [p.name for p in procedure.papers if p.form and not p.show_only]
    return (*filled, *(photo.label for photo in form.photos if photo.name in slots))


class ReceiptMaker:
    """Draws a dossier's documents: receipt slip, declaration where the form has one, QR."""

    def __init__(
        self, settings: Settings, catalogue: Catalogue, files: DossierFiles | None = None
    ) -> None:
        self._settings = settings
        self._catalogue = catalogue
        self._files = files
        self._tz = ZoneInfo(settings.deployment.timezone)

    def payment_qr(self, dossier: Dossier, procedure: Procedure) -> str:
        """The VietQR payload for the fee, or "" when it is not paid by transfer."""
        payment = self._settings.payment
        if not pays_by_transfer(self._settings, procedure) or procedure.fee is None:
            return ""
        return build_vietqr(
            payment.bank_bin,
            payment.account_number,
            procedure.fee.amount_vnd or 0,
            fee_purpose(dossier.code),
        )

    async def documents(self, dossier: Dossier) -> Reply | None:
        """The documents as one reply; None when the procedure is no longer in the catalogue."""
        procedure = self._catalogue.get(dossier.procedure_code)
        if procedure is None:
            return None
        slots: list[str] | None = None
        if self._files is not None:
            slots = [f.slot for f in await self._files.for_dossier(dossier.id)]
        # Font subsetting is CPU work: off the event loop, so conversations keep moving.
        return await asyncio.to_thread(self._draw, dossier, procedure, slots)

    def _draw(
        self, dossier: Dossier, procedure: Procedure, slots: Sequence[str] | None = None
    ) -> Reply:
        # The PDF library and its fonts load on the first receipt, not at start-up.
        from backoffice.documents.declarations import render_declaration_pdf
        from backoffice.documents.receipt import ReceiptData, render_receipt_pdf

        commune = self._settings.commune(dossier.commune_code)
        received_local = dossier.received_at.astimezone(self._tz)
        appointment = dossier.due_date or received_local.date()
        payment_qr = self.payment_qr(dossier, procedure)
        by_post = dossier.result_delivery == "post"
        fields = dossier.fields
        receipt = ReceiptData(
            agency_name=f"ỦY BAN NHÂN DÂN {commune.name.upper()}",
            place=place_name(commune.name),
            dossier_code=dossier.code,
            applicant_name=_first_of_kind(procedure, fields, "name"),
            applicant_address=_first_of_kind(procedure, fields, "address"),
            applicant_phone=_first_of_kind(procedure, fields, "phone")
            or str(dossier.filer.get("phone", "")),
            procedure_name=procedure.name,
            papers=papers_sent(procedure, slots),
            processing_days=procedure.processing_days or 0,
            received_at=received_local,
            appointment_on=appointment,
            return_method="post" if by_post else "counter",
            return_place=_display(dossier.postal_address) if by_post else commune.address,
            fee_vnd=procedure.fee.amount_vnd if procedure.fee else None,
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
                        printable(procedure, fields),
                        commune.name,
                        place_name(commune.name),
                        received_local.date(),
                        date_in_words=date_in_words,
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
        return Reply(
            text=texts.documents_of(dossier.code), images=images, documents=tuple(documents)
        )


class ReceiptCourier(OutboxLoop):
    """Works the ``send_receipt`` outbox rows: draw, push, mark done (or try again later)."""

    def __init__(
        self,
        outbox: DeliveryQueue,
        dossiers: DossierSource,
        maker: ReceiptMaker,
        push: Push,
        clock: Callable[[], datetime],
        *,
        max_attempts: int = MAX_ATTEMPTS,
        **options: Unpack[LoopOptions],
    ) -> None:
        options.setdefault("batch", 10)  # each row is a PDF to draw: smaller rounds
        super().__init__(outbox, clock, **options)
        self._dossiers = dossiers
        self._maker = maker
        self._push = push
        self._max_attempts = max_attempts

    async def run_once(self) -> int:
        claimed = 0
        for channel in self._push.channels():
            items = await self._outbox.claim_due(
                self._clock(), self._batch, self._lease, topic=receipt_topic(channel)
            )
            for item in items:
                await self._send(item)
            claimed += len(items)
        return claimed

    async def _send(self, item: OutboxItem) -> None:
        dossier_id = item.payload.get("dossier_id")
        dossier = await self._dossiers.get(dossier_id) if isinstance(dossier_id, int) else None
        if dossier is None:
            await self._park(item, f"dossier {dossier_id!r} not found")
            return
        reply = await self._maker.documents(dossier)
        if reply is None:
            await self._park(item, f"procedure {dossier.procedure_code} not in the catalogue")
            return
        if await self._push.send(dossier.filer_key, (reply,)):
            await self._outbox.mark_done(item.id, self._clock())
            log.info("receipt for dossier %s sent on %s", dossier.code, dossier.filer_key.channel)
            return
        if item.attempts >= self._max_attempts:
            await self._park(item, f"{dossier.filer_key.channel} unreachable")
            return
        await self._retry_later(item, f"{dossier.filer_key.channel} unreachable for now")


def pays_by_transfer(settings: Settings, procedure: Procedure) -> bool:
    """A fee, and a commune account to pay it into: the citizen gets a VietQR code."""
    payment = settings.payment
    fee = procedure.fee.amount_vnd if procedure.fee else None
    return bool(fee and payment.bank_bin and payment.account_number)


def place_name(commune_name: str) -> str:
    """ "Xã Thái Tân" -> "Thái Tân", as the slip's "place, date" line writes it."""
    for prefix in ("Xã ", "Phường ", "Đặc khu "):
        if commune_name.startswith(prefix):
            return commune_name[len(prefix) :]
    return commune_name


def _display(value: Any) -> str:
    """How the form showed the answer: addresses as the dialog writes them, the rest as text."""
    if isinstance(value, Mapping):
        return address_display(value) if "commune_name" in value else ""
    return "" if value is None else str(value)


def printable(procedure: Procedure, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The answers as a declaration prints them: a date answer (stored ISO, "2026-11-20") as a
    date, which the PDF writes dd/mm/yyyy and in words; an address as the line the citizen was
    shown ("xóm Bắc, xã Thái Tân, thành phố Hải Phòng"), never the stored mapping."""
    kinds = {f.name: f.kind for f in procedure.form.fields} if procedure.form else {}
    shown: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, Mapping):
            shown[name] = _display(value)
        elif kinds.get(name) == "date" and isinstance(value, str):
            try:
                shown[name] = date.fromisoformat(value)
            except ValueError:
                shown[name] = value
        else:
            shown[name] = value
    return shown


def _first_of_kind(procedure: Procedure, fields: Mapping[str, Any], kind: str) -> str:
    if procedure.form is None:
        return ""
    for field in procedure.form.fields:
        if field.kind == kind and field.name in fields:
            return _display(fields[field.name])
    return ""


__all__: Sequence[str] = (
    "MAX_ATTEMPTS",
    "ReceiptCourier",
    "ReceiptMaker",
    "pays_by_transfer",
    "place_name",
)
