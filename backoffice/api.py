"""The back office's REST API (OpenAPI by FastAPI), under ``/api/v1``.

* ``POST /dossiers`` files a submission: 201 the first time, 200 with the first receipt when
  the same ``submission_key`` comes again, so a sender that lost the answer may send again.
* ``GET /dossiers/{code}``: status, due date, the allowed moves and the history.
* ``GET /dossiers``: filters by commune, status, reception dates and overdue.
* ``POST /dossiers/{code}/transitions`` ``{"to": "<status>", ...}``, ``.../extension`` and
  ``.../postal-events``: 200 with the dossier, or 409 ``application/problem+json`` saying why
  the move is refused (the workflow core's reason), 404 for an unknown code.
* ``GET /dossiers/{code}/files/{file_id}``: a photo or scan of the dossier.

Every route needs ``Authorization: Bearer <token>``; the token is checked by :class:`TokenGate`
before a byte of the body is read, and names the communes it may touch (one token for the whole
province is allowed and logged as such). A dossier of another commune answers 404, as if it did
not exist.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from backoffice import domain
from backoffice.domain import Extend, PostalEvent, Refused, Role, Status
from backoffice.office import DONE, OfficeService, Submission, UnknownProcedure
from backoffice.paths import PREFIX
from backoffice.wire import (
    COMMUNE_PATTERN,
    DossierOut,
    DossierSummary,
    ExtensionIn,
    PostalEventIn,
    Problem,
    ReceiptOut,
    SubmissionIn,
    TransitionIn,
    dossier_out,
    summary_of,
)
from dialogs.model import ConversationKey
from storage.attachments import FileRepository
from storage.dossiers import DossierNotFoundError, DossierQuery
from storage.files import FileStore

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
MAX_BODY = 2 << 20  # a dossier's answers are a few KB; photos never travel through this API

Scope = tuple[str, ...] | None  # the communes a token may touch; None: every commune


@dataclass(frozen=True, slots=True)
class ApiToken:
    token: str
    communes: Scope  # None for a province-wide token
    actor: str = "api"


ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class TokenGate:
    """ASGI middleware for the API prefix: the bearer token, then the declared size, are
    checked before the application (and so the body parser) runs. A request without a known
    token costs us one header lookup, however large a body it announces."""

    def __init__(self, app: ASGIApp, tokens: tuple[ApiToken, ...], prefix: str = PREFIX) -> None:
        self._app = app
        self._tokens = tokens
        self._prefix = prefix

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self._prefix):
            await self._app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        found = self._match(headers.get("authorization", b""))
        if found is None:
            await _send_problem(send, 401, "Unauthorized", "missing or wrong bearer token")
            return
        length = headers.get("content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY:
            await _send_problem(send, 413, "Content Too Large", f"at most {MAX_BODY} bytes")
            return
        if headers.get("transfer-encoding", b"").lower() == b"chunked":
            await _send_problem(send, 411, "Length Required", "send a Content-Length")
            return
        scope.setdefault("state", {})["api_token"] = found
        await self._app(scope, receive, send)

    def _match(self, header: bytes) -> ApiToken | None:
        scheme, _, given = header.partition(b" ")
        if scheme.lower() != b"bearer" or not given:
            return None
        match = None
        for candidate in self._tokens:
            # compare_digest on every token: the time taken must not tell which came close.
            if secrets.compare_digest(given.strip(), candidate.token.encode()):
                match = candidate
        return match


async def _send_problem(
    send: Callable[[Any], Awaitable[None]], code: int, title: str, detail: str
) -> None:
    body = Problem(title=title, status=code, detail=detail).model_dump_json().encode()
    headers = [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]
    if code == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _problem(code: int, title: str, detail: str, reason: str = "") -> JSONResponse:
    return JSONResponse(
        Problem(title=title, status=code, detail=detail, reason=reason).model_dump(),
        status_code=code,
        media_type=PROBLEM,
    )


def _refused(refused: Refused) -> JSONResponse:
    return _problem(409, refused.message, refused.detail, refused.reason)


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "The body is not JSON",
        401: "Missing or wrong bearer token",
        404: "No dossier with that code in this token's communes",
        409: "The move is not allowed now; the reason is in the problem",
        411: "Chunked bodies are refused: send a Content-Length",
        413: "Body too large",
        422: "The request is not of the documented shape",
    }
    return {
        code: {"model": Problem, "description": described[code], "content": {PROBLEM: {}}}
        for code in codes
    }


COMMON = (400, 401, 411, 413, 422)  # the routes that read a JSON body


class ProblemRoute(APIRoute):
    """Every error of these routes as ``application/problem+json``, as OpenAPI says; a 422
    names the fields and what is wrong with them, never the values (an ID number, a name)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except StarletteHTTPException as exc:  # FastAPI's own subclass, and Starlette's
                title = HTTPStatus(exc.status_code).phrase
                return _problem(exc.status_code, title, str(exc.detail))
            except RequestValidationError as exc:
                where = "; ".join(
                    f"{'.'.join(str(p) for p in error.get('loc', ()))}: {error.get('msg', '')}"
                    for error in exc.errors()[:10]
                )
                return _problem(422, "Unprocessable Content", where)

        return handler


def router(office: OfficeService, files: FileRepository, store: FileStore) -> APIRouter:
    """The API's routes. Mount behind :class:`TokenGate`."""
    api = APIRouter(prefix=PREFIX, tags=["back office"], route_class=ProblemRoute)

    def token(request: Request) -> ApiToken:
        found = request.scope.get("state", {}).get("api_token")
        if not isinstance(found, ApiToken):  # mounted without the gate: refuse everything
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong bearer token")
        return found

    def may_see(found: ApiToken, commune_code: str) -> bool:
        return found.communes is None or commune_code in found.communes

    async def visible(request: Request, code: str) -> DossierOut:
        found = token(request)
        view = await office.get(code)
        if view is None or not may_see(found, view.dossier.commune_code):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no dossier with that code")
        return dossier_out(
            view.dossier,
            view.history,
            view.overdue,
            office.allowed(view.dossier, Role.OFFICER),
        )

    async def moved(
        request: Request, code: str, command: domain.Command | Refused
    ) -> DossierOut | JSONResponse:
        current = await visible(request, code)  # 404 before anything else
        if isinstance(command, Refused):
            return _refused(command)
        found = token(request)
        try:
            result = await office.move(current.code, command, actor=found.actor, role=Role.OFFICER)
        except DossierNotFoundError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no dossier with that code") from exc
        if isinstance(result, Refused):
            return _refused(result)
        return await visible(request, code)

    @api.post(
        "/dossiers",
        status_code=status.HTTP_201_CREATED,
        response_model=ReceiptOut,
        responses={
            200: {"model": ReceiptOut, "description": "Filed before: the first receipt"},
            404: {"model": Problem, "description": "Unknown procedure", "content": {PROBLEM: {}}},
            **_problems(*COMMON),
            403: {
                "model": Problem,
                "description": "The token may not file for that commune",
                "content": {PROBLEM: {}},
            },
        },
        summary="File a dossier (idempotent by submission_key)",
    )
    async def file_dossier(
        body: SubmissionIn, request: Request, response: Response
    ) -> ReceiptOut | JSONResponse:
        found = token(request)
        if not may_see(found, body.commune_code):
            return _problem(403, "Forbidden", "this token may not file for that commune")
        try:
            receipt = await office.receive(
                Submission(
                    submission_key=body.submission_key,
                    commune_code=body.commune_code,
                    procedure_code=body.procedure_code,
                    filer_key=ConversationKey(
                        body.filed_from.channel, body.filed_from.chat_id, body.filed_from.user_id
                    ),
                    submitted_at=datetime.now().astimezone(),
                    fields=body.fields,
                    filer=body.filer,
                    on_behalf_of=body.on_behalf_of,
                    result_delivery=body.result_delivery,
                    postal_address=body.postal_address,
                ),
                actor=found.actor,
                role=Role.SYSTEM,
            )
        except UnknownProcedure:
            return _problem(404, "Not Found", "no procedure with that code")
        if not receipt.created:
            response.status_code = status.HTTP_200_OK
        response.headers["Location"] = str(request.url_for("get_dossier", code=receipt.code))
        return ReceiptOut(
            code=receipt.code,
            status=domain.stored_status(receipt.status),
            received_at=receipt.received_at,
            due_date=receipt.due_date,
            created=receipt.created,
        )

    @api.get(
        "/dossiers/{code}",
        response_model=DossierOut,
        name="get_dossier",
        responses=_problems(401, 404, 411, 413, 422),
        summary="A dossier: status, due date, allowed moves, history",
    )
    async def get_dossier(code: str, request: Request) -> DossierOut:
        return await visible(request, code)

    @api.get(
        "/dossiers",
        response_model=list[DossierSummary],
        responses=_problems(401, 411, 413, 422),
        summary="Dossiers, newest first",
    )
    async def list_dossiers(
        request: Request,
        commune: Annotated[str | None, Query(pattern=COMMUNE_PATTERN)] = None,
        status_name: Annotated[Status | None, Query(alias="status")] = None,
        received_from: Annotated[date | None, Query()] = None,
        received_to: Annotated[date | None, Query(description="inclusive")] = None,
        overdue: Annotated[bool, Query()] = False,
        channel: Annotated[
            str | None, Query(max_length=32, description="filed from, or handed over to")
        ] = None,
        chat_id: Annotated[str | None, Query(max_length=128)] = None,
        user_id: Annotated[str | None, Query(max_length=128)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[DossierSummary]:
        found = token(request)
        communes: Scope = found.communes
        if commune is not None:
            if communes is not None and commune not in communes:
                return []
            communes = (commune,)
        tz = office.timezone  # the deployment's days, not the server's
        today = office.today()
        dossiers = await office.list(
            DossierQuery(
                commune_codes=communes,
                statuses=None if status_name is None else _stored_names(status_name),
                received_from=_day_start(received_from, tz),
                received_before=None
                if received_to is None
                else _day_start(date.fromordinal(min(received_to.toordinal() + 1, _LAST)), tz),
                overdue_on=today if overdue else None,
                done=DONE,
                # A remote citizen side's "my dossiers": filed from the conversation, or
                # handed over to it by a volunteer.
                chat=None
                if channel is None
                else ConversationKey(channel, chat_id or "", user_id or ""),
                limit=limit,
            )
        )
        return [summary_of(d, office.to_domain(d).overdue(today)) for d in dossiers]

    @api.post(
        "/dossiers/{code}/transitions",
        response_model=DossierOut,
        responses=_problems(*COMMON, 404, 409),
        summary="Move a dossier to another status",
    )
    async def transition(code: str, body: TransitionIn, request: Request) -> Any:
        command = domain.command_for(
            body.to,
            note=body.note,
            reason=body.reason,
            missing=body.missing,
            amount=body.amount,
            item_number=body.item_number,
        )
        return await moved(request, code, command)

    @api.post(
        "/dossiers/{code}/extension",
        response_model=DossierOut,
        responses=_problems(*COMMON, 404, 409),
        summary="The one apology and new date a dossier may get",
    )
    async def extension(code: str, body: ExtensionIn, request: Request) -> Any:
        return await moved(request, code, Extend(new_date=body.new_date, apology=body.apology))

    @api.post(
        "/dossiers/{code}/postal-events",
        response_model=DossierOut,
        responses=_problems(*COMMON, 404, 409),
        summary="Record what the post did with the result",
    )
    async def postal_event(code: str, body: PostalEventIn, request: Request) -> Any:
        return await moved(request, code, PostalEvent(event=Status(body.event), note=body.note))

    @api.get(
        "/dossiers/{code}/files/{file_id}",
        response_class=Response,
        responses={
            200: {"content": {"image/jpeg": {}, "application/pdf": {}}},
            **_problems(401, 404, 411, 413, 422),
        },
        summary="A photo or scan of the dossier",
    )
    async def dossier_file(code: str, file_id: int, request: Request) -> Response:
        await visible(request, code)
        dossier = await office.store.by_code(code)
        if dossier is not None:
            for stored in await files.for_dossier(dossier.id):
                if stored.id == file_id and await store.exists(stored.storage_key):
                    return Response(
                        await store.get(stored.storage_key),
                        media_type=stored.mime_type,
                        headers={"Cache-Control": "private, no-store"},
                    )
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file in this dossier")

    return api


_LAST = date.max.toordinal()


def _day_start(day: date | None, tz: tzinfo) -> datetime | None:
    """Midnight of ``day`` in the office's zone; None (no bound) for the first and last days
    of the calendar, whose midnight is outside the range of a UTC datetime (schemathesis sent
    ``received_from=0001-01-01`` and got a 500)."""
    if day is None or day.toordinal() <= 1 or day.toordinal() >= _LAST:
        return None
    return datetime.combine(day, time(), tz)


def _stored_names(wanted: Status) -> tuple[str, ...]:
    """The stored names that mean ``wanted`` (old rows may still say "new")."""
    return domain.stored_names(wanted)


def tokens_from(province_token: str, commune_tokens: Mapping[str, str]) -> tuple[ApiToken, ...]:
    """The API's tokens: a province-wide one (if set) and one per commune code."""
    tokens: list[ApiToken] = []
    if province_token:
        log.warning("back-office API token for the whole province: it reaches every commune")
        tokens.append(ApiToken(token=province_token, communes=None, actor="api:province"))
    for commune, secret in commune_tokens.items():
        if secret:
            tokens.append(ApiToken(token=secret, communes=(commune,), actor=f"api:{commune}"))
    return tuple(tokens)


__all__ = ["ApiToken", "TokenGate", "router", "tokens_from"]
