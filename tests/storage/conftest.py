"""One storage suite, run against every backend: SQLite always, PostgreSQL when configured."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import create_engine, session_factory
from storage.migrate import upgrade

POSTGRES_URL_ENV = "MOTCUA_TEST_POSTGRES_URL"
POSTGRES_SKIP_REASON = "MOTCUA_TEST_POSTGRES_URL not set: PostgreSQL tests skipped"


async def reset_postgres(url: str) -> None:
    """Start every PostgreSQL test from an empty schema, whatever the last run left behind."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database; the SQLite file's directory does not exist yet."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'var' / 'motcua.sqlite3'}"
    url = os.environ.get(POSTGRES_URL_ENV, "")
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    await reset_postgres(url)
    return url


@pytest.fixture
async def database_url(empty_database_url: str) -> str:
    await upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
