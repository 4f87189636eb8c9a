"""A made-up gazetteer for the demo council: streets of numbered houses in each ward.

Generated from a fixed seed, so every run produces the same addresses, UPRNs and postcodes.
Nothing here comes from a licensed address dataset.
"""

from __future__ import annotations

import math
import random

from portal.common.gazetteer.geography import DEMO_WARD_BOXES
from portal.common.models import Address
from portal.extensions import db

STREET_NAMES = [
    "Abbey Road",
    "Ashfield Avenue",
    "Beech Grove",
    "Bridge Street",
    "Castle Hill",
    "Cedar Close",
    "Chapel Lane",
    "Church Street",
    "Elm Terrace",
    "Ferry Lane",
    "Foundry Row",
    "Greenway",
    "Hawthorn Drive",
    "High Street",
    "Holly Bank",
    "Kiln Lane",
    "Larch Way",
    "Linden Crescent",
    "Market Street",
    "Meadow View",
    "Mill Lane",
    "Oak Avenue",
    "Orchard Close",
    "Park Road",
    "Priory Walk",
]
HOUSES_PER_STREET = 25
STREETS_PER_WARD = 4
TOWN = "Castlebrook"


def demo_addresses() -> list[dict[str, object]]:
    """Every demo address as a dict of Address columns."""
    rng = random.Random(1607)
    names = iter(STREET_NAMES)
    rows: list[dict[str, object]] = []
    uprn = 100090000000
    for district, (ward, box) in enumerate(DEMO_WARD_BOXES.items(), start=1):
        for street_index in range(STREETS_PER_WARD):
            street = next(names)
            lat0 = rng.uniform(box.south + 0.004, box.north - 0.008)
            lon0 = rng.uniform(box.west + 0.004, box.east - 0.012)
            bearing = rng.uniform(0, math.pi / 2)
            sector = street_index + 1
            for number in range(1, HOUSES_PER_STREET + 1):
                step = number * 0.00012  # about 13 m between houses
                unit = "AB" if number <= 12 else "AD"
                uprn += 1
                rows.append(
                    {
                        "uprn": str(uprn),
                        "line1": f"{number} {street}",
                        "line2": None,
                        "town": TOWN,
                        "postcode": f"CK{district} {sector}{_unit(street_index, unit)}",
                        "latitude": round(lat0 + step * math.sin(bearing), 6),
                        "longitude": round(lon0 + step * math.cos(bearing) * 1.6, 6),
                        "ward": ward,
                    }
                )
    return rows


def _unit(street_index: int, base: str) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return base[0] + letters[(letters.index(base[1]) + street_index * 2) % len(letters)]


def load_demo_gazetteer() -> int:
    """Insert the demo addresses that are missing; returns how many were added."""
    existing = set(db.session.scalars(db.select(Address.uprn)).all())
    added = 0
    for row in demo_addresses():
        if row["uprn"] not in existing:
            db.session.add(Address(**row))
            added += 1
    db.session.commit()
    return added
