"""Telegram Bot API update JSON -> :class:`Inbound`: untrusted input, read defensively.

Only private chats and only new messages and button presses reach the dialog; anything we
cannot read is dropped (``None``), never raised into the conversation. Shapes: protocols.md §1.2.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from dialogs.model import Attachment, Contact, ConversationKey, Inbound

CHANNEL: Final = "telegram"
MAX_TEXT_UNITS: Final = 4096  # a Telegram message, in UTF-16 code units
MAX_CALLBACK_BYTES: Final = 64

# Telegram commands -> text the dialog understands. "/help" has no page of its own: the menu
# is the help.
COMMANDS: Final[Mapping[str, str]] = {
    "/start": "/start",
    "/help": "menu",
    "/huy": "/huy",
    "/hoso": "/hoso",
    "/tinhnguyen": "/tinhnguyen",
    "/khaigiup": "/khaigiup",
}
# Message kinds a person sends that we cannot read: they still get an answer (the dialog's
# "I only read text"), unlike service messages, which are ignored.
UNREADABLE_CONTENT: Final = frozenset(
    {
        "sticker",
        "voice",
        "audio",
        "video",
        "video_note",
        "animation",
        "location",
        "venue",
        "poll",
        "dice",
        "game",
        "story",
    }
)


# --- Updates in --------------------------------------------------------------------------------


def inbound_from_update(update: Any, now: datetime) -> Inbound | None:
    """One Update as an :class:`Inbound`, or None when there is nothing for the dialog.

    Only private chats and only new messages and button presses count: group messages,
    edited messages, channel posts and service messages are ignored.
    """
    if not isinstance(update, dict):
        return None
    update_id = update.get("update_id")
    if not _is_int(update_id):
        return None
    message_id = f"u{update_id}"
    message = update.get("message")
    if isinstance(message, dict):
        return _from_message(message, message_id, now)
    callback = update.get("callback_query")
    if isinstance(callback, dict):
        return _from_callback(callback, message_id, now)
    return None


def _from_message(message: dict[str, Any], message_id: str, now: datetime) -> Inbound | None:
    key = _private_key(message.get("chat"), message.get("from"))
    if key is None:
        return None
    sender = message["from"]
    attachments: tuple[Attachment, ...] = ()
    contact: Contact | None = None
    text = ""
    if isinstance(message.get("text"), str):
        text = _command_text(message["text"])
    elif isinstance(message.get("photo"), list):
        photo = _largest_photo(message["photo"], message.get("media_group_id"))
        if photo is None:
            return None
        attachments = (photo,)
    elif isinstance(message.get("document"), dict):
        document = _document(message["document"], message.get("media_group_id"))
        if document is None:
            return None
        attachments = (document,)
    elif isinstance(message.get("contact"), dict):
        # Anyone's card can be shared from the attachment menu; only the sender's own number,
        # sent with the contact button, says which phone this person holds.
        contact = _own_contact(message["contact"], sender["id"])
    elif not UNREADABLE_CONTENT.intersection(message):
        return None
    caption = message.get("caption")
    if attachments and isinstance(caption, str):
        text = _clean_text(caption)
    return Inbound(
        key=key,
        message_id=message_id,
        received_at=now,
        text=text,
        attachments=attachments,
        contact=contact,
    )


def _from_callback(callback: dict[str, Any], message_id: str, now: datetime) -> Inbound | None:
    message = callback.get("message")
    if not isinstance(message, dict):
        return None  # an inline-mode message: not a conversation of ours
    key = _private_key(message.get("chat"), callback.get("from"))
    data = callback.get("data")
    if key is None or not is_valid_payload(data):
        return None
    assert isinstance(data, str)
    return Inbound(
        key=key,
        message_id=message_id,
        received_at=now,
        text=_button_label(message, data),
        payload=data,
    )


def is_valid_payload(data: object) -> bool:
    """Callback data is untrusted: 1–64 bytes of printable text, or it is not ours."""
    return (
        isinstance(data, str)
        and 0 < len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES
        and data.isprintable()
    )


def _private_key(chat: object, sender: object) -> ConversationKey | None:
    if not isinstance(chat, dict) or not isinstance(sender, dict):
        return None
    if chat.get("type") != "private" or sender.get("is_bot") is True:
        return None
    chat_id, user_id = chat.get("id"), sender.get("id")
    if not _is_int(chat_id) or not _is_int(user_id):
        return None
    return ConversationKey(channel=CHANNEL, chat_id=str(chat_id), user_id=str(user_id))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _clean_text(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()[:MAX_TEXT_UNITS]


def _command_text(text: str) -> str:
    """ "/start@motcua_bot thutuc_ks" -> "/start": commands become the words the dialog knows."""
    text = _clean_text(text)
    if not text.startswith("/"):
        return text
    command = text.split(maxsplit=1)[0].partition("@")[0].casefold()
    return COMMANDS.get(command, text)


def _largest_photo(sizes: list[Any], group: object) -> Attachment | None:
    """Telegram sends one photo in several sizes; the biggest is the one worth reading."""
    usable = [
        s
        for s in sizes
        if isinstance(s, dict) and isinstance(s.get("file_id"), str) and s["file_id"]
    ]
    if not usable:
        return None

    def area(size: dict[str, Any]) -> tuple[int, int]:
        width, height = size.get("width"), size.get("height")
        pixels = width * height if isinstance(width, int) and isinstance(height, int) else 0
        return pixels, _size(size.get("file_size")) or 0

    best = max(usable, key=area)
    return Attachment(
        kind="photo",
        ref=best["file_id"],
        size=_size(best.get("file_size")),
        group_id=group if isinstance(group, str) else "",
    )


def _document(document: dict[str, Any], group: object) -> Attachment | None:
    file_id = document.get("file_id")
    if not isinstance(file_id, str) or not file_id:
        return None
    name, mime = document.get("file_name"), document.get("mime_type")
    return Attachment(
        kind="document",
        ref=file_id,
        filename=name if isinstance(name, str) else "",
        mime_type=mime if isinstance(mime, str) else "",
        size=_size(document.get("file_size")),
        group_id=group if isinstance(group, str) else "",
    )


def _size(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _own_contact(contact: dict[str, Any], sender_id: object) -> Contact | None:
    phone, owner = contact.get("phone_number"), contact.get("user_id")
    if not isinstance(phone, str) or not phone.strip() or not _is_int(owner):
        return None
    if owner != sender_id:
        return None
    return Contact(phone=phone.strip(), user_id=str(owner))


def is_foreign_contact(update: Any) -> bool:
    """Someone else's contact card: dropped, and the sender is told to share their own."""
    message = update.get("message") if isinstance(update, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("contact"), dict):
        return False
    sender = message.get("from")
    return (
        _own_contact(message["contact"], sender.get("id") if isinstance(sender, dict) else None)
        is None
    )


def _button_label(message: dict[str, Any], data: str) -> str:
    markup = message.get("reply_markup")
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    for row in rows if isinstance(rows, list) else ():
        for button in row if isinstance(row, list) else ():
            if isinstance(button, dict) and button.get("callback_data") == data:
                text = button.get("text")
                return _clean_text(text) if isinstance(text, str) else ""
    return ""


def callback_query_id(update: Any) -> str | None:
    callback = update.get("callback_query") if isinstance(update, dict) else None
    query_id = callback.get("id") if isinstance(callback, dict) else None
    return query_id if isinstance(query_id, str) and query_id else None


def order_key(update: dict[str, Any]) -> str:
    """Updates with the same key are processed one after another (the chat, else the user)."""
    for kind in ("message", "callback_query"):
        event = update.get(kind)
        if not isinstance(event, dict):
            continue
        message = event.get("message") if kind == "callback_query" else event
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and _is_int(chat.get("id")):
            return f"chat:{chat['id']}"
        sender = event.get("from")
        if isinstance(sender, dict) and _is_int(sender.get("id")):
            return f"user:{sender['id']}"
    return "other"
