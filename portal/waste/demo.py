"""Demo bin day: four collection types, rounds for every demo address, a bank-holiday change."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.common.models import Address
from portal.extensions import db
from portal.waste import services
from portal.waste.models import CollectionChange, CollectionType, Round, RoundAssignment

TYPES = [
    (
        "refuse",
        "Rubbish",
        "Black bin",
        "Food packaging that cannot be recycled\nNappies and hygiene products\nPolystyrene\nCrisp packets and plastic film",
        "Batteries\nElectrical items\nGarden waste",
    ),
    (
        "recycling",
        "Recycling",
        "Blue bin",
        "Paper and cardboard\nPlastic bottles, pots, tubs and trays\nFood and drink cans\nGlass bottles and jars\nFoil",
        "Plastic bags and film\nNappies\nFood waste",
    ),
    (
        "food",
        "Food waste",
        "Green caddy",
        "Cooked and raw food\nTea bags and coffee grounds\nFruit and vegetable peelings\nBones",
        "Packaging\nLiquids",
    ),
    (
        "garden",
        "Garden waste",
        "Brown bin",
        "Grass cuttings\nLeaves and hedge trimmings\nSmall branches\nFlowers and plants",
        "Soil and turf\nFood waste\nAnimal waste",
    ),
]

FIRST_WEEK = date(2026, 1, 5)  # a Monday: week A
CHRISTMAS = (date(2026, 12, 25), date(2027, 1, 1), 1, "Christmas and New Year bank holidays")


def load_demo_waste() -> list[str]:
    types = {t.code: t for t in db.session.scalars(select(CollectionType))}
    for order, (code, name, colour, contents, not_accepted) in enumerate(TYPES):
        if code not in types:
            types[code] = CollectionType(
                code=code,
                name=name,
                colour=colour,
                contents=contents,
                not_accepted=not_accepted,
                sort_order=order,
            )
            db.session.add(types[code])
    db.session.flush()
    wards = sorted({w for w in db.session.scalars(select(Address.ward).distinct()) if w})
    made = 0
    for index, ward in enumerate(wards):
        weekday = index % 5
        for code, frequency, offset_weeks in (
            ("refuse", Round.FORTNIGHTLY, 0),
            ("recycling", Round.FORTNIGHTLY, 1),
            ("food", Round.WEEKLY, 0),
            ("garden", Round.FORTNIGHTLY, 1),
        ):
            name = f"{ward} {types[code].name.lower()}"
            r = db.session.scalar(select(Round).where(Round.name == name))
            if r is None:
                r = Round(
                    name=name,
                    type_id=types[code].id,
                    weekday=weekday,
                    frequency=frequency,
                    pattern="1" if frequency == Round.WEEKLY else "10",
                    start_date=FIRST_WEEK.replace(day=FIRST_WEEK.day + 7 * offset_weeks),
                )
                db.session.add(r)
                db.session.flush()
                made += 1
            if code == "garden":
                continue  # garden waste is collected only from subscribers
            assigned = set(
                db.session.scalars(
                    select(RoundAssignment.uprn).where(RoundAssignment.round_id == r.id)
                )
            )
            for uprn in db.session.scalars(select(Address.uprn).where(Address.ward == ward)):
                if uprn not in assigned:
                    db.session.add(RoundAssignment(uprn=uprn, round_id=r.id))
    if (
        db.session.scalar(
            select(CollectionChange).where(CollectionChange.from_date == CHRISTMAS[0])
        )
        is None
    ):
        first, last, shift, reason = CHRISTMAS
        db.session.add(
            CollectionChange(
                round_id=None, from_date=first, to_date=last, shift_days=shift, reason=reason
            )
        )
    services.ensure_portal_deliveries()
    db.session.commit()
    return [f"{len(types)} collection types, {made} rounds added, a Christmas change"]
