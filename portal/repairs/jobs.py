"""Repairs background jobs: reminder emails the day before each appointment, and removing the
photos of reports that were never sent."""

from __future__ import annotations

from huey import crontab

from portal.db import write_intent
from portal.extensions import db
from portal.jobs import huey, with_app_context


@huey.periodic_task(crontab(minute="0"))
@with_app_context
def send_appointment_reminders() -> int:
    """Hourly; each appointment tomorrow gets one reminder (claimed by a conditional update)."""
    from portal.repairs.services import send_reminders

    with write_intent():
        sent = send_reminders()
        db.session.commit()
    return sent


@huey.periodic_task(crontab(minute="40"))
@with_app_context
def purge_unsent_repair_photos() -> int:
    """Hourly; deletes uploaded photos no sent report refers to, once a day old."""
    from portal.repairs.photos import purge_unsent_photos

    with write_intent():
        removed = purge_unsent_photos()
        db.session.commit()
    return removed
