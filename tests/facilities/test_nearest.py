"""Find your nearest: distances from a postcode, kinds, bad input, and the staff pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.common.models import AuditEvent, PortalDelivery
from portal.extensions import db
from portal.facilities.demo import load_demo_facilities
from portal.facilities.models import Facility
from portal.facilities.services import Nearby, clock_text, hours_rows, postcode_point
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token, error_summary


@pytest.fixture
def places(app):
    with app.app_context():
        load_demo_gazetteer()
        load_demo_facilities()
        db.session.commit()
    return app


def listed(soup) -> list[tuple[str, str]]:
    return [
        (
            item.h3.get_text(strip=True),
            item.select_one(".facilities-distance").get_text(strip=True),
        )
        for item in soup.select(".facilities-item")
    ]


def test_nearest_lists_places_by_distance_in_miles(places):
    client = places.test_client()
    soup = check_html(client.get("/find-your-nearest?postcode=ck11ab"))
    found = listed(soup)
    assert len(found) == 5
    assert soup.h2.get_text(strip=True) == "5 nearest to CK1 1AB"
    with places.app_context():
        from portal.common.gazetteer.services import distance_metres

        _, point = postcode_point("CK1 1AB")
        expected = sorted(
            (
                (distance_metres(point, (f.latitude, f.longitude)), f.name)
                for f in db.session.scalars(select(Facility))
            ),
        )[:5]
    assert [name for name, _ in found] == [name for _, name in expected]
    for (_, distance), (metres, _) in zip(found, expected, strict=True):
        assert distance == f"{Nearby(None, metres).miles} away"  # type: ignore[arg-type]
        assert distance.endswith("miles away") or distance == "1 mile away"
    # opening hours as a table of the seven days, in words
    first = soup.select_one(".facilities-item")
    rows = [r.get_text(" ", strip=True) for r in first.select("tbody tr")]
    assert len(rows) == 7 and rows[0].startswith("Monday")


def test_filtered_by_kind(places):
    client = places.test_client()
    soup = check_html(
        client.get("/find-your-nearest?postcode=CK1+1AB&kind=library&kind=recycling_centre")
    )
    names = [name for name, _ in listed(soup)]
    assert names and all("Library" in n or "Recycling Centre" in n for n in names)
    assert {"Northgate Library", "Castlebrook Household Recycling Centre"} <= set(names)
    kiosks = [
        n
        for n, _ in listed(check_html(client.get("/find-your-nearest?postcode=CK1+1AB&kind=kiosk")))
    ]
    assert kiosks and all(n.startswith("Council kiosk") for n in kiosks)


@pytest.mark.parametrize(
    ("postcode", "message"),
    [
        ("", "Enter a postcode"),
        ("not a postcode", "Enter a real postcode, like CK1 2AB"),
        ("SW1A 1AA", "Enter a postcode in the Castlebrook Council area"),
        ("CK9 9ZZ", "We could not find any addresses for that postcode. Check it and try again"),
    ],
)
def test_bad_postcodes_are_explained(places, postcode, message):
    client = places.test_client()
    response = client.get("/find-your-nearest", query_string={"postcode": postcode})
    assert response.status_code == 400
    soup = check_html(response)
    assert error_summary(soup) == [message]
    assert soup.select_one("#postcode-error").get_text(strip=True).endswith(message)
    assert soup.select_one("#postcode")["value"] == postcode
    assert not soup.select(".facilities-item")


def test_page_without_a_postcode_offers_the_form_and_no_map(places):
    soup = check_html(places.test_client().get("/find-your-nearest"))
    assert soup.select_one("form #postcode") is not None
    assert soup.select_one("#facilities-map") is None


def test_map_markers_match_the_list(places):
    import json

    soup = check_html(places.test_client().get("/find-your-nearest?postcode=CK1+1AB"))
    box = soup.select_one("#facilities-map")
    assert box.has_attr("hidden")  # shown by the script only
    markers = json.loads(box["data-markers"])
    assert [m["name"] for m in markers] == [name for name, _ in listed(soup)]


def test_opening_hours_in_words():
    assert clock_text("09:00") == "9am"
    assert clock_text("13:30") == "1:30pm"
    assert clock_text("12:00") == "midday"
    facility = Facility(opening_hours=[{"opens": "08:00", "closes": "18:00"}, {}])
    assert hours_rows(facility)[:3] == [
        ("Monday", "8am to 6pm"),
        ("Tuesday", "Closed"),
        ("Wednesday", "Closed"),
    ]


def test_demo_deliveries_match_register_interactions(places):
    from portal.council_services.demo import load_demo_catalogue

    with places.app_context():
        load_demo_catalogue()
        from portal.council_services.models import Interaction, Service

        rows = db.session.scalars(
            select(PortalDelivery).where(PortalDelivery.kind == "facilities")
        ).all()
        assert rows
        for row in rows:
            assert db.session.scalar(
                select(Interaction.id)
                .join(Service)
                .where(Service.lgsl == row.lgsl, Interaction.lgil == row.lgil)
            ), (row.lgsl, row.lgil)


def fields(**changes: str) -> dict[str, str]:
    data = {
        "name": "Southgate Library",
        "kind": "library",
        "address": "3 South Road, Castlebrook",
        "postcode": "ck2 9sr",
        "latitude": "52.91",
        "longitude": "-1.55",
        "takes": "Batteries\n\nPrinter cartridges\n",
    }
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
        data[f"{day}_opens"] = "09:00" if day != "sunday" else ""
        data[f"{day}_closes"] = "17:30" if day != "sunday" else ""
    data.update(changes)
    return data


def test_staff_add_and_change_a_place_audited(places):
    editor = make_user(places, roles=("editor",))
    client = client_for(places, editor)
    token = csrf_token(client, "/staff/facilities/new")
    response = client.post("/staff/facilities/new", data={"csrf_token": token, **fields()})
    assert response.status_code == 303
    with places.app_context():
        place = db.session.scalar(select(Facility).where(Facility.name == "Southgate Library"))
        assert place.postcode == "CK2 9SR"
        assert place.takes == ["Batteries", "Printer cartridges"]
        assert place.opening_hours[0] == {"opens": "09:00", "closes": "17:30"}
        assert place.opening_hours[6] == {}
        place_id = place.id
    soup = check_html(client.get("/find-your-nearest?postcode=CK1+1AB&kind=library"))
    assert "Southgate Library" in [n for n, _ in listed(soup)]
    response = client.post(
        f"/staff/facilities/{place_id}/edit",
        data={"csrf_token": token, **fields(name="Southgate Community Library")},
    )
    assert response.status_code == 303
    client.post(
        f"/staff/facilities/{place_id}/retire", data={"csrf_token": token, "action": "retire"}
    )
    soup = check_html(client.get("/find-your-nearest?postcode=CK1+1AB&kind=library"))
    assert "Southgate Community Library" not in [n for n, _ in listed(soup)]
    with places.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "facility", AuditEvent.object_id == str(place_id))
            .order_by(AuditEvent.id)
        ).all()
        assert actions == ["facility.created", "facility.changed", "facility.retired"]
    check_html(client.get("/staff/facilities/"))


def test_staff_bad_input_shows_errors_and_keeps_answers(places):
    client = client_for(places, make_user(places, roles=("editor",)))
    token = csrf_token(client, "/staff/facilities/new")
    response = client.post(
        "/staff/facilities/new",
        data={
            "csrf_token": token,
            **fields(name="", kind="", latitude="north", monday_opens="9", monday_closes="08:00"),
        },
    )
    assert response.status_code == 400
    soup = check_html(response)
    assert error_summary(soup) == [
        "Enter the name of the place",
        "Select what kind of place it is",
        "Enter the latitude as a number, like 52.1234",
        "Enter the time it opens on Monday, like 09:00",
    ]
    assert soup.select_one("#address").get_text() == "3 South Road, Castlebrook"
    response = client.post(
        "/staff/facilities/new",
        data={"csrf_token": token, **fields(monday_opens="18:00", monday_closes="08:00")},
    )
    assert error_summary(check_html(response)) == [
        "The closing time on Monday must be after it opens"
    ]


def test_only_editors_and_admins_change_places(places):
    resident = client_for(places, make_user(places))
    assert resident.get("/staff/facilities/").status_code == 403
    officer = client_for(places, make_user(places, roles=("officer",)))
    assert officer.get("/staff/facilities/new").status_code == 403
    assert places.test_client().get("/staff/facilities/").status_code == 302


def test_a_library_with_an_enrolled_kiosk_is_found_as_a_kiosk(places):
    from portal.channels.kiosk import enrol_device

    staff = make_user(places, roles=("library",))
    client = places.test_client()
    url = "/find-your-nearest?postcode=CK1+1AB&kind=kiosk"
    before = [n for n, _ in listed(check_html(client.get(url)))]
    assert "Northgate Library" not in before
    with places.app_context():
        device, _token, _code = enrol_device("Northgate Library", "Terminal 1", staff.id)
        db.session.commit()
        device_id = device.id
    soup = check_html(client.get(url))
    names = [n for n, _ in listed(soup)]
    assert names[0] == "Northgate Library"  # the nearest to CK1 1AB
    assert "Council kiosk here" in soup.select_one("#facility-northgate-library").get_text()
    with places.app_context():
        from portal.channels.models import KioskDevice
        from portal.common.models import utcnow

        db.session.get(KioskDevice, device_id).revoked_at = utcnow()
        db.session.commit()
    assert "Northgate Library" not in [n for n, _ in listed(check_html(client.get(url)))]
