"""Accounts in the browser, over real HTTP: an administrator creates an account (its one-time
password shown once), gives a new one-time password, disables and re-enables; each audited,
each form behind the session's CSRF token; a commune's administrator reaches only its own."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from bot.app import Knowledge
from bot.config import Settings
from tests.web.console_setup import HOME, OTHER, Office, csrf_of, login, signed_in, two_communes
from tests.web.harness import RunningServer, running_server

ONE_TIME = re.compile(r'id="one-time-password">([^<]+)<')


@pytest.fixture
def deployment(settings: Settings) -> Settings:
    return two_communes(settings)


@pytest.fixture
def desk(deployment: Settings, knowledge: Knowledge) -> Office:
    office = Office(deployment, knowledge.catalogue)
    office.user("tinh", "admin", "*")
    office.user("xa", "admin", HOME)
    office.user("lan", "officer", HOME)
    office.user("hoa", "officer", OTHER)
    return office


@pytest.fixture
def server(deployment: Settings, knowledge: Knowledge, desk: Office) -> Iterator[RunningServer]:
    with running_server(deployment, knowledge) as running:
        yield running


def _post(client: httpx.Client, path: str, **fields: str) -> httpx.Response:
    csrf = csrf_of(client.get("/console/accounts").text)
    return client.post(path, data={"csrf": csrf, **fields})


def test_an_admin_creates_resets_disables_and_enables_an_account(
    server: RunningServer, desk: Office
) -> None:
    with signed_in(server.base_url, "tinh") as admin:
        made = _post(admin, "/console/accounts", name="Minh", role="officer", commune=HOME)
        assert made.status_code == 200 and "Đã tạo tài khoản" in made.text
        assert made.headers["cache-control"] == "no-store"
        found = ONE_TIME.search(made.text)
        assert found
        first = found.group(1)
        # Shown once: the list page does not show it again.
        assert first not in admin.get("/console/accounts").text
        # The same name twice, a bad role: said, nothing made.
        again = _post(admin, "/console/accounts", name="minh", role="officer", commune=HOME)
        assert again.status_code == 400 and "đã có" in again.text
        assert (
            _post(admin, "/console/accounts", name="x1", role="root", commune=HOME).status_code
            == 400
        )
        # A forged token makes nothing.
        forged = admin.post(
            "/console/accounts",
            data={"csrf": "forged", "name": "eve", "role": "admin", "commune": "*"},
        )
        assert forged.status_code == 403

    with httpx.Client(base_url=server.base_url) as minh:
        signed = login(minh, "minh", first)
        assert signed.headers["location"] == "/console/password"  # the one-time password
    with signed_in(server.base_url, "tinh") as admin:
        reset = _post(admin, "/console/accounts/minh/reset")
        assert reset.status_code == 200 and "Mật khẩu mới dùng một lần" in reset.text
        found = ONE_TIME.search(reset.text)
        assert found and found.group(1) != first
        second = found.group(1)
        assert _post(admin, "/console/accounts/minh/disable").status_code == 303
        with httpx.Client(base_url=server.base_url) as minh:
            assert login(minh, "minh", second).status_code == 403  # disabled
        enabled = _post(admin, "/console/accounts/minh/enable")
        assert enabled.status_code == 303
        assert "Đã mở khóa" in admin.get(enabled.headers["location"]).text
    with httpx.Client(base_url=server.base_url) as minh:
        assert login(minh, "minh", first).status_code == 401  # the old one-time password
        assert login(minh, "minh", second).headers["location"] == "/console/password"
    assert desk.audit("user:minh") == [
        "console:user_added",
        "console:password_reset",
        "console:user_disabled",
        "console:user_enabled",
    ]


def test_a_communes_admin_reaches_only_its_own_accounts(
    server: RunningServer, desk: Office
) -> None:
    with signed_in(server.base_url, "xa") as admin:
        page = admin.get("/console/accounts").text
        assert "lan" in page and "hoa" not in page and "Toàn tỉnh</option>" not in page
        assert _post(admin, "/console/accounts/hoa/reset").status_code == 404
        assert _post(admin, "/console/accounts/hoa/disable").status_code == 404
        assert (
            _post(admin, "/console/accounts", name="x2", role="officer", commune=OTHER).status_code
            == 403
        )
        assert (
            _post(admin, "/console/accounts", name="x3", role="admin", commune="*").status_code
            == 403
        )
        # Not one's own account: nobody locks themselves out.
        assert _post(admin, "/console/accounts/xa/disable").status_code == 403
        assert (
            _post(admin, "/console/accounts", name="thu", role="leader", commune=HOME).status_code
            == 200
        )
    with signed_in(server.base_url, "lan") as officer:
        assert _post(officer, "/console/accounts/hoa/reset").status_code == 403
    assert desk.audit("user:hoa") == []
