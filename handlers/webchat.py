"""Web chat channel: JSON frames over a WebSocket, translated to and from core values.

Frames from the browser are untrusted input: anything malformed is dropped (returns ``None``),
never raised into the conversation.

Browser → server::

    {"type": "start", "id": "p3k9-1"}                      first visit: show the menu
    {"type": "text", "id": "p3k9-2", "text": "làm giấy khai sinh cần gì"}
    {"type": "button", "id": "p3k9-3", "payload": "menu", "text": "Menu chính"}
    {"type": "photo", "id": "p3k9-4", "refs": ["<upload token>", ...]}

Server → browser::

    {"type": "reply", "re": "p3k9-2", "text": "...", "buttons": [[{"text", "payload"}]],
     "images": [{"url", "caption"}], "documents": [{"url", "caption", "label", "receipt"}]}
    {"type": "done", "id": "p3k9-2"}                       every reply to that frame was sent

Ids come from the page (a random page id plus a counter) and are resent unchanged after a
reconnect; the service drops ids it has seen, so a resend never runs a turn twice. They are
namespaced here by the session, so one browser can never collide with (or block) another's.

Files go the other way over HTTP: the page POSTs each file to ``/upload``, gets back a token,
and sends the tokens in a ``photo`` frame. The bytes wait in a :class:`WebUploads` shelf, in
memory only, until the effect runner fetches them with :meth:`WebUploads.fetch`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any, Final, Literal

from dialogs.model import Attachment, ConversationKey, Inbound, Media, Reply
from dialogs.texts import webchat as texts
from handlers.files import MAX_DOWNLOAD

CHANNEL = "web"
MAX_TEXT = 2000  # a chat message, not a document
MAX_PAYLOAD = 64  # same bound as Telegram's callback_data
MAX_ID = 64
MAX_REFS = 10  # an album on Telegram holds ten; the same bound here
MAX_UPLOAD_BYTES: Final = MAX_DOWNLOAD  # the effect runner's bound for every channel
START_TEXT = "/start"

PageMode = Literal["page", "kiosk", "embed"]

_FRAME_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{32,64}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
STATIC_FILES: Final = {
    "webchat.js": "text/javascript; charset=utf-8",
    "webchat.css": "text/css; charset=utf-8",
}


# --- Sessions --------------------------------------------------------------------------------


class SessionIds:
    """Web chat session ids that only this server can issue: a random part and its HMAC.

    A well-formed id the server never issued is refused (no session fixation: a planted
    cookie cannot name a conversation the planter then reads). The key lives in the database,
    so every worker accepts every worker's ids. Ids issued before ids were signed stay valid
    when their conversation existed before the key did (``legacy``: their public tags)."""

    def __init__(self, key: bytes, legacy: frozenset[str] = frozenset()) -> None:
        if len(key) < 32:
            raise ValueError("the session key must be at least 32 bytes")
        self._key = key
        self._legacy = legacy

    def new(self) -> str:
        token = secrets.token_urlsafe(24)
        return f"{token}.{self._mac(token)}"

    def valid(self, value: str | None) -> bool:
        if value is None or len(value) > 100:
            return False
        token, dot, mac = value.partition(".")
        if dot:
            return _TOKEN.fullmatch(token) is not None and hmac.compare_digest(
                mac, self._mac(token)
            )
        return _SESSION_ID.fullmatch(value) is not None and session_tag(value) in self._legacy

    def _mac(self, token: str) -> str:
        digest = hmac.new(self._key, token.encode("ascii"), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def session_tag(session_id: str) -> str:
    """The session's public name: the cookie itself never reaches the database or a log."""
    digest = hashlib.sha256(session_id.encode("ascii")).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def conversation_key(session_id: str) -> ConversationKey:
    tag = session_tag(session_id)
    return ConversationKey(channel=CHANNEL, chat_id=tag, user_id=tag)


# --- The page --------------------------------------------------------------------------------


def static_file(name: str) -> bytes | None:
    if name not in STATIC_FILES:
        return None
    return resources.files("handlers").joinpath(f"static/{name}").read_bytes()


def page_html(commune_name: str, mode: PageMode = "page", idle_minutes: int = 3) -> str:
    """The chat page, with the commune's name; script and styles are separate static files."""
    template = resources.files("handlers").joinpath("static/webchat.html").read_text("utf-8")
    # "<" escaped inside the JSON block, so no text can close the <script> element early.
    page_texts = json.dumps(texts.PAGE, ensure_ascii=False).replace("<", "\\u003c")
    values = {
        "title": html.escape(f"{texts.TITLE} — {commune_name}"),
        "header": html.escape(texts.header(commune_name)),
        "subtitle": html.escape(texts.SUBTITLE),
        "mode": mode,
        "idle_minutes": str(int(idle_minutes)),
        "texts": page_texts,
        "placeholder": html.escape(texts.PAGE["placeholder"]),
        "question": html.escape(texts.PAGE["question"]),
        "send": html.escape(texts.PAGE["send"]),
        "attach": html.escape(texts.PAGE["attach"]),
        "restart": html.escape(texts.PAGE["restart"]),
        "print": html.escape(texts.PAGE["print"]),
    }
    # One pass, so a commune name that happens to contain "{{...}}" is never expanded.
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


def embed_script(page_url: str) -> str:
    """The one-line embed: the script, told where the chat lives and what its button says."""
    script = resources.files("handlers").joinpath("static/embed.js").read_text("utf-8")
    config = json.dumps(
        {
            "url": page_url,
            "button": texts.EMBED_BUTTON,
            "close": texts.EMBED_CLOSE,
            "title": texts.FRAME_TITLE,
        },
        ensure_ascii=False,
    ).replace("<", "\\u003c")
    return script.replace("/*CONFIG*/{}", config, 1)


# --- Frames ----------------------------------------------------------------------------------


def inbound_from_frame(
    frame: Any, session_id: str, now: datetime, uploads: WebUploads | None = None
) -> Inbound | None:
    if not isinstance(frame, dict):
        return None
    kind = frame.get("type")
    frame_id = frame_id_of(frame)
    if frame_id is None:
        return None
    key = conversation_key(session_id)
    message_id = f"{key.chat_id}.{frame_id}"
    text = frame.get("text", "")
    if not isinstance(text, str):
        return None
    text = text.strip()[:MAX_TEXT]
    if kind == "start":
        return Inbound(key=key, message_id=message_id, received_at=now, text=START_TEXT)
    if kind == "text":
        if not text:
            return None
        return Inbound(key=key, message_id=message_id, received_at=now, text=text)
    if kind == "button":
        payload = frame.get("payload")
        if not isinstance(payload, str) or not 0 < len(payload.encode()) <= MAX_PAYLOAD:
            return None
        return Inbound(key=key, message_id=message_id, received_at=now, text=text, payload=payload)
    if kind == "photo":
        attachments = _attachments(frame.get("refs"), key.chat_id, frame_id, uploads)
        if not attachments:
            return None
        return Inbound(key=key, message_id=message_id, received_at=now, attachments=attachments)
    return None


def frame_id_of(frame: Any) -> str | None:
    """The frame's id when it has a well-formed one (then the page expects a ``done``)."""
    if not isinstance(frame, dict):
        return None
    frame_id = frame.get("id")
    if not isinstance(frame_id, str) or _FRAME_ID.fullmatch(frame_id) is None:
        return None
    return frame_id


def _attachments(
    refs: Any, tag: str, frame_id: str, uploads: WebUploads | None
) -> tuple[Attachment, ...]:
    if not isinstance(refs, list) or not 0 < len(refs) <= MAX_REFS:
        return ()
    tokens = list(dict.fromkeys(r for r in refs if isinstance(r, str) and _TOKEN.fullmatch(r)))
    if len(tokens) != len(refs):
        return ()
    found = []
    for token in tokens:
        # An unknown or expired token still becomes an attachment: fetching it fails, and the
        # dialog then asks for the photo again instead of the page waiting in silence.
        blob = uploads.describe(tag, token) if uploads is not None else None
        mime_type = blob.mime_type if blob else ""
        found.append(
            Attachment(
                kind="document" if mime_type == "application/pdf" else "photo",
                ref=f"{tag}/{token}",
                filename=blob.filename if blob else "",
                mime_type=mime_type,
                size=len(blob.data) if blob else None,
                group_id=frame_id if len(tokens) > 1 else "",
            )
        )
    return tuple(found)


def reply_to_frame(
    reply: Reply, re_id: str = "", link: Callable[[Media], str] | None = None
) -> dict[str, Any]:
    """One reply as a frame; ``link`` keeps a file's bytes and returns the URL to fetch it."""
    images = [{"url": link(m), "caption": m.caption} for m in reply.images] if link else []
    documents = (
        [
            {
                "url": link(m),
                "caption": m.caption,
                "label": texts.download_label(m.filename),
                "receipt": m.filename.startswith("bien-nhan"),
            }
            for m in reply.documents
        ]
        if link
        else []
    )
    return {
        "type": "reply",
        "re": re_id,
        "text": reply.text,
        "buttons": [[{"text": b.text, "payload": b.payload} for b in row] for row in reply.buttons],
        "images": images,
        "documents": documents,
    }


def done_frame(frame_id: str) -> dict[str, Any]:
    return {"type": "done", "id": frame_id}


# --- Files kept for a while ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Blob:
    owner: str  # session tag
    mime_type: str
    filename: str
    data: bytes = field(repr=False)
    expires_at: float = 0.0


class BlobShelf:
    """Bytes kept in memory for one session, behind an unguessable token, for a limited time.

    Bounded in total and per session. When full, a shelf either drops its oldest files (bot
    replies: the newest receipt matters most) or refuses new ones (uploads: a stranger must not
    be able to push out the photo someone else is sending).
    """

    def __init__(
        self,
        *,
        ttl_seconds: float,
        max_total_bytes: int,
        max_owner_bytes: int,
        evict_oldest: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_total = max_total_bytes
        self._max_owner = max_owner_bytes
        self._evict_oldest = evict_oldest
        self._clock = clock
        self._blobs: OrderedDict[str, Blob] = OrderedDict()
        self._total = 0

    @property
    def total_bytes(self) -> int:
        return self._total

    def put(self, owner: str, data: bytes, mime_type: str, filename: str = "") -> str | None:
        """Keep ``data`` for ``owner``; None when there is no room for it."""
        self._expire()
        size = len(data)
        if size > self._max_owner or size > self._max_total:
            return None
        owned = [t for t, b in self._blobs.items() if b.owner == owner]
        owner_total = sum(len(self._blobs[t].data) for t in owned)
        if owner_total + size > self._max_owner:
            if not self._evict_oldest:
                return None
            for token in owned:
                if owner_total + size <= self._max_owner:
                    break
                owner_total -= len(self._blobs[token].data)
                self._drop(token)
        while self._total + size > self._max_total:
            if not self._evict_oldest or not self._blobs:
                return None
            self._drop(next(iter(self._blobs)))
        token = secrets.token_urlsafe(24)
        expires_at = self._clock() + self._ttl
        self._blobs[token] = Blob(owner, mime_type, filename, data, expires_at)
        self._total += size
        return token

    def get(self, token: str, owner: str) -> Blob | None:
        """The blob, only for the session that owns it and only until it expires."""
        self._expire()
        blob = self._blobs.get(token)
        if blob is None or not secrets.compare_digest(blob.owner, owner):
            return None
        return blob

    def _expire(self) -> None:
        now = self._clock()
        # Insertion order is expiry order: every blob gets the same time to live.
        while self._blobs:
            token, blob = next(iter(self._blobs.items()))
            if blob.expires_at > now:
                return
            self._drop(token)

    def _drop(self, token: str) -> None:
        blob = self._blobs.pop(token)
        self._total -= len(blob.data)


class UploadMissingError(LookupError):
    """The upload expired, was never made, or belongs to another session."""


class WebUploads:
    """Files the page uploaded, waiting for the effect runner: raw, unchecked bytes."""

    def __init__(self, shelf: BlobShelf | None = None) -> None:
        self._shelf = shelf or BlobShelf(
            ttl_seconds=30 * 60,
            max_total_bytes=256 * 1024 * 1024,
            max_owner_bytes=3 * MAX_UPLOAD_BYTES,
            evict_oldest=False,
        )

    def add(self, session_id: str, data: bytes, mime_type: str, filename: str) -> str | None:
        """Keep an upload for its session; the token to send in a ``photo`` frame, or None."""
        return self._shelf.put(session_tag(session_id), data, mime_type, filename[:200])

    def describe(self, tag: str, token: str) -> Blob | None:
        return self._shelf.get(token, tag)

    async def fetch(self, attachment: Attachment) -> bytes:
        """The effect runner's fetcher for the ``web`` channel."""
        tag, _, token = attachment.ref.partition("/")
        blob = self._shelf.get(token, tag)
        if blob is None:
            raise UploadMissingError("upload expired or not this session's")
        return blob.data
