"""Authorisation matrix: a tenant never sees, changes or books another tenant's repair."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.repairs.models import Repair
from tests.helpers.authz import AccessCase, assert_access_matrix
from tests.repairs.conftest import add_slot, jpeg_with_gps, working_days_ahead
from tests.repairs.test_booking import make_repair


def _expect(owner, other, housing, planner, anon) -> dict[str, int]:  # noqa: ANN001
    return {
        "owner": owner,
        "other_resident": other,
        "staff_with_role": housing,
        "staff_without_role": planner,
        "anonymous": anon,
    }


def test_repairs_access_matrix(app, world) -> None:
    from portal.common import storage
    from portal.repairs.models import RepairPhoto
    from portal.repairs.photos import process_photo, store_photo

    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        key, thumb = store_photo(process_photo(jpeg_with_gps()))
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        repair.photos.append(RepairPhoto(storage_key=key, thumbnail_key=thumb, width=8, height=6))
        slot_id = add_slot("plumbing", working_days_ahead(3)).id
        db.session.commit()
        photo_id = repair.photos[0].id
        assert storage.read_bytes(key)
    anon = 302 if app.login_manager.login_view else 401
    r = f"/repairs/{reference}"
    s = f"/staff/repairs/{reference}"
    cases = [
        AccessCase("GET", r, _expect(200, 404, 200, 404, anon)),
        AccessCase("GET", f"{r}/photos/{photo_id}", _expect(200, 404, 200, 404, anon)),
        AccessCase("GET", f"{r}/photos/{photo_id}?size=thumb", _expect(200, 404, 200, 404, anon)),
        AccessCase("GET", f"{r}/book", _expect(200, 404, 404, 404, anon)),
        AccessCase("POST", f"{r}/book", _expect(200, 404, 404, 404, anon), {"slot": "x"}),
        AccessCase("POST", f"{r}/cancel-appointment", _expect(302, 404, 404, 404, anon)),
        AccessCase("GET", f"{r}/not-fixed", _expect(302, 404, 404, 404, anon)),
        AccessCase("POST", f"{r}/not-fixed", _expect(302, 404, 404, 404, anon), {"note": "x"}),
        AccessCase("GET", "/staff/repairs", _expect(403, 403, 200, 403, anon)),
        AccessCase("GET", "/staff/repairs/export.csv", _expect(403, 403, 200, 403, anon)),
        AccessCase("GET", s, _expect(403, 403, 200, 403, anon)),
        AccessCase("POST", f"{s}/note", _expect(403, 403, 302, 403, anon), {"note": "n"}),
        AccessCase("POST", f"{s}/status", _expect(403, 403, 302, 403, anon), {"status": "triaged"}),
        AccessCase("POST", f"{s}/category", _expect(403, 403, 302, 403, anon), {"priority": "urgent", "trade": "plumbing"}),
        AccessCase("POST", f"{s}/book", _expect(403, 403, 302, 403, anon), {"slot": "x"}),
        AccessCase("POST", f"{s}/cancel-appointment", _expect(403, 403, 302, 403, anon)),
        AccessCase("GET", "/staff/repairs/slots", _expect(403, 403, 200, 403, anon)),
        AccessCase("POST", f"/staff/repairs/slots/{slot_id}/capacity", _expect(403, 403, 302, 403, anon), {"capacity": "2"}),
        AccessCase("GET", "/staff/repairs/tree", _expect(403, 403, 200, 403, anon)),
        AccessCase("GET", "/staff/repairs/tenancies", _expect(403, 403, 200, 403, anon)),
        AccessCase("GET", "/repairs/link", _expect(200, 200, 200, 200, anon)),
        AccessCase("GET", "/repairs/report", _expect(200, 200, 302, 302, anon)),
    ]  # fmt: skip
    actors = {
        "owner": world.tenant,
        "other_resident": world.other_tenant,
        "staff_with_role": world.housing,
        "staff_without_role": world.planner,
    }
    assert_access_matrix(app, actors, cases)
    with (
        app.app_context()
    ):  # nobody but the owner booked anything, and nobody else's note reopened it
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        assert all(a.status != "booked" for a in repair.appointments)


def test_other_tenant_cannot_book_into_a_repair_via_post(app, world) -> None:
    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        slot_id = add_slot("plumbing", working_days_ahead(3)).id
        db.session.commit()
    from tests.helpers.auth import client_for
    from tests.helpers.authz import csrf_headers

    client = client_for(app, world.other_tenant)
    response = client.post(
        f"/repairs/{reference}/book", data={"slot": str(slot_id)}, headers=csrf_headers(client)
    )
    assert response.status_code == 404
    with app.app_context():
        from portal.repairs.models import Slot

        assert db.session.get(Slot, slot_id).booked == 0
