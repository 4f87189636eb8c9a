"""Public pages: the A–Z letter index, topics, life events, service pages and /performance."""

from __future__ import annotations

from datetime import date

from portal.common.delivery import set_portal_delivery
from portal.council_services.models import Bvpi157Snapshot
from portal.council_services.services import take_snapshot
from portal.extensions import db
from tests.council_services.factories import make_service
from tests.helpers.pages import check_html, get_page


def test_letter_index_links_only_letters_with_services(app, client) -> None:
    with app.app_context():
        make_service("Bulky waste", 528, topics=["bins-and-recycling"], life_events=["moving-home"])
        make_service("Allotments", 510)
        make_service("Zoo licence", 699, published=False)
    soup = get_page(client, "council_services.index")
    nav = soup.find("nav", attrs={"aria-label": "Services by letter"})
    linked = {a.get_text(strip=True)[-1] for a in nav.find_all("a")}
    assert linked == {"A", "B"}
    assert "Z" in nav.get_text()  # shown, not linked (the draft is not counted)
    soup = get_page(client, "council_services.index", letter="B")
    assert [a.get_text() for a in soup.select(".council-services-list a")] == ["Bulky waste"]
    soup = get_page(client, "council_services.index", letter="Q")
    assert "There are no services here yet" in soup.get_text()
    assert client.get("/services?letter=%C3%A9").status_code == 404


def test_topic_and_life_event(app, client) -> None:
    with app.app_context():
        make_service("Bulky waste", 528, topics=["bins-and-recycling"], life_events=["moving-home"])
    soup = get_page(client, "council_services.topic", slug="bins-and-recycling")
    assert "Bulky waste" in soup.get_text()
    for slug in (
        "moving-home",
        "having-a-baby",
        "bereavement",
        "starting-a-business",
        "getting-older",
        "looking-for-work",
    ):
        get_page(client, "council_services.life_event", slug=slug)
    assert "Bulky waste" in get_page(client, "council_services.life_event", slug="moving-home").text
    assert client.get("/services/topic/nope").status_code == 404
    # the home page links the life events
    assert "/services/life-event/bereavement" in client.get("/").get_data(as_text=True)


def test_service_page_has_do_it_online_buttons_contacts_notice_and_review(app, client) -> None:
    with app.app_context():
        make_service(
            "Housing repairs",
            141,
            [
                {"lgil": 0, "e_enabled": False},
                {"lgil": 8, "e_enabled": True, "channels": ["web"], "evidence_url": "/info"},
                {"lgil": 2, "e_enabled": True, "channels": ["phone"]},
            ],
            body="## Emergencies\n\n<script>alert(1)</script> Call us [now](https://example.org).",
            phone="01632 960000",
            status_notice="Repairs are delayed by snow",
            last_reviewed=date(2026, 1, 5),
            related_links=[{"text": "Shelter", "url": "https://england.shelter.org.uk/"}],
        )
        set_portal_delivery("repairs", "installed", 141, 0, "Report a repair", "/repairs/start")
        db.session.commit()
    response = client.get("/services/housing-repairs")
    soup = check_html(response)
    buttons = {a["href"]: a.get_text(" ", strip=True) for a in soup.select("a.govuk-button")}
    # the button says what it does (the delivery's own words), not the LGIL category
    assert buttons["/repairs/start"] == "Report a repair"
    assert "/info" in buttons
    text = soup.get_text(" ", strip=True)
    assert "Repairs are delayed by snow" in text
    assert "last reviewed 5 January 2026" in text
    # other ways are ways to contact us, not LGIL categories and channel codes
    assert "Collecting revenue" not in text
    assert "Phone 01632 960000" in text
    assert "In person at Town Hall, Market Square, Castlebrook CK1 1AA" in text
    assert "Shelter" in text and "01632 960000" in text
    html = response.get_data(as_text=True)
    # markup typed into the body is dropped: neither run nor shown to residents as text
    assert "<script>alert(1)</script>" not in html and "&lt;script" not in html
    assert soup.find("h2", string="Emergencies") is not None
    assert client.get("/services/nope").status_code == 404


def test_draft_service_is_not_public(app, client) -> None:
    with app.app_context():
        make_service("Draft page", 77, published=False)
    assert client.get("/services/draft-page").status_code == 404


def test_performance_page_shows_figure_breakdowns_gaps_exclusions_and_trend(app, client) -> None:
    with app.app_context():
        make_service(
            "Register a death",
            321,
            [
                {"lgil": 1, "e_enabled": True, "channels": ["web"]},
                {"lgil": 0, "permissible": False, "exclusion_reason": "Attend in person by law"},
                {"lgil": 8, "target_date": date(2030, 1, 31)},
            ],
            department="Registration",
        )
        take_snapshot("scheduled")
        db.session.commit()
    soup = get_page(client, "council_services.performance")
    text = soup.get_text(" ", strip=True)
    assert "50.0%" in text and "1 of the 2" in text
    assert "Attend in person by law" in text
    assert "31 January 2030" in text
    assert "Registration" in text
    assert soup.find("svg") is not None and soup.find("rect") is not None
    assert soup.find("caption", string="BVPI 157 snapshots") is not None


def test_quarterly_snapshot_job(app) -> None:
    from portal.council_services.jobs import quarterly_bvpi157_snapshot

    with app.app_context():
        make_service("X", 1, [{"lgil": 0, "e_enabled": True, "channels": ["web"]}])
        quarterly_bvpi157_snapshot.call_local()
        snap = db.session.query(Bvpi157Snapshot).one()
        assert snap.percent == 100.0 and snap.source == "scheduled"
