"""What a person asks the workflow to do to a dossier: one value per kind of step.

Commands carry only what the step needs; whether it is allowed (from this status, by this
role, with these parameters) is decided by :func:`backoffice.domain.advance`. Every command
ends with ``note``, the free text an officer may add for the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeAlias

from backoffice.domain.status import Status


@dataclass(frozen=True, slots=True)
class Accept:
    """The officer checked the dossier is complete and takes it on (Được tiếp nhận)."""

    note: str = ""


@dataclass(frozen=True, slots=True)
class NotAccept:
    """The dossier is turned away at reception (Phiếu từ chối); the citizen is told why."""

    reason: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class StartProcessing:
    """Substantive work starts (or resumes after payment)."""

    note: str = ""


@dataclass(frozen=True, slots=True)
class RequestSupplement:
    """Phiếu yêu cầu bổ sung: the one request, listing exactly what is missing."""

    missing: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Supplemented:
    """The citizen answered the supplement request; the processing period starts again."""

    files: tuple[str, ...] = ()
    """Storage keys or sha256 digests of what was sent, never the bytes."""
    text: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class RequestPayment:
    """The citizen must pay a fee or charge before processing goes on."""

    amount: int
    """VND, above zero."""
    note: str = ""


@dataclass(frozen=True, slots=True)
class RecordPayment:
    """The office saw the payment arrive (counter, transfer or VNPost)."""

    note: str = ""


@dataclass(frozen=True, slots=True)
class Refuse:
    """Processing stops without a result (Dừng xử lý / từ chối); the citizen is told why."""

    reason: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class MarkResultReady:
    """The result exists and waits for the citizen or the post (Đã xử lý xong)."""

    note: str = ""


@dataclass(frozen=True, slots=True)
class ReturnAtCounter:
    """The citizen (or a proxy) took the result at the counter (Đã trả kết quả)."""

    note: str = ""


@dataclass(frozen=True, slots=True)
class HandToPost:
    """The result goes to VNPost (QĐ 45/2016 Art. 9) under a UPU S10 item number."""

    item_number: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class PostalEvent:
    """The post reports a step of the item's journey: one of ``POSTAL_EVENTS``."""

    event: Status
    note: str = ""


@dataclass(frozen=True, slots=True)
class Withdraw:
    """The citizen takes the dossier back (code 7), in a chat or at the counter."""

    note: str = ""


@dataclass(frozen=True, slots=True)
class Extend:
    """The one apology and new date (Phiếu xin lỗi và hẹn lại ngày trả kết quả, Art. 19.9)."""

    new_date: date
    apology: str
    note: str = ""


Command: TypeAlias = (
    Accept
    | NotAccept
    | StartProcessing
    | RequestSupplement
    | Supplemented
    | RequestPayment
    | RecordPayment
    | Refuse
    | MarkResultReady
    | ReturnAtCounter
    | HandToPost
    | PostalEvent
    | Withdraw
    | Extend
)

COMMAND_TYPES: tuple[type[Command], ...] = (
    Accept,
    NotAccept,
    StartProcessing,
    RequestSupplement,
    Supplemented,
    RequestPayment,
    RecordPayment,
    Refuse,
    MarkResultReady,
    ReturnAtCounter,
    HandToPost,
    PostalEvent,
    Withdraw,
    Extend,
)
"""Every command class, for ``isinstance`` checks on input from outside."""
