from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage.attachments import FileRepository
from storage.audit import AuditRepository
from storage.dossiers import (
    Change,
    Dossier,
    DossierNotFoundError,
    DossierQuery,
    DossierRepository,
    NewDossier,
    NewEvent,
    Workflow,
)
from storage.outbox import OutboxRepository

AGENCY = "000.00.31.H26"
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
FILER = ConversationKey(channel="zalo", chat_id="chat-9", user_id="user-9")


async def create(dossiers: DossierRepository, new: NewDossier) -> Dossier:
    dossier, _ = await dossiers.file(new)
    return dossier


def move(
    dossier: Dossier,
    status: str,
    at: datetime,
    *,
    note: str = "",
    due_date: date | None = None,
    version: int | None = None,
) -> Change:
    """A move as the office would hand it over (the workflow's rules are the office's)."""
    return Change(
        code=dossier.code,
        expected_version=dossier.version if version is None else version,
        status=status,
        due_date=dossier.due_date if due_date is None else due_date,
        workflow=Workflow(),
        events=(
            NewEvent(
                kind="transition",
                from_status=dossier.status,
                status=status,
                at=at,
                actor="officer:lan",
                role="officer",
                note=note,
            ),
        ),
        at=at,
        audit_actor="officer:lan",
        audit_action=f"transition:{dossier.status}->{status}",
        audit_details={"role": "officer"},
        notify=(dossier.filer_key,),
    )


def new_dossier(key: str = "sub-1", at: datetime = NOW, **changes: Any) -> NewDossier:
    base = NewDossier(
        submission_key=key,
        agency_code=AGENCY,
        commune_code="10642",
        procedure_code="1.001193",
        filer_key=FILER,
        received_at=at,
        fields={"ho_ten_tre": "Trần Minh Khôi", "ngay_sinh": "2026-11-20"},
        filer={"ho_ten": "Trần Thị Lan", "quan_he": "mẹ"},
    )
    return dataclasses.replace(base, **changes)


async def test_filing_writes_code_history_and_delivery_together(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    outbox = OutboxRepository(sessions)

    dossier = await create(dossiers, new_dossier())

    assert dossier.code == f"{AGENCY}-261127-0001"
    assert dossier.status == "received"
    assert dossier.filer_key == FILER
    assert dossier.fields["ho_ten_tre"] == "Trần Minh Khôi"
    assert dossier.received_at == NOW
    assert await dossiers.get(dossier.id) == dossier
    assert await dossiers.by_code(f" {dossier.code} ") == dossier

    [event] = await dossiers.events(dossier.id)
    assert (event.status, event.at, event.actor) == ("received", NOW, FILER.as_str())
    assert (event.kind, event.from_status, event.role) == ("received", None, "citizen")

    # The office is this store: nothing to deliver, only the receipt to send.
    assert await outbox.pending("deliver_dossier") == []
    [item] = await outbox.pending("send_receipt:zalo")
    assert item.payload == {"dossier_id": dossier.id, "code": dossier.code}
    assert item.next_attempt_at == NOW


async def test_five_concurrent_taps_file_one_dossier(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    outbox = OutboxRepository(sessions)

    results = await asyncio.gather(*(create(dossiers, new_dossier("tap")) for _ in range(5)))

    assert len({d.id for d in results}) == 1
    assert len({d.code for d in results}) == 1
    assert len(await dossiers.list()) == 1
    assert len(await dossiers.events(results[0].id)) == 1
    assert len(await outbox.pending("send_receipt:zalo")) == 1
    # The losers' rolled-back numbers were given back: no gap in the day's sequence.
    following = await create(dossiers, new_dossier("next"))
    assert following.code.endswith("-0002")


async def test_repeating_a_submission_returns_the_first_dossier(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    first = await create(dossiers, new_dossier("same"))
    again = await create(dossiers, new_dossier("same", at=NOW + timedelta(minutes=1)))
    assert again == first
    assert await dossiers.by_submission_key("same") == first


async def test_codes_count_up_per_day_and_restart_the_next_day(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    today = [
        await create(dossiers, new_dossier(f"d1-{i}", at=NOW + timedelta(minutes=i)))
        for i in range(3)
    ]
    other_agency = await create(dossiers, new_dossier("x", agency_code="000.00.31.H99"))
    tomorrow = await create(dossiers, new_dossier("d2", at=NOW + timedelta(days=1)))

    assert [d.code for d in today] == [
        f"{AGENCY}-261127-0001",
        f"{AGENCY}-261127-0002",
        f"{AGENCY}-261127-0003",
    ]
    assert other_agency.code == "000.00.31.H99-261127-0001"
    assert tomorrow.code == f"{AGENCY}-261128-0001"


async def test_the_code_uses_the_offices_calendar_day(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    # 23:30 UTC on the 26th is 06:30 on the 27th in Vietnam.
    early = await create(
        dossiers, new_dossier("early", at=datetime(2026, 11, 26, 23, 30, tzinfo=UTC))
    )
    assert early.code == f"{AGENCY}-261127-0001"


async def test_a_move_keeps_its_history_audit_and_notice_together(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    outbox = OutboxRepository(sessions)
    dossier = await create(dossiers, new_dossier())

    t1, t2 = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    first = await dossiers.apply(move(dossier, "accepted", t1, note="Đủ giấy tờ"))
    assert first is not None
    moved = await dossiers.apply(
        move(
            first.dossier,
            "supplement_requested",
            t2,
            note="Ảnh căn cước bị mờ, xin gửi lại",
            due_date=date(2026, 12, 2),
        )
    )
    assert moved is not None

    assert moved.dossier.status == "supplement_requested"
    assert moved.dossier.updated_at == t2
    assert moved.dossier.due_date == date(2026, 12, 2)
    assert moved.dossier.version == 2
    assert await dossiers.get(dossier.id) == moved.dossier
    history = await dossiers.events(dossier.id)
    assert [(e.status, e.from_status, e.at) for e in history] == [
        ("received", None, NOW),
        ("accepted", "received", t1),
        ("supplement_requested", "accepted", t2),
    ]
    assert history[2].note == "Ảnh căn cước bị mờ, xin gửi lại"
    notices = await outbox.pending("notify:zalo")
    assert [n.payload["event_id"] for n in notices] == [history[1].id, history[2].id]
    assert {n.payload["code"] for n in notices} == {dossier.code}
    assert {(n.payload["chat_id"], n.payload["user_id"]) for n in notices} == {("chat-9", "user-9")}
    audit = await AuditRepository(sessions).for_target(f"dossier:{dossier.code}")
    assert [a.action for a in audit] == [
        "received",
        "transition:received->accepted",
        "transition:accepted->supplement_requested",
    ]


async def test_a_move_from_a_stale_version_writes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    outbox = OutboxRepository(sessions)
    dossier = await create(dossiers, new_dossier())
    later = NOW + timedelta(hours=1)

    # Two officers read version 0; both try to move it. Only the first may win.
    results = [
        await dossiers.apply(move(dossier, "accepted", later)),
        await dossiers.apply(move(dossier, "not_accepted", later)),
    ]

    assert results[0] is not None and results[1] is None
    assert [e.status for e in await dossiers.events(dossier.id)] == ["received", "accepted"]
    assert len(await outbox.pending("notify:zalo")) == 1
    assert (await dossiers.get(dossier.id)).status == "accepted"  # type: ignore[union-attr]


async def test_concurrent_moves_of_one_version_apply_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    dossier = await create(dossiers, new_dossier())
    later = NOW + timedelta(hours=1)

    results = await asyncio.gather(
        *(dossiers.apply(move(dossier, s, later)) for s in ("accepted", "not_accepted") * 4)
    )

    assert sum(r is not None for r in results) == 1
    assert len(await dossiers.events(dossier.id)) == 2


async def test_moving_a_missing_dossier_is_an_error(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    dossier = await create(dossiers, new_dossier())
    with pytest.raises(DossierNotFoundError):
        await dossiers.apply(
            dataclasses.replace(move(dossier, "accepted", NOW), code="000.00.31.H26-261127-9999")
        )
    assert [e.status for e in await dossiers.events(dossier.id)] == ["received"]


async def test_listing_by_commune_status_and_filer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    volunteer = ConversationKey(channel="telegram", chat_id="55", user_id="55")
    a = await create(dossiers, new_dossier("a"))
    b = await create(
        dossiers,
        new_dossier(
            "b",
            at=NOW + timedelta(minutes=1),
            commune_code="10645",
            filer_key=volunteer,
            on_behalf_of={"ho_ten": "Lò Văn Páo", "quan_he": "hàng xóm"},
            result_delivery="post",
            postal_address={"dia_chi": "Thôn 3, xã Đông Hưng"},
        ),
    )
    assert await dossiers.apply(move(a, "accepted", NOW + timedelta(hours=1))) is not None

    def where(**filters: Any) -> DossierQuery:
        return DossierQuery(**filters)

    assert [d.id for d in await dossiers.list()] == [b.id, a.id]
    assert [d.id for d in await dossiers.list(where(commune_codes=("10642",)))] == [a.id]
    assert [d.id for d in await dossiers.list(where(statuses=("received",)))] == [b.id]
    assert await dossiers.list(where(commune_codes=("10645",), statuses=("accepted",))) == []
    assert [d.id for d in await dossiers.list(where(filer=volunteer))] == [b.id]
    assert [d.id for d in await dossiers.for_user("telegram", "55")] == [b.id]
    [mine] = await dossiers.for_user("telegram", "55")
    assert mine.on_behalf_of == {"ho_ten": "Lò Văn Páo", "quan_he": "hàng xóm"}
    assert mine.postal_address == {"dia_chi": "Thôn 3, xã Đông Hưng"}


async def test_draft_photos_become_the_dossiers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    files = FileRepository(sessions)
    dossiers = DossierRepository(sessions)
    photo = await files.add(FILER, "giay_chung_sinh", "a" * 64, "k/1.jpg", "image/jpeg", 9, NOW)

    dossier = await create(dossiers, new_dossier())

    assert await files.for_conversation(FILER) == []
    [attached] = await files.for_dossier(dossier.id)
    assert (attached.id, attached.dossier_id) == (photo.file.id, dossier.id)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"commune_code": "123"}, "5 digits"),
        ({"agency_code": ""}, "agency_code"),
        ({"result_delivery": "post"}, "postal_address"),
        ({"result_delivery": "email"}, "result_delivery"),
        ({"submission_key": ""}, "submission_key"),
    ],
)
async def test_incomplete_filings_are_refused(
    sessions: async_sessionmaker[AsyncSession], changes: dict[str, Any], message: str
) -> None:
    dossiers = DossierRepository(sessions)
    with pytest.raises(ValueError, match=message):
        await create(dossiers, new_dossier(**changes))
    assert await dossiers.list() == []
