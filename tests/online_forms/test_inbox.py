"""The submissions inbox: filters, workflow, assignment, CSV, files, digest, tell us once."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from portal.common.clock import govuk_date, uk_today
from portal.common.models import OutboxEmail
from portal.extensions import db
from portal.online_forms.models import FormSubmission, OfficeMember, OnlineForm
from tests.helpers.auth import client_for, make_user
from tests.helpers.authz import AccessCase, assert_access_matrix
from tests.helpers.pages import check_html, csrf_token, error_summary
from tests.online_forms.conftest import ADDRESS
from tests.online_forms.test_runner import complete_missed_bin


def officer_in(app, *offices, email=None):
    user = make_user(app, email, roles=("officer",), name="Olive Officer")
    with app.app_context():
        for office in offices:
            db.session.add(OfficeMember(user_id=user.id, office=office))
        db.session.commit()
    return user


def submitted(demo, runner_for, owner=None):
    client = client_for(demo, owner) if owner else demo.test_client()
    runner = runner_for("report-missed-bin", client)
    response = complete_missed_bin(runner)
    reference = response.headers["Location"].rsplit("/", 1)[1]
    return reference, client


def test_inbox_workflow_with_email_notes_and_assignment(demo, runner_for):
    reference, _ = submitted(demo, runner_for)
    officer = officer_in(demo, "Waste services")
    colleague = officer_in(demo, "Waste services", email="colleague@example.com")
    client = client_for(demo, officer)
    soup = check_html(client.get("/staff/forms"))
    assert reference in soup.get_text()
    url = f"/staff/forms/submissions/{reference}"
    soup = check_html(client.get(url))
    assert "Recycling" in soup.get_text()
    token = csrf_token(client, url)
    # rejecting needs a note
    bad = client.post(url + "/status", data={"csrf_token": token, "status": "rejected", "note": ""})
    assert bad.status_code == 400
    assert error_summary(check_html(bad)) == ["Enter a note to say why the request is rejected"]
    ok = client.post(
        url + "/status",
        data={"csrf_token": token, "status": "in_progress", "note": "Crew booked for tomorrow."},
    )
    assert ok.status_code == 303
    client.post(url + "/assign", data={"csrf_token": token, "assignee": str(colleague.id)})
    client.post(url + "/note", data={"csrf_token": token, "text": "Called the resident."})
    client.post(
        url + "/status", data={"csrf_token": token, "status": "resolved", "note": "Bin emptied."}
    )
    with demo.app_context():
        item = db.session.scalar(select(FormSubmission))
        assert item.status == "resolved" and item.assigned_to_id == colleague.id
        assert [(n.from_status, n.to_status) for n in item.notes] == [
            ("received", "in_progress"),
            (None, None),
            ("in_progress", "resolved"),
        ]
        subjects = [
            e.subject
            for e in db.session.scalars(
                select(OutboxEmail).where(OutboxEmail.to_address == "res@example.com")
            )
        ]
        assert any("is in progress" in s for s in subjects) and any(
            "is resolved" in s for s in subjects
        )
    # the resident sees the status
    with demo.app_context():
        pass
    # a move the workflow does not allow is refused
    bad = client.post(url + "/status", data={"csrf_token": token, "status": "received"})
    assert bad.status_code == 400


def test_inbox_filters(demo, runner_for):
    first, _ = submitted(demo, runner_for)
    second, _ = submitted(demo, runner_for)
    with demo.app_context():
        old = db.session.scalar(select(FormSubmission).where(FormSubmission.reference == second))
        old.due_on = uk_today() - timedelta(days=3)
        db.session.commit()
    client = client_for(demo, officer_in(demo, "Waste services"))
    text = check_html(client.get("/staff/forms?overdue=yes")).get_text()
    assert second in text and first not in text
    text = check_html(client.get("/staff/forms?status=resolved")).get_text()
    assert first not in text and "No submissions match" in text
    today = uk_today()
    boxes = "&".join(
        f"{end}-{part}={getattr(today, part)}"
        for end in ("from", "to")
        for part in ("day", "month", "year")
    )
    text = check_html(client.get(f"/staff/forms?{boxes}")).get_text()
    assert first in text and second in text
    # a bookmark from before the date boxes still filters
    text = check_html(client.get(f"/staff/forms?from={today.isoformat()}")).get_text()
    assert first in text
    bad = check_html(client.get("/staff/forms?from-day=31&from-month=2&from-year=2026&q=WS"))
    assert error_summary(bad) == ["Sent from must be a real date"]
    # the other filters and what was typed stay in the form
    assert bad.find("input", id="q")["value"] == "WS"
    assert bad.find("input", id="from-day")["value"] == "31"
    bad = check_html(client.get("/staff/forms?from-day=3&from-year=2026"))
    assert error_summary(bad) == ["Sent from must include a month"]
    assert bad.select_one(".govuk-error-summary a")["href"] == "#from-month"
    later = today + timedelta(days=2)
    bad = check_html(
        client.get(
            f"/staff/forms?from-day={later.day}&from-month={later.month}&from-year={later.year}"
            f"&to-day={today.day}&to-month={today.month}&to-year={today.year}"
        )
    )
    assert error_summary(bad) == [f"Sent to must be the same as or after {govuk_date(later)}"]
    # the htmx request gets the search block (errors, form, results), not a whole page
    fragment = client.get("/staff/forms?overdue=yes", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "<html" not in fragment and second in fragment
    # an officer of another office sees none of them
    parking = client_for(demo, officer_in(demo, "Parking services"))
    assert first not in parking.get("/staff/forms").get_data(as_text=True)


def test_csv_export_per_version(demo, runner_for):
    reference, _ = submitted(demo, runner_for)
    client = client_for(demo, officer_in(demo, "Waste services"))
    with demo.app_context():
        form_id = db.session.scalar(
            select(OnlineForm.id).where(OnlineForm.slug == "report-missed-bin")
        )
    response = client.get(f"/staff/forms/export/{form_id}.csv?version=1")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:5] == ["Reference", "Submitted", "Status", "Channel", "Email"]
    assert "Which bin was missed?" in rows[0]
    assert rows[1][0] == reference and "Recycling" in rows[1]
    assert (
        client_for(demo, officer_in(demo, "Libraries"))
        .get(f"/staff/forms/export/{form_id}.csv")
        .status_code
        == 403
    )


def test_daily_digest_per_office(demo, runner_for):
    submitted(demo, runner_for)
    officer_in(demo, "Waste services", email="waste@example.com")
    officer_in(demo, "Libraries", email="books@example.com")
    from portal.online_forms.jobs import daily_forms_digest

    with demo.app_context():
        daily_forms_digest.call_local()
        emails = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.subject.like("Daily forms digest%"))
        ).all()
        recipients = {e.to_address for e in emails}
        assert "waste@example.com" in recipients and "books@example.com" not in recipients
        body = next(e.body_text for e in emails if e.to_address == "waste@example.com")
        assert "1 new and 0 overdue" in body


def test_files_only_for_submitter_and_office(demo, runner_for):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (10, 10), "blue").save(out, format="JPEG")
    runner = runner_for("report-fly-tipping")
    url = runner.start()
    url = runner.answer(url, {"location_lat": "52.95", "location_lng": "-1.5"})
    url = runner.answer(url, {"waste": ["furniture"]})
    url = runner.answer(url, {"size": "a-car-boot-load"})
    url = runner.post(
        url, {"photos": (io.BytesIO(out.getvalue()), "tip.jpg")}, content_type="multipart/form-data"
    ).headers["Location"]
    url = runner.answer(url, {"details": "Sofa on the verge"})
    response = runner.submit()
    with demo.app_context():
        item = db.session.scalar(select(FormSubmission))
        file_id = item.files[0].id
        assert item.latitude == 52.95
    file_url = f"/forms/files/{file_id}"
    assert runner.client.get(file_url).status_code == 200
    assert client_for(demo, officer_in(demo, "Waste services")).get(file_url).status_code == 200
    assert client_for(demo, officer_in(demo, "Libraries")).get(file_url).status_code == 404
    assert demo.test_client().get(file_url).status_code == 404
    assert client_for(demo, make_user(demo)).get(file_url).status_code == 404
    assert response.status_code == 303


def test_inbox_authorisation_matrix(demo, runner_for):
    owner = make_user(demo, "owner@example.com")
    reference, _ = submitted(demo, runner_for, owner)
    with demo.app_context():
        form_id = db.session.scalar(
            select(OnlineForm.id).where(OnlineForm.slug == "report-missed-bin")
        )
    actors = {
        "owner": owner,
        "other_resident": make_user(demo, "other@example.com"),
        "staff_with_role": officer_in(demo, "Waste services"),
        "staff_without_role": make_user(demo, roles=("planning",)),
        "anonymous": None,
    }
    # signed-out people go to sign-in once the accounts slice sets the login view; 401 before
    anonymous = 302 if demo.login_manager.login_view else 401
    staff_only = {
        "owner": 403,
        "other_resident": 403,
        "staff_with_role": 200,
        "staff_without_role": 403,
        "anonymous": anonymous,
    }
    posted = {**staff_only, "staff_with_role": 303}
    base = f"/staff/forms/submissions/{reference}"
    assert_access_matrix(
        demo,
        actors,
        [
            AccessCase("GET", "/staff/forms", staff_only),
            AccessCase("GET", base, staff_only),
            AccessCase("GET", f"/staff/forms/export/{form_id}.csv", staff_only),
            AccessCase("POST", base + "/note", posted, {"text": "Checked"}),
            AccessCase("POST", base + "/assign", posted, {"assignee": ""}),
            AccessCase("POST", base + "/status", posted, {"status": "in_progress"}),
            AccessCase(
                "GET",
                f"/forms/requests/{reference}",
                {
                    "owner": 200,
                    "other_resident": 404,
                    "staff_with_role": 200,
                    "staff_without_role": 404,
                    "anonymous": 302,  # to sign in, saying nothing of whether it exists
                },
            ),
            AccessCase(
                "GET",
                f"/forms/report-missed-bin/done/{reference}",
                {
                    "owner": 200,
                    "other_resident": 404,
                    "staff_with_role": 200,
                    "staff_without_role": 404,
                    "anonymous": 404,
                },
            ),
        ],
    )
    # an officer of another office is refused the submission itself
    other_office = client_for(demo, officer_in(demo, "Libraries"))
    assert other_office.get(base).status_code == 403


def test_tell_us_once_parts(demo, runner_for):
    owner = make_user(demo, "mover@example.com")
    runner = runner_for("i-have-moved", client_for(demo, owner))
    url = runner.start()
    url = runner.answer(url, {"old_address_postcode": "CK1 1AB", "old_address": "100090000001"})
    url = runner.answer(
        url,
        {
            "new_address_postcode": "CK1 1AB",
            "new_address_line1": "9 New Street",
            "new_address_town": "Castlebrook",
            "new_address_manual_postcode": "CK2 9ZZ",
        },
    )
    url = runner.answer(url, {"moved_on-day": "1", "moved_on-month": "10", "moved_on-year": "2026"})
    url = runner.answer(url, {"name": "Mo Ver", "email_address": "mover@example.com"})
    missing = runner.submit({}, expect=400)
    assert error_summary(check_html(missing)) == [
        "Confirm that the information you have given is correct"
    ]
    response = runner.submit({"declaration": "yes"})
    reference = response.headers["Location"].rsplit("/", 1)[1]
    with demo.app_context():
        item = db.session.scalar(select(FormSubmission))
        assert [p.office for p in item.parts] == [
            "Council tax",
            "Electoral services",
            "Waste services",
            "Parking services",
            "Libraries",
        ]
        assert item.answers["new_address"]["text"] == "9 New Street, Castlebrook, CK2 9ZZ"
    tax = client_for(demo, officer_in(demo, "Council tax"))
    soup = check_html(tax.get("/staff/forms"))
    assert reference in soup.get_text()
    detail = check_html(tax.get(f"/staff/forms/submissions/{reference}"))
    forms = detail.select("form[action*='/parts/']")
    assert len(forms) == 1  # only its own part
    token = csrf_token(tax, f"/staff/forms/submissions/{reference}")
    assert tax.post(forms[0]["action"], data={"csrf_token": token}).status_code == 303
    progress = check_html(runner.client.get(f"/forms/requests/{reference}")).get_text()
    assert "Council tax" in progress and "Updated" in progress and "Waiting" in progress
    # closing someone else's part is refused
    with demo.app_context():
        other_part = db.session.scalar(select(FormSubmission)).parts[1].id
    assert (
        tax.post(
            f"/staff/forms/submissions/{reference}/parts/{other_part}/close",
            data={"csrf_token": token},
        ).status_code
        == 403
    )
    # when every department has closed its part, the submission is resolved
    everyone = client_for(
        demo,
        officer_in(demo, "Electoral services", "Waste services", "Parking services", "Libraries"),
    )
    token = csrf_token(everyone, f"/staff/forms/submissions/{reference}")
    with demo.app_context():
        ids = [p.id for p in db.session.scalar(select(FormSubmission)).parts[1:]]
    for part_id in ids:
        everyone.post(
            f"/staff/forms/submissions/{reference}/parts/{part_id}/close",
            data={"csrf_token": token},
        )
    with demo.app_context():
        assert db.session.scalar(select(FormSubmission)).status == "resolved"


def test_manual_address_outside_area_is_refused(demo, runner_for):
    runner = runner_for("i-have-moved")
    url = runner.start()
    url = runner.answer(
        url, ADDRESS | {"old_address_postcode": "CK1 1AB", "old_address": "100090000001"}
    )
    bad = runner.post(
        url,
        {
            "new_address_line1": "1 High St",
            "new_address_town": "London",
            "new_address_manual_postcode": "SW1A 1AA",
        },
        expect=400,
    )
    assert error_summary(check_html(bad)) == ["Enter a postcode in the Castlebrook Council area"]
    assert check_html(bad).select_one("#new_address-line1")["value"] == "1 High St"


def test_admin_sets_officers_offices(demo):
    officer = officer_in(demo, "Libraries")
    admin = client_for(demo, make_user(demo, roles=("admin",)))
    check_html(admin.get("/staff/forms/offices"))
    token = csrf_token(admin, "/staff/forms/offices")
    response = admin.post(
        "/staff/forms/offices",
        data={"csrf_token": token, f"offices-{officer.id}": ["Waste services", "Council tax"]},
    )
    assert response.status_code == 303
    with demo.app_context():
        offices = db.session.scalars(
            select(OfficeMember.office).where(OfficeMember.user_id == officer.id)
        ).all()
        assert sorted(offices) == ["Council tax", "Waste services"]
    assert client_for(demo, officer).get("/staff/forms/offices").status_code == 403
