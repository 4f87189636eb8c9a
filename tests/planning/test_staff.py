"""Staff planning pages: access, create and edit, status changes, documents, alert counts."""

from __future__ import annotations

import io

from sqlalchemy import select

from portal.common.models import AuditEvent, OutboxEmail
from portal.extensions import db
from portal.planning import services
from portal.planning.models import PlanningAlert, PlanningDocument
from tests.helpers.auth import client_for, make_user
from tests.helpers.authz import AccessCase, assert_access_matrix
from tests.helpers.pages import check_html, csrf_token, error_summary, get_page
from tests.planning.conftest import make_alert, make_application, radius_alert


def _officer_client(app):
    return client_for(app, make_user(app, roles=("planning",)))


def test_access_matrix(app):
    owner = make_user(app, email="owner@example.com")
    with app.app_context():
        application = make_application()
        alert = make_alert(services.ward_area("Castle"), email="owner@example.com")
        alert.user_id = owner.id
        db.session.commit()
        slug, alert_id = application.slug, alert.id
    actors = {
        "owner": owner,
        "other_resident": make_user(app),
        "staff_with_role": make_user(app, roles=("planning",)),
        "staff_without_role": make_user(app, roles=("housing",)),
        "anonymous": None,
    }
    # signed-out people go to sign-in (a 401 until the accounts slice sets the sign-in view)
    signed_out = 302 if app.login_manager.login_view else 401
    staff_only = {
        "owner": 403,
        "other_resident": 403,
        "staff_with_role": 200,
        "staff_without_role": 403,
        "anonymous": signed_out,
    }
    public = dict.fromkeys(staff_only, 200)
    cases = [
        AccessCase("GET", "/staff/planning", staff_only),
        AccessCase("GET", "/staff/planning/new", staff_only),
        AccessCase("GET", f"/staff/planning/applications/{slug}", staff_only),
        AccessCase("GET", "/staff/planning/comments", staff_only),
        AccessCase("GET", "/staff/planning/alerts", staff_only),
        AccessCase(
            "POST",
            f"/staff/planning/applications/{slug}/status",
            {**staff_only, "staff_with_role": 400},
            {"status": "nonsense"},
        ),
        AccessCase("GET", f"/planning/applications/{slug}", public),
        AccessCase("GET", "/planning/alerts/mine", {**public, "anonymous": signed_out}),
        AccessCase(
            "POST",
            f"/planning/alerts/{alert_id}/stop",
            {
                "owner": 302,
                "other_resident": 404,
                "staff_with_role": 404,
                "staff_without_role": 404,
                "anonymous": signed_out,
            },
        ),
    ]
    assert_access_matrix(app, actors, cases)


def test_create_edit_and_bad_input(app):
    client = _officer_client(app)
    soup = get_page(client, "planning_staff.new")
    token = csrf_token(client, "/staff/planning/new")
    bad = client.post(
        "/staff/planning/new",
        data={
            "csrf_token": token,
            "reference": "",
            "latitude": "51",
            "longitude": "-3",
            "received_date": "2026-13-40",
        },
    )
    assert bad.status_code == 400
    summary = " ".join(error_summary(check_html(bad)))
    for message in (
        "Enter the reference",
        "Select the application type",
        "Date received must be a real date",
        "outside the council area",
    ):
        assert message in summary
    # the dates are GOV.UK day, month and year boxes; what was typed stays in them
    soup = check_html(
        client.post(
            "/staff/planning/new",
            data={"csrf_token": token, "received_date-day": "2", "received_date-month": "11"},
        )
    )
    assert "Date received must include a year" in error_summary(soup)
    assert soup.select_one(".govuk-error-summary a[href='#received_date-year']") is not None
    assert soup.find("input", id="received_date-month")["value"] == "11"
    data = {
        "csrf_token": token,
        "reference": "26/04321/HOU",
        "site_address": "4 Mill Lane",
        "description": "Rear extension",
        "application_type": "HOU",
        "latitude": "52.95",
        "longitude": "-1.55",
        "received_date": "2026-11-02",
        "consultation_end": "2026-11-30",
        "case_officer_email": "o@example.com",
    }
    response = client.post("/staff/planning/new", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/staff/planning/applications/26-04321-HOU"
    )
    soup = check_html(client.get(response.headers["Location"]))
    assert soup.find("input", attrs={"name": "reference"})["value"] == "26/04321/HOU"
    dup = client.post("/staff/planning/new", data=data)
    assert "already exists" in " ".join(error_summary(check_html(dup)))
    data["description"] = "Rear extension, amended"
    assert client.post("/staff/planning/applications/26-04321-HOU", data=data).status_code == 302
    with app.app_context():
        application = services.get_by_slug("26-04321-HOU")
        assert application.description == "Rear extension, amended" and application.ward
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "planning.create" in actions and "planning.edit" in actions


def _an_address_in_the_area(app):  # noqa: ANN001, ANN202
    from portal.common.gazetteer.geography import ward_at
    from portal.common.models import Address

    with app.app_context():
        for address in db.session.scalars(select(Address).order_by(Address.uprn)):
            if ward_at(address.latitude, address.longitude):
                db.session.expunge(address)
                return address
    raise AssertionError("no demo address inside the council area")


def test_new_application_finds_the_site_by_postcode_and_address(app, gazetteer):
    address = _an_address_in_the_area(app)
    client = _officer_client(app)
    soup = get_page(client, "planning_staff.new")
    assert soup.find("input", attrs={"name": "uprn_postcode"})
    assert soup.find("button", attrs={"name": "uprn_find"}).get_text() == "Find address"
    assert not soup.find("input", attrs={"name": "uprn"})  # no UPRN to type
    # The first button of the form is "Add application", so Enter in a field saves.
    first = soup.select("main form")[-1].select_one("button[type=submit]")
    assert first.get_text() == "Add application"
    token = csrf_token(client, "/staff/planning/new")
    data = {
        "csrf_token": token,
        "reference": "26/07777/HOU",
        "description": "Loft conversion",
        "application_type": "HOU",
        "received_date": "2026-11-02",
    }
    # Nothing about the site: one clear error at the postcode box.
    response = client.post("/staff/planning/new", data=data)
    assert response.status_code == 400
    assert "Enter the site's postcode and find its address" in " ".join(
        error_summary(check_html(response))
    )
    # "Find address" without JavaScript: the same form, listing the postcode's addresses.
    typed = address.postcode.lower().replace(" ", "")
    found = client.post(
        "/staff/planning/new", data={**data, "uprn_postcode": typed, "uprn_find": "1"}
    )
    soup = check_html(found)
    assert found.status_code == 200 and error_summary(soup) == []
    options = {o["value"]: o.get_text() for o in soup.select("select#uprn option")}
    assert options[address.uprn] == address.single_line
    assert soup.find("input", attrs={"name": "reference"})["value"] == "26/07777/HOU"
    # Postcode found but no address chosen.
    response = client.post("/staff/planning/new", data={**data, "uprn_postcode": typed})
    assert "Select the site's address" in " ".join(error_summary(check_html(response)))
    # A postcode outside the area is explained.
    response = client.post(
        "/staff/planning/new", data={**data, "uprn_postcode": "SW1A 1AA", "uprn_find": "1"}
    )
    assert "Enter a postcode in the" in " ".join(error_summary(check_html(response)))
    # Choose the address: its position, postcode and address come from the gazetteer.
    response = client.post(
        "/staff/planning/new", data={**data, "uprn_postcode": typed, "uprn": address.uprn}
    )
    assert response.status_code == 302
    with app.app_context():
        application = services.get_by_slug("26-07777-HOU")
        assert application.uprn == address.uprn and application.postcode == address.postcode
        assert (application.latitude, application.longitude) == (
            address.latitude, address.longitude)  # fmt: skip
        assert application.site_address == address.single_line and application.ward
    # Editing shows the address chosen in the list.
    soup = check_html(client.get("/staff/planning/applications/26-07777-HOU"))
    assert soup.select_one("select#uprn option[selected]")["value"] == address.uprn


def test_status_change_feeds_tracking_and_timeline(app):
    client = _officer_client(app)
    with app.app_context():
        application = make_application()
        tracker = services.start_tracking(application, "follower@example.com", None)
        services.confirm_subscription(tracker)
        db.session.commit()
        slug = application.slug
    url = f"/staff/planning/applications/{slug}"
    token = csrf_token(client, url)
    missing = client.post(f"{url}/status", data={"csrf_token": token, "status": "decided"})
    assert "Select the decision" in " ".join(error_summary(check_html(missing)))
    ok = client.post(
        f"{url}/status",
        data={
            "csrf_token": token,
            "status": "decided",
            "decision": "Approved",
            "decision_type": "Delegated",
            "note": "Approved under delegated powers",
        },
    )
    assert ok.status_code == 302
    with app.app_context():
        application = services.get_by_slug(slug)
        assert (
            application.status == "decided"
            and application.decision == "Approved"
            and application.decision_date
        )
        assert application.events[-1].note == "Approved under delegated powers"
        mail = db.session.scalars(
            select(OutboxEmail).where(
                OutboxEmail.to_address == "follower@example.com",
                OutboxEmail.subject.like("%Decided%"),
            )
        ).one()
        assert "Approved" in mail.body_text
    page = client.get(f"/planning/applications/{slug}").get_data(as_text=True)
    assert "Approved under delegated powers" in page


def test_document_upload(app):
    client = _officer_client(app)
    with app.app_context():
        slug = make_application().slug
        db.session.commit()
    url = f"/staff/planning/applications/{slug}"
    token = csrf_token(client, url)
    bad = client.post(
        f"{url}/documents",
        data={"csrf_token": token, "title": "Plan", "file": (io.BytesIO(b"MZ..."), "plan.exe")},
        content_type="multipart/form-data",
    )
    assert "must be a PDF, PNG or JPG" in " ".join(error_summary(check_html(bad)))
    fake = client.post(
        f"{url}/documents",
        data={"csrf_token": token, "title": "Plan", "file": (io.BytesIO(b"not a pdf"), "plan.pdf")},
        content_type="multipart/form-data",
    )
    assert "not a PDF" in " ".join(error_summary(check_html(fake)))
    ok = client.post(
        f"{url}/documents",
        data={
            "csrf_token": token,
            "title": "Site plan",
            "document_type": "Plans",
            "file": (io.BytesIO(b"%PDF-1.7 plan"), "plan.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    with app.app_context():
        doc = db.session.scalars(select(PlanningDocument)).one()
        assert doc.storage_key.startswith("planning/") and doc.content_type == "application/pdf"
        doc_id = doc.id
    assert (
        app.test_client().get(f"/planning/applications/{slug}/documents/{doc_id}").data
        == b"%PDF-1.7 plan"
    )


def test_alert_counts_by_ward(app):
    client = _officer_client(app)
    with app.app_context():
        make_alert(services.ward_area("Castle"))
        make_alert(services.ward_area("Castle"))
        radius_alert()
        make_alert(services.ward_area("Abbey"), confirm=False)
        db.session.commit()
        assert db.session.scalars(select(PlanningAlert)).all()
    soup = get_page(client, "planning_staff.alert_counts")
    rows = {
        tr.th.get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in soup.select("tbody tr")
    }
    assert rows["Castle"] == ["2", "0", "0"]
    assert rows["Abbey"] == ["0", "0", "0"]
    assert rows["Millbrook"] == ["0", "1", "0"]


def test_demo_loader_is_quick_complete_and_idempotent(app):
    import time

    from sqlalchemy import func

    from portal.common.gazetteer.demo import load_demo_gazetteer
    from portal.planning.demo import DEMO_COUNT, load_demo_planning
    from portal.planning.models import PlanningApplication, PlanningComment

    with app.app_context():
        load_demo_gazetteer()
        started = time.perf_counter()
        load_demo_planning()
        elapsed = time.perf_counter() - started
        assert (
            db.session.scalar(select(func.count()).select_from(PlanningApplication)) == DEMO_COUNT
        )
        statuses = set(db.session.scalars(select(PlanningApplication.status).distinct()))
        assert statuses == set(PlanningApplication.STATUSES)
        wards = set(db.session.scalars(select(PlanningApplication.ward).distinct()))
        assert len(wards) == 6
        assert db.session.scalar(select(func.count()).select_from(PlanningComment)) > 100
        assert (
            db.session.scalar(select(func.count()).select_from(PlanningDocument)) >= 2 * DEMO_COUNT
        )
        assert db.session.scalar(select(func.count()).select_from(PlanningAlert)) > 10
        assert load_demo_planning() == [f"{DEMO_COUNT} applications already present"]
        print(f"demo planning loaded in {elapsed:.2f}s")
