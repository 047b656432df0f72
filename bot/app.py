"""The composition root: everything is built here and passed by constructor; no global state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from bot.config import CommuneSettings, Settings
from bot.service import ConversationService
from dialogs.context import CommuneFacts, Context
from knowledge.catalogue import Catalogue, load_catalogue
from knowledge.search import Searcher
from storage.db import create_engine, session_factory
from storage.repositories import ConversationRepository


def commune_facts(commune: CommuneSettings) -> CommuneFacts:
    return CommuneFacts(
        code=commune.code,
        name=commune.name,
        province=commune.province,
        address=commune.address,
        office_hours=commune.office_hours,
        hotline=commune.hotline,
        email=commune.email,
    )


@dataclass(frozen=True, slots=True)
class Knowledge:
    catalogue: Catalogue
    search: Searcher


def load_knowledge() -> Knowledge:
    catalogue = load_catalogue()
    return Knowledge(catalogue=catalogue, search=Searcher(catalogue))


@dataclass(frozen=True, slots=True)
class App:
    settings: Settings
    knowledge: Knowledge
    conversations: ConversationRepository
    service: ConversationService


@asynccontextmanager
async def build_app(settings: Settings, knowledge: Knowledge | None = None) -> AsyncIterator[App]:
    know = knowledge or load_knowledge()
    facts = {c.code: commune_facts(c) for c in settings.communes}

    def context_for(commune_code: str, now: datetime) -> Context:
        commune = facts.get(commune_code) or facts[settings.deployment.default_commune]
        return Context(now=now, commune=commune, catalogue=know.catalogue, search=know.search)

    async with AsyncExitStack() as stack:
        engine = create_engine(settings.database.url)
        stack.push_async_callback(engine.dispose)
        sessions = session_factory(engine)
        conversations = ConversationRepository(sessions)
        service = ConversationService(
            store=conversations,
            context_for=context_for,
            default_commune=settings.deployment.default_commune,
        )
        yield App(settings=settings, knowledge=know, conversations=conversations, service=service)
