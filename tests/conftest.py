from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import Knowledge, load_knowledge
from bot.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_quiet_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    """No notification waits for the morning in tests: the example's 21:00-07:00 would hold
    every notice a test waits for when the suite runs in Vietnam's evening (14:00-24:00 UTC).
    The quiet hours are tested on clocks of their own (test_pacing, test_notifier,
    test_announcements)."""
    monkeypatch.setenv("MOTCUA_NOTIFICATIONS__QUIET_START", "07:00")
    monkeypatch.setenv("MOTCUA_NOTIFICATIONS__QUIET_END", "07:00")


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
