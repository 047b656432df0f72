"""Messenger channels, built only when their settings are present: Telegram, Zalo OA."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from bot.config import Settings
from bot.effects import AttachmentFetcher
from dialogs.model import ConversationKey, Inbound, Reply
from dialogs.validators import Valid, parse_phone
from handlers.zalo import ZaloChannel
from handlers.zalo_client import TokenPair, ZaloClient
from storage.conversations import ChoiceRepository, ConversationRepository
from storage.dossiers import DossierRepository
from storage.secrets import SecretRepository

if TYPE_CHECKING:
    from handlers.telegram import TelegramChannel

ZALO_TOKENS = "zalo.tokens"

Handle = Callable[[Inbound], Awaitable[Sequence[Reply]]]


@dataclass(frozen=True, slots=True)
class Channels:
    telegram: TelegramChannel | None = None
    zalo: ZaloChannel | None = None


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


async def build_channels(
    settings: Settings,
    stack: AsyncExitStack,
    handle: Handle,
    fetchers: dict[str, AttachmentFetcher],
    conversations: ConversationRepository,
    dossiers: DossierRepository,
    secrets: SecretRepository,
    choices: ChoiceRepository,
) -> Channels:
    telegram: TelegramChannel | None = None
    if settings.telegram.token:
        # aiogram builds hundreds of models on import (seconds): only when Telegram is on.
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        from handlers.telegram import TelegramChannel, fetch_file

        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram.api_base))
        bot = Bot(settings.telegram.token, session=session)
        stack.push_async_callback(bot.session.close)
        fetchers["telegram"] = functools.partial(fetch_file, bot)
        telegram = TelegramChannel(
            bot, handle, webhook_secret=settings.telegram.webhook_secret or None
        )

    zalo: ZaloChannel | None = None
    if settings.zalo.app_id:
        http = httpx.AsyncClient(timeout=15)
        stack.push_async_callback(http.aclose)
        client = ZaloClient(
            http,
            app_id=settings.zalo.app_id,
            app_secret=settings.zalo.app_secret,
            tokens=StoredZaloTokens(secrets, settings.zalo.refresh_token),
            base_url=settings.zalo.api_base,
            oauth_url=settings.zalo.oauth_base,
            business_url=settings.zalo.business_base,
        )

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
            handle,
            app_id=settings.zalo.app_id,
            oa_secret=settings.zalo.oa_secret,
            clock=lambda: datetime.now(UTC),
            last_interaction=last_interaction,
            memory=StoredChoices(choices, "zalo"),
            template_id=settings.zalo.status_template_id,
            contact_image_url=settings.zalo.contact_image_url,
            phone_for=phone_for,
        )
        fetchers["zalo"] = zalo.fetch
    return Channels(telegram=telegram, zalo=zalo)
