"""Read our PDFs back the way a person would: the text on the page, the pictures, the size."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def _run(tool: str, data: bytes, *args: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(data)
        done = subprocess.run(
            [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
            check=True,
            capture_output=True,
        )
    return done.stdout.decode("utf-8")


def pdf_text(data: bytes) -> str:
    """Page text in reading order with every run of whitespace collapsed to one space."""
    return " ".join(_run("pdftotext", data, "-raw").split())


def pdf_image_count(data: bytes) -> int:
    listing = _run("pdfimages", data, "-list").splitlines()
    return len(listing) - 2  # two header lines


def pdf_info(data: bytes) -> dict[str, str]:
    info = {}
    for line in _run("pdfinfo", data).splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info
