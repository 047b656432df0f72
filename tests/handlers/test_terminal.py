import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dialogs.model import Button, Inbound, Media, Reply
from handlers.terminal import TerminalChannel
from tests.dialogs.transcript import DIALOG, make_context

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

CHOICES = Reply(
    "Chọn một:",
    buttons=((Button("Hỏi về thủ tục", "ask"),), (Button("Gặp cán bộ", "officer"),)),
)


class Recorder:
    """A fake bot service: remembers what it got, answers with fixed replies."""

    def __init__(self, replies: Sequence[Reply] = (CHOICES,)) -> None:
        self.inbounds: list[Inbound] = []
        self.replies = tuple(replies)

    async def __call__(self, inbound: Inbound) -> Sequence[Reply]:
        self.inbounds.append(inbound)
        return self.replies


class TtyInput(io.StringIO):
    def isatty(self) -> bool:
        return True


async def talk(lines: str, handle: Any, stdin: io.StringIO | None = None) -> str:
    stdout = io.StringIO()
    channel = TerminalChannel(handle, stdin or io.StringIO(lines), stdout, user="bac-ba")
    await channel.run()
    return stdout.getvalue()


async def test_buttons_are_numbered_and_a_number_sends_that_buttons_payload() -> None:
    recorder = Recorder()
    out = await talk("2\nlàm giấy khai sinh\n", recorder)
    assert out.startswith("Chọn một:\n  1. Hỏi về thủ tục\n  2. Gặp cán bộ\n\n")
    start, pressed, typed = recorder.inbounds
    assert start.text == "/start"
    assert pressed.payload == "officer"
    assert typed.payload is None
    assert typed.text == "làm giấy khai sinh"
    assert typed.key.channel == "terminal"
    assert typed.key.user_id == "bac-ba"
    assert len({i.message_id for i in recorder.inbounds}) == 3


async def test_a_number_without_such_a_button_is_sent_as_text() -> None:
    recorder = Recorder()
    await talk("7\n", recorder)
    assert recorder.inbounds[-1].payload is None
    assert recorder.inbounds[-1].text == "7"


async def test_quits_on_thoat_and_on_end_of_input_and_skips_blank_lines() -> None:
    recorder = Recorder()
    await talk("\n   \nmột\n/thoat\nhai\n", recorder)
    assert [i.text for i in recorder.inbounds] == ["/start", "một"]
    recorder = Recorder()
    await talk("", recorder)
    assert [i.text for i in recorder.inbounds] == ["/start"]


async def test_no_prompt_over_a_pipe_and_a_prompt_on_a_tty() -> None:
    piped = await talk("a\n", Recorder())
    assert "> " not in piped
    on_tty = await talk("", Recorder(), stdin=TtyInput("a\n"))
    assert on_tty.count("> ") == 2  # before "a" and before end of input


async def test_photo_command_sends_a_photo_attachment(tmp_path: Path) -> None:
    photo = tmp_path / "giay-chung-sinh.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + b"0" * 100)
    recorder = Recorder()
    out = await talk(f"/anh {photo}\n/anh {tmp_path / 'khong-co.jpg'}\n", recorder)
    sent = recorder.inbounds[-1]
    assert len(recorder.inbounds) == 2  # the missing file is not sent
    (attachment,) = sent.attachments
    assert attachment.kind == "photo"
    assert attachment.ref == str(photo)
    assert attachment.filename == "giay-chung-sinh.jpg"
    assert attachment.mime_type == "image/jpeg"
    assert attachment.size == 103
    assert "Không thấy tệp ảnh" in out


async def test_media_and_contact_requests_are_described_in_words() -> None:
    reply = Reply(
        "Biên nhận của bạn:",
        documents=(Media("bien-nhan.pdf", "application/pdf", b"x" * 4096, caption="Mẫu 01"),),
        images=(Media("qr.png", "image/png", b"png"),),
        request_contact=True,
    )
    out = await talk("", Recorder((reply,)))
    assert "[Ảnh: qr.png]" in out
    assert "[Tệp: bien-nhan.pdf, 4 KB] Mẫu 01" in out
    assert "số điện thoại" in out


async def test_clock_gives_the_received_time() -> None:
    recorder = Recorder()
    channel = TerminalChannel(
        recorder, io.StringIO(""), io.StringIO(), clock=lambda: AT, greet=False
    )
    await channel.run()
    assert recorder.inbounds == []
    channel = TerminalChannel(recorder, io.StringIO("x\n"), io.StringIO(), clock=lambda: AT)
    await channel.run()
    assert {i.received_at for i in recorder.inbounds} == {AT}


async def test_a_whole_conversation_with_the_real_engine_over_a_pipe() -> None:
    ctx = make_context()
    state: dict[str, Any] | None = None

    async def handle(inbound: Inbound) -> Sequence[Reply]:
        nonlocal state
        step = DIALOG.advance(state, inbound, ctx)
        state = json.loads(json.dumps(step.state))
        return step.replies

    out = await talk("1\nkết hôn\n2\n", handle)
    said = [
        "Xã Thái Tân",
        "  1. Hỏi về thủ tục",
        "Bạn cần làm thủ tục gì?",  # "1" pressed "Hỏi về thủ tục"
        "Đăng ký kết hôn\nGiấy tờ: chưa có thông tin",
        "  1. Xem chi tiết\n  2. Menu chính\n",
        "Bạn cần giúp gì ạ?",  # "2" pressed the card's "Menu chính"
    ]
    at = 0
    for part in said:  # each in turn, after the one before
        at = out.index(part, at) + len(part)
    assert out.endswith("  4. Gặp cán bộ\n\n")
