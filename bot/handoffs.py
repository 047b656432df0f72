"""The officer's side of "Gặp cán bộ", carried to the citizen's chat.

The console stores an officer's answer, or the end of a hand-over, with a ``handoff:<channel>``
outbox row in the same transaction (storage.handoffs). A :class:`~bot.notifier.Notifier` on
those topics (no quiet hours: the officer is answering now; the same per-channel pacers as the
office's notices) works them through :meth:`HandoffMaker.prepare`: the conversation service
tells the dialog (under the conversation's lock, compare-and-set, idempotent per event), and
the words it returns are pushed through the citizen's own channel, retried until delivered.

:class:`IdleHandoffs` is the periodic job that gives a live hand-over in which nobody wrote for
``[console] handoff_idle_minutes`` back to the assistant.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.notifier import Prepared
from bot.service import ConversationService
from dialogs.model import ConversationKey, OfficerEvent
from storage.handoffs import HandoffRepository
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)


class HandoffMaker:
    def __init__(self, handoffs: HandoffRepository, service: ConversationService) -> None:
        self._handoffs = handoffs
        self._service = service

    async def prepare(self, item: OutboxItem) -> Prepared | None:
        payload = item.payload
        try:
            key = ConversationKey(
                str(payload["channel"]), str(payload["chat_id"]), str(payload["user_id"])
            )
            handoff_id = int(payload["handoff_id"])
        except (KeyError, TypeError, ValueError):
            return None
        kind = payload.get("kind")
        if kind == "answer":
            line = await self._handoffs.line(int(payload.get("line_id", 0)))
            if line is None:
                return None
            current = await self._handoffs.get(handoff_id)
            event = OfficerEvent(
                event_id=f"answer:{line.id}",
                kind="answer",
                text=line.text,
                by=line.officer,
                reopen=current is not None and current.is_open,
            )
        elif kind == "close":
            event = OfficerEvent(
                event_id=f"close:{handoff_id}", kind="close", by=str(payload.get("by", ""))
            )
        else:
            return None
        replies = await self._service.officer_event(key, event)
        return Prepared(key=key, replies=replies)


class IdleHandoffs:
    def __init__(
        self,
        handoffs: HandoffRepository,
        idle: timedelta,
        clock: Callable[[], datetime],
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._handoffs = handoffs
        self._idle = idle
        self._clock = clock
        self._wake = wake

    async def run_once(self) -> int:
        closed = await self._handoffs.close_idle(self._clock(), self._idle)
        if closed:
            log.info("%d idle hand-overs went back to the assistant", closed)
            self._wake()
        return closed
