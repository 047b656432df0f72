"""The draft reminder job: one reminder before an unfinished dossier expires, then expiry.

The dialog decides what a draft is and what to say (dialogs.filing); this job only finds quiet
conversations, asks the dialog, sends through the citizen's channel and records that it did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from dialogs.context import Context
from dialogs.filing import mark_reminded, reminder_replies
from dialogs.model import ConversationKey, Reply
from storage.conversations import ConversationRepository

log = logging.getLogger(__name__)

Sender = Callable[[ConversationKey, Sequence[Reply]], Awaitable[bool]]


class DraftReminders:
    def __init__(
        self,
        conversations: ConversationRepository,
        context_for: Callable[[str, datetime], Context],
        send: Sender,
        *,
        draft_ttl: timedelta,
        remind_before: timedelta,
        clock: Callable[[], datetime],
        batch: int = 500,
    ) -> None:
        self._conversations = conversations
        self._context_for = context_for
        self._send = send
        self._quiet_for = max(draft_ttl - remind_before, timedelta(0))
        self._clock = clock
        self._batch = batch

    async def run_once(self) -> int:
        """Send the reminders that are due now; returns how many went out."""
        now = self._clock()
        sent = 0
        for conversation in await self._conversations.stale_drafts(
            now - self._quiet_for, limit=self._batch
        ):
            if conversation.reminder_sent_at is not None:
                continue
            ctx = self._context_for(conversation.commune_code, now)
            replies = reminder_replies(conversation.state, ctx)
            if not replies:
                continue
            if not await self._send(conversation.key, replies):
                continue  # the channel cannot reach them now; the next run tries again
            await self._conversations.save(
                conversation.key,
                mark_reminded(conversation.state),
                conversation.commune_code,
                now,
                inbound=False,
            )
            await self._conversations.mark_reminded(conversation.key, now)
            sent += 1
        if sent:
            log.info("sent %d draft reminder(s)", sent)
        return sent

    async def run(self, stop: asyncio.Event, interval: float = 3600.0) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # a bad row must not stop reminders for everyone else
                log.exception("draft reminder run failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
