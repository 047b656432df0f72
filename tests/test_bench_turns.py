"""Smoke test of the turn benchmark: both systems really carry every chat to the end."""

from __future__ import annotations

import asyncio

from bench.turns import FIELDS, measure


def test_both_systems_finish_every_form() -> None:
    ours, baseline = asyncio.run(measure(5))
    turns_per_chat = len(FIELDS) + 3  # start, who files, the answers, submit
    assert ours.finished == 5  # dossiers in the database
    assert baseline.finished == 5  # aiogram chats that pressed submit in the confirm state
    assert ours.turns == baseline.turns == 5 * turns_per_chat
    assert len(ours.latencies_ms) == len(baseline.latencies_ms) == 5 * turns_per_chat
