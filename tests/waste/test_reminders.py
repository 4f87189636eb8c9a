"""Reminders: double opt-in, one email per address per day whatever the number of bins,
one-click unsubscribe, and each reminder queued exactly once with two workers or a restart."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.common.clock import frozen_at
from portal.common.models import OutboxEmail
from portal.extensions import db
from portal.waste import services
from portal.waste.models import ReminderSent, ReminderSubscription
from tests.helpers.pages import check_html, csrf_token, error_summary
from tests.waste.conftest import ADDRESS, OTHER, make_round, only_rounds

MONDAY_EVENING = datetime(2026, 12, 7, 18, 30, tzinfo=UTC)  # reminders for Tuesday 8 December
TUESDAY = date(2026, 12, 8)


def emails(to: str | None = None, subject: str = "Bin collection tomorrow") -> list[OutboxEmail]:
    query = select(OutboxEmail).where(OutboxEmail.subject.startswith(subject))
    if to:
        query = query.where(OutboxEmail.to_address == to)
    return list(db.session.scalars(query.order_by(OutboxEmail.id)))


def _two_bins_on_tuesday(app) -> None:
    with app.app_context():
        only_rounds(ADDRESS, make_round("recycling", 1), make_round("food", 1))
        only_rounds(OTHER, make_round("refuse", 1))
        db.session.commit()


def _confirmed(uprn: str, email: str) -> None:
    row = services.subscribe_reminders(uprn, email)
    services.confirm_reminders(row)


def test_sign_up_confirm_and_one_click_unsubscribe_on_the_web(bins):
    _two_bins_on_tuesday(bins)
    client = bins.test_client()
    url = f"/bin-collection/{ADDRESS}/reminders"
    page = check_html(client.get(f"/bin-collection/{ADDRESS}"))
    assert page.find("a", href=url)
    bad = client.post(url, data={"csrf_token": csrf_token(client, url), "email": "not-an-email"})
    assert bad.status_code == 400
    assert error_summary(check_html(bad)) == [
        "Enter an email address in the correct format, like name@example.com"
    ]
    sent = client.post(
        url, data={"csrf_token": csrf_token(client, url), "email": "Ann@Example.com"}
    )
    assert "We sent a link to ann@example.com" in check_html(sent).get_text()
    with bins.app_context():
        confirmation = emails("ann@example.com", "Confirm your bin collection reminders")
        assert len(confirmation) == 1
        link = re.search(r"https?://\S+/confirm/\S+", confirmation[0].body_text).group(0)
        with frozen_at(MONDAY_EVENING):
            assert services.queue_reminders(TUESDAY) == 0  # not confirmed yet
    path = "/" + link.split("/", 3)[3]
    shown = check_html(client.get(path))
    assert shown.find("button", string=re.compile("Confirm"))
    done = check_html(client.post(path, data={"csrf_token": csrf_token(client, path)}))
    assert "Your reminders are on" in done.get_text()
    with bins.app_context(), frozen_at(MONDAY_EVENING):
        assert services.queue_reminders(TUESDAY) == 1
        [reminder] = emails("ann@example.com")
        assert reminder.subject == "Bin collection tomorrow: Recycling, Food waste"
        assert "Recycling (blue bin)" in reminder.body_text
        assert "Food waste (green caddy)" in reminder.body_text
        assert reminder.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = reminder.headers["List-Unsubscribe"].strip("<>")
    one_click = client.post(
        "/" + unsubscribe.split("/", 3)[3], data={"List-Unsubscribe": "One-Click"}
    )
    assert one_click.status_code == 200 and one_click.get_data(as_text=True) == "Unsubscribed\n"
    with bins.app_context():
        row = db.session.scalar(select(ReminderSubscription))
        assert row.unsubscribed_at is not None
        with frozen_at(MONDAY_EVENING):
            assert services.queue_reminders(date(2026, 12, 15)) == 0


def test_one_email_per_address_per_day_and_only_where_something_is_collected(bins):
    _two_bins_on_tuesday(bins)
    with bins.app_context():
        _confirmed(ADDRESS, "one@example.com")
        _confirmed(OTHER, "two@example.com")
        _confirmed("100090000003", "nothing@example.com")  # a demo Friday address
        db.session.commit()
        with frozen_at(MONDAY_EVENING):
            assert services.queue_reminders(TUESDAY) == 2
            assert services.queue_reminders(TUESDAY) == 0  # run again: nothing new
        assert [e.to_address for e in emails()] == ["one@example.com", "two@example.com"]


def test_the_claim_is_unique_per_subscription_and_day(bins):
    _two_bins_on_tuesday(bins)
    with bins.app_context():
        _confirmed(ADDRESS, "one@example.com")
        db.session.commit()
        sub_id = db.session.scalar(select(ReminderSubscription.id))
        db.session.add(ReminderSent(subscription_id=sub_id, collection_date=TUESDAY))
        db.session.commit()
        db.session.add(ReminderSent(subscription_id=sub_id, collection_date=TUESDAY))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_a_restart_mid_run_queues_each_reminder_once(bins, monkeypatch):
    _two_bins_on_tuesday(bins)
    with bins.app_context():
        for n in range(5):
            _confirmed(ADDRESS, f"r{n}@example.com")
        db.session.commit()
        real = services._reminder
        calls = {"n": 0}

        def crash_on_the_fourth(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 4:
                raise RuntimeError("worker killed")
            return real(*args, **kwargs)

        monkeypatch.setattr(services, "_reminder", crash_on_the_fourth)
        with frozen_at(MONDAY_EVENING), pytest.raises(RuntimeError):
            services.queue_reminders(TUESDAY, batch=2)
        db.session.rollback()
        assert len(emails()) == 2  # the first batch was committed, the second rolled back
        monkeypatch.setattr(services, "_reminder", real)
        with frozen_at(MONDAY_EVENING):
            assert services.queue_reminders(TUESDAY, batch=2) == 3
        assert sorted(e.to_address for e in emails()) == [f"r{n}@example.com" for n in range(5)]


def test_two_workers_at_once_queue_each_reminder_once(bins):
    _two_bins_on_tuesday(bins)
    with bins.app_context():
        for n in range(40):
            _confirmed(ADDRESS if n % 2 else OTHER, f"w{n}@example.com")
        db.session.commit()
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            with bins.app_context(), frozen_at(MONDAY_EVENING):
                start.wait()
                results.append(services.queue_reminders(TUESDAY, batch=5))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(results) == 40
    with bins.app_context():
        assert len(emails()) == 40
        assert db.session.scalar(select(func.count()).select_from(ReminderSent)) == 40


def test_the_council_sets_the_time(bins):
    with bins.app_context():
        services.set_reminder_time(19, 30)
        db.session.commit()
        with frozen_at(datetime(2026, 12, 7, 19, 0, tzinfo=UTC)):
            assert services.reminders_due_now() is False
        with frozen_at(datetime(2026, 12, 7, 19, 30, tzinfo=UTC)):
            assert services.reminders_due_now() is True
        # In summer the time is UK time (BST), not UTC.
        with frozen_at(datetime(2026, 6, 1, 18, 30, tzinfo=UTC)):
            assert services.reminders_due_now() is True
        with pytest.raises(services.WasteError):
            services.set_reminder_time(24, 0)
