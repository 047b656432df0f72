"""Start-up of ``motcua chat`` to its first prompt (target: under 1.5 s).

Measured as a user feels it: spawn the process over a pipe and time until the main menu's
first button line arrives. The baseline, run side by side, is a bare ``python -c pass``: the
difference is what motcua itself costs.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
FIRST_PROMPT = "1. "


def _time_chat(env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--config", str(ROOT / "config.example.toml"), "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stdin is not None
    for line in proc.stdout:
        if line.strip().startswith(FIRST_PROMPT):
            break
    elapsed = time.perf_counter() - started
    proc.stdin.close()
    proc.wait(timeout=30)
    return elapsed


def _time_python() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def run() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env["MOTCUA_DATABASE__URL"] = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        env["MOTCUA_FILES__PATH"] = f"{tmp}/files"
        _time_chat(env)  # first run creates the database; later runs are ordinary starts
        chat = sorted(_time_chat(env) for _ in range(RUNS))
    bare = sorted(_time_python() for _ in range(RUNS))
    return [
        f"{'what':<32}{'median':>10}{'worst':>10}",
        f"{'motcua chat → first prompt':<32}{statistics.median(chat):>9.3f}s{chat[-1]:>9.3f}s",
        f"{'baseline: python -c pass':<32}{statistics.median(bare):>9.3f}s{bare[-1]:>9.3f}s",
        f"target: median under 1.5 s → {'met' if statistics.median(chat) < 1.5 else 'NOT met'}",
    ]
