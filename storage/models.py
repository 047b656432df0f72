"""SQLAlchemy table definitions. Alembic migrations create these; a test checks they agree.

Every row that belongs to a commune carries its 5-digit unit code ``commune_code`` so that one
database can serve several communes and an officer sees only their own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Named constraints keep future migrations (and SQLite batch table rebuilds) deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RESULT_DELIVERIES: tuple[str, ...] = ("counter", "post")

FINISHED_STATUSES: tuple[str, ...] = ("result_ready", "processed", "refused", "stopped")
"""A dossier is finished at its first step to one of these (the office decided: the result is
ready, or it refused; with the older names of both): ``dossiers.finished_at``."""
EXTENDED_KIND = "extended"
"""The kind of the step that gave the one apology and new date: ``dossiers.extended``."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no timezone type and hands back naive values; PostgreSQL hands back the session's
    zone. Both come back as aware UTC here, and a naive value is refused on the way in because
    nobody could tell which clock it was read from.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware UTC time")
        utc = value.astimezone(UTC)
        # SQLite stores the text as given; keeping it naive-UTC makes string order time order.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012  (SQLAlchemy reads it as a class attribute)
        datetime: UtcDateTime(),
        date: Date(),
        dict[str, Any]: JSON(),
    }


class ConversationRow(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "chat_id", "user_id"),
        Index(None, "last_inbound_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    commune_code: Mapped[str] = mapped_column(String(5), index=True)
    state: Mapped[dict[str, Any]]
    state_version: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_inbound_at: Mapped[datetime]
    reminder_sent_at: Mapped[datetime | None]
    # One up with every save; a save writes only over the revision it was computed from, so
    # two workers can never overwrite each other's turn (storage.conversations).
    revision: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class ProcessedMessageRow(Base):
    __tablename__ = "processed_messages"
    __table_args__ = (Index(None, "seen_at"),)

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime]


class DossierRow(Base):
    """The one record of a dossier, owned by the office (backoffice.domain decides every
    status, due date and workflow fact; storage keeps them). ``channel``/``chat_id``/
    ``user_id`` is the conversation it was filed from, where its notices go."""

    __tablename__ = "dossiers"
    __table_args__ = (
        Index(None, "commune_code", "status"),
        Index(None, "channel", "user_id"),
        # The dashboard's data revision (storage.stats.revision: count and sum of versions per
        # commune) is read from this index alone.
        Index(None, "commune_code", "version"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    commune_code: Mapped[str] = mapped_column(String(5))
    procedure_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    fields: Mapped[dict[str, Any]]
    filer: Mapped[dict[str, Any]]
    on_behalf_of: Mapped[dict[str, Any] | None]
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    submission_key: Mapped[str] = mapped_column(String(128), unique=True)
    received_at: Mapped[datetime]
    due_date: Mapped[date | None]
    result_delivery: Mapped[str] = mapped_column(String(16))
    postal_address: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Bumped by every move: an update names the version it read, so a lost update is refused.
    version: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    processing_days: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Supplement, extension, payment and postal facts (storage.dossiers.Workflow as JSON).
    workflow: Mapped[dict[str, Any] | None]
    # The volunteer who filed it for a villager (None: the citizen filed it, or the counter).
    volunteer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("volunteers.id"), index=True)
    # What the console's search reads (storage.dossiers.search_text_of): folded words, digits.
    search_text: Mapped[str] = mapped_column(Text, server_default=text("''"))
    # The villager's own chat, once a volunteer handed the dossier over (storage.volunteers):
    # its notices go there as well as to the chat it was filed from.
    villager_channel: Mapped[str | None] = mapped_column(String(128))
    villager_chat_id: Mapped[str | None] = mapped_column(String(128))
    villager_user_id: Mapped[str | None] = mapped_column(String(128))
    # A summary of the history for the dashboard (storage.stats), written in the same
    # transaction as the steps it sums up: the first step to a FINISHED_STATUSES status, and
    # whether any step was the EXTENDED_KIND apology.
    finished_at: Mapped[datetime | None]
    extended: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class DossierEventRow(Base):
    __tablename__ = "dossier_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(32))  # the status the step led to
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text, server_default=text("''"))
    from_status: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32), server_default=text("''"))
    kind: Mapped[str] = mapped_column(String(16), server_default=text("'transition'"))
    details: Mapped[dict[str, Any] | None]


class DossierFileRow(Base):
    __tablename__ = "dossier_files"
    __table_args__ = (
        # Duplicate photos are caught within one draft; once attached, a file belongs to its
        # dossier and the same photo may start a new draft later (a second birth, same ID card).
        Index(
            "uq_dossier_files_draft",
            "channel",
            "chat_id",
            "user_id",
            "slot",
            "sha256",
            unique=True,
            sqlite_where=text("dossier_id IS NULL"),
            postgresql_where=text("dossier_id IS NULL"),
        ),
        Index(None, "channel", "chat_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("dossiers.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    slot: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index(None, "done_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The worker holding the row's claim (storage/leases.py: its "worker:" lease says whether
    # it is alive); cleared when the row goes back to waiting.
    claimed_by: Mapped[str | None] = mapped_column(String(128))


class CodeCounterRow(Base):
    __tablename__ = "code_counters"

    agency_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class AuditLogRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "target"), Index(None, "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, Any]]


class ChoiceMemoryRow(Base):
    """The payloads of the numbered choices a user was shown last, on a channel without
    buttons: a bare "2" typed days later (and after a restart) still means the second."""

    __tablename__ = "choice_memory"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    payloads: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class SecretRow(Base):
    __tablename__ = "kv_secrets"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class LeaseRow(Base):
    """Held by one worker until ``expires_at`` (storage/leases.py)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class VolunteerRow(Base):
    """A chat that asked to file for villagers (a youth-union volunteer), and the officer's
    decision: ``status`` is pending, approved, rejected or disabled."""

    __tablename__ = "volunteers"
    __table_args__ = (
        UniqueConstraint("channel", "user_id"),
        Index(None, "commune_code", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    commune_code: Mapped[str] = mapped_column(String(5))
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(16))
    branch: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(128))


class HandoverCodeRow(Base):
    """A one-time code a volunteer gave a villager to take a dossier into their own chat.
    Only the code's SHA-256 is kept; ``used_at`` is set once, by the chat that typed it."""

    __tablename__ = "handover_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    volunteer_id: Mapped[int] = mapped_column(BigId, ForeignKey("volunteers.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[str | None] = mapped_column(String(300))


class AnnouncementSubscriptionRow(Base):
    """A chat's choice about the commune's announcements: ``status`` is ``asked`` (offered
    once, no answer yet or «Không, cảm ơn»), ``in`` or ``out``. ``token`` is the secret of the
    one-tap «Không nhận thông báo nữa» button, new on every opt-in."""

    __tablename__ = "announcement_subscriptions"
    __table_args__ = (
        UniqueConstraint("channel", "user_id"),
        Index(None, "commune_code", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    commune_code: Mapped[str] = mapped_column(String(5))
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(8))
    token: Mapped[str] = mapped_column(String(32))
    asked_at: Mapped[datetime | None]
    opted_in_at: Mapped[datetime | None]
    opted_out_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class AnnouncementRow(Base):
    """An announcement an officer sent to a commune's subscribers: one ``announce:<channel>``
    outbox row per recipient was written in the same transaction (``recipients`` of them)."""

    __tablename__ = "announcements"
    __table_args__ = (Index(None, "commune_code", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    commune_code: Mapped[str] = mapped_column(String(5))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(128))
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    recipients: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class ConsoleUserRow(Base):
    """An account of the officer console. ``commune_code`` is a 5-digit unit code, or ``*``
    for the whole province (an administrator, a province leader)."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    commune_code: Mapped[str] = mapped_column(String(5))
    password_hash: Mapped[str] = mapped_column(Text)
    # A password someone else chose (the one-time password `motcua user add` prints).
    must_change_password: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    disabled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime]


class ConsoleSessionRow(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored, so a copy of
    the database does not sign anyone in."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index(None, "last_seen_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("console_users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class ConsoleLoginAttemptRow(Base):
    """One try at the login form, kept a day for rate limits (per account, per address)."""

    __tablename__ = "console_login_attempts"
    __table_args__ = (Index(None, "account", "at"), Index(None, "address", "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    account: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)


class LeaderLinkCodeRow(Base):
    """A one-time code the console gave a leader to tie a chat to their account (its SHA-256
    only; deleted when used or swept when expired)."""

    __tablename__ = "leader_link_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("console_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class LeaderChatRow(Base):
    """A chat tied to a leader's console account: ``/thongke`` there answers with figures."""

    __tablename__ = "leader_chats"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("console_users.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    linked_at: Mapped[datetime]


class ConversationLineRow(Base):
    """One message of a conversation as the citizen saw it: what they sent (``citizen``),
    what the assistant answered (``assistant``), what an officer wrote (``officer:<name>``).
    A bounded recent transcript (housekeeping keeps the newest of each conversation), so an
    officer taking over sees what was said; only officers of its commune are shown it."""

    __tablename__ = "conversation_lines"
    __table_args__ = (Index(None, "channel", "chat_id", "user_id", "id"), Index(None, "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)


class HandoffRow(Base):
    """A conversation handed to the commune's officers ("Gặp cán bộ"). At most one open per
    conversation; ``version`` is bumped by every change (claim, close), and a change names
    the version it read, so two officers cannot overwrite each other. ``waiting``: the citizen
    left a message outside office hours."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index(
            "uq_handoffs_open",
            "channel",
            "chat_id",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index(None, "commune_code", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    commune_code: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(16))  # open | closed
    waiting: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    opened_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class WebFileRow(Base):
    """A web chat file behind an unguessable token, for one session: a photo the page uploaded
    (``upload``, until the turn that sent it fetches it) or a file a reply links to (``media``:
    a receipt, a QR code). The bytes are in the shared file store under ``file_key``, so any
    worker serves any worker's files (storage/webchat.py)."""

    __tablename__ = "web_files"
    __table_args__ = (
        Index(None, "kind", "owner", "created_at"),
        Index(None, "kind", "address", "created_at"),
        Index(None, "expires_at"),
    )

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    owner: Mapped[str] = mapped_column(String(64))  # the session's tag
    address: Mapped[str] = mapped_column(String(64))  # who sent it; "" for media
    mime_type: Mapped[str] = mapped_column(String(128))
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    file_key: Mapped[str] = mapped_column(String(48))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # An upload's turn fetched it (and the effect runner kept its own copy): evicted first.
    confirmed_at: Mapped[datetime | None]


class WebPageRow(Base):
    """A chat page open on one worker now, renewed while its socket lives."""

    __tablename__ = "web_pages"
    __table_args__ = (Index(None, "seen_at"),)

    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    worker: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime]


class WebPushRow(Base):
    """Frames written first to a session whose page may be open on another worker: the worker
    holding the page takes them (``taken_at``) and sends them."""

    __tablename__ = "web_pushes"
    __table_args__ = (Index(None, "taken_at", "tag"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tag: Mapped[str] = mapped_column(String(64))
    frames: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    taken_at: Mapped[datetime | None]


class WebReplyRow(Base):
    """The frames a session's page was sent in answer to one of its frames, kept a while so
    that a page which lost its connection and resends the frame, to any worker, gets them
    again (the turn itself is not run twice)."""

    __tablename__ = "web_replies"
    __table_args__ = (Index(None, "created_at"),)

    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    frame_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    frames: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class FloodCountRow(Base):
    """Messages a conversation sent in the current fixed window, counted across workers."""

    __tablename__ = "flood_counts"
    __table_args__ = (Index(None, "window_start"),)

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer)
