"""Console accounts, sessions and login attempts on every backend, as two workers share them:
each "worker" has its own engine on the same database and nothing in memory in common."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from backoffice.accounts import AccountError, AccountService, LoginLimits, SignedIn
from storage.accounts import AccountRepository
from storage.audit import AuditRepository
from storage.db import create_engine, session_factory

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def slept() -> list[float]:
    """The slowdowns the login waited out (seconds), instead of sleeping in the test."""
    return []


@pytest.fixture
async def workers(
    database_url: str, clock: Clock, slept: list[float]
) -> AsyncIterator[list[AccountService]]:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    engines = [create_engine(database_url) for _ in range(2)]
    try:
        services = []
        for engine in engines:
            sessions = session_factory(engine)
            services.append(
                AccountService(
                    AccountRepository(sessions),
                    AuditRepository(sessions),
                    communes=("10642",),
                    idle=timedelta(minutes=30),
                    limits=LoginLimits(window=timedelta(minutes=15), per_account=3, per_address=5),
                    clock=clock,
                    sleep=sleep,
                )
            )
        yield services
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_session_opened_on_one_worker_is_known_to_the_other(
    workers: list[AccountService], clock: Clock
) -> None:
    one, two = workers
    account, once = await one.add("Lan", "officer", "10642", actor="test")
    assert account.name == "lan" and account.must_change_password and len(once) == 12
    assert "argon2" in account.password_hash and once not in account.password_hash
    signed = await two.login("lan", once, "10.0.0.1")
    assert isinstance(signed, SignedIn)
    seen = await one.session(signed.token)
    assert seen is not None and seen.csrf_token == signed.csrf
    await two.change_password(seen, once, "mat-khau-rieng-2026")
    assert (await one.session(signed.token)) is not None  # the session that changed it stays
    assert await two.login("lan", once, "10.0.0.1") == "wrong"

    clock.now += timedelta(minutes=31)
    assert await two.session(signed.token) is None  # idle too long, on any worker
    assert await one.session(signed.token) is None


async def test_failed_logins_count_across_workers_per_account_and_per_address(
    workers: list[AccountService], slept: list[float]
) -> None:
    one, two = workers
    _, once = await one.add("lan", "officer", "10642", actor="test")
    _, other = await one.add("hoa", "leader", "*", actor="test")
    for worker in (one, two, one):
        assert await worker.login("lan", "sai", "10.0.0.1") == "wrong"
    # The guesser's address is locked for this account, on every worker...
    assert await two.login("lan", once, "10.0.0.1") == "limited"
    # ...but the officer at their own desk is not locked out: only slowed down.
    assert slept == []
    assert isinstance(await two.login("lan", once, "10.0.0.2"), SignedIn)
    assert slept == [1.0]
    assert isinstance(await two.login("hoa", other, "10.0.0.1"), SignedIn)
    for name in ("x", "y"):
        assert await one.login(name, "sai", "10.0.0.1") == "wrong"
    assert await two.login("hoa", other, "10.0.0.1") == "limited"  # the address, any name
    assert isinstance(await two.login("hoa", other, "10.0.0.3"), SignedIn)


async def test_guessing_one_account_from_many_addresses_slows_it_down_and_never_locks_it(
    workers: list[AccountService], slept: list[float]
) -> None:
    one, two = workers
    _, once = await one.add("lan", "officer", "10642", actor="test")
    for n in range(12):  # twelve addresses, one wrong try each: no address is locked
        assert await (one, two)[n % 2].login("lan", "sai", f"10.0.1.{n}") == "wrong"
    # Past the account's 3 failures, each try waits one second more, at most ten.
    assert slept == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    signed = await one.login("lan", once, "10.0.0.9")
    assert isinstance(signed, SignedIn) and slept[-1] == 10.0  # 12 failures: the cap
    for n in range(3):
        await one.login("lan", "sai", f"10.0.1.{n + 20}")
    assert slept[-3:] == [10.0, 10.0, 10.0]


async def test_a_disabled_account_loses_its_sessions_and_cannot_sign_in(
    workers: list[AccountService],
) -> None:
    one, two = workers
    _, once = await one.add("lan", "officer", "10642", actor="test")
    signed = await one.login("lan", once, "10.0.0.1")
    assert isinstance(signed, SignedIn)
    assert await two.disable("lan", actor="admin")
    assert await one.session(signed.token) is None
    assert await one.login("lan", once, "10.0.0.1") == "disabled"
    assert not await two.disable("nobody", actor="admin")


async def test_bad_names_roles_communes_and_passwords_are_refused(
    workers: list[AccountService],
) -> None:
    one, _ = workers
    for name, role, commune in (
        ("a", "officer", "10642"),
        ("lan phuong", "officer", "10642"),
        ("lan", "citizen", "10642"),
        ("lan", "officer", "99999"),
    ):
        with pytest.raises(AccountError):
            await one.add(name, role, commune, actor="test")
    await one.add("lan", "admin", "*", actor="test")
    with pytest.raises(AccountError):
        await one.add("LAN", "officer", "10642", actor="test")
    _, once = await one.add("hoa", "officer", "10642", actor="test")
    signed = await one.login("hoa", once, "10.0.0.1")
    assert isinstance(signed, SignedIn)
    session = await one.session(signed.token)
    assert session is not None
    for new in ("ngan", "hoa-mat-khau-dai", once):
        with pytest.raises(AccountError):
            await one.change_password(session, once, new)
    with pytest.raises(AccountError):
        await one.change_password(session, "not the password", "mot-mat-khau-dai")
