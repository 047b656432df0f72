"""Core values shared by every channel, the dialog engine and the bot service.

Every value is a frozen, slotted dataclass and every external id is a ``str``: platform objects
(aiogram ``Update``, Zalo event JSON, a WebSocket frame) never leave ``handlers/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Who we are talking to, and where: enough to write to them later without their writing first."""

    channel: str  # "terminal", "web", "telegram", "zalo"
    chat_id: str
    user_id: str

    def as_str(self) -> str:
        return f"{self.channel}:{self.chat_id}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the user sent. ``ref`` is the channel's handle (Telegram file_id, a URL, a local path)."""

    kind: str  # "photo" or "document"
    ref: str
    filename: str = ""
    mime_type: str = ""
    size: int | None = None
    group_id: str = ""  # album / media group the file arrived in, if any


@dataclass(frozen=True, slots=True)
class Contact:
    """A phone number shared through the channel's own contact button."""

    phone: str
    user_id: str = ""  # whose contact card it is; only the sender's own is trusted


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a user did: typed text, pressed a button (payload), sent files or a contact."""

    key: ConversationKey
    message_id: str
    received_at: datetime
    text: str = ""
    payload: str | None = None
    attachments: tuple[Attachment, ...] = ()
    contact: Contact | None = None


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    payload: str


@dataclass(frozen=True, slots=True)
class Media:
    """An image or document the bot sends: bytes produced by an effect (receipt PDF, QR code)."""

    filename: str
    mime_type: str
    data: bytes = field(repr=False)
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot says. ``buttons`` are rows of buttons; an adapter without buttons numbers them."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    images: tuple[Media, ...] = ()
    documents: tuple[Media, ...] = ()
    request_contact: bool = False

    def flat_buttons(self) -> tuple[Button, ...]:
        return tuple(b for row in self.buttons for b in row)


class Effect:
    """Base class of the side effects a dialog step asks ``bot/`` to carry out."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class HandOff(Effect):
    """The user asked to talk to an officer."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """The result of ``dialogs.advance``: the new state, what to say, what to do."""

    state: dict[str, Any]
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()
