"""The resident's bin-day pages, the calendar feed and the open API, through the test client."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
from bs4 import BeautifulSoup

from portal.common.clock import frozen_at
from portal.council_services.demo import load_demo_catalogue
from portal.extensions import db
from portal.waste import services
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token, error_summary
from tests.waste.conftest import ADDRESS, make_round, only_rounds

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday 7 December 2026


def _text(soup: BeautifulSoup, selector: str) -> str:
    node = soup.select_one(selector)
    assert node is not None, selector
    return node.get_text(" ", strip=True)


def _tuesday_and_friday(app) -> None:
    with app.app_context():
        recycling = make_round("recycling", 1)  # Tuesdays, weekly
        refuse = make_round("refuse", 4, "10")  # Fridays, fortnightly from 9 January 2026
        only_rounds(ADDRESS, recycling, refuse)
        db.session.commit()


def test_the_waste_service_page_keeps_its_promise_and_the_journey_works_without_js(bins):
    with bins.app_context():
        load_demo_catalogue()
    _tuesday_and_friday(bins)
    client = bins.test_client()
    home = check_html(client.get("/"))
    link = home.find("a", string=lambda s: s and s.strip() == "Find your bin collection day")
    assert link is not None and link["href"] == "/bin-collection"
    service = check_html(client.get("/services/household-waste-collection"))
    button = service.find("a", string=lambda s: s and "Find your bin collection day" in s)
    assert button is not None and button["href"].endswith("/bin-collection")
    with frozen_at(MONDAY):
        start = check_html(client.get(link["href"]))
        assert _text(start, "h1") == "Find your bin collection day"
        found = check_html(client.get("/bin-collection?uprn_postcode=ck11ab&uprn_find=1"))
        options = [o.get_text() for o in found.select("#uprn option")]
        assert "1 Abbey Road, Castlebrook, CK1 1AB" in options
        chosen = client.get(f"/bin-collection?uprn_postcode=CK1+1AB&uprn={ADDRESS}")
        assert chosen.status_code == 302
        page = check_html(client.get(chosen.headers["Location"]))
    assert _text(page, "h1") == "1 Abbey Road, Castlebrook, CK1 1AB"
    lines = [li.get_text(" ", strip=True) for li in page.select("#next-collections li")]
    assert lines[0].startswith("Rubbish: Friday 11 December")
    assert lines[1].startswith("Recycling: Tuesday 8 December")
    rows = page.select(".waste-calendar tbody tr")
    assert "Tuesday 8 December" in rows[0].get_text(" ", strip=True)
    christmas = [r.get_text(" ", strip=True) for r in rows if "Changed" in r.get_text()]
    assert any("Saturday 26 December" in r and "due Friday 25 December" in r for r in christmas)
    assert "Blue bin" not in page.get_text() or "Paper and cardboard" in page.get_text()
    assert "What goes in which bin" in page.get_text()
    printable = check_html(client.get(f"/bin-collection/{ADDRESS}/calendar"))
    assert "Bin collection calendar" in _text(printable, "h1")


def test_bad_postcodes_and_addresses_get_clear_errors_never_a_500(bins):
    client = bins.test_client()
    cases = [
        ("/bin-collection?uprn_postcode=&uprn_find=1", "Enter a postcode"),
        ("/bin-collection?uprn_postcode=banana&uprn_find=1", "Enter a real postcode, like CK1 2AB"),
        ("/bin-collection?uprn_postcode=SW1A+1AA&uprn_find=1", "Enter a postcode in the"),
        ("/bin-collection?uprn_postcode=CK9+9ZZ&uprn_find=1", "We could not find any addresses"),
        ("/bin-collection?uprn_postcode=CK1+1AB&uprn=", "Select an address"),
    ]
    for url, message in cases:
        response = client.get(url)
        assert response.status_code == 200, url
        summary = error_summary(check_html(response))
        assert summary and summary[0].startswith(message), (url, summary)
    for url in (
        "/bin-collection/999999999999",
        "/bin-collection/x'--",
        "/bin-collection/1/calendar",
    ):
        assert client.get(url).status_code == 404


def test_an_address_with_no_round_is_told_to_contact_us(bins):
    with bins.app_context():
        only_rounds(ADDRESS)
        db.session.commit()
    page = check_html(bins.test_client().get(f"/bin-collection/{ADDRESS}"))
    assert _text(page, "#no-round").startswith(
        "We do not collect from this address: it may be a business or new build — contact us."
    )
    assert page.select_one(".waste-calendar") is None


def test_the_address_is_remembered_in_my_council(bins):
    _tuesday_and_friday(bins)
    resident = make_user(bins)
    with frozen_at(MONDAY):  # the session starts on the frozen day, so it has not timed out
        client = client_for(bins, resident)
        url = f"/bin-collection/{ADDRESS}"
        page = check_html(client.get(url))
        assert page.select_one("#remembered") is None
        assert page.find("button", string="Save this address in My council")
        saved = client.post(f"{url}/remember", data={"csrf_token": csrf_token(client, url)})
        assert saved.status_code == 302
        assert "This address is saved in My council" in check_html(client.get(url)).get_text()
        again = client.get("/bin-collection")
        assert again.status_code == 302 and again.headers["Location"].endswith(ADDRESS)
        mine = check_html(client.get("/my"))
    text = mine.get_text(" ", strip=True)
    assert "Bin collections at 1 Abbey Road" in text
    assert "Recycling: Tuesday 8 December" in text
    with bins.app_context():
        from portal.waste import personal_data

        assert personal_data(resident)["bin_collection_address"] == ADDRESS
    # "Look up another address" still lets them change it.
    assert client.get("/bin-collection?change=1").status_code == 200


def test_the_feed_parses_and_has_the_same_dates_as_the_page(bins):
    _tuesday_and_friday(bins)
    client = bins.test_client()
    with frozen_at(MONDAY):
        page = check_html(client.get(f"/bin-collection/{ADDRESS}"))
        feed = client.get(f"/bin-collection/{ADDRESS}/collections.ics")
    assert feed.mimetype == "text/calendar"
    raw = feed.get_data(as_text=True)
    assert all(len(line.encode()) <= 75 for line in raw.split("\r\n"))
    calendar = icalendar.Calendar.from_ical(raw)
    events = [e for e in calendar.walk("VEVENT")]
    by_day: dict[date, list[str]] = {}
    for event in events:
        start = event.decoded("DTSTART")
        assert type(start) is date  # all-day
        assert event.decoded("DTEND") == start + timedelta(days=1)
        by_day.setdefault(start, []).append(str(event["SUMMARY"]))
    with bins.app_context(), frozen_at(MONDAY):
        shown = services.schedule_for(db.session.get(services.Address, ADDRESS))
        page_days = {ac.day for ac in shown.collections}
    feed_days = {d for d in by_day if date(2026, 12, 7) <= d <= max(page_days)}
    assert feed_days == page_days
    assert "Saturday 26 December" in page.get_text()
    assert any("changed day" in s for s in by_day[date(2026, 12, 26)])
    uids = [str(e["UID"]) for e in events]
    assert len(uids) == len(set(uids))
    moved = next(e for e in events if e.decoded("DTSTART") == date(2026, 12, 26))
    assert str(moved["UID"]).startswith("waste-")
    assert "-20261225@" in str(moved["UID"])  # the date it was due: updated in place


def test_the_uid_stays_when_a_collection_moves(bins):
    _tuesday_and_friday(bins)
    client = bins.test_client()
    with frozen_at(MONDAY):
        before = icalendar.Calendar.from_ical(
            client.get(f"/bin-collection/{ADDRESS}/collections.ics").data
        )
        with bins.app_context():
            services.add_change(None, date(2027, 2, 2), None, date(2027, 2, 3), "Snow")
            db.session.commit()
        after = icalendar.Calendar.from_ical(
            client.get(f"/bin-collection/{ADDRESS}/collections.ics").data
        )
    uids = lambda cal: {str(e["UID"]): e.decoded("DTSTART") for e in cal.walk("VEVENT")}  # noqa: E731
    changed = {u for u, d in uids(after).items() if uids(before).get(u) != d}
    assert len(changed) == 1
    assert uids(after)[changed.pop()] == date(2027, 2, 3)
    assert set(uids(before)) == set(uids(after))


def test_the_api_answers_json_with_cache_headers_and_404s_unknown_uprns(bins):
    _tuesday_and_friday(bins)
    client = bins.test_client()
    with frozen_at(MONDAY):
        response = client.get(f"/api/v1/addresses/{ADDRESS}/collections")
        assert response.status_code == 200
        body = response.get_json()
        assert body["uprn"] == ADDRESS and body["collected"] is True
        first = body["collections"][0]
        assert (first["date"], first["type"], first["changed"]) == (
            "2026-12-08",
            "recycling",
            False,
        )
        moved = [c for c in body["collections"] if c["changed"]]
        assert moved[0]["original_date"] == "2026-12-25" and moved[0]["date"] == "2026-12-26"
        assert response.headers["Cache-Control"].startswith("public, max-age=")
        etag = response.headers["ETag"]
        again = client.get(
            f"/api/v1/addresses/{ADDRESS}/collections", headers={"If-None-Match": etag}
        )
        assert again.status_code == 304
        page = check_html(client.get(f"/bin-collection/{ADDRESS}"))
    api_days = {c["date"] for c in body["collections"]}
    assert "2026-12-26" in api_days and "Saturday 26 December" in page.get_text()
    for uprn in ("999999999999", "abc"):
        missing = client.get(f"/api/v1/addresses/{uprn}/collections")
        assert missing.status_code == 404 and missing.is_json
    with bins.app_context():
        only_rounds(ADDRESS)
        db.session.commit()
    assert client.get(f"/api/v1/addresses/{ADDRESS}/collections").get_json()["collected"] is False


def test_the_api_is_rate_limited_politely(make_app):
    app = make_app(ratelimit_enabled=True)
    client = app.test_client()
    answers = [client.get("/api/v1/addresses/999999999999/collections") for _ in range(61)]
    assert {a.status_code for a in answers[:60]} == {404}
    assert answers[60].status_code == 429
    assert int(answers[60].headers["Retry-After"]) > 0


def test_the_missed_collection_page_offers_only_what_was_due(bins):
    with bins.app_context():
        recycling = make_round("recycling", 1)
        only_rounds(ADDRESS, recycling)
        db.session.commit()
        rid = recycling.id
    client = bins.test_client()
    with frozen_at(datetime(2026, 12, 10, 10, tzinfo=UTC)):  # Thursday
        page = check_html(client.get(f"/bin-collection/{ADDRESS}/missed"))
        assert (
            "Recycling (blue bin), due Tuesday 8 December: until the end of Thursday 10 December"
            in _text(page, "#missed-options")
        )
    with frozen_at(datetime(2026, 12, 11, 10, tzinfo=UTC)):  # Friday
        page = check_html(client.get(f"/bin-collection/{ADDRESS}/missed"))
        assert page.select_one("#missed-options") is None
        assert _text(page, "#missed-refusals") == (
            "Your recycling is collected on Tuesday; you can report it missed until the end of Thursday."
        )
    with bins.app_context():
        services.mark_not_completed(rid, date(2026, 12, 8), "")
        db.session.commit()
    with frozen_at(datetime(2026, 12, 9, 10, tzinfo=UTC)):
        page = check_html(client.get(f"/bin-collection/{ADDRESS}/missed"))
        assert "you do not need to report it" in page.get_text()
        assert page.select_one("#missed-options") is None
        home = check_html(client.get(f"/bin-collection/{ADDRESS}"))
        assert "Collection running late" in home.get_text()


def test_the_kiosk_offers_bin_day_and_the_page_works_there(bins):
    from tests.channels.helpers import enrol, kiosk_client

    _, cookie, _ = enrol(bins)
    client = kiosk_client(bins, cookie)
    home = check_html(client.get("/kiosk"))
    link = home.find("a", string=lambda s: s and s.strip() == "Find your bin collection day")
    assert link is not None
    found = check_html(client.get(link["href"] + "?uprn_postcode=CK1+1AB&uprn_find=1"))
    assert len(found.select("#uprn option")) == 13  # "12 addresses found" and the twelve
    chosen = client.get(link["href"] + f"?uprn_postcode=CK1+1AB&uprn={ADDRESS}")
    page = check_html(client.get(chosen.headers["Location"]))
    assert len(page.select("#next-collections li")) == 3  # the demo rubbish, recycling and food


def test_the_home_automation_page_is_linked_and_names_the_real_urls(bins):
    client = bins.test_client()
    page = check_html(client.get(f"/bin-collection/{ADDRESS}"))
    link = page.find("a", string="Use your bin days in a home-automation system")
    help_page = check_html(client.get(link["href"]))
    text = help_page.get_text(" ", strip=True)
    assert "/bin-collection/UPRN/collections.ics" in text
    assert "/api/v1/addresses/UPRN/collections" in text
    assert "60 per minute" in text
