"""Smoke test of the turn benchmark: both systems really carry every chat to the end."""

from __future__ import annotations

import asyncio
import os

import pytest

from bench.turns import FIELDS, measure, measure_workers
from tests.storage.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL_ENV


def test_both_systems_finish_every_form() -> None:
    ours, baseline = asyncio.run(measure(5))
    turns_per_chat = len(FIELDS) + 3  # start, who files, the answers, submit
    assert ours.finished == 5  # dossiers in the database
    assert baseline.finished == 5  # aiogram chats that pressed submit in the confirm state
    assert ours.turns == baseline.turns == 5 * turns_per_chat
    assert len(ours.latencies_ms) == len(baseline.latencies_ms) == 5 * turns_per_chat


@pytest.mark.postgres
def test_several_workers_on_postgresql_file_every_dossier() -> None:
    url = os.environ.get(POSTGRES_URL_ENV, "")
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    runs = asyncio.run(
        measure_workers(url, (2,), offered=40, open_seconds=1.0, burst_chats=6, think_s=0.05)
    )
    assert [(r.workers, r.mode) for r in runs] == [(2, "open"), (2, "burst")]
    for run in runs:  # measure_workers also checked one dossier per chat
        assert run.turns == len(run.latencies_ms) == run.filed * (len(FIELDS) + 3)
        assert run.per_second > 0
    assert runs[0].offered > 0 and runs[1].offered == 0
