"""Photos of repair reports that are never sent are deleted after a day; attached ones never."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import select

from portal.common import storage
from portal.extensions import db
from portal.repairs import photos
from portal.repairs.models import Repair, RepairPhoto
from tests.helpers.auth import client_for
from tests.helpers.pages import check_html, error_summary
from tests.repairs.conftest import jpeg_with_gps, leaf, png_bytes
from tests.repairs.test_reporting import _details


def _stored(app) -> set[str]:  # noqa: ANN001
    with app.app_context():
        folder = storage.upload_root() / photos.FOLDER
        return {f"{photos.FOLDER}/{p.name}" for p in folder.iterdir()} if folder.is_dir() else set()


def _make_old(app, keys: set[str], hours: float) -> None:  # noqa: ANN001
    when = time.time() - hours * 3600
    with app.app_context():
        for key in keys:
            os.utime(storage.path_for(key), (when, when))


def _abandon_a_report(app, world, client, name: str) -> tuple[set[str], str]:  # noqa: ANN001
    """Upload a photo on a report that is refused (no description) and never sent again."""
    before = _stored(app)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    response = _details(
        client, world.home_id, tap_id, files=[(name, jpeg_with_gps())], description=""
    )
    assert response.status_code == 200
    token = check_html(response).find("input", attrs={"name": "kept_photos"})["value"]
    return _stored(app) - before, token


def test_unsent_photos_are_deleted_after_a_day_and_attached_ones_kept(app, world) -> None:
    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
        assert Path(app.config["UPLOAD_DIR"]).is_relative_to(app.instance_path)
    # A sent report with two photos.
    sent = _details(
        client, world.home_id, tap_id,
        files=[("tap.jpg", jpeg_with_gps()), ("sink.png", png_bytes())],
    )  # fmt: skip
    assert sent.status_code == 302
    attached = _stored(app)
    assert len(attached) == 4  # each photo and its thumbnail
    # Two abandoned reports: one a day old, one from this morning.
    old_unsent, _ = _abandon_a_report(app, world, client, "old.jpg")
    new_unsent, _ = _abandon_a_report(app, world, client, "new.jpg")
    assert len(old_unsent) == len(new_unsent) == 2
    # An unfinished write left by a crash.
    with app.app_context():
        part = storage.upload_root() / photos.FOLDER / "0123abcd.jpg.part"
        part.write_bytes(b"half a photo")
    _make_old(app, attached | old_unsent | {f"{photos.FOLDER}/{part.name}"}, hours=25)
    _make_old(app, new_unsent, hours=3)

    from portal.repairs.jobs import purge_unsent_repair_photos

    with app.app_context():
        assert purge_unsent_repair_photos.call_local() == 3
    assert _stored(app) == attached | new_unsent
    with app.app_context():
        repair = db.session.scalar(select(Repair))
        assert [p.original_name for p in repair.photos] == ["tap.jpg", "sink.png"]
        for photo in db.session.scalars(select(RepairPhoto)):
            assert storage.read_bytes(photo.storage_key)[:3] == b"\xff\xd8\xff"
            assert storage.read_bytes(photo.thumbnail_key)[:3] == b"\xff\xd8\xff"
    # The photos are still served to the tenant.
    with app.app_context():
        photo_id = db.session.scalars(select(RepairPhoto.id)).first()
    assert client.get(f"/repairs/{repair.reference}/photos/{photo_id}").status_code == 200
    # Run again: nothing more goes, even once the sent report's files are very old.
    _make_old(app, attached, hours=24 * 400)
    with app.app_context():
        assert photos.purge_unsent_photos() == 0
    assert _stored(app) == attached | new_unsent


def test_the_form_asks_again_for_a_photo_kept_too_long(app, world) -> None:
    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    kept, token = _abandon_a_report(app, world, client, "leak.jpg")
    _make_old(app, kept, hours=21)
    response = _details(client, world.home_id, tap_id, kept_photos=token)
    assert response.status_code == 200
    soup = check_html(response)
    assert error_summary(soup) == [
        "leak.jpg was removed because the report was not sent within 20 hours: add it again"
    ]
    with app.app_context():
        assert db.session.scalars(select(Repair)).all() == []
    # Adding it again sends the report with the new copy.
    response = _details(client, world.home_id, tap_id, files=[("leak.jpg", jpeg_with_gps())])
    assert response.status_code == 302
    with app.app_context():
        repair = db.session.scalar(select(Repair))
        assert [p.original_name for p in repair.photos] == ["leak.jpg"]
        assert repair.photos[0].storage_key not in kept


def test_a_recent_kept_photo_still_goes_with_the_report(app, world) -> None:
    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    kept, token = _abandon_a_report(app, world, client, "leak.jpg")
    _make_old(app, kept, hours=19)
    response = _details(client, world.home_id, tap_id, kept_photos=token)
    assert response.status_code == 302
    with app.app_context():
        repair = db.session.scalar(select(Repair))
        assert {repair.photos[0].storage_key, repair.photos[0].thumbnail_key} == kept
