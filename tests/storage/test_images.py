"""Synthetic stand-ins for what citizens send: pages of text, ID cards, dark and shaky photos."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from functools import cache

import pytest
from fpdf import FPDF
from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageFilter, ImageFont, ImageOps

from storage.images import (
    MAX_PIXELS_JPEG,
    MAX_PIXELS_OTHER,
    REJECTION_REASONS,
    Accepted,
    Rejected,
    inspect_upload,
    sniff,
)

# --- synthetic pictures --------------------------------------------------------------------


@cache
def text_page(width: int = 1600, height: int = 1200, lines: int = 30) -> Image.Image:
    """A printed form: a frame, lines of words, a signature line."""
    rnd = random.Random(lines)
    page = Image.new("RGB", (width, height), (245, 243, 238))
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=max(12, height // 45))
    draw.rectangle((40, 40, width - 40, height - 40), outline=(30, 30, 30), width=3)
    y = 80
    for _ in range(lines):
        words = " ".join(
            "".join(rnd.choice("abcdeghiklmnopqrstuvxy") for _ in range(rnd.randint(2, 9)))
            for _ in range(rnd.randint(4, 12))
        )
        draw.text((80, y), words, fill=(20, 20, 20), font=font)
        y += height // (lines + 6)
        if y > height - 80:
            break
    draw.line((80, height - 150, width // 2, height - 150), fill=(0, 0, 0), width=2)
    return page


@cache
def photo_like(width: int = 1600, height: int = 1200) -> Image.Image:
    """Smooth light, coloured shapes, a lens that is not perfect and a little sensor noise."""
    rnd = random.Random(2)
    im = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(im)
    for _ in range(40):
        x, y, r = rnd.randrange(width), rnd.randrange(height), rnd.randint(20, 200)
        colour = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    im = im.filter(ImageFilter.GaussianBlur(1))
    return Image.blend(im, noisy(im.size, 8), 0.08)


def noisy(size: tuple[int, int], sigma: float) -> Image.Image:
    return Image.effect_noise(size, sigma).convert("RGB")


def id_card_on_table() -> Image.Image:
    table = Image.new("RGB", (1600, 1200), (90, 70, 60))
    table.paste(text_page(1000, 630, 10), (300, 280))
    return table


def encode(im: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        params.setdefault("quality", 92)
    im.save(out, fmt, **params)
    return out.getvalue()


def accepted(result: Accepted | Rejected) -> Accepted:
    assert isinstance(result, Accepted), result
    return result


def rejected(result: Accepted | Rejected) -> str:
    assert isinstance(result, Rejected), result
    assert result.reason in REJECTION_REASONS
    return result.reason


def decoded(result: Accepted) -> Image.Image:
    im = Image.open(io.BytesIO(result.data))
    assert im.format == "JPEG"
    im.load()
    return im


def jpeg_markers(data: bytes) -> list[int]:
    """Marker codes from the start of a JPEG up to its image data."""
    assert data[:2] == b"\xff\xd8"
    markers, i = [], 2
    while i < len(data):
        assert data[i] == 0xFF
        marker = data[i + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        i += 2 + length
    return markers


# --- images that should be accepted --------------------------------------------------------


def test_sharp_page_is_accepted_as_clean_jpeg() -> None:
    original = encode(text_page())

    result = accepted(inspect_upload(original, declared_name="to_khai.jpg"))

    assert result.mime_type == "image/jpeg"
    assert result.suffix == ".jpg"
    assert result.source_format == "jpeg"
    assert (result.width, result.height, result.pages) == (1600, 1200, 1)
    assert decoded(result).size == (1600, 1200)
    assert result.original_sha256 == hashlib.sha256(original).hexdigest()
    assert result.sha256 == hashlib.sha256(result.data).hexdigest()


def test_same_file_sent_twice_has_the_same_original_fingerprint() -> None:
    original = encode(text_page())

    first = accepted(inspect_upload(original))
    second = accepted(inspect_upload(bytes(original)))

    assert first.original_sha256 == second.original_sha256


@pytest.mark.parametrize(
    "picture",
    [
        pytest.param(photo_like, id="photo"),
        pytest.param(id_card_on_table, id="id-card-on-table"),
        pytest.param(lambda: text_page(lines=4), id="page-with-few-lines"),
        pytest.param(lambda: text_page().filter(ImageFilter.GaussianBlur(1)), id="slightly-soft"),
        pytest.param(lambda: text_page().point(lambda v: v * 0.35), id="dim-but-readable"),
    ],
)
def test_ordinary_usable_photos_pass(picture: Callable[[], Image.Image]) -> None:
    accepted(inspect_upload(encode(picture())))


def test_low_quality_jpeg_compression_still_passes() -> None:
    accepted(inspect_upload(encode(text_page(), quality=40)))


def test_big_photo_is_shrunk_to_2000_px_on_the_long_side() -> None:
    result = accepted(inspect_upload(encode(text_page(4000, 3000))))

    assert (result.width, result.height) == (2000, 1500)
    assert decoded(result).size == (2000, 1500)


def test_big_png_is_shrunk_too() -> None:
    result = accepted(inspect_upload(encode(text_page(3000, 2250), "PNG")))

    assert (result.width, result.height) == (2000, 1500)
    assert result.source_format == "png"


def test_png_is_stored_as_jpeg_with_transparency_on_white() -> None:
    page = text_page().convert("RGBA")
    ImageDraw.Draw(page).rectangle((0, 0, 300, 300), fill=(0, 0, 0, 0))

    result = accepted(inspect_upload(encode(page, "PNG"), declared_name="scan.png"))

    assert result.mime_type == "image/jpeg"
    assert result.source_format == "png"
    r, g, b = decoded(result).convert("RGB").getpixel((150, 150))  # type: ignore[misc]
    assert min(r, g, b) > 240


def test_name_and_content_disagreeing_goes_by_content() -> None:
    result = accepted(inspect_upload(encode(text_page(), "PNG"), declared_name="photo.jpg"))

    assert result.source_format == "png"


def test_heic_from_an_iphone_is_accepted() -> None:
    heic = encode(text_page(), "HEIF", quality=90)
    assert heic[4:12] == b"ftypheic"

    result = accepted(inspect_upload(heic, declared_name="IMG_0001.HEIC"))

    assert result.source_format == "heif"
    assert result.mime_type == "image/jpeg"
    assert decoded(result).size == (1600, 1200)


# --- privacy: nothing of the sender's file survives ----------------------------------------


GPS_LATITUDE = (21.0, 1.0, 45.5)
PRIVATE_COMMENT = b"Nguyen Van A 0912345678"


def phone_jpeg_lying_on_its_side() -> bytes:
    """What a phone writes: pixels stored sideways, orientation 6, GPS, maker, comment, XMP."""
    stored = text_page().copy()
    ImageDraw.Draw(stored).rectangle((0, 0, 200, 200), fill=(220, 0, 0))  # stored top-left
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "CheapPhone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (105.0, 51.0, 12.0)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>GPS 21.0295</rdf:RDF></x:xmpmeta>'
    icc = srgb_icc_profile()
    data = encode(stored, exif=exif, comment=PRIVATE_COMMENT, xmp=xmp, icc_profile=icc)
    # The fixture must really carry what the test claims is removed.
    with Image.open(io.BytesIO(data)) as check:
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude]
        assert check.info["comment"] == PRIVATE_COMMENT
        assert "xmp" in check.info
        assert "icc_profile" in check.info
    return data


def srgb_icc_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_all_metadata_is_stripped_including_gps() -> None:
    result = accepted(inspect_upload(phone_jpeg_lying_on_its_side()))

    im = decoded(result)
    assert not im.getexif()
    assert set(im.info) <= {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi"}
    assert b"CheapPhone" not in result.data
    assert PRIVATE_COMMENT not in result.data
    assert b"xmpmeta" not in result.data
    # Only the JFIF header and what decoding needs: no APP1 (EXIF/XMP), APP2 (ICC), COM.
    allowed = {0xE0, 0xDB, 0xC0, 0xC1, 0xC2, 0xC4, 0xDD, 0xDA}
    assert set(jpeg_markers(result.data)) <= allowed


def test_photo_is_turned_upright_by_its_exif_orientation() -> None:
    result = accepted(inspect_upload(phone_jpeg_lying_on_its_side()))

    im = decoded(result).convert("RGB")
    assert (result.width, result.height) == (1200, 1600)
    assert im.size == (1200, 1600)
    # Orientation 6 means "turn 90° clockwise to view": the stored top-left is now top-right.
    r, g, b = im.getpixel((im.width - 100, 100))  # type: ignore[misc]
    assert r > 180 and g < 60 and b < 60
    r, g, b = im.getpixel((100, 100))  # type: ignore[misc]
    assert not (r > 180 and g < 60)


# --- images that should be refused ---------------------------------------------------------


def test_blurred_page_is_refused() -> None:
    blurred = text_page().filter(ImageFilter.GaussianBlur(4))

    assert rejected(inspect_upload(encode(blurred))) == "blurred"


@pytest.mark.parametrize(
    "picture",
    [
        pytest.param(lambda: text_page(lines=4), id="page-with-few-lines"),
        pytest.param(id_card_on_table, id="id-card-on-table"),
        pytest.param(photo_like, id="photo"),
    ],
)
def test_blur_is_caught_whatever_the_content(picture: Callable[[], Image.Image]) -> None:
    blurred = picture().filter(ImageFilter.GaussianBlur(4))

    assert rejected(inspect_upload(encode(blurred))) == "blurred"


def test_sensor_noise_does_not_hide_blur() -> None:
    # A low-light shot: shaken, then grainy. Noise alone would look like fine detail.
    page = text_page().filter(ImageFilter.GaussianBlur(4))
    grainy = Image.blend(page, noisy(page.size, 30), 0.15)

    assert rejected(inspect_upload(encode(grainy))) == "blurred"


def test_dark_photo_is_refused() -> None:
    dark = text_page().point(lambda v: v * 0.15)

    assert rejected(inspect_upload(encode(dark))) == "too_dark"


def empty_sheet_in_uneven_light() -> Image.Image:
    light = Image.radial_gradient("L").resize((1600, 1200))
    sheet = ImageOps.colorize(light, (235, 235, 230), (190, 190, 185))
    return Image.blend(sheet, noisy(sheet.size, 20), 0.1)


@pytest.mark.parametrize(
    "picture",
    [
        pytest.param(lambda: Image.new("RGB", (1600, 1200), (250, 250, 250)), id="white"),
        pytest.param(empty_sheet_in_uneven_light, id="empty-sheet-uneven-light"),
    ],
)
def test_blank_picture_is_refused(picture: Callable[[], Image.Image]) -> None:

    assert rejected(inspect_upload(encode(picture()))) == "blank"


@pytest.mark.parametrize("size", [(500, 400), (1280, 577), (320, 240)])
def test_small_picture_is_refused(size: tuple[int, int]) -> None:
    small = text_page().resize(size)

    result = inspect_upload(encode(small))

    assert rejected(result) == "too_small"


def test_file_over_telegrams_20_mib_is_refused_before_decoding() -> None:
    huge = b"\xff\xd8\xff\xe0" + bytes(21 * 1024 * 1024)

    assert rejected(inspect_upload(huge)) == "too_large"


def test_size_cap_can_be_lowered() -> None:
    data = encode(text_page())

    assert rejected(inspect_upload(data, max_bytes=len(data) - 1)) == "too_large"
    accepted(inspect_upload(data, max_bytes=len(data)))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture: a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1) * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(text_page(800, 600)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(png_claiming(8000, 8000), id="png-64MP"),
        pytest.param(png_claiming(20000, 20000), id="png-400MP"),
        pytest.param(jpeg_claiming(9000, 9000), id="jpeg-81MP"),
        pytest.param(jpeg_claiming(30000, 30000), id="jpeg-900MP"),
    ],
)
def test_decompression_bombs_are_refused(data: bytes) -> None:
    assert len(data) < 1_000_000

    assert rejected(inspect_upload(data)) == "too_large"


def test_pixel_caps_leave_room_for_real_phone_cameras() -> None:
    # A 50 MP phone shoots 8160x6120; a 64 MP one 9248x6936 (JPEG only).
    assert MAX_PIXELS_OTHER >= 8160 * 6120
    assert MAX_PIXELS_JPEG >= 9248 * 6936


def test_truncated_jpeg_is_corrupt() -> None:
    data = encode(text_page())

    assert rejected(inspect_upload(data[: len(data) // 2])) == "corrupt"


def test_png_with_a_damaged_chunk_is_corrupt() -> None:
    data = bytearray(encode(text_page(), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 100] ^= 0xFF

    assert rejected(inspect_upload(bytes(data))) == "corrupt"


@pytest.mark.parametrize("cut", [6, 12, 20])
def test_png_cut_off_in_transfer_is_corrupt(cut: int) -> None:
    # Pillow decodes such a file without complaint; only the chunk walk notices.
    data = encode(text_page(), "PNG")

    assert rejected(inspect_upload(data[:-cut])) == "corrupt"


def test_empty_file_is_corrupt() -> None:
    assert rejected(inspect_upload(b"")) == "corrupt"


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("cccd.jpg", encode(text_page(800, 600)))
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00" + bytes(4000), id="windows-exe"),
        pytest.param(zip_bytes(), id="zip"),
        pytest.param(b"GIF89a" + bytes(100), id="gif"),
        pytest.param(b"<html><script>alert(1)</script></html>", id="html"),
        pytest.param(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", id="avif"),
        pytest.param(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", id="mp4-video"),
    ],
)
def test_other_files_named_jpg_are_unsupported(data: bytes) -> None:
    result = inspect_upload(data, declared_name="cccd.jpg")

    assert rejected(result) == "unsupported"


# --- PDF -----------------------------------------------------------------------------------


def hand_written_pdf(pages: int) -> bytes:
    """A minimal valid PDF: catalogue, page tree, empty pages, cross-reference table."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        *(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>" for _ in range(pages)),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def fpdf_document(pages: int, *, password: str = "") -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for i in range(pages):
        pdf.add_page()
        pdf.cell(text=f"Trang {i + 1}")
    if password:
        pdf.set_encryption(owner_password=password, user_password=password)
    return bytes(pdf.output())


def pdf_with_pages_in_an_object_stream(pages: int) -> bytes:
    """PDF 1.5 style: the page objects are compressed inside an object stream."""
    numbers = range(3, 3 + pages)
    bodies = [b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>" for _ in numbers]
    index, offset = [], 0
    for number, body in zip(numbers, bodies, strict=True):
        index.append(f"{number} {offset}")
        offset += len(body) + 1
    header = (" ".join(index) + " ").encode()
    packed = zlib.compress(header + b" ".join(bodies))
    kids = " ".join(f"{n} 0 R" for n in numbers)
    return (
        b"%PDF-1.5\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        + f"2 0 obj\n<< /Type /Pages /Kids [{kids}] /Count {pages} >>\nendobj\n".encode()
        + f"9 0 obj\n<< /Type /ObjStm /N {pages} /First {len(header)} /Filter /FlateDecode "
        f"/Length {len(packed)} >>\nstream\n".encode()
        + packed
        + b"\nendstream\nendobj\nstartxref\n0\n%%EOF\n"
    )


@pytest.mark.parametrize(
    ("data", "pages"),
    [
        pytest.param(hand_written_pdf(2), 2, id="hand-written"),
        pytest.param(fpdf_document(3), 3, id="fpdf2"),
        pytest.param(pdf_with_pages_in_an_object_stream(4), 4, id="object-stream"),
    ],
)
def test_pdf_is_accepted_unchanged_with_its_pages_counted(data: bytes, pages: int) -> None:
    result = accepted(inspect_upload(data, declared_name="giay_khai_sinh.jpg"))

    assert result.mime_type == "application/pdf"
    assert result.suffix == ".pdf"
    assert result.pages == pages
    assert result.data == data
    assert result.sha256 == result.original_sha256 == hashlib.sha256(data).hexdigest()


def test_pdf_cut_off_in_transfer_is_corrupt() -> None:
    data = fpdf_document(2)

    assert rejected(inspect_upload(data[: len(data) - 200])) == "corrupt"


def test_password_protected_pdf_is_unsupported() -> None:
    result = inspect_upload(fpdf_document(1, password="secret"))

    assert rejected(result) == "unsupported"
    assert isinstance(result, Rejected)
    assert "encrypt" in result.detail


def test_file_with_a_pdf_header_buried_inside_is_not_a_pdf() -> None:
    polyglot = b"<html><script>alert(1)</script>\n" + hand_written_pdf(1)

    assert rejected(inspect_upload(polyglot, declared_name="don.pdf")) == "unsupported"


def test_sniffing_ignores_everything_but_the_bytes() -> None:
    assert sniff(encode(text_page(800, 600))) == "jpeg"
    assert sniff(encode(text_page(800, 600), "PNG")) == "png"
    assert sniff(hand_written_pdf(1)) == "pdf"
    assert sniff(b"%PDF" + bytes(10)) is None
    assert sniff(b"image/jpeg") is None
