"""``motcua demo`` as a newcomer runs it: a real process on a fresh database, then the console's
dashboard with the account and one-time password it printed."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bot.app import Knowledge
from bot.config import Settings
from storage.db import create_engine, session_factory
from storage.models import DossierRow, VolunteerRow
from tests.web.console_setup import csrf_of, login
from tests.web.harness import running_server

ROOT = Path(__file__).resolve().parents[2]


def _demo(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["MOTCUA_DATABASE__URL"] = settings.database.url
    env["MOTCUA_FILES__PATH"] = str(settings.files.path)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(ROOT / "config.example.toml"), "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
        check=False,
    )


def _facts(url: str) -> tuple[set[str], int, int, int, int]:
    async def main() -> tuple[set[str], int, int, int, int]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                statuses = set(await session.scalars(select(DossierRow.status).distinct()))
                post = await session.scalar(
                    select(func.count()).where(DossierRow.result_delivery == "post")
                )
                helped = await session.scalar(
                    select(func.count()).where(DossierRow.volunteer_id.is_not(None))
                )
                counter = await session.scalar(
                    select(func.count()).where(DossierRow.channel == "counter")
                )
                pending = await session.scalar(
                    select(func.count()).where(VolunteerRow.status == "pending")
                )
                return (
                    statuses,
                    int(post or 0),
                    int(helped or 0),
                    int(counter or 0),
                    int(pending or 0),
                )
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def test_demo_fills_a_fresh_database_and_the_dashboard_shows_it(
    settings: Settings, knowledge: Knowledge
) -> None:
    done = _demo(settings)
    assert done.returncode == 0, done.stderr
    assert "motcua run" in done.stdout and "/console/stats" in done.stdout
    found = re.search(r"demo-lanhdao\s+leader\s+xã 10642\s+mật khẩu: (\S+)", done.stdout)
    assert found, done.stdout
    password = found.group(1)

    statuses, post, helped, counter, pending = _facts(settings.database.url)
    for status in ("received", "in_progress", "supplement_requested", "result_ready"):
        assert status in statuses, statuses
    assert {"returned", "delivered"} & statuses and {"refused", "not_accepted"} & statuses
    assert post > 0 and helped > 0 and counter > 0 and pending == 1

    again = _demo(settings)
    assert again.returncode == 1 and "đã có hồ sơ" in again.stderr  # never over real records

    with (
        running_server(settings, knowledge) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        assert login(client, "demo-lanhdao", password).headers["location"] == "/console/password"
        new = "mat-khau-moi-cua-lanh-dao"
        changed = client.post(
            "/console/password",
            data={
                "csrf": csrf_of(client.get("/console/password").text),
                "current": password,
                "new": new,
                "again": new,
            },
        )
        assert changed.status_code == 303
        page = client.get("/console/stats")
        assert page.status_code == 200
        ratio = re.search(
            r'<span class="big">([\d,]+)%</span>\s*<span>nộp trực tuyến \((\d+)/(\d+)\)', page.text
        )
        assert ratio, page.text[:2000]
        assert int(ratio.group(2)) > 0 and int(ratio.group(3)) > int(ratio.group(2))
        assert "Chưa có hồ sơ nào do tình nguyện viên" not in page.text
        assert client.get("/console/stats/ratio.png").content.startswith(b"\x89PNG")
