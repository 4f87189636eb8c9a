"""Defects people reported, each pinned: top tasks from the register, banners, dates and times."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bs4 import BeautifulSoup
from flask import flash, render_template_string

from portal.common.clock import govuk_date, govuk_datetime, govuk_time
from portal.common.delivery import set_portal_delivery, withdraw_portal_deliveries
from portal.extensions import db
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_email_text, check_html, csrf_token, visible_text_problems
from tests.online_forms.test_builder import build_form, post

MESSAGES = '{% from "components/messages.html" import flash_messages %}{{ flash_messages() }}'


def _top_tasks(client) -> dict[str, str]:  # noqa: ANN001
    soup = check_html(client.get("/"))
    return {a.get_text(strip=True): a["href"] for a in soup.select(".portal-task-list a")}


def test_home_and_kiosk_top_tasks_link_to_what_the_register_says_is_live(app):
    client = app.test_client()
    assert "Report a missed bin collection" not in _top_tasks(client)  # nothing live yet
    with app.app_context():
        set_portal_delivery(
            "form",
            "report-missed-bin",
            524,
            0,
            "Missed bin",
            "http://x.example/forms/report-missed-bin",
        )
        db.session.commit()
    tasks = _top_tasks(app.test_client())
    assert tasks["Report a missed bin collection"] == "/forms/report-missed-bin"
    with app.app_context():
        withdraw_portal_deliveries("form", "report-missed-bin")
        db.session.commit()
    from portal.channels.views import KIOSK_TASKS
    from portal.common.delivery import top_task_links

    with app.test_request_context():
        labels = [label for label, _ in top_task_links(KIOSK_TASKS)]
    assert "Report a missed bin collection" not in labels
    assert "Find a council service" in labels


def test_a_flash_message_is_read_as_words_not_markup(app):
    with app.test_request_context():
        flash("Library (demo) is now helping you", "success")
        flash("There is no draft to publish", "error")
        flash("Sign in again to continue.")
        soup = BeautifulSoup(render_template_string(MESSAGES), "html.parser")
    assert visible_text_problems(soup) == []
    banners = soup.select(".govuk-notification-banner")
    headings = [b.select_one(".govuk-notification-banner__heading").get_text() for b in banners]
    assert headings == [
        "Library (demo) is now helping you",
        "There is no draft to publish",
        "Sign in again to continue.",
    ]
    titles = [
        b.select_one(".govuk-notification-banner__title").get_text(strip=True) for b in banners
    ]
    assert titles == ["Success", "There is a problem", "Important"]
    assert "govuk-notification-banner--success" not in banners[1]["class"]


def test_a_builder_error_is_not_shown_as_a_success(app):
    from portal.extensions import db
    from portal.online_forms.services import load_demo_offices

    with app.app_context():  # a new form needs a receiving office
        load_demo_offices()
        db.session.commit()
    editor = client_for(app, make_user(app, roles=("editor",)))
    form_id = build_form(editor)
    post(editor, f"/staff/forms/builder/{form_id}/publish", {})  # publishes the draft
    refused = post(editor, f"/staff/forms/builder/{form_id}/publish", {})  # no draft left
    soup = check_html(editor.get(refused.headers["Location"]))
    banner = soup.select_one(".govuk-notification-banner")
    assert banner.select_one(".govuk-notification-banner__heading").get_text() == (
        "There is no draft to publish"
    )
    assert "govuk-notification-banner--success" not in banner["class"]
    assert banner.select_one(".govuk-notification-banner__title").get_text(strip=True) == (
        "There is a problem"
    )


def test_dates_and_times_read_the_govuk_way_in_uk_time():
    summer = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)  # 9:30am BST
    assert govuk_datetime(summer) == "1 July 2026 at 9:30am"
    assert govuk_time(datetime(2026, 12, 1, 12, 0)) == "midday"
    assert govuk_time(datetime(2026, 12, 1, 0, 5)) == "12:05am"
    assert govuk_date(datetime(2026, 6, 30, 23, 30)) == "1 July 2026"  # already 1 July in the UK
    assert govuk_date(date(2026, 12, 1)) == "1 December 2026"


def test_the_text_checks_catch_what_people_reported():
    reported = [
        '<p class="govuk-notification-banner__heading">Saved</p>',
        "2026-12-01 19:28:10.494597",
        "Starts 2026-12-01T09:00:00",
        "Paid at 09:00+00:00",
        "Date: 01 December 2026 09:00 UTC",
        "Photos: None",
        "{'status': 'new'}",
        "LGSL 370 (LGSL 370)",
    ]
    for text in reported:
        soup = BeautifulSoup(f"<main><p>{text.replace('<', '&lt;')}</p></main>", "html.parser")
        assert visible_text_problems(soup), text
    fine = (
        "<main><p>Report a missed bin collection (LGSL 524) on 1 December 2026 at 9:30am</p></main>"
    )
    assert visible_text_problems(BeautifulSoup(fine, "html.parser")) == []


def test_a_payment_receipt_reads_in_uk_time(app):
    from portal.payments.models import Payment
    from portal.payments.services import receipt_text

    payment = Payment(
        reference="PY-TEST-0001",
        description="Council Tax",
        amount_pence=12500,
        completed_at=datetime(2026, 7, 1, 8, 30, tzinfo=UTC),
    )
    with app.app_context():
        text = receipt_text(payment)
    check_email_text(text)
    assert "Date: 1 July 2026 at 9:30am" in text


def test_the_summary_is_shown_once_and_the_bin_day_finder_it_promises_works(demo_app):
    client = demo_app.test_client()
    soup = check_html(client.get("/services/household-waste-collection"))
    text = soup.get_text(" ", strip=True)
    summary = soup.select_one(".govuk-body-l").get_text(strip=True)
    assert text.count(summary) == 1
    # the promise is kept: the link leads to a finder that asks for a postcode
    (finder,) = [a for a in soup.find_all("a") if "Find your bin collection day" in a.get_text()]
    finder_page = check_html(client.get(finder["href"]))
    assert finder_page.select_one("input[name$=postcode]") is not None
    buttons = [a.get_text(" ", strip=True) for a in soup.select("a.govuk-button")]
    assert "Report a missed bin collection" in buttons
    assert not any(b.startswith("Apply") for b in buttons)


def test_planning_says_when_comments_open_and_who_was_told(app):
    from datetime import timedelta

    from portal.common.clock import uk_today
    from tests.planning.conftest import make_application

    with app.app_context():
        application = make_application(
            consultation_start=uk_today() + timedelta(days=3),
            consultation_end=uk_today() + timedelta(days=24),
        )
        db.session.commit()
        slug = application.slug
    soup = check_html(app.test_client().get(f"/planning/applications/{slug}"))
    deadline = soup.select_one(".planning-deadline").get_text(" ", strip=True)
    assert deadline.startswith("You can comment from ")
    assert "closed" not in deadline
    officer = client_for(app, make_user(app, roles=("planning",)))
    url = f"/staff/planning/applications/{slug}"
    changed = officer.post(
        f"{url}/status", data={"csrf_token": csrf_token(officer, url), "status": "live"}
    )
    assert changed.status_code == 302
    banner = check_html(officer.get(changed.headers["Location"])).select_one(
        ".govuk-notification-banner__heading"
    )
    assert banner.get_text() == "Status changed to Live; nobody is tracking it"


def test_planning_comment_errors_follow_the_order_of_the_fields(app):
    from portal.common.clock import uk_today
    from tests.planning.conftest import make_application

    with app.app_context():
        slug = make_application(consultation_end=uk_today()).slug
        db.session.commit()
    resident = client_for(app, make_user(app))
    url = f"/planning/applications/{slug}"
    response = resident.post(
        f"{url}/comments", data={"csrf_token": csrf_token(resident, url), "name": ""}
    )
    assert response.status_code == 400
    soup = check_html(response)
    assert [a["href"] for a in soup.select(".govuk-error-summary a")] == [
        "#stance",
        "#name",
        "#address",
        "#text",
    ]
    fields = [f["name"] for f in soup.select(f"form[action='{url}/comments'] [name]")]
    order = [n for n in dict.fromkeys(fields) if n in ("stance", "name", "address", "text")]
    assert order == ["stance", "name", "address", "text"]


def test_take_up_names_channels_truthfully(demo_app):
    soup = check_html(demo_app.test_client().get("/performance/take-up"))
    summary = soup.select_one(".portal-take-up-summary")
    text = summary.get_text(" ", strip=True)
    # GOV.UK service standard groups: a kiosk with staff help is assisted digital, email offline
    assert "were done online" not in text
    assert "assisted digital: at a library kiosk with help from our staff" in text
    assert "offline: by phone, face to face, email or post" in text
    channels = [th.get_text(strip=True) for th in summary.select("tbody th")]
    assert "Online self-service (website)" in channels
    assert "Library kiosk with staff help" in channels
    assert "Web" not in channels
