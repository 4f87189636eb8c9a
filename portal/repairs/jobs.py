"""Repairs background jobs: reminder emails the day before each appointment."""

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
