"""Apply the numbered Alembic migrations from inside the installed package.

No ``alembic.ini`` is needed: the script location is this package's ``migrations`` folder, so
``motcua migrate`` works wherever motcua is installed. New migrations go in
``migrations/versions/NNNN_<what>.py`` with ``revision = "NNNN"`` and ``down_revision`` the
previous number.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (default: the newest)."""

    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    await _run(url, run)


async def downgrade(url: str, revision: str = "base") -> None:
    """Undo migrations down to ``revision`` (``"base"``: an empty database)."""

    def run(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), revision)

    await _run(url, run)


async def current_revision(url: str) -> str | None:
    """The revision the database is at, or ``None`` before the first migration."""
    result: list[str | None] = []

    def run(connection: Connection) -> None:
        result.append(MigrationContext.configure(connection).get_current_revision())

    await _run(url, run)
    return result[0]


def head_revision() -> str:
    """The newest migration shipped with this package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


async def _run(url: str, action: Callable[[Connection], None]) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(action)
    finally:
        await engine.dispose()
