"""Two worker processes on one database, fed one conversation's messages at once: the
transcript is the one a single worker would give (issue 12, measured with two ``motcua run``
on one PostgreSQL: the second answer overwrote the first in 7 trials of 8).

Each worker (tests/two_workers.py) is a whole app built by build_app in its own process, with
its own lock, batcher and connection pool. Every conversation's eight answers are written to
the two workers' inputs in one burst, alternately; each worker handles what it reads at once.
Whatever the interleaving, the eight replies must ask the eight next questions, each once,
and the stored draft must hold all eight answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dialogs.model import ConversationKey
from dialogs.texts import channels as channel_texts
from dialogs.texts import filing as ftexts
from storage.conversations import ConversationRepository
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from tests.storage.conftest import POSTGRES_SKIP_REASON, POSTGRES_URL_ENV, reset_postgres
from tests.workers import CODE, QUESTIONS, REVIEW, answers

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS = 8
TIMEOUT = 60.0


@dataclass(eq=False)  # hashable: one worker is one process
class Worker:
    process: asyncio.subprocess.Process

    async def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(message, ensure_ascii=False) + "\n").encode())
        await self.process.stdin.drain()

    async def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), TIMEOUT)
        assert line, "the worker stopped"
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def receive_many(self, count: int) -> list[dict[str, Any]]:
        return [await self.receive() for _ in range(count)]

    async def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        await self.send(message)
        return await self.receive()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/motcua.sqlite3"
    else:
        url = os.environ.get(POSTGRES_URL_ENV, "")
        if not url:
            pytest.skip(POSTGRES_SKIP_REASON)
        await reset_postgres(url)
    await upgrade(url)
    return url


@pytest.fixture
async def workers(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Worker, Worker]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "MOTCUA_DATABASE__URL": database_url,
        "MOTCUA_FILES__PATH": str(tmp_path / "files"),
    }
    started: list[Worker] = []
    try:
        for name in ("a", "b"):
            log = (tmp_path / f"worker-{name}.log").open("wb")
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.two_workers",
                cwd=ROOT,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
            log.close()
            started.append(Worker(process))
        for worker in started:
            assert worker.process.stdout is not None
            ready = await asyncio.wait_for(worker.process.stdout.readline(), TIMEOUT)
            assert ready == b"ready\n", ready
        yield started[0], started[1]
    finally:
        for worker in started:
            if worker.process.stdin is not None:
                worker.process.stdin.close()
        for worker in started:
            try:
                await asyncio.wait_for(worker.process.wait(), TIMEOUT)
            except TimeoutError:
                worker.process.kill()
                await worker.process.wait()


def _button(answer: dict[str, Any], text: str) -> str:
    for label, payload in answer["buttons"]:
        if label == text:
            return str(payload)
    raise AssertionError(f"no {text!r} button in {answer!r}")


async def test_two_processes_give_one_consistent_transcript(
    workers: tuple[Worker, Worker], database_url: str, tmp_path: Path
) -> None:
    a, b = workers
    for n in range(CONVERSATIONS):
        started = await a.ask({"id": f"{n}-start", "chat": n, "payload": f"file:{CODE}"})
        first = await b.ask(
            {"id": f"{n}-self", "chat": n, "payload": _button(started, ftexts.BTN_FOR_SELF)}
        )
        assert first["asked"] == 1, first
    sent: dict[int, list[str]] = {n: [] for n in range(CONVERSATIONS)}
    to: dict[str, Worker] = {}
    for k in range(QUESTIONS):  # every conversation's eight answers, alternately, in one burst
        for n in range(CONVERSATIONS):
            worker = (a, b)[(k + n) % 2]
            text = f"Câu trả lời {k} của hội thoại {n}, gửi tới {'ab'[(k + n) % 2]}"
            sent[n].append(text)
            message_id = f"{n}-{k}"
            to[message_id] = worker
            await worker.send({"id": message_id, "chat": n, "text": text})
    expected = {w: sum(1 for x in to.values() if x is w) for w in (a, b)}
    received = await asyncio.gather(
        *(worker.receive_many(count) for worker, count in expected.items())
    )
    transcript: dict[int, list[int]] = {n: [] for n in range(CONVERSATIONS)}
    for answer in (x for batch in received for x in batch):
        assert not answer["duplicate"], answer
        assert channel_texts.TRY_LATER not in answer["texts"], answer
        transcript[int(answer["id"].split("-")[0])].append(answer["asked"])
    engine = create_engine(database_url)
    try:
        repository = ConversationRepository(session_factory(engine))
        for n in range(CONVERSATIONS):
            # As from one worker: each next question asked once, none twice, none skipped.
            assert sorted(transcript[n]) == list(range(2, REVIEW + 1)), (n, transcript[n])
            stored = await repository.load(ConversationKey("telegram", str(n), str(n)))
            assert stored is not None
            assert sorted(answers(stored.state).values()) == sorted(sent[n])
            assert stored.revision == 2 + QUESTIONS
    finally:
        await engine.dispose()
    for log in sorted(tmp_path.glob("worker-*.log")):  # noqa: ASYNC240 - a test's small files
        assert "Traceback" not in log.read_text(), log.read_text()
