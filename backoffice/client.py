"""The one port to the back office, in-process (embedded office) or over HTTP (remote office).

Failures come in two kinds, because the outbox worker treats them differently:

* :class:`BackOfficeUnavailable`: try again later. Network errors, timeouts, 5xx, 429, and the
  deployment mistakes an operator fixes without touching the dossier (401/403 wrong token,
  404/405 wrong URL). :class:`BackOfficeConflict` (409) is one of these: it is logged loudly
  but still retried, because the dossier must not be dropped while someone investigates.
* :class:`BackOfficeRejected`: the office refuses this dossier as it is (400, 413, 415, 422);
  sending it again unchanged cannot help.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from backoffice.office import (
    DossierCodeConflict,
    DossierIn,
    OfficeService,
    OfficeStatusChange,
    Receipt,
)
from backoffice.paths import PREFIX

DeliveryResult = Receipt  # the office's receipt is exactly what the sender needs back

# The request itself is at fault: the same bytes would be refused again.
REJECTING_STATUSES = frozenset({400, 413, 415, 422})
DEFAULT_TIMEOUT = 10.0


class BackOfficeUnavailable(Exception):
    """The office could not take the dossier now; deliver it again later."""


class BackOfficeConflict(BackOfficeUnavailable):
    """The dossier code is already held by a different dossier at the office."""


class BackOfficeRejected(Exception):
    """The office refuses the dossier as it is; retrying unchanged will not help."""


@dataclass(frozen=True, slots=True)
class OfficeStatus:
    """Where the dossier stands at the office, without its personal data."""

    code: str
    status: str
    received_at: datetime
    due_date: date | None
    updated_at: datetime
    history: tuple[OfficeStatusChange, ...]


class BackOfficeClient(Protocol):
    async def deliver(self, dossier: DossierIn) -> DeliveryResult:
        """Hand the dossier over; idempotent by code."""
        ...

    async def status(self, code: str) -> OfficeStatus | None:
        """The office's status of a dossier; None if the office never received it."""
        ...


class InProcessBackOffice:
    """The embedded office, called directly (same process, usually the same database)."""

    def __init__(self, office: OfficeService) -> None:
        self._office = office

    async def deliver(self, dossier: DossierIn) -> DeliveryResult:
        try:
            return await self._office.receive(dossier)
        except DossierCodeConflict as exc:
            raise BackOfficeConflict(str(exc)) from exc

    async def status(self, code: str) -> OfficeStatus | None:
        found = await self._office.get(code)
        if found is None:
            return None
        return OfficeStatus(
            code=found.code,
            status=found.status,
            received_at=found.received_at,
            due_date=found.due_date,
            updated_at=found.updated_at,
            history=found.history,
        )


T = TypeVar("T")

_receipt = TypeAdapter(Receipt)
_status = TypeAdapter(OfficeStatus)


class HttpBackOffice:
    """A remote office's REST API. ``transport`` lets tests talk to the router in memory."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
        )

    async def deliver(self, dossier: DossierIn) -> DeliveryResult:
        response = await self._send("POST", f"{PREFIX}/dossiers", dossier.model_dump(mode="json"))
        return _parse(_receipt, response)

    async def status(self, code: str) -> OfficeStatus | None:
        response = await self._send("GET", f"{PREFIX}/dossiers/{quote(code, safe='')}")
        if response.status_code == 404:
            return None
        return _parse(_status, response)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> HttpBackOffice:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(self, method: str, path: str, body: Any = None) -> httpx.Response:
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.RequestError as exc:
            # The message names the URL and the cause, never the request body.
            raise BackOfficeUnavailable(f"{type(exc).__name__}: {exc}") from exc
        code = response.status_code
        if code < 400 or (code == 404 and method == "GET"):
            return response
        reason = f"HTTP {code} from {method} {path}: {_detail(response)}"
        if code in REJECTING_STATUSES:
            raise BackOfficeRejected(reason)
        if code == 409:
            raise BackOfficeConflict(reason)
        raise BackOfficeUnavailable(reason)


def _parse(adapter: TypeAdapter[T], response: httpx.Response) -> T:
    try:
        return adapter.validate_json(response.content)
    except ValidationError as exc:
        # A proxy's HTML page or a half-written answer: the office may be fine a moment later.
        raise BackOfficeUnavailable(
            f"unreadable answer (HTTP {response.status_code}): {exc.error_count()} errors"
        ) from exc


def _detail(response: httpx.Response) -> str:
    """What went wrong, without echoing the dossier back: FastAPI's 422 answer repeats each
    bad input value, which may be an ID number or a name."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.reason_phrase
    if isinstance(detail, list):
        problems = []
        for error in detail[:5]:
            if isinstance(error, dict):
                where = ".".join(str(part) for part in error.get("loc", ()))
                problems.append(f"{where}: {error.get('msg', '')}")
        return "; ".join(problems) or response.reason_phrase
    if isinstance(detail, str):
        return detail[:300]
    return response.reason_phrase


__all__ = [
    "BackOfficeClient",
    "BackOfficeConflict",
    "BackOfficeRejected",
    "BackOfficeUnavailable",
    "DeliveryResult",
    "HttpBackOffice",
    "InProcessBackOffice",
    "OfficeStatus",
]
