"""Register, weekly lists, application pages, comments with moderation and deadline, tracking."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from portal.common import clock
from portal.common.clock import uk_today
from portal.common.models import OutboxEmail, ServiceTransaction
from portal.extensions import db
from portal.planning import services
from portal.planning.models import PlanningApplication, PlanningComment, PlanningTracker
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import (
    check_email_text,
    check_html,
    csrf_token,
    error_summary,
    get_page,
)
from tests.planning.conftest import make_application


def _add(app, **extra) -> str:
    with app.app_context():
        application = make_application(**extra)
        db.session.commit()
        return application.slug


def test_register_search_filters_and_map_list(app, client):
    slug = _add(app, description="Loft conversion with dormer", app_type="HOU")
    _add(app, description="New shopfront", app_type="ADV", status="decided")
    soup = get_page(client, "planning.register")
    assert "2 applications found" in soup.get_text()
    map_div = soup.find(id="register-map")
    assert map_div is not None and "Loft conversion" not in map_div.get("data-markers", "")
    assert (
        slug.replace("-", "/") in map_div["data-markers"]
    )  # the map has a marker for each listed result
    soup = get_page(client, "planning.register", q="loft")
    assert "1 application found" in soup.get_text()
    soup = get_page(client, "planning.register", q=slug.replace("-", "/"))
    assert "1 application found" in soup.get_text()
    soup = check_html(client.get("/planning?status=decided"))
    assert "New shopfront" in soup.get_text() and "Loft" not in soup.get_text()
    soup = get_page(client, "planning.register", type="HOU", ward="Millbrook")
    assert "Loft" in soup.get_text()
    soup = get_page(client, "planning.register", q="nothing-like-this")
    assert "No applications match" in soup.get_text()


def test_register_bad_date_filter(client):
    response = client.get("/planning?received_from=31/02/2026")
    soup = check_html(response)
    assert error_summary(soup) == ["Received from must be a real date"]
    # the date boxes: a missing part, and a 'to' date before the 'from' date
    soup = check_html(
        client.get("/planning?received_from-day=2&received_from-year=2026&ward=Millbrook")
    )
    assert error_summary(soup) == ["Received from must include a month"]
    assert soup.select_one(".govuk-error-summary a")["href"] == "#received_from-month"
    assert soup.find("option", selected=True, value="Millbrook") is not None
    soup = check_html(
        client.get(
            "/planning?decided_from-day=10&decided_from-month=3&decided_from-year=2026"
            "&decided_to-day=9&decided_to-month=3&decided_to-year=2026"
        )
    )
    assert error_summary(soup) == ["Decided to must be the same as or after 10 March 2026"]
    assert soup.find("input", id="decided_to-day")["value"] == "9"


def test_register_htmx_returns_the_results_fragment(app, client):
    _add(app)
    response = client.get("/planning?q=Test", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert 'id="planning-results"' in body and "<html" not in body


def test_weekly_list(app, client):
    today = uk_today()
    _add(app, received_date=today, description="Received this week")
    _add(
        app,
        received_date=today - timedelta(days=100),
        decision_date=today,
        decision="Refused",
        status="decided",
        description="Decided this week",
    )
    soup = get_page(client, "planning.weekly", week=services.iso_week(today))
    text = soup.get_text()
    assert "Received (1)" in text and "Decided (1)" in text and "Refused" in text
    # a person picks the week by any day in it, typed as a GOV.UK date
    monday = today - timedelta(days=today.weekday())
    soup = get_page(
        client,
        "planning.weekly",
        **{"day-day": today.day, "day-month": today.month, "day-year": today.year},
    )
    assert soup.h1.get_text(" ", strip=True).endswith(
        f"{services.human_date(monday)} to {services.human_date(monday + timedelta(days=6))}"
    )
    assert "Received (1)" in soup.get_text()
    earlier = soup.select_one("a[rel=prev]").get_text(" ", strip=True)
    assert earlier == f"Previous week : Week of {services.human_date(monday - timedelta(days=7))}"
    soup = get_page(
        client, "planning.weekly", **{"day-day": "31", "day-month": "2", "day-year": "2026"}
    )
    assert error_summary(soup) == ["The date must be a real date"]
    soup = get_page(client, "planning.weekly", week="2026-W99")
    assert error_summary(soup) == ["Enter a date in the week you want to see"]


def test_application_page_stable_url_and_deadline(app, client):
    slug = _add(app)
    soup = get_page(client, "planning.application", slug=slug)
    deadline = soup.select_one(".planning-deadline").get_text(" ", strip=True)
    end = uk_today() + timedelta(days=20)
    assert deadline == f"Comments by {end.strftime('%A')} {end.day} {end.strftime('%B %Y')} ."
    assert "Sign in to comment" in soup.get_text()
    assert client.get("/planning/applications/NO-SUCH-APP").status_code == 404
    assert client.get(f"/planning/applications/{slug.lower()}").status_code == 301


def test_comment_moderation_flow(app, client):
    slug = _add(app)
    resident = make_user(app, email="resident@example.com", name="Rosa Resident")
    officer = make_user(app, roles=("planning",))
    rc = client_for(app, resident)
    url = f"/planning/applications/{slug}"
    token = csrf_token(rc, url)
    bad = rc.post(f"{url}/comments", data={"csrf_token": token, "name": "Rosa", "text": "Too big"})
    assert bad.status_code == 400
    soup = check_html(bad)
    assert "Select whether you support, object or are neutral" in " ".join(error_summary(soup))
    assert soup.find("textarea", attrs={"name": "text"}).get_text() == "Too big"
    ok = rc.post(
        f"{url}/comments",
        data={
            "csrf_token": token,
            "name": "Rosa Resident",
            "address": "3 Mill Lane",
            "stance": "object",
            "text": "Too big for the street",
        },
    )
    assert ok.status_code == 302
    with app.app_context():
        comment = db.session.scalars(select(PlanningComment)).one()
        assert comment.state == "pending"
        officer_mail = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == "officer@castlebrook.example")
        ).one()
        assert "Too big for the street" in officer_mail.body_text
        check_email_text(officer_mail.body_text)
        takeup = db.session.scalars(
            select(ServiceTransaction).where(ServiceTransaction.kind == "planning_comment")
        ).all()
        assert [(t.lgsl, t.lgil, t.user_id) for t in takeup] == [(487, 3, resident.id)]
        comment_id = comment.id
    assert "Too big for the street" not in client.get(url).get_data(as_text=True)
    oc = client_for(app, officer)
    soup = get_page(oc, "planning_staff.comments")
    assert "Too big for the street" in soup.get_text()
    response = oc.post(
        f"/staff/planning/comments/{comment_id}",
        data={"csrf_token": csrf_token(oc, "/staff/planning/comments"), "decision": "publish"},
    )
    assert response.status_code == 302
    page = get_page(client, "planning.application", slug=slug)
    assert (
        "Too big for the street" in page.get_text()
        and "Rosa Resident, 3 Mill Lane" in page.get_text()
    )


def test_comment_after_the_deadline_is_refused(app):
    slug = _add(app, consultation_end=uk_today() - timedelta(days=1))
    resident = make_user(app)
    rc = client_for(app, resident)
    url = f"/planning/applications/{slug}"
    soup = get_page(rc, "planning.application", slug=slug)
    assert (
        "Comments closed on" in soup.get_text()
        and soup.find("form", action=f"{url}/comments") is None
    )
    response = rc.post(
        f"{url}/comments",
        data={
            "csrf_token": csrf_token(rc, url),
            "name": "A",
            "address": "B",
            "stance": "support",
            "text": "Late",
        },
    )
    assert response.status_code == 400
    assert "Comments on this application closed on" in " ".join(error_summary(check_html(response)))
    with app.app_context():
        assert db.session.scalars(select(PlanningComment)).all() == []
        assert db.session.scalars(select(ServiceTransaction)).all() == []


def test_the_last_day_of_consultation_ends_at_uk_midnight(app):
    """Comments close at the end of the last day in UK time: at 00:30 BST the next day the UTC
    date is still the last day, but the consultation has closed."""
    slug = _add(
        app,
        received_date=date(2026, 6, 1),
        consultation_start=date(2026, 6, 10),
        consultation_end=date(2026, 7, 1),
    )
    resident = make_user(app)
    rc = client_for(app, resident)
    url = f"/planning/applications/{slug}"

    def post(text: str):  # noqa: ANN202
        fields = {"name": "A", "address": "B", "stance": "support", "text": text}
        return rc.post(f"{url}/comments", data={"csrf_token": csrf_token(rc, url), **fields})

    with clock.frozen_at(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)):  # 23:30 BST on 1 July
        assert post("Just in time").status_code == 302
    with clock.frozen_at(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)):  # 00:30 BST on 2 July
        soup = get_page(rc, "planning.application", slug=slug)
        assert "Comments closed on" in soup.get_text()
        response = post("Too late")
    assert response.status_code == 400
    assert "Comments on this application closed on Wednesday 1 July 2026" in " ".join(
        error_summary(check_html(response))
    )
    with app.app_context():
        texts = db.session.scalars(select(PlanningComment.text)).all()
        assert texts == ["Just in time"]


def test_anonymous_cannot_comment(app, client):
    slug = _add(app)
    url = f"/planning/applications/{slug}"
    response = client.post(
        f"{url}/comments",
        data={
            "csrf_token": csrf_token(client, url),
            "name": "A",
            "address": "B",
            "stance": "support",
            "text": "x",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(PlanningComment)).all() == []


def test_tracking_signed_in_and_by_confirmed_email(app, client):
    slug = _add(app)
    url = f"/planning/applications/{slug}"
    resident = make_user(app, email="tracker@example.com")
    rc = client_for(app, resident)
    assert rc.post(f"{url}/track", data={"csrf_token": csrf_token(rc, url)}).status_code == 302
    # anonymous, by email: nothing is sent until the address is confirmed
    bad = client.post(f"{url}/track", data={"csrf_token": csrf_token(client, url), "email": "nope"})
    assert bad.status_code == 400
    assert "correct format" in " ".join(error_summary(check_html(bad)))
    assert (
        client.post(
            f"{url}/track",
            data={"csrf_token": csrf_token(client, url), "email": "Anon@Example.com"},
        ).status_code
        == 302
    )
    with app.app_context():
        application = services.get_by_slug(slug)
        services.change_status(application, "live", "Consultation extended")
        db.session.commit()

        def mails(to):
            return db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == to)).all()

        assert [m.subject for m in mails("anon@example.com")] == [
            f"Confirm you want updates on planning application {application.reference}"
        ]
        assert any("Live" in m.subject for m in mails("tracker@example.com"))
        anon = db.session.scalars(
            select(PlanningTracker).where(PlanningTracker.email == "anon@example.com")
        ).one()
        token = anon.token
    client.post(
        f"/planning/confirm/{token}",
        data={"csrf_token": csrf_token(client, f"/planning/confirm/{token}")},
    )
    with app.app_context():
        application = services.get_by_slug(slug)
        services.change_status(
            application, "decided", "", decision="Refused", decision_type="Committee"
        )
        db.session.commit()
        decided = db.session.scalars(
            select(OutboxEmail).where(
                OutboxEmail.to_address == "anon@example.com", OutboxEmail.subject.like("%Decided%")
            )
        ).one()
        assert "Decision: Refused (Committee)" in decided.body_text
        check_email_text(decided.body_text)
        assert decided.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        kinds = db.session.scalars(select(ServiceTransaction.kind)).all()
        assert kinds.count("planning_tracking") == 2


def test_document_download_and_link(app, client):
    from portal.common import storage
    from portal.planning.models import PlanningDocument

    slug = _add(app)
    with app.app_context():
        application = services.get_by_slug(slug)
        key = storage.save_bytes(b"%PDF-1.4 test", "planning", "pdf")
        db.session.add(
            PlanningDocument(
                application_id=application.id,
                title="Site plan",
                document_type="Plans",
                document_date=uk_today(),
                storage_key=key,
                content_type="application/pdf",
            )
        )
        db.session.add(
            PlanningDocument(
                application_id=application.id,
                title="Elsewhere",
                document_type="Plans",
                document_date=uk_today(),
                url="https://documents.example/x.pdf",
            )
        )
        db.session.commit()
        ids = [d.id for d in application.documents]
    soup = get_page(client, "planning.application", slug=slug)
    assert "Site plan" in soup.get_text()
    response = client.get(f"/planning/applications/{slug}/documents/{ids[0]}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert (
        client.get(f"/planning/applications/{slug}/documents/{ids[1]}").headers["Location"]
        == "https://documents.example/x.pdf"
    )
    other = _add(app)
    assert client.get(f"/planning/applications/{other}/documents/{ids[0]}").status_code == 404


def test_every_status_has_a_label():
    assert set(PlanningApplication.STATUSES) == {
        "registered",
        "live",
        "decided",
        "withdrawn",
        "invalid",
        "appeal",
        "called_in",
        "referred_to_sos",
        "not_ours",
    }
    assert re.fullmatch(r"24-01234-FUL", PlanningApplication.slug_for("24/01234/FUL"))


def test_register_cache_sees_new_and_changed_applications(app, client):
    _add(app, description="First one")
    assert "1 application found" in get_page(client, "planning.register").get_text()
    slug = _add(app, description="Second one")
    assert "2 applications found" in get_page(client, "planning.register").get_text()
    with app.app_context():
        services.change_status(services.get_by_slug(slug), "withdrawn")
        db.session.commit()
    soup = check_html(client.get("/planning?status=withdrawn"))
    assert "1 application found" in soup.get_text()
    assert "Withdrawn" in get_page(client, "planning.register").get_text()
