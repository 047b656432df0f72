"""Core values shared by every channel, the dialog engine and the bot service.

Every value is a frozen, slotted dataclass and every external id is a ``str``: platform objects
(aiogram ``Update``, Zalo event JSON, a WebSocket frame) never leave ``handlers/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Who we talk to, and where: enough to write to them later without their writing first."""

    channel: str  # "terminal", "web", "telegram", "zalo"
    chat_id: str
    user_id: str

    def as_str(self) -> str:
        return f"{self.channel}:{self.chat_id}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the user sent. ``ref`` is the channel's handle (Telegram file_id, URL, local path)."""

    kind: str  # "photo" or "document"
    ref: str
    filename: str = ""
    mime_type: str = ""
    size: int | None = None
    group_id: str = ""  # album / media group the file arrived in, if any
    # Filled in by bot/ after it has fetched, checked and stored the file (CheckAttachments);
    # channel adapters never set these, so a dialog can trust them.
    stored_key: str = ""  # opaque file-store key; empty when the file was refused
    sha256: str = ""  # of the bytes as received, for duplicate detection
    # Why it was refused: unsupported, too_large, corrupt, too_small, too_dark, blurred, blank,
    # duplicate, fetch_failed.
    problem: str = ""
    width: int | None = None
    height: int | None = None
    pages: int | None = None

    @property
    def checked(self) -> bool:
        return bool(self.stored_key or self.problem)


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
    """What the bot says. ``buttons`` are rows of buttons; adapters without buttons number them.

    ``number_answer``: the question asks for a number ("how many copies?"), so a typed "2" is
    the answer. Adapters that number their buttons then show them unnumbered (they still work
    by typing their label) and never turn a typed number into a button press.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    images: tuple[Media, ...] = ()
    documents: tuple[Media, ...] = ()
    request_contact: bool = False
    number_answer: bool = False

    def flat_buttons(self) -> tuple[Button, ...]:
        return tuple(b for row in self.buttons for b in row)


class Effect:
    """Base class of the side effects a dialog step asks ``bot/`` to carry out."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class ListDossiers(Effect):
    """The citizen asked for the dossiers they filed from this conversation ("/hoso")."""


@dataclass(frozen=True, slots=True)
class ResendReceipt(Effect):
    """Send the receipt of dossier ``code`` again, if it is this conversation's dossier."""

    code: str


@dataclass(frozen=True, slots=True)
class LookupDossier(Effect):
    """The status of dossier ``code``, typed or pasted in the chat.

    ``phone`` is what someone who did not file it from this conversation gave as the filer's
    phone number ("" until asked); ``bot/`` checks it and answers with a
    :class:`DossierStatus` to show, or with a follow-up payload (ask, wrong number)."""

    code: str
    phone: str = ""


@dataclass(frozen=True, slots=True)
class StatusStep:
    """One step of a dossier's history, as the citizen is shown it (local time)."""

    at: datetime
    status: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DossierStatus:
    """What the office says of a dossier, read by ``bot/`` for the dialog to show."""

    code: str
    procedure_name: str
    status: str
    due_date: date | None
    overdue: bool
    missing: tuple[str, ...] = ()
    amount_due: int | None = None
    postal_item: str = ""
    history: tuple[StatusStep, ...] = ()


@dataclass(frozen=True, slots=True)
class HandOff(Effect):
    """The conversation goes to the commune's officers, or comes back from them.

    Not run after the step like other effects: ``bot/`` writes it with the step's save, in the
    same transaction (storage.handoffs). ``action``: ``open`` (a live hand-over), ``wait`` (a
    message left outside office hours, for the officers to answer later) or ``close`` (the
    citizen went back to the assistant)."""

    action: str = "open"


@dataclass(frozen=True, slots=True)
class OfficerEvent:
    """What an officer did in a handed-over conversation, for the dialog to tell the citizen:
    ``kind`` is ``answer`` (``text`` is the officer's words) or ``close`` (``by`` is the
    officer's account, or ``idle`` when nobody wrote for a while). ``reopen``: the hand-over
    is still open, so an answer to a message left out of hours takes the conversation back to
    the officer. ``event_id`` makes it idempotent."""

    event_id: str
    kind: str
    text: str = ""
    by: str = ""
    reopen: bool = False


@dataclass(frozen=True, slots=True)
class CheckAttachments(Effect):
    """Fetch, check and privately store the files for a photo slot.

    ``bot/`` then calls ``advance`` again with an Inbound carrying the same attachments, each
    with ``stored_key``/``sha256`` or ``problem`` filled in.
    """

    slot: str
    attachments: tuple[Attachment, ...]


@dataclass(frozen=True, slots=True)
class SubmitDossier(Effect):
    """File the dossier. Idempotent on ``submission_key``: a double tap yields one dossier."""

    submission_key: str
    procedure_code: str
    commune_code: str
    fields: Mapping[str, Any]  # field name -> validated JSON value
    files: tuple[Mapping[str, Any], ...]  # {"slot", "stored_key", "sha256", "mime_type", ...}
    filer: Mapping[str, Any]  # {"for_self": bool, "relation": str, "name": str, "phone": str}
    result_delivery: str  # "counter" or "post"
    postal_address: Mapping[str, Any] | None = None
    # The villager an approved volunteer files for, with their consent (dialogs.behalf).
    on_behalf_of: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SubmitSupplement(Effect):
    """Send the papers the office asked for to dossier ``code``: the photos stored in the
    conversation's supplement slot and what the citizen wrote."""

    code: str
    files: tuple[str, ...]  # sha256 of each photo, as checked and stored
    text: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the office did with a dossier, told to the conversation it was filed from.

    Built by ``bot/`` from the office's history step; ``dialogs.notices`` turns it into
    words. ``status`` is the office's status name after the step; ``kind`` is "transition" or
    "extended".
    """

    event_id: int
    code: str
    procedure_name: str
    status: str
    kind: str
    at: datetime
    note: str = ""
    due_date: date | None = None
    missing: tuple[str, ...] = ()
    supplement_deadline: date | None = None
    amount: int | None = None
    item_number: str = ""
    reason: str = ""
    by_post: bool = False
    from_status: str = ""
    # A payment request when the commune takes transfers: the account and the note to write
    # ("" : pay at the desk). ``bot/`` adds the VietQR image for the same transfer.
    pay_to: str = ""
    pay_note: str = ""


SUPPLEMENT_SLOT = "bo_sung"  # photos sent in answer to a supplement request
# The photo of a villager's signed consent, taken by a volunteer (dialogs.volunteer): it
# belongs only to a dossier filed by a volunteer for that villager.
CONSENT_SLOT = "dong_y"


@dataclass(frozen=True, slots=True)
class Step:
    """The result of ``Dialog.advance``: the new state, what to say, what to do."""

    state: dict[str, Any]
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()


def copy_json(value: Any) -> Any:
    """A private copy of JSON-shaped data (dicts, lists, scalars); several times cheaper than
    ``copy.deepcopy``, which matters because every turn copies the stored state."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value
