"""The volunteers' store on every backend: a request and its replacement, the officer's
decision as a compare-and-set within the officer's communes (with its audit entry and the
outbox row to the volunteer's chat), the dossiers a volunteer filed, and handover codes that
work once, before they expire, and for one chat even when two type it at the same moment. A
rejected or revoked volunteer can ask again and be decided (and told) again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import CONSENT_SLOT, ConversationKey
from storage.attachments import FileRepository
from storage.audit import AuditRepository
from storage.dossiers import Dossier, DossierRepository, NewDossier
from storage.outbox import OutboxRepository
from storage.volunteers import HandedOver, Volunteer, VolunteerRepository

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
VOLUNTEER = ConversationKey("zalo", "z-1", "z-1")
VILLAGER = ConversationKey("telegram", "t-7", "t-7")
NEIGHBOUR = ConversationKey("telegram", "t-8", "t-8")


async def _volunteer(repo: VolunteerRepository, approve: bool = True) -> Volunteer:
    asked = await repo.apply(
        VOLUNTEER, "10642", "Nguyễn Văn Tú", "0987654321", "Chi đoàn Đông", NOW
    )
    if not approve:
        return asked
    decided = await repo.decide(asked.id, True, actor="console:lan", commune_codes=None, now=NOW)
    assert decided is not None
    return decided


async def _file(
    sessions: async_sessionmaker[AsyncSession], volunteer_id: int | None, key: str = "k1"
) -> Dossier:
    dossier, _ = await DossierRepository(sessions).file(
        NewDossier(
            submission_key=key,
            agency_code="000.00.31.H26",
            commune_code="10642",
            procedure_code="1.001193",
            filer_key=VOLUNTEER,
            received_at=NOW,
            fields={},
            filer={"for_self": False, "name": "Nguyễn Văn Tú"},
            on_behalf_of={"name": "Trần Thị Hoa", "id_number": "031198001234"},
            volunteer_id=volunteer_id,
        )
    )
    return dossier


async def test_a_request_waits_then_one_decision_wins(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = VolunteerRepository(sessions)
    asked = await _volunteer(repo, approve=False)
    assert asked.status == "pending"
    # Asked again before anyone decided: the new answers replace the old, still one row.
    again = await repo.apply(VOLUNTEER, "10642", "Nguyễn Văn Tú", "0911111111", "Chi đoàn Tây", NOW)
    assert again.id == asked.id and again.phone == "0911111111"
    assert [v.id for v in await repo.pending(("10642",))] == [asked.id]
    assert await repo.pending(("99999",)) == []

    # Another commune's officer cannot decide it; two officers at once: one decision.
    assert await repo.decide(asked.id, True, actor="c:x", commune_codes=("99999",), now=NOW) is None
    results = await asyncio.gather(
        repo.decide(asked.id, True, actor="console:lan", commune_codes=("10642",), now=NOW),
        repo.decide(asked.id, False, actor="console:minh", commune_codes=("10642",), now=NOW),
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    stored = await repo.get(asked.id)
    assert stored is not None and stored.status == winners[0].status
    assert stored.decided_by in ("console:lan", "console:minh")
    assert await repo.pending(None) == []

    # Its audit entries and exactly one message to the volunteer's chat.
    trail = await AuditRepository(sessions).for_target(f"volunteer:{asked.id}")
    assert [e.action for e in trail] == [
        "volunteer_applied",
        "volunteer_applied",
        f"volunteer_{stored.status}",
    ]
    rows = await OutboxRepository(sessions).pending(topic="notify:zalo")
    assert [(r.payload["kind"], r.payload["message"], r.payload["chat_id"]) for r in rows] == [
        ("volunteer", stored.status, "z-1")
    ]
    # An approved volunteer asking again stays approved.
    if stored.status == "approved":
        kept = await repo.apply(VOLUNTEER, "10642", "X", "0900000000", "Y", NOW)
        assert kept.status == "approved" and kept.phone == "0911111111"


async def test_a_revoked_volunteer_asks_again_and_is_approved_again_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = VolunteerRepository(sessions)
    volunteer = await _volunteer(repo)
    revoked_at = NOW + timedelta(days=1)
    revoked = await repo.disable(
        volunteer.id, actor="console:lan", commune_codes=("10642",), now=revoked_at
    )
    assert revoked is not None and revoked.status == "disabled"

    # Asked again: one row, pending with the new answers, and the officer sees the revocation.
    later = NOW + timedelta(days=8)
    again = await repo.apply(
        VOLUNTEER, "10642", "Nguyễn Văn Tú", "0911111111", "Chi đoàn Tây", later
    )
    assert (again.id, again.status, again.phone) == (volunteer.id, "pending", "0911111111")
    assert again.decided_at is None and again.decided_by is None
    (waiting,) = await repo.pending(("10642",))
    assert (waiting.id, waiting.earlier, waiting.earlier_at) == (
        volunteer.id,
        "disabled",
        revoked_at,
    )

    # Two officers at once: one approval; the volunteer is told a second time.
    results = await asyncio.gather(
        repo.decide(again.id, True, actor="console:lan", commune_codes=("10642",), now=later),
        repo.decide(again.id, True, actor="console:minh", commune_codes=("10642",), now=later),
    )
    assert len([r for r in results if r is not None]) == 1
    stored = await repo.get(volunteer.id)
    assert stored is not None and stored.approved and await repo.pending(None) == []
    told = await OutboxRepository(sessions).pending(topic="notify:zalo")
    assert [r.payload["message"] for r in told] == ["approved", "disabled", "approved"]
    trail = await AuditRepository(sessions).for_target(f"volunteer:{volunteer.id}")
    assert [(e.action, e.details.get("was")) for e in trail] == [
        ("volunteer_applied", None),
        ("volunteer_approved", None),
        ("volunteer_disabled", None),
        ("volunteer_applied", "disabled"),
        ("volunteer_approved", None),
    ]


async def test_a_rejected_request_asked_again_is_decided_and_told_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = VolunteerRepository(sessions)
    asked = await _volunteer(repo, approve=False)
    rejected_at = NOW + timedelta(hours=1)
    first = await repo.decide(
        asked.id, False, actor="console:lan", commune_codes=None, now=rejected_at
    )
    assert first is not None and first.status == "rejected"
    again = await repo.apply(
        VOLUNTEER, "10642", "Nguyễn Văn Tú", "0987654321", "Chi đoàn Đông", NOW + timedelta(days=2)
    )
    assert again.status == "pending"
    (waiting,) = await repo.pending(None)
    assert (waiting.earlier, waiting.earlier_at) == ("rejected", rejected_at)
    second = await repo.decide(
        asked.id, False, actor="console:minh", commune_codes=None, now=NOW + timedelta(days=3)
    )
    assert second is not None and second.status == "rejected"
    told = await OutboxRepository(sessions).pending(topic="notify:zalo")
    assert [r.payload["message"] for r in told] == ["rejected", "rejected"]
    actions = [
        e.action for e in await AuditRepository(sessions).for_target(f"volunteer:{asked.id}")
    ]
    assert actions == [
        "volunteer_applied",
        "volunteer_rejected",
        "volunteer_applied",
        "volunteer_rejected",
    ]


async def test_the_dossiers_a_volunteer_filed_and_a_code_that_works_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = VolunteerRepository(sessions)
    volunteer = await _volunteer(repo)
    mine = await _file(sessions, volunteer.id, "k1")
    await _file(sessions, None, "k2")  # the volunteer's own filing is not in the list
    assert [d.code for d in await repo.filed_by(volunteer.id)] == [mine.code]
    assert mine.volunteer_id == volunteer.id and mine.villager_key is None

    await repo.issue_code(mine, volunteer, "h" * 64, NOW, NOW + timedelta(minutes=30))
    assert await repo.redeem("x" * 64, VILLAGER, NOW) == "unknown"
    assert await repo.redeem("h" * 64, VOLUNTEER, NOW) == "own_chat"
    # Two chats type the same code at the same moment: one gets the dossier.
    results = await asyncio.gather(
        repo.redeem("h" * 64, VILLAGER, NOW + timedelta(minutes=1)),
        repo.redeem("h" * 64, NEIGHBOUR, NOW + timedelta(minutes=1)),
    )
    won = [r for r in results if isinstance(r, HandedOver)]
    assert len(won) == 1 and [r for r in results if not isinstance(r, HandedOver)] == ["used"]
    taker = VILLAGER if isinstance(results[0], HandedOver) else NEIGHBOUR
    assert won[0].dossier.villager_key == taker
    assert await repo.redeem("h" * 64, taker, NOW + timedelta(minutes=2)) == "used"
    stored = await DossierRepository(sessions).by_code(mine.code)
    assert stored is not None and stored.villager_key == taker

    # The receipt to the villager and the word to the volunteer, durable, queued once.
    receipts = await OutboxRepository(sessions).pending(topic="send_receipt:telegram")
    assert [r.payload["to"]["chat_id"] for r in receipts] == [taker.chat_id]
    told = await OutboxRepository(sessions).pending(topic="notify:zalo")
    assert [r.payload["message"] for r in told] == ["approved", "handed_over"]
    actions = [e.action for e in await AuditRepository(sessions).for_target(f"dossier:{mine.code}")]
    assert actions == ["received", "handover_code", "handed_over"]


async def test_an_expired_code_is_refused_and_wrong_codes_are_counted_per_chat(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = VolunteerRepository(sessions)
    volunteer = await _volunteer(repo)
    dossier = await _file(sessions, volunteer.id)
    await repo.issue_code(dossier, volunteer, "e" * 64, NOW, NOW + timedelta(minutes=30))
    assert await repo.redeem("e" * 64, VILLAGER, NOW + timedelta(minutes=30)) == "expired"
    for _ in range(3):
        await repo.refused(VILLAGER, "unknown", NOW)
    await repo.refused(NEIGHBOUR, "unknown", NOW)
    assert await repo.refusals(VILLAGER, NOW - timedelta(days=1)) == 3
    assert await repo.refusals(NEIGHBOUR, NOW - timedelta(days=1)) == 1
    assert await repo.refusals(VILLAGER, NOW + timedelta(seconds=1)) == 0


async def test_a_consent_photo_goes_only_with_a_volunteers_filing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    files = FileRepository(sessions)
    volunteer = await _volunteer(VolunteerRepository(sessions))
    await files.add(VOLUNTEER, CONSENT_SLOT, "c" * 64, "k/c.jpg", "image/jpeg", 10, NOW)
    await files.add(VOLUNTEER, "birth_certificate", "b" * 64, "k/b.jpg", "image/jpeg", 10, NOW)
    own = await _file(sessions, None, "own")  # the volunteer's own filing: not the consent
    assert [f.slot for f in await files.for_dossier(own.id)] == ["birth_certificate"]
    for_villager = await _file(sessions, volunteer.id, "for-villager")
    assert [f.slot for f in await files.for_dossier(for_villager.id)] == [CONSENT_SLOT]
