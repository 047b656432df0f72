"""The officer console: server-rendered pages under ``/console`` for the commune's office.

* officers work the dossiers of their commune (inbox, dossier page, one form per move the
  workflow allows them from here, the one new date, paper dossiers received at the counter);
* postal clerks see only results going by post (to hand over, to collect, out for delivery)
  and record the post's events;
* leaders read everything of their commune and change nothing;
* administrators see the accounts (``motcua user ...`` makes them);
* "Gặp cán bộ": officers answer the conversations citizens hand to them in the live inbox
  (``/console/handoffs``), leaders read them; a small script of our own (``live.js``, the
  only script, from 'self') polls JSON so that new conversations and messages appear without
  a reload, and every page works without it.

Every page checks the role and the commune on the server: a dossier another account may not
see answers 404, as if it did not exist. Sessions live in the database
(:mod:`backoffice.accounts`), the cookie is HttpOnly and SameSite=Strict, every form carries
the session's CSRF token, and every response carries the headers of :class:`ConsoleHeaders`
(no inline script; one static script of our own). Searches travel in POST bodies, so a
name, a phone or an ID number never lands in an access log's request line.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute

from backoffice import domain
from backoffice.accounts import CONSOLE_ROLES, PROVINCE, AccountError, AccountService
from backoffice.console import texts
from backoffice.dashboard import Dashboard
from backoffice.domain import Extend, PostalEvent, Refused, Role, Status
from backoffice.office import DossierView, MoveConflict, OfficeService, Submission, UnknownProcedure
from dialogs.filing_answers import address_display
from dialogs.model import ConversationKey
from dialogs.validators import Invalid, parse_name, parse_phone
from knowledge.catalogue import Catalogue
from storage.accounts import ConsoleSession
from storage.announcements import AnnouncementRepository
from storage.attachments import FileRepository
from storage.audit import AuditRepository
from storage.dossiers import Dossier, DossierNotFoundError, DossierQuery
from storage.files import FileStore
from storage.handoffs import CLOSED_ALREADY, Handoff, HandoffRepository, Line
from storage.leaders import LeaderChatRepository
from storage.volunteers import VolunteerRepository

log = logging.getLogger(__name__)

PREFIX = "/console"
COOKIE = "motcua_console"
LOGIN_COOKIE = "motcua_console_login"  # the login form's CSRF pair, before any session
COUNTER_CHANNEL = "counter"
MAX_FORM_BYTES = 64 * 1024
INBOX_LIMIT = 200  # rows on one page of the inbox (sorted, filtered and paged in SQL)
SCAN_LIMIT = 2000  # dossiers of the post's page (results going by post: a few at a time)

OPEN: tuple[str, ...] = tuple(
    name for status in Status if status not in domain.FINAL for name in domain.stored_names(status)
)
POSTAL_STATUSES = (
    Status.RESULT_READY,
    Status.POSTED,
    Status.COLLECTED,
    Status.IN_TRANSIT,
    Status.DELIVERY_FAILED,
    Status.RETURNED_TO_OFFICE,
    Status.DELIVERED,
)
"""What a postal clerk may see of a dossier whose result goes by post."""

MOVERS = frozenset({Role.OFFICER, Role.POSTAL_CLERK})
READERS = frozenset({Role.OFFICER, Role.LEADER})

ReceiptSource = Callable[[Dossier], Awaitable[bytes | None]]
"""The receipt slip of a dossier as PDF bytes (drawn by the composition root)."""

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
        b"img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class ConsoleHeaders:
    """ASGI middleware: the security headers on every response under ``/console`` (errors
    and unknown paths included), and a form body larger than a console form refused unread."""

    def __init__(self, app: ASGIApp, prefix: str = PREFIX) -> None:
        self._app = app
        self._prefix = prefix

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not (
            path == self._prefix or path.startswith(self._prefix + "/")
        ):
            await self._app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                names = {b"content-security-policy", b"x-frame-options", b"cache-control"}
                names |= {b"x-content-type-options", b"referrer-policy"}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": [*kept, *SECURITY_HEADERS]}
            await send(message)

        if scope.get("method") == "POST":
            headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
            length = headers.get("content-length", b"")
            if not length.isdigit() or int(length) > MAX_FORM_BYTES:
                body = b"Content Too Large"
                await with_headers(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self._app(scope, receive, with_headers)


# --- what a page needs to know about who is looking -------------------------------------------


@dataclass(frozen=True, slots=True)
class Viewer:
    session: ConsoleSession

    @property
    def name(self) -> str:
        return self.session.account.name

    @property
    def role(self) -> Role:
        return Role(self.session.account.role)

    @property
    def actor(self) -> str:
        return f"console:{self.name}"

    @property
    def communes(self) -> tuple[str, ...] | None:
        code = self.session.account.commune_code
        return None if code == PROVINCE else (code,)

    def covers(self, commune_code: str) -> bool:
        scope = self.communes
        return scope is None or commune_code in scope

    def may_see(self, dossier: Dossier) -> bool:
        if not self.covers(dossier.commune_code):
            return False
        if self.role in READERS:
            return True
        if self.role is Role.POSTAL_CLERK:
            return (
                dossier.result_delivery == "post"
                and domain.stored_status(dossier.status) in POSTAL_STATUSES
            )
        return False  # an administrator works accounts, not dossiers


class _Stop(Exception):
    """Answer ``response`` now (a redirect to the login page, a 404, a 403)."""

    def __init__(self, response: Response) -> None:
        self.response = response


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except _Stop as stop:
                return stop.response

        return handler


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("backoffice.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        status_label=lambda name: texts.status_label(domain.stored_status(str(name))),
        action_label=lambda status: texts.ACTIONS.get(Status(status), str(status)),
        role_label=texts.role_label,
        channel_label=lambda name: texts.CHANNELS.get(str(name), str(name)),
        vnd=lambda amount: f"{amount:,}".replace(",", ".") + " đồng",
        day=lambda d: "" if d is None else f"{d:%d/%m/%Y}",
        Status=Status,
        who_did=_who_did,
    )
    return env


def router(
    office: OfficeService,
    accounts: AccountService,
    files: FileRepository,
    store: FileStore,
    catalogue: Catalogue,
    *,
    receipt: ReceiptSource,
    commune_names: Mapping[str, str],
    handoffs: HandoffRepository,
    audit: AuditRepository,
    public_url: str = "",
    dashboard: Dashboard | None = None,
    leader_chats: LeaderChatRepository | None = None,
    poll_seconds: float = 3.0,
    volunteers: VolunteerRepository | None = None,
    announcements: AnnouncementRepository | None = None,
    announce_channels: frozenset[str] | None = None,
    announced: Callable[[], None] = lambda: None,
) -> APIRouter:
    """The console's pages. Mount behind :class:`ConsoleHeaders`."""
    console = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
    env = _templates()
    tz = office.timezone
    procedures = sorted(catalogue.all(), key=lambda p: (not p.curated, p.name))

    def page(
        request: Request,
        template: str,
        viewer: Viewer | None,
        status_code: int = 200,
        /,
        **context: Any,
    ) -> HTMLResponse:
        for key in ("done", "error", "message"):
            context.setdefault(key, "")
        html = env.get_template(template).render(
            viewer=viewer,
            csrf=viewer.session.csrf_token if viewer is not None else "",
            commune_names=commune_names,
            local=lambda moment: f"{moment.astimezone(tz):%d/%m/%Y %H:%M}",
            poll_ms=int(poll_seconds * 1000),
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    def secure(request: Request) -> bool:
        return request.url.scheme == "https" or public_url.startswith("https://")

    def cookie(response: Response, name: str, value: str, request: Request, path: str) -> None:
        response.set_cookie(
            name,
            value,
            path=path,
            httponly=True,
            samesite="strict",
            secure=secure(request),
        )

    def to_login(request: Request, reason: str = "") -> Response:
        target = f"{PREFIX}/login" + (f"?m={reason}" if reason else "")
        response = RedirectResponse(target, status_code=303)
        if request.cookies.get(COOKIE):
            response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
        return response

    def not_found(request: Request, viewer: Viewer | None) -> _Stop:
        return _Stop(page(request, "message.html", viewer, 404, message=texts.NOT_FOUND))

    def forbidden(request: Request, viewer: Viewer) -> _Stop:
        return _Stop(page(request, "message.html", viewer, 403, message=texts.FORBIDDEN))

    def same_origin(request: Request) -> bool:
        """Whether a POST came from a console page, as far as the browser tells: the CSRF
        token is the rule, this is a second lock. With ``Referrer-Policy: no-referrer`` a
        browser sends ``Origin: null`` for our own forms, so it is Fetch Metadata that
        says "same-origin" then; a named foreign origin is refused either way."""
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return False
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return True  # no browser named a site: the token decides
        netloc = urlsplit(origin).netloc
        allowed = {request.headers.get("host", "")}
        if public_url:
            allowed.add(urlsplit(public_url).netloc)
        return bool(netloc) and netloc in allowed

    async def viewer_of(
        request: Request, *, fresh_password: bool = False, touch: bool = True
    ) -> Viewer:
        """The signed-in viewer, or a stop: the login page (expired or never signed in),
        the change-password page (a one-time password still in use)."""
        token = request.cookies.get(COOKIE, "")
        session = await accounts.session(token, touch=touch) if token else None
        if session is None:
            raise _Stop(to_login(request, "expired" if token else ""))
        viewer = Viewer(session)
        if session.account.must_change_password and not fresh_password:
            raise _Stop(RedirectResponse(f"{PREFIX}/password", status_code=303))
        return viewer

    async def polling_viewer(request: Request) -> Viewer:
        """The viewer of live.js's polls: they never keep an idle session alive, and a poll
        that finds the session gone answers 401 and leaves the cookie alone, so the officer's
        next click is the one that shows "Phiên làm việc đã hết hạn" (a poll's redirect would
        clear the cookie and the login page would not know why)."""
        try:
            return await viewer_of(request, touch=False)
        except _Stop as stop:
            if stop.response.status_code == 303:
                raise _Stop(JSONResponse({"signed_in": False}, status_code=401)) from None
            raise

    async def posted_form(request: Request, viewer: Viewer) -> Mapping[str, str]:
        """The form's fields once its CSRF token is the session's; a stop otherwise."""
        form = await request.form()
        given = form.get("csrf")
        if (
            not same_origin(request)
            or not isinstance(given, str)
            or not secrets.compare_digest(given.encode(), viewer.session.csrf_token.encode())
        ):
            log.warning("console: a form without the session's CSRF token (%s)", viewer.name)
            raise _Stop(page(request, "message.html", viewer, 403, message=texts.CSRF_FAILED))
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def require(request: Request, viewer: Viewer, roles: frozenset[Role]) -> None:
        if viewer.role not in roles:
            raise forbidden(request, viewer)

    async def visible(request: Request, viewer: Viewer, code: str) -> DossierView:
        found = await office.get(code)
        if found is None or not viewer.may_see(found.dossier):
            raise not_found(request, viewer)
        return found

    def home_of(role: Role) -> str:
        if role is Role.POSTAL_CLERK:
            return f"{PREFIX}/post"
        if role is Role.ADMIN:
            return f"{PREFIX}/accounts"
        return PREFIX

    # --- signing in and out ---------------------------------------------------------------

    @console.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request) -> Response:
        messages = {
            "expired": texts.LOGIN_EXPIRED,
            "out": texts.LOGGED_OUT,
            "old": texts.LOGIN_FORM_OLD,
        }
        return login_form(request, messages.get(request.query_params.get("m", ""), ""))

    def login_form(
        request: Request, message: str, status_code: int = 200, name: str = ""
    ) -> Response:
        pair = secrets.token_urlsafe(24)
        response = page(
            request, "login.html", None, status_code, message=message, login_csrf=pair, name=name
        )
        cookie(response, LOGIN_COOKIE, pair, request, f"{PREFIX}/login")
        return response

    @console.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        given = form.get("csrf")
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if (
            not same_origin(request)
            or not isinstance(given, str)
            or not expected
            or not secrets.compare_digest(given.encode(), expected.encode())
        ):
            return login_form(request, texts.LOGIN_FORM_OLD, 403)
        name = form.get("name")
        password = form.get("password")
        if not isinstance(name, str) or not isinstance(password, str):
            return login_form(request, texts.LOGIN_WRONG, 401)
        address = request.client.host if request.client is not None else ""
        result = await accounts.login(name, password[:1024], address)
        if result == "limited":
            return login_form(request, texts.LOGIN_LIMITED, 429, name)
        if result == "disabled":
            return login_form(request, texts.LOGIN_DISABLED, 403, name)
        if result == "wrong" or isinstance(result, str):
            return login_form(request, texts.LOGIN_WRONG, 401, name)
        role = Role(result.account.role)
        target = f"{PREFIX}/password" if result.account.must_change_password else home_of(role)
        response = RedirectResponse(target, status_code=303)
        cookie(response, COOKIE, result.token, request, PREFIX)
        response.delete_cookie(
            LOGIN_COOKIE, path=f"{PREFIX}/login", httponly=True, samesite="strict"
        )
        return response

    @console.post("/logout")
    async def logout(request: Request) -> Response:
        viewer = await viewer_of(request, fresh_password=True)
        await posted_form(request, viewer)
        await accounts.logout(viewer.session)
        response = RedirectResponse(f"{PREFIX}/login?m=out", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
        return response

    @console.get("/password", response_class=HTMLResponse)
    async def password_page(request: Request) -> Response:
        viewer = await viewer_of(request, fresh_password=True)
        first = viewer.session.account.must_change_password
        return page(request, "password.html", viewer, message=texts.MUST_CHANGE if first else "")

    @console.post("/password")
    async def change_password(request: Request) -> Response:
        viewer = await viewer_of(request, fresh_password=True)
        form = await posted_form(request, viewer)
        new = form.get("new", "")
        if new != form.get("again", ""):
            return page(request, "password.html", viewer, 400, error=texts.PASSWORDS_DIFFER)
        try:
            await accounts.change_password(viewer.session, form.get("current", ""), new)
        except AccountError as exc:
            return page(request, "password.html", viewer, 400, error=str(exc))
        return RedirectResponse(f"{home_of(viewer.role)}?done=password", status_code=303)

    # --- the inbox --------------------------------------------------------------------------

    async def inbox(request: Request, viewer: Viewer, form: Mapping[str, str]) -> Response:
        require(request, viewer, READERS)
        wanted_status = form.get("status", "")
        wanted_procedure = form.get("procedure", "")
        query = form.get("q", "").strip()[:100]
        statuses: tuple[str, ...] = OPEN
        if wanted_status:
            try:
                statuses = domain.stored_names(Status(wanted_status))
            except ValueError:
                wanted_status = ""
        try:
            page_number = max(1, min(int(form.get("page", "1")), 100_000))
        except ValueError:
            page_number = 1
        found = DossierQuery(
            commune_codes=viewer.communes,
            statuses=statuses,
            procedure_code=wanted_procedure or None,
            search=query,
            order="inbox",
            first_statuses=domain.stored_names(Status.RECEIVED),
            offset=(page_number - 1) * INBOX_LIMIT,
            limit=INBOX_LIMIT,
        )
        total = await office.count(found)
        pages = max(1, -(-total // INBOX_LIMIT))
        if page_number > pages:
            page_number = pages
            found = dataclasses.replace(found, offset=(pages - 1) * INBOX_LIMIT)
        today = office.today()
        rows = [
            (d, office.to_domain(d).overdue(today), domain.stored_status(d.status))
            for d in await office.list(found)
        ]
        return page(
            request,
            "inbox.html",
            viewer,
            rows=rows,
            total=total,
            page_number=page_number,
            pages=pages,
            statuses=list(Status),
            procedures=procedures,
            names={p.code: p.name for p in procedures},
            wanted_status=wanted_status,
            wanted_procedure=wanted_procedure,
            query=query,
            done=_done_message(request),
            applicant=_applicant,
        )

    @console.get("", response_class=HTMLResponse)
    async def inbox_page(request: Request) -> Response:
        viewer = await viewer_of(request)
        if viewer.role not in READERS:
            return RedirectResponse(home_of(viewer.role), status_code=303)
        return await inbox(request, viewer, dict(request.query_params))

    @console.post("", response_class=HTMLResponse)
    async def inbox_search(request: Request) -> Response:
        viewer = await viewer_of(request)
        return await inbox(request, viewer, await posted_form(request, viewer))

    # --- one dossier ------------------------------------------------------------------------

    async def dossier_page(
        request: Request,
        viewer: Viewer,
        view: DossierView,
        status_code: int = 200,
        error: str = "",
    ) -> Response:
        dossier = view.dossier
        procedure = catalogue.get(dossier.procedure_code)
        allowed = office.allowed(dossier, viewer.role) if viewer.role in MOVERS else ()
        status = domain.stored_status(dossier.status)
        postal_only = viewer.role is Role.POSTAL_CLERK
        attached = [] if postal_only else await files.for_dossier(dossier.id)
        labels = {}
        if procedure is not None and procedure.form is not None:
            labels = {f.name: f.label for f in procedure.form.fields}
            labels |= {p.name: p.label for p in procedure.form.photos}
        extendable = (
            viewer.role is Role.OFFICER
            and status in domain.EXTENDABLE
            and not dossier.workflow.extended
        )
        return page(
            request,
            "dossier.html",
            viewer,
            status_code,
            d=dossier,
            view=view,
            status=status,
            procedure=procedure,
            answers=[] if postal_only else _answers(dossier.fields, labels),
            applicant=_applicant(dossier),
            recipient=_recipient(dossier),
            history=list(reversed(view.history)),
            files=attached,
            slot_labels=labels,
            allowed=allowed,
            extendable=extendable,
            suggested_amount=office.suggested_amount(dossier),
            postal_only=postal_only,
            error=error,
            done=_done_message(request),
        )

    @console.get("/dossiers/{code}", response_class=HTMLResponse)
    async def show_dossier(code: str, request: Request) -> Response:
        viewer = await viewer_of(request)
        return await dossier_page(request, viewer, await visible(request, viewer, code))

    async def refused(
        request: Request, viewer: Viewer, code: str, message: str, status_code: int = 409
    ) -> Response:
        view = await visible(request, viewer, code)
        return await dossier_page(request, viewer, view, status_code, error=message)

    @console.post("/dossiers/{code}/move")
    async def move(code: str, request: Request) -> Response:
        viewer = await viewer_of(request)
        form = await posted_form(request, viewer)
        view = await visible(request, viewer, code)  # 404 before the role: nothing leaks
        require(request, viewer, MOVERS)
        target_name = form.get("to", "")
        amount: int | None = None
        if form.get("amount", "").strip():
            try:
                amount = int(form["amount"].replace(".", "").replace(",", "").strip())
            except ValueError:
                return await refused(request, viewer, code, texts.NOT_A_NUMBER, 400)
        command: domain.Command | Refused
        try:
            target = Status(target_name)
        except ValueError:
            target = None
        if target is not None and target in domain.POSTAL_EVENTS:
            command = PostalEvent(event=target, note=form.get("note", ""))
        else:
            command = domain.command_for(
                target_name,
                note=form.get("note", ""),
                reason=form.get("reason", ""),
                missing=tuple(form.get("missing", "").splitlines()),
                amount=amount,
                item_number=form.get("item_number", ""),
            )
        if isinstance(command, Refused):
            return await refused(request, viewer, code, command.message)
        try:
            result = await office.move(
                view.dossier.code, command, actor=viewer.actor, role=viewer.role
            )
        except (DossierNotFoundError, MoveConflict):
            raise not_found(request, viewer) from None
        if isinstance(result, Refused):
            return await refused(request, viewer, code, result.message)
        back = form.get("back", "")
        where = f"{PREFIX}/post" if back == "post" else f"{PREFIX}/dossiers/{quote(code)}"
        return RedirectResponse(f"{where}?done={result.dossier.status}", status_code=303)

    @console.post("/dossiers/{code}/extend")
    async def extend(code: str, request: Request) -> Response:
        viewer = await viewer_of(request)
        form = await posted_form(request, viewer)
        view = await visible(request, viewer, code)
        require(request, viewer, frozenset({Role.OFFICER}))
        try:
            new_date = date.fromisoformat(form.get("new_date", "").strip())
        except ValueError:
            return await refused(request, viewer, code, texts.BAD_DATE, 400)
        result = await office.move(
            view.dossier.code,
            Extend(new_date=new_date, apology=form.get("apology", ""), note=form.get("note", "")),
            actor=viewer.actor,
            role=viewer.role,
        )
        if isinstance(result, Refused):
            return await refused(request, viewer, code, result.message)
        return RedirectResponse(f"{PREFIX}/dossiers/{quote(code)}?done=extended", status_code=303)

    @console.get("/dossiers/{code}/files/{file_id}")
    async def dossier_file(code: str, file_id: int, request: Request) -> Response:
        viewer = await viewer_of(request)
        view = await visible(request, viewer, code)
        if viewer.role is Role.POSTAL_CLERK:
            raise not_found(request, viewer)  # the post needs the address, not the papers
        for stored in await files.for_dossier(view.dossier.id):
            if stored.id == file_id and await store.exists(stored.storage_key):
                return Response(
                    await store.get(stored.storage_key),
                    media_type=stored.mime_type
                    if stored.mime_type in ("image/jpeg", "image/png")
                    else "application/octet-stream",
                    headers={
                        "Content-Disposition": "inline"
                        if stored.mime_type.startswith("image/")
                        else "attachment"
                    },
                )
        raise not_found(request, viewer)

    @console.get("/dossiers/{code}/receipt.pdf")
    async def receipt_pdf(code: str, request: Request) -> Response:
        viewer = await viewer_of(request)
        view = await visible(request, viewer, code)
        if viewer.role is Role.POSTAL_CLERK:
            raise not_found(request, viewer)
        pdf = await receipt(view.dossier)
        if pdf is None:
            raise not_found(request, viewer)
        name = f"bien-nhan-{view.dossier.code}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # --- the post ---------------------------------------------------------------------------

    @console.get("/post", response_class=HTMLResponse)
    async def post_page(request: Request) -> Response:
        viewer = await viewer_of(request)
        require(request, viewer, frozenset({Role.POSTAL_CLERK, Role.OFFICER, Role.LEADER}))
        names = tuple(
            n for s in POSTAL_STATUSES if s is not Status.DELIVERED for n in domain.stored_names(s)
        )
        found = await office.list(
            DossierQuery(commune_codes=viewer.communes, statuses=names, limit=SCAN_LIMIT)
        )
        by_post = sorted(
            (d for d in found if d.result_delivery == "post"),
            key=lambda d: (d.updated_at, d.id),
        )
        groups: dict[str, list[Any]] = {"to_hand": [], "to_collect": [], "out": []}
        for d in by_post:
            status = domain.stored_status(d.status)
            row = {
                "d": d,
                "status": status,
                "recipient": _recipient(d),
                "allowed": office.allowed(d, viewer.role) if viewer.role in MOVERS else (),
            }
            if status in (Status.RESULT_READY, Status.RETURNED_TO_OFFICE):
                groups["to_hand"].append(row)
            elif status is Status.POSTED:
                groups["to_collect"].append(row)
            else:
                groups["out"].append(row)
        return page(request, "post.html", viewer, groups=groups, done=_done_message(request))

    # --- a paper dossier received at the counter ---------------------------------------------

    @console.get("/counter", response_class=HTMLResponse)
    async def counter_page(request: Request) -> Response:
        viewer = await viewer_of(request)
        require(request, viewer, frozenset({Role.OFFICER}))
        return counter_form(request, viewer)

    def counter_form(
        request: Request,
        viewer: Viewer,
        status_code: int = 200,
        error: str = "",
        form: Mapping[str, str] | None = None,
    ) -> Response:
        scope = viewer.communes
        communes = [c for c in commune_names if scope is None or c in scope]
        return page(
            request,
            "counter.html",
            viewer,
            status_code,
            procedures=procedures,
            communes=communes,
            error=error,
            form=form or {},
            key=(form or {}).get("key") or uuid.uuid4().hex,
        )

    @console.post("/counter")
    async def counter_file(request: Request) -> Response:
        viewer = await viewer_of(request)
        form = await posted_form(request, viewer)
        require(request, viewer, frozenset({Role.OFFICER}))
        commune = form.get("commune", "")
        if commune not in commune_names or not viewer.covers(commune):
            raise forbidden(request, viewer)
        procedure = catalogue.get(form.get("procedure", ""))
        if procedure is None:
            return counter_form(request, viewer, 400, texts.COUNTER_PROCEDURE, form)
        name = parse_name(form.get("name", ""))
        if isinstance(name, Invalid):
            return counter_form(request, viewer, 400, texts.COUNTER_NAME, form)
        phone = parse_phone(form.get("phone", ""))
        if isinstance(phone, Invalid):
            return counter_form(request, viewer, 400, texts.COUNTER_PHONE, form)
        key = "".join(c for c in form.get("key", "") if c.isalnum())[:32] or uuid.uuid4().hex
        fields = _counter_fields(procedure, str(name.value), str(phone.value))
        try:
            receipt_ = await office.receive(
                Submission(
                    submission_key=f"{COUNTER_CHANNEL}:{key}",
                    commune_code=commune,
                    procedure_code=procedure.code,
                    # No chat to tell: the citizen holds the paper receipt.
                    filer_key=ConversationKey(COUNTER_CHANNEL, "", ""),
                    submitted_at=datetime.now().astimezone(),
                    fields=fields,
                    filer={
                        "for_self": True,
                        "relation": "",
                        "name": name.value,
                        "phone": phone.value,
                    },
                ),
                actor=viewer.actor,
                role=Role.OFFICER,
            )
        except UnknownProcedure:
            return counter_form(request, viewer, 400, texts.COUNTER_PROCEDURE, form)
        return RedirectResponse(
            f"{PREFIX}/dossiers/{quote(receipt_.code)}?done=filed", status_code=303
        )

    # --- volunteers: requests to file for villagers, approved by an officer ----------------

    async def volunteers_page(
        request: Request, viewer: Viewer, status_code: int = 200, **more: str
    ) -> Response:
        require(request, viewer, READERS)
        if volunteers is None:
            raise not_found(request, viewer)
        return page(
            request,
            "volunteers.html",
            viewer,
            status_code,
            pending=await volunteers.pending(viewer.communes),
            approved=await volunteers.approved_in(viewer.communes),
            may_decide=viewer.role is Role.OFFICER,
            texts=texts,
            **more,
        )

    @console.get("/volunteers", response_class=HTMLResponse)
    async def volunteers_list(request: Request) -> Response:
        viewer = await viewer_of(request)
        done = request.query_params.get("done", "")
        message = {
            "approved": texts.VOLUNTEER_APPROVED,
            "rejected": texts.VOLUNTEER_REJECTED,
            "disabled": texts.VOLUNTEER_DISABLED,
        }
        return await volunteers_page(request, viewer, done=message.get(done, ""))

    @console.post("/volunteers/{volunteer_id}")
    async def volunteer_decide(volunteer_id: int, request: Request) -> Response:
        viewer = await viewer_of(request)
        form = await posted_form(request, viewer)
        require(request, viewer, frozenset({Role.OFFICER}))
        decision = form.get("decision", "")
        if volunteers is None or decision not in ("approve", "reject"):
            raise not_found(request, viewer)
        decided = await volunteers.decide(
            volunteer_id,
            decision == "approve",
            actor=viewer.actor,
            commune_codes=viewer.communes,
            now=datetime.now().astimezone(),
        )
        if decided is None:  # decided already, or another commune's: nothing leaks
            return await volunteers_page(request, viewer, 404, error=texts.VOLUNTEER_GONE)
        return RedirectResponse(f"{PREFIX}/volunteers?done={decided.status}", status_code=303)

    @console.post("/volunteers/{volunteer_id}/disable")
    async def volunteer_disable(volunteer_id: int, request: Request) -> Response:
        """Revoke an approved volunteer: they are told in the chat and file for nobody more."""
        viewer = await viewer_of(request)
        await posted_form(request, viewer)
        require(request, viewer, frozenset({Role.OFFICER}))
        if volunteers is None:
            raise not_found(request, viewer)
        disabled = await volunteers.disable(
            volunteer_id,
            actor=viewer.actor,
            commune_codes=viewer.communes,
            now=datetime.now().astimezone(),
        )
        if disabled is None:  # not approved (any more), or another commune's
            return await volunteers_page(request, viewer, 404, error=texts.VOLUNTEER_NOT_APPROVED)
        return RedirectResponse(f"{PREFIX}/volunteers?done=disabled", status_code=303)

    # --- accounts -------------------------------------------------------------------------

    def manageable(viewer: Viewer, commune_code: str) -> bool:
        """A province-wide administrator manages every account; a commune's, its own."""
        return viewer.communes is None or commune_code in viewer.communes

    async def accounts_form(
        request: Request,
        viewer: Viewer,
        status_code: int = 200,
        *,
        error: str = "",
        created: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
    ) -> Response:
        shown = [a for a in await accounts.list() if manageable(viewer, a.commune_code)]
        scope = viewer.communes
        communes = [c for c in commune_names if scope is None or c in scope]
        return page(
            request,
            "accounts.html",
            viewer,
            status_code,
            accounts=shown,
            roles=[r.value for r in CONSOLE_ROLES],
            communes=communes,
            province=viewer.communes is None,
            created=created or {},
            form=form or {},
            error=error,
            done=_done_message(request),
        )

    @console.get("/accounts", response_class=HTMLResponse)
    async def accounts_page(request: Request) -> Response:
        viewer = await viewer_of(request)
        require(request, viewer, frozenset({Role.ADMIN}))
        return await accounts_form(request, viewer)

    @console.post("/accounts")
    async def add_account(request: Request) -> Response:
        viewer = await viewer_of(request)
        form = await posted_form(request, viewer)
        require(request, viewer, frozenset({Role.ADMIN}))
        commune = form.get("commune", "")
        if not (commune == PROVINCE and viewer.communes is None) and not (
            commune in commune_names and manageable(viewer, commune)
        ):
            raise forbidden(request, viewer)
        try:
            account, password = await accounts.add(
                form.get("name", ""), form.get("role", ""), commune, actor=viewer.actor
            )
        except AccountError as exc:
            return await accounts_form(request, viewer, 400, error=str(exc), form=form)
        # Shown this once, on this answer (no-store), never kept or sent again.
        return await accounts_form(
            request, viewer, created={"name": account.name, "password": password}
        )

    async def managed(request: Request, viewer: Viewer, name: str) -> str:
        target = next((a for a in await accounts.list() if a.name == name), None)
        if target is None or not manageable(viewer, target.commune_code):
            raise not_found(request, viewer)
        if target.name == viewer.name:
            raise forbidden(request, viewer)  # not one's own: nobody locks themselves out
        return target.name

    @console.post("/accounts/{name}/disable")
    async def disable_account(name: str, request: Request) -> Response:
        viewer = await viewer_of(request)
        await posted_form(request, viewer)
        require(request, viewer, frozenset({Role.ADMIN}))
        await accounts.disable(await managed(request, viewer, name), actor=viewer.actor)
        return RedirectResponse(f"{PREFIX}/accounts?done=disabled", status_code=303)

    @console.post("/accounts/{name}/enable")
    async def enable_account(name: str, request: Request) -> Response:
        viewer = await viewer_of(request)
        await posted_form(request, viewer)
        require(request, viewer, frozenset({Role.ADMIN}))
        await accounts.enable(await managed(request, viewer, name), actor=viewer.actor)
        return RedirectResponse(f"{PREFIX}/accounts?done=enabled", status_code=303)

    @console.post("/accounts/{name}/reset")
    async def reset_account(name: str, request: Request) -> Response:
        viewer = await viewer_of(request)
        await posted_form(request, viewer)
        require(request, viewer, frozenset({Role.ADMIN}))
        target = await managed(request, viewer, name)
        password = await accounts.reset_password(target, actor=viewer.actor)
        if password is None:
            raise not_found(request, viewer)
        return await accounts_form(
            request, viewer, created={"name": target, "password": password, "reset": "1"}
        )

    # --- "Gặp cán bộ": the live inbox ---------------------------------------------------------

    def handoff_row(h: Handoff) -> dict[str, Any]:
        return {
            "id": h.id,
            "url": f"{PREFIX}/handoffs/{h.id}",
            "channel": texts.CHANNELS.get(h.key.channel, h.key.channel),
            "commune": commune_names.get(h.commune_code, h.commune_code),
            "opened": f"{h.opened_at.astimezone(tz):%d/%m %H:%M}",
            "last": f"{h.last_at.astimezone(tz):%d/%m %H:%M}",
            "unread": h.unread,
            "waiting": h.waiting,
            "open": h.is_open,
            "claimed_by": h.claimed_by or "",
            "state": texts.handoff_state(h.is_open, h.waiting, h.claimed_by, h.closed_by),
        }

    def line_row(line: Line) -> dict[str, Any]:
        if line.by_officer:
            who, kind = texts.HANDOFF_OFFICER.format(name=line.officer), "officer"
        elif line.author == "citizen":
            who, kind = texts.HANDOFF_CITIZEN, "citizen"
        else:
            who, kind = texts.HANDOFF_ASSISTANT, "assistant"
        return {
            "id": line.id,
            "at": f"{line.at.astimezone(tz):%d/%m %H:%M}",
            "who": who,
            "kind": kind,
            "text": line.text,
        }

    async def listed(viewer: Viewer) -> list[Handoff]:
        since = datetime.now(tz) - timedelta(days=1)
        return await handoffs.list(viewer.communes, closed_since=since)

    async def visible_handoff(request: Request, viewer: Viewer, handoff_id: int) -> Handoff:
        found = await handoffs.get(handoff_id)
        if found is None or viewer.role not in READERS or not viewer.covers(found.commune_code):
            raise not_found(request, viewer)
        return found

    async def handoff_page(
        request: Request, viewer: Viewer, found: Handoff, status_code: int = 200, error: str = ""
    ) -> Response:
        lines = await handoffs.lines(found.key)
        dossiers = await office.list(
            DossierQuery(filer=found.key, commune_codes=viewer.communes, limit=20)
        )
        await audit.record(
            viewer.actor, "handoff:view", f"handoff:{found.id}", {}, datetime.now(tz)
        )
        return page(
            request,
            "handoff.html",
            viewer,
            status_code,
            h=handoff_row(found),
            handoff=found,
            lines=[line_row(line) for line in lines],
            after=lines[-1].id if lines else 0,
            dossiers=dossiers,
            names={p.code: p.name for p in procedures},
            may_answer=viewer.role is Role.OFFICER and found.is_open,
            error=error,
            done=texts.HANDOFF_DONE.get(request.query_params.get("done", ""), ""),
        )

    @console.get("/handoffs", response_class=HTMLResponse)
    async def handoffs_page(request: Request) -> Response:
        viewer = await viewer_of(request)
        require(request, viewer, READERS)
        rows = [handoff_row(h) for h in await listed(viewer)]
        return page(request, "handoffs.html", viewer, rows=rows)

    @console.get("/handoffs.json")
    async def handoffs_json(request: Request) -> Response:
        # Polled by live.js: it does not keep an idle session alive.
        viewer = await polling_viewer(request)
        require(request, viewer, READERS)
        rows = [handoff_row(h) for h in await listed(viewer)]
        waiting = sum(1 for r in rows if r["open"] and (r["unread"] or not r["claimed_by"]))
        return JSONResponse({"rows": rows, "waiting": waiting})

    @console.get("/handoffs/{handoff_id}", response_class=HTMLResponse)
    async def show_handoff(handoff_id: int, request: Request) -> Response:
        viewer = await viewer_of(request)
        return await handoff_page(
            request, viewer, await visible_handoff(request, viewer, handoff_id)
        )

    @console.get("/handoffs/{handoff_id}/lines.json")
    async def handoff_lines(handoff_id: int, request: Request) -> Response:
        viewer = await polling_viewer(request)
        found = await visible_handoff(request, viewer, handoff_id)
        after = request.query_params.get("after", "0")
        lines = await handoffs.lines(found.key, after=int(after) if after.isdigit() else 0)
        return JSONResponse(
            {"lines": [line_row(line) for line in lines], "handoff": handoff_row(found)}
        )

    async def officer_change(
        request: Request, handoff_id: int
    ) -> tuple[Viewer, Handoff, Mapping[str, str]]:
        viewer = await viewer_of(request)
        form = await posted_form(request, viewer)
        found = await visible_handoff(request, viewer, handoff_id)  # 404 before the role
        require(request, viewer, frozenset({Role.OFFICER}))
        return viewer, found, form

    def back_to(found: Handoff, done: str) -> Response:
        return RedirectResponse(f"{PREFIX}/handoffs/{found.id}?done={done}", status_code=303)

    @console.post("/handoffs/{handoff_id}/answer")
    async def answer_handoff(handoff_id: int, request: Request) -> Response:
        viewer, found, form = await officer_change(request, handoff_id)
        body = form.get("text", "").strip()
        if not body:
            return await handoff_page(request, viewer, found, 400, texts.HANDOFF_EMPTY)
        result = await handoffs.answer(found.id, viewer.name, body[:2000], datetime.now(tz))
        if isinstance(result, str):
            message = texts.HANDOFF_CLOSED if result == CLOSED_ALREADY else texts.HANDOFF_TAKEN
            current = await visible_handoff(request, viewer, handoff_id)
            return await handoff_page(request, viewer, current, 409, message)
        await audit.record(
            viewer.actor,
            "handoff:answer",
            f"handoff:{found.id}",
            {"line": result.id, "characters": len(result.text)},
            datetime.now(tz),
        )
        return back_to(found, "answered")

    @console.post("/handoffs/{handoff_id}/claim")
    async def claim_handoff(handoff_id: int, request: Request) -> Response:
        viewer, found, _ = await officer_change(request, handoff_id)
        refused = await handoffs.claim(found.id, viewer.name)
        if refused is not None:
            message = texts.HANDOFF_CLOSED if refused == CLOSED_ALREADY else texts.HANDOFF_TAKEN
            current = await visible_handoff(request, viewer, handoff_id)
            return await handoff_page(request, viewer, current, 409, message)
        await audit.record(
            viewer.actor, "handoff:claim", f"handoff:{found.id}", {}, datetime.now(tz)
        )
        return back_to(found, "claimed")

    @console.post("/handoffs/{handoff_id}/close")
    async def close_handoff(handoff_id: int, request: Request) -> Response:
        viewer, found, _ = await officer_change(request, handoff_id)
        if not await handoffs.close(found.id, viewer.name, datetime.now(tz)):
            current = await visible_handoff(request, viewer, handoff_id)
            return await handoff_page(request, viewer, current, 409, texts.HANDOFF_CLOSED)
        await audit.record(
            viewer.actor, "handoff:close", f"handoff:{found.id}", {}, datetime.now(tz)
        )
        return back_to(found, "closed")

    @console.get("/static/live.js")
    async def live_script() -> Response:
        from importlib import resources

        body = resources.files("backoffice.console").joinpath("static/live.js").read_bytes()
        return Response(body, media_type="text/javascript; charset=utf-8")

    @console.get("/static/console.css")
    async def stylesheet() -> Response:
        from importlib import resources

        body = resources.files("backoffice.console").joinpath("static/console.css").read_bytes()
        return Response(body, media_type="text/css; charset=utf-8")

    if dashboard is not None:
        from backoffice.console import stats

        stats.add_routes(
            console,
            dashboard,
            viewer_of=viewer_of,
            forbidden=forbidden,
            page=page,
            commune_names=commune_names,
        )
    if announcements is not None:
        from backoffice.console import announcements as announcing

        announcing.add_routes(
            console,
            announcements,
            audit,
            viewer_of=viewer_of,
            posted_form=posted_form,
            forbidden=forbidden,
            not_found=not_found,
            page=page,
            commune_names=commune_names,
            channels=announce_channels,
            sent=announced,
        )
    if leader_chats is not None:
        from backoffice.console import stats

        stats.add_link_routes(
            console,
            leader_chats,
            viewer_of=viewer_of,
            posted_form=posted_form,
            forbidden=forbidden,
            page=page,
        )
    return console


# --- helpers ----------------------------------------------------------------------------------


def _done_message(request: Request) -> str:
    done = request.query_params.get("done", "")
    if done == "password":
        return texts.PASSWORD_CHANGED
    if done == "filed":
        return texts.FILED
    if done == "extended":
        return "Đã hẹn lại ngày trả kết quả và gửi lời xin lỗi tới công dân."
    if done == "disabled":
        return "Đã khóa tài khoản."
    if done == "enabled":
        return "Đã mở khóa tài khoản."
    try:
        return texts.MOVED.format(status=texts.status_label(Status(done)))
    except ValueError:
        return ""


def _who_did(event: Any) -> str:
    """A history step's author as the officer reads it: the account's name for console
    steps, the role for a citizen's chat (its address is a session hash, not a name)."""
    actor = str(getattr(event, "actor", ""))
    role = str(getattr(event, "role", ""))
    if actor.startswith("console:"):
        return actor.removeprefix("console:")
    if role == Role.CITIZEN.value or not actor:
        return texts.role_label(Role.CITIZEN.value)
    return actor


def _display(value: Any) -> str:
    if isinstance(value, Mapping):
        return _address(value)
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, list | tuple):
        return ", ".join(_display(v) for v in value)
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return f"{date.fromisoformat(value):%d/%m/%Y}"
        except ValueError:
            return value
    return "" if value is None else str(value)


def _address(value: Mapping[str, Any] | None) -> str:
    if not value:
        return ""
    if isinstance(value.get("display"), str) and value["display"]:
        return str(value["display"])
    if "commune_name" in value and "province_name" in value:
        return address_display({k: str(v) for k, v in value.items()})
    return ", ".join(str(v) for v in value.values() if isinstance(v, str) and v)


def _answers(fields: Mapping[str, Any], labels: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(labels.get(key, key), _display(value)) for key, value in fields.items()]


def _applicant(dossier: Dossier) -> dict[str, str]:
    filer = dossier.filer
    behalf = dossier.on_behalf_of or {}
    name = str(behalf.get("name") or filer.get("name") or "")
    phone = str(behalf.get("phone") or filer.get("phone") or "")
    if not name:
        name = next(
            (
                str(v)
                for k, v in dossier.fields.items()
                if k.endswith("name") and isinstance(v, str)
            ),
            "",
        )
    return {"name": name, "phone": phone}


def _recipient(dossier: Dossier) -> dict[str, str]:
    """Who the postman asks for, and the phone the post calls (the postal form's own)."""
    postal = dossier.postal_address or {}
    applicant = _applicant(dossier)
    return {
        "name": str(postal.get("recipient") or applicant["name"]),
        "phone": str(postal.get("phone") or applicant["phone"]),
        "address": _address(postal),
    }


def _counter_fields(procedure: Any, name: str, phone: str) -> dict[str, Any]:
    """The name and phone under the procedure's own field names, so that the receipt slip
    and the dossier page read them like a chat filing's answers."""
    name_field, phone_field = "requester_name", "phone"
    form = getattr(procedure, "form", None)
    if form is not None:
        name_field = next((f.name for f in form.fields if f.kind == "name"), name_field)
        phone_field = next((f.name for f in form.fields if f.kind == "phone"), phone_field)
    return {name_field: name, phone_field: phone}


__all__ = ["COOKIE", "PREFIX", "ConsoleHeaders", "ReceiptSource", "router"]
