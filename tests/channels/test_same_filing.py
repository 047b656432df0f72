"""One conversation, four channels, one outcome (issue #4).

The same transcript (tests.channels.transcript) is played through the terminal, the web chat,
Telegram (webhook and long polling) and Zalo, each through its real adapter on one running
deployment, and must give the same dossier and show the citizen the same screens as the
conversation core does on its own (tests.channels.drivers.CoreDriver).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.app import Knowledge
from dialogs.texts import filing as ftexts
from dialogs.texts.common import BTN_BROWSE, BTN_MENU
from tests.channels.deployment import Deployment, deployment_settings, running_deployment
from tests.channels.drivers import open_driver, reference_screens
from tests.channels.transcript import (
    BARE_NUMBER,
    BTN_ALL_PAPERS,
    BTN_FILE,
    CODE,
    DETOUR_AND_CANCEL,
    FILED_FIELDS,
    FILER,
    FILING,
    NAME,
    PHOTO_SLOT,
    QUESTION,
    ChannelDriver,
    Driver,
    Screen,
    Step,
    document_photo,
    is_subsequence,
    play,
    without_moment,
)
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.zalo_server import FakeZalo


@pytest.fixture(scope="session")
def photo() -> bytes:
    return document_photo()


async def _reference(
    deployment: Deployment, knowledge: Knowledge, steps: Sequence[Step], photo: bytes, tmp: Path
) -> list[Screen]:
    return await reference_screens(deployment.settings, knowledge, steps, photo, tmp)


def _assert_same_screens(
    channel: str, seen: Sequence[Screen], wanted: Sequence[Screen], *, open_end: bool = False
) -> None:
    """Screen for screen what the core says; with ``open_end`` the last screen may hold more
    (a file or notice sent after the reply by a background worker)."""
    seen = [without_moment(s) for s in seen]
    wanted = [without_moment(s) for s in wanted]
    assert len(seen) == len(wanted)
    if not open_end:
        assert seen == wanted, channel
        return
    assert seen[:-1] == wanted[:-1], channel
    assert is_subsequence(wanted[-1].lines, seen[-1].lines), (channel, seen[-1], wanted[-1])
    assert is_subsequence(wanted[-1].buttons, seen[-1].buttons), (channel, seen[-1], wanted[-1])


async def test_the_same_filing_gives_the_same_dossier_on_every_channel(
    citizen: ChannelDriver,
    deployment: Deployment,
    knowledge: Knowledge,
    photo: bytes,
    tmp_path: Path,
) -> None:
    screens = await play(citizen, FILING, photo)

    app = deployment.app
    [dossier] = await app.dossiers.list()
    assert dossier.procedure_code == CODE
    assert dossier.fields == FILED_FIELDS
    assert dossier.filer == FILER
    assert dossier.filer_key == citizen.key
    assert dossier.result_delivery == "counter"

    [stored] = await app.files.for_dossier(dossier.id)
    assert (stored.slot, stored.key) == (PHOTO_SLOT, citizen.key)
    assert stored.sha256 == hashlib.sha256(photo).hexdigest()  # the very bytes the citizen sent
    assert await app.store.exists(stored.storage_key)

    receipt = screens[-1]
    assert f"Mã hồ sơ: {dossier.code}" in receipt.lines
    assert dossier.due_date is not None
    appointment = f"{dossier.due_date:%d/%m/%Y}"
    assert any(line.startswith("Ngày hẹn trả kết quả") for line in receipt.lines)
    assert appointment in receipt.text

    core = await _reference(deployment, knowledge, FILING, photo, tmp_path)
    _assert_same_screens(citizen.name, screens, core, open_end=True)

    # The receipt slip follows the text receipt, drawn after the turn, on the same channel.
    await app.receipts.run_once()  # or the background courier already has
    [(name, pdf)] = await citizen.documents()
    assert name == f"bien-nhan-{dossier.code}.pdf"
    assert pdf.startswith(b"%PDF-")
    assert await app.receipts.run_once() == 0  # sent once, nothing left waiting


async def test_a_question_mid_form_then_cancelling_leaves_no_dossier_on_every_channel(
    citizen: Driver, deployment: Deployment, knowledge: Knowledge, photo: bytes, tmp_path: Path
) -> None:
    screens = await play(citizen, DETOUR_AND_CANCEL, photo)

    assert await deployment.app.dossiers.list() == []
    asked = next(i for i, step in enumerate(DETOUR_AND_CANCEL) if step.expect == ftexts.CONTINUE)
    assert "Lệ phí: 8.000 đồng/bản sao" in screens[asked].text  # the question was answered
    core = await _reference(deployment, knowledge, DETOUR_AND_CANCEL, photo, tmp_path)
    _assert_same_screens(citizen.name, screens, core)


async def test_a_bare_number_answers_the_question_on_every_channel(
    citizen: Driver, deployment: Deployment, knowledge: Knowledge, photo: bytes, tmp_path: Path
) -> None:
    """ "Bạn cần mấy bản sao ạ? Ví dụ: 2" answered "2" means two copies, wherever it is typed."""
    screens = await play(citizen, BARE_NUMBER, photo)

    core = await _reference(deployment, knowledge, BARE_NUMBER, photo, tmp_path)
    _assert_same_screens(citizen.name, screens, core)


async def test_a_numbered_choice_typed_after_a_restart_still_counts_on_zalo(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    knowledge: Knowledge,
    telegram_api: FakeTelegramServer,
    zalo_api: FakeZalo,
) -> None:
    """Zalo shows buttons as numbers; the citizen answers "2" after the server restarted."""
    settings = deployment_settings(tmp_path, monkeypatch, telegram_api, zalo_api)
    first_run = running_deployment(settings, knowledge, telegram_api, zalo_api)
    async with first_run as before, open_driver("zalo", before, tmp_path) as citizen:
        menu = await citizen.start()
        pressed = await citizen.press(BTN_BROWSE)  # what "the second one" should show
        await citizen.press(BTN_MENU)
    number = menu.buttons.index(BTN_BROWSE) + 1
    second_run = running_deployment(settings, knowledge, telegram_api, zalo_api)
    async with second_run as after, open_driver("zalo", after, tmp_path) as citizen:
        typed = await citizen.type(str(number))
    assert typed == pressed


@pytest.mark.parametrize("start", [True, False], ids=["after-follow", "first-contact"])
async def test_the_first_answer_card_is_one_zalo_message_and_its_buttons_work(
    deployment: Deployment, zalo_api: FakeZalo, tmp_path: Path, start: bool
) -> None:
    """Zalo splits at 2,000 characters and shows every message as its own bubble: the short
    card, its numbered buttons and the hint (and, at first contact, the hello) are one."""
    async with open_driver("zalo", deployment, tmp_path) as citizen:
        if start:
            await citizen.start()
        before = len(zalo_api.delivered)
        card = await citizen.type(QUESTION)
        sent = zalo_api.delivered[before:]
        assert len(sent) == 1
        assert sent[0].text.count("\n") < 20
        assert f"{NAME}\nGiấy tờ cần có:" in card.text
        assert card.buttons[0] == BTN_FILE and BTN_ALL_PAPERS in card.buttons
        papers = await citizen.press(BTN_ALL_PAPERS)
        assert f"Mã thủ tục: {CODE}" in papers.text
        assert "Giấy tờ cần nộp:" in papers.text
        legal = await citizen.press("Căn cứ pháp lý")
        assert "Luật Hộ tịch" in legal.text
