from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.model import ConversationKey
from storage.attachments import FileRepository
from storage.audit import AuditRepository
from storage.outbox import OutboxRepository
from storage.secrets import SecretRepository

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
KEY = ConversationKey(channel="telegram", chat_id="42", user_id="42")
SHA_A, SHA_B = "a" * 64, "b" * 64


async def test_the_same_photo_twice_in_a_slot_is_kept_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    files = FileRepository(sessions)
    first = await files.add(
        KEY, "cccd", SHA_A, "k/1.jpg", "image/jpeg", 1200, NOW, width=800, height=600
    )
    again = await files.add(KEY, "cccd", SHA_A, "k/2.jpg", "image/jpeg", 1200, NOW)
    other_slot = await files.add(KEY, "giay_chung_sinh", SHA_A, "k/3.jpg", "image/jpeg", 1, NOW)
    other_photo = await files.add(KEY, "cccd", SHA_B, "k/4.jpg", "image/jpeg", 1, NOW)

    assert first.is_new and other_slot.is_new and other_photo.is_new
    assert not again.is_new
    assert again.file == first.file
    assert (first.file.width, first.file.height, first.file.created_at) == (800, 600, NOW)
    draft = await files.for_conversation(KEY)
    assert [f.storage_key for f in draft] == ["k/1.jpg", "k/3.jpg", "k/4.jpg"]

    removed = await files.remove(other_photo.file.id)
    assert removed == other_photo.file
    assert await files.remove(other_photo.file.id) is None
    assert len(await files.for_conversation(KEY)) == 2


async def test_attached_files_leave_the_draft(sessions: async_sessionmaker[AsyncSession]) -> None:
    from storage.dossiers import DossierRepository, NewDossier

    dossier, _ = await DossierRepository(sessions).file(
        NewDossier(
            submission_key="s",
            agency_code="000.00.31.H26",
            commune_code="10642",
            procedure_code="1.001193",
            filer_key=KEY,
            received_at=NOW,
            fields={},
            filer={},
        )
    )
    files = FileRepository(sessions)
    supplement = await files.add(KEY, "cccd", SHA_A, "k/9.jpg", "image/jpeg", 5, NOW)

    attached = await files.attach_to_dossier(KEY, dossier.id)

    assert [f.id for f in attached] == [supplement.file.id]
    assert attached[0].dossier_id == dossier.id
    assert await files.for_conversation(KEY) == []
    # A later draft (another child's birth) may use the same ID card photo again.
    reused = await files.add(KEY, "cccd", SHA_A, "k/10.jpg", "image/jpeg", 5, NOW)
    assert reused.is_new
    # Sent straight to the dossier again, the same photo is recognised.
    repeat = await files.add(
        KEY, "cccd", SHA_A, "k/11.jpg", "image/jpeg", 5, NOW, dossier_id=dossier.id
    )
    assert not repeat.is_new and repeat.file.id == supplement.file.id


async def test_outbox_claims_retries_and_finishes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    outbox = OutboxRepository(sessions)
    assert await outbox.enqueue("notify", {"n": 1}, "n:1", NOW) is True
    assert await outbox.enqueue("notify", {"n": 1}, "n:1", NOW) is False
    assert await outbox.enqueue("notify", {"n": 2}, "n:2", NOW, not_before=NOW + timedelta(hours=8))

    [claimed] = await outbox.claim_due(NOW, limit=10)
    assert (claimed.payload, claimed.attempts) == ({"n": 1}, 1)
    # Claimed items are hidden from a second worker while the first works on them.
    assert await outbox.claim_due(NOW + timedelta(seconds=1), limit=10) == []

    retry_at = NOW + timedelta(minutes=1)
    await outbox.mark_failed(claimed.id, "Zalo 429: quá nhiều yêu cầu", retry_at)
    failed = await outbox.get(claimed.id)
    assert failed is not None
    assert failed.last_error == "Zalo 429: quá nhiều yêu cầu"
    assert await outbox.claim_due(retry_at - timedelta(seconds=1), limit=10) == []

    [again] = await outbox.claim_due(retry_at, limit=10)
    assert (again.id, again.attempts) == (claimed.id, 2)
    await outbox.mark_done(again.id, retry_at)
    done = await outbox.get(again.id)
    assert done is not None and done.done_at == retry_at

    # Quiet hours over: the deferred item is now due, and the done one never returns.
    later = NOW + timedelta(hours=9)
    assert [i.payload for i in await outbox.claim_due(later, limit=10)] == [{"n": 2}]
    assert await outbox.purge_done(later) == 1
    assert await outbox.get(again.id) is None


async def test_a_worker_that_died_lets_its_items_come_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    outbox = OutboxRepository(sessions)
    await outbox.enqueue("deliver_dossier", {"dossier_id": 1}, "d:1", NOW)
    [first] = await outbox.claim_due(NOW, limit=1, lease=timedelta(minutes=5))
    [again] = await outbox.claim_due(NOW + timedelta(minutes=5), limit=1)
    assert again.id == first.id and again.attempts == 2


async def test_audit_trail_and_rotating_secret(sessions: async_sessionmaker[AsyncSession]) -> None:
    audit = AuditRepository(sessions)
    await audit.record("officer:lan", "status", "dossier:7", {"to": "accepted"}, NOW)
    await audit.record("admin", "role", "user:3", {}, NOW)
    [entry] = await audit.for_target("dossier:7")
    assert (entry.actor, entry.action, entry.details, entry.at) == (
        "officer:lan",
        "status",
        {"to": "accepted"},
        NOW,
    )

    secrets = SecretRepository(sessions)
    assert await secrets.get("zalo_refresh_token") is None
    await secrets.put("zalo_refresh_token", "first", NOW)
    await secrets.put("zalo_refresh_token", "second", NOW + timedelta(hours=1))
    assert await secrets.get("zalo_refresh_token") == "second"
