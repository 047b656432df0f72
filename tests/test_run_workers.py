"""`motcua run --workers N`: one port, N worker processes accepting on it, a worker that dies
started again, and SIGTERM passed on to every worker so that all stop cleanly with exit 0."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.web.harness import free_port

ROOT = Path(__file__).resolve().parents[1]
SERVING = re.compile(r"motcua: worker (\d+) serving")


def _serving(process: subprocess.Popen[str], count: int) -> list[int]:
    assert process.stdout is not None
    pids: list[int] = []
    deadline = time.monotonic() + 90
    while len(pids) < count:
        line = process.stdout.readline()
        assert line and time.monotonic() < deadline, f"workers did not start: {pids}"
        if found := SERVING.search(line):
            pids.append(int(found.group(1)))
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_two_workers_share_the_port_come_back_after_a_kill_and_stop_together(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "MOTCUA_CONFIG": str(ROOT / "config.example.toml"),
        "MOTCUA_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/run.sqlite3",
        "MOTCUA_FILES__PATH": str(tmp_path / "files"),
        "MOTCUA_WEB__PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--workers", "2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first, second = _serving(process, 2)
        assert first != second and first != process.pid
        for _ in range(10):  # a new connection each time: whichever worker takes it
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["ok"] is True
        os.kill(first, signal.SIGKILL)
        (again,) = _serving(process, 1)
        assert again not in (first, second)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert out.rstrip().endswith("motcua: stopped")
    assert "Traceback" not in err, err
    assert not _alive(second) and not _alive(again)
