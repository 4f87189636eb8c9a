"""The one upload policy for every slice: what a file is, and opening an image safely.

- A file is what its first bytes say (`sniff`), never what its name or content type says; each
  slice lists the kinds it accepts by name ("jpeg", "png", "heic", "pdf").
- An image is opened only with the decoder of the kind it was sniffed as, so a TIFF, BMP or ICO
  renamed ".png" never reaches a decoder.
- Its size in pixels is checked from the header before any pixel is decoded, and Pillow's
  decompression-bomb warning is an error, so a tiny file that claims a huge image is refused
  without the memory it would take. Memory per image is bounded by `MAX_PIXELS` (at most 4 bytes
  a pixel while decoding), and per request by Flask's `MAX_CONTENT_LENGTH`.

The global `Image.MAX_IMAGE_PIXELS` is left alone: this limit is ours and is always enforced.
"""

from __future__ import annotations

import io
import warnings
from math import ceil

from PIL import Image

try:  # HEIC (iPhone photos) through pillow-heif when it is installed
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIC_SUPPORTED = True
except ImportError:  # pragma: no cover - depends on the environment
    HEIC_SUPPORTED = False

MAX_PIXELS = 40_000_000
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
# The Pillow decoders each kind may be opened with, and the formats they may report.
DECODERS = {"jpeg": ("JPEG",), "png": ("PNG",), "heic": ("HEIF",)}
REPORTED = {"jpeg": {"JPEG", "MPO"}, "png": {"PNG"}, "heic": {"HEIF", "HEIC"}}


class UploadRefused(ValueError):
    """A file the policy refuses; `reason` is one of: empty, type, heic, pixels, unreadable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sniff(data: bytes) -> str | None:
    """The kind the first bytes announce: jpeg, png, heic, pdf, or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[4:8] == b"ftyp" and data[8:12] in HEIC_BRANDS:
        return "heic"
    if data[:4] == b"%PDF":
        return "pdf"
    return None


def check_kind(data: bytes, allowed: set[str] | frozenset[str]) -> str:
    """The sniffed kind of `data` when it is one of `allowed`; raises UploadRefused otherwise."""
    if not data:
        raise UploadRefused("empty")
    kind = sniff(data)
    if kind is None or kind not in allowed:
        raise UploadRefused("type")
    if kind == "heic" and not HEIC_SUPPORTED:
        raise UploadRefused("heic")
    return kind


def open_image(
    data: bytes, allowed: set[str] | frozenset[str], max_edge: int | None = None
) -> Image.Image:
    """Open and decode an uploaded image under the policy; raises UploadRefused.

    `max_edge` lets the JPEG decoder scale down while decoding when the result will be smaller.
    """
    kind = check_kind(data, allowed)
    if kind not in DECODERS:
        raise UploadRefused("type")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=DECODERS[kind])
            if image.width * image.height > MAX_PIXELS:
                raise UploadRefused("pixels")
            if (image.format or "").upper() not in REPORTED[kind]:
                raise UploadRefused("type")
            if max_edge and image.format in ("JPEG", "MPO"):
                ratio = max_edge / max(image.width, image.height)
                if ratio < 1:
                    image.draft("RGB", (ceil(image.width * ratio), ceil(image.height * ratio)))
            image.load()
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRefused("pixels") from None
    except Exception:  # noqa: BLE001 - any decoder failure means "not an image we can read"
        raise UploadRefused("unreadable") from None
    return image
