"""Who may use the officer console, and how they sign in.

Accounts have a role (officer, postal clerk, leader, admin) and a commune (a 5-digit unit code,
or ``*`` for the whole province). Passwords are hashed with argon2 through pwdlib, never by
hand; a new account gets a one-time password that must be changed at first login.

Sessions, CSRF tokens and the failed attempts that rate-limit guessing are all in the database,
so any worker can check a cookie another worker gave out, and a guesser gains nothing by
being spread over workers. The cookie holds 256 random bits; the database holds their
SHA-256, so a copy of the database signs no one in.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pwdlib import PasswordHash

from backoffice.domain import Role
from storage.accounts import Account, AccountExistsError, AccountRepository, ConsoleSession
from storage.audit import AuditRepository

log = logging.getLogger(__name__)

CONSOLE_ROLES: tuple[Role, ...] = (Role.OFFICER, Role.POSTAL_CLERK, Role.LEADER, Role.ADMIN)
PROVINCE = "*"
MIN_PASSWORD = 10
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
# An unknown name is checked against this, so that it costs as long as a wrong password and
# the answer's timing does not tell which names exist.
_DUMMY_PASSWORD = "motcua-no-such-account"


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """Failed logins counted over ``window``.

    The lock is per account *and* address (``per_account`` failures of one name from one
    address) and per address (``per_address`` failures on any names): someone guessing from
    one place is stopped, but nobody can lock an officer out from elsewhere by typing their
    name with wrong passwords. Failures of one account from all addresses beyond
    ``per_account`` only slow that account's next tries down (``slowdown`` per failure more,
    at most ``max_slowdown``), so guessing from many addresses crawls while the officer,
    whose own address is not locked, still signs in a few seconds later."""

    window: timedelta = timedelta(minutes=15)
    per_account: int = 5
    per_address: int = 20
    slowdown: timedelta = timedelta(seconds=1)
    max_slowdown: timedelta = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session the browser holds: ``token`` goes in the cookie, ``csrf`` in every form."""

    token: str
    csrf: str
    account: Account


LoginFailure = Literal["wrong", "limited", "disabled"]


class AccountError(ValueError):
    """A bad name, role, commune or password, worded for the person at the terminal."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def one_time_password() -> str:
    # 12 characters from an alphabet without look-alikes (0/O, 1/l/I): read aloud or copied.
    alphabet = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def check_name(name: str) -> str:
    cleaned = name.strip().lower()
    if not (2 <= len(cleaned) <= 64) or not set(cleaned) <= NAME_CHARS:
        raise AccountError(
            "tên đăng nhập: 2-64 ký tự a-z, 0-9, dấu chấm, gạch nối hoặc gạch dưới "
            "(login name: 2-64 of a-z 0-9 . _ -)"
        )
    return cleaned


def check_password(password: str, name: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")
    if name.lower() in password.lower():
        raise AccountError("Mật khẩu không được chứa tên đăng nhập.")


class AccountService:
    def __init__(
        self,
        repository: AccountRepository,
        audit: AuditRepository,
        *,
        communes: tuple[str, ...],
        idle: timedelta,
        limits: LoginLimits = LoginLimits(),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        hasher: PasswordHash | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._repo = repository
        self._audit = audit
        self._communes = communes
        self._idle = idle
        self._limits = limits
        self._clock = clock
        self._hasher = hasher or PasswordHash.recommended()
        self._sleep = sleep
        self._dummy_hash: str | None = None

    @property
    def idle(self) -> timedelta:
        return self._idle

    # --- accounts (the CLI) -----------------------------------------------------------------

    async def add(self, name: str, role: str, commune: str, *, actor: str) -> tuple[Account, str]:
        """A new account and its one-time password (to be changed at first login)."""
        name = check_name(name)
        try:
            the_role = Role(role)
        except ValueError:
            the_role = None
        if the_role not in CONSOLE_ROLES:
            raise AccountError(
                "vai trò / role: one of " + ", ".join(r.value for r in CONSOLE_ROLES)
            )
        assert the_role is not None
        if commune != PROVINCE and commune not in self._communes:
            raise AccountError(
                f"xã / commune: {commune!r} is not served here; one of "
                + ", ".join((*self._communes, PROVINCE))
            )
        password = one_time_password()
        hashed = await self._hash(password)
        try:
            account = await self._repo.add(name, the_role.value, commune, hashed, self._clock())
        except AccountExistsError as exc:
            raise AccountError(f"tài khoản {name!r} đã có / the account exists") from exc
        await self._audit.record(
            actor,
            "console:user_added",
            f"user:{name}",
            {"role": the_role.value, "commune_code": commune},
            self._clock(),
        )
        return account, password

    async def list(self) -> list[Account]:
        return await self._repo.list()

    async def disable(self, name: str, *, actor: str) -> bool:
        found = await self._repo.disable(name.strip().lower(), self._clock())
        if found:
            await self._audit.record(
                actor, "console:user_disabled", f"user:{name}", {}, self._clock()
            )
        return found

    async def enable(self, name: str, *, actor: str) -> bool:
        found = await self._repo.enable(name.strip().lower())
        if found:
            await self._audit.record(
                actor, "console:user_enabled", f"user:{name}", {}, self._clock()
            )
        return found

    async def reset_password(self, name: str, *, actor: str) -> str | None:
        """A new one-time password for the account (its sessions end); None: no account."""
        password = one_time_password()
        if not await self._repo.reset_password(
            name.strip().lower(), await self._hash(password), self._clock()
        ):
            return None
        await self._audit.record(actor, "console:password_reset", f"user:{name}", {}, self._clock())
        return password

    # --- signing in -------------------------------------------------------------------------

    async def login(self, name: str, password: str, address: str) -> SignedIn | LoginFailure:
        now = self._clock()
        account_name = name.strip().lower()[:64]
        limits = self._limits
        since = now - limits.window
        if (
            await self._repo.failures(since, account=account_name, address=address)
            >= limits.per_account
            or await self._repo.failures(since, address=address) >= limits.per_address
        ):
            await self._audit.record(
                account_name or "?", "console:login_limited", "console", {}, now
            )
            return "limited"
        # From everywhere: a slowdown, never a lock (see LoginLimits).
        beyond = await self._repo.failures(since, account=account_name) - limits.per_account + 1
        if beyond > 0:
            wait = min(limits.slowdown * beyond, limits.max_slowdown)
            await self._audit.record(
                account_name or "?",
                "console:login_slowed",
                "console",
                {"seconds": wait.total_seconds()},
                now,
            )
            await self._sleep(wait.total_seconds())
        account = await self._repo.by_name(account_name)
        rehashed: str | None = None
        if account is None:
            await self._verify(password, await self._dummy())
            ok = False
        else:
            ok, rehashed = await self._verify_and_update(password, account.password_hash)
        await self._repo.record_attempt(account_name, address, ok, now)
        if not ok or account is None:
            await self._audit.record(
                account_name or "?", "console:login_failed", "console", {}, now
            )
            return "wrong"
        if not account.active:
            await self._audit.record(account.name, "console:login_disabled", "console", {}, now)
            return "disabled"
        if rehashed is not None:
            await self._repo.rehash(account.id, rehashed)
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        await self._repo.open_session(token_hash(token), account.id, csrf, now)
        await self._audit.record(
            account.name,
            "console:login",
            "console",
            {"role": account.role, "commune_code": account.commune_code},
            now,
        )
        return SignedIn(token=token, csrf=csrf, account=account)

    async def session(self, token: str, *, touch: bool = True) -> ConsoleSession | None:
        """The live session the cookie names, its last-seen time moved on; None (and the row
        gone) once idle longer than the timeout or when the account was disabled.

        ``touch=False`` for a page's own polling (the live inbox): an open page left alone
        does not keep its session alive."""
        if not token or len(token) > 128:
            return None
        digest = token_hash(token)
        found = await self._repo.session(digest)
        if found is None:
            return None
        now = self._clock()
        if now - found.last_seen_at > self._idle or not found.account.active:
            await self._repo.close_session(digest)
            await self._audit.record(
                found.account.name, "console:session_expired", "console", {}, now
            )
            return None
        # One write a minute is enough to keep a busy session alive.
        if touch and now - found.last_seen_at > timedelta(seconds=60):
            await self._repo.touch(digest, now)
        return found

    async def logout(self, session: ConsoleSession) -> None:
        await self._repo.close_session(session.token_hash)
        await self._audit.record(
            session.account.name, "console:logout", "console", {}, self._clock()
        )

    async def change_password(self, session: ConsoleSession, current: str, new: str) -> None:
        """Raises AccountError when the current password is wrong or the new one too weak."""
        account = session.account
        if not await self._verify(current, account.password_hash):
            raise AccountError("Mật khẩu hiện tại không đúng.")
        check_password(new, account.name)
        if new == current:
            raise AccountError("Mật khẩu mới phải khác mật khẩu cũ.")
        await self._repo.set_password(
            account.id, await self._hash(new), self._clock(), keep_session=session.token_hash
        )
        await self._audit.record(
            account.name, "console:password_changed", "console", {}, self._clock()
        )

    async def sweep(self) -> None:
        """Forget idle sessions and day-old attempts (the table would only grow otherwise)."""
        now = self._clock()
        await self._repo.expire_sessions(now - self._idle)
        await self._repo.forget_attempts(now - timedelta(days=1))

    # --- hashing, off the event loop (argon2 is meant to be slow) -----------------------------

    async def _hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def _verify(self, password: str, hashed: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, password, hashed)
        except Exception:  # a malformed stored hash is a wrong password, not a crash
            log.warning("an account's password hash could not be read")
            return False

    async def _verify_and_update(self, password: str, hashed: str) -> tuple[bool, str | None]:
        try:
            return await asyncio.to_thread(self._hasher.verify_and_update, password, hashed)
        except Exception:
            log.warning("an account's password hash could not be read")
            return False, None

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hash(_DUMMY_PASSWORD)
        return self._dummy_hash


__all__ = [
    "CONSOLE_ROLES",
    "PROVINCE",
    "AccountError",
    "AccountService",
    "LoginLimits",
    "SignedIn",
    "check_password",
    "token_hash",
]
