"""Staff flows: create, edit, bad input, interactions, publish, history, reviews, alerts, reports."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.common.clock import govuk_date, uk_today
from portal.common.delivery import set_portal_delivery
from portal.common.models import AuditEvent, OutboxEmail
from portal.council_services.models import Bvpi157Snapshot, Interaction, Service, ServiceVersion
from portal.extensions import db
from tests.council_services.factories import make_service
from tests.helpers.auth import client_for, make_user
from tests.helpers.authz import AccessCase, assert_access_matrix
from tests.helpers.pages import check_html, csrf_token, error_summary, get_page


def service_form(**overrides: object) -> dict:
    due = uk_today() + timedelta(days=200)
    data = {
        "name": "Garden waste",
        "lgsl": "530",
        "summary": "Subscribe to garden waste collections.",
        "body": "## Prices\n\n* £50 a year",
        "synonyms": "green bin, garden bin",
        "topics": ["bins-and-recycling"],
        "department": "Environment",
        "owner_id": "",
        "phone": "01632 960101",
        "email": "waste@example.com",
        "address": "",
        "opening_hours": "",
        "related_links": "GOV.UK | https://www.gov.uk/",
        "review_due": [str(due.day), str(due.month), str(due.year)],
        "status_notice": "",
    }
    data.update(overrides)
    return data


def interaction_form(**rows: dict) -> dict:
    data: dict = {}
    for lgil in range(10):
        data[f"lgil-{lgil}-state"] = "none"
    for key, value in rows.items():
        data[key] = value
    return data


def test_editor_creates_edits_publishes_and_history_shows_who(app) -> None:
    editor = make_user(app, "eve@example.com", roles=("editor",))
    client = client_for(app, editor)
    get_page(client, "council_services_staff.index")
    get_page(client, "council_services_staff.new")
    token = csrf_token(client, "/staff/services/new")
    response = client.post("/staff/services/new", data=service_form(csrf_token=token))
    assert response.status_code == 302, error_summary(check_html(response))
    with app.app_context():
        service = db.session.scalar(select(Service).where(Service.lgsl == 530))
        assert service.slug == "garden-waste" and not service.published
        assert service.related_links == [{"text": "GOV.UK", "url": "https://www.gov.uk/"}]
        service_id = service.id
    soup = get_page(client, "council_services_staff.edit", service_id=service_id)
    assert soup.find("input", attrs={"name": "name"})["value"] == "Garden waste"
    response = client.post(
        f"/staff/services/{service_id}/edit",
        data=service_form(name="Garden waste collection", csrf_token=token),
    )
    assert response.status_code == 302
    client.post(
        f"/staff/services/{service_id}/publish", data={"action": "publish", "csrf_token": token}
    )
    assert client.get("/services/garden-waste").status_code == 200
    soup = get_page(client, "council_services_staff.history", service_id=service_id)
    text = soup.get_text(" ", strip=True)
    assert "published by eve@example.com" in text
    assert "edited by eve@example.com" in text and "Garden waste collection" in text
    assert "GOV.UK (https://www.gov.uk/)" in text  # stored links read as words, not a dict
    with app.app_context():
        actions = [v.action for v in db.session.scalars(select(ServiceVersion))]
        assert actions == ["created", "edited", "published"]
        audit = db.session.scalars(select(AuditEvent.action)).all()
        assert "council_service.published" in audit
    get_page(client, "council_services_staff.preview", service_id=service_id)


def test_bad_input_on_the_service_form(app) -> None:
    editor = make_user(app, roles=("editor",))
    with app.app_context():
        make_service("Household waste collection", 524)
    client = client_for(app, editor)
    token = csrf_token(client, "/staff/services/new")
    response = client.post(
        "/staff/services/new",
        data=service_form(
            lgsl="524",
            email="not-an-email",
            related_links="no link here",
            review_due=["31", "2", "2027"],
            csrf_token=token,
        ),
    )
    assert response.status_code == 200
    soup = check_html(response)
    errors = error_summary(soup)
    assert any("LGSL number 524 is already used by Household waste collection" in e for e in errors)
    assert any("email address in the correct format" in e for e in errors)
    assert any("Line 1 of related links" in e for e in errors)
    assert any("review date as a real date" in e for e in errors)
    assert soup.find("input", attrs={"name": "name"})["value"] == "Garden waste"  # answers kept
    assert soup.title.get_text().startswith("Error:")
    response = client.post(
        "/staff/services/new", data=service_form(name="", lgsl="abc", csrf_token=token)
    )
    errors = error_summary(check_html(response))
    assert "Enter the service name" in errors
    assert "Enter the LGSL number as a whole number, like 524" in errors


def test_interactions_bad_input_and_save(app) -> None:
    editor = make_user(app, roles=("editor",))
    with app.app_context():
        service_id = make_service("Allotments", 510).id
    client = client_for(app, editor)
    url = f"/staff/services/{service_id}/interactions"
    get_page(client, "council_services_staff.interactions", service_id=service_id)
    token = csrf_token(client, url)
    past_day = uk_today() - timedelta(days=3)
    past = {"day": str(past_day.day), "month": str(past_day.month), "year": str(past_day.year)}
    soon = uk_today() + timedelta(days=30)
    bad = interaction_form(
        **{
            "lgil-0-state": "applicable",
            "lgil-0-permissible": "no",
            "lgil-0-reason": "",
            "lgil-2-state": "applicable",
            "lgil-2-permissible": "yes",
            "lgil-2-enabled": "yes",
            "lgil-4-state": "applicable",
            "lgil-4-permissible": "yes",
            "lgil-4-enabled": "no",
            **{f"lgil-4-target-{k}": v for k, v in past.items()},
            "lgil-8-state": "applicable",
            "lgil-8-permissible": "yes",
            "lgil-8-enabled": "no",
            "lgil-8-target-day": "next",
            "lgil-8-target-month": "week",
            "csrf_token": token,
        }
    )
    response = client.post(url, data=bad)
    assert response.status_code == 200
    soup = check_html(response)
    errors = error_summary(soup)
    assert "Enter why applications for service cannot legally be done electronically" in errors
    assert any("Select the channels that complete collecting revenue" in e for e in errors)
    assert any(
        "target date for paying for goods and services must be today or in" in e for e in errors
    )
    assert "The target date for providing information must be a real date" in errors
    # a GOV.UK date input keeps what was typed, and the summary links to its day box
    for part, value in past.items():
        assert soup.find("input", attrs={"name": f"lgil-4-target-{part}"})["value"] == value
    assert soup.select_one("a[href='#lgil-8-target-day']") is not None
    assert soup.find(id="lgil-8-target-day") is not None
    assert soup.select_one("a[href='#lgil-0-reason']") is not None
    assert soup.find(id="lgil-0-reason") is not None
    with app.app_context():
        assert db.session.scalars(select(Interaction)).all() == []

    good = interaction_form(
        **{
            "lgil-0-state": "applicable",
            "lgil-0-permissible": "no",
            "lgil-0-reason": "Tenancy agreement signed in person",
            "lgil-2-state": "applicable",
            "lgil-2-permissible": "yes",
            "lgil-2-enabled": "yes",
            "lgil-2-channels": ["web", "phone"],
            "lgil-2-since-day": "1",
            "lgil-2-since-month": "4",
            "lgil-2-since-year": "2025",
            "lgil-4-state": "not_applicable",
            "lgil-8-state": "applicable",
            "lgil-8-enabled": "no",
            "lgil-8-target-day": str(soon.day),
            "lgil-8-target-month": str(soon.month),
            "lgil-8-target-year": str(soon.year),
            "lgil-8-officer": "Sam Patel",
            "lgil-8-officer-department": "Parks",
            "csrf_token": token,
        }
    )
    assert client.post(url, data=good).status_code == 302
    with app.app_context():
        rows = {i.lgil: i for i in db.session.scalars(select(Interaction))}
        assert set(rows) == {0, 2, 4, 8}
        assert rows[0].exclusion_reason == "Tenancy agreement signed in person"
        assert rows[2].e_enabled and rows[2].channels == ["web", "phone"]
        assert rows[2].enabled_since == date(2025, 4, 1)
        assert not rows[4].applicable
        assert rows[8].owner_label == "Sam Patel, Parks" and rows[8].target_date == soon
        versions = db.session.scalars(select(ServiceVersion)).all()
        assert versions[-1].action == "interactions" and "interactions" in versions[-1].changes
    history = get_page(client, "council_services_staff.history", service_id=service_id)
    assert (
        "Collecting revenue: applies, e-enabled (Web, Phone (officer works on live records)),"
        " since 1 April 2025" in history.get_text(" ", strip=True)
    )
    # removing a type deletes its row
    assert client.post(url, data=interaction_form(csrf_token=token)).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Interaction)).all() == []


def test_interactions_page_shows_portal_delivery(app) -> None:
    editor = make_user(app, roles=("editor",))
    with app.app_context():
        service_id = make_service("Housing repairs", 141, [{"lgil": 0}]).id
        set_portal_delivery("repairs", "installed", 141, 0, "Report a repair", "/repairs")
        db.session.commit()
    soup = get_page(
        client_for(app, editor), "council_services_staff.interactions", service_id=service_id
    )
    assert "Delivered by this website now" in soup.get_text()


def test_owner_edits_own_service_but_cannot_publish_or_reassign(app) -> None:
    owner = make_user(app, "owner@example.com", roles=("officer",))
    other = make_user(app, "other@example.com", roles=("officer",))
    with app.app_context():
        service_id = make_service("Pest control", 431, owner_id=owner.id, published=False).id
    client = client_for(app, owner)
    soup = get_page(client, "council_services_staff.index")
    assert "Pest control" in soup.get_text()
    url = f"/staff/services/{service_id}/edit"
    token = csrf_token(client, url)
    response = client.post(
        url,
        data=service_form(
            name="Pest control", lgsl="431", owner_id=str(other.id), csrf_token=token
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Service, service_id).owner_id == owner.id
    response = client.post(
        f"/staff/services/{service_id}/publish", data={"action": "publish", "csrf_token": token}
    )
    assert response.status_code == 403


def test_inline_status_notice_with_and_without_htmx(app) -> None:
    editor = make_user(app, roles=("editor",))
    with app.app_context():
        service_id = make_service("Household waste collection", 524).id
    client = client_for(app, editor)
    url = f"/staff/services/{service_id}/notice"
    token = csrf_token(client, f"/staff/services/{service_id}/edit")
    response = client.post(
        url,
        data={"status_notice": "Delayed by snow", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and "Status notice saved" in body
    response = client.post(url, data={"status_notice": "Back to normal", "csrf_token": token})
    assert response.status_code == 302
    assert "Back to normal" in client.get("/services/household-waste-collection").get_data(
        as_text=True
    )
    response = client.post(url, data={"status_notice": "x" * 400, "csrf_token": token})
    assert response.status_code == 200
    assert "Status notice must be 300 characters or fewer" in error_summary(check_html(response))


def test_review_reminders_are_sent_once_per_date(app) -> None:
    from portal.council_services.jobs import review_reminders

    owner = make_user(app, "owner@example.com", roles=("officer",), name="Olu Owner")
    with app.app_context():
        make_service("Overdue", 1, owner_id=owner.id, review_due=uk_today() - timedelta(days=2))
        make_service("Fine", 2, owner_id=owner.id, review_due=uk_today() + timedelta(days=2))
        make_service("Nobody's", 3, review_due=uk_today() - timedelta(days=2))
        assert review_reminders.call_local() == 1
        assert review_reminders.call_local() == 0
        (email,) = db.session.scalars(select(OutboxEmail)).all()
        assert email.to_address == "owner@example.com" and "Overdue" in email.subject
    editor = make_user(app, roles=("editor",))
    soup = get_page(client_for(app, editor), "council_services_staff.needs_review")
    text = soup.get_text()
    assert "Overdue" in text and "Nobody's" in text and "Fine" not in text


def test_alert_banner_shows_site_wide_in_its_window(app) -> None:
    editor = make_user(app, roles=("editor",))
    client = client_for(app, editor)
    get_page(client, "council_services_staff.alerts")
    token = csrf_token(client, "/staff/services/alerts")
    response = client.post(
        "/staff/services/alerts",
        data={
            "title": "",
            "message": "",
            "severity": "warning",
            "starts_at-day": "31",
            "starts_at-month": "2",
            "starts_at-year": "2027",
            "ends_at-time": "25:00",
            "csrf_token": token,
        },
    )
    soup = check_html(response)
    errors = error_summary(soup)
    assert errors == [
        "Enter a title for the alert",
        "Enter the alert message",
        "The start date must be a real date",
        "Enter a real time, like 7am or 19:30",
    ]
    links = [a["href"] for a in soup.select(".govuk-error-summary a")]
    assert links[2:] == ["#starts_at-day", "#ends_at-time"]
    # what was typed stays in the boxes
    assert soup.find("input", id="starts_at-day")["value"] == "31"
    assert soup.find("input", id="ends_at-time")["value"] == "25:00"
    response = client.post(
        "/staff/services/alerts",
        data={
            "title": "Backwards",
            "message": "Ends first",
            "severity": "warning",
            "starts_at-day": "3",
            "starts_at-month": "1",
            "starts_at-year": "2099",
            "ends_at-day": "2",
            "ends_at-month": "1",
            "ends_at-year": "2099",
            "csrf_token": token,
        },
    )
    assert error_summary(check_html(response)) == ["The end must be after the start"]
    response = client.post(
        "/staff/services/alerts",
        data={
            "title": "Snow",
            "message": "Bins are delayed",
            "severity": "warning",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    later = uk_today() + timedelta(days=3)
    client.post(
        "/staff/services/alerts",
        data={
            "title": "Future",
            "message": "Not yet",
            "severity": "information",
            "starts_at-day": str(later.day),
            "starts_at-month": str(later.month),
            "starts_at-year": str(later.year),
            "starts_at-time": "7:30am",
            "csrf_token": token,
        },
    )
    listed = check_html(client.get("/staff/services/alerts")).get_text()
    assert f"{govuk_date(later)} at 7:30am to no end" in listed
    home = check_html(app.test_client().get("/"))
    banners = [h.get_text() for h in home.select(".govuk-notification-banner__title")]
    assert "Snow" in banners and "Future" not in banners
    with app.app_context():
        from portal.council_services.models import SiteAlert

        alert_id = db.session.scalar(select(SiteAlert.id).where(SiteAlert.title == "Snow"))
    client.post(f"/staff/services/alerts/{alert_id}/end", data={"csrf_token": token})
    assert "Snow" not in app.test_client().get("/").get_data(as_text=True)


def test_snapshot_on_demand_export_and_searches_report(app) -> None:
    editor = make_user(app, roles=("editor",))
    with app.app_context():
        make_service(
            "Council tax",
            57,
            [
                {"lgil": 2, "e_enabled": True, "channels": ["web"]},
                {"lgil": 0, "permissible": False, "exclusion_reason": "A reason, with a comma"},
            ],
        )
    client = client_for(app, editor)
    token = csrf_token(client, "/staff/services")
    assert client.post("/staff/services/snapshot", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        snap = db.session.scalars(select(Bvpi157Snapshot)).one()
        assert snap.source == "staff" and snap.percent == 100.0
    response = client.get("/staff/services/export.csv")
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("LGSL,Service,Department,LGIL")
    assert len(lines) == 3 and '"A reason, with a comma"' in lines[1] + lines[2]
    app.test_client().get("/services/search?q=unicorns")
    soup = get_page(client, "council_services_staff.searches")
    assert "unicorns" in soup.get_text()


def test_authorisation_matrix(app) -> None:
    owner = make_user(app, roles=("officer",))
    resident = make_user(app)
    editor = make_user(app, roles=("editor",))
    planner = make_user(app, roles=("planning",))
    with app.app_context():
        sid = make_service("Pest control", 431, owner_id=owner.id).id
        from portal.council_services.models import SiteAlert

        alert = SiteAlert(title="T", message="M", severity="information")
        db.session.add(alert)
        db.session.commit()
        alert_id = alert.id
    anonymous = 302 if app.login_manager.login_view else 401  # sign-in pages may not be installed
    actors = {
        "owner": owner,
        "other_resident": resident,
        "staff_with_role": editor,
        "staff_without_role": planner,
    }
    own = {
        "owner": 200,
        "other_resident": 403,
        "staff_with_role": 200,
        "staff_without_role": 403,
        "anonymous": anonymous,
    }
    editor_only = {
        "owner": 403,
        "other_resident": 403,
        "staff_with_role": 200,
        "staff_without_role": 403,
        "anonymous": anonymous,
    }
    editor_redirect = dict(editor_only, staff_with_role=302)
    own_redirect = dict(own, owner=302, staff_with_role=302)
    assert_access_matrix(
        app,
        actors,
        [
            AccessCase("GET", "/staff/services", dict(own, staff_without_role=200)),
            AccessCase("GET", "/staff/services/new", editor_only),
            AccessCase("GET", f"/staff/services/{sid}/edit", own),
            AccessCase("GET", f"/staff/services/{sid}/interactions", own),
            AccessCase("GET", f"/staff/services/{sid}/preview", own),
            AccessCase("GET", f"/staff/services/{sid}/history", own),
            AccessCase(
                "POST", f"/staff/services/{sid}/notice", own_redirect, {"status_notice": "x"}
            ),
            AccessCase("POST", f"/staff/services/{sid}/reviewed", own_redirect),
            AccessCase(
                "POST", f"/staff/services/{sid}/publish", editor_redirect, {"action": "unpublish"}
            ),
            AccessCase("GET", "/staff/services/needs-review", editor_only),
            AccessCase("GET", "/staff/services/searches", editor_only),
            AccessCase("GET", "/staff/services/alerts", editor_only),
            AccessCase("POST", f"/staff/services/alerts/{alert_id}/end", editor_redirect),
            AccessCase("POST", "/staff/services/snapshot", editor_redirect),
            AccessCase("GET", "/staff/services/export.csv", editor_only),
        ],
    )
    # a manager may take snapshots and export the return, but not edit pages
    manager = make_user(app, roles=("manager",))
    client = client_for(app, manager)
    assert client.get("/staff/services/export.csv").status_code == 200
    assert client.get(f"/staff/services/{sid}/edit").status_code == 403
    assert client.get("/staff/services/999999/edit").status_code == 404
