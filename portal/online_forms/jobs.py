"""Periodic jobs: the daily digest for each office, old drafts, links to finish paying."""

from __future__ import annotations

from huey import crontab

from portal.db import write_intent
from portal.jobs import huey, with_app_context


@huey.periodic_task(crontab(hour="7", minute="0"))
@with_app_context
def daily_forms_digest() -> int:
    from portal.online_forms.services import queue_daily_digests

    with write_intent():
        return queue_daily_digests()


@huey.periodic_task(crontab(hour="3", minute="30"))
@with_app_context
def delete_abandoned_form_drafts() -> int:
    from portal.online_forms.services import delete_abandoned_drafts

    with write_intent():
        return delete_abandoned_drafts()


@huey.periodic_task(crontab(minute="*/15"))
@with_app_context
def email_links_to_finish_paying() -> int:
    from portal.online_forms.services import remind_unpaid

    with write_intent():
        return remind_unpaid()
