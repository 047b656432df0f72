"""One motcua deployment with every channel on: the real app, its web server, fake platforms.

Built the way ``motcua run`` builds it (``build_app`` + ``create_web_app`` served by uvicorn),
inside the test's own event loop so the test can look into the same database afterwards:

- the web chat, the Telegram webhook and the Zalo webhook on one loopback port;
- Telegram's Bot API: :class:`tests.fakes.telegram_server.FakeTelegramServer`, reached by the
  real aiogram ``Bot`` through ``telegram.api_base``;
- Zalo's three API hosts: :class:`tests.fakes.zalo_server.FakeZalo`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from bot.app import App, Knowledge, build_app
from bot.config import Settings, load_settings
from bot.web import create_web_app
from storage.migrate import upgrade
from tests.fakes.telegram_server import TOKEN, FakeTelegramServer
from tests.fakes.zalo_server import FakeZalo

ROOT = Path(__file__).resolve().parents[2]
TELEGRAM_SECRET = "channels-suite_webhook-secret-0123456789"
ZALO_OA_SECRET = "channels-suite-oa-secret"
START_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Deployment:
    app: App
    base_url: str
    telegram_api: FakeTelegramServer
    zalo_api: FakeZalo
    settings: Settings


def deployment_settings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    telegram_api: FakeTelegramServer,
    zalo_api: FakeZalo,
) -> Settings:
    """config.example.toml, a fresh database and file folder, secrets from the environment."""
    env = {
        "MOTCUA_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/motcua.sqlite3",
        "MOTCUA_FILES__PATH": str(tmp_path / "files"),
        "MOTCUA_TELEGRAM__TOKEN": TOKEN,
        "MOTCUA_TELEGRAM__API_BASE": telegram_api.url,
        # Polling stays the mode (a webhook needs a public https URL); the webhook route is
        # mounted whenever a token is set, so the suite drives Telegram both ways.
        "MOTCUA_TELEGRAM__WEBHOOK_SECRET": TELEGRAM_SECRET,
        "MOTCUA_ZALO__APP_ID": zalo_api.app_id,
        "MOTCUA_ZALO__APP_SECRET": zalo_api.app_secret,
        "MOTCUA_ZALO__OA_SECRET": ZALO_OA_SECRET,
        # Only the first refresh token: the client refreshes, and the rotated pair is stored.
        "MOTCUA_ZALO__REFRESH_TOKEN": zalo_api.initial_tokens().refresh_token,
        "MOTCUA_ZALO__API_BASE": zalo_api.urls()["base_url"],
        "MOTCUA_ZALO__OAUTH_BASE": zalo_api.urls()["oauth_url"],
        "MOTCUA_ZALO__BUSINESS_BASE": zalo_api.urls()["business_url"],
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings(ROOT / "config.example.toml")


@asynccontextmanager
async def running_deployment(
    settings: Settings,
    knowledge: Knowledge,
    telegram_api: FakeTelegramServer,
    zalo_api: FakeZalo,
) -> AsyncIterator[Deployment]:
    await upgrade(settings.database.url)
    async with build_app(settings, knowledge) as app:
        web = create_web_app(app)
        config = uvicorn.Config(
            web,
            host="127.0.0.1",
            port=0,
            lifespan="off",
            log_level="warning",
            ws_max_size=64 * 1024,
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(), name="motcua-web")
        try:
            await _started(server, serving)
            port = server.servers[0].sockets[0].getsockname()[1]
            yield Deployment(
                app=app,
                base_url=f"http://127.0.0.1:{port}",
                telegram_api=telegram_api,
                zalo_api=zalo_api,
                settings=settings,
            )
        finally:
            server.should_exit = True
            await asyncio.wait_for(serving, timeout=START_TIMEOUT)


async def _started(server: uvicorn.Server, serving: asyncio.Task[None]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if serving.done():
            serving.result()  # raises what stopped it
            raise RuntimeError("the web server stopped before it started")
        if time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        await asyncio.sleep(0.01)
