"""Periodic planning jobs: the daily and weekly alert digests."""

from __future__ import annotations

from huey import crontab

from portal.db import write_intent
from portal.extensions import db
from portal.jobs import huey, with_app_context


@huey.periodic_task(crontab(hour="7", minute="0"))
@with_app_context
def daily_digests() -> int:
    from portal.planning.services import send_digests

    with write_intent():
        sent = send_digests("daily")
        db.session.commit()
    return sent


@huey.periodic_task(crontab(day_of_week="1", hour="7", minute="15"))
@with_app_context
def weekly_digests() -> int:
    from portal.planning.services import send_digests

    with write_intent():
        sent = send_digests("weekly")
        db.session.commit()
    return sent
