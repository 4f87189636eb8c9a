"""The common upload policy: decompression bombs and disguised formats are refused by every slice
that takes images (online forms and repair photos), without decoding the pixels."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from PIL import Image

from portal.common import uploads
from portal.online_forms.questions import FileRejected, check_upload
from portal.repairs.photos import PhotoError, process_photo

QUESTION = {"id": "proof", "kind": "file", "file_types": ["jpg", "png", "pdf"]}


def _image(mode: str, size: tuple[int, int], fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format=fmt, **options)
    return out.getvalue()


def make_bomb_png() -> bytes:
    """8900 × 8900 1-bit PNG: about 10 KB on disk, 79 megapixels once decoded (as in the probe)."""
    data = _image("1", (8900, 8900), "PNG", optimize=True)
    assert len(data) < 20_000
    return data


@pytest.fixture(scope="module")
def bomb_png() -> bytes:
    return make_bomb_png()


DISGUISED = {
    "tiff": lambda: _image("RGB", (20, 20), "TIFF"),
    "bmp": lambda: _image("RGB", (20, 20), "BMP"),
    "ico": lambda: _image("RGB", (32, 32), "ICO"),
    "gif": lambda: _image("RGB", (20, 20), "GIF"),
}


def test_bomb_png_is_refused_by_forms_without_decoding_it(bomb_png):
    tracemalloc.start()
    try:
        with pytest.raises(FileRejected, match="40 megapixels or fewer"):
            check_upload(QUESTION, "scan.png", bomb_png)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024  # never decoded (decoding would take about 80 MB)


def test_bomb_png_is_refused_by_repairs(bomb_png):
    with pytest.raises(PhotoError, match="40 megapixels or fewer"):
        process_photo(bomb_png, "bomb.png")


def test_policy_refuses_the_bomb_whatever_the_global_pillow_limit(bomb_png, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # someone switched Pillow's check off
    with pytest.raises(uploads.UploadRefused) as refused:
        uploads.open_image(bomb_png, {"png"})
    assert refused.value.reason == "pixels"


@pytest.mark.parametrize("kind", sorted(DISGUISED))
def test_other_formats_named_png_are_refused_by_forms(kind):
    with pytest.raises(FileRejected, match="must be a JPG, PNG or PDF"):
        check_upload(QUESTION, "photo.png", DISGUISED[kind]())


@pytest.mark.parametrize("kind", sorted(DISGUISED))
def test_other_formats_named_png_are_refused_by_repairs(kind):
    with pytest.raises(PhotoError, match="must be a JPEG, PNG or HEIC photo"):
        process_photo(DISGUISED[kind](), "photo.png")


def test_kind_comes_from_the_bytes_and_must_be_allowed():
    jpeg = _image("RGB", (20, 20), "JPEG")
    stored, extension, content_type = check_upload(QUESTION, "photo.png", jpeg)
    assert (extension, content_type) == ("jpg", "image/jpeg")
    assert uploads.sniff(stored) == "jpeg"
    with pytest.raises(FileRejected):
        check_upload({"id": "p", "file_types": ["pdf", "png"]}, "photo.png", jpeg)
    with pytest.raises(FileRejected):
        check_upload({"id": "p", "file_types": ["jpg", "png"]}, "notes.png", b"%PDF-1.4 x")


def test_a_plain_png_still_goes_through():
    png = _image("RGB", (30, 20), "PNG")
    stored, extension, _ = check_upload(QUESTION, "bill.png", png)
    assert extension == "png" and Image.open(io.BytesIO(stored)).size == (30, 20)
    assert process_photo(png, "bill.png").width == 30
