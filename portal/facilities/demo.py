"""A few places in the made-up Castlebrook for "find your nearest"."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.facilities.models import Facility
from portal.facilities.services import sync_deliveries

WEEKDAYS_9_TO_5 = [{"opens": "09:00", "closes": "17:00"}] * 5 + [{}, {}]
TIP_HOURS = [{"opens": "08:00", "closes": "18:00"}] * 7
LIBRARY_HOURS = [{"opens": "09:30", "closes": "19:00"}] * 5 + [
    {"opens": "10:00", "closes": "16:00"},
    {},
]
TIP_TAKES = ["Garden waste", "Wood", "Electrical items", "Batteries", "Paint", "Cardboard"]

DEMO_FACILITIES = [
    (
        "castlebrook-recycling-centre",
        "recycling_centre",
        "Castlebrook Household Recycling Centre",
        "Tip Lane, Castlebrook",
        "CK4 9TL",
        52.9310,
        -1.5790,
        TIP_HOURS,
        TIP_TAKES,
    ),
    (
        "eastfield-recycling-centre",
        "recycling_centre",
        "Eastfield Household Recycling Centre",
        "Quarry Road, Eastfield, Castlebrook",
        "CK6 9QR",
        52.9150,
        -1.4300,
        TIP_HOURS,
        [*TIP_TAKES, "Rubble and soil (up to 3 bags a week)"],
    ),
    (
        "castlebrook-central-library",
        "library",
        "Castlebrook Central Library",
        "1 Market Square, Castlebrook",
        "CK3 9MS",
        52.9660,
        -1.5080,
        LIBRARY_HOURS,
        ["Batteries", "Printer cartridges"],
    ),
    (
        "northgate-library",
        "library",
        "Northgate Library",
        "22 North Street, Northgate, Castlebrook",
        "CK1 9NS",
        53.0020,
        -1.5900,
        LIBRARY_HOURS,
        [],
    ),
    (
        "castlebrook-civic-centre",
        "council_office",
        "Castlebrook Civic Centre",
        "Civic Way, Castlebrook",
        "CK3 9CW",
        52.9610,
        -1.5010,
        WEEKDAYS_9_TO_5,
        ["Blue badge applications", "Council tax enquiries"],
    ),
    (
        "central-library-kiosk",
        "kiosk",
        "Council kiosk at Castlebrook Central Library",
        "1 Market Square, Castlebrook",
        "CK3 9MS",
        52.9661,
        -1.5081,
        LIBRARY_HOURS,
        [],
    ),
    (
        "riverside-kiosk",
        "kiosk",
        "Council kiosk at Riverside Community Centre",
        "Mill Lane, Riverside, Castlebrook",
        "CK5 9ML",
        52.9300,
        -1.5000,
        WEEKDAYS_9_TO_5,
        [],
    ),
]


def load_demo_facilities() -> list[str]:
    """Idempotent: the demo places, once each."""
    existing = set(db.session.scalars(select(Facility.slug)))
    added = 0
    for slug, kind, name, address, postcode, lat, lon, hours, takes in DEMO_FACILITIES:
        if slug in existing:
            continue
        db.session.add(
            Facility(
                slug=slug,
                kind=kind,
                name=name,
                address=address,
                postcode=postcode,
                latitude=lat,
                longitude=lon,
                opening_hours=list(hours),
                takes=list(takes),
            )
        )
        added += 1
    sync_deliveries()
    db.session.commit()
    return [f"{added} places to visit added ({len(existing)} already there)"]
