"""The terminal channel (``motcua chat``): the same conversation over stdin and stdout.

A terminal has no buttons, so they are printed as numbered lines and typing the number sends
that button's payload. Over a pipe the output carries replies only (no prompt), so scripts and
tests can read it line by line.

Commands: ``/anh PATH`` sends the file at PATH as a photo; ``/thoat`` (or end of input) quits.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from dialogs.model import Attachment, Button, ConversationKey, Inbound, Media, Reply
from dialogs.texts import common as texts

CHANNEL = "terminal"
QUIT_COMMANDS = frozenset({"/thoat", "/thoát"})
PHOTO_COMMAND = "/anh"
START_COMMAND = "/start"
BUTTON_INDENT = "  "
PROMPT = "> "

Handler = Callable[[Inbound], Awaitable[Sequence[Reply]]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TerminalChannel:
    """Reads lines, sends each as an :class:`Inbound` to ``handle``, prints the replies."""

    def __init__(
        self,
        handle: Handler,
        stdin: TextIO,
        stdout: TextIO,
        user: str = "terminal",
        *,
        clock: Callable[[], datetime] = _utc_now,
        greet: bool = True,
        files_dir: Path | None = None,
    ) -> None:
        self._handle = handle
        self._stdin = stdin
        self._stdout = stdout
        self._key = ConversationKey(channel=CHANNEL, chat_id=user, user_id=user)
        self._clock = clock
        self._greet = greet
        self._files_dir = files_dir
        self._buttons: tuple[Button, ...] = ()

    async def run(self) -> None:
        """Talk until end of input or ``/thoat``, starting with the greeting unless told not to."""
        if self._greet:
            await self._send(self._inbound(text=START_COMMAND))
        interactive = self._stdin.isatty()
        while True:
            if interactive:
                self._write(PROMPT)
            line = await asyncio.to_thread(self._stdin.readline)
            if not line:
                return
            line = line.strip()
            if not line:
                continue
            if line.casefold() in QUIT_COMMANDS:
                return
            inbound = self._inbound_for(line)
            if inbound is not None:
                await self._send(inbound)

    async def push(self, key: ConversationKey, replies: Sequence[Reply]) -> bool:
        """A message written first (the receipt's PDFs, an office notice): printed if it is
        for this user. A notice with buttons («Gửi bổ sung») numbers them afresh, and typing
        a number presses them; one without buttons leaves those on screen as they were."""
        if key != self._key:
            return False
        await self._show(replies, keep_buttons=True)
        return True

    async def _send(self, inbound: Inbound) -> None:
        await self._show(await self._handle(inbound), keep_buttons=False)

    async def _show(self, replies: Sequence[Reply], *, keep_buttons: bool) -> None:
        self._write(self.render(await self._saved(replies)))
        shown = tuple(b for r in replies for b in r.flat_buttons())
        if keep_buttons and not shown:
            return
        numbered = not any(reply.number_answer for reply in replies)
        self._buttons = shown if numbered else ()

    def _inbound_for(self, line: str) -> Inbound | None:
        """What the typed line means; None when it was a local command that failed."""
        if line.isdigit() and 1 <= int(line) <= len(self._buttons):
            button = self._buttons[int(line) - 1]
            return self._inbound(text=button.text, payload=button.payload)
        command, _, argument = line.partition(" ")
        if command.casefold() == PHOTO_COMMAND:
            return self._photo(argument.strip())
        return self._inbound(text=line)

    def _photo(self, argument: str) -> Inbound | None:
        if not argument:
            self._write(texts.TERMINAL_PHOTO_USAGE + "\n\n")
            return None
        path = Path(argument).expanduser()
        if not path.is_file():
            self._write(texts.terminal_no_file(argument) + "\n\n")
            return None
        attachment = Attachment(
            kind="photo",
            ref=str(path),
            filename=path.name,
            mime_type=mimetypes.guess_type(path.name)[0] or "",
            size=path.stat().st_size,
        )
        return self._inbound(attachments=(attachment,))

    def _inbound(
        self,
        text: str = "",
        payload: str | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> Inbound:
        return Inbound(
            key=self._key,
            # Unique across runs: the service drops message ids it has seen before.
            message_id=uuid.uuid4().hex,
            received_at=self._clock(),
            text=text,
            payload=payload,
            attachments=attachments,
        )

    async def _saved(self, replies: Sequence[Reply]) -> Sequence[Reply]:
        """With ``files_dir``, files are written there and shown by their path, so the receipt
        can be opened and printed; without it they are only described."""
        if self._files_dir is None or not any(r.images or r.documents for r in replies):
            return replies
        folder = self._files_dir

        def write(media: Media) -> Media:
            # A receipt carries the citizen's name and phone: private from the first byte.
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = folder / Path(media.filename).name
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(media.data)
            path.chmod(0o600)  # an older file of that name keeps its mode through O_TRUNC
            return replace(media, filename=str(path))

        def write_all() -> list[Reply]:
            return [
                replace(
                    r,
                    images=tuple(write(m) for m in r.images),
                    documents=tuple(write(m) for m in r.documents),
                )
                for r in replies
            ]

        return await asyncio.to_thread(write_all)

    @staticmethod
    def render(replies: Sequence[Reply]) -> str:
        """Replies as terminal text; buttons are numbered across the whole turn."""
        blocks = []
        number = 0
        numbered = not any(reply.number_answer for reply in replies)
        for reply in replies:
            lines = [reply.text] if reply.text else []
            lines += [texts.terminal_image(m.filename, m.caption) for m in reply.images]
            lines += [
                texts.terminal_document(m.filename, len(m.data), m.caption) for m in reply.documents
            ]
            for button in reply.flat_buttons():
                number += 1
                mark = f"{number}." if numbered else "•"
                lines.append(f"{BUTTON_INDENT}{mark} {button.text}")
            if reply.request_contact:
                lines.append(texts.TERMINAL_CONTACT_HINT)
            if lines:
                blocks.append("\n".join(lines) + "\n")
        return "".join(block + "\n" for block in blocks)

    def _write(self, text: str) -> None:
        if text:
            self._stdout.write(text)
            self._stdout.flush()
