"""Turns a parent needs to register a birth, from the first question to the receipt.

The scripted registration of the channel suite (``tests.channels.transcript.
birth_registration``: the mother files, parents married, two photos) played through the
conversation service of a fresh app, as every channel's test plays it; the figure is the
number of messages the parent sends (the chat's opening is not one). Issue #11's target is
15; it was 36 before the form was shortened.

``python -m bench filing``.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from bot.app import load_knowledge
from bot.config import load_settings
from tests.channels.drivers import reference_screens
from tests.channels.transcript import (
    BIRTH_TURNS,
    SendPhoto,
    birth_registration,
    document_photo,
)

ROOT = Path(__file__).resolve().parents[1]
BEFORE = 36  # issue #11, counted by hand over `motcua chat` before this form


async def _turns() -> tuple[int, int, int]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        env = {
            "MOTCUA_DATABASE__URL": f"sqlite+aiosqlite:///{tmp}/bench.sqlite3",
            "MOTCUA_FILES__PATH": str(tmp / "files"),
        }
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        try:
            settings = load_settings(ROOT / "config.example.toml")
        finally:  # the other benchmarks read the environment too
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        steps = birth_registration()
        screens = await reference_screens(settings, load_knowledge(), steps, document_photo(), tmp)
    turns = len(screens) - 1  # the first screen is the chat's opening
    photos = sum(isinstance(s.action, SendPhoto) for s in steps)
    typed = sum(type(s.action).__name__ == "Type" for s in steps)
    return turns, photos, typed


def run() -> list[str]:
    turns, photos, typed = asyncio.run(_turns())
    return [
        "scripted birth registration (mother, married parents), question to receipt:",
        f"  turns: {turns} (target ≤ {BIRTH_TURNS}; {BEFORE} before issue #11)",
        f"  of which typed: {typed}, photos: {photos}, buttons: {turns - typed - photos}",
    ]
