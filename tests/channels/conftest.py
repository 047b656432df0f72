"""The channel suite's fixtures: the fake platforms, one running deployment, and a citizen on
each channel. A test module changes the deployment's settings by overriding
``deployment_env`` (environment variables set before the settings are read)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Knowledge
from tests.channels.deployment import Deployment, deployment_settings, running_deployment
from tests.channels.drivers import CHANNELS, open_driver
from tests.channels.transcript import ChannelDriver
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.zalo_server import FakeZalo


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


@pytest.fixture
async def zalo_api() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as server:
        yield server


@pytest.fixture
def deployment_env() -> dict[str, str]:
    return {}


@pytest.fixture
async def deployment(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    knowledge: Knowledge,
    telegram_api: FakeTelegramServer,
    zalo_api: FakeZalo,
    deployment_env: dict[str, str],
) -> AsyncIterator[Deployment]:
    for name, value in deployment_env.items():
        monkeypatch.setenv(name, value)
    settings = deployment_settings(tmp_path, monkeypatch, telegram_api, zalo_api)
    async with running_deployment(settings, knowledge, telegram_api, zalo_api) as running:
        yield running


@pytest.fixture(params=CHANNELS)
async def citizen(
    request: pytest.FixtureRequest, deployment: Deployment, tmp_path: Path
) -> AsyncIterator[ChannelDriver]:
    async with open_driver(request.param, deployment, tmp_path) as driver:
        yield driver
