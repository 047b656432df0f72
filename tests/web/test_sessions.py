"""Web chat sessions are issued by the server: a planted, well-formed id it never issued is
refused and a fresh one given (before, any 32 characters were accepted: session fixation).
Every worker on the database accepts every worker's ids; ids from before signing keep the
conversations they began."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from bot.app import Knowledge, build_app
from bot.config import Settings
from bot.web import create_web_app
from dialogs.model import Inbound
from handlers import webchat
from handlers.webchat import SESSION_COOKIE
from storage.conversations import ConversationRepository
from storage.db import create_engine, session_factory
from storage.migrate import upgrade

PLANTED = "A" * 43  # the shape the old ids had (secrets.token_urlsafe(32))


async def _page_cookie(app: object, cookie: str | None) -> str | None:
    web = create_web_app(app)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=web)
    cookies = {SESSION_COOKIE: cookie} if cookie else {}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1:8080", cookies=cookies
    ) as http:
        answer = await http.get("/")
    assert answer.status_code == 200
    return answer.cookies.get(SESSION_COOKIE)


async def test_a_planted_session_id_is_replaced_and_an_issued_one_kept(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge, deliver=False) as app:
        assert not app.web_sessions.valid(PLANTED)
        given = await _page_cookie(app, PLANTED)
        assert given is not None and given != PLANTED
        assert app.web_sessions.valid(given)
        assert await _page_cookie(app, given) is None  # kept: no new cookie
        forged = given.split(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAA"
        assert not app.web_sessions.valid(forged)

    # Another worker (another start) on the same database accepts it; another key does not.
    async with build_app(settings, knowledge, deliver=False) as again:
        assert again.web_sessions.valid(given)
    assert not webchat.SessionIds(b"x" * 32).valid(given)


async def test_an_id_from_before_signing_keeps_the_conversation_it_began(
    settings: Settings, knowledge: Knowledge
) -> None:
    await upgrade(settings.database.url)
    engine = create_engine(settings.database.url)
    try:
        old = ConversationRepository(session_factory(engine))
        key = webchat.conversation_key(PLANTED)
        state = {"version": 1, "mode": "qa", "buttons": []}
        await old.save(key, state, "10642", datetime.now(UTC), revision=0)
    finally:
        await engine.dispose()
    async with build_app(settings, knowledge, deliver=False) as app:
        assert app.web_sessions.valid(PLANTED)  # its conversation is older than the key
        assert await _page_cookie(app, PLANTED) is None
        newcomer = "B" * 43
        assert not app.web_sessions.valid(newcomer)
        inbound = Inbound(
            key=webchat.conversation_key(newcomer),
            message_id="m",
            received_at=datetime.now(UTC),
            text="hi",
        )
        await app.service.replies(inbound)  # a conversation begun after the key: still refused
    async with build_app(settings, knowledge, deliver=False) as app:
        assert not app.web_sessions.valid(newcomer)
