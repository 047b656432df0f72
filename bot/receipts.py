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
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from typing_extensions import Unpack

from backoffice.documents.vietqr import build_vietqr, fee_purpose, qr_png
from bot.config import Settings, settings_from_dict
from bot.outbox import DeliveryQueue, LoopOptions, OutboxLoop
from bot.printing import printable
from bot.push import Push
from dialogs.addresses import AddressBook
from dialogs.filing_answers import address_display
from dialogs.model import ConversationKey, Media, Reply
from dialogs.texts import receipt as texts
from dialogs.vnwords import date_in_words
from knowledge.catalogue import Catalogue
from knowledge.fees import fee_due
from knowledge.model import Procedure
from storage.dossiers import Dossier
from storage.outbox import OutboxItem, receipt_topic

log = logging.getLogger(__name__)

# With backoff from 5 s doubling to 15 min, 12 attempts span about an hour and a half: long
# enough for a citizen to come back to the web page, short of spamming a Zalo user later.
MAX_ATTEMPTS = 12
_KEY_PARTS = ("channel", "chat_id", "user_id")


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


# Processes drawing receipts for one worker: one core of two is left to the conversations.
DRAWING_PROCESSES = max(1, (os.cpu_count() or 1) - 1)


def drawing_pool(settings: Settings, processes: int = DRAWING_PROCESSES) -> ProcessPoolExecutor:
    """Processes that draw receipts. Drawing is CPU work in Python (font subsetting: about
    0.3 s a filing); in a thread it holds the interpreter lock, and a burst of filings then
    stalls every conversation of the worker. The processes start on the first receipt."""
    # Not fork: the parent has threads (the database driver's) whose locks a fork would copy.
    # The fork server is one clean process, started once, with the drawing code loaded: each
    # pool process forks from it in milliseconds instead of importing everything again.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["bot.receipts", "backoffice.documents.receipt"])
    return ProcessPoolExecutor(
        max_workers=processes,
        mp_context=context,
        initializer=_start_drawing_process,
        # As plain data: a file's settings are of a class made in load_settings, not picklable.
        initargs=(settings.model_dump(),),
    )


# The drawing process's own maker, built once by the pool's initializer (per process, not
# shared state: each drawing process is a fresh interpreter with only this in it).
_drawing_maker: ReceiptMaker | None = None


def _start_drawing_process(settings: dict[str, Any]) -> None:
    global _drawing_maker  # a pool process's one object, set once
    # The unit list (about a second to build) once per drawing process, for the papers' places.
    _drawing_maker = ReceiptMaker(
        settings_from_dict(settings), Catalogue(()), AddressBook.from_package()
    )


def _draw_in_process(dossier: Dossier, procedure: Procedure, slots: Sequence[str] | None) -> Reply:
    assert _drawing_maker is not None, "the pool's initializer did not run"
    return _drawing_maker.draw(dossier, procedure, slots)


class ReceiptMaker:
    """Draws a dossier's documents: receipt slip, declaration where the form has one, QR.

    With ``pool`` (:func:`drawing_pool`) the drawing happens in other processes; without, in a
    thread of this one (a console's occasional receipt, tests)."""

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue,
        addresses: AddressBook | None = None,
        *,
        files: DossierFiles | None = None,
        pool: Executor | None = None,
    ) -> None:
        self._settings = settings
        self._catalogue = catalogue
        self._addresses = addresses
        self._files = files
        self._tz = ZoneInfo(settings.deployment.timezone)
        self._pool = pool

    def payment_qr(self, dossier: Dossier, procedure: Procedure) -> str:
        """The VietQR payload for what the filing costs (the fee and the copies asked for),
        or "" when nothing is paid by transfer."""
        payment = self._settings.payment
        amount = amount_due(procedure, dossier.fields)
        if not pays_by_transfer(self._settings, amount):
            return ""
        return build_vietqr(
            payment.bank_bin, payment.account_number, amount, fee_purpose(dossier.code)
        )

    async def documents(self, dossier: Dossier) -> Reply | None:
        """The documents as one reply; None when the procedure is no longer in the catalogue."""
        procedure = self._catalogue.get(dossier.procedure_code)
        if procedure is None:
            return None
        slots: list[str] | None = None
        if self._files is not None:
            slots = [f.slot for f in await self._files.for_dossier(dossier.id)]
        if self._pool is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._pool, _draw_in_process, dossier, procedure, slots
            )
        # Font subsetting is CPU work: off the event loop, so conversations keep moving.
        return await asyncio.to_thread(self.draw, dossier, procedure, slots)

    def draw(
        self, dossier: Dossier, procedure: Procedure, slots: Sequence[str] | None = None
    ) -> Reply:
        # The PDF library and its fonts load on the first receipt, not at start-up.
        from backoffice.documents.declarations import render_declaration_pdf
        from backoffice.documents.receipt import ReceiptData, render_receipt_pdf

        commune = self._settings.commune(dossier.commune_code)
        received_local = dossier.received_at.astimezone(self._tz)
        # No due date: the procedure states no time in working days, and none is promised.
        appointment = dossier.due_date
        payment_qr = self.payment_qr(dossier, procedure)
        by_post = dossier.result_delivery == "post"
        fields = dossier.fields
        due = fee_due(procedure.fee, fields)
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
            processing_days=procedure.processing_days if appointment is not None else None,
            processing_text=procedure.processing_text,
            received_at=received_local,
            appointment_on=appointment,
            return_method="post" if by_post else "counter",
            return_place=_display(dossier.postal_address) if by_post else commune.address,
            fee_vnd=due.total if due is not None else None,
            fee_detail=texts.fee_detail(due) if due is not None else "",
            fee_payment=texts.PAY_BY_QR_ON_SLIP if payment_qr else texts.PAY_AT_COUNTER,
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
                        printable(
                            procedure,
                            fields,
                            self._addresses,
                            for_self=bool(dossier.filer.get("for_self", False)),
                        ),
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
        # A row may name its recipient: the villager a volunteer handed the dossier over to.
        to = item.payload.get("to")
        key = dossier.filer_key
        if isinstance(to, dict) and all(isinstance(to.get(k), str) for k in _KEY_PARTS):
            key = ConversationKey(to["channel"], to["chat_id"], to["user_id"])
        if await self._push.send(key, (reply,)):
            await self._outbox.mark_done(item.id, self._clock())
            log.info("receipt for dossier %s sent on %s", dossier.code, key.channel)
            return
        if item.attempts >= self._max_attempts:
            await self._park(item, f"{key.channel} unreachable")
            return
        await self._retry_later(item, f"{key.channel} unreachable for now")


def amount_due(procedure: Procedure, fields: Mapping[str, Any]) -> int:
    """What the filing costs in đồng: the fee and the copies asked for (0 when nothing)."""
    due = fee_due(procedure.fee, fields)
    return due.total if due is not None else 0


def pays_by_transfer(settings: Settings, amount: int) -> bool:
    """An amount to pay, and a commune account to pay it into: the citizen gets a VietQR."""
    payment = settings.payment
    return bool(amount > 0 and payment.bank_bin and payment.account_number)


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
    "amount_due",
    "drawing_pool",
    "pays_by_transfer",
    "place_name",
)
