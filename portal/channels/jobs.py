"""Periodic job: end idle kiosk visits even when no browser asks (no JavaScript, power cut)."""

from __future__ import annotations

from huey import crontab

from portal.jobs import huey, with_app_context


@huey.periodic_task(crontab(minute="*"))
@with_app_context
def reap_idle_kiosk_sessions() -> int:
    from portal.channels.kiosk import reap_idle_sessions

    return reap_idle_sessions()
