"""The builder: staff create, branch, preview, publish, re-draft, copy and archive forms."""

from __future__ import annotations

from sqlalchemy import select

from portal.common.models import PortalDelivery
from portal.council_services.models import Service
from portal.extensions import db
from portal.online_forms.models import FormSubmission, OnlineForm
from tests.council_services.factories import make_service
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token, error_summary
from tests.online_forms.conftest import Runner


def post(client, url, data, expect=303):
    token = csrf_token(
        client,
        url
        if not url.endswith(("/pages", "/publish", "/archive", "/copy", "/new-draft"))
        else url.rsplit("/", 1)[0],
    )
    response = client.post(url, data={"csrf_token": token, **data})
    assert response.status_code == expect, (
        url,
        response.status_code,
        response.get_data(as_text=True)[:2000],
    )
    return response


def build_form(client) -> int:
    with client.application.app_context():
        if db.session.scalar(select(Service.id).where(Service.lgsl == 564)) is None:
            # A form goes live only onto a register interaction (docs/bvpi157.md).
            make_service("Street lighting", 564, [{"lgil": 0}])
    created = post(
        client,
        "/staff/forms/builder/new",
        {
            "title": "Report a broken street light",
            "slug": "broken-street-light",
            "lgsl": "564",
            "lgil": "0",
            "office": "Customer services",
            "response_days": "5",
            "payment_kind": "none",
            "what_happens_next": "We fix most lights within **5 working days**.",
        },
    )
    form_url = created.headers["Location"]
    form_id = int(form_url.rsplit("/", 1)[1])
    # page 1: a yes/no question that branches
    location = post(client, f"/staff/forms/builder/{form_id}/pages", {"kind": "questions"}).headers[
        "Location"
    ]
    post(
        client,
        location,
        {"type": "yes_no", "label": "Is the light leaning or damaged?", "action": "save"},
    )
    # page 2: a text question; page 3: an exit page
    location = post(client, f"/staff/forms/builder/{form_id}/pages", {"kind": "questions"}).headers[
        "Location"
    ]
    post(
        client,
        location,
        {
            "type": "text",
            "label": "Which column number is on the light?",
            "hint": "Look for a number on a plate",
        },
    )
    exit_url = post(client, f"/staff/forms/builder/{form_id}/pages", {"kind": "exit"}).headers[
        "Location"
    ]
    post(
        client,
        exit_url,
        {
            "title": "Call us now",
            "guidance": "A damaged column is dangerous. Call **01632 960 999**.",
            "action": "save",
        },
    )
    with client.application.app_context():
        form = db.session.get(OnlineForm, form_id)
        pages = form.draft_version.definition["pages"]
    first, exit_page = pages[0], pages[2]
    question = first["questions"][0]
    branches = (
        f"/staff/forms/builder/{form_id}/pages/{first['id']}/questions/{question['id']}/branches"
    )
    soup = check_html(client.get(branches))
    assert soup.select_one("#goto-yes")
    post(client, branches, {"goto-yes": exit_page["id"], "goto-no": ""})
    return form_id


def test_builder_makes_a_branching_form_and_publishing_enables_it(app):
    editor = make_user(app, roles=("editor",))
    client = client_for(app, editor)
    check_html(client.get("/staff/forms/builder"))
    form_id = build_form(client)
    soup = check_html(client.get(f"/staff/forms/builder/{form_id}"))
    assert "If ‘Yes’, go to Call us now" in soup.get_text()
    with app.app_context():
        assert db.session.scalar(select(PortalDelivery)) is None
    post(client, f"/staff/forms/builder/{form_id}/publish", {})
    with app.app_context():
        row = db.session.scalar(select(PortalDelivery))
        assert (row.kind, row.ref, row.lgsl, row.lgil, row.live) == (
            "form",
            "broken-street-light",
            564,
            0,
            True,
        )
    # a resident follows each branch
    resident = Runner(app.test_client(), "broken-street-light")
    url = resident.start()
    exit_id = _page_ids(app, form_id)[2]
    assert resident.answer(url, {_first_qid(app, form_id): "yes"}).endswith(f"/exit/{exit_id}")
    # archiving withdraws the interaction in the same transaction
    post(client, f"/staff/forms/builder/{form_id}/archive", {})
    with app.app_context():
        assert db.session.scalar(select(PortalDelivery)).live is False
        assert db.session.get(OnlineForm, form_id).status == "archived"


def _page_ids(app, form_id):
    with app.app_context():
        form = db.session.get(OnlineForm, form_id)
        version = form.live_version or form.draft_version
        return [p["id"] for p in version.definition["pages"]]


def _first_qid(app, form_id):
    with app.app_context():
        form = db.session.get(OnlineForm, form_id)
        version = form.live_version or form.draft_version
        return version.definition["pages"][0]["questions"][0]["id"]


def test_editing_a_live_form_makes_a_new_draft_and_submissions_keep_their_version(app):
    editor = make_user(app, roles=("editor",))
    client = client_for(app, editor)
    form_id = build_form(client)
    post(client, f"/staff/forms/builder/{form_id}/publish", {})
    qid = _first_qid(app, form_id)
    resident = Runner(app.test_client(), "broken-street-light")
    url = resident.start()
    url = resident.answer(url, {qid: "no"})
    with app.app_context():
        form = db.session.get(OnlineForm, form_id)
        second = form.live_version.definition["pages"][1]["questions"][0]["id"]
    resident.answer(url, {second: "A12"})
    resident.submit()
    # the editor changes the live form: a draft version 2 appears, version 1 stays live
    page_id = _page_ids(app, form_id)[1]
    post(
        client,
        f"/staff/forms/builder/{form_id}/pages/{page_id}/questions/{second}",
        {"type": "text", "label": "What number is on the lamp post?"},
    )
    with app.app_context():
        form = db.session.get(OnlineForm, form_id)
        assert [(v.number, v.state) for v in form.versions] == [(1, "live"), (2, "draft")]
        assert form.live_version.definition["pages"][1]["questions"][0]["label"].startswith(
            "Which column"
        )
    post(client, f"/staff/forms/builder/{form_id}/publish", {})
    with app.app_context():
        form = db.session.get(OnlineForm, form_id)
        assert [(v.number, v.state) for v in form.versions] == [(1, "superseded"), (2, "live")]
        submission = db.session.scalar(select(FormSubmission))
        assert submission.version.number == 1


def test_builder_bad_input_and_copy_and_preview(app):
    editor = make_user(app, roles=("editor",))
    client = client_for(app, editor)
    bad = post(
        client,
        "/staff/forms/builder/new",
        {
            "title": "",
            "slug": "Bad Slug",
            "lgsl": "x",
            "lgil": "0",
            "office": "",
            "response_days": "0",
            "closes_on-day": "31",
            "closes_on-month": "2",
            "closes_on-year": "2027",
        },
        expect=400,
    )
    assert error_summary(check_html(bad)) == [
        "Enter the form's title",
        "The web address must use only lower case letters, numbers and hyphens",
        "Enter the service's LGSL number, like 524",
        "Select the office that receives submissions",
        "Enter a response standard between 1 and 90 working days",
        "The closing date must be a real date",
    ]
    form_id = build_form(client)
    # publishing is refused while a page has no question
    post(client, f"/staff/forms/builder/{form_id}/pages", {"kind": "questions"})
    post(client, f"/staff/forms/builder/{form_id}/publish", {})
    with app.app_context():
        assert db.session.get(OnlineForm, form_id).status == "draft"
    bad_q = post(
        client,
        f"/staff/forms/builder/{form_id}/pages/{_page_ids(app, form_id)[-1]}/questions/new",
        {"type": "radios", "label": "", "options": "Only one"},
        expect=400,
    )
    assert error_summary(check_html(bad_q)) == [
        "Enter the question",
        "Enter at least 2 options, one on each line",
    ]
    # staff preview of the draft: pages work, submitting does not
    preview = Runner(client, "broken-street-light")
    start = client.get("/forms/broken-street-light")
    assert start.status_code == 200
    response = client.post(
        "/forms/broken-street-light/start",
        data={"csrf_token": preview._csrf(start.get_data(as_text=True)), "preview": "1"},
    )
    assert "/page/" in response.headers["Location"]
    assert "Preview" in client.get(response.headers["Location"]).get_data(as_text=True)
    # residents cannot see a draft form
    assert app.test_client().get("/forms/broken-street-light").status_code == 404
    copied = post(client, f"/staff/forms/builder/{form_id}/copy", {})
    with app.app_context():
        copy = db.session.get(OnlineForm, int(copied.headers["Location"].rsplit("/", 1)[1]))
        assert copy.slug == "broken-street-light-copy" and copy.status == "draft"
        assert len(copy.versions[0].definition["pages"]) == 4


def test_builder_pages_pass_page_checks(demo):
    editor = make_user(demo, roles=("editor",))
    client = client_for(demo, editor)
    with demo.app_context():
        form = db.session.scalar(select(OnlineForm).where(OnlineForm.slug == "report-missed-bin"))
        page = form.live_version.definition["pages"][1]
        form_id, page_id, qid = form.id, page["id"], page["questions"][0]["id"]
    for url in [
        "/staff/forms/builder",
        "/staff/forms/builder/new",
        f"/staff/forms/builder/{form_id}",
        f"/staff/forms/builder/{form_id}/settings",
        f"/staff/forms/builder/{form_id}/pages/{page_id}",
        f"/staff/forms/builder/{form_id}/pages/{page_id}/questions/{qid}",
        f"/staff/forms/builder/{form_id}/pages/{page_id}/questions/new",
        f"/staff/forms/builder/{form_id}/pages/{page_id}/questions/{qid}/branches",
        f"/staff/forms/builder/{form_id}/metrics",
        "/staff/forms/open311-keys",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        check_html(response)
