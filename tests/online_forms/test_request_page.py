"""A request's page: the answers, the history in UK dates and times, and what happens next."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.online_forms import services
from portal.online_forms.models import FormSubmission
from tests.helpers.auth import client_for
from tests.helpers.pages import check_html, csrf_token
from tests.online_forms.conftest import ADDRESS
from tests.online_forms.test_inbox import officer_in, submitted
from tests.online_forms.test_runner import missed_day


def summary(soup, selector: str) -> dict[str, str]:
    return {
        row.select_one("dt").get_text(strip=True): row.select_one("dd").get_text(" ", strip=True)
        for row in soup.select(f"{selector} .govuk-summary-list__row")
    }


def test_uk_when_reads_the_govuk_way():
    assert services.uk_when(datetime(2026, 12, 1, 9, 30, tzinfo=UTC)) == "1 December 2026 at 9:30am"
    # summer time: 08:05 UTC is 9:05am in the UK
    assert services.uk_when(datetime(2026, 7, 1, 8, 5, tzinfo=UTC)) == "1 July 2026 at 9:05am"
    assert services.uk_when(datetime(2026, 12, 1, 17, 0, tzinfo=UTC)) == "1 December 2026 at 5pm"
    assert services.uk_when(datetime(2026, 12, 1, 12, 0, tzinfo=UTC)) == "1 December 2026 at midday"
    # naive values (SQLite) are UTC; 23:30 UTC on 30 June is 00:30 on 1 July in the UK
    assert services.uk_when(datetime(2026, 6, 30, 23, 30)) == "1 July 2026 at 12:30am"


def test_request_page_shows_answers_history_and_next_steps(demo, runner_for):
    reference, client = submitted(demo, runner_for)
    officer = officer_in(demo, "Waste services")
    staff = client_for(demo, officer)
    url = f"/staff/forms/submissions/{reference}"
    token = csrf_token(staff, url)
    staff.post(
        url + "/status",
        data={"csrf_token": token, "status": "in_progress", "note": "Crew booked for tomorrow."},
    )
    staff.post(url + "/note", data={"csrf_token": token, "text": "Internal: resident was rude."})
    with demo.app_context():
        item = db.session.scalar(select(FormSubmission))
        item.submitted_at = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
        item.notes[0].created_at = datetime(2026, 11, 30, 14, 15, tzinfo=UTC)
        db.session.commit()
    page = client.get(f"/forms/requests/{reference}")
    assert page.status_code == 200
    soup = check_html(page)
    top = summary(soup, "dl:first-of-type")
    assert top["Status"] == "In progress"
    assert top["Sent"] == "30 November 2026 at 9:30am"
    answers = summary(soup, "#answers")
    assert answers["Which bin was missed?"] == "Recycling"
    assert answers["When was the bin due to be collected?"] == (
        f"{missed_day().day} {missed_day():%B %Y}"
    )
    assert answers["Full name"] == "Ada Resident"
    history = [li.get_text(" ", strip=True) for li in soup.select("#timeline li")]
    assert history[0] == "Request sent 30 November 2026 at 9:30am"
    assert history[1] == (
        "Status changed to In progress 30 November 2026 at 2:15pm Crew booked for tomorrow."
    )
    assert len(history) == 2  # the internal note is not shown to the resident
    assert "rude" not in page.get_data(as_text=True)
    assert "An officer is working on your request" in soup.select_one("#next-steps").get_text()


def test_received_request_uses_the_forms_own_next_steps(demo, runner_for):
    reference, client = submitted(demo, runner_for)
    soup = check_html(client.get(f"/forms/requests/{reference}"))
    text = soup.select_one("#next-steps").get_text(" ", strip=True)
    assert text.startswith("We will collect the bin within 2 working days.")
    assert "We will reply within 2 working days, by " in text


def test_file_answers_by_name_only_and_payment_due(demo, runner_for):
    def png() -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (20, 20), "red").save(out, format="PNG")
        return out.getvalue()

    runner = runner_for("resident-parking-permit")
    url = runner.start()
    url = runner.answer(url, ADDRESS)
    url = runner.answer(url, {"registration": "CK21 ABC"})
    runner.post(
        url,
        {"proof": (io.BytesIO(png()), "council-tax-bill.png"), "upload": "1"},
        expect=200,
        content_type="multipart/form-data",
    )
    url = runner.post(url, {}, content_type="multipart/form-data").headers["Location"]
    next_year = str(datetime.now(UTC).year + 1)
    url = runner.answer(
        url, {"starts_on-day": "1", "starts_on-month": "2", "starts_on-year": next_year}
    )
    runner.answer(url, {"name": "Pat Permit", "phone": ""})
    done = runner.submit({"email": "pat@example.com", "declaration": "yes"})
    reference = done.headers["Location"].rsplit("/", 1)[1]
    page = runner.client.get(f"/forms/requests/{reference}")
    soup = check_html(page)
    answers = summary(soup, "#answers")
    assert answers["Upload proof of your address"] == "council-tax-bill.png"
    assert answers["What is the vehicle's registration number?"] == "CK21 ABC"
    assert soup.select("#answers a") == []  # no link to the file's contents
    assert "/forms/files/" not in page.get_data(as_text=True)
    assert summary(soup, "dl:first-of-type")["Status"] == "Awaiting payment"
    assert "not complete until you pay" in soup.select_one("#next-steps").get_text()
    assert soup.find("button", string="Pay now") is not None
