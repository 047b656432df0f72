"""Volunteers on every channel (terminal, web, Telegram by webhook and by polling, Zalo),
through the real adapters of one running deployment: "/tinhnguyen" asks and waits, the
officer's approval arrives as a message the assistant writes first, the volunteer starts a
filing for a villager and records the villager's typed consent. On Telegram and Zalo, a villager
takes over a volunteer's dossier with the one-time code in their own chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backoffice.office import Submission
from bot.volunteers import code_hash
from dialogs.model import ConversationKey
from dialogs.texts import volunteer as texts
from tests.channels.deployment import Deployment
from tests.channels.transcript import ChannelDriver


async def test_a_volunteer_asks_is_approved_and_records_a_consent_on_every_channel(
    citizen: ChannelDriver, deployment: Deployment
) -> None:
    app = deployment.app
    await citizen.start()
    assert texts.ASK_NAME.split("\n")[-1] in (await citizen.type("/tinhnguyen")).text
    await citizen.type("Nguyễn Văn Tú")
    await citizen.type("0987654321")
    waiting = await citizen.type("Chi đoàn thôn Đông")
    assert "Đã ghi nhận yêu cầu làm tình nguyện viên" in waiting.text

    volunteer = await app.volunteers.of(citizen.key)
    assert volunteer is not None and volunteer.status == "pending"
    decided = await app.volunteers.decide(
        volunteer.id, True, actor="console:lan", commune_codes=None, now=datetime.now(UTC)
    )
    assert decided is not None
    await app.notifier.run_once()  # or the background notifier already has
    told = await citizen.notice("Chúc mừng bạn!")
    assert texts.BTN_FILE_FOR in told.buttons

    asked = await citizen.press(texts.BTN_FILE_FOR)
    assert "Họ và tên của bà con" in asked.text
    await citizen.type("Trần Thị Hoa")
    await citizen.type("031198001234")
    consent = await citizen.type("0912345678")
    assert "Bạn đưa máy cho bà con gõ: đồng ý" in consent.text
    recorded = await citizen.type("đồng ý")
    assert "Đã ghi nhận Trần Thị Hoa đồng ý" in recorded.text
    trail = await app.audit.for_target(f"volunteer:{volunteer.id}")
    assert [e.action for e in trail][-1] == "consent_recorded"


async def test_a_villager_takes_a_dossier_into_their_own_telegram_or_zalo(
    citizen: ChannelDriver, deployment: Deployment
) -> None:
    app = deployment.app
    volunteer_key = ConversationKey("terminal", "vol-9", "vol-9")
    asked = await app.volunteers.apply(
        volunteer_key, "10642", "Nguyễn Văn Tú", "0987654321", "Chi đoàn", datetime.now(UTC)
    )
    volunteer = await app.volunteers.decide(
        asked.id, True, actor="console:lan", commune_codes=None, now=datetime.now(UTC)
    )
    assert volunteer is not None
    receipt = await app.office.receive(
        Submission(
            submission_key="vol-9-1",
            commune_code="10642",
            procedure_code="1.001193",
            filer_key=volunteer_key,
            submitted_at=datetime.now(UTC),
            fields={},
            filer={"for_self": False, "name": "Nguyễn Văn Tú"},
            on_behalf_of={"name": "Trần Thị Hoa", "id_number": "031198001234"},
            volunteer_id=volunteer.id,
        )
    )
    dossier = await app.dossiers.by_code(receipt.code)
    assert dossier is not None
    now = datetime.now(UTC)
    await app.volunteers.issue_code(
        dossier, volunteer, code_hash("K7M3PX"), now, now + timedelta(minutes=30)
    )
    await citizen.start()
    took = await citizen.type("NHAN K7M3PX")
    if citizen.key.channel in ("telegram", "zalo"):
        assert f"Đã nhận hồ sơ {receipt.code}" in took.text
        stored = await app.dossiers.by_code(receipt.code)
        assert stored is not None and stored.villager_key == citizen.key
        names = [name for name, _ in await citizen.documents()]
        assert f"bien-nhan-{receipt.code}.pdf" in names
        # The code typed in the villager's chat now answers at once, as in the filer's own.
        status = await citizen.type(receipt.code)
        assert f"Hồ sơ {receipt.code}" in status.text and "Tình trạng:" in status.text
    else:
        assert texts.HANDOVER_WRONG_CHANNEL in took.text
