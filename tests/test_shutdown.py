"""`motcua run` as a service manager runs it: it stops cleanly on SIGTERM (`docker stop`)
and on Ctrl-C, shares Telegram polling with no second worker, and waits out a Bot API it
cannot reach.

Before, uvicorn raised the caught signal again after stopping: SIGTERM killed the process
before the background workers were stopped and the database closed (exit 143), and SIGINT
ended in a traceback.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.telegram_server import TOKEN, FakeTelegramServer

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_stops_cleanly_with_exit_0(sig: signal.Signals, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "MOTCUA_CONFIG": str(ROOT / "config.example.toml"),
        "MOTCUA_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/run.sqlite3",
        "MOTCUA_FILES__PATH": str(tmp_path / "files"),
        "MOTCUA_WEB__PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        while "web chat at" not in (line := process.stdout.readline()):
            assert line and time.monotonic() < deadline, "the server did not start"
        assert f":{port}/" in line  # said once the port is ours
        process.send_signal(sig)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "motcua: stopped" in out  # build_app's cleanup ran to the end


def _env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "MOTCUA_CONFIG": str(ROOT / "config.example.toml"),
        "MOTCUA_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/run.sqlite3",
        "MOTCUA_FILES__PATH": str(tmp_path / "files"),
        "MOTCUA_WEB__PORT": str(port),
        **extra,
    }


async def _started(process: asyncio.subprocess.Process, until: str) -> list[str]:
    """Lines of stdout up to the one holding ``until``."""
    assert process.stdout is not None
    lines: list[str] = []
    while True:
        raw = await asyncio.wait_for(process.stdout.readline(), 60)
        assert raw, f"the server ended early: {lines}"
        lines.append(raw.decode())
        if until in lines[-1]:
            return lines


async def _stop(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, err.decode()


async def test_a_second_worker_does_not_poll_telegram_and_says_why(tmp_path: Path) -> None:
    """Telegram answers a second poller with 409 Conflict: the second worker says so plainly
    and serves the rest; the polling lease is in the database, shared by both."""
    async with FakeTelegramServer() as telegram:
        tokens = {"MOTCUA_TELEGRAM__TOKEN": TOKEN, "MOTCUA_TELEGRAM__API_BASE": telegram.url}
        run = [sys.executable, "-m", "bot.cli", "run"]
        first = await asyncio.create_subprocess_exec(
            *run, env=_env(tmp_path, _free_port(), **tokens), cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        second = None
        try:
            said = await _started(first, "web chat at")
            assert any("Telegram on (polling)" in line for line in said)
            second = await asyncio.create_subprocess_exec(
                *run, env=_env(tmp_path, _free_port(), **tokens), cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            said = await _started(second, "web chat at")
            assert any("already polled by another worker" in line for line in said)
            assert any('telegram.mode = "webhook"' in line for line in said)
            code, err = await _stop(second)
            assert code == 0 and "Traceback" not in err
        finally:
            for process in (first, second):
                if process is not None and process.returncode is None:
                    await _stop(process)
        assert telegram.calls_of("getUpdates")  # the first one did poll


async def test_webhook_mode_without_a_reachable_telegram_keeps_trying_and_serves(
    tmp_path: Path,
) -> None:
    """Before, an unreachable Bot API ended webhook mode with a raw traceback at start."""
    closed = _free_port()  # nothing listens there
    env = _env(
        tmp_path,
        _free_port(),
        MOTCUA_TELEGRAM__TOKEN=TOKEN,
        MOTCUA_TELEGRAM__API_BASE=f"http://127.0.0.1:{closed}",
        MOTCUA_TELEGRAM__MODE="webhook",
        MOTCUA_TELEGRAM__WEBHOOK_SECRET="run-test_webhook-secret-0123456789",
        MOTCUA_WEB__PUBLIC_URL="https://xa-thai-tan.example.vn",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await _started(process, "web chat at")
        await asyncio.sleep(2)  # at least one failed try and its retry
    finally:
        code, err = await _stop(process)
    assert code == 0
    assert "Telegram API not reachable" in err and "trying again" in err
    assert "Traceback" not in err
