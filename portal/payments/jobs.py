"""The reconciler as a scheduled job (every 15 minutes)."""

from __future__ import annotations

import logging

from huey import crontab

from portal.jobs import huey, with_app_context

log = logging.getLogger(__name__)


@huey.periodic_task(crontab(minute="*/15"))
@with_app_context
def reconcile_payments() -> str:
    from portal.payments.services import reconcile

    report = str(reconcile())
    log.info("payments reconciled: %s", report)
    return report
