"""The office works a dossier, and every step reaches the citizen's chat, on every channel.

A citizen files a certified copy by post through a real channel adapter (terminal, web chat,
Telegram by webhook and by long polling, Zalo) on one running deployment. The office then
moves it the way ``motcua office move`` does (the same service and workflow rules): accepted,
supplement requested, and the citizen answers in the same chat by pressing «Gửi bổ sung»,
sending the missing photo and confirming; back in progress, result ready, handed to the post
with an S10 item number, collected by the postal clerk, in transit, delivered. Each notice
comes through the running notifier and the channel's own push, with nothing typed in between,
and says what the citizen needs.
"""

from __future__ import annotations

import hashlib

import pytest

from backoffice.domain import (
    Accept,
    HandToPost,
    MarkResultReady,
    PostalEvent,
    RequestSupplement,
    Role,
    Status,
)
from dialogs.model import SUPPLEMENT_SLOT
from dialogs.texts import notices as ntexts
from tests.channels.deployment import Deployment
from tests.channels.transcript import (
    FILING_BY_POST,
    ChannelDriver,
    document_photo,
    play,
)

ITEM_NUMBER = "EE123456785VN"  # UPU S10 with its check digit
MISSING = "Văn bản ủy quyền có chữ ký của người được cấp bản sao"
OFFICER = "officer:lan"


@pytest.fixture
def deployment_env() -> dict[str, str]:
    return {
        # No quiet hours (the test must not depend on the hour it runs at), and Telegram's
        # 1 s per chat shortened: the pacing has tests of its own (tests/test_pacing.py).
        "MOTCUA_NOTIFICATIONS__QUIET_START": "07:00",
        "MOTCUA_NOTIFICATIONS__QUIET_END": "07:00",
        "MOTCUA_NOTIFICATIONS__TELEGRAM_PER_CHAT_SECONDS": "0.01",
        # A person files in minutes and answers the supplement days later; the test does
        # both in seconds, past the 20-messages-in-10-seconds flood limit.
        "MOTCUA_FLOOD__MESSAGES": "100",
    }


async def test_every_office_step_reaches_the_chat_and_the_supplement_goes_back_in_it(
    citizen: ChannelDriver, deployment: Deployment
) -> None:
    app = deployment.app
    photo = document_photo()
    await play(citizen, FILING_BY_POST, photo)
    [filed] = await app.dossiers.list()
    code = filed.code
    assert filed.result_delivery == "post"
    await citizen.documents()  # the receipt slip comes first, as after any filing

    async def move(command: object, role: Role = Role.OFFICER) -> None:
        moved = await app.office.move(code, command, actor=OFFICER, role=role)  # type: ignore[arg-type]
        assert not hasattr(moved, "reason"), moved
        await app.notifier.run_once()  # or the background notifier already has

    await move(Accept())
    accepted = await citizen.notice(ntexts.ACCEPTED)
    assert code in accepted.text
    assert "OTP" in accepted.text  # how to tell it is genuine, and what is never asked

    await move(RequestSupplement(missing=(MISSING,)))
    asked = await citizen.notice(MISSING)
    assert ntexts.BTN_SUPPLEMENT in asked.buttons

    # The citizen answers in the same chat: the button, the photo, «Xong», «Gửi cho xã».
    opened = await citizen.press(ntexts.BTN_SUPPLEMENT)
    assert f"Bổ sung cho hồ sơ {code}" in opened.text
    got = await citizen.send_photo(photo)
    assert ntexts.supplement_got(1, 0) in got.text
    summary = await citizen.press(ntexts.BTN_DONE)
    assert "1 ảnh giấy tờ" in summary.text
    sent = await citizen.press(ntexts.BTN_SEND)
    assert ntexts.supplement_sent(code) in sent.text

    view = await app.office.get(code)
    assert view is not None and view.dossier.status == Status.IN_PROGRESS.value
    assert view.history[-1].role == "citizen"
    attached = [f for f in await app.files.for_dossier(filed.id) if f.slot == SUPPLEMENT_SLOT]
    assert [f.sha256 for f in attached] == [hashlib.sha256(photo).hexdigest()]
    await app.notifier.run_once()
    back = await citizen.notice("hồ sơ đang được xử lý tiếp")
    assert code in back.text

    await move(MarkResultReady())
    ready = await citizen.notice("Đã có kết quả")
    assert "bưu điện" in ready.text

    await move(HandToPost(item_number=ITEM_NUMBER))
    posted = await citizen.notice(ITEM_NUMBER)
    assert "giao cho bưu điện" in posted.text

    # The postal clerk's steps: collected at the office, on its way, delivered.
    await move(PostalEvent(event=Status.COLLECTED), role=Role.POSTAL_CLERK)
    await citizen.notice(ntexts.COLLECTED)
    await move(PostalEvent(event=Status.IN_TRANSIT), role=Role.POSTAL_CLERK)
    await citizen.notice(ntexts.IN_TRANSIT)
    await move(PostalEvent(event=Status.DELIVERED), role=Role.POSTAL_CLERK)
    await citizen.notice(ntexts.DELIVERED)

    final = await app.office.get(code)
    assert final is not None
    assert [e.status for e in final.history] == [
        "received",
        "accepted",
        "supplement_requested",
        "in_progress",
        "result_ready",
        "posted",
        "collected",
        "in_transit",
        "delivered",
    ]
    assert await app.notifier.run_once() == 0  # every notice sent, none left waiting
