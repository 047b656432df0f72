from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import Knowledge, load_knowledge
from bot.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    """The bundled catalogue and its search index, built once for the whole run."""
    return load_knowledge()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The example configuration with its database and files in a fresh temporary folder."""
    monkeypatch.setenv("MOTCUA_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path}/motcua.sqlite3")
    monkeypatch.setenv("MOTCUA_FILES__PATH", str(tmp_path / "files"))
    yield load_settings(ROOT / "config.example.toml")
