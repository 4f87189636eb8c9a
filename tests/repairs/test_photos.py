"""Photos: EXIF and GPS removed from the stored bytes, orientation applied, bad files refused."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from portal.common import storage
from portal.repairs.photos import (
    HEIC_SUPPORTED,
    PhotoError,
    process_photo,
    sniff,
    store_photo,
)
from tests.repairs.conftest import jpeg_with_gps, png_bytes


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decompression_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A tiny PNG that claims 3.6 gigapixels (one row of data; decoding would explode)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def test_source_image_really_has_gps() -> None:
    exif = Image.open(io.BytesIO(jpeg_with_gps())).getexif()
    assert exif.get_ifd(0x8825)[2] == (51.0, 30.0, 12.5)


def test_stored_photo_has_no_exif_or_gps(app_ctx) -> None:
    source = jpeg_with_gps()
    processed = process_photo(source, "tap.jpg")
    key, thumb_key = store_photo(processed)
    for stored in (storage.read_bytes(key), storage.read_bytes(thumb_key)):
        assert stored[:3] == b"\xff\xd8\xff"
        assert b"Exif" not in stored and b"PhoneMaker" not in stored
        assert b"GPS" not in stored
        image = Image.open(io.BytesIO(stored))
        assert not image.getexif() and "exif" not in image.info
    assert key.startswith("repairs/") and "tap" not in key
    assert thumb_key != key


def test_orientation_is_applied_before_the_exif_is_dropped() -> None:
    processed = process_photo(jpeg_with_gps(size=(800, 600), orientation=6))
    assert (processed.width, processed.height) == (600, 800)


def test_png_with_transparency_becomes_a_jpeg() -> None:
    processed = process_photo(png_bytes(alpha=True))
    assert processed.image[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(processed.thumbnail)).size[0] <= 320


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
            "must be a JPEG, PNG or HEIC photo",
        ),
        (b"<html><body>hello</body></html>", "must be a JPEG, PNG or HEIC photo"),
        (b"", "is empty"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "could not be read as a photo"),
        (decompression_bomb(), "40 megapixels or fewer"),
        (decompression_bomb(8000, 6000), "40 megapixels or fewer"),  # 48 megapixels
    ],
)
def test_refused_files(data: bytes, message: str) -> None:
    with pytest.raises(PhotoError) as error:
        process_photo(data, "upload.jpg")
    assert message in str(error.value)
    assert str(error.value).startswith("upload.jpg")


def test_files_over_10_mb_are_refused() -> None:
    data = b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024)
    with pytest.raises(PhotoError, match="smaller than 10 MB"):
        process_photo(data, "big.jpg")


def test_sniffing() -> None:
    assert sniff(jpeg_with_gps()) == "jpeg"
    assert sniff(png_bytes()) == "png"
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00") == "heic"
    assert sniff(b"GIF89a") is None


@pytest.mark.skipif(not HEIC_SUPPORTED, reason="pillow-heif is not installed")
def test_heic_is_read_and_its_metadata_dropped() -> None:
    image = Image.new("RGB", (400, 300), (30, 160, 90))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 1.0)}
    out = io.BytesIO()
    image.save(out, "HEIF", exif=exif.tobytes())
    data = out.getvalue()
    assert sniff(data) == "heic"
    processed = process_photo(data, "photo.heic")
    assert processed.image[:3] == b"\xff\xd8\xff"
    assert not Image.open(io.BytesIO(processed.image)).getexif()
