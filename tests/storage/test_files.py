from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.files import FileMissingError, FileStore, InvalidKeyError, LocalFileStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def open_umask() -> Iterator[None]:
    # The store must be private even when the process umask would let everyone read.
    previous = os.umask(0o000)
    yield
    os.umask(previous)


async def test_round_trip_returns_the_same_bytes(tmp_path: Path) -> None:
    store: FileStore = LocalFileStore(tmp_path / "files")
    key = await store.put(b"CCCD front", suffix=".jpg")

    assert await store.get(key) == b"CCCD front"
    assert await store.exists(key)
    assert key.endswith(".jpg")


async def test_files_and_directories_are_private_whatever_the_umask(
    tmp_path: Path, open_umask: None
) -> None:
    root = tmp_path / "deep" / "files"
    store = LocalFileStore(root)
    key = await store.put(b"birth certificate", suffix=".pdf")

    files = files_under(root)
    dirs = [p for p in root.rglob("*") if p.is_dir()]
    assert len(files) == 1
    assert mode(files[0]) == 0o600
    assert mode(root) == 0o700
    assert dirs and all(mode(d) == 0o700 for d in dirs)
    assert files[0].name == key


async def test_existing_root_is_made_private(tmp_path: Path) -> None:
    root = tmp_path / "files"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)

    LocalFileStore(root)

    assert mode(root) == 0o700


async def test_keys_are_random_distinct_and_unrelated_to_content(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    keys = [await store.put(b"same bytes", suffix=".jpg") for _ in range(200)]

    assert len(set(keys)) == 200
    assert all(len(k) == 32 + len(".jpg") for k in keys)
    # Fan-out spreads them over many directories instead of one huge one.
    assert len({k[:2] for k in keys}) > 100


async def test_delete_removes_the_file_and_is_idempotent(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    key = await store.put(b"x", suffix="")

    await store.delete(key)
    await store.delete(key)

    assert not await store.exists(key)
    with pytest.raises(FileMissingError):
        await store.get(key)


async def test_unknown_but_well_formed_key_is_missing(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)

    assert not await store.exists("A" * 32 + ".jpg")
    with pytest.raises(FileMissingError):
        await store.get("A" * 32 + ".jpg")


BAD_KEYS = [
    "",
    "..",
    "../secret.jpg",
    "/etc/passwd",
    "ab/" + "a" * 32,
    "ab/../../" + "a" * 32,
    "a" * 31,
    "a" * 33,
    "a" * 32 + ".JPG/..",
    "a" * 32 + "\x00.jpg",
    "a" * 30 + "\\x",
    ".tmp-" + "a" * 27,
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_keys_not_made_by_the_store_are_refused(tmp_path: Path, key: str) -> None:
    root = tmp_path / "files"
    store = LocalFileStore(root)
    # A file outside the store that a traversal would reach.
    (tmp_path / "secret.jpg").write_bytes(b"not yours")

    with pytest.raises(InvalidKeyError):
        await store.get(key)
    with pytest.raises(InvalidKeyError):
        await store.delete(key)
    with pytest.raises(InvalidKeyError):
        await store.exists(key)
    assert (tmp_path / "secret.jpg").exists()


@pytest.mark.parametrize("suffix", ["/x", ".jpg/../..", "..", ".a b", ".toolongsuffix", "jpg"])
async def test_odd_suffixes_are_refused(tmp_path: Path, suffix: str) -> None:
    store = LocalFileStore(tmp_path)

    with pytest.raises(ValueError):
        await store.put(b"x", suffix=suffix)

    assert not files_under(tmp_path)


async def test_successful_writes_leave_only_finished_files(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    keys = {await store.put(bytes([i]) * 1000, suffix=".jpg") for i in range(20)}

    names = {p.name for p in files_under(tmp_path)}
    assert names == keys


async def test_a_write_that_fails_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalFileStore(tmp_path)

    def disk_failure(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", disk_failure)
    with pytest.raises(OSError, match="Input/output error"):
        await store.put(b"half written" * 1000, suffix=".jpg")

    assert not files_under(tmp_path)


async def test_a_symlink_planted_in_the_store_is_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "files"
    store = LocalFileStore(root)
    (tmp_path / "secret.txt").write_bytes(b"not yours")
    key = "B" * 32 + ".jpg"
    (root / "BB").mkdir()
    (root / "BB" / key).symlink_to(tmp_path / "secret.txt")

    with pytest.raises(OSError):
        await store.get(key)
