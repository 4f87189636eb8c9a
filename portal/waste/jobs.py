"""Bin-day jobs: the evening reminders, every quarter of an hour from the council's set time."""

from __future__ import annotations

from huey import crontab

from portal.db import write_intent
from portal.jobs import huey, with_app_context


@huey.periodic_task(crontab(minute="*/15"))
@with_app_context
def bin_reminders() -> int:
    """Queue tomorrow's reminders once the council's reminder time has passed (UK time).

    Runs every 15 minutes so a worker that was down at the set time catches up; the claim rows
    make every run after the first queue nothing new.
    """
    from portal.extensions import db
    from portal.waste.services import queue_reminders, reminders_due_now

    with write_intent():
        if not reminders_due_now():
            db.session.rollback()
            return 0
        db.session.commit()
        return queue_reminders()
