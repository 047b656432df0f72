"""What a dialog step may know about the world besides the conversation state.

``bot/`` builds one :class:`Context` per turn: the clock reading, the commune the conversation
belongs to (facts from config) and the catalogue with its search. The dialog core reads nothing
else, so it stays a pure function of (state, inbound, context).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dialogs.addresses import AddressBook
from knowledge.catalogue import Catalogue
from knowledge.search import CatalogueSearch


@dataclass(frozen=True, slots=True)
class CommuneFacts:
    """The commune's one-stop-shop office as citizens should find it (from ``[[communes]]``)."""

    code: str
    name: str
    province: str
    address: str = ""
    office_hours: str = ""
    hotline: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class Context:
    now: datetime
    commune: CommuneFacts
    catalogue: Catalogue
    search: CatalogueSearch
    # The filing form. ``addresses`` is built once by ``bot/`` (AddressBook.from_package());
    # left None, the form builds the packaged list itself on first use.
    addresses: AddressBook | None = None
    draft_ttl: timedelta = timedelta(days=30)  # an unfinished dossier is dropped after this
    resume_after: timedelta = timedelta(hours=6)  # a longer pause asks "continue?" first
    remind_before: timedelta = timedelta(days=3)  # the one reminder goes out this long before
    # "Gặp cán bộ": when an officer will answer a message sent at a given time: None while the
    # office is open, else its next opening (local time; office hours and days off come from
    # config, and bot/ computes them). Left None, officers are taken to be there.
    officers_from: Callable[[datetime], datetime | None] | None = None
    # A hand-over in which nobody wrote for this long goes back to the assistant.
    handoff_idle: timedelta = timedelta(minutes=30)
