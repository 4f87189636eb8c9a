"""Garden waste subscribers join and leave a garden round (the garden slice's signals)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from portal.common.clock import uk_today
from portal.extensions import db
from portal.waste.models import CollectionType, Round
from portal.waste.services import GARDEN, assign_address_to_round, assignments_for

log = logging.getLogger(__name__)


def garden_round_to_join(uprn: str) -> Round | None:
    """The garden round an address joins: the one it was on before (a renewal), else the one on
    the weekday its other bins are collected, else the council's first garden round."""
    assignments = assignments_for(uprn)
    for assignment in reversed(assignments):
        if assignment.round.collection_type.code == GARDEN:
            return assignment.round
    gardens = list(
        db.session.scalars(
            select(Round)
            .join(CollectionType)
            .where(CollectionType.code == GARDEN)
            .order_by(Round.id)
        )
    )
    if not gardens:
        return None
    weekdays = {a.round.weekday for a in assignments_for(uprn, on=uk_today())}
    return next((r for r in gardens if r.weekday in weekdays), gardens[0])


def join_garden_round(subscription: Any) -> None:
    """A subscription became active: its address is on a garden round for the subscription's dates."""
    garden_round = garden_round_to_join(subscription.uprn)
    if garden_round is None:
        log.warning("no garden round for subscription %s", subscription.reference)
        return
    assign_address_to_round(
        subscription.uprn, garden_round.id, subscription.starts_on, subscription.ends_on
    )


def leave_garden_round(subscription: Any) -> None:
    """A subscription ended (expired or cancelled): garden collections stop after its last day,
    unless another active subscription (a renewal) carries the address on."""
    from portal.garden.models import ACTIVE, GardenSubscription

    last_day = min(filter(None, [subscription.ends_on, uk_today()]))
    renewals = db.session.scalars(
        select(GardenSubscription.ends_on).where(
            GardenSubscription.uprn == subscription.uprn,
            GardenSubscription.status == ACTIVE,
            GardenSubscription.id != subscription.id,
        )
    )
    last_day = max([last_day, *filter(None, renewals)])
    for assignment in assignments_for(subscription.uprn):
        if assignment.round.collection_type.code != GARDEN:
            continue
        if assignment.start_date is not None and assignment.start_date > last_day:
            db.session.delete(assignment)
        elif assignment.end_date is None or assignment.end_date > last_day:
            assignment.end_date = last_day


def connect() -> None:
    from portal.garden.services import subscription_ended, subscription_started

    subscription_started.connect(join_garden_round)
    subscription_ended.connect(leave_garden_round)
