"""The villager a volunteer is filing for, as the conversation state keeps it.

``state["behalf"]`` holds the villager's name, ID number and phone and how they consented
(``dialogs.volunteer`` fills it); once a filing draft starts for them it names that draft, so
the filing form (``dialogs.filing``) hands it to the office with that draft only: a draft the
volunteer starts later for themselves is never filed in the villager's name.
"""

from __future__ import annotations

from typing import Any

KEY = "behalf"


def on_behalf(state: dict[str, Any], draft_id: str) -> dict[str, Any] | None:
    """The villager record for draft ``draft_id``, or None (the chat files for itself)."""
    record = state.get(KEY)
    if not isinstance(record, dict) or record.get("draft") != draft_id:
        return None
    consent = record.get("consent")
    if not isinstance(consent, dict) or not consent.get("confirmed"):
        return None
    return {
        "name": str(record.get("name", "")),
        "id_number": str(record.get("id_number", "")),
        "phone": str(record.get("phone", "")),
        "consent": {
            "kind": str(consent.get("kind", "")),
            "at": str(consent.get("at", "")),
            "text": str(consent.get("text", "")),
            "photo_sha256": str(consent.get("photo_sha256", "")),
        },
    }
