"""What the console tests set up beside a running server: two communes, accounts of every
role, dossiers filed in either commune, and a way to age a session. Everything goes through
the same services the server uses, on the server's own database (another engine, as a second
worker would)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import httpx
from pwdlib import PasswordHash
from sqlalchemy import select, update

from backoffice.accounts import AccountService
from backoffice.domain import Role
from backoffice.office import OfficeService, Submission
from bot.app import build_accounts, build_office, office_store
from bot.config import CommuneSettings, Settings
from dialogs.model import ConversationKey
from knowledge.catalogue import Catalogue
from storage.accounts import AccountRepository
from storage.audit import AuditRepository
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import ConsoleSessionRow, DossierRow, OutboxRow

HOME = "10642"  # xã Thái Tân, the example's commune
OTHER = "10660"
PROCEDURE = "1.001022"
PASSWORD = "mat-khau-du-dai-2026"
T = TypeVar("T")
_HASHES: dict[str, str] = {}


def two_communes(settings: Settings) -> Settings:
    other = CommuneSettings(
        code=OTHER, name="Xã Bên Cạnh", province="Thành phố Hải Phòng", agency_code="000.00.31.H27"
    )
    return settings.model_copy(update={"communes": (*settings.communes, other)})


class Office:
    """The test's desk: accounts and dossiers written straight through the services."""

    def __init__(self, settings: Settings, catalogue: Catalogue) -> None:
        self._settings = settings
        self._catalogue = catalogue
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, upgrade(settings.database.url)).result()

    def _run(self, work: Callable[[OfficeService, AccountService, Any], Awaitable[T]]) -> T:
        async def main() -> T:
            engine = create_engine(self._settings.database.url)
            try:
                sessions = session_factory(engine)
                office = build_office(
                    self._settings, office_store(self._settings, sessions), self._catalogue
                )
                accounts = build_accounts(self._settings, sessions, AuditRepository(sessions))
                return await work(office, accounts, sessions)
            finally:
                await engine.dispose()

        # A thread of its own: Playwright's sync API keeps an event loop running in this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, main()).result()

    def user(self, name: str, role: str, commune: str, password: str = PASSWORD) -> str:
        """An account whose own password is set (the one-time password already changed)."""

        async def work(_: OfficeService, __: AccountService, sessions: Any) -> str:
            # Argon2 is slow on purpose: one hash per password for the whole run.
            hashed = _HASHES.get(password)
            if hashed is None:
                hashed = _HASHES[password] = PasswordHash.recommended().hash(password)
            repo = AccountRepository(sessions)
            account = await repo.add(name, role, commune, hashed, datetime.now(UTC))
            await repo.set_password(account.id, hashed, datetime.now(UTC), keep_session="")
            return name

        return self._run(work)

    def new_user(self, name: str, role: str, commune: str) -> str:
        """An account as ``motcua user add`` leaves it: the one-time password."""

        async def work(_: OfficeService, accounts: AccountService, __: Any) -> str:
            return (await accounts.add(name, role, commune, actor="test"))[1]

        return self._run(work)

    def file(
        self,
        commune: str = HOME,
        *,
        by_post: bool = False,
        name: str = "Nguyễn Văn An",
        id_number: str = "031075001234",
    ) -> str:
        async def work(office: OfficeService, _: AccountService, __: Any) -> str:
            receipt = await office.receive(
                Submission(
                    submission_key=uuid.uuid4().hex,
                    commune_code=commune,
                    procedure_code=PROCEDURE,
                    filer_key=ConversationKey("telegram", "chat-1", "user-1"),
                    submitted_at=datetime.now(UTC),
                    fields={"requester_name": name, "requester_id_number": id_number},
                    filer={"for_self": True, "relation": "", "name": name, "phone": "0912345678"},
                    result_delivery="post" if by_post else "counter",
                    postal_address={
                        "display": "số 5 đường Trần Phú, xã Thái Tân, Hải Phòng",
                        "phone": "0912345678",
                        "recipient": name,
                    }
                    if by_post
                    else None,
                )
            )
            return receipt.code

        return self._run(work)

    def file_many(self, count: int, commune: str = HOME) -> None:
        """``count`` dossiers at once (one engine for them all)."""

        async def work(office: OfficeService, _: AccountService, __: Any) -> None:
            for n in range(count):
                await office.receive(
                    Submission(
                        submission_key=uuid.uuid4().hex,
                        commune_code=commune,
                        procedure_code=PROCEDURE,
                        filer_key=ConversationKey("telegram", f"chat-{n}", f"user-{n}"),
                        submitted_at=datetime.now(UTC),
                        fields={"requester_name": f"Người thứ {n}"},
                        filer={"for_self": True, "relation": "", "name": f"Người thứ {n}"},
                    )
                )

        self._run(work)

    def move(self, code: str, *targets: str, item_number: str = "EE123456785VN") -> None:
        from backoffice import domain

        async def work(office: OfficeService, _: AccountService, __: Any) -> None:
            for target in targets:
                command = domain.command_for(target, item_number=item_number)
                assert not isinstance(command, domain.Refused), command
                result = await office.move(code, command, actor="test", role=Role.OFFICER)
                assert not isinstance(result, domain.Refused), result

        self._run(work)

    def status(self, code: str) -> str:
        async def work(office: OfficeService, _: AccountService, __: Any) -> str:
            view = await office.get(code)
            assert view is not None
            return view.dossier.status

        return self._run(work)

    def dossier(self, code: str) -> Any:
        async def work(office: OfficeService, _: AccountService, __: Any) -> Any:
            return await office.get(code)

        return self._run(work)

    def overdue(self, code: str, days: int = 3) -> None:
        """The dossier's due date ``days`` ago (the office's own clock cannot be turned)."""

        async def work(_: OfficeService, __: AccountService, sessions: Any) -> None:
            async with sessions.begin() as session:
                await session.execute(
                    update(DossierRow)
                    .where(DossierRow.code == code)
                    .values(due_date=date.today() - timedelta(days=days))
                )

        self._run(work)

    def age_sessions(self, by: timedelta) -> None:
        """Every session last seen ``by`` earlier: an officer who left the desk."""

        async def work(_: OfficeService, __: AccountService, sessions: Any) -> None:
            async with sessions.begin() as session:
                for row in (await session.scalars(select(ConsoleSessionRow))).all():
                    await session.execute(
                        update(ConsoleSessionRow)
                        .where(ConsoleSessionRow.token_hash == row.token_hash)
                        .values(last_seen_at=row.last_seen_at - by)
                    )

        self._run(work)

    def outbox_topics(self) -> list[str]:
        async def work(_: OfficeService, __: AccountService, sessions: Any) -> list[str]:
            async with sessions() as session:
                return list(await session.scalars(select(OutboxRow.topic)))

        return self._run(work)

    def handoff(
        self, commune: str = HOME, chat: str = "chat-1", said: str = "Cho tôi gặp cán bộ"
    ) -> int:
        """A citizen on Telegram who pressed «Gặp cán bộ» (as the conversation's save writes
        it); the hand-over's id."""
        from storage.handoffs import HandoffRepository, Thread, write_thread

        key = ConversationKey("telegram", chat, chat)

        async def work(_: OfficeService, __: AccountService, sessions: Any) -> int:
            async with sessions.begin() as session:
                await write_thread(
                    session,
                    [(key, commune, datetime.now(UTC), Thread(((("citizen", said)),), "open"))],
                )
            found = await HandoffRepository(sessions).open_for(key)
            assert found is not None
            return found.id

        return self._run(work)

    def audit(self, target: str) -> list[str]:
        async def work(_: OfficeService, __: AccountService, sessions: Any) -> list[str]:
            return [e.action for e in await AuditRepository(sessions).for_target(target)]

        return self._run(work)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/console/login")
    return client.post(
        "/console/login",
        data={"csrf": csrf_of(form.text), "name": name, "password": password},
    )


@contextmanager
def signed_in(base_url: str, name: str, password: str = PASSWORD) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        answer = login(client, name, password)
        assert answer.status_code == 303, answer.text
        yield client
