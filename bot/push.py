"""Writing to a citizen first: one door for every channel.

A turn answers the message that started it. Everything else the citizen receives later (the
receipt's PDF once it is drawn, draft reminders, and next the office's status notices) goes
through :class:`Push`: each channel registers how it reaches a conversation, and callers say
only whom and what. ``send`` answers False when the channel cannot deliver now (no live web
page, outside Zalo's window, a blocked bot, a network failure): the caller keeps the message
and tries again later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from dialogs.model import ConversationKey, Reply

log = logging.getLogger(__name__)

Sender = Callable[[ConversationKey, Sequence[Reply]], Awaitable[bool]]


class Push:
    def __init__(self) -> None:
        self._senders: dict[str, Sender] = {}

    def register(self, channel: str, sender: Sender) -> Callable[[], None]:
        """Route ``channel``'s conversations to ``sender``; call the result to stop."""
        self._senders[channel] = sender

        def unregister() -> None:
            if self._senders.get(channel) is sender:
                del self._senders[channel]

        return unregister

    def channels(self) -> tuple[str, ...]:
        """The channels this process can write to now."""
        return tuple(self._senders)

    async def send(self, key: ConversationKey, replies: Sequence[Reply]) -> bool:
        sender = self._senders.get(key.channel)
        if sender is None:
            return False
        try:
            return await sender(key, replies)
        except Exception as exc:  # any channel failure means the same: try again later
            log.info("could not write first to %s: %s", key.channel, type(exc).__name__)
            return False
