"""Repair photos: checked by magic bytes, decoded with Pillow, re-encoded without any metadata.

Every stored image is a fresh JPEG written from pixels only, after `ImageOps.exif_transpose`
has applied the camera's orientation, so no EXIF block (and so no GPS position) survives.

A photo is stored as soon as it is uploaded on the report form, but only gets a `repair_photos`
row when the report is sent; until then its keys travel in the form (a signed token). Files that
no row refers to are removed by `purge_unsent_photos` (the hourly job
`purge_unsent_repair_photos`) once they are `UNSENT_MAX_AGE` old; the form stops accepting a
kept photo at `KEPT_MAX_AGE`, well before that, so a report is never sent with a purged file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from PIL import Image, ImageOps
from sqlalchemy import select

from portal.common import storage, uploads
from portal.common.models import utcnow
from portal.common.uploads import HEIC_SUPPORTED as HEIC_SUPPORTED  # re-exported
from portal.common.uploads import sniff as sniff  # re-exported
from portal.extensions import db

MAX_PHOTOS = 5
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = uploads.MAX_PIXELS
MAX_EDGE = 2000  # stored photos are scaled down to this longest side
THUMB_EDGE = 320
JPEG_QUALITY = 85
FOLDER = "repairs"
PHOTO_KINDS = frozenset({"jpeg", "png", "heic"})
UNSENT_MAX_AGE = timedelta(hours=24)  # an unsent report's photos are deleted after this
KEPT_MAX_AGE = timedelta(hours=20)  # the report form re-uses an uploaded photo until this age


class PhotoError(ValueError):
    """A file that is refused, with the message shown to the tenant."""


@dataclass
class ProcessedPhoto:
    image: bytes
    thumbnail: bytes
    width: int
    height: int


def process_photo(data: bytes, name: str = "photo") -> ProcessedPhoto:
    """Check and re-encode one uploaded photo; raises PhotoError with a clear message."""
    label = name or "The selected file"
    if not data:
        raise PhotoError(f"{label} is empty")
    if len(data) > MAX_BYTES:
        raise PhotoError(f"{label} must be smaller than 10 MB")
    messages = {
        "type": f"{label} must be a JPEG, PNG or HEIC photo",
        "heic": f"{label} is a HEIC photo, which we cannot read yet: send a JPEG or PNG",
        "pixels": f"{label} is too large: photos must be 40 megapixels or fewer",
        "unreadable": f"{label} could not be read as a photo: it may be damaged",
        "empty": f"{label} is empty",
    }
    try:
        image = uploads.open_image(data, PHOTO_KINDS, max_edge=MAX_EDGE)
    except uploads.UploadRefused as exc:
        raise PhotoError(messages[exc.reason]) from None
    image = ImageOps.exif_transpose(image)
    image = _flatten(image)
    image.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=JPEG_QUALITY)
    thumb = clean.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS, reducing_gap=2.0)
    thumb_out = io.BytesIO()
    thumb.save(thumb_out, "JPEG", quality=80)
    return ProcessedPhoto(out.getvalue(), thumb_out.getvalue(), clean.width, clean.height)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB pixels only; transparent areas become white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def store_photo(photo: ProcessedPhoto) -> tuple[str, str]:
    """Save the photo and its thumbnail under server-generated names; returns both keys."""
    return (
        storage.save_bytes(photo.image, FOLDER, "jpg"),
        storage.save_bytes(photo.thumbnail, FOLDER, "jpg"),
    )


def _age(key: str, now: datetime) -> timedelta | None:
    """How long ago the stored file was written, or None when it is not there."""
    try:
        written = storage.path_for(key).stat().st_mtime
    except (OSError, storage.StorageError):
        return None
    return timedelta(seconds=now.timestamp() - written)


def still_usable(key: str, thumbnail_key: str, now: datetime | None = None) -> bool:
    """Whether a photo uploaded earlier on the report form can still go with the report."""
    now = now or utcnow()
    for k in (key, thumbnail_key):
        if not k.startswith(f"{FOLDER}/"):
            return False
        age = _age(k, now)
        if age is None or age >= KEPT_MAX_AGE:
            return False
    return True


def photos_hint() -> str:
    """The limits the report form states under its photo field."""
    formats = "JPEG, PNG or HEIC" if HEIC_SUPPORTED else "JPEG or PNG"
    return (
        f"You can add up to {MAX_PHOTOS} photos. Each must be a {formats} file "
        f"smaller than {MAX_BYTES // (1024 * 1024)} MB."
    )


def discard_unsent_photo(key: str, thumbnail_key: str) -> None:
    """Delete a photo taken off the report form before sending (never one a repair uses)."""
    from portal.repairs.models import RepairPhoto

    for k in (key, thumbnail_key):
        if not k.startswith(f"{FOLDER}/"):
            continue
        used = db.session.scalar(
            select(RepairPhoto.id).where(
                (RepairPhoto.storage_key == k) | (RepairPhoto.thumbnail_key == k)
            )
        )
        if used is None:
            storage.delete(k)


def purge_unsent_photos(now: datetime | None = None, max_age: timedelta = UNSENT_MAX_AGE) -> int:
    """Delete stored repair photo files (and unfinished `.part` writes) that no repair photo row
    refers to and that are at least `max_age` old: photos of reports that were never sent.

    Photos attached to a report are never touched. Returns the number of files deleted.
    """
    now = now or utcnow()
    folder = storage.upload_root() / FOLDER
    if not folder.is_dir():
        return 0
    from portal.repairs.models import RepairPhoto

    attached: set[str] = set()
    for key, thumb in db.session.execute(
        select(RepairPhoto.storage_key, RepairPhoto.thumbnail_key)
    ):
        attached.update((key, thumb))
    removed = 0
    for path in folder.iterdir():
        key = f"{FOLDER}/{path.name}"
        if not path.is_file() or key in attached:
            continue
        age = _age(key, now)
        if age is not None and age >= max_age:
            storage.delete(key)
            removed += 1
    return removed
