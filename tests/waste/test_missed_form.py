"""The "Report a missed bin collection" form keeps bin day's rules: it starts from the address the
resident came from, offers only what was due and can still be reported, says why not otherwise,
and refuses a report saved before its window closed. Driven through the test client's pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from sqlalchemy import delete, select

from portal.common.clock import frozen_at
from portal.common.models import OutboxEmail
from portal.extensions import db
from portal.online_forms.demo import load_demo_forms
from portal.online_forms.models import FormSubmission
from portal.waste import services
from portal.waste.models import RoundAssignment
from tests.helpers.pages import check_html, error_summary
from tests.waste.conftest import ADDRESS, OTHER, make_round, only_rounds

SLUG = "report-missed-bin"
TUESDAY = datetime(2026, 12, 8, 10, tzinfo=UTC)
WEDNESDAY = datetime(2026, 12, 9, 10, tzinfo=UTC)
THURSDAY = datetime(2026, 12, 10, 10, tzinfo=UTC)
FRIDAY = datetime(2026, 12, 11, 10, tzinfo=UTC)


def _setup(app, *rounds: tuple[str, int, str]) -> list[int]:
    """The demo forms, and ADDRESS served only by these rounds (type code, weekday, weeks)."""
    with app.app_context():
        load_demo_forms()
        made = [make_round(code, weekday, weeks) for code, weekday, weeks in rounds]
        only_rounds(ADDRESS, *made)
        db.session.commit()
        return [r.id for r in made]


def _csrf(soup: BeautifulSoup) -> str:
    return soup.find("input", attrs={"name": "csrf_token"})["value"]


def _post(client, url: str, data: dict, expect: int = 303):  # noqa: ANN001, ANN202
    soup = check_html(client.get(url))
    response = client.post(url, data={"csrf_token": _csrf(soup), **data})
    assert response.status_code == expect, (url, response.get_data(as_text=True)[:2000])
    return response


def _start_from_missed_page(client) -> str:  # noqa: ANN001
    """Follow the missed-collection page's button and press Start now: the address page's URL."""
    missed = check_html(client.get(f"/bin-collection/{ADDRESS}/missed"))
    button = missed.find("a", string=lambda s: s and "Report a missed collection" in s)
    assert button is not None
    start = check_html(client.get(button["href"]))
    form = start.find("form", action=f"/forms/{SLUG}/start")
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
    response = client.post(form["action"], data=fields)
    assert response.status_code == 303
    return response.headers["Location"]


def _continue_with_address(client, url: str) -> BeautifulSoup | str:  # noqa: ANN001
    """The address page starts at the address the resident came from: Continue as it stands."""
    page = check_html(client.get(url))
    chosen = page.select_one("select#address option[selected]")
    assert chosen is not None and chosen["value"] == ADDRESS
    postcode = page.select_one("input#address-postcode")["value"]
    response = client.post(
        url, data={"csrf_token": _csrf(page), "address": ADDRESS, "address_postcode": postcode}
    )
    if response.status_code == 303:
        return response.headers["Location"]
    assert response.status_code == 400
    return check_html(response)


def _date(day: date) -> dict:
    return {"missed_on-day": day.day, "missed_on-month": day.month, "missed_on-year": day.year}


def _inline_error(soup: BeautifulSoup, field: str) -> str:
    node = soup.select_one(f"#{field}-error") or soup.select_one(".govuk-error-message")
    return node.get_text(" ", strip=True) if node else ""


def test_a_collection_that_was_due_is_reported_from_the_missed_page(bins):
    _setup(bins, ("recycling", 1, "1"))  # weekly on Tuesdays
    client = bins.test_client()
    with frozen_at(THURSDAY):
        url = _continue_with_address(client, _start_from_missed_page(client))
        assert url.endswith("/page/bin")
        refused = check_html(_post(client, url, {"bin": "rubbish"}, 400))
        assert error_summary(refused) == ["We do not collect rubbish from this address"]
        assert refused.select_one(".govuk-error-summary a")["href"] == "#bin"
        url = _post(client, url, {"bin": "recycling"}).headers["Location"]
        url = _post(client, url, {"out_by_7": "yes"}).headers["Location"]
        wrong = check_html(_post(client, url, _date(date(2026, 12, 9)), 400))
        message = "Your recycling was due on Tuesday 8 December: enter that date"
        assert error_summary(wrong) == [message]
        assert message in _inline_error(wrong, "missed_on")
        url = _post(client, url, _date(date(2026, 12, 8))).headers["Location"]
        url = _post(client, url, {"details": ""}).headers["Location"]
        url = _post(client, url, {"name": "Ada Resident"}).headers["Location"]
        assert url.endswith("/check")
        check = check_html(client.get(url))
        done = client.post(
            f"/forms/{SLUG}/submit",
            data={
                "csrf_token": _csrf(check),
                "token": check.find("input", {"name": "token"})["value"],
            },
        )
        assert done.status_code == 303, done.get_data(as_text=True)[:2000]
    with bins.app_context():
        (submission,) = db.session.scalars(select(FormSubmission)).all()
        assert submission.answers["bin"] == "recycling"
        assert submission.answers["address"]["uprn"] == ADDRESS
        assert submission.answers["missed_on"]["iso"] == "2026-12-08"


def test_a_collection_not_reportable_today_is_refused_with_its_reason(bins):
    _setup(bins, ("recycling", 1, "1"), ("refuse", 4, "10"))  # Tuesdays; Fridays fortnightly
    client = bins.test_client()
    with frozen_at(THURSDAY):
        url = _continue_with_address(client, _start_from_missed_page(client))
        with bins.app_context():
            (reason,) = services.missed_refusals(ADDRESS)
        assert reason.startswith("Your rubbish is collected on Friday")
        refused = check_html(_post(client, url, {"bin": "rubbish"}, 400))
        assert error_summary(refused) == [reason]


def test_an_address_with_nothing_reportable_today_is_refused_on_the_address_page(bins):
    _setup(bins, ("recycling", 1, "1"))
    client = bins.test_client()
    with frozen_at(FRIDAY):
        missed = check_html(client.get(f"/bin-collection/{ADDRESS}/missed"))
        assert missed.find("a", string=lambda s: s and "Report a missed" in s) is None
        start = check_html(client.get(f"/forms/{SLUG}?uprn={ADDRESS}"))
        form = start.find("form", action=f"/forms/{SLUG}/start")
        fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
        url = client.post(form["action"], data=fields).headers["Location"]
        page = _continue_with_address(client, url)
    assert isinstance(page, BeautifulSoup)
    assert error_summary(page) == [
        "Your recycling is collected on Tuesday; you can report it missed until the end of Thursday"
    ]
    assert page.select_one(".govuk-error-summary a")["href"] == "#address"


def test_a_round_the_crew_did_not_finish_is_not_reported(bins):
    recycling, _refuse = _setup(bins, ("recycling", 1, "1"), ("refuse", 1, "1"))
    with bins.app_context():
        services.mark_not_completed(recycling, date(2026, 12, 8), "Vehicle broke down")
        db.session.commit()
    client = bins.test_client()
    late = (
        "Our crew could not finish the recycling round on Tuesday 8 December. We will come back "
        "as soon as we can: leave your bin out, you do not need to report it"
    )
    with frozen_at(WEDNESDAY):
        url = _continue_with_address(client, _start_from_missed_page(client))
        refused = check_html(_post(client, url, {"bin": "recycling"}, 400))
        assert error_summary(refused) == [late]
        assert _post(client, url, {"bin": "rubbish"}).headers["Location"].endswith("/page/out")
    with bins.app_context():
        services.mark_not_completed(_refuse, date(2026, 12, 8), "")
        db.session.commit()
    fresh = bins.test_client()  # a resident who comes straight to the form: every round late
    with frozen_at(WEDNESDAY):
        page = _continue_with_address(fresh, _start_from(fresh))
    assert isinstance(page, BeautifulSoup)
    (message,) = error_summary(page)
    assert late in message and "rubbish round" in message


def _start_from(client) -> str:  # noqa: ANN001
    """Start the form straight from its start page with the address given, as the button does."""
    start = check_html(client.get(f"/forms/{SLUG}?uprn={ADDRESS}"))
    form = start.find("form", action=f"/forms/{SLUG}/start")
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
    return client.post(form["action"], data=fields).headers["Location"]


def test_an_address_with_no_round_is_told_to_contact_us(bins):
    _setup(bins, ("recycling", 1, "1"))
    with bins.app_context():
        db.session.execute(delete(RoundAssignment).where(RoundAssignment.uprn == OTHER))
        db.session.commit()
    client = bins.test_client()
    with frozen_at(THURSDAY):
        start = check_html(client.get(f"/forms/{SLUG}"))
        url = client.post(f"/forms/{SLUG}/start", data={"csrf_token": _csrf(start)}).headers[
            "Location"
        ]
        page = check_html(
            _post(client, url, {"address_postcode": "CK1 1AB", "address": OTHER}, 400)
        )
    (message,) = error_summary(page)
    assert message.startswith(
        "We do not collect from this address: it may be a business or new build. Contact us"
    )
    assert message in _inline_error(page, "address")


def test_a_typed_in_address_is_not_checked(bins):
    _setup(bins, ("recycling", 1, "1"))
    client = bins.test_client()
    with frozen_at(FRIDAY):
        start = check_html(client.get(f"/forms/{SLUG}"))
        url = client.post(f"/forms/{SLUG}/start", data={"csrf_token": _csrf(start)}).headers[
            "Location"
        ]
        manual = {
            "address_line1": "The Old Barn",
            "address_town": "Castlebrook",
            "address_manual_postcode": "CK1 1AB",
        }
        url = _post(client, url, manual).headers["Location"]
        url = _post(client, url, {"bin": "garden-waste"}).headers["Location"]
        url = _post(client, url, {"out_by_7": "yes"}).headers["Location"]
        url = _post(client, url, _date(date(2026, 12, 4))).headers["Location"]
        assert url.endswith("/page/more")


def test_a_report_saved_before_its_window_closed_is_refused_at_submit(bins):
    _setup(bins, ("recycling", 1, "1"))
    client = bins.test_client()
    with frozen_at(THURSDAY):
        url = _continue_with_address(client, _start_from_missed_page(client))
        url = _post(client, url, {"bin": "recycling"}).headers["Location"]
        url = _post(client, url, {"out_by_7": "yes"}).headers["Location"]
        url = _post(client, url, _date(date(2026, 12, 8))).headers["Location"]
        url = _post(client, url, {"details": "Left at the kerb"}).headers["Location"]
        url = _post(client, url, {"name": "Ada Resident"}).headers["Location"]
        _post(client, f"/forms/{SLUG}/save", {"email": "ada@example.com"}, 200)
    with bins.app_context():
        body = db.session.scalar(
            select(OutboxEmail.body_text).where(OutboxEmail.to_address == "ada@example.com")
        )
    link = re.search(r"https?://\S+/resume/\S+", body).group(0)
    later = bins.test_client()  # the next day, from the emailed link
    with frozen_at(FRIDAY):
        resumed = later.get(urlsplit(link).path)
        assert resumed.status_code == 302 and resumed.headers["Location"].endswith("/check")
        check = check_html(later.get(resumed.headers["Location"]))
        refused = later.post(
            f"/forms/{SLUG}/submit",
            data={
                "csrf_token": _csrf(check),
                "token": check.find("input", {"name": "token"})["value"],
            },
        )
        assert refused.status_code == 400
        page = check_html(refused)
    assert error_summary(page) == [
        "Your recycling is collected on Tuesday; you can report it missed until the end of Thursday"
    ]
    href = page.select_one(".govuk-error-summary a")["href"]
    assert href == f"/forms/{SLUG}/page/where?change=1#address"
    answers = [dd.get_text(" ", strip=True) for dd in page.select(".govuk-summary-list__value")]
    assert "Left at the kerb" in answers and "Ada Resident" in answers  # nothing lost
    with bins.app_context():
        assert db.session.scalar(select(FormSubmission.id)) is None


def test_another_form_on_the_interaction_is_not_a_missed_report(bins):
    _setup(bins, ("recycling", 1, "1"))  # nothing can be reported on a Friday
    client = bins.test_client()
    slug = "assisted-bin-collection"  # LGSL 524, LGIL 0 too
    with frozen_at(FRIDAY):
        start = check_html(client.get(f"/forms/{slug}"))
        url = client.post(f"/forms/{slug}/start", data={"csrf_token": _csrf(start)}).headers[
            "Location"
        ]
        url = _post(client, url, {"helper": "no"}).headers["Location"]
        url = _post(client, url, {"reason": "I use a wheelchair"}).headers["Location"]
        url = _post(client, url, {"address_postcode": "CK1 1AB", "address": ADDRESS})
        assert url.headers["Location"].endswith("/page/contact")
