"""The BVPI 157 rulebook (docs/bvpi157.md): published services only; deliveries map onto the
register (refused or added with consent at publish time, mismatches listed); the demo has none."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from portal.common.delivery import set_portal_delivery
from portal.council_services.models import Bvpi157Snapshot, Interaction, Service
from portal.extensions import db
from tests.council_services.factories import make_service
from tests.council_services.test_staff import interaction_form, service_form
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token


def figure_from_services_api(client) -> tuple[int, int]:  # noqa: ANN001
    """BVPI 157 worked out by anyone from the public catalogue: published services only."""
    numerator = denominator = 0
    for service in client.get("/api/v1/services").get_json()["services"]:
        for i in service["interactions"]:
            if i["applicable"] and i["permissible"]:
                denominator += 1
                numerator += 1 if i["e_enabled"] else 0
    return numerator, denominator


def published_figure(client) -> tuple[int, int]:  # noqa: ANN001
    body = client.get("/api/v1/bvpi157").get_json()
    return body["numerator"], body["denominator"]


def return_csv_figure(client) -> tuple[int, int]:  # noqa: ANN001
    rows = list(csv.DictReader(io.StringIO(client.get("/staff/services/export.csv").text)))
    counted = [r for r in rows if r["Counted in BVPI 157"] == "yes"]
    return sum(1 for r in counted if r["E-enabled"] == "yes"), len(counted)


def agree(client, app) -> tuple[int, int]:  # noqa: ANN001
    """The API, the services API, the public page, the return CSV and a snapshot agree."""
    figure = published_figure(client)
    assert figure_from_services_api(client) == figure
    assert return_csv_figure(client) == figure
    page = check_html(client.get("/performance"))
    text = page.get_text(" ", strip=True)
    assert f"{figure[0]} of the {figure[1]} types of interaction" in text
    token = csrf_token(client, "/staff/services")
    assert client.post("/staff/services/snapshot", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        snap = db.session.scalars(
            select(Bvpi157Snapshot).order_by(Bvpi157Snapshot.id.desc())
        ).first()
        assert (snap.numerator, snap.denominator) == figure
    return figure


def test_only_published_services_count_through_create_publish_unpublish_delete(app):
    editor = make_user(app, roles=("editor", "manager"))
    client = client_for(app, editor)
    with app.app_context():
        make_service(
            "Allotments",
            510,
            [
                {"lgil": 0, "e_enabled": True, "channels": ["web"]},
                {"lgil": 8, "e_enabled": False},
            ],
        )
        set_portal_delivery("repairs", "x", 141, 0, "Report a repair", "/repairs")
        db.session.commit()
    assert agree(client, app) == (1, 2)

    # Create a draft with three counted interactions, one delivered by the portal.
    token = csrf_token(client, "/staff/services/new")
    response = client.post(
        "/staff/services/new",
        data=service_form(name="Housing repairs", lgsl="141", csrf_token=token),
    )
    assert response.status_code == 302
    with app.app_context():
        service_id = db.session.scalar(select(Service.id).where(Service.lgsl == 141))
    url = f"/staff/services/{service_id}/interactions"
    rows = {
        "lgil-0-state": "applicable",
        "lgil-0-permissible": "yes",
        "lgil-0-enabled": "no",
        "lgil-8-state": "applicable",
        "lgil-8-permissible": "yes",
        "lgil-8-enabled": "yes",
        "lgil-8-channels": ["web"],
        "lgil-9-state": "applicable",
        "lgil-9-permissible": "no",
        "lgil-9-reason": "Signed in person",
    }
    response = client.post(url, data=interaction_form(**rows, csrf_token=token))
    assert response.status_code == 302, check_html(response).get_text(" ", strip=True)[:400]
    # A draft counts nowhere public; staff see it as "coming".
    assert agree(client, app) == (1, 2)
    staff_page = check_html(client.get("/staff/services"))
    assert (
        staff_page.select_one("#bvpi-coming")
        .get_text(" ", strip=True)
        .startswith(
            "Coming: draft services hold 2 more interactions that would count (2 e-enabled)."
        )
    )
    assert "Housing repairs" not in check_html(client.get("/performance")).get_text()

    publish = f"/staff/services/{service_id}/publish"
    client.post(publish, data={"action": "publish", "csrf_token": token})
    assert agree(client, app) == (3, 4)
    client.post(publish, data={"action": "unpublish", "csrf_token": token})
    assert agree(client, app) == (1, 2)

    # Deleting: only a draft, after a confirmation page.
    edit = check_html(client.get(f"/staff/services/{service_id}/edit"))
    link = edit.find("a", string="Delete this draft service")
    confirm = check_html(client.get(link["href"]))
    assert confirm.h1.get_text(strip=True) == "Are you sure you want to delete Housing repairs?"
    assert client.post(link["href"], data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert db.session.get(Service, service_id) is None
    assert agree(client, app) == (1, 2)


def test_a_published_service_cannot_be_deleted_until_unpublished(app):
    editor = make_user(app, roles=("editor",))
    client = client_for(app, editor)
    with app.app_context():
        service_id = make_service("Allotments", 510, [{"lgil": 0}]).id
    token = csrf_token(client, "/staff/services")
    response = client.post(f"/staff/services/{service_id}/delete", data={"csrf_token": token})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Service, service_id) is not None


def test_mismatched_deliveries_are_listed_and_can_be_added_with_consent(app):
    editor = make_user(app, roles=("editor",))
    client = client_for(app, editor)
    with app.app_context():
        make_service("Flytipping", 587, [{"lgil": 9, "e_enabled": False}])
        make_service("Library facilities", 437, [{"lgil": 1}], published=False)
        make_service("Allotments", 510, [{"lgil": 0, "applicable": False}])
        set_portal_delivery("form", "fly", 587, 9, "Report fly-tipping", "/forms/fly")
        set_portal_delivery("form", "bin", 587, 0, "Fly-tipping, wrong type", "/forms/b")
        set_portal_delivery("form", "lib", 437, 3, "Library consultation", "/forms/lib")
        set_portal_delivery("payments", "inv", 1520, 2, "Pay an invoice", "/pay/inv")
        set_portal_delivery("form", "allot", 510, 0, "Apply for an allotment", "/forms/a")
        db.session.commit()
    index = check_html(client.get("/staff/services"))
    link = index.find("a", string="Portal services that match no register interaction (4)")
    page = check_html(client.get(link["href"]))
    rows = [
        [cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])][:4]
        for row in page.select("#table-mismatches tbody tr")
    ]
    assert rows == [
        [
            "Library consultation",
            "437",
            "Consultation",
            "Library facilities (LGSL 437) is a draft: publish it first.",
        ],
        [
            "Apply for an allotment",
            "510",
            "Applications for service",
            "Allotments: “Applications for service” (LGIL 0) is marked not applicable in the "
            "register.",
        ],
        [
            "Fly-tipping, wrong type",
            "587",
            "Applications for service",
            "Flytipping (LGSL 587) has no “Applications for service” (LGIL 0) interaction in "
            "the register.",
        ],
        [
            "Pay an invoice",
            "1520",
            "Collecting revenue",
            "No service in the A to Z has LGSL 1520: create and publish it first.",
        ],
    ]
    assert client.get("/api/v1/bvpi157").get_json()["numerator"] == 1  # 587/9 only
    # Only a missing interaction of a published service can be added, with one button.
    buttons = page.select("#table-mismatches button")
    assert len(buttons) == 1
    form = buttons[0].find_parent("form")
    data = {i["name"]: i["value"] for i in form.find_all("input")}
    assert client.post(form["action"], data=data).status_code == 303
    after = check_html(client.get(link["href"]))
    assert "Fly-tipping, wrong type" not in after.get_text()
    with app.app_context():
        added = db.session.scalar(
            select(Interaction).join(Service).where(Service.lgsl == 587, Interaction.lgil == 0)
        )
        assert added.applicable and added.permissible
    assert published_figure(client) == (2, 2)


def test_the_demo_council_has_no_mismatched_delivery(app):
    from portal.council_services.demo import load_demo_catalogue
    from portal.council_services.services import delivery_mismatches
    from portal.online_forms.demo import load_demo_forms
    from portal.payments.billing import sync_deliveries as sync_bills
    from portal.planning.services import ensure_portal_deliveries
    from portal.repairs.services import sync_deliveries as sync_repairs

    with app.app_context():
        load_demo_catalogue()
        load_demo_forms()
        sync_bills()
        sync_repairs()
        ensure_portal_deliveries()
        db.session.commit()
        assert [(m.title, m.problem) for m in delivery_mismatches()] == []
