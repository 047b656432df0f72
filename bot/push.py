"""Writing to a citizen first: one door for every channel.

A turn answers the message that started it. Everything else the citizen receives later (the
receipt's PDF once it is drawn, draft reminders, and next the office's status notices) goes
through :class:`Push`: each channel registers how it reaches a conversation, and callers say
only whom and what. ``send`` answers False when the channel cannot deliver now (a file for a
web session with no page open, outside Zalo's window, a blocked bot, a network failure): the
caller keeps the message and tries again later. :meth:`Push.deliver` says a little more: a
sender that raises :class:`WindowClosed` (Zalo outside its 7-day window) makes it answer
``CLOSED``, so a caller can wait for the citizen rather than count a failed try; one that
answers :class:`Kept` (the web chat's words for a closed page, waiting for its next one)
makes it answer ``KEPT``: nothing to try again, but not read yet. :meth:`Push.attempt` also
says where a kept message waits, for a caller that counts what was read (announcements).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from dialogs.model import ConversationKey, Reply
from handlers.channel import Kept, WindowClosed

__all__ = ["Attempt", "Delivery", "Kept", "Push", "Sender", "WindowClosed"]

log = logging.getLogger(__name__)

Sender = Callable[[ConversationKey, Sequence[Reply]], Awaitable[bool | Kept]]


class Delivery(enum.Enum):
    SENT = "sent"
    KEPT = "kept"  # kept for the citizen's next visit: not to try again, not read yet
    FAILED = "failed"  # try again later
    CLOSED = "closed"  # the channel's window is closed: wait for the citizen


@dataclass(frozen=True, slots=True)
class Attempt:
    delivery: Delivery
    kept: int | None = None  # for KEPT: where the message waits (Kept.ref)


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
        """True when there is nothing to try again: delivered, or kept for the next visit."""
        return await self.deliver(key, replies) in (Delivery.SENT, Delivery.KEPT)

    async def deliver(self, key: ConversationKey, replies: Sequence[Reply]) -> Delivery:
        return (await self.attempt(key, replies)).delivery

    async def attempt(self, key: ConversationKey, replies: Sequence[Reply]) -> Attempt:
        sender = self._senders.get(key.channel)
        if sender is None:
            return Attempt(Delivery.FAILED)
        try:
            answer = await sender(key, replies)
        except WindowClosed:
            log.info("%s window closed for this conversation", key.channel)
            return Attempt(Delivery.CLOSED)
        except Exception as exc:  # any other channel failure means the same: try again later
            log.info("could not write first to %s: %s", key.channel, type(exc).__name__)
            return Attempt(Delivery.FAILED)
        if isinstance(answer, Kept):
            return Attempt(Delivery.KEPT, answer.ref)
        return Attempt(Delivery.SENT if answer else Delivery.FAILED)
