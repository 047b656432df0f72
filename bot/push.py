"""Writing to a citizen first: one door for every channel.

A turn answers the message that started it. Everything else the citizen receives later (the
receipt's PDF once it is drawn, draft reminders, and next the office's status notices) goes
through :class:`Push`: each channel registers how it reaches a conversation, and callers say
only whom and what. ``send`` answers False when the channel cannot deliver now (a file for a
web session with no page open, outside Zalo's window, a blocked bot, a network failure): the
caller keeps the message and tries again later. :meth:`Push.deliver` says a little more: a
sender that raises :class:`WindowClosed` (Zalo outside its 7-day window) makes it answer
``CLOSED``, so a caller can wait for the citizen rather than count a failed try.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Sequence

from dialogs.model import ConversationKey, Reply
from handlers.channel import WindowClosed

__all__ = ["Delivery", "Push", "Sender", "WindowClosed"]

log = logging.getLogger(__name__)

Sender = Callable[[ConversationKey, Sequence[Reply]], Awaitable[bool]]


class Delivery(enum.Enum):
    SENT = "sent"
    FAILED = "failed"  # try again later
    CLOSED = "closed"  # the channel's window is closed: wait for the citizen


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
        return await self.deliver(key, replies) is Delivery.SENT

    async def deliver(self, key: ConversationKey, replies: Sequence[Reply]) -> Delivery:
        sender = self._senders.get(key.channel)
        if sender is None:
            return Delivery.FAILED
        try:
            return Delivery.SENT if await sender(key, replies) else Delivery.FAILED
        except WindowClosed:
            log.info("%s window closed for this conversation", key.channel)
            return Delivery.CLOSED
        except Exception as exc:  # any other channel failure means the same: try again later
            log.info("could not write first to %s: %s", key.channel, type(exc).__name__)
            return Delivery.FAILED
