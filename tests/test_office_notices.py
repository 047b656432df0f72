"""An office move reaches the citizen's chat; a supplement asked for is answered in the chat.

Through the whole app (build_app), as an officer at the desk and a citizen on Telegram would
see it: the office moves the dossier, the notifier delivers the notice once, the citizen
presses «Gửi bổ sung», writes what was missing, confirms, and the dossier goes back to
processing with its due date counted again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from backoffice.documents.vietqr import build_vietqr, fee_purpose, qr_png, read_vietqr
from backoffice.domain import Accept, RequestPayment, RequestSupplement, Role, StartProcessing
from backoffice.office import Submission
from bot.app import Knowledge, build_app
from bot.config import PaymentSettings, Settings
from dialogs.model import ConversationKey, Inbound, Reply
from storage.migrate import upgrade

KEY = ConversationKey(channel="telegram", chat_id="4242", user_id="4242")


class Chat:
    """A Telegram chat as the push door sees it."""

    def __init__(self) -> None:
        self.got: list[Reply] = []

    async def __call__(self, key: ConversationKey, replies: Sequence[Reply]) -> bool:
        assert key == KEY
        self.got.extend(replies)
        return True


@pytest.fixture
def daytime(settings: Settings) -> Settings:
    # Quiet hours off: the test must not depend on the hour it runs at.
    notify = settings.notifications.model_copy(
        update={"quiet_start": settings.notifications.quiet_end}
    )
    return settings.model_copy(update={"notifications": notify})


async def _file(app: object, key: str = "sub-1") -> str:
    receipt = await app.client.submit(  # type: ignore[attr-defined]
        Submission(
            submission_key=key,
            commune_code=app.settings.deployment.default_commune,  # type: ignore[attr-defined]
            procedure_code="1.001193",
            filer_key=KEY,
            submitted_at=datetime.now(UTC),
            fields={"ho_ten_tre": "Trần Minh Khôi"},
            filer={"for_self": True, "name": "Trần Thị Lan", "phone": "0912345678"},
        )
    )
    return receipt.code


async def _press(app: object, n: int, payload: str | None = None, text: str = "") -> list[Reply]:
    inbound = Inbound(
        key=KEY, message_id=f"m{n}", received_at=datetime.now(UTC), payload=payload, text=text
    )
    return list(await app.service.replies(inbound))  # type: ignore[attr-defined]


async def test_each_move_reaches_the_chat_once_and_a_supplement_goes_back(
    daytime: Settings, knowledge: Knowledge
) -> None:
    await upgrade(daytime.database.url)
    async with build_app(daytime, knowledge, deliver=False) as app:
        chat = Chat()
        app.push.register("telegram", chat)
        code = await _file(app)
        hotline = daytime.commune().hotline

        await app.office.move(code, Accept(), actor="officer:lan", role=Role.OFFICER)
        assert await app.notifier.run_once() == 1
        assert await app.notifier.run_once() == 0  # delivered once, not again
        [accepted] = chat.got
        assert code in accepted.text and "tiếp nhận" in accepted.text
        assert hotline in accepted.text  # how to check it is genuine
        assert "OTP" in accepted.text  # ...and what the office never asks for

        await app.office.move(
            code,
            RequestSupplement(missing=("Giấy chứng sinh bản chính",)),
            actor="officer:lan",
            role=Role.OFFICER,
        )
        assert await app.notifier.run_once() == 1
        asked = chat.got[-1]
        assert "Giấy chứng sinh bản chính" in asked.text
        [start] = [b for b in asked.flat_buttons() if b.payload.startswith("supp:")]

        before = (await app.office.get(code)).dossier.due_date  # type: ignore[union-attr]
        opened = await _press(app, 1, start.payload)
        assert "Giấy chứng sinh" in opened[0].text
        noted = await _press(app, 2, text="Giấy chứng sinh em nộp bản gốc ở quầy chiều nay ạ")
        assert "1 lời nhắn" in noted[0].text
        summary = await _press(app, 3, "suppdone")
        assert "Giấy chứng sinh em nộp bản gốc" in summary[0].text
        sent = await _press(app, 4, "suppsend")
        assert any(code in r.text and "Đã gửi" in r.text for r in sent)

        view = await app.office.get(code)
        assert view is not None
        assert view.dossier.status == "in_progress"
        assert [e.status for e in view.history] == [
            "received",
            "accepted",
            "supplement_requested",
            "in_progress",
        ]
        assert view.history[-1].role == "citizen"
        assert "bản gốc" in str(view.history[-1].details.get("text"))
        assert view.dossier.due_date is not None and before is not None
        assert view.dossier.due_date >= before

        assert await app.notifier.run_once() == 1
        assert "bổ sung" in chat.got[-1].text
        # The supplement is closed: pressing the old button again is politely refused.
        again = await _press(app, 5, start.payload)
        assert "không cần bổ sung" in again[0].text


async def test_an_officer_cannot_skip_the_rules(daytime: Settings, knowledge: Knowledge) -> None:
    await upgrade(daytime.database.url)
    async with build_app(daytime, knowledge, deliver=False) as app:
        code = await _file(app, "sub-2")
        refused = await app.office.move(
            code, StartProcessing(), actor="postal:minh", role=Role.POSTAL_CLERK
        )
        assert getattr(refused, "reason", "") == "role"
        assert await app.notifier.run_once() == 0  # nothing moved, nobody told


async def test_a_payment_request_says_the_amount_and_carries_the_vietqr_for_it(
    daytime: Settings, knowledge: Knowledge
) -> None:
    account = PaymentSettings(
        bank_bin="970415", account_number="113366668888", account_name="UBND XA THAI TAN"
    )
    with_bank = daytime.model_copy(update={"payment": account})
    await upgrade(with_bank.database.url)
    async with build_app(with_bank, knowledge, deliver=False) as app:
        chat = Chat()
        app.push.register("telegram", chat)
        code = await _file(app, "sub-pay")
        for command in (Accept(), StartProcessing(), RequestPayment(amount=16_000)):
            await app.office.move(code, command, actor="officer:lan", role=Role.OFFICER)
        assert await app.notifier.run_once() == 3
        asked = chat.got[-1]

        assert "16.000 đồng" in asked.text
        assert "số 113366668888" in asked.text and "UBND XA THAI TAN" in asked.text
        note = fee_purpose(code)
        assert f"nội dung: {note}" in asked.text
        [qr] = asked.images
        assert qr.mime_type == "image/png" and qr.data.startswith(b"\x89PNG")
        # The picture is exactly the transfer the words describe.
        transfer = build_vietqr("970415", "113366668888", 16_000, note)
        assert qr.data == qr_png(transfer)
        read = read_vietqr(transfer)
        assert (read.amount, read.account, read.purpose) == (16_000, "113366668888", note)

    # Without an account in config: the desk only, and no picture.
    await upgrade(daytime.database.url)
    async with build_app(daytime, knowledge, deliver=False) as app:
        chat = Chat()
        app.push.register("telegram", chat)
        code = await _file(app, "sub-pay-desk")
        for command in (Accept(), StartProcessing(), RequestPayment(amount=16_000)):
            await app.office.move(code, command, actor="officer:lan", role=Role.OFFICER)
        await app.notifier.run_once()
        desk = chat.got[-1]
        assert "16.000 đồng" in desk.text and "bộ phận một cửa" in desk.text
        assert desk.images == () and "QR" not in desk.text
