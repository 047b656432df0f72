"""Web chat channel: JSON frames over a WebSocket, translated to and from core values.

Frames from the browser are untrusted input: anything malformed is dropped (returns ``None``),
never raised into the conversation.

Browser → server::

    {"type": "text", "id": "c-17", "text": "làm giấy khai sinh cần gì"}
    {"type": "button", "id": "c-18", "payload": "menu", "text": "Menu chính"}

Server → browser::

    {"type": "reply", "text": "...", "buttons": [[{"text": "...", "payload": "..."}]]}
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Any

from dialogs.model import ConversationKey, Inbound, Reply

CHANNEL = "web"
MAX_TEXT = 2000  # a chat message, not a document
MAX_PAYLOAD = 64  # same bound as Telegram's callback_data
MAX_ID = 64


def page_html() -> str:
    """The chat page: one self-contained file, no CDN, no external font."""
    return resources.files("handlers").joinpath("static/webchat.html").read_text(encoding="utf-8")


def inbound_from_frame(frame: Any, session_id: str, now: datetime) -> Inbound | None:
    if not isinstance(frame, dict):
        return None
    kind = frame.get("type")
    message_id = frame.get("id")
    if not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_ID:
        return None
    key = ConversationKey(channel=CHANNEL, chat_id=session_id, user_id=session_id)
    text = frame.get("text", "")
    if not isinstance(text, str):
        return None
    text = text.strip()[:MAX_TEXT]
    if kind == "text":
        if not text:
            return None
        return Inbound(key=key, message_id=message_id, received_at=now, text=text)
    if kind == "button":
        payload = frame.get("payload")
        if not isinstance(payload, str) or not 0 < len(payload.encode()) <= MAX_PAYLOAD:
            return None
        return Inbound(key=key, message_id=message_id, received_at=now, text=text, payload=payload)
    return None


def reply_to_frame(reply: Reply) -> dict[str, Any]:
    return {
        "type": "reply",
        "text": reply.text,
        "buttons": [[{"text": b.text, "payload": b.payload} for b in row] for row in reply.buttons],
    }
