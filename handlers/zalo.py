"""The Zalo Official Account channel: webhook events in, CS messages and templates out.

Zalo posts JSON events signed with ``X-ZEvent-Signature`` (§3 of protocols.md). Every id in
them is a string longer than a double can hold, so ids are never parsed as numbers. Zalo CS
messages have no buttons: they become numbered lines, and a reply of a bare number ("2") is
mapped back to that button's payload while the last reply still showed those buttons.

Messages to a user are free only within 7 days of their last interaction; later, status
notices go out as pre-approved template messages to their phone, or wait for their next visit.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import mimetypes
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dialogs.model import Attachment, Contact, ConversationKey, Inbound, Reply
from dialogs.texts import zalo as texts
from dialogs.validators import to_e164_vn
from handlers.channel import Conversations, WebOptions, capped_body
from handlers.zalo_client import (
    MAX_TEXT,
    ZaloClient,
    ZaloError,
    ZaloOutsideWindow,
)

log = logging.getLogger(__name__)

CHANNEL = "zalo"
SIGNATURE_HEADER = "x-zevent-signature"
WINDOW = timedelta(days=7)
# Zalo documents no redelivery window; an hour covers its retries and a slow queue.
EVENT_MAX_AGE = timedelta(hours=1)
EVENT_MAX_AHEAD = timedelta(minutes=5)
MAX_BODY = 64 * 1024  # an event is a few hundred bytes; attachments come as URLs
MAX_ID = 64
MAX_CHOICE_DIGITS = 2

Handler = Callable[[Inbound], Awaitable[Sequence[Reply]]]
_MESSAGE_ID = re.compile(r"[A-Za-z0-9]{1,64}")  # Zalo's msg_id: hex, never a made-up one
_MESSAGE_EVENTS = frozenset({"user_send_text", "user_send_image", "user_send_file"})


# --- Webhook signature ------------------------------------------------------------------------


def verify_signature(
    raw_body: bytes, header: str | None, *, app_id: str, secret: str, oa_id: str = ""
) -> bool:
    """``X-ZEvent-Signature: mac=<sha256(app_id + body + timestamp + secret)>``, a plain hash.

    Some integrations put the OA id first instead of the app id; pass ``oa_id`` to accept that
    too (which one matched is logged, to settle the question on a real OA).
    """
    try:
        event = json.loads(raw_body)
    except ValueError:
        return False
    if not isinstance(event, dict):
        return False
    return _signature_ok(raw_body, event, header, app_id=app_id, secret=secret, oa_id=oa_id)


def _signature_ok(
    raw_body: bytes,
    event: Mapping[str, Any],
    header: str | None,
    *,
    app_id: str,
    secret: str,
    oa_id: str,
) -> bool:
    if not header or not secret:
        return False
    given = header.strip()
    if given[:4].lower() == "mac=":
        given = given[4:]
    given_bytes = given.strip().lower().encode()
    timestamp = event.get("timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, str | int):
        return False
    tail = raw_body + str(timestamp).encode() + secret.encode()
    for name, first in (("app_id", app_id), ("oa_id", oa_id)):
        if not first:
            continue
        expected = hashlib.sha256(first.encode() + tail).hexdigest().encode()
        if hmac.compare_digest(expected, given_bytes):
            log.debug("Zalo signature matched with %s first", name)
            return True
    return False


def _recent(timestamp: object, now: datetime) -> bool:
    """An event's epoch-ms timestamp within :data:`EVENT_MAX_AGE` before now (and at most
    :data:`EVENT_MAX_AHEAD` after, for clock skew)."""
    if not isinstance(timestamp, str | int) or isinstance(timestamp, bool):
        return False
    try:
        at = datetime.fromtimestamp(int(timestamp) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return False
    return now - EVENT_MAX_AGE <= at <= now + EVENT_MAX_AHEAD


# --- Events → Inbound -------------------------------------------------------------------------


def inbound_from_event(event: Mapping[str, Any], now: datetime) -> Inbound | None:
    """The Inbound for a user's event; None for events the conversation does not see."""
    name = event.get("event_name")
    timestamp = _string(event.get("timestamp"))
    if name == "follow":
        user = _id_of(event.get("follower"))
        if not user:
            return None
        return Inbound(
            key=_key(user),
            message_id=f"follow:{user}:{timestamp}",
            received_at=now,
            text="/start",
        )
    if name != "user_submit_info" and name not in _MESSAGE_EVENTS:
        return None
    user = _id_of(event.get("sender"))
    if not user:
        return None
    raw_message = event.get("message")
    message: Mapping[str, Any] = raw_message if isinstance(raw_message, dict) else {}
    msg_id = _string(message.get("msg_id"))
    if name == "user_submit_info":
        return _submitted_info(event, user, msg_id or f"submit_info:{user}:{timestamp}", now)
    if not 0 < len(msg_id) <= MAX_ID:
        return None
    text = _string(message.get("text")).strip()[:MAX_TEXT]
    if name == "user_send_text":
        if not text:
            return None
        return Inbound(key=_key(user), message_id=msg_id, received_at=now, text=text)
    attachments = _attachments(message, photo=name == "user_send_image", group=msg_id)
    if not attachments:
        return None
    return Inbound(
        key=_key(user), message_id=msg_id, received_at=now, text=text, attachments=attachments
    )


def _submitted_info(
    event: Mapping[str, Any], user: str, message_id: str, now: datetime
) -> Inbound | None:
    # Sources disagree on whether the fields sit under "info" or at the top level.
    info = event.get("info")
    fields: Mapping[str, Any] = info if isinstance(info, dict) else event
    phone = _string(fields.get("phone")).strip()
    if not phone or len(phone) > 20:
        return None
    return Inbound(
        key=_key(user),
        message_id=message_id,
        received_at=now,
        contact=Contact(phone=phone, user_id=user),
    )


def _attachments(message: Mapping[str, Any], *, photo: bool, group: str) -> tuple[Attachment, ...]:
    raw = message.get("attachments")
    if not isinstance(raw, list):
        return ()
    found = []
    for item in raw:
        payload = item.get("payload") if isinstance(item, dict) else None
        if not isinstance(payload, dict):
            continue
        url = _string(payload.get("url"))
        if not url.startswith(("https://", "http://")):
            continue
        if photo:
            found.append(Attachment(kind="photo", ref=url))
            continue
        filename = _string(payload.get("name"))
        size = _string(payload.get("size"))
        found.append(
            Attachment(
                kind="document",
                ref=url,
                filename=filename,
                mime_type=mimetypes.guess_type(filename)[0] or "",
                size=int(size) if size.isascii() and size.isdigit() else None,
            )
        )
    if len(found) > 1:
        found = [replace(a, group_id=group) for a in found]
    return tuple(found)


def _key(user: str) -> ConversationKey:
    return ConversationKey(channel=CHANNEL, chat_id=user, user_id=user)


def _id_of(party: Any) -> str:
    if not isinstance(party, dict):
        return ""
    value = party.get("id")
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID else ""


def _string(value: Any) -> str:
    # Ids and timestamps are strings; a number here would already have lost digits.
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


# --- Numbered choices -------------------------------------------------------------------------


class ChoiceMemory(Protocol):
    """Per user, the payloads of the numbered buttons shown last (empty: none shown)."""

    async def get(self, user_id: str) -> tuple[str, ...]: ...

    async def put(self, user_id: str, payloads: tuple[str, ...]) -> None: ...


def render_text(
    reply: Reply, first_number: int = 1, *, hint: bool = False, numbered: bool = True
) -> str:
    """A reply's text with its buttons as numbered lines, numbering from ``first_number``;
    with ``numbered`` off (the question wants a number), as bullets to be typed in words."""
    lines = [reply.text] if reply.text else []
    buttons = reply.flat_buttons()
    if numbered:
        lines += [texts.numbered(first_number + i, b.text) for i, b in enumerate(buttons)]
    else:
        lines += [texts.bulleted(b.text) for b in buttons]
    if hint and reply.buttons:
        lines.append(texts.CHOOSE_HINT if numbered else texts.TYPE_WORDS_HINT)
    return "\n".join(lines)


# --- The channel ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sent:
    via: str  # "cs" (within the 7-day window) or "template"
    message_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Deferred:
    """Nothing could be sent now: keep the notice and give it at the citizen's next contact."""

    reason: str  # "no_template", "no_phone", "bad_phone"


NotifyResult = Sent | Deferred


class Inbox(Protocol):
    """Accepted events kept until their turn is taken (bot/zalo_inbox.py: outbox rows), so
    the webhook answers Zalo before the turn and a worker that dies loses nothing."""

    async def record(self, raw_body: bytes) -> None: ...

    async def run(self, stop: asyncio.Event) -> None: ...


class ZaloChannel:
    """The Zalo OA: its webhook, its sending rules (numbered buttons, the 7-day window,
    replies naming the message they answer) and, with an ``inbox``, turns taken after the
    webhook has answered."""

    name = CHANNEL

    def __init__(
        self,
        client: ZaloClient,
        handle: Handler,
        *,
        app_id: str,
        oa_secret: str,
        clock: Callable[[], datetime],
        last_interaction: Callable[[str], Awaitable[datetime | None]],
        memory: ChoiceMemory,
        template_id: str = "",
        phone_for: Callable[[str], Awaitable[str | None]] | None = None,
        oa_id: str = "",
        contact_image_url: str = "",
    ) -> None:
        self._client = client
        self._handle = handle
        self._app_id = app_id
        self._oa_secret = oa_secret
        self._oa_id = oa_id
        self._clock = clock
        self._last_interaction = last_interaction
        self._memory = memory
        self._template_id = template_id
        self._phone_for = phone_for
        self._contact_image_url = contact_image_url
        # Set by whoever keeps accepted events (bot/): without one, the turn runs before the
        # webhook answers (a tool's app, no background loop).
        self.inbox: Inbox | None = None

    # --- what the server does for it ---------------------------------------------------------

    def routes(self, conversations: Conversations, web: WebOptions) -> APIRouter:
        router = APIRouter()

        @router.post("/zalo/webhook")
        async def zalo_webhook(request: Request) -> JSONResponse:
            if not self.signed(request.headers):
                return JSONResponse({"error": "bad signature"}, status_code=401)
            raw = await capped_body(request, self.body_limit)
            if raw is None:
                return JSONResponse({"error": "too large"}, status_code=413)
            inbox = self.inbox
            if inbox is None:
                status, body = await self.handle_webhook(request.headers, raw)
                return JSONResponse(body, status_code=status)
            # Answered before the turn, and only once the event is committed.
            status, body, inbound = self.accept(request.headers, raw)
            if inbound is not None:
                await inbox.record(raw)
            return JSONResponse(body, status_code=status)

        return router

    async def run(self, stop: asyncio.Event) -> None:
        """The turns of accepted events, taken from the inbox."""
        if self.inbox is not None:
            await self.inbox.run(stop)

    async def start(self, stop: asyncio.Event) -> str | None:
        return "Zalo OA webhook at /zalo/webhook"

    async def shutdown(self) -> None:
        return None

    async def push(self, key: ConversationKey, replies: Sequence[Reply]) -> bool:
        """Write first: raises :class:`handlers.channel.WindowClosed` (ZaloOutsideWindow)
        outside the 7-day window."""
        await self.send(key.user_id, replies, pushed=True)
        return True

    async def handle_webhook(
        self, headers: Mapping[str, str], raw_body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Check, translate and answer one webhook POST; returns (HTTP status, JSON body)."""
        status, body, inbound = self.accept(headers, raw_body)
        if inbound is not None:
            await self.process(inbound)
        return status, body

    body_limit = MAX_BODY  # the web server stops reading a webhook body there

    def signed(self, headers: Mapping[str, str]) -> bool:
        """The request carries a signature at all: checked before the body is read (the
        signature itself covers the body, so it is verified in :meth:`accept`)."""
        return bool(self._oa_secret) and bool((_header(headers, SIGNATURE_HEADER) or "").strip())

    def accept(
        self, headers: Mapping[str, str], raw_body: bytes
    ) -> tuple[int, dict[str, Any], Inbound | None]:
        """The quick half of a webhook: check and translate, no I/O.

        For answering Zalo within its ~2 s before the turn is done, return the status at once
        and run :meth:`process` on the Inbound in the background (in order per user).
        """
        if len(raw_body) > MAX_BODY:
            return 413, {"error": "too large"}, None
        try:
            event = json.loads(raw_body)
        except ValueError:
            return 400, {"error": "bad json"}, None
        if not isinstance(event, dict):
            return 400, {"error": "bad json"}, None
        header = _header(headers, SIGNATURE_HEADER)
        if not _signature_ok(
            raw_body,
            event,
            header,
            app_id=self._app_id,
            secret=self._oa_secret,
            oa_id=self._oa_id,
        ):
            log.warning("Zalo webhook with a bad or missing signature refused")
            return 401, {"error": "bad signature"}, None
        if not _recent(event.get("timestamp"), self._clock()):
            # The signature covers the timestamp: an old event replayed word for word (a
            # 2020 one was accepted before) is refused, not handled as new.
            log.warning("Zalo webhook with a timestamp outside the accepted window refused")
            return 401, {"error": "stale event"}, None
        return 200, {"ok": True}, inbound_from_event(event, self._clock())

    async def process(self, inbound: Inbound) -> None:
        """Run one turn for an accepted Inbound and send the replies, as answers to it."""
        inbound = await self._with_choice(inbound)
        replies = await self._handle(inbound)
        # Events without a message of their own (follow, shared info) have made-up ids.
        reply_to = inbound.message_id if _MESSAGE_ID.fullmatch(inbound.message_id) else ""
        try:
            await self.send(inbound.key.user_id, replies, reply_to=reply_to)
        except (ZaloError, httpx.HTTPError) as exc:
            # Not retried: a redelivery of the event would be dropped as a duplicate anyway.
            log.warning("sending Zalo replies failed: %s", exc)

    async def _with_choice(self, inbound: Inbound) -> Inbound:
        """A bare "2" after numbered buttons means the second button."""
        text = inbound.text
        if (
            inbound.payload is not None
            or inbound.attachments
            or inbound.contact is not None
            or not (text.isascii() and text.isdigit() and len(text) <= MAX_CHOICE_DIGITS)
        ):
            return inbound
        payloads = await self._memory.get(inbound.key.user_id)
        number = int(text)
        if 1 <= number <= len(payloads):
            return replace(inbound, payload=payloads[number - 1])
        return inbound

    async def send(
        self,
        user_id: str,
        replies: Sequence[Reply],
        *,
        pushed: bool = False,
        reply_to: str = "",
    ) -> None:
        """Send one turn (or, ``pushed``, a message written first): texts with numbered
        buttons (numbers run across the turn), files. ``reply_to``: the user's message they
        answer (Zalo counts those as replies, not proactive messages)."""
        if not replies:
            # A duplicate delivery yields no replies; the numbers shown before still stand.
            return
        numbered = not any(reply.number_answer for reply in replies)
        payloads = (
            tuple(b.payload for reply in replies for b in reply.flat_buttons()) if numbered else ()
        )
        # Before sending: the citizen may answer "2" before the last message has gone out.
        # A message written first without buttons (a receipt's PDF) leaves the numbers shown
        # before standing; a turn without buttons clears them.
        if payloads or not pushed:
            await self._memory.put(user_id, payloads)
        last_with_buttons = max((i for i, r in enumerate(replies) if r.buttons), default=-1)
        number = 1
        for index, reply in enumerate(replies):
            text = render_text(reply, number, hint=index == last_with_buttons, numbered=numbered)
            number += len(reply.flat_buttons())
            if text:
                await self._client.send_text(user_id, text, reply_to=reply_to)
            for image in reply.images:
                await self._client.send_image(
                    user_id,
                    image.data,
                    caption=image.caption,
                    filename=image.filename,
                    reply_to=reply_to,
                )
            for document in reply.documents:
                if document.caption:
                    await self._client.send_text(user_id, document.caption, reply_to=reply_to)
                await self._client.send_file(
                    user_id, document.data, document.filename, reply_to=reply_to
                )
            if reply.request_contact and self._contact_image_url:
                await self._client.request_user_info(
                    user_id,
                    title=texts.CONTACT_TITLE,
                    subtitle=texts.CONTACT_SUBTITLE,
                    image_url=self._contact_image_url,
                    reply_to=reply_to,
                )

    async def notify(
        self,
        user_id: str,
        text: str,
        template_data: Mapping[str, Any],
        *,
        tracking_id: str = "",
    ) -> NotifyResult:
        """A status notice: a CS message inside the 7-day window, else a template message.

        Raises :class:`ZaloError` when Zalo refuses (the caller retries later); returns
        :class:`Deferred` when nothing can reach the citizen until they write again.
        """
        last = await self._last_interaction(user_id)
        if last is not None and self._clock() - last < WINDOW:
            try:
                return Sent("cs", tuple(await self._client.send_text(user_id, text)))
            except ZaloOutsideWindow:
                log.info("Zalo says the 7-day window is closed; trying a template message")
        if not self._template_id or self._phone_for is None:
            return Deferred("no_template")
        phone = await self._phone_for(user_id)
        if not phone:
            return Deferred("no_phone")
        try:
            phone_84 = to_e164_vn(phone)
        except ValueError:
            return Deferred("bad_phone")
        msg_id = await self._client.send_template(
            phone_84, self._template_id, template_data, tracking_id or uuid.uuid4().hex
        )
        return Sent("template", (msg_id,))

    async def fetch(self, attachment: Attachment) -> bytes:
        """The attachment fetcher for ``bot/``'s photo checks (``fetchers["zalo"]``).

        Over the cap it raises :class:`handlers.files.FileTooLarge` (ZaloDownloadTooLarge).
        """
        return await self._client.download(attachment.ref)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None
