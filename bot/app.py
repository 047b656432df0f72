"""The composition root: everything is built here and passed by constructor; no global state."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backoffice.accounts import AccountService, LoginLimits
from backoffice.calendar import WorkCalendar
from backoffice.client import BackOfficeClient, HttpBackOffice, InProcessBackOffice
from backoffice.dashboard import Dashboard
from backoffice.office import OfficeService
from bot.announcements import ANNOUNCE_CHANNELS, AnnouncementEffects, AnnouncementMaker
from bot.channels import MESSENGERS, Channels, Messenger, Wiring, build_channels, pacers
from bot.config import CommuneSettings, Settings
from bot.dialog import build_dialog
from bot.effects import AttachmentFetcher, Effects, fetch_local_file
from bot.flood import SharedFloodGate
from bot.handoffs import HandoffMaker, IdleHandoffs
from bot.housekeeping import Housekeeping
from bot.leaders import LeaderDesk, WithLeaders
from bot.notices import NoticeMaker
from bot.notifier import Notifier
from bot.office_hours import OfficerHours
from bot.pacing import QuietHours
from bot.periodic import keep_lease, process_alive, run_claimed, sweep_orphans
from bot.push import Push
from bot.receipts import ReceiptCourier, ReceiptMaker, drawing_pool
from bot.reminders import DraftReminders
from bot.service import ConversationService
from bot.volunteers import VolunteerEffects
from dialogs.addresses import AddressBook
from dialogs.context import CommuneFacts, Context
from handlers.webchat import SessionIds, WebChatChannel
from knowledge.catalogue import Catalogue, load_catalogue
from knowledge.dossier_code import format_code
from knowledge.search import Searcher
from storage.accounts import AccountRepository
from storage.announcements import AnnouncementRepository
from storage.attachments import FileRepository
from storage.audit import AuditRepository
from storage.conversations import ConversationRepository
from storage.db import create_engine, session_factory
from storage.dossiers import DossierRepository
from storage.files import LocalFileStore
from storage.flood import FloodCounts
from storage.handoffs import HandoffRepository
from storage.leaders import LeaderChatRepository
from storage.leases import WORKER_LEASE_PREFIX, LeaseRepository
from storage.orphans import OrphanFiles
from storage.outbox import OutboxRepository, announce_topic, handoff_topic
from storage.stats import StatsRepository
from storage.volunteers import VolunteerRepository


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


log = logging.getLogger(__name__)

WORKER_HOLD = 30.0  # seconds a worker's alive-lease lasts; renewed every third of it
# An announcement Zalo may not deliver yet (the citizen's 7-day window closed) waits this long
# for the citizen to write, then is parked: next week's news is no longer news.
ANNOUNCEMENT_HOLD = timedelta(days=7)


def build_office(
    settings: Settings, dossiers: DossierRepository, catalogue: Catalogue
) -> OfficeService:
    """The embedded office: the same in the server, the terminal chat and ``motcua office``."""

    def agency_for(commune_code: str) -> str:
        commune = settings.commune(commune_code)
        return commune.agency_code or f"000.00.{settings.deployment.province_code}.H00"

    return OfficeService(
        dossiers,
        catalogue=catalogue,
        calendar=WorkCalendar(settings.calendar.extra_days_off, settings.calendar.make_up_days),
        timezone=ZoneInfo(settings.deployment.timezone),
        agency_for=agency_for,
    )


def build_accounts(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], audit: AuditRepository
) -> AccountService:
    """The console's accounts and sessions: the same in the server and ``motcua user``."""
    console = settings.console
    return AccountService(
        AccountRepository(sessions),
        audit,
        communes=tuple(c.code for c in settings.communes),
        idle=timedelta(minutes=console.session_minutes),
        limits=LoginLimits(
            window=timedelta(minutes=console.login_window_minutes),
            per_account=console.max_failures_per_account,
            per_address=console.max_failures_per_address,
        ),
    )


def build_dashboard(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], catalogue: Catalogue
) -> Dashboard:
    """The leaders' figures: the same in the console, the chat's /thongke and the bench."""
    zone = ZoneInfo(settings.deployment.timezone)

    def name_of(code: str) -> str:
        procedure = catalogue.get(code)
        return procedure.name if procedure is not None else code

    return Dashboard(
        StatsRepository(sessions, zone),
        calendar=WorkCalendar(settings.calendar.extra_days_off, settings.calendar.make_up_days),
        timezone=zone,
        procedure_names=name_of,
    )


def office_store(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> DossierRepository:
    return DossierRepository(
        sessions, timezone=ZoneInfo(settings.deployment.timezone), code_format=format_code
    )


@dataclass(frozen=True, slots=True)
class App:
    settings: Settings
    engine: AsyncEngine
    knowledge: Knowledge
    conversations: ConversationRepository
    dossiers: DossierRepository
    files: FileRepository
    audit: AuditRepository
    store: LocalFileStore
    office: OfficeService
    accounts: AccountService
    dashboard: Dashboard
    leader_chats: LeaderChatRepository
    client: BackOfficeClient
    fetchers: dict[str, AttachmentFetcher]
    effects: Effects
    service: ConversationService
    channels: Channels
    leases: LeaseRepository
    worker_id: str
    reminders: DraftReminders
    push: Push
    receipts: ReceiptCourier
    notifier: Notifier
    handoffs: HandoffRepository
    handoff_courier: Notifier
    idle_handoffs: IdleHandoffs
    volunteers: VolunteerRepository
    announcements: AnnouncementRepository
    announce_courier: Notifier
    addresses: AddressBook  # the unit list, built once (it takes a second): dialogs and papers

    @property
    def webchat(self) -> WebChatChannel:
        """The web chat, always on (its uploads, sessions and pages, for tools and tests)."""
        return self.channels.of("web", WebChatChannel)

    @property
    def web_sessions(self) -> SessionIds:
        return self.webchat.sessions


@asynccontextmanager
async def build_app(
    settings: Settings,
    knowledge: Knowledge | None = None,
    *,
    deliver: bool = True,
    messengers: Sequence[Messenger] = MESSENGERS,
) -> AsyncIterator[App]:
    """Build everything; with ``deliver`` the outbox worker runs in the background.
    ``messengers``: the channels it may build (bot/channels.py)."""
    know = knowledge or load_knowledge()
    facts = {c.code: commune_facts(c) for c in settings.communes}

    addresses = AddressBook.from_package()
    draft_ttl = timedelta(days=settings.drafts.expire_days)
    remind_before = timedelta(days=settings.drafts.remind_days_before)
    zone = ZoneInfo(settings.deployment.timezone)
    officer_hours = OfficerHours(
        WorkCalendar(
            settings.calendar.extra_days_off, settings.calendar.make_up_days, timezone=zone
        ),
        settings.calendar.officer_spans(),
        zone,
    )
    handoff_idle = timedelta(minutes=settings.console.handoff_idle_minutes)

    def context_for(commune_code: str, now: datetime) -> Context:
        commune = facts.get(commune_code) or facts[settings.deployment.default_commune]
        return Context(
            now=now,
            commune=commune,
            catalogue=know.catalogue,
            search=know.search,
            draft_ttl=draft_ttl,
            remind_before=remind_before,
            addresses=addresses,
            officers_from=officer_hours.officers_from,
            handoff_idle=handoff_idle,
        )

    async with AsyncExitStack() as stack:
        engine = create_engine(settings.database.url)
        stack.push_async_callback(engine.dispose)
        sessions = session_factory(engine)
        conversations = ConversationRepository(sessions)
        dossiers = office_store(settings, sessions)
        files = FileRepository(sessions)
        leases = LeaseRepository(sessions)
        # This process among the deployment's workers: who holds a lease.
        worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        audit = AuditRepository(sessions)
        store = LocalFileStore(settings.files.path)
        # Each channel adds its own fetcher once it is built (bot/channels.py).
        fetchers: dict[str, AttachmentFetcher] = {"terminal": fetch_local_file}
        office = build_office(settings, dossiers, know.catalogue)
        accounts = build_accounts(settings, sessions, audit)
        client: BackOfficeClient
        if settings.backoffice.url:
            http_client = HttpBackOffice(
                settings.backoffice.url,
                settings.backoffice.token or None,
                timeout=settings.backoffice.timeout,
            )
            stack.push_async_callback(http_client.aclose)
            client = http_client
        else:
            client = InProcessBackOffice(office)
        push = Push()
        # The outbox rows this process claims carry its id: if it dies, they come back at once.
        outbox = OutboxRepository(sessions, owner=worker_id)
        drawing = drawing_pool(settings)
        stack.callback(drawing.shutdown, wait=True, cancel_futures=True)
        receipts = ReceiptCourier(
            outbox,
            dossiers,
            ReceiptMaker(settings, know.catalogue, addresses, files=files, pool=drawing),
            push,
            lambda: datetime.now(UTC),
        )

        def wake_couriers() -> None:
            receipts.poke()

        volunteers = VolunteerRepository(sessions)
        volunteer_effects = VolunteerEffects(
            volunteers=volunteers,
            dossiers=dossiers,
            files=files,
            store=store,
            audit=audit,
            catalogue=know.catalogue,
            clock=lambda: datetime.now(UTC),
            hotline=lambda: settings.commune().hotline,
            wake=wake_couriers,
            timezone=ZoneInfo(settings.deployment.timezone),
        )
        announcements = AnnouncementRepository(sessions)
        commune_names = {c.code: c.name for c in settings.communes}
        # Counted in the database: a burst spread over several workers is one burst.
        flood_counts = FloodCounts(sessions, timedelta(seconds=settings.flood.window_seconds))
        effects = Effects(
            settings=settings,
            catalogue=know.catalogue,
            office=client,
            dossiers=dossiers,
            files=files,
            audit=audit,
            store=store,
            fetchers=fetchers,
            wake_couriers=wake_couriers,
            clock=lambda: datetime.now(UTC),
            volunteers=volunteer_effects,
            announcements=AnnouncementEffects(
                announcements,
                commune_names=commune_names,
                clock=lambda: datetime.now(UTC),
                channels=ANNOUNCE_CHANNELS,
            ),
        )
        dashboard = build_dashboard(settings, sessions, know.catalogue)
        leader_chats = LeaderChatRepository(sessions)
        leader_desk = LeaderDesk(
            leader_chats,
            dashboard,
            commune_names={c.code: c.name for c in settings.communes},
            clock=lambda: datetime.now(UTC),
        )
        service = ConversationService(
            dialog=build_dialog(),
            store=conversations,
            context_for=context_for,
            default_commune=settings.deployment.default_commune,
            run_effect=WithLeaders(effects, leader_desk),
            flood=SharedFloodGate(flood_counts, settings.flood.messages),
        )
        channels = await build_channels(
            Wiring(
                settings=settings,
                stack=stack,
                sessions=sessions,
                store=store,
                handle=service.replies,
                conversations=conversations,
                dossiers=dossiers,
                leases=leases,
                outbox=outbox,
                worker_id=worker_id,
                deliver=deliver,
                clock=lambda: datetime.now(UTC),
            ),
            messengers,
        )
        for channel in channels:
            push.register(channel.name, channel.push)
            fetchers[channel.name] = channel.fetch
        notify = settings.notifications
        # One pacer per channel for everything written first: notices and officers' answers.
        pacers_by_channel = pacers(notify)
        quiet = QuietHours(
            notify.quiet_start, notify.quiet_end, ZoneInfo(settings.deployment.timezone)
        )
        notifier = Notifier(
            outbox,
            NoticeMaker(dossiers, know.catalogue, service, settings.payment).prepare,
            push,
            pacers_by_channel,
            quiet,
            lambda: datetime.now(UTC),
            max_attempts=notify.max_attempts,
        )
        # Announcements: the notices' quiet hours, pacers, claims and retries.
        announce_courier = Notifier(
            outbox,
            AnnouncementMaker(announcements, commune_names).prepare,
            push,
            pacers_by_channel,
            quiet,
            lambda: datetime.now(UTC),
            max_attempts=notify.max_attempts,
            hold_for=ANNOUNCEMENT_HOLD,
            topic=announce_topic,
        )
        handoffs = HandoffRepository(sessions)
        # An officer answering now is not a notice to hold until the morning.
        never_quiet = QuietHours(time(0, 0), time(0, 0), zone)
        handoff_courier = Notifier(
            outbox,
            HandoffMaker(handoffs, service).prepare,
            push,
            pacers_by_channel,
            never_quiet,
            lambda: datetime.now(UTC),
            max_attempts=notify.max_attempts,
            topic=handoff_topic,
            poll_interval=0.5,
        )
        idle_handoffs = IdleHandoffs(
            handoffs, handoff_idle, lambda: datetime.now(UTC), wake=handoff_courier.poke
        )
        reminders = DraftReminders(
            conversations,
            service,
            push.send,
            draft_ttl=draft_ttl,
            remind_before=remind_before,
            clock=lambda: datetime.now(UTC),
        )
        if deliver:
            stop = asyncio.Event()
            housekeeping = Housekeeping(
                conversations,
                outbox,
                lambda: datetime.now(UTC),
                files=OrphanFiles(sessions, store),
                sweeps=(
                    accounts.sweep,
                    lambda: handoffs.trim(datetime.now(UTC)),
                    lambda: flood_counts.sweep(datetime.now(UTC)),
                ),
            )
            # Alive while it runs; a dead one's claimed rows are released at once.
            await leases.forget_dead_workers(socket.gethostname(), process_alive)
            alive = WORKER_LEASE_PREFIX + worker_id
            hold = timedelta(seconds=WORKER_HOLD)
            await leases.claim(alive, worker_id, datetime.now(UTC), hold)
            await outbox.release_orphans(datetime.now(UTC))

            def claimed(
                name: str, job: Callable[[], Awaitable[object]], interval: float = 3600.0
            ) -> asyncio.Task[None]:
                # One worker of the deployment runs each periodic job each round.
                running = run_claimed(
                    name,
                    job,
                    stop,
                    leases=leases,
                    owner=worker_id,
                    clock=lambda: datetime.now(UTC),
                    interval=interval,
                )
                return asyncio.create_task(running, name=name)

            workers = [
                asyncio.create_task(receipts.run(stop), name="receipts"),
                asyncio.create_task(notifier.run(stop), name="notifier"),
                asyncio.create_task(handoff_courier.run(stop), name="handoffs"),
                asyncio.create_task(announce_courier.run(stop), name="announcements"),
                *(asyncio.create_task(c.run(stop), name=c.name) for c in channels),
                claimed("housekeeping", housekeeping.run_once),
                claimed("draft-reminders", reminders.run_once),
                claimed("handoff-idle", idle_handoffs.run_once, interval=30.0),
                asyncio.create_task(
                    keep_lease(
                        alive,
                        leases=leases,
                        owner=worker_id,
                        clock=lambda: datetime.now(UTC),
                        hold=WORKER_HOLD,
                        stop=stop,
                        lost=asyncio.Event(),
                    ),
                    name="alive",
                ),
                asyncio.create_task(
                    sweep_orphans(outbox, stop, lambda: datetime.now(UTC)), name="orphans"
                ),
            ]

            async def stop_workers() -> None:
                stop.set()
                await asyncio.gather(*workers)

            stack.push_async_callback(stop_workers)
        yield App(
            settings=settings,
            engine=engine,
            knowledge=know,
            conversations=conversations,
            dossiers=dossiers,
            files=files,
            audit=audit,
            store=store,
            office=office,
            accounts=accounts,
            dashboard=dashboard,
            leader_chats=leader_chats,
            client=client,
            fetchers=fetchers,
            effects=effects,
            service=service,
            channels=channels,
            reminders=reminders,
            leases=leases,
            worker_id=worker_id,
            push=push,
            receipts=receipts,
            notifier=notifier,
            handoffs=handoffs,
            handoff_courier=handoff_courier,
            idle_handoffs=idle_handoffs,
            volunteers=volunteers,
            announcements=announcements,
            announce_courier=announce_courier,
            addresses=addresses,
        )
