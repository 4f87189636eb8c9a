"""Staff: triage board and filters (htmx and plain), changes, phone bookings, slots, tree,
tenancies, CSV, counts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select

from portal.common.models import AuditEvent, ServiceTransaction
from portal.extensions import db
from portal.repairs import calendar, services
from portal.repairs.models import Repair, RepairNode, Slot, Tenancy
from tests.helpers.auth import client_for
from tests.helpers.pages import check_html, csrf_token, error_summary, get_page
from tests.repairs.conftest import add_slot, leaf, working_days_ahead
from tests.repairs.test_booking import make_repair


def _set(app, reference, **values):  # noqa: ANN001, ANN202
    with app.app_context():
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        for key, value in values.items():
            setattr(repair, key, value)
        db.session.commit()


def _board_refs(soup) -> set[str]:  # noqa: ANN001
    return {a.get_text(strip=True) for a in soup.select("#board-results td a")}


def test_board_views_filters_and_counts(app, world) -> None:
    new = make_repair(app, world.tenant, world.home_id)
    awaiting = make_repair(app, world.tenant, world.home_id, "Radiator leaking")
    overdue = make_repair(app, world.tenant, world.home_id, "Cracked glass")
    reopened = make_repair(app, world.tenant, world.home_id, "Socket not working")
    _set(app, awaiting, status=Repair.TRIAGED)
    _set(app, overdue, status=Repair.TRIAGED, target_date=services.today() - timedelta(days=1))
    _set(app, reopened, reopened_count=1)
    client = client_for(app, world.housing)
    assert _board_refs(get_page(client, "repairs_staff.board")) == {new}
    assert _board_refs(get_page(client, "repairs_staff.board", view="awaiting")) == {
        new, awaiting, overdue, reopened}  # fmt: skip
    assert _board_refs(get_page(client, "repairs_staff.board", view="overdue")) == {overdue}
    assert _board_refs(get_page(client, "repairs_staff.board", view="reopened")) == {reopened}
    assert _board_refs(get_page(client, "repairs_staff.board", view="open", trade="glazing")) == {
        overdue}  # fmt: skip
    soup = get_page(client, "repairs_staff.board", view="all", q="radiator")
    assert _board_refs(soup) == {awaiting}
    assert soup.find(id="count-reported").get_text() == "2"
    assert soup.find(id="count-overdue").get_text() == "1"
    # The view links are real links that htmx enhances; with HX-Request only the fragment comes.
    link = soup.select_one("#board-results nav a")
    assert link["href"] == link["data-hx-get"]
    fragment = client.get("/staff/repairs?view=overdue", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    # the results and the title that htmx takes from the fragment, not a whole page
    assert body.lstrip().startswith("<title>Overdue: ") and "<html" not in body
    assert '<div id="board-results" data-portal-status="Overdue: ' in body
    assert overdue in body


def test_tenant_bookings_have_their_queue_and_search_covers_every_view(app, world) -> None:
    by_tenant = make_repair(app, world.tenant, world.home_id)
    by_staff = make_repair(app, world.tenant, world.home_id, "Blocked sink")
    finished = make_repair(app, world.tenant, world.home_id, "Radiator leaking")
    with app.app_context():
        slot = add_slot("plumbing", working_days_ahead(3), capacity=5).id
        tenant_repair = db.session.scalar(select(Repair).where(Repair.reference == by_tenant))
        services.book(tenant_repair, slot, actor_id=world.tenant.id)
        staff_repair = db.session.scalar(select(Repair).where(Repair.reference == by_staff))
        services.book(
            staff_repair, slot, actor_id=world.housing.id, channel="phone",
            staff_id=world.housing.id, enforce_window=False,
        )  # fmt: skip
        done = db.session.scalar(select(Repair).where(Repair.reference == finished))
        services.set_status(done, Repair.COMPLETED, world.housing.id)
        db.session.commit()
    client = client_for(app, world.housing)
    soup = get_page(client, "repairs_staff.board", view="booked")
    assert _board_refs(soup) == {by_tenant}
    assert "(booked by tenant)" in soup.select_one("#board-results tbody").get_text()
    assert soup.find("a", attrs={"aria-current": "page"}).get_text() == "Booked by tenants"
    # Searching from the "New" view still finds the completed repair and the booked ones.
    assert _board_refs(get_page(client, "repairs_staff.board", view="new", q="radiator")) == {
        finished}  # fmt: skip
    by_street = get_page(client, "repairs_staff.board", view="new", q="castle street")
    assert _board_refs(by_street) == {by_tenant, by_staff, finished}
    assert "All repairs matching" in by_street.select_one("caption").get_text()
    assert _board_refs(get_page(client, "repairs_staff.board", q="ck11aa")) == {
        by_tenant, by_staff, finished}  # fmt: skip
    assert not _board_refs(get_page(client, "repairs_staff.board", q="no such thing"))


def test_csv_export(app, world) -> None:
    reference = make_repair(app, world.tenant, world.home_id)
    client = client_for(app, world.housing)
    response = client.get("/staff/repairs/export.csv?view=all")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0]["reference"] == reference and rows[0]["uprn"] == "100000000001"


def _post(client, url, **data):  # noqa: ANN001, ANN202
    data["csrf_token"] = csrf_token(client, "/staff/repairs/slots")
    return client.post(url, data=data)


def test_staff_change_status_category_and_note_are_audited(app, world) -> None:
    reference = make_repair(app, world.tenant, world.home_id)
    client = client_for(app, world.housing)
    soup = get_page(client, "repairs_staff.detail", reference=reference)
    assert soup.h1.get_text(strip=True) == f"Repair {reference}"
    with app.app_context():
        lift = leaf("Lift not working").id
    _post(client, f"/staff/repairs/{reference}/status", status="triaged")
    _post(
        client,
        f"/staff/repairs/{reference}/category",
        node=lift,
        priority="emergency",
        trade="general",
    )
    _post(client, f"/staff/repairs/{reference}/note", note="Called tenant")
    _post(client, f"/staff/repairs/{reference}/status", status="cancelled", note="Duplicate")
    with app.app_context():
        repair = db.session.scalar(select(Repair).where(Repair.reference == reference))
        assert repair.status == Repair.CANCELLED and repair.communal
        assert repair.priority == "emergency" and repair.trade == "general"
        assert repair.target_date <= services.today() + timedelta(days=1)
        assert [e.public for e in repair.events][-2] is False  # the note is internal
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions == ["repair.status", "repair.recategorise", "repair.note", "repair.status"]


def test_staff_book_and_move_for_a_tenant_on_the_phone(app, world) -> None:
    reference = make_repair(app, world.tenant, world.home_id)
    with app.app_context():
        first = add_slot(
            "plumbing", services.today()
        ).id  # today: staff can book outside the window
        second = add_slot("plumbing", working_days_ahead(2)).id
        db.session.commit()
    client = client_for(app, world.housing)
    soup = get_page(client, "repairs_staff.detail", reference=reference)
    assert {int(o["value"]) for o in soup.select("#slot option")} >= {second}
    _post(client, f"/staff/repairs/{reference}/book", slot=second)
    _post(client, f"/staff/repairs/{reference}/book", slot=first)
    with app.app_context():
        rows = db.session.scalars(
            select(ServiceTransaction).where(ServiceTransaction.kind == "repair_booking")
        ).all()
        assert [(r.channel, r.staff_id, r.user_id, r.lgil) for r in rows] == [
            ("phone", world.housing.id, world.tenant.id, 1)
        ] * 2
        assert db.session.get(Slot, first).booked == 1
        assert db.session.get(Slot, second).booked == 0
    _post(client, f"/staff/repairs/{reference}/cancel-appointment")
    with app.app_context():
        assert db.session.get(Slot, first).booked == 0


def test_bulk_slots_and_capacity(app, world) -> None:
    client = client_for(app, world.housing)
    soup = get_page(client, "repairs_staff.slots")
    soup = check_html(
        _post(client, "/staff/repairs/slots", trade="", weeks="0", capacity="0",
              **{"start-day": "30", "start-month": "2", "start-year": "2027"})
    )  # fmt: skip
    assert soup.find("input", id="start-day")["value"] == "30"
    assert error_summary(soup) == [
        "Select a trade",
        "The first date must be a real date",
        "Enter a number of weeks from 1 to 26",
        "Enter a capacity from 1 to 100",
        "Select at least one day of the week",
        "Select at least one time of day",
    ]
    start = services.today() + timedelta(days=1)
    response = client.post(
        "/staff/repairs/slots",
        data={
            "csrf_token": csrf_token(client, "/staff/repairs/slots"),
            "trade": "plumbing", "start-day": str(start.day), "start-month": str(start.month),
            "start-year": str(start.year), "weeks": "4", "capacity": "6",
            "days": ["0", "1", "2", "3", "4"], "periods": ["morning", "afternoon"],
        },
    )  # fmt: skip
    assert response.status_code == 302
    expected = len(calendar.working_days_between(start, start + timedelta(days=27))) * 2
    with app.app_context():
        slots = db.session.scalars(select(Slot)).all()
        assert len(slots) == expected
        assert all(s.capacity == 6 and calendar.is_working_day(s.date) for s in slots)
        slot = slots[0]
        slot.booked = 4
        db.session.commit()
        slot_id = slot.id
    soup = check_html(client.get("/staff/repairs/slots?trade=plumbing"))
    assert soup.find(id=f"capacity-{slot_id}")["value"] == "6"
    refused = _post(client, f"/staff/repairs/slots/{slot_id}/capacity", capacity="3")
    assert "less than the 4 places already booked" in check_html(
        client.get(refused.location)).get_text()  # fmt: skip
    _post(client, f"/staff/repairs/slots/{slot_id}/capacity", capacity="8")
    with app.app_context():
        assert db.session.get(Slot, slot_id).capacity == 8


def test_tree_editing(app, world) -> None:
    client = client_for(app, world.housing)
    soup = get_page(client, "repairs_staff.tree")
    assert "47 problems" in soup.get_text()
    with app.app_context():
        taps = leaf("Dripping tap").parent_id
        tap = leaf("Dripping tap").id
    _post(
        client,
        "/staff/repairs/tree",
        parent=taps,
        label="Tap loose",
        priority="routine",
        trade="plumbing",
    )
    _post(
        client,
        f"/staff/repairs/tree/{tap}",
        label="Dripping tap",
        priority="urgent",
        trade="plumbing",
        active="no",
    )
    with app.app_context():
        assert leaf("Tap loose").trade == "plumbing"
        node = db.session.get(RepairNode, tap)
        assert node.priority == "urgent" and not node.active
        assert services.active_leaf(tap) is None


def test_tenancy_link_unlink_and_code(app, world) -> None:
    client = client_for(app, world.housing)
    get_page(client, "repairs_staff.tenancies")
    # Staff find a tenancy however its reference is typed.
    for typed in ("rt000001", "RT 000001"):
        soup = get_page(client, "repairs_staff.tenancies", q=typed)
        cells = [td.get_text(strip=True) for td in soup.select("tbody tr td:first-child")]
        assert cells == ["RT-000001"], typed
    with app.app_context():
        tenancy_id = db.session.scalar(select(Tenancy.id).where(Tenancy.reference == "RT-000001"))
    _post(client, f"/staff/repairs/tenancies/{tenancy_id}/unlink")
    with app.app_context():
        assert db.session.get(Tenancy, tenancy_id).user_id is None
    _post(client, f"/staff/repairs/tenancies/{tenancy_id}/link", email="tenant@example.com")
    response = _post(client, f"/staff/repairs/tenancies/{tenancy_id}/code")
    page = check_html(client.get(response.location)).get_text()
    assert "Linking code for RT-000001" in page
    with app.app_context():
        tenancy = db.session.get(Tenancy, tenancy_id)
        assert tenancy.user_id == world.tenant.id and tenancy.link_code_hash
        assert db.session.scalar(select(func.count(AuditEvent.id))) == 3


def test_demo_loader_is_idempotent_and_complete(app) -> None:
    from portal.common.gazetteer.demo import load_demo_gazetteer
    from portal.common.models import PortalDelivery
    from portal.repairs.demo import load_demo_repairs

    with app.app_context():
        load_demo_gazetteer()
        db.session.commit()
        assert load_demo_repairs()
        statuses = set(db.session.scalars(select(Repair.status)))
        assert statuses == set(Repair.STATUSES)
        leaves = db.session.scalar(
            select(func.count(RepairNode.id)).where(RepairNode.priority.is_not(None))
        )
        assert leaves >= 40
        rooms = {
            n.label
            for n in db.session.scalars(select(RepairNode).where(RepairNode.parent_id.is_not(None)))
        }
        assert {"Kitchen", "Bathroom and toilet", "Heating and hot water", "Electrics",
                "Doors and windows", "Stairs and corridors"} <= rooms  # fmt: skip
        last = db.session.scalar(select(func.max(Slot.date)))
        assert last >= services.today() + timedelta(days=38)
        counts = (
            db.session.scalar(select(func.count(Repair.id))),
            db.session.scalar(select(func.count(Slot.id))),
        )
        linked = db.session.scalars(select(Tenancy).where(Tenancy.user_id.is_not(None))).all()
        assert len(linked) == 3
        deliveries = db.session.scalars(
            select(PortalDelivery).where(PortalDelivery.kind == "repairs")
        ).all()
        assert {(d.lgsl, d.lgil) for d in deliveries if d.live} == {
            (141, 0),
            (141, 1),
            (140, 0),
            (140, 1),
        }
        load_demo_repairs()
        assert counts == (
            db.session.scalar(select(func.count(Repair.id))),
            db.session.scalar(select(func.count(Slot.id))),
        )


def test_cli_sync(app) -> None:
    from portal.common.models import PortalDelivery

    result = app.test_cli_runner().invoke(args=["repairs", "sync"])
    assert "4 repairs deliveries live; 47 tree problems added" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(PortalDelivery.id))) == 4


def test_tenancy_is_never_linked_to_an_unconfirmed_account(app, world) -> None:
    from portal.accounts.models import User

    with app.app_context():
        db.session.add(User(email="squatter@example.com", display_name="Not the tenant"))
        tenancy_id = db.session.scalar(select(Tenancy.id).where(Tenancy.reference == "RT-000001"))
        db.session.commit()
    client = client_for(app, world.housing)
    _post(client, f"/staff/repairs/tenancies/{tenancy_id}/unlink")
    response = _post(
        client, f"/staff/repairs/tenancies/{tenancy_id}/link", email="squatter@example.com"
    )
    page = check_html(client.get(response.location)).get_text()
    assert "has not confirmed its email address" in page
    with app.app_context():
        assert db.session.get(Tenancy, tenancy_id).user_id is None
