"""Periodic jobs: BVPI 157 snapshots (quarterly and daily), review and target-date reminders."""

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


@huey.periodic_task(crontab(hour="0", minute="20"))
@with_app_context
def daily_bvpi157_snapshot() -> float:
    """One snapshot per UK day for the forecast's actual line (a rerun on the day adds nothing)."""
    from portal.council_services.forecast import take_daily_snapshot

    snapshot, _ = take_daily_snapshot()
    db.session.commit()
    return snapshot.percent


@huey.periodic_task(crontab(hour="7", minute="40"))
@with_app_context
def target_reminders() -> int:
    """Email each owner once when an e-enablement target date passes unmet."""
    from portal.council_services.forecast import send_target_reminders

    sent = send_target_reminders()
    db.session.commit()
    return sent
