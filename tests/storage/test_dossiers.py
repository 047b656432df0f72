from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage.attachments import FileRepository
from storage.dossiers import DossierNotFoundError, DossierRepository, NewDossier
from storage.outbox import OutboxRepository

AGENCY = "000.00.31.H26"
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
FILER = ConversationKey(channel="zalo", chat_id="chat-9", user_id="user-9")


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

    dossier = await dossiers.create(new_dossier())

    assert dossier.code == f"{AGENCY}-261127-0001"
    assert dossier.status == "new"
    assert dossier.filer_key == FILER
    assert dossier.fields["ho_ten_tre"] == "Trần Minh Khôi"
    assert dossier.received_at == NOW
    assert await dossiers.get(dossier.id) == dossier
    assert await dossiers.by_code(f" {dossier.code} ") == dossier

    [event] = await dossiers.events(dossier.id)
    assert (event.status, event.at, event.actor) == ("new", NOW, FILER.as_str())

    [item] = await outbox.pending("deliver_dossier")
    assert item.payload == {"dossier_id": dossier.id, "code": dossier.code}
    assert item.next_attempt_at == NOW


async def test_five_concurrent_taps_file_one_dossier(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    outbox = OutboxRepository(sessions)

    results = await asyncio.gather(*(dossiers.create(new_dossier("tap")) for _ in range(5)))

    assert len({d.id for d in results}) == 1
    assert len({d.code for d in results}) == 1
    assert len(await dossiers.list()) == 1
    assert len(await dossiers.events(results[0].id)) == 1
    assert len(await outbox.pending("deliver_dossier")) == 1
    # The losers' rolled-back numbers were given back: no gap in the day's sequence.
    following = await dossiers.create(new_dossier("next"))
    assert following.code.endswith("-0002")


async def test_repeating_a_submission_returns_the_first_dossier(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    first = await dossiers.create(new_dossier("same"))
    again = await dossiers.create(new_dossier("same", at=NOW + timedelta(minutes=1)))
    assert again == first
    assert await dossiers.by_submission_key("same") == first


async def test_codes_count_up_per_day_and_restart_the_next_day(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    today = [
        await dossiers.create(new_dossier(f"d1-{i}", at=NOW + timedelta(minutes=i)))
        for i in range(3)
    ]
    other_agency = await dossiers.create(new_dossier("x", agency_code="000.00.31.H99"))
    tomorrow = await dossiers.create(new_dossier("d2", at=NOW + timedelta(days=1)))

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
    early = await dossiers.create(
        new_dossier("early", at=datetime(2026, 11, 26, 23, 30, tzinfo=UTC))
    )
    assert early.code == f"{AGENCY}-261127-0001"


async def test_status_changes_keep_their_history_and_notify(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    outbox = OutboxRepository(sessions)
    dossier = await dossiers.create(new_dossier())

    t1, t2 = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    await dossiers.add_event(dossier.id, "accepted", "officer:lan", "Đủ giấy tờ", t1)
    moved = await dossiers.add_event(
        dossier.id,
        "supplement_requested",
        "officer:lan",
        "Ảnh căn cước bị mờ, xin gửi lại",
        t2,
        due_date=date(2026, 12, 2),
    )

    assert moved.status == "supplement_requested"
    assert moved.updated_at == t2
    assert moved.due_date == date(2026, 12, 2)
    assert await dossiers.get(dossier.id) == moved
    history = await dossiers.events(dossier.id)
    assert [(e.status, e.at) for e in history] == [
        ("new", NOW),
        ("accepted", t1),
        ("supplement_requested", t2),
    ]
    assert history[2].note == "Ảnh căn cước bị mờ, xin gửi lại"
    notices = await outbox.pending("notify")
    assert [n.payload["status"] for n in notices] == ["accepted", "supplement_requested"]
    assert {n.payload["code"] for n in notices} == {dossier.code}


async def test_bad_status_and_missing_dossier_are_errors(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    dossier = await dossiers.create(new_dossier())
    with pytest.raises(ValueError, match="unknown dossier status"):
        await dossiers.add_event(dossier.id, "done", "officer", "", NOW)
    with pytest.raises(DossierNotFoundError):
        await dossiers.add_event(dossier.id + 1000, "accepted", "officer", "", NOW)
    assert [e.status for e in await dossiers.events(dossier.id)] == ["new"]


async def test_listing_by_commune_status_and_filer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dossiers = DossierRepository(sessions)
    volunteer = ConversationKey(channel="telegram", chat_id="55", user_id="55")
    a = await dossiers.create(new_dossier("a"))
    b = await dossiers.create(
        new_dossier(
            "b",
            at=NOW + timedelta(minutes=1),
            commune_code="10645",
            filer_key=volunteer,
            on_behalf_of={"ho_ten": "Lò Văn Páo", "quan_he": "hàng xóm"},
            result_delivery="post",
            postal_address={"dia_chi": "Thôn 3, xã Đông Hưng"},
        )
    )
    await dossiers.add_event(a.id, "accepted", "officer", "", NOW + timedelta(hours=1))

    assert [d.id for d in await dossiers.list()] == [b.id, a.id]
    assert [d.id for d in await dossiers.list(commune_code="10642")] == [a.id]
    assert [d.id for d in await dossiers.list(status="new")] == [b.id]
    assert await dossiers.list(commune_code="10645", status="accepted") == []
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

    dossier = await dossiers.create(new_dossier())

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
        await dossiers.create(new_dossier(**changes))
    assert await dossiers.list() == []
