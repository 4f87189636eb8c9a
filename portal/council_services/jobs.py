"""Periodic jobs: the quarterly BVPI 157 snapshot and daily review reminders to owners."""

from __future__ import annotations

from huey import crontab

from portal.extensions import db
from portal.jobs import huey, with_app_context


@huey.periodic_task(crontab(month="1,4,7,10", day="1", hour="1", minute="0"))
@with_app_context
def quarterly_bvpi157_snapshot() -> float:
    from portal.council_services.services import take_snapshot

    snapshot = take_snapshot("scheduled")
    db.session.commit()
    return snapshot.percent


@huey.periodic_task(crontab(hour="7", minute="30"))
@with_app_context
def review_reminders() -> int:
    from portal.council_services.services import send_review_reminders

    sent = send_review_reminders()
    db.session.commit()
    return sent
