"""One door per messenger: what ``bot/`` knows of a channel, and the few things channels share.

A :class:`Channel` owns everything of its messenger: its web routes (a webhook, the web chat's
pages and socket), how to write first to a conversation (:meth:`Channel.push`), how the effect
runner fetches a file a citizen sent (:meth:`Channel.fetch`), its background loop
(:meth:`Channel.run`, in every worker that delivers), and what the server does for it once it
starts and before it stops (:meth:`Channel.start`, :meth:`Channel.shutdown`: register a
webhook, poll). ``bot/`` builds the configured channels from one list (bot/channels.py) and
loops over them; it names no messenger. Channels satisfy this structurally: an adapter needs
nothing from this module but the helpers it uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from fastapi import APIRouter, Request

from dialogs.model import Attachment, ConversationKey, Inbound, Reply


class WindowClosed(Exception):
    """The channel may not write first to this person until they write again (Zalo's 7-day
    window). Raised by :meth:`Channel.push`; retrying soon will not help."""


@dataclass(frozen=True, slots=True)
class Kept:
    """What :meth:`Channel.push` answers when it took the replies but nobody has read them
    yet: the web chat keeps words for a session with no page open until its next page
    (storage.webchat.KEPT_FOR_PAGE). Not a failure to try again, and not a delivery either:
    ``ref`` is the ``web_pushes`` row they wait in, whose ``taken_at`` says once a page took
    them. True, as "nothing to try again" is."""

    ref: int


class TurnOutcome(Protocol):
    """What a turn gave: its replies, and whether the message had been handled already."""

    @property
    def replies(self) -> Sequence[Reply]: ...

    @property
    def duplicate(self) -> bool: ...


class Conversations(Protocol):
    """The conversation service, as a channel's routes see it."""

    async def handle(self, inbound: Inbound) -> TurnOutcome: ...

    async def replies(self, inbound: Inbound) -> Sequence[Reply]: ...


@dataclass(frozen=True, slots=True)
class WebOptions:
    """How the deployment's web server is set up, for the channels that serve pages."""

    embed_origins: Sequence[str] = ()  # sites that may frame the web chat; none: any HTTPS site
    kiosk_idle_minutes: int = 3


class Exclusive(Protocol):
    """Something one worker of the deployment does at a time (polling a bot): a lease."""

    async def claim(self) -> str | None:
        """None when this worker holds it now; otherwise who does."""
        ...

    async def hold(
        self, work: Callable[[asyncio.Event], Awaitable[None]], stop: asyncio.Event
    ) -> None:
        """Run ``work`` while this worker keeps the lease, until ``stop``; the event ``work``
        is given is set when it must stop (the server stops, or another worker took over)."""
        ...


class Channel(Protocol):
    @property
    def name(self) -> str:
        """The ``ConversationKey.channel`` of its conversations."""
        ...

    def routes(self, conversations: Conversations, web: WebOptions) -> APIRouter | None:
        """Its HTTP routes, mounted on the deployment's one web server."""
        ...

    async def push(self, key: ConversationKey, replies: Sequence[Reply]) -> bool | Kept:
        """Write first: False when it cannot now (a file for a web session with no open
        page, a network failure), :class:`Kept` when the replies wait for the person's next
        visit; may raise :class:`WindowClosed`, or anything else for "try again later"."""
        ...

    async def fetch(self, attachment: Attachment) -> bytes:
        """The bytes of a file the citizen sent."""
        ...

    async def run(self, stop: asyncio.Event) -> None:
        """Its background loop, until ``stop``, in every worker that delivers."""
        ...

    async def start(self, stop: asyncio.Event) -> str | None:
        """What ``motcua run`` does for it before answering; what to tell the operator."""
        ...

    async def shutdown(self) -> None:
        """After ``stop`` was set: wait for what :meth:`start` began."""
        ...


async def capped_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is (or says it will be) longer than ``limit``: a
    400 MB POST is refused after reading ``limit`` bytes, not held in memory whole."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
