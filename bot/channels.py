"""The channels of a deployment, from one list: :data:`MESSENGERS`.

Each entry builds its channel from the deployment's settings and stores (or says it is not
configured), and may pace what is written first to it. Everything else of a channel (its
routes, pushing, fetching files, its background loop, what the server starts for it) is the
channel's own (handlers/channel.py), and ``bot/`` loops over :class:`Channels` for it:

- bot/app.py registers each channel's ``push`` and ``fetch`` and runs each ``run`` loop;
- bot/web.py mounts each channel's ``routes``;
- bot/runner.py calls each ``start`` and ``shutdown`` around the web server.

A new messenger is an adapter in ``handlers/`` and one entry here (with its settings section).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import NotificationSettings, Settings
from bot.pacing import Pacer
from bot.periodic import LeaseHold
from bot.zalo_inbox import ZaloInbox
from dialogs.model import ConversationKey, Inbound, Reply
from dialogs.validators import Valid, parse_phone
from handlers import webchat
from handlers.channel import Channel
from handlers.webchat import SessionIds, WebChatChannel
from handlers.zalo import ZaloChannel
from handlers.zalo_client import TokenPair, ZaloClient
from storage.conversations import ChoiceRepository, ConversationRepository
from storage.dossiers import DossierRepository
from storage.files import LocalFileStore
from storage.leases import LeaseRepository
from storage.outbox import OutboxRepository
from storage.secrets import SecretRepository
from storage.webchat import WebFiles, WebPages, WebReplies

ZALO_TOKENS = "zalo.tokens"
WEB_SESSION_KEY = "webchat_session_key"
POLL_LEASE = "telegram:poll"
POLL_HOLD = 90.0  # seconds; renewed every third of it

Handle = Callable[[Inbound], Awaitable[Sequence[Reply]]]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Wiring:
    """What a channel may be built from: the deployment's settings, stores and service."""

    settings: Settings
    stack: AsyncExitStack  # clients a channel opens are closed on it
    sessions: async_sessionmaker[AsyncSession]
    store: LocalFileStore
    handle: Handle  # a turn: the service's replies to one Inbound
    conversations: ConversationRepository
    dossiers: DossierRepository
    leases: LeaseRepository
    outbox: OutboxRepository  # this worker's: the rows it claims carry its id
    worker_id: str
    deliver: bool  # background loops run (the server, not a tool)
    clock: Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Messenger:
    name: str
    build: Callable[[Wiring], Awaitable[Channel | None]]  # None: not configured
    pacer: Callable[[NotificationSettings], Pacer] | None = None  # what is written first


class Channels:
    """The channels this deployment runs, by name, in :data:`MESSENGERS` order."""

    def __init__(self, channels: Sequence[Channel]) -> None:
        self._by_name = {channel.name: channel for channel in channels}

    def __iter__(self) -> Iterator[Channel]:
        return iter(self._by_name.values())

    def get(self, name: str) -> Channel | None:
        return self._by_name.get(name)

    def of(self, name: str, kind: type[T]) -> T:
        """The channel ``name``, known to be a ``kind`` (the web chat, a test's Telegram)."""
        channel = self._by_name.get(name)
        if not isinstance(channel, kind):
            raise LookupError(f"no {kind.__name__} channel named {name!r}")
        return channel


class StoredChoices:
    """Zalo's numbered choices in the database: a "2" typed after a restart still counts."""

    def __init__(self, choices: ChoiceRepository, channel: str) -> None:
        self._choices = choices
        self._channel = channel

    async def get(self, user_id: str) -> tuple[str, ...]:
        return await self._choices.get(self._channel, user_id)

    async def put(self, user_id: str, payloads: tuple[str, ...]) -> None:
        await self._choices.put(self._channel, user_id, payloads, datetime.now(UTC))


class StoredZaloTokens:
    """Zalo's refresh token works once and rotates on every refresh: keep the pair in the DB."""

    def __init__(self, secrets: SecretRepository, first_refresh_token: str) -> None:
        self._secrets = secrets
        self._seed = first_refresh_token

    async def get(self) -> TokenPair | None:
        raw = await self._secrets.get(ZALO_TOKENS)
        if raw:
            return TokenPair.from_json(raw)
        return TokenPair.seed(self._seed) if self._seed else None

    async def put(self, pair: TokenPair) -> None:
        await self._secrets.put(ZALO_TOKENS, pair.to_json(), datetime.now(UTC))


async def _web_chat(w: Wiring) -> Channel:
    """Always on. Session ids are signed with a key every worker reads from the database;
    ids issued before there was a key stay valid for the conversations they began. Uploads,
    reply files, open pages and resend answers are shared by every worker."""
    import secrets

    key, since = await SecretRepository(w.sessions).get_or_create(
        WEB_SESSION_KEY, lambda: secrets.token_hex(32), w.clock()
    )
    ids = SessionIds(
        bytes.fromhex(key), await w.conversations.chats_created_before(webchat.CHANNEL, since)
    )
    return WebChatChannel(
        sessions=ids,
        files=WebFiles(w.sessions, w.store),
        pages=WebPages(w.sessions, w.worker_id),
        replies=WebReplies(w.sessions),
        commune_name=w.settings.commune().name,
        public_url=w.settings.web.public_url,
        clock=w.clock,
    )


async def _telegram(w: Wiring) -> Channel | None:
    settings = w.settings.telegram
    if not settings.token:
        return None
    # aiogram builds hundreds of models on import (seconds): only when Telegram is on.
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    from handlers.telegram import TelegramChannel

    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.api_base))
    bot = Bot(settings.token, session=session)
    w.stack.push_async_callback(bot.session.close)
    webhook_url = None
    if settings.mode == "webhook":
        webhook_url = f"{w.settings.web.public_url.rstrip('/')}/telegram/webhook"
    return TelegramChannel(
        bot,
        w.handle,
        webhook_secret=settings.webhook_secret or None,
        webhook_url=webhook_url,
        # One poller per bot across the deployment: Telegram answers a second with 409.
        poller=LeaseHold(
            POLL_LEASE, leases=w.leases, owner=w.worker_id, clock=w.clock, hold=POLL_HOLD
        ),
    )


async def _zalo(w: Wiring) -> Channel | None:
    settings = w.settings.zalo
    if not settings.app_id:
        return None
    http = httpx.AsyncClient(timeout=15)
    w.stack.push_async_callback(http.aclose)
    client = ZaloClient(
        http,
        app_id=settings.app_id,
        app_secret=settings.app_secret,
        tokens=StoredZaloTokens(SecretRepository(w.sessions), settings.refresh_token),
        base_url=settings.api_base,
        oauth_url=settings.oauth_base,
        business_url=settings.business_base,
    )
    conversations, dossiers = w.conversations, w.dossiers

    async def last_interaction(user_id: str) -> datetime | None:
        stored = await conversations.load(ConversationKey("zalo", user_id, user_id))
        return stored.last_inbound_at if stored else None

    async def phone_for(user_id: str) -> str | None:
        for dossier in await dossiers.for_user("zalo", user_id):
            for value in dossier.fields.values():
                if isinstance(value, str) and isinstance(parse_phone(value), Valid):
                    return value
        return None

    zalo = ZaloChannel(
        client,
        w.handle,
        app_id=settings.app_id,
        oa_secret=settings.oa_secret,
        clock=w.clock,
        last_interaction=last_interaction,
        memory=StoredChoices(ChoiceRepository(w.sessions), "zalo"),
        template_id=settings.status_template_id,
        contact_image_url=settings.contact_image_url,
        phone_for=phone_for,
    )
    if w.deliver:
        # Answered before the turn: the event is kept until its turn is taken.
        zalo.inbox = ZaloInbox(w.outbox, zalo, w.clock)
    return zalo


MESSENGERS: tuple[Messenger, ...] = (
    Messenger("web", _web_chat),
    Messenger(
        "telegram",
        _telegram,
        lambda n: Pacer(n.telegram_per_second, n.telegram_per_chat_seconds),
    ),
    Messenger("zalo", _zalo, lambda n: Pacer(n.zalo_per_second, 0.0)),
)


async def build_channels(wiring: Wiring, messengers: Sequence[Messenger] = MESSENGERS) -> Channels:
    built = [await messenger.build(wiring) for messenger in messengers]
    return Channels([channel for channel in built if channel is not None])


def pacers(
    settings: NotificationSettings, messengers: Sequence[Messenger] = MESSENGERS
) -> dict[str, Pacer]:
    """One pacer per channel for everything written first: notices and officers' answers."""
    return {m.name: m.pacer(settings) for m in messengers if m.pacer is not None}
