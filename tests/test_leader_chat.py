"""``/thongke`` in the chat, through the whole app: a citizen is refused politely; a leader
ties the chat with the console's one-time code (used once, expiring, only for active leader
accounts) and then gets the quarter's summary and the chart."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from bot.app import App, Knowledge, build_app
from bot.config import Settings
from dialogs.model import ConversationKey, Inbound, Reply
from dialogs.texts import leaders as texts
from storage.accounts import AccountRepository
from storage.bulk import Record, Step, insert_records
from storage.db import create_engine, session_factory
from storage.migrate import upgrade

HOME = "10642"
LEADER_CHAT = ConversationKey(channel="telegram", chat_id="777", user_id="777")
CITIZEN = ConversationKey(channel="zalo", chat_id="888", user_id="888")
_ids = itertools.count(1)


async def _say(app: App, key: ConversationKey, text: str) -> list[Reply]:
    inbound = Inbound(
        key=key, message_id=f"m{next(_ids)}", received_at=datetime.now(UTC), text=text
    )
    return list(await app.service.replies(inbound))


async def _accounts(settings: Settings) -> dict[str, int]:
    engine = create_engine(settings.database.url)
    try:
        repo = AccountRepository(session_factory(engine))
        now = datetime.now(UTC)
        made = {}
        for name, role, commune in (
            ("chu-tich", "leader", HOME),
            ("lan", "officer", HOME),
            ("cu", "leader", HOME),
        ):
            made[name] = (await repo.add(name, role, commune, "x", now)).id
        await repo.disable("cu", now)
        now = datetime.now(UTC) - timedelta(hours=1)
        await insert_records(
            session_factory(engine),
            [
                Record(
                    code=f"L-{n}",
                    commune_code=HOME,
                    procedure_code="1.001193",
                    channel=channel,
                    chat_id="",
                    user_id="",
                    received_at=now,
                    due_date=None,
                    processing_days=0,
                    result_delivery="counter",
                    fields={},
                    filer={},
                    steps=(Step("received", None, "received", now, "t", "citizen"),),
                )
                for n, channel in enumerate(("web", "counter", "counter", "counter"))
            ],
        )
        return made
    finally:
        await engine.dispose()


async def test_a_citizen_asking_for_figures_is_refused_politely(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        (reply,) = await _say(app, CITIZEN, "/thongke")
        assert reply.text == texts.NOT_A_LEADER
        assert not reply.images
        (how,) = await _say(app, CITIZEN, "/lienket")
        assert "/lienket MÃ" in how.text


async def test_a_leader_links_the_chat_once_and_gets_the_summary(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    ids = await _accounts(settings)
    async with build_app(settings, knowledge, deliver=False) as app:
        chats = app.leader_chats
        code = await chats.new_code(ids["chu-tich"], datetime.now(UTC))
        assert len(code) == 9 and code[4] == "-"

        (wrong,) = await _say(app, LEADER_CHAT, "/lienket ZZZZ-ZZZZ")
        assert wrong.text == texts.LINK_FAILED
        (linked,) = await _say(app, LEADER_CHAT, f"/lienket {code.lower().replace('-', ' ')}")
        assert linked.text == texts.LINKED.format(name="chu-tich")
        (again,) = await _say(app, CITIZEN, f"/lienket {code}")  # used: it links one chat
        assert again.text == texts.LINK_FAILED

        (summary,) = await _say(app, LEADER_CHAT, "/thongke")
        assert "Xã Thái Tân" in summary.text
        assert "Tiếp nhận 4 hồ sơ: 1 tự nộp trực tuyến, 0 qua tình nguyện viên, 3 tại quầy" in (
            summary.text
        )
        assert "Nộp trực tuyến 25,0%: đạt mục tiêu 20%" in summary.text
        (chart,) = summary.images
        assert chart.mime_type == "image/png" and chart.data.startswith(b"\x89PNG")
        (refused,) = await _say(app, CITIZEN, "/thongke")
        assert refused.text == texts.NOT_A_LEADER


async def test_codes_expire_and_only_active_leaders_link(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    ids = await _accounts(settings)
    async with build_app(settings, knowledge, deliver=False) as app:
        chats = app.leader_chats
        old = await chats.new_code(ids["chu-tich"], datetime.now(UTC) - timedelta(minutes=16))
        (expired,) = await _say(app, LEADER_CHAT, f"/lienket {old}")
        assert expired.text == texts.LINK_FAILED
        first = await chats.new_code(ids["chu-tich"], datetime.now(UTC))
        second = await chats.new_code(ids["chu-tich"], datetime.now(UTC))
        assert (await _say(app, LEADER_CHAT, f"/lienket {first}"))[0].text == texts.LINK_FAILED
        for name in ("lan", "cu"):  # an officer, a disabled leader
            code = await chats.new_code(ids[name], datetime.now(UTC))
            (reply,) = await _say(app, CITIZEN, f"/lienket {code}")
            assert reply.text == texts.LINK_FAILED, name
        assert (await _say(app, LEADER_CHAT, f"/lienket {second}"))[0].text.startswith("Đã liên")
        (linked,) = await chats.chats_of(ids["chu-tich"])
        assert await chats.unlink(ids["chu-tich"], linked[0])
        assert (await _say(app, LEADER_CHAT, "/thongke"))[0].text == texts.NOT_A_LEADER
