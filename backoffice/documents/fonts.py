"""Locating the DejaVu Sans TTF files that print Vietnamese in our PDFs.

The core PDF fonts (Helvetica, Times) have no glyphs for "ằ", "ố", "ữ" or "Ư", so every PDF we
make embeds a Unicode TrueType font. DejaVu Sans ships inside matplotlib (already a dependency
for charts), which spares us from vendoring font files or relying on the host's fonts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import matplotlib
from fpdf import FPDF

# Page sizes in mm, given explicitly: fpdf2 warns on its named "A5" because its dimensions
# changed in 2.8.5, and tests run with warnings as errors.
A4 = (210.0, 297.0)
A5 = (148.0, 210.0)

_FILES = {
    "regular": "DejaVuSans.ttf",
    "bold": "DejaVuSans-Bold.ttf",
    "italic": "DejaVuSans-Oblique.ttf",
    "bold_italic": "DejaVuSans-BoldOblique.ttf",
}


@dataclass(frozen=True, slots=True)
class FontFiles:
    """Paths of the four faces of one family, ready for ``FPDF.add_font``."""

    family: str
    regular: Path
    bold: Path
    italic: Path
    bold_italic: Path


@lru_cache(maxsize=1)
def dejavu_sans() -> FontFiles:
    """Return the DejaVu Sans faces bundled with matplotlib, or raise FileNotFoundError."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    paths = {face: folder / name for face, name in _FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            "DejaVu Sans font files not found (they ship with matplotlib): " + ", ".join(missing)
        )
    return FontFiles(family="DejaVuSans", **paths)


@contextmanager
def open_pdf(page_format: tuple[float, float], created: datetime) -> Iterator[FPDF]:
    """An empty portrait PDF with DejaVu Sans registered (all four faces) and selected.

    ``created`` becomes the document's creation date, so the same input renders the same bytes
    (fpdf2 would otherwise stamp the wall-clock time). On leaving the block the font files are
    closed: fpdf2 opens each TTF lazily through fontTools and never closes it, and the open
    handle surfaces later as a ResourceWarning, even when rendering failed half-way.
    """
    fonts = dejavu_sans()
    pdf = FPDF(orientation="portrait", unit="mm", format=page_format)
    try:
        pdf.set_creation_date(created)
        pdf.add_font(fonts.family, "", fonts.regular)
        pdf.add_font(fonts.family, "B", fonts.bold)
        pdf.add_font(fonts.family, "I", fonts.italic)
        pdf.add_font(fonts.family, "BI", fonts.bold_italic)
        pdf.set_font(fonts.family, size=10)
        yield pdf
    finally:
        for font in pdf.fonts.values():
            ttfont = getattr(font, "ttfont", None)
            if ttfont is not None:
                ttfont.close()
