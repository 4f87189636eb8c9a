"""Garden waste subscribers join the garden round when they pay and leave it when they stop."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.common.clock import uk_today
from portal.common.models import Address
from portal.extensions import db
from portal.garden import services as garden_services
from portal.garden.models import CANCELLED, GardenSubscription
from portal.waste import services as waste
from portal.waste.demo import load_demo_waste
from tests.garden.conftest import UPRN, pay, subscribe
from tests.helpers.pages import check_html

NEXT_GARDEN = re.compile(r"Garden waste:? (Monday|Tuesday|Wednesday|Thursday|Friday|Saturday) \d")


def garden_days(app) -> list:  # noqa: ANN001
    with app.app_context():
        schedule = waste.schedule_for(db.session.get(Address, UPRN))
        return [ac.day for ac in schedule.next_by_type if ac.type.code == waste.GARDEN]


def test_paying_puts_the_address_on_the_garden_round_and_cancelling_takes_it_off(garden):
    with garden.app_context():
        load_demo_waste()
        db.session.commit()
    client = garden.test_client()
    page = check_html(client.get(f"/bin-collection/{UPRN}")).get_text(" ", strip=True)
    assert not NEXT_GARDEN.search(page)
    assert garden_days(garden) == []

    pay(client, subscribe(client))
    with garden.app_context():
        item = db.session.scalar(select(GardenSubscription))
        assert item.status == "active"
        (on_round,) = [
            a for a in waste.assignments_for(UPRN) if a.round.collection_type.code == waste.GARDEN
        ]
        assert (on_round.start_date, on_round.end_date) == (item.starts_on, item.ends_on)
    (next_garden,) = garden_days(garden)
    assert next_garden >= uk_today()
    page = check_html(client.get(f"/bin-collection/{UPRN}")).get_text(" ", strip=True)
    assert NEXT_GARDEN.search(page)

    with garden.app_context():
        item = db.session.scalar(select(GardenSubscription))
        assert garden_services.end(item, CANCELLED)
        db.session.commit()
        (on_round,) = [
            a for a in waste.assignments_for(UPRN) if a.round.collection_type.code == waste.GARDEN
        ]
        assert on_round.end_date == uk_today()
    assert all(day <= uk_today() for day in garden_days(garden))
