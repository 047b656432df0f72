"""Dossier statuses and the roles that move them (domain reference ``vietnam.md`` §2.4, §3).

The wire names here are what the REST API takes as ``"to"`` and what new rows store. The
§2.4 list is the DVCQG sync list (codes 1..10); this office adds ``paid`` and the postal steps
because a commune has to track them, and maps them onto the nearest §2.4 code for syncing.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a dossier stands. A ``StrEnum`` so that it compares equal to its stored name."""

    RECEIVED = "received"
    """Mới đăng ký (code 1): filed, not yet looked at; old databases call it ``new``."""
    ACCEPTED = "accepted"
    """Được tiếp nhận (2)."""
    NOT_ACCEPTED = "not_accepted"
    """Không được tiếp nhận (3); final, always with a reason."""
    IN_PROGRESS = "in_progress"
    """Đang xử lý (4)."""
    SUPPLEMENT_REQUESTED = "supplement_requested"
    """Yêu cầu bổ sung (5); once per dossier, with the exact list of what is missing."""
    PAYMENT_REQUESTED = "payment_requested"
    """Yêu cầu thực hiện nghĩa vụ tài chính (6); an amount in VND above zero."""
    PAID = "paid"
    """The fee was paid; processing goes on (reported as 4)."""
    REFUSED = "refused"
    """Dừng xử lý / từ chối (8); final, always with a reason; old databases say ``stopped``."""
    RESULT_READY = "result_ready"
    """Đã xử lý xong (9); old databases say ``processed``."""
    RETURNED = "returned"
    """Đã trả kết quả (10) at the counter; final; old databases say ``result_returned``."""
    POSTED = "posted"
    """Handed to the public post (QĐ 45/2016) under a UPU S10 item number."""
    COLLECTED = "collected"
    """The postal worker picked the result up from the office."""
    IN_TRANSIT = "in_transit"
    """On its way to the citizen (also after a failed attempt, for the next one)."""
    DELIVERED = "delivered"
    """The citizen (or a proxy) signed for it; final."""
    DELIVERY_FAILED = "delivery_failed"
    """An attempt failed; after two invitations the post sends it back (TT 17/2017 Art. 5)."""
    RETURNED_TO_OFFICE = "returned_to_office"
    """The post brought it back; the office hands it over at the counter or posts it again."""
    WITHDRAWN = "withdrawn"
    """Công dân yêu cầu rút hồ sơ (7); allowed until processing ends; final."""


FINAL: frozenset[Status] = frozenset(
    {Status.NOT_ACCEPTED, Status.REFUSED, Status.RETURNED, Status.DELIVERED, Status.WITHDRAWN}
)
"""Nothing leaves these: the dossier is closed, with or without a result."""

POSTAL_EVENTS: frozenset[Status] = frozenset(
    {
        Status.COLLECTED,
        Status.IN_TRANSIT,
        Status.DELIVERED,
        Status.DELIVERY_FAILED,
        Status.RETURNED_TO_OFFICE,
    }
)
"""What the post reports after ``posted``; each is a :class:`~backoffice.domain.PostalEvent`."""

LEGACY_STATUS: dict[str, Status] = {
    "new": Status.RECEIVED,
    "accepted": Status.ACCEPTED,
    "not_accepted": Status.NOT_ACCEPTED,
    "in_progress": Status.IN_PROGRESS,
    "supplement_requested": Status.SUPPLEMENT_REQUESTED,
    "payment_requested": Status.PAYMENT_REQUESTED,
    "withdrawn": Status.WITHDRAWN,
    "stopped": Status.REFUSED,
    "processed": Status.RESULT_READY,
    "result_returned": Status.RETURNED,
}
"""The ten names rows were stored under before this module (``storage.models.DOSSIER_STATUSES``)
mapped to today's; the six that did not change map to themselves so a reader needs one lookup."""

STATUS_CODE: dict[Status, int] = {
    Status.RECEIVED: 1,
    Status.ACCEPTED: 2,
    Status.NOT_ACCEPTED: 3,
    Status.IN_PROGRESS: 4,
    Status.SUPPLEMENT_REQUESTED: 5,
    Status.PAYMENT_REQUESTED: 6,
    # Paying the fee does not end processing: to the national portal the dossier is back in
    # "Đang xử lý" (4) until the result is ready.
    Status.PAID: 4,
    Status.WITHDRAWN: 7,
    Status.REFUSED: 8,
    Status.RESULT_READY: 9,
    # §2.4 has no postal codes: while the post carries the result it is processed (9) but not
    # yet returned; only a delivery to the citizen is "Đã trả kết quả" (10).
    Status.POSTED: 9,
    Status.COLLECTED: 9,
    Status.IN_TRANSIT: 9,
    Status.DELIVERY_FAILED: 9,
    Status.RETURNED_TO_OFFICE: 9,
    Status.DELIVERED: 10,
    Status.RETURNED: 10,
}
"""The §2.4 numeric code of each status, for syncing with one-stop systems and DVCQG."""


class Role(StrEnum):
    """Who is acting; the workflow table says which commands each role may give."""

    OFFICER = "officer"
    """The one-stop-shop officer: every office command, and a withdrawal made at the counter."""
    POSTAL_CLERK = "postal_clerk"
    """VNPost staff: hands results to the post and reports postal events, nothing else."""
    LEADER = "leader"
    """Commune leadership: reads figures and dossiers, changes nothing."""
    ADMIN = "admin"
    """Runs the deployment: accounts and settings, never a dossier's status."""
    CITIZEN = "citizen"
    """The applicant, from a chat: answers a supplement request or withdraws."""
    SYSTEM = "system"
    """Background jobs (reminders, sync): read-only to the workflow."""


def stored_status(name: str) -> Status:
    """The status a stored name stands for: today's names as they are, the names databases
    from before the office owned dossiers still hold through :data:`LEGACY_STATUS`. A name
    neither knows (never written by this program) reads as received, the one status from
    which an officer can look at the dossier and decide."""
    try:
        return Status(name)
    except ValueError:
        return LEGACY_STATUS.get(name, Status.RECEIVED)


def stored_names(status: Status) -> tuple[str, ...]:
    """Every stored name that means ``status`` (for filters over old and new rows)."""
    return (
        status.value,
        *(old for old, new in LEGACY_STATUS.items() if new is status and old != status.value),
    )
