"""The draft reminder job: one reminder before an unfinished dossier expires, then expiry.

The dialog decides what a draft is and what to say (dialogs.filing); this job only finds quiet
conversations, asks the dialog, sends through the citizen's channel and records that it did.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from bot.service import ConversationService
from dialogs.model import ConversationKey, Reply
from storage.conversations import ConversationRepository

log = logging.getLogger(__name__)

Sender = Callable[[ConversationKey, Sequence[Reply]], Awaitable[bool]]


class DraftReminders:
    def __init__(
        self,
        conversations: ConversationRepository,
        service: ConversationService,
        send: Sender,
        *,
        draft_ttl: timedelta,
        remind_before: timedelta,
        clock: Callable[[], datetime],
        batch: int = 500,
    ) -> None:
        self._conversations = conversations
        self._service = service
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
            # The service reads the state again under the conversation's lock: the citizen may
            # have written since this list was read.
            if not await self._service.remind(conversation.key, self._send, now):
                continue  # nothing due now, or the channel cannot reach them; next run again
            await self._conversations.mark_reminded(conversation.key, now)
            sent += 1
        if sent:
            log.info("sent %d draft reminder(s)", sent)
        return sent
