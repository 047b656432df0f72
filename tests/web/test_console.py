"""The officer console over real HTTP (uvicorn on a loopback port): every role rule, the
session and CSRF rules, the security headers, and what each page shows."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from bot.app import Knowledge
from bot.config import Settings
from tests.web.console_setup import (
    HOME,
    OTHER,
    PASSWORD,
    Office,
    csrf_of,
    login,
    signed_in,
    two_communes,
)
from tests.web.harness import RunningServer, running_server

HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@pytest.fixture
def deployment(settings: Settings) -> Settings:
    return two_communes(settings)


@pytest.fixture
def desk(deployment: Settings, knowledge: Knowledge) -> Office:
    office = Office(deployment, knowledge.catalogue)
    office.user("lan", "officer", HOME)
    office.user("hoa", "officer", OTHER)
    office.user("buu", "postal_clerk", HOME)
    office.user("chu-tich", "leader", HOME)
    office.user("tinh", "leader", "*")
    office.user("quan-tri", "admin", "*")
    return office


@pytest.fixture
def server(deployment: Settings, knowledge: Knowledge, desk: Office) -> Iterator[RunningServer]:
    with running_server(deployment, knowledge) as running:
        yield running


def _secured(response: httpx.Response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (name, response.url)
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    # One script of our own at most (the live inbox), never inline.
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp


def _move(client: httpx.Client, code: str, **fields: str) -> httpx.Response:
    page = client.get(f"/console/dossiers/{code}")
    csrf = (
        csrf_of(page.text)
        if page.status_code == 200
        else csrf_of(client.get("/console/password").text)
    )
    return client.post(f"/console/dossiers/{code}/move", data={"csrf": csrf, **fields})


# --- signing in ------------------------------------------------------------------------------


def test_every_console_response_carries_the_security_headers(server: RunningServer) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        for path in (
            "/console/login",
            "/console",
            "/console/no-such-page",
            "/console/static/console.css",
        ):
            _secured(client.get(path))
        _secured(client.post("/console/login", data={"name": "x"}))
        # The chat keeps its own headers: the console's do not leak onto it.
        assert client.get("/").headers.get("x-frame-options") == "SAMEORIGIN"
    with signed_in(server.base_url, "lan") as client:
        for path in ("/console", "/console/post", "/console/counter", "/console/password"):
            answer = client.get(path)
            assert answer.status_code == 200, path
            _secured(answer)


def test_login_sets_a_strict_http_only_cookie_and_is_audited(
    server: RunningServer, desk: Office
) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        wrong = login(client, "lan", "not the password")
        assert wrong.status_code == 401
        assert "Tên đăng nhập hoặc mật khẩu không đúng" in wrong.text
        assert "motcua_console=" not in wrong.headers.get("set-cookie", "")
        right = login(client, "lan")
        assert right.status_code == 303 and right.headers["location"] == "/console"
        cookie = next(
            c for c in right.headers.get_list("set-cookie") if c.startswith("motcua_console=")
        )
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
        assert "Secure" not in cookie  # plain http on loopback
        assert "Hồ sơ cần xử lý" in client.get("/console").text
    # Behind an https proxy the cookie is Secure.
    with httpx.Client(base_url=server.base_url, headers={"X-Forwarded-Proto": "https"}) as client:
        form = client.get("/console/login")
        pair = form.headers["set-cookie"]
        assert pair.startswith("motcua_console_login=") and "Secure" in pair
        # httpx keeps a Secure cookie off plain http: hand it over as the browser would.
        answer = client.post(
            "/console/login",
            data={"csrf": csrf_of(form.text), "name": "lan", "password": PASSWORD},
            headers={"Cookie": pair.split(";")[0]},
        )
        cookies = answer.headers.get_list("set-cookie")
        cookie = next(c for c in cookies if c.startswith("motcua_console="))
        assert "Secure" in cookie and "HttpOnly" in cookie
    actions = desk.audit("console")
    assert "console:login_failed" in actions and actions.count("console:login") == 2


def test_a_one_time_password_must_be_changed_before_any_work(
    server: RunningServer, desk: Office
) -> None:
    once = desk.new_user("moi", "officer", HOME)
    with httpx.Client(base_url=server.base_url) as client:
        first = login(client, "moi", once)
        assert first.headers["location"] == "/console/password"
        assert client.get("/console").headers["location"] == "/console/password"
        page = client.get("/console/password")
        assert "mật khẩu dùng một lần" in page.text
        csrf = csrf_of(page.text)
        short = client.post(
            "/console/password",
            data={"csrf": csrf, "current": once, "new": "ngan", "again": "ngan"},
        )
        assert short.status_code == 400 and "ít nhất 10 ký tự" in short.text
        new = "mat-khau-rieng-cua-toi"
        done = client.post(
            "/console/password", data={"csrf": csrf, "current": once, "new": new, "again": new}
        )
        assert done.status_code == 303
        assert client.get("/console").status_code == 200
    with httpx.Client(base_url=server.base_url) as client:
        assert login(client, "moi", once).status_code == 401
        assert login(client, "moi", new).headers["location"] == "/console"


def test_guessing_is_limited_per_account_and_per_address(
    deployment: Settings, knowledge: Knowledge, desk: Office
) -> None:
    console = deployment.console.model_copy(update={"max_failures_per_address": 8})
    limited = deployment.model_copy(update={"console": console})
    with running_server(limited, knowledge) as server, httpx.Client(base_url=server.base_url) as c:
        for _ in range(5):
            assert login(c, "lan", "sai-mat-khau").status_code == 401
        # Now even the right password is refused for this account from this address (the
        # officer's own desk is not locked: tests/storage/test_accounts.py)...
        locked = login(c, "lan")
        assert locked.status_code == 429 and "quá nhiều lần" in locked.text
        # ...while another account still signs in from this address,
        assert login(c, "hoa").status_code == 303
        # until this address has failed too often on any names.
        for name in ("x1", "x2", "x3"):
            assert login(c, name, "sai").status_code == 401
        assert login(c, "chu-tich").status_code == 429
    assert "console:login_limited" in desk.audit("console")


def test_an_idle_session_is_sent_to_login(server: RunningServer, desk: Office) -> None:
    with signed_in(server.base_url, "lan") as client:
        assert client.get("/console").status_code == 200
        desk.age_sessions(timedelta(minutes=29))
        assert client.get("/console").status_code == 200  # 29 minutes: still there
        desk.age_sessions(timedelta(minutes=31))
        gone = client.get("/console")
        assert gone.status_code == 303 and gone.headers["location"] == "/console/login?m=expired"
        assert "Phiên làm việc đã hết hạn" in client.get(gone.headers["location"]).text
        # The session row is gone: the same cookie stays signed out.
        client.cookies.set("motcua_console", "whatever", path="/console")
    assert "console:session_expired" in desk.audit("console")


def test_logout_ends_the_session_in_the_database(server: RunningServer, desk: Office) -> None:
    with signed_in(server.base_url, "lan") as client:
        token = client.cookies.get("motcua_console")
        csrf = csrf_of(client.get("/console").text)
        out = client.post("/console/logout", data={"csrf": csrf})
        assert out.headers["location"] == "/console/login?m=out"
    with httpx.Client(base_url=server.base_url, cookies={"motcua_console": token or ""}) as replay:
        assert replay.get("/console").status_code == 303
    assert "console:logout" in desk.audit("console")


# --- CSRF ------------------------------------------------------------------------------------


def test_a_form_without_the_sessions_csrf_token_changes_nothing(
    server: RunningServer, desk: Office
) -> None:
    code = desk.file()
    with signed_in(server.base_url, "lan") as client, signed_in(server.base_url, "hoa") as other:
        others_token = csrf_of(other.get("/console").text)
        for data in ({}, {"csrf": "forged"}, {"csrf": others_token}):
            refused = client.post(f"/console/dossiers/{code}/move", data={"to": "accepted", **data})
            assert refused.status_code == 403 and "Biểu mẫu đã hết hạn" in refused.text
        # A page of another site posting with the right token is refused by its Origin too.
        token = csrf_of(client.get("/console").text)
        cross = client.post(
            f"/console/dossiers/{code}/move",
            data={"to": "accepted", "csrf": token},
            headers={"Origin": "http://evil.example"},
        )
        assert cross.status_code == 403
        fetched = client.post(
            f"/console/dossiers/{code}/move",
            data={"to": "accepted", "csrf": token},
            headers={"Sec-Fetch-Site": "cross-site"},
        )
        assert fetched.status_code == 403
    assert desk.status(code) == "received"
    with httpx.Client(base_url=server.base_url) as client:
        # The login form has its own pair: a post without it is refused.
        assert (
            client.post(
                "/console/login", data={"name": "lan", "password": PASSWORD, "csrf": "x"}
            ).status_code
            == 403
        )


# --- communes and roles ------------------------------------------------------------------------


def test_another_communes_dossier_answers_404_whatever_the_door(
    server: RunningServer, desk: Office
) -> None:
    mine, theirs = desk.file(HOME), desk.file(OTHER, name="Lê Thị Cúc")
    with signed_in(server.base_url, "lan") as client:
        inbox = client.get("/console").text
        assert mine in inbox and theirs not in inbox
        for path in ("", "/receipt.pdf", "/files/1"):
            answer = client.get(f"/console/dossiers/{theirs}{path}")
            assert answer.status_code == 404, path
            _secured(answer)
        assert _move(client, theirs, to="accepted").status_code == 404
        csrf = csrf_of(inbox)
        assert (
            client.post(
                f"/console/dossiers/{theirs}/extend",
                data={"csrf": csrf, "new_date": "2030-01-01", "apology": "xin lỗi"},
            ).status_code
            == 404
        )
        found = client.post("/console", data={"csrf": csrf, "q": "Lê Thị Cúc"}).text
        assert theirs not in found
    assert desk.status(theirs) == "received"
    with signed_in(server.base_url, "tinh") as province:
        inbox = province.get("/console").text
        assert mine in inbox and theirs in inbox


def test_a_postal_clerk_sees_only_the_post_and_cannot_make_an_officers_move(
    server: RunningServer, desk: Office
) -> None:
    at_counter = desk.file()
    by_post = desk.file(by_post=True)
    desk.move(by_post, "accepted", "result_ready")
    with signed_in(server.base_url, "buu") as client:
        assert client.get("/console").headers["location"] == "/console/post"
        post = client.get("/console/post").text
        assert by_post in post and at_counter not in post
        assert "số 5 đường Trần Phú" in post
        assert client.get(f"/console/dossiers/{at_counter}").status_code == 404
        page = client.get(f"/console/dossiers/{by_post}")
        assert page.status_code == 200
        assert "031075001234" not in page.text  # the post needs the address, not the ID card
        assert client.get(f"/console/dossiers/{by_post}/receipt.pdf").status_code == 404
        assert client.get("/console/counter").status_code == 403
        # Handing the result over at the counter is the officer's move.
        refused = _move(client, by_post, to="returned")
        assert refused.status_code == 409
        assert "Vai trò nhân viên bưu điện không được chuyển hồ sơ" in refused.text
        assert desk.status(by_post) == "result_ready"
        bad = _move(client, by_post, to="posted", item_number="EE123")
        assert bad.status_code == 409 and "Số hiệu bưu gửi" in bad.text
        posted = _move(client, by_post, to="posted", item_number="ee123456785vn", back="post")
        assert posted.status_code == 303 and posted.headers["location"].startswith("/console/post")
        assert _move(client, by_post, to="collected").status_code == 303
        assert _move(client, by_post, to="in_transit").status_code == 303
        assert "EE123456785VN" in client.get("/console/post").text
    assert desk.status(by_post) == "in_transit"
    assert desk.audit(f"dossier:{by_post}")[-1] == "transition:collected->in_transit"


def test_a_leader_reads_and_changes_nothing(server: RunningServer, desk: Office) -> None:
    code = desk.file()
    with signed_in(server.base_url, "chu-tich") as client:
        page = client.get(f"/console/dossiers/{code}")
        assert page.status_code == 200 and "chỉ xem hồ sơ" in page.text
        assert 'name="to"' not in page.text
        assert _move(client, code, to="accepted").status_code == 403
        assert client.get("/console/counter").status_code == 403
        assert client.get("/console/accounts").status_code == 403
    assert desk.status(code) == "received"


def test_an_admin_works_accounts_not_dossiers(server: RunningServer, desk: Office) -> None:
    code = desk.file()
    with signed_in(server.base_url, "quan-tri") as admin, signed_in(server.base_url, "lan") as lan:
        assert admin.get("/console").headers["location"] == "/console/accounts"
        assert admin.get(f"/console/dossiers/{code}").status_code == 404
        page = admin.get("/console/accounts")
        assert "lan" in page.text and "buu" in page.text
        assert lan.get("/console").status_code == 200
        done = admin.post("/console/accounts/lan/disable", data={"csrf": csrf_of(page.text)})
        assert done.status_code == 303
        # Disabling ends the account's sessions at once, on every worker.
        assert lan.get("/console").status_code == 303
        assert lan.get("/console/accounts").status_code == 303
    with httpx.Client(base_url=server.base_url) as client:
        assert login(client, "lan").status_code == 403
    assert "console:user_disabled" in desk.audit("user:lan")


# --- working dossiers --------------------------------------------------------------------------


def test_an_officer_works_a_dossier_and_a_refused_move_says_why(
    server: RunningServer, desk: Office
) -> None:
    code = desk.file()
    with signed_in(server.base_url, "lan") as client:
        page = client.get(f"/console/dossiers/{code}").text
        for label in ("Tiếp nhận hồ sơ", "Không tiếp nhận", "Yêu cầu bổ sung giấy tờ"):
            assert label in page
        assert "Nguyễn Văn An" in page and "031075001234" in page
        assert client.get(f"/console/dossiers/{code}/receipt.pdf").content.startswith(b"%PDF")
        no_reason = _move(client, code, to="not_accepted", reason=" ")
        assert no_reason.status_code == 409 and "Cần ghi rõ lý do" in no_reason.text
        asked = _move(client, code, to="supplement_requested", missing="Bản sao CCCD\nẢnh 4x6")
        assert asked.status_code == 303
        shown = client.get(asked.headers["location"]).text
        assert "Đã chuyển hồ sơ sang" in shown and "Bản sao CCCD; Ảnh 4x6" in shown
        # The one supplement request is used: the form is gone and a forged one is refused.
        assert 'value="supplement_requested"' not in shown
        again = _move(client, code, to="refused", reason="Hồ sơ giả")
        assert again.status_code == 303
        closed = _move(client, code, to="accepted")
        assert closed.status_code == 409 and "đã kết thúc" in closed.text
    assert desk.audit(f"dossier:{code}")[-1] == "transition:supplement_requested->refused"
    history = desk.dossier(code).history
    assert [e.actor for e in history][-2:] == ["console:lan", "console:lan"]


def test_the_one_new_date_needs_an_apology_and_a_later_day(
    server: RunningServer, desk: Office
) -> None:
    code = desk.file()
    with signed_in(server.base_url, "lan") as client:
        csrf = csrf_of(client.get(f"/console/dossiers/{code}").text)
        early = client.post(
            f"/console/dossiers/{code}/extend",
            data={"csrf": csrf, "new_date": "2020-01-01", "apology": "Xin lỗi ông"},
        )
        assert early.status_code == 409 and "phải sau ngày hẹn hiện tại" in early.text
        done = client.post(
            f"/console/dossiers/{code}/extend",
            data={"csrf": csrf, "new_date": "2099-01-05", "apology": "Xin lỗi ông"},
        )
        assert done.status_code == 303
        page = client.get(done.headers["location"]).text
        assert "05/01/2099" in page and "Hẹn lại ngày trả (một lần" not in page


def test_the_inbox_puts_new_dossiers_first_then_by_due_date_and_finds_people(
    server: RunningServer, desk: Office, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    old = desk.file(name="Phạm Văn Dũng", id_number="001088000111")
    desk.move(old, "accepted")
    new = desk.file(name="Đỗ Thị Én", id_number="001199000222")
    with signed_in(server.base_url, "lan") as client:
        inbox = client.get("/console").text
        assert inbox.index(new) < inbox.index(old)
        assert "Mới" in inbox
        csrf = csrf_of(inbox)

        def search(**form: str) -> str:
            return client.post("/console", data={"csrf": csrf, **form}).text

        assert new in search(q="do thi en") and old not in search(q="do thi en")
        assert old in search(q="001088000111") and new not in search(q="001088000111")
        assert old in search(q=old[-6:])
        accepted = search(status="accepted")
        assert old in accepted and new not in accepted
        assert new in search(procedure="1.001022")
        assert "Không có hồ sơ nào" in search(procedure="1.000000")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "001088000111" not in logged and "Phạm Văn Dũng" not in logged


def test_the_inbox_pages_past_200_rows_and_keeps_the_search_out_of_the_address(
    server: RunningServer, desk: Office
) -> None:
    desk.file_many(203)
    with signed_in(server.base_url, "lan") as client:
        first = client.get("/console").text
        assert first.count('<tr class="new') == 200 and "Trang 1/2 · 203 hồ sơ" in first
        later = client.post("/console", data={"csrf": csrf_of(first), "page": "2"})
        assert later.text.count('<tr class="new') == 3 and "Trang 2/2" in later.text
        assert "Trang trước" in later.text and "Trang sau" not in later.text
        # A search narrows it to one page; the filters ride along in POST bodies.
        one = client.post("/console", data={"csrf": csrf_of(first), "q": "nguoi thu 170"})
        assert one.text.count('<tr class="new') == 1 and "Trang 1/" not in one.text
        beyond = client.post("/console", data={"csrf": csrf_of(first), "page": "99"})
        assert "Trang 2/2" in beyond.text  # a page past the end shows the last


def test_a_paper_dossier_from_the_counter_is_filed_once_and_counted(
    server: RunningServer, desk: Office
) -> None:
    with signed_in(server.base_url, "lan") as client:
        form = client.get("/console/counter").text
        fields = {
            "csrf": csrf_of(form),
            "key": "f" * 32,
            "commune": HOME,
            "procedure": "1.001022",
            "name": "hoàng văn giang",
            "phone": "0987 654 321",
        }
        bad = client.post("/console/counter", data={**fields, "phone": "123"})
        assert bad.status_code == 400 and "Số điện thoại không hợp lệ" in bad.text
        first = client.post("/console/counter", data=fields)
        twice = client.post("/console/counter", data=fields)  # a double click
        assert first.status_code == twice.status_code == 303
        assert first.headers["location"] == twice.headers["location"]
        page = client.get(first.headers["location"]).text
        assert "Hoàng Văn Giang" in page and "Nộp giấy tại quầy" in page
        code = first.headers["location"].split("/console/dossiers/")[1].split("?")[0]
        other = client.post("/console/counter", data={**fields, "commune": OTHER, "key": "e" * 32})
        assert other.status_code == 403
    view = desk.dossier(code)
    assert view.dossier.filer_key.channel == "counter"
    assert view.dossier.filer == {
        "for_self": True,
        "relation": "",
        "name": "Hoàng Văn Giang",
        "phone": "0987654321",
    }
    assert view.history[0].actor == "console:lan"
    # No chat to send a receipt to: the officer hands over the printed slip.
    assert "send_receipt:counter" not in desk.outbox_topics()


def test_what_citizens_typed_is_shown_escaped(server: RunningServer, desk: Office) -> None:
    code = desk.file(name='<script>alert("x")</script><img src=x onerror=alert(1)>')
    with signed_in(server.base_url, "lan") as client:
        for page in (client.get("/console").text, client.get(f"/console/dossiers/{code}").text):
            assert "<script>" not in page and "<img src=x" not in page
            assert "&lt;script&gt;" in page


def test_an_oversized_or_chunked_form_is_refused_unread(server: RunningServer) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        big = client.post("/console/login", content=b"name=" + b"a" * 70_000)
        assert big.status_code == 413
        _secured(big)

        def chunks() -> Iterator[bytes]:
            yield b"name=lan"

        assert client.post("/console/login", content=chunks()).status_code == 413
