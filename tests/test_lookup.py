"""A dossier code typed in the chat answers with its status; anyone but the filer's own chat
must first give the filer's phone number, with three tries, and a code guessed at from many
chats is closed for the day. Through the whole app, and the lookup effect through both doors
to the office (in process and over the REST API)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backoffice.client import BackOfficeClient
from backoffice.domain import Accept, RequestSupplement, Role
from backoffice.office import Submission
from bot.app import App, Knowledge, build_app
from bot.config import Settings
from bot.effects import LOOKUP_REFUSALS, Effects
from dialogs import lookup
from dialogs.model import ConversationKey, Inbound, LookupDossier
from dialogs.texts import tracking
from storage.attachments import FileRepository
from storage.audit import AuditRepository
from storage.db import create_engine, session_factory
from storage.files import LocalFileStore
from storage.migrate import upgrade
from tests.backoffice.test_client import Doors, doors  # noqa: F401  (the fixture)
from tests.backoffice.test_office import FILER, PHONE, submission

FILED_FROM = ConversationKey(channel="telegram", chat_id="4242", user_id="4242")
NEIGHBOUR = ConversationKey(channel="zalo", chat_id="1900", user_id="1900")
FILER_PHONE = "0912345678"
_ids = itertools.count(1)


async def _file(app: App) -> str:
    receipt = await app.client.submit(
        Submission(
            submission_key=f"sub-{next(_ids)}",
            commune_code=app.settings.deployment.default_commune,
            procedure_code="1.001193",
            filer_key=FILED_FROM,
            submitted_at=datetime.now(UTC),
            fields={"ho_ten_tre": "Trần Minh Khôi"},
            filer={"for_self": True, "name": "Trần Thị Lan", "phone": FILER_PHONE},
        )
    )
    return receipt.code


async def _say(app: App, key: ConversationKey, text: str = "", payload: str | None = None) -> str:
    inbound = Inbound(
        key=key,
        message_id=f"m{next(_ids)}",
        received_at=datetime.now(UTC),
        text=text,
        payload=payload,
    )
    return "\n".join(r.text for r in await app.service.replies(inbound))


def _as_typed(code: str) -> str:
    """How a villager copies it from the slip: lower case, spaces around the dashes."""
    head, day, seq = code.split("-")
    return f"cho e hoi ho so {head.lower()} - {day} – {seq} den dau roi a"


async def test_the_filers_own_chat_sees_status_and_history_at_once(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        code = await _file(app)
        await app.office.move(code, Accept(), actor="officer:lan", role=Role.OFFICER)
        missing = ("Giấy chứng sinh bản chính",)
        await app.office.move(
            code, RequestSupplement(missing=missing), actor="officer:lan", role=Role.OFFICER
        )

        shown = await _say(app, FILED_FROM, _as_typed(code))

        assert f"Hồ sơ {code}" in shown
        assert "Đăng ký khai sinh" in shown
        assert "Tình trạng: Cần bổ sung giấy tờ" in shown
        assert "Cần bổ sung: Giấy chứng sinh bản chính" in shown
        history = [line for line in shown.split("\n") if line.startswith("• ")]
        assert len(history) == 3  # received, accepted, supplement requested
        assert "Đã được tiếp nhận" in history[1]
        assert "số điện thoại" not in shown  # never asked of the filer


async def test_someone_else_gives_the_filers_phone_first_and_has_three_tries(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        code = await _file(app)

        asked = await _say(app, NEIGHBOUR, _as_typed(code))
        assert "số điện thoại người nộp" in asked
        assert "Tình trạng" not in asked

        unclear = await _say(app, NEIGHBOUR, "số của chị Lan ạ")
        assert unclear == tracking.PHONE_UNCLEAR  # not a number: no try used up
        wrong = await _say(app, NEIGHBOUR, "0987 654 321")
        assert "không khớp" in wrong and "còn 2 lần" in wrong
        right = await _say(app, NEIGHBOUR, "+84 912 345 678")
        assert f"Hồ sơ {code}" in right and "Tình trạng: Mới đăng ký" in right

        # Out of the lookup: what comes next is a question again, not a phone number.
        answer = await _say(app, NEIGHBOUR, "đăng ký kết hôn cần gì")
        assert "số điện thoại" not in answer and "kết hôn" in answer.casefold()

        audit = await app.audit.for_target(f"dossier:{code}")
        seen = [(e.action, e.actor) for e in audit if e.action.startswith("lookup")]
        assert seen == [
            ("lookup_refused", NEIGHBOUR.as_str()),
            ("lookup", NEIGHBOUR.as_str()),
        ]
        assert all(FILER_PHONE not in str(e.details) for e in audit)  # no number kept


async def test_three_wrong_numbers_stop_the_lookup_and_typing_the_code_again_does_not_reset(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        code = await _file(app)
        await _say(app, NEIGHBOUR, code)
        assert "còn 2 lần" in await _say(app, NEIGHBOUR, "0987654321")
        assert "còn 1 lần" in await _say(app, NEIGHBOUR, "0987654322")
        stopped = await _say(app, NEIGHBOUR, "0987654323")
        assert "dừng tra cứu" in stopped
        assert settings.commune().hotline in stopped

        again = await _say(app, NEIGHBOUR, code)
        assert "dừng tra cứu" in again and "số điện thoại người nộp" not in again
        # Even a forged follow-up cannot give fresh tries.
        forged = await _say(app, NEIGHBOUR, payload=f"{lookup.ASK_PHONE}:{code}")
        assert "dừng tra cứu" in forged


async def test_an_unknown_code_and_a_wrong_number_get_the_same_answer(
    settings: Settings, knowledge: Knowledge
) -> None:
    """Nobody can learn which codes exist by typing them."""
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        code = await _file(app)
        unknown = code[:-4] + "9999"
        other = ConversationKey(channel="web", chat_id="w1", user_id="w1")

        asked_real = await _say(app, NEIGHBOUR, code)
        asked_unknown = await _say(app, other, unknown)
        assert asked_real.replace(code, "X") == asked_unknown.replace(unknown, "X")
        wrong_real = await _say(app, NEIGHBOUR, "0987654321")
        wrong_unknown = await _say(app, other, FILER_PHONE)
        assert wrong_real == wrong_unknown


async def test_a_code_guessed_at_from_many_chats_is_closed_for_everyone_but_its_filer(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        code = await _file(app)
        for n in range(LOOKUP_REFUSALS):
            guesser = ConversationKey(channel="web", chat_id=f"g{n}", user_id=f"g{n}")
            await _say(app, guesser, code)
            assert "không khớp" in await _say(app, guesser, f"098765432{n}")

        latecomer = ConversationKey(channel="web", chat_id="late", user_id="late")
        await _say(app, latecomer, code)
        refused = await _say(app, latecomer, FILER_PHONE)  # the right number, too late
        assert "không khớp" in refused and "Tình trạng" not in refused
        assert "Tình trạng" in await _say(app, FILED_FROM, code)  # the filer still sees it


async def test_a_code_typed_in_the_middle_of_a_form_answers_and_the_form_goes_on(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        code = await _file(app)
        await _say(app, FILED_FROM, "/start")
        await _say(app, FILED_FROM, "xin bản sao giấy khai sinh")
        await _say(app, FILED_FROM, "Nộp hồ sơ")  # typed button labels work as presses
        first = await _say(app, FILED_FROM, "Của chính tôi")  # who files, its own terms
        assert "Câu 2/8" in first  # the person is the filer: their name is not asked twice

        status = await _say(app, FILED_FROM, f"hồ sơ {code} của tôi")
        assert "Tình trạng" in status

        going_on = await _say(app, FILED_FROM, "nguyễn văn an")
        assert "Câu 3/8" in going_on


# --------------------------------------------------------------------------- both doors


@pytest.fixture(params=["local", "remote"])
def door(request: pytest.FixtureRequest, doors: Doors) -> BackOfficeClient:  # noqa: F811
    return doors.local if request.param == "local" else doors.remote


async def test_the_lookup_effect_answers_alike_through_either_door(
    door: BackOfficeClient,
    doors: Doors,  # noqa: F811
    settings: Settings,
    knowledge: Knowledge,
    tmp_path: Path,
) -> None:
    receipt = await doors.local.submit(submission(filer={"ho_ten": "Trần Thị Lan", "phone": PHONE}))
    url = f"sqlite+aiosqlite:///{tmp_path}/effects.sqlite3"
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        effects = Effects(
            settings=settings,
            catalogue=knowledge.catalogue,
            office=door,
            dossiers=doors.office.store,
            files=FileRepository(sessions),
            audit=AuditRepository(sessions),
            store=LocalFileStore(tmp_path / "files"),
            fetchers={},
            clock=lambda: datetime.now(UTC),
        )

        def asked(key: ConversationKey) -> Inbound:
            return Inbound(key=key, message_id="m1", received_at=datetime.now(UTC))

        own = await effects(asked(FILER), LookupDossier(receipt.code))
        assert own.followup is None
        assert f"Hồ sơ {receipt.code}" in own.replies[0].text

        stranger = await effects(asked(NEIGHBOUR), LookupDossier(receipt.code))
        assert not stranger.replies and stranger.followup is not None
        assert stranger.followup.payload == f"{lookup.ASK_PHONE}:{receipt.code}"

        right = await effects(asked(NEIGHBOUR), LookupDossier(receipt.code, PHONE))
        assert f"Hồ sơ {receipt.code}" in right.replies[0].text
        assert right.followup is not None and right.followup.payload.startswith(lookup.DONE)

        unknown = receipt.code[:-4] + "9999"
        none = await effects(asked(NEIGHBOUR), LookupDossier(unknown, PHONE))
        assert none.followup is not None
        assert none.followup.payload == f"{lookup.WRONG_PHONE}:{unknown}"
    finally:
        await engine.dispose()
