from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import create_engine


async def test_sqlite_file_gets_its_directory_and_safe_settings(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "var" / "motcua.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert path.exists()
    assert pragmas["journal_mode"] == "wal"
    assert pragmas["synchronous"] == 2  # FULL: a commit survives a power loss
    assert pragmas["foreign_keys"] == 1
    assert pragmas["busy_timeout"] >= 1000


async def test_the_sqlite_file_and_its_folder_are_private(tmp_path: Path) -> None:
    """Names, ID numbers and phone numbers: 0600 in a 0700 folder, like the file store, and a
    database left 0644 by an older version is tightened, its WAL too."""
    path = tmp_path / "var" / "motcua.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x)"))
        wal = path.with_name(path.name + "-wal")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    finally:
        await engine.dispose()

    old = tmp_path / "old.sqlite3"
    old.touch(mode=0o644)
    old.chmod(0o644)
    create_engine(f"sqlite+aiosqlite:///{old}")
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_unknown_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        create_engine("mysql+aiomysql://u:secret@localhost/db")
