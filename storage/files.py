"""Private storage for the files citizens send: ID cards, birth certificates, signed forms.

A key is an unguessable random name chosen here, never anything the sender chose, so a key
handed to an officer's browser cannot be used to guess another citizen's file. Only keys of
exactly that shape are accepted back, which rules out path tricks (``..``, absolute paths).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Final, Protocol

_TOKEN_BYTES: Final = 24  # 192 random bits, 32 URL-safe characters
_KEY = re.compile(r"[A-Za-z0-9_-]{32}(?:\.[a-z0-9]{1,8})?")
_SUFFIX = re.compile(r"(?:\.[a-z0-9]{1,8})?")
_TEMP_PREFIX: Final = ".tmp-"  # a leading dot: no key ever looks like a file being written


class InvalidKeyError(ValueError):
    """The key was not made by this store: refused before it comes near the file system."""


class FileMissingError(LookupError):
    """No file is stored under this key (never stored, or deleted)."""


class FileStore(Protocol):
    """Where accepted uploads live; keys are opaque strings to every caller."""

    async def put(self, data: bytes, *, suffix: str) -> str: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...


class LocalFileStore:
    """Files under one private directory, fanned out by the first two characters of the key.

    Directories are 0700 and files 0600 whatever the umask: the files hold personal papers.
    A file appears under its key only once fully written and flushed to disk.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        _make_private_dir(root)

    @property
    def root(self) -> Path:
        return self._root

    async def put(self, data: bytes, *, suffix: str) -> str:
        if not _SUFFIX.fullmatch(suffix):
            raise ValueError(f"suffix must be empty or like '.jpg', got {suffix!r}")
        key = secrets.token_urlsafe(_TOKEN_BYTES) + suffix
        await asyncio.to_thread(self._write, key, data)
        return key

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        return await asyncio.to_thread(self._read, key, path)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return await asyncio.to_thread(path.is_file)

    async def stored_before(self, cutoff: datetime) -> list[str]:
        """Keys of the files last written before ``cutoff`` (for the orphan sweep)."""
        return await asyncio.to_thread(self._stored_before, cutoff.timestamp())

    async def forget_partial_writes(self, cutoff: datetime) -> int:
        """Delete files a crash left half-written (never renamed to a key) before ``cutoff``."""
        return await asyncio.to_thread(self._forget_partial, cutoff.timestamp())

    def _stored_before(self, cutoff: float) -> list[str]:
        keys: list[str] = []
        for entry in self._entries():
            if _KEY.fullmatch(entry.name) and entry.name[:2] == Path(entry.path).parent.name:
                with contextlib.suppress(FileNotFoundError):  # deleted as we looked
                    if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        keys.append(entry.name)
        return keys

    def _forget_partial(self, cutoff: float) -> int:
        gone = 0
        for entry in self._entries():
            if entry.name.startswith(_TEMP_PREFIX):
                with contextlib.suppress(FileNotFoundError):
                    if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(entry.path)
                        gone += 1
        return gone

    def _entries(self) -> Iterator[os.DirEntry[str]]:
        """Every plain file in the fan-out directories (the layout :meth:`_path` makes)."""
        with os.scandir(self._root) as top:
            folders = [e.path for e in top if e.is_dir(follow_symlinks=False)]
        for folder in folders:
            with contextlib.suppress(FileNotFoundError), os.scandir(folder) as inside:
                yield from (e for e in inside if e.is_file(follow_symlinks=False))

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise InvalidKeyError(f"not a file key: {key!r}")
        return self._root / key[:2] / key

    def _write(self, key: str, data: bytes) -> None:
        final = self._path(key)
        _make_private_dir(final.parent)
        # mkstemp creates the file 0600 and in the same directory, so os.replace is atomic.
        fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=final.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _fsync_dir(final.parent)

    @staticmethod
    def _read(key: str, path: Path) -> bytes:
        try:
            # O_NOFOLLOW: a symlink planted in the store is not followed out of it.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise FileMissingError(key) from None
        with os.fdopen(fd, "rb") as f:
            return f.read()


def _make_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode is filtered by the umask, and an existing directory keeps its own.
    os.chmod(path, 0o700)


def _fsync_dir(path: Path) -> None:
    """Make the rename itself durable, so a power cut cannot lose a file already reported saved."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
