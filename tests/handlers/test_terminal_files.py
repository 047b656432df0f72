"""The terminal chat keeps received files in a private folder and prints where they are."""

from __future__ import annotations

import asyncio
import io
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from dialogs.model import Button, ConversationKey, Inbound, Media, Reply
from handlers.terminal import TerminalChannel

PDF = b"%PDF-1.4\n% bien nhan\n" + b"x" * 3000
PNG = b"\x89PNG\r\n\x1a\nqr"
RECEIPT = Reply(
    "Giấy tờ của hồ sơ H26-0001, bạn tải về và giữ lại nhé:",
    images=(Media("ma-qr-le-phi.png", "image/png", PNG, "Mã QR chuyển khoản lệ phí"),),
    documents=(Media("bien-nhan-H26-0001.pdf", "application/pdf", PDF, "Giấy tiếp nhận"),),
)
MINE = ConversationKey(channel="terminal", chat_id="bac-ba", user_id="bac-ba")


class Answer:
    def __init__(self, replies: Sequence[Reply]) -> None:
        self.replies = tuple(replies)

    async def __call__(self, inbound: Inbound) -> Sequence[Reply]:
        return self.replies


def _channel(
    folder: Path | None, replies: Sequence[Reply] = (), lines: str = ""
) -> tuple[TerminalChannel, io.StringIO]:
    stdout = io.StringIO()
    channel = TerminalChannel(
        Answer(replies), io.StringIO(lines), stdout, user="bac-ba", files_dir=folder
    )
    return channel, stdout


def _pdfs_under(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*.pdf")]


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_a_reply_with_files_saves_them_privately_and_prints_their_paths(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "giay-to"  # created on first use
    channel, stdout = _channel(folder, [RECEIPT])
    await channel.run()
    pdf, png = folder / "bien-nhan-H26-0001.pdf", folder / "ma-qr-le-phi.png"
    assert pdf.read_bytes() == PDF and png.read_bytes() == PNG
    assert _private(pdf) and _private(png)
    out = stdout.getvalue()
    assert RECEIPT.text in out
    assert f"[Tệp: {pdf}, 3 KB] Giấy tiếp nhận" in out
    assert f"[Ảnh: {png}] Mã QR chuyển khoản lệ phí" in out


async def test_a_file_name_cannot_escape_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "giay-to"
    sneaky = Reply("", documents=(Media("../../bien-nhan.pdf", "application/pdf", PDF),))
    channel, stdout = _channel(folder, [sneaky])
    await channel.run()
    assert _pdfs_under(tmp_path) == ["bien-nhan.pdf"]
    assert (folder / "bien-nhan.pdf").read_bytes() == PDF
    assert str(folder / "bien-nhan.pdf") in stdout.getvalue()


async def test_without_a_folder_files_are_only_described(tmp_path: Path) -> None:
    channel, stdout = _channel(None, [RECEIPT])
    await channel.run()
    assert "[Tệp: bien-nhan-H26-0001.pdf, 3 KB] Giấy tiếp nhận" in stdout.getvalue()
    assert _pdfs_under(tmp_path) == []


async def test_a_push_for_this_user_prints_and_saves_the_documents(tmp_path: Path) -> None:
    folder = tmp_path / "giay-to"
    channel, stdout = _channel(folder)
    assert await channel.push(MINE, [RECEIPT])
    pdf = folder / "bien-nhan-H26-0001.pdf"
    assert pdf.read_bytes() == PDF and _private(pdf)
    out = stdout.getvalue()
    assert out.startswith(RECEIPT.text + "\n")
    assert f"[Tệp: {pdf}, 3 KB]" in out


async def test_a_push_for_someone_else_is_refused_and_leaves_no_trace(tmp_path: Path) -> None:
    folder = tmp_path / "giay-to"
    channel, stdout = _channel(folder)
    for other in (
        ConversationKey(channel="terminal", chat_id="co-tu", user_id="co-tu"),
        ConversationKey(channel="web", chat_id="bac-ba", user_id="bac-ba"),
    ):
        assert not await channel.push(other, [RECEIPT])
    assert stdout.getvalue() == ""
    assert not folder.exists()


def _keyboard() -> tuple[TextIO, TextIO]:
    """A pipe: what the channel reads, and where the test types."""
    read_end, write_end = os.pipe()
    return open(read_end, encoding="utf-8"), open(write_end, "w", encoding="utf-8")


async def test_a_receipt_pushed_while_the_citizen_reads_keeps_the_menu_numbers(
    tmp_path: Path,
) -> None:
    menu = Reply("Chọn một:", buttons=((Button("Hỏi về thủ tục", "ask"),),))
    seen: list[Inbound] = []
    greeted = asyncio.Event()

    async def handle(inbound: Inbound) -> Sequence[Reply]:
        seen.append(inbound)
        greeted.set()
        return [menu]

    stdout = io.StringIO()
    stdin, keys = _keyboard()  # the citizen types only after the receipt arrived
    with stdin, keys:
        channel = TerminalChannel(handle, stdin, stdout, user="bac-ba", files_dir=tmp_path / "f")
        talking = asyncio.create_task(channel.run())
        try:
            await greeted.wait()
            assert await channel.push(MINE, [RECEIPT])
            keys.write("1\n")
        finally:
            keys.close()  # end of input: the channel stops
        await talking
    start, pressed = seen
    assert start.text == "/start"
    assert pressed.payload == "ask"  # "1" still means the menu's first button
    out = stdout.getvalue()
    assert out.index("1. Hỏi về thủ tục") < out.index(RECEIPT.text)
