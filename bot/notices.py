"""From an office history step to the words in the citizen's chat.

The notifier (:mod:`bot.notifier`) claims a ``notify:<channel>`` outbox row and asks
:meth:`NoticeMaker.prepare` what to send: the step and its dossier are read back from the
office's store, turned into a :class:`~dialogs.model.Notice` (plain data), and handed to the
conversation service, which runs the dialog's ``on_notice`` under the conversation's lock and
saves the new state in the same way as a citizen's turn.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import Any

from backoffice.documents.vietqr import build_vietqr, fee_purpose, qr_png
from bot.config import PaymentSettings
from bot.notifier import Prepared
from bot.service import ConversationService
from bot.volunteers import notice_replies
from dialogs.model import ConversationKey, Media, Notice
from dialogs.texts.receipt import PAYMENT_QR_CAPTION
from knowledge.catalogue import Catalogue
from storage.dossiers import Dossier, DossierEvent, DossierRepository
from storage.outbox import OutboxItem
from storage.volunteers import VOLUNTEER_NOTICE

log = logging.getLogger(__name__)


class NoticeMaker:
    def __init__(
        self,
        dossiers: DossierRepository,
        catalogue: Catalogue,
        service: ConversationService,
        payment: PaymentSettings,
    ) -> None:
        self._dossiers = dossiers
        self._catalogue = catalogue
        self._service = service
        self._payment = payment

    async def prepare(self, item: OutboxItem) -> Prepared | None:
        """The recipient and the replies for one row; None when its dossier or step is gone
        (the row is then parked for a person)."""
        payload = item.payload
        if payload.get("kind") == VOLUNTEER_NOTICE:  # a decision or a handover, not a step
            replies = notice_replies(payload)
            if replies is None:
                return None
            return Prepared(key=_key_of(payload), replies=replies)
        event_id = payload.get("event_id")
        code = payload.get("code")
        if not isinstance(event_id, int) or not isinstance(code, str):
            return None
        event = await self._dossiers.event(event_id)
        dossier = await self._dossiers.by_code(code)
        if event is None or dossier is None or event.dossier_id != dossier.id:
            return None
        key = _key_of(payload)
        notice = self.notice(dossier, event)
        replies = await self._service.notify(key, notice)
        if notice.pay_to and notice.amount and replies:
            # The same transfer as the words say, drawn here: the dialog has no image library.
            transfer = build_vietqr(
                self._payment.bank_bin, self._payment.account_number, notice.amount, notice.pay_note
            )
            qr = Media("ma-qr-le-phi.png", "image/png", qr_png(transfer), PAYMENT_QR_CAPTION)
            replies = (replace(replies[0], images=(*replies[0].images, qr)), *replies[1:])
        return Prepared(key=key, replies=replies)

    def notice(self, dossier: Dossier, event: DossierEvent) -> Notice:
        details = event.details
        procedure = self._catalogue.get(dossier.procedure_code)
        return Notice(
            event_id=event.id,
            code=dossier.code,
            procedure_name=procedure.name if procedure is not None else dossier.procedure_code,
            status=event.status,
            kind=event.kind,
            at=event.at,
            note=str(details.get("apology") or event.note or ""),
            due_date=_day(details.get("due_date")) or dossier.due_date,
            missing=tuple(str(m) for m in details.get("missing") or ()),
            supplement_deadline=_day(details.get("supplement_deadline")),
            amount=_int(details.get("amount")),
            item_number=str(details.get("item_number") or ""),
            reason=str(details.get("reason") or ""),
            by_post=dossier.result_delivery == "post",
            from_status=event.from_status or "",
            **self._transfer(dossier, event),
        )

    def _transfer(self, dossier: Dossier, event: DossierEvent) -> dict[str, str]:
        """Where to pay a payment request by transfer; nothing when the commune has no account
        in config (the citizen pays at the desk)."""
        payment = self._payment
        amount = _int(event.details.get("amount"))
        if event.status != "payment_requested" or event.kind != "transition" or not amount:
            return {}
        if not (payment.bank_bin and payment.account_number):
            return {}
        holder = f"{payment.account_name}, " if payment.account_name else ""
        return {
            "pay_to": f"{holder}số {payment.account_number}",
            "pay_note": fee_purpose(dossier.code),
        }


def _key_of(payload: dict[str, Any]) -> ConversationKey:
    return ConversationKey(
        channel=str(payload.get("channel", "")),
        chat_id=str(payload.get("chat_id", "")),
        user_id=str(payload.get("user_id", "")),
    )


def _day(value: Any) -> date | None:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


__all__ = ["NoticeMaker"]
