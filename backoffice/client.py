"""The one port from the citizen side to the office, in-process (embedded) or over HTTP.

The citizen side files dossiers, reads a dossier's status and lists what a conversation filed
through :class:`BackOfficeClient`; it never writes a status itself. Failures come in two
kinds:

* :class:`BackOfficeUnavailable`: try again later (network errors, timeouts, 5xx, 429, and the
  deployment mistakes an operator fixes without touching the dossier: 401/403, 404 on a route);
* :class:`BackOfficeRejected`: the office refuses the submission as it is (400, 404 unknown
  procedure, 413, 415, 422); sending it again unchanged cannot help.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urlencode

import httpx
from pydantic import TypeAdapter, ValidationError

from backoffice.domain import Refused, Role, Supplemented, stored_status
from backoffice.office import OfficeService, Submission, UnknownProcedure
from backoffice.paths import PREFIX
from backoffice.wire import (
    DossierOut,
    DossierSummary,
    FiledFrom,
    ReceiptOut,
    SubmissionIn,
    dossier_out,
    summary_of,
)
from dialogs.model import ConversationKey
from knowledge.dossier_code import parse_code
from storage.dossiers import DossierQuery

REJECTING_STATUSES = frozenset({400, 413, 415, 422})
PROBLEM_TYPE = "application/problem+json"
DEFAULT_TIMEOUT = 10.0


class BackOfficeUnavailable(Exception):
    """The office could not answer now; try again later."""


class BackOfficeRejected(Exception):
    """The office refuses the submission as it is; retrying unchanged will not help."""


class BackOfficeClient(Protocol):
    async def submit(self, submission: Submission) -> ReceiptOut:
        """File a dossier; idempotent by ``submission_key``."""
        ...

    async def dossier(self, code: str) -> DossierOut | None:
        """A dossier with its history; None if the office has no such code."""
        ...

    async def filed_from(self, key: ConversationKey, limit: int = 50) -> list[DossierSummary]:
        """What this conversation filed, newest first."""
        ...

    async def supplement(
        self, code: str, key: ConversationKey, files: tuple[str, ...], text: str
    ) -> DossierOut | Refused | None:
        """The citizen's answer to a supplement request, from the conversation that filed
        ``code`` (None: no such dossier of this conversation)."""
        ...


def submission_in(submission: Submission) -> SubmissionIn:
    key = submission.filer_key
    return SubmissionIn(
        submission_key=submission.submission_key,
        commune_code=submission.commune_code,
        procedure_code=submission.procedure_code,
        filed_from=FiledFrom(channel=key.channel, chat_id=key.chat_id, user_id=key.user_id),
        fields=dict(submission.fields),
        filer=dict(submission.filer),
        on_behalf_of=None if submission.on_behalf_of is None else dict(submission.on_behalf_of),
        result_delivery=submission.result_delivery,
        postal_address=None
        if submission.postal_address is None
        else dict(submission.postal_address),
    )


class InProcessBackOffice:
    """The embedded office, called directly (same process, same database)."""

    def __init__(self, office: OfficeService) -> None:
        self._office = office

    async def submit(self, submission: Submission) -> ReceiptOut:
        try:
            receipt = await self._office.receive(submission)
        except UnknownProcedure as exc:
            raise BackOfficeRejected(f"unknown procedure {exc}") from exc
        except ValueError as exc:  # the store's own checks (a post filing with no address)
            raise BackOfficeRejected(str(exc)) from exc
        return ReceiptOut(
            code=receipt.code,
            status=stored_status(receipt.status),
            received_at=receipt.received_at,
            due_date=receipt.due_date,
            created=receipt.created,
        )

    async def dossier(self, code: str) -> DossierOut | None:
        view = await self._office.get(code)
        if view is None:
            return None
        return dossier_out(
            view.dossier,
            view.history,
            view.overdue,
            self._office.allowed(view.dossier, Role.CITIZEN),
        )

    async def filed_from(self, key: ConversationKey, limit: int = 50) -> list[DossierSummary]:
        today = self._office.today()
        found = await self._office.list(DossierQuery(chat=key, limit=limit))
        return [summary_of(d, self._office.to_domain(d).overdue(today)) for d in found]

    async def supplement(
        self, code: str, key: ConversationKey, files: tuple[str, ...], text: str
    ) -> DossierOut | Refused | None:
        stored = await self._office.store.by_code(code)
        if stored is None or stored.filer_key != key:  # the code came from the chat: untrusted
            return None
        result = await self._office.move(
            code, Supplemented(files=files, text=text), actor=key.as_str(), role=Role.CITIZEN
        )
        if isinstance(result, Refused):
            return result
        return await self.dossier(code)


T = TypeVar("T")

_receipt = TypeAdapter(ReceiptOut)
_dossier = TypeAdapter(DossierOut)
_summaries = TypeAdapter(list[DossierSummary])


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

    async def submit(self, submission: Submission) -> ReceiptOut:
        try:
            body = submission_in(submission).model_dump(mode="json")
        except ValidationError as exc:
            # Built from each error's place and message: pydantic's own text quotes the input.
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
            )
            raise BackOfficeRejected(problems) from None
        response = await self._send("POST", f"{PREFIX}/dossiers", body)
        if response.status_code == 404:
            raise BackOfficeRejected("unknown procedure")
        return _parse(_receipt, response)

    async def dossier(self, code: str) -> DossierOut | None:
        parsed = parse_code(code)
        if parsed is None or parsed.text != code:
            return None  # no office has it: not worth a request (nor a path to play with)
        response = await self._send("GET", f"{PREFIX}/dossiers/{quote(code, safe='')}")
        if response.status_code == 404:
            # The office says "no such dossier" as problem+json; any other 404 (a wrong base
            # URL, a proxy's page) says nothing about the dossier.
            if response.headers.get("content-type", "").startswith(PROBLEM_TYPE):
                return None
            raise BackOfficeUnavailable(f"HTTP 404 from GET {PREFIX}/dossiers/…: not the office")
        return _parse(_dossier, response)

    async def filed_from(self, key: ConversationKey, limit: int = 50) -> list[DossierSummary]:
        query = {"channel": key.channel, "chat_id": key.chat_id, "user_id": key.user_id}
        response = await self._send(
            "GET", f"{PREFIX}/dossiers?{urlencode({**query, 'limit': limit})}"
        )
        return _parse(_summaries, response)

    async def supplement(
        self, code: str, key: ConversationKey, files: tuple[str, ...], text: str
    ) -> DossierOut | Refused | None:
        # A citizen's move needs the citizen's authority, which an API token does not carry.
        del code, key, files, text
        raise BackOfficeUnavailable("supplements are not offered by the REST API yet")

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
        if code < 400 or code == 404:
            return response
        reason = f"HTTP {code} from {method} {path}: {_detail(response)}"
        if code in REJECTING_STATUSES:
            raise BackOfficeRejected(reason)
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
        payload = response.json()
    except ValueError:
        return response.reason_phrase
    detail = payload.get("detail") if isinstance(payload, dict) else None
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
    "BackOfficeRejected",
    "BackOfficeUnavailable",
    "HttpBackOffice",
    "InProcessBackOffice",
    "submission_in",
]
