"""`motcua run` stops cleanly on SIGTERM (a service manager, `docker stop`) and on Ctrl-C.

Before, uvicorn raised the caught signal again after stopping: SIGTERM killed the process
before the background workers were stopped and the database closed (exit 143), and SIGINT
ended in a traceback.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
