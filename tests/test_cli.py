"""The ``motcua`` command as a user or a script runs it: a real process, real pipes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MOTCUA = [sys.executable, "-m", "bot.cli", "--config", str(ROOT / "config.example.toml")]


def _run(
    args: list[str], stdin: str = "", tmp_path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if tmp_path is not None:
        env["MOTCUA_DATABASE__URL"] = f"sqlite+aiosqlite:///{tmp_path}/cli.sqlite3"
        env["MOTCUA_FILES__PATH"] = str(tmp_path / "files")
    return subprocess.run(
        [*MOTCUA, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
        check=False,
    )


def test_search_jsonl_answers_one_line_per_question() -> None:
    questions = "làm giấy khai sinh\ndang ky ket hon can gi\ngiá vàng hôm nay\n"
    result = _run(["search", "--jsonl"], stdin=questions)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == questions.splitlines()
    assert lines[0]["results"][0]["code"] == "1.001193"
    assert lines[1]["results"][0]["code"] == "1.000894"
    assert lines[2]["results"] == []  # out of scope: nothing, not a confident wrong answer
    assert all(set(hit) == {"code", "name", "score"} for line in lines for hit in line["results"])


def test_search_prints_the_answer_card() -> None:
    result = _run(["search", "xin giấy xác nhận độc thân"])
    assert result.returncode == 0, result.stderr
    assert "1.004873" in result.stdout
    assert "Xã Thái Tân" in result.stdout


def test_catalogue_check_passes_on_the_bundled_catalogue() -> None:
    result = _run(["catalogue", "check"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "catalogue OK" in result.stdout


def test_chat_over_a_pipe_numbers_buttons_and_maps_answers(tmp_path: Path) -> None:
    result = _run(["chat"], stdin="2\n1\n", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "  1. Hỏi về thủ tục" in out  # the menu, buttons as numbered lines
    assert "Hộ tịch" in out  # "2" pressed "browse by field", "1" opened the first field
    assert "> " not in out.splitlines()[0]  # no prompt characters over a pipe


def test_bad_config_stops_with_the_key_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        (ROOT / "config.example.toml")
        .read_text(encoding="utf-8")
        .replace("[web]", "[web]\nhots = 1"),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(bad), "chat"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 2
    assert "web.hots" in result.stderr


def test_migrate_says_what_it_did(tmp_path: Path) -> None:
    """A new database is "created", not "up to date" as before; a second run is up to date."""
    first = _run(["migrate"], tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("database created")
    again = _run(["migrate"], tmp_path=tmp_path)
    assert again.stdout.startswith("database is up to date")


def test_a_bad_status_filter_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    result = _run(["office", "list", "--status", "bogus"], tmp_path=tmp_path)
    assert result.returncode == 2
    assert "invalid choice: 'bogus'" in result.stderr
    assert "Traceback" not in result.stderr


def test_user_accounts_from_the_command_line(tmp_path: Path) -> None:
    added = _run(
        ["user", "add", "Lan", "--role", "officer", "--commune", "10642"], tmp_path=tmp_path
    )
    assert added.returncode == 0, added.stderr
    assert "Đã tạo tài khoản lan (officer, xã 10642)" in added.stdout
    password = added.stdout.split("Mật khẩu dùng một lần: ")[1].split()[0]
    assert len(password) == 12
    again = _run(["user", "add", "lan", "--role", "leader", "--commune", "*"], tmp_path=tmp_path)
    assert again.returncode == 2 and "đã có" in again.stderr
    elsewhere = _run(
        ["user", "add", "hoa", "--role", "officer", "--commune", "99999"], tmp_path=tmp_path
    )
    assert elsewhere.returncode == 2 and "99999" in elsewhere.stderr
    assert (
        _run(
            ["user", "add", "tinh", "--role", "admin", "--commune", "*"], tmp_path=tmp_path
        ).returncode
        == 0
    )
    listed = _run(["user", "list"], tmp_path=tmp_path)
    assert listed.stdout.splitlines() == [
        "lan\tofficer\t10642\tchờ đổi mật khẩu",
        "tinh\tadmin\t*\tchờ đổi mật khẩu",
    ]
    assert _run(["user", "disable", "lan"], tmp_path=tmp_path).returncode == 0
    assert "lan\tofficer\t10642\tđã khóa" in _run(["user", "list"], tmp_path=tmp_path).stdout
    assert _run(["user", "disable", "nobody"], tmp_path=tmp_path).returncode == 1
    assert password not in _run(["user", "list"], tmp_path=tmp_path).stdout
