"""Check a document photo or PDF a citizen sent, and clean it before it is stored.

The bytes are the only truth: a file's name and MIME type come from the sender's phone and are
never trusted. Images are decoded, turned upright, checked for the faults that make a paper
unreadable (too small, too dark, blurred, blank), stripped of every piece of metadata (GPS
position included) by re-encoding, and shrunk to a size an officer can read. PDFs are only
checked for shape, never rendered.

Everything here is pure CPU work on bytes: callers on an event loop run it in a thread.
"""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from dataclasses import dataclass, field
from typing import Final, Literal

import pillow_heif
from PIL import Image, ImageChops, ImageFilter, ImageOps, ImageStat

# Registering a Pillow plugin is idempotent and only adds a decoder; it changes nothing else.
pillow_heif.register_heif_opener()

RejectionReason = Literal[
    "unsupported", "too_large", "corrupt", "too_small", "too_dark", "blurred", "blank"
]
# The lead's message catalogue holds one Vietnamese hint per reason.
REJECTION_REASONS: Final[tuple[RejectionReason, ...]] = (
    "unsupported",
    "too_large",
    "corrupt",
    "too_small",
    "too_dark",
    "blurred",
    "blank",
)

MAX_BYTES: Final = 20 * 1024 * 1024  # Telegram's bot download cap (20 << 20)
# JPEG is decoded at a reduced scale (DCT scaling), so a large one costs little memory; other
# formats are decoded in full, so their cap is lower. Both stay under Pillow's own bomb warning
# (about 89 MP), which therefore never fires for an image we would accept.
MAX_PIXELS_JPEG: Final = 80_000_000
MAX_PIXELS_OTHER: Final = 50_000_000
MAX_SIDE: Final = 2000  # long side of the stored image
JPEG_QUALITY: Final = 85

MIN_SHORT_SIDE: Final = 600
MIN_MEAN_LUMINANCE: Final = 45.0
# A blank sheet, a wall or a lens cap: almost uniform, or without a single sharp-enough edge.
MIN_CONTRAST: Final = 8.0  # standard deviation of grey levels
MIN_EDGES: Final = 0.001  # share of pixels on an edge; one short line of text has about 1 %
# Blur effect (Crété-Roffet et al., 2007): 0 = sharp, 1 = no detail left. Measured at a fixed
# analysis size so the verdict does not depend on the camera's resolution.
MAX_BLUR: Final = 0.5
ANALYSIS_SIDE: Final = 1000
EDGE_THRESHOLD: Final = 3  # grey-level step, after the re-blur, that counts as a real edge

PDF_EOF_WINDOW: Final = 2048
_OBJSTM_INFLATE_LIMIT: Final = 16 * 1024 * 1024
_MAX_OBJECT_STREAMS: Final = 1000


@dataclass(frozen=True, slots=True)
class Accepted:
    """A file fit to store. ``data`` is what to store; ``original_sha256`` spots re-sent files."""

    data: bytes = field(repr=False)
    mime_type: str  # "image/jpeg" or "application/pdf"
    source_format: str  # what the sender's bytes were: "jpeg", "png", "heif", "pdf"
    width: int  # of the stored image; 0 for a PDF (never rendered)
    height: int
    pages: int  # 1 for an image; for a PDF a rough count, 0 when it could not be counted
    sha256: str  # of ``data``
    original_sha256: str  # of the bytes as received

    @property
    def suffix(self) -> str:
        return ".pdf" if self.mime_type == "application/pdf" else ".jpg"


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why a file cannot be used. ``detail`` is for logs and officers, not for the citizen."""

    reason: RejectionReason
    detail: str = ""


def inspect_upload(
    data: bytes, *, declared_name: str = "", max_bytes: int = MAX_BYTES
) -> Accepted | Rejected:
    """Check ``data`` and return the cleaned file to store, or the reason it cannot be used."""
    if len(data) > max_bytes:
        return Rejected("too_large", f"{len(data)} bytes > {max_bytes}")
    if not data:
        return Rejected("corrupt", "empty file")
    kind = sniff(data)
    if kind is None:
        named = f" (named {declared_name!r})" if declared_name else ""
        return Rejected("unsupported", f"unknown content starting {data[:8].hex()}{named}")
    if kind == "pdf":
        return _inspect_pdf(data)
    return _inspect_image(data, kind)


_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})


def sniff(data: bytes) -> Literal["jpeg", "png", "heif", "pdf"] | None:
    """The real type of ``data`` from its magic numbers, or None when it is none we take."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        box_size = int.from_bytes(data[0:4], "big")
        box = data[8 : max(12, min(box_size, 256))]
        # Major brand, minor version, then compatible brands, four bytes each.
        brands = {box[0:4], *(box[i : i + 4] for i in range(8, len(box) - 3, 4))}
        # An AVIF also lists mif1; pillow_heif here has no AV1 decoder, so say so plainly.
        if brands & _HEIF_BRANDS and not brands & _AVIF_BRANDS:
            return "heif"
        return None
    # Readers tolerate junk before the header; we do not, so an HTML or script file with a
    # PDF header buried inside is never stored and served back as a PDF.
    if data.startswith(b"%PDF-"):
        return "pdf"
    return None


# --- PDF ---------------------------------------------------------------------------------

_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z0-9])")
_OBJSTM = re.compile(rb"/Type\s*/ObjStm\b")
_PDF_DICT_SPAN: Final = 4096  # how far a stream's dictionary may reach around /Type /ObjStm


def _inspect_pdf(data: bytes) -> Accepted | Rejected:
    if b"%%EOF" not in data[-PDF_EOF_WINDOW:]:
        return Rejected("corrupt", "PDF has no %%EOF at the end (truncated?)")
    if re.search(rb"/Encrypt\b", data):
        # Officers could not open it without the sender's password.
        return Rejected("unsupported", "encrypted PDF")
    pages = len(_PAGE_OBJECT.findall(data)) or _count_pages_in_object_streams(data)
    digest = hashlib.sha256(data).hexdigest()
    return Accepted(
        data=data,
        mime_type="application/pdf",
        source_format="pdf",
        width=0,
        height=0,
        pages=pages,
        sha256=digest,
        original_sha256=digest,
    )


def _count_pages_in_object_streams(data: bytes) -> int:
    """Pages of a PDF 1.5+ whose page objects sit inside compressed object streams.

    Searches are bounded and so is the number of streams looked at (real files have a few
    dozen), so a hostile file full of look-alike markers stays cheap; inflating stops at a
    fixed budget.
    """
    pages = 0
    budget = _OBJSTM_INFLATE_LIMIT
    scanned_to = 0
    for seen, match in enumerate(_OBJSTM.finditer(data)):
        if seen >= _MAX_OBJECT_STREAMS:
            break
        if match.start() < scanned_to:
            continue  # inside the body of a stream already read
        keyword = data.find(b"stream", match.end(), match.end() + _PDF_DICT_SPAN)
        opening = data.rfind(b"obj", max(0, match.start() - _PDF_DICT_SPAN), match.start())
        if keyword < 0 or opening < 0:
            continue
        if b"/FlateDecode" not in data[opening:keyword]:
            continue
        body = keyword + len(b"stream")
        body += 2 if data[body : body + 2] == b"\r\n" else 1
        end = data.find(b"endstream", body)
        if end < 0:
            break
        scanned_to = end
        try:
            text = zlib.decompressobj().decompress(data[body:end], budget)
        except zlib.error:
            continue
        budget -= len(text)
        pages += len(_PAGE_OBJECT.findall(text))
        if budget <= 0:
            break
    return pages


# --- images ------------------------------------------------------------------------------

_PILLOW_FORMATS: Final = {"jpeg": "JPEG", "png": "PNG", "heif": "HEIF"}
# What a damaged or hostile file makes Pillow and its plugins raise.
_DECODE_ERRORS: Final = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)


def _inspect_image(data: bytes, kind: Literal["jpeg", "png", "heif"]) -> Accepted | Rejected:
    formats = [_PILLOW_FORMATS[kind]]
    limit = MAX_PIXELS_JPEG if kind == "jpeg" else MAX_PIXELS_OTHER
    try:
        with Image.open(io.BytesIO(data), formats=formats) as probe:
            width, height = probe.size
            if width * height > limit:
                return Rejected("too_large", f"{width}x{height} pixels > {limit}")
            # A short side of 600 px already means at least 0.36 MP: no separate pixel count.
            if min(width, height) < MIN_SHORT_SIDE:
                return Rejected("too_small", f"{width}x{height}")
            # verify() walks the chunks (PNG CRCs); the image must then be opened afresh.
            probe.verify()
        with Image.open(io.BytesIO(data), formats=formats) as im:
            if kind == "jpeg":
                # DCT scaling: decode straight to about the stored size, far faster and smaller.
                long_side = max(width, height)
                if long_side > MAX_SIDE:
                    im.draft("RGB", (width * MAX_SIDE // long_side, height * MAX_SIDE // long_side))
            im.load()
            upright = ImageOps.exif_transpose(im)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return Rejected("too_large", str(exc))
    except _DECODE_ERRORS as exc:
        return Rejected("corrupt", f"{type(exc).__name__}: {exc}")

    rgb = _flatten_to_rgb(upright)
    fault = quality_fault(rgb)
    if fault is not None:
        return fault
    rgb.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    cleaned = _encode_clean_jpeg(rgb)
    return Accepted(
        data=cleaned,
        mime_type="image/jpeg",
        source_format=kind,
        width=rgb.width,
        height=rgb.height,
        pages=1,
        sha256=hashlib.sha256(cleaned).hexdigest(),
        original_sha256=hashlib.sha256(data).hexdigest(),
    )


def _flatten_to_rgb(im: Image.Image) -> Image.Image:
    """RGB on white: a transparent background must not turn black under a scanned page."""
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit grey would clip to white if converted directly.
        im = im.point(lambda v: v / 256).convert("L")
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")


def _encode_clean_jpeg(rgb: Image.Image) -> bytes:
    # A fresh image carries no info dict: Pillow copies a JPEG comment from ``info`` on save,
    # and EXIF, XMP and ICC only when asked, so nothing of the sender's file survives.
    fresh = Image.frombytes("RGB", rgb.size, rgb.tobytes())
    out = io.BytesIO()
    fresh.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class Measures:
    """What the quality checks saw; kept for logs and for tuning the thresholds."""

    mean: float  # grey level, 0–255
    contrast: float  # standard deviation of grey levels
    edges: float  # share of pixels on a real edge, 0–1
    blur: float  # 0 = sharp, 1 = no detail left


def measure(rgb: Image.Image) -> Measures:
    grey = rgb.convert("L")
    grey.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BOX)
    stat = ImageStat.Stat(grey)
    edges, blur = _edges_and_blur(grey)
    return Measures(mean=stat.mean[0], contrast=stat.stddev[0], edges=edges, blur=blur)


def quality_fault(rgb: Image.Image) -> Rejected | None:
    """The first fault that makes the photo unreadable, or None when it looks usable."""
    m = measure(rgb)
    if m.mean < MIN_MEAN_LUMINANCE:
        return Rejected("too_dark", f"mean luminance {m.mean:.1f} < {MIN_MEAN_LUMINANCE}")
    if m.contrast < MIN_CONTRAST or m.edges < MIN_EDGES:
        return Rejected("blank", f"contrast {m.contrast:.1f}, edges {m.edges:.2%}")
    if m.blur > MAX_BLUR:
        return Rejected("blurred", f"blur {m.blur:.2f} > {MAX_BLUR}")
    return None


_EDGE_MASK: Final = [0] * EDGE_THRESHOLD + [255] * (256 - EDGE_THRESHOLD)


def _edges_and_blur(grey: Image.Image) -> tuple[float, float]:
    """Crété-Roffet's no-reference blur measure, and how much of the picture is edges.

    The blur measure asks how much detail a further blur would destroy: a sharp picture loses
    much of its neighbour-to-neighbour contrast, a blurred one has little left to lose. Being a
    ratio, it ignores how much of the page is bare paper, which a plain edge-energy (Laplacian
    variance) threshold does not. Only pixels on edges that survive the re-blur are counted:
    sensor noise vanishes under it and would otherwise make a blurred, noisy low-light photo
    look sharp.
    """
    reblurred = grey.filter(ImageFilter.BoxBlur(4))
    across = _along(grey, reblurred, dx=1, dy=0)
    down = _along(grey, reblurred, dx=0, dy=1)
    return max(across[0], down[0]), max(across[1], down[1])


def _along(grey: Image.Image, reblurred: Image.Image, *, dx: int, dy: int) -> tuple[float, float]:
    w, h = grey.size
    here, there = (0, 0, w - dx, h - dy), (dx, dy, w, h)
    d_sharp = ImageChops.difference(grey.crop(there), grey.crop(here))
    d_blur = ImageChops.difference(reblurred.crop(there), reblurred.crop(here))
    lost = ImageChops.subtract(d_sharp, d_blur)  # clipped at 0
    edges = d_blur.point(_EDGE_MASK)
    edge_share = ImageStat.Stat(edges).mean[0] / 255
    s_sharp = ImageStat.Stat(d_sharp, edges).sum[0]
    if s_sharp == 0:
        return edge_share, 1.0
    return edge_share, (s_sharp - ImageStat.Stat(lost, edges).sum[0]) / s_sharp
