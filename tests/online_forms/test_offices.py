"""Staff manage the receiving offices forms send to: add, edit, retire, with audit."""

from __future__ import annotations

from sqlalchemy import select

from portal.common.models import AuditEvent
from portal.extensions import db
from portal.online_forms.models import DEMO_OFFICES, OfficeMember, OnlineForm
from portal.online_forms.models import Office as OfficeRow
from portal.online_forms.services import office_names
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token, error_summary

NEW = "/staff/forms/offices/new"
GOOD = {
    "name": "Planning and building control",
    "address": "Town Hall, Market Street, Castlebrook CK1 1AA",
    "opening_hours": "Monday to Friday, 9am to 5pm",
}


def editor(app):
    return client_for(app, make_user(app, roles=("editor",)))


def post(client, url, data):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def office(app, name: str) -> OfficeRow:
    with app.app_context():
        return db.session.scalar(select(OfficeRow).where(OfficeRow.name == name))


def test_the_list_shows_todays_offices_and_only_staff_see_it(app):
    page = check_html(editor(app).get("/staff/forms/offices/list"))
    rows = [r.select("td")[0].get_text(strip=True) for r in page.select("tbody tr")]
    assert rows == sorted(name for name, _, _ in DEMO_OFFICES)
    assert "Monday to Friday, 8am to 4pm" in page.get_text()
    resident = client_for(app, make_user(app))
    assert resident.get("/staff/forms/offices/list").status_code == 403
    assert resident.get(NEW).status_code == 403


def test_adding_an_office_is_audited_and_forms_can_choose_it(app):
    client = editor(app)
    response = post(client, NEW, GOOD)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/forms/offices/list")
    with app.app_context():
        assert "Planning and building control" in office_names()
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "online_form.office_add")
        )
        assert event.details["address"] == GOOD["address"]
    settings = check_html(client.get("/staff/forms/builder/new"))
    options = [o.get_text(strip=True) for o in settings.select("#office option")]
    assert "Planning and building control" in options


def test_bad_input_gets_errors_and_keeps_what_was_typed(app):
    client = editor(app)
    response = post(client, NEW, {"name": "", "address": "", "opening_hours": "x" * 501})
    assert response.status_code == 400
    page = check_html(response)
    assert error_summary(page) == [
        "Enter the office's name",
        "Enter the office's address",
        "The opening hours must be 500 characters or fewer",
    ]
    assert page.select_one("#name-error") and page.select_one("#opening_hours-error")
    assert page.select_one("#opening_hours").get_text() == "x" * 501
    clash = post(client, NEW, {**GOOD, "name": "waste SERVICES"})
    assert clash.status_code == 400
    assert error_summary(check_html(clash)) == ["There is already an office with that name"]
    with app.app_context():
        assert len(office_names(include_retired=True)) == len(DEMO_OFFICES)


def test_editing_renames_the_office_everywhere_and_is_audited(app):
    from tests.online_forms.test_builder import build_form

    client = editor(app)
    form_id = build_form(client)
    officer = make_user(app, roles=("officer",))
    with app.app_context():
        db.session.add(OfficeMember(user_id=officer.id, office="Customer services"))
        db.session.commit()
    row = office(app, "Customer services")
    url = f"/staff/forms/offices/{row.id}/edit"
    assert 'value="Customer services"' in client.get(url).get_data(as_text=True)
    changed = {**GOOD, "name": "Contact centre", "opening_hours": "Every day, 8am to 8pm"}
    assert post(client, url, changed).status_code == 303
    with app.app_context():
        assert db.session.get(OnlineForm, form_id).office == "Contact centre"
        assert db.session.scalar(
            select(OfficeMember.office).where(OfficeMember.user_id == officer.id)
        ) == ("Contact centre")
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "online_form.office_edit")
        )
        assert event.details["name"] == "Contact centre"
        assert event.details["opening_hours"] == "Every day, 8am to 8pm"


def test_a_retired_office_cannot_be_chosen_and_can_come_back(app):
    client = editor(app)
    row = office(app, "Libraries")
    retire = f"/staff/forms/offices/{row.id}/retire"
    token = csrf_token(client, "/staff/forms/offices/list")
    assert client.post(retire, data={"csrf_token": token, "action": "retire"}).status_code == 303
    with app.app_context():
        assert "Libraries" not in office_names()
        assert "Libraries" in office_names(include_retired=True)
    page = check_html(client.get("/staff/forms/offices/list"))
    assert "Retired" in page.select("tbody tr")[-1].get_text()
    options = [
        o.get_text(strip=True)
        for o in check_html(client.get("/staff/forms/builder/new")).select("#office option")
    ]
    assert "Libraries" not in options
    refused = post(
        client,
        "/staff/forms/builder/new",
        {"title": "Join the library", "slug": "join", "lgsl": "1", "lgil": "0",
         "office": "Libraries", "response_days": "5", "payment_kind": "none"},
    )  # fmt: skip
    assert refused.status_code == 400
    assert "Select the office that receives submissions" in error_summary(check_html(refused))
    client.post(retire, data={"csrf_token": token, "action": "reinstate"})
    with app.app_context():
        assert "Libraries" in office_names()
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "office")
        ).all()
        assert actions == ["online_form.office_retire", "online_form.office_reinstate"]
    assert (
        client.post("/staff/forms/offices/9999/retire", data={"csrf_token": token}).status_code
        == 404
    )
