"""An announcement to a web chat whose page is closed is kept for the citizen's next visit
(storage.webchat.KEPT_FOR_PAGE), not delivered: the console's announcement page said «Đã gửi»
for it. Over a real server: the officer sends from the console, the courier runs, the page
counts it as waiting for the citizen to open the chat, and as sent once they have."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from backoffice.console import texts
from bot.app import Knowledge
from bot.config import Settings
from tests.web.console_setup import HOME, Office, csrf_of, signed_in
from tests.web.test_push import Browser, Server, _kept_for, running, web_loop

NEWS = "Từ ngày 8/12, xã nhận hồ sơ cấp bản sao trích lục khai sinh cả sáng thứ Bảy."


@pytest.fixture
def server(settings: Settings, knowledge: Knowledge) -> Iterator[Server]:
    office = Office(settings, knowledge.catalogue)
    office.user("lan", "officer", HOME)
    with running(settings, knowledge) as srv:
        yield srv


def _counts(html: str) -> dict[str, str]:
    return dict(re.findall(r'<dd id="count-(\w+)">(\d+)</dd>', html))


def test_a_message_kept_for_a_closed_web_page_is_counted_as_waiting_not_sent(
    server: Server,
) -> None:
    citizen = Browser(server)
    try:
        with citizen.page():
            pass  # opted in to the commune's news, then closed the chat
        server.call(server.app.announcements.opt_in(citizen.key, HOME, datetime.now(UTC)))
        with signed_in(server.base_url, "lan") as client:
            listing = client.get("/console/announcements")
            key = re.search(r'name="key" value="(\w+)"', listing.text)
            assert key is not None
            form = {"csrf": csrf_of(listing.text), "key": key.group(1), "commune": HOME}
            sent = client.post("/console/announcements", data={**form, "text": NEWS})
            assert sent.status_code == 303
            where = sent.headers["location"].partition("?")[0]

            assert server.call(server.app.announce_courier.run_once()) == 1
            shown = client.get(where)
            assert _counts(shown.text) == {
                "recipients": "1",
                "sent": "0",
                "kept": "1",
                "queued": "0",
                "failed": "0",
            }
            assert f"{texts.ANNOUNCE_KEPT}</dt>" in shown.text
            listed = client.get("/console/announcements")
            assert texts.announce_line(1, sent=0, kept=1, queued=0, failed=0) in listed.text

            with web_loop(server), citizen.page() as opened:
                [frame] = _kept_for(opened)
                assert NEWS in frame["text"]
            read = client.get(where)
            assert _counts(read.text)["sent"] == "1"
            assert _counts(read.text)["kept"] == "0"
    finally:
        citizen.close()
