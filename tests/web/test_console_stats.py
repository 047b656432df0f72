"""The console's dashboard over real HTTP: who may read which commune's figures, the page's
numbers, the PNG charts and the CSV/XLSX exports."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.app import Knowledge
from bot.config import Settings
from storage.bulk import Record, Step, insert_records
from storage.db import create_engine, session_factory
from tests.web.console_setup import HOME, OTHER, Office, signed_in, two_communes
from tests.web.harness import RunningServer, running_server

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def deployment(settings: Settings) -> Settings:
    return two_communes(settings)


def _record(n: int, commune: str, channel: str, *, post: bool = False) -> Record:
    received = datetime.now(UTC) - timedelta(hours=2)
    return Record(
        code=f"S-{n}",
        commune_code=commune,
        procedure_code="1.001022",
        channel=channel,
        chat_id="" if channel == "counter" else f"c{n}",
        user_id="" if channel == "counter" else f"u{n}",
        received_at=received,
        due_date=None,
        processing_days=3,
        result_delivery="post" if post else "counter",
        fields={},
        filer={},
        steps=(
            Step("received", None, "received", received, "t", "citizen"),
            Step("transition", "received", "accepted", received + timedelta(minutes=5), "t", "o"),
            Step("transition", "accepted", "result_ready", received + timedelta(hours=1), "t", "o"),
        ),
        postal_address={"display": "x"} if post else None,
    )


@pytest.fixture
def desk(deployment: Settings, knowledge: Knowledge) -> Office:
    office = Office(deployment, knowledge.catalogue)
    for name, role, commune in (
        ("lan", "officer", HOME),
        ("hoa", "officer", OTHER),
        ("buu", "postal_clerk", HOME),
        ("chu-tich", "leader", HOME),
        ("tinh", "leader", "*"),
        ("quan-tri", "admin", "*"),
    ):
        office.user(name, role, commune)
    records = [
        _record(1, HOME, "web"),
        _record(2, HOME, "telegram", post=True),
        _record(3, HOME, "counter"),
        _record(4, OTHER, "counter"),
    ]

    async def write() -> None:
        engine = create_engine(deployment.database.url)
        try:
            await insert_records(session_factory(engine), records)
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, write()).result()
    return office


@pytest.fixture
def server(deployment: Settings, knowledge: Knowledge, desk: Office) -> Iterator[RunningServer]:
    with running_server(deployment, knowledge) as running:
        yield running


def test_a_leader_reads_the_figures_of_their_commune(server: RunningServer) -> None:
    with signed_in(server.base_url, "chu-tich") as client:
        page = client.get("/console/stats")
        assert page.status_code == 200
        html = page.text
        assert "66,7%" in html and "(2/3)" in html  # 2 of 3 online, the other commune's not
        assert "đạt mục tiêu 20%" in html
        assert "33,3%" in html  # one of three goes back by post
        assert 'href="/console/stats"' in html  # in the menu
        assert "Xã Bên Cạnh" not in html  # no commune to pick
        chart = client.get("/console/stats/ratio.png")
        assert chart.status_code == 200
        assert chart.headers["content-type"] == "image/png"
        assert chart.content.startswith(PNG)
        assert client.get("/console/stats/channels.png").content.startswith(PNG)


def test_an_officer_of_another_commune_cannot_read_it(server: RunningServer) -> None:
    with signed_in(server.base_url, "hoa") as client:
        for path in (
            "/console/stats?commune=" + HOME,
            "/console/stats/ratio.png?commune=" + HOME,
            "/console/stats.csv?commune=" + HOME,
            "/console/stats.xlsx?commune=" + HOME,
        ):
            assert client.get(path).status_code == 403, path
        own = client.get("/console/stats")
        assert own.status_code == 200
        assert "(0/1)" in own.text and "(2/3)" not in own.text  # its own counter dossier only
        rows = list(csv.reader(io.StringIO(client.get("/console/stats.csv").text.lstrip("\ufeff"))))
        current = rows[-1]  # no procedure or volunteer rows: the last quarter's line
        assert current[2:6] == ["1", "0", "0", "1"]


@pytest.mark.parametrize("name", ["buu", "quan-tri"])
def test_postal_clerks_and_administrators_have_no_dashboard(
    server: RunningServer, name: str
) -> None:
    with signed_in(server.base_url, name) as client:
        assert client.get("/console/stats").status_code == 403
        assert client.get("/console/stats.csv").status_code == 403
        assert 'href="/console/stats"' not in client.get("/console/password").text


def test_signed_out_goes_to_the_login_page(server: RunningServer) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        answer = client.get("/console/stats/ratio.png")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/login")


def test_a_province_leader_sees_all_and_picks_a_commune(server: RunningServer) -> None:
    with signed_in(server.base_url, "tinh") as client:
        everything = client.get("/console/stats").text
        assert "(2/4)" in everything and "Toàn tỉnh" in everything
        other = client.get(f"/console/stats?commune={OTHER}").text
        assert "0,0%" in other and "Xã Bên Cạnh" in other
        assert client.get("/console/stats?commune=99999").status_code == 403
        book = client.get(f"/console/stats.xlsx?commune={HOME}")
        assert book.status_code == 200
        assert f"thong-ke-{HOME}-" in book.headers["content-disposition"]
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(book.content))["Thống kê"]
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        assert "Thái Tân" in str(values[0][0])
        quarter_rows = [r for r in values if r[0] == "Theo quý"]
        assert quarter_rows[-1][2:6] == [3, 2, 0, 1]


def test_a_leader_gets_a_one_time_chat_code_and_an_officer_does_not(
    server: RunningServer,
) -> None:
    import re

    from tests.web.console_setup import csrf_of

    with signed_in(server.base_url, "chu-tich") as client:
        page = client.get("/console/chat-link")
        assert page.status_code == 200 and "/lienket" not in page.text.split("<main>")[1][:200]
        made = client.post("/console/chat-link", data={"csrf": csrf_of(page.text)})
        assert made.status_code == 200
        assert re.search(r"/lienket [A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", made.text)
        assert client.post("/console/chat-link", data={"csrf": "forged"}).status_code == 403
    with signed_in(server.base_url, "lan") as client:
        assert client.get("/console/chat-link").status_code == 403
        assert 'href="/console/chat-link"' not in client.get("/console/stats").text
