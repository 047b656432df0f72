"""Killing the process at any instant loses nothing and duplicates nothing.

Real processes on loopback: a back office (uvicorn, its own SQLite file) and a citizen-side
worker (tests/crash_worker.py: files N dossiers and delivers them over HTTP). The worker is
SIGKILLed at random moments and restarted; once, the back office is killed under it and
restarted. At the end both databases must hold exactly the same N dossiers, each received by
the office exactly once, with no delivery left undone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
N = 60
KILLS = 6
OFFICE_KILL_ROUND = 3
TOKEN = "crash-test-token"
TIME_LIMIT = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(query).fetchall()


@dataclass
class Processes:
    tmp: Path
    port: int
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def _spawn(self, name: str, *args: str, stdout: int | None = None) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{name}-{len(self.logs)}.log"
        self.logs.append(log)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", f"tests.{name}", *args],
                cwd=ROOT,
                env=env,
                stdout=stdout if stdout is not None else sink,
                stderr=sink,
            )
        self.running.append(process)
        return process

    def start_office(self) -> subprocess.Popen[bytes]:
        office = self._spawn("crash_office", self.url("office"), str(self.port), TOKEN)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert office.poll() is None, self.tail()
            with contextlib.suppress(httpx.TransportError):
                answer = httpx.get(
                    f"{self.base_url}/api/v1/dossiers",
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=0.5,
                )
                if answer.status_code == 200:
                    return office
            time.sleep(0.05)
        raise AssertionError(f"the back office did not come up\n{self.tail()}")

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = self._spawn(
            "crash_worker",
            self.url("citizen"),
            self.base_url,
            TOKEN,
            str(N),
            stdout=subprocess.PIPE,
        )
        assert worker.stdout is not None
        seen = b""
        deadline = time.monotonic() + 15
        while b"ready\n" not in seen:
            left = deadline - time.monotonic()
            assert left > 0, f"the worker never got ready\n{self.tail()}"
            readable, _, _ = select.select([worker.stdout], [], [], left)
            if readable:
                chunk = os.read(worker.stdout.fileno(), 64)
                assert chunk, f"the worker exited early\n{self.tail()}"
                seen += chunk
        return worker

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> bool:
        """SIGKILL; True if it was still working (not already finished)."""
        alive = process.poll() is None
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        return alive

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                self.kill(process)
            elif process.stdout is not None and not process.stdout.closed:
                process.stdout.close()

    def url(self, name: str) -> str:
        return f"sqlite+aiosqlite:///{self.tmp / f'{name}.sqlite3'}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-2000:]}" for log in self.logs[-3:])


@contextlib.contextmanager
def processes(tmp: Path) -> Iterator[Processes]:
    running = Processes(tmp=tmp, port=_free_port())
    try:
        yield running
    finally:
        running.stop_all()


def test_kills_at_random_moments_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    started = time.monotonic()
    rng = random.Random(20261127)
    with processes(tmp_path) as procs:
        for name in ("citizen", "office"):
            asyncio.run(upgrade(procs.url(name)))
        office = procs.start_office()
        killed_mid_run = 0

        for round_ in range(KILLS):
            worker = procs.start_worker()
            time.sleep(rng.uniform(0.05, 0.4))
            if round_ == OFFICE_KILL_ROUND:
                # The office dies under a working sender; the sender must keep retrying.
                procs.kill(office)
                time.sleep(0.5)
                office = procs.start_office()
                time.sleep(rng.uniform(0.05, 0.4))
            killed_mid_run += procs.kill(worker)

        last = procs.start_worker()
        assert last.stdout is not None
        remaining = TIME_LIMIT - (time.monotonic() - started)
        out, _ = last.communicate(timeout=max(remaining, 1))
        assert last.returncode == 0 and b"done" in out, procs.tail()
        procs.kill(office)

    citizen, office_db = tmp_path / "citizen.sqlite3", tmp_path / "office.sqlite3"
    filed = _rows(citizen, "SELECT code, submission_key FROM dossiers")
    received = _rows(office_db, "SELECT code FROM office_dossiers")
    receptions = _rows(office_db, "SELECT target FROM audit_log WHERE action='dossier_received'")
    undone = _rows(
        citizen,
        "SELECT id, topic, attempts, last_error FROM outbox"
        " WHERE done_at IS NULL AND topic = 'deliver_dossier'",
    )
    # The worker here has no receipt courier: every dossier's receipt must still be queued.
    receipts = _rows(citizen, "SELECT payload FROM outbox WHERE topic LIKE 'send_receipt:%'")
    codes = {code for code, _ in filed}

    assert len(filed) == N
    assert {key for _, key in filed} == {f"crash-{i:04d}" for i in range(N)}
    assert len(codes) == N
    assert sorted(code for (code,) in received) == sorted(codes)
    assert sorted(receptions) == sorted((f"dossier:{code}",) for code in codes)
    assert undone == []
    assert sorted(json.loads(payload)["code"] for (payload,) in receipts) == sorted(codes)
    # The code counter gave every number once, with no hole: a killed filing gave its back.
    assert sorted(int(str(code)[-4:]) for code in codes) == list(range(1, N + 1))
    # The kills must have hit working processes, or this test proved nothing.
    assert killed_mid_run >= KILLS // 2, f"only {killed_mid_run} kills hit a running worker"
    assert time.monotonic() - started < TIME_LIMIT

    redeliveries = sum(
        log.read_text().count('POST /api/v1/dossiers HTTP/1.1" 200')
        for log in procs.logs
        if log.name.startswith("crash_office")
    )
    print(
        f"\n{killed_mid_run}/{KILLS} kills mid-run, {redeliveries} redeliveries answered 200, "
        f"{time.monotonic() - started:.1f} s"
    )
