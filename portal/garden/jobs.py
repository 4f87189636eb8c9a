"""Daily garden waste jobs: renewal reminders, and ending subscriptions past their last day."""

from __future__ import annotations

from huey import crontab

from portal.db import write_intent
from portal.extensions import db
from portal.jobs import huey, with_app_context


@huey.periodic_task(crontab(hour="6", minute="30"))
@with_app_context
def garden_waste_daily() -> int:
    from portal.garden.services import end_expired, send_renewal_reminders

    with write_intent():
        ended = end_expired()
        db.session.commit()
        sent = send_renewal_reminders()
        db.session.commit()
    return ended + sent
