"""The SMTP server is down for ten minutes, then back: every email is delivered exactly once.

The outage runs on the outbox's own clock (its `utcnow`), moved on in 30-second steps by the
test, as the periodic delivery job would call it each minute; the SMTP server is a real aiosmtpd
on loopback, stopped (connections refused) and started again on the same port.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta

import pytest

from portal.common import outbox
from portal.common.models import OutboxEmail, utcnow
from portal.extensions import db
from tests.reliability.conftest import free_port
from tests.reliability.smtp import Recorder, SmtpServer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]

EMAILS = 40


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):  # noqa: ANN204
        return self.now


def test_ten_minute_smtp_outage_delivers_every_email_once(make_app, monkeypatch):
    port = free_port()
    app = make_app(smtp_url=f"smtp://127.0.0.1:{port}?timeout=5")
    clock = Clock()
    monkeypatch.setattr(outbox, "utcnow", clock)
    recorder = Recorder()
    server = SmtpServer(recorder, port)  # not started: the server is down

    with app.app_context():
        for i in range(EMAILS):
            outbox.queue_email(f"resident{i}@example.com", f"Your request {i}", "Thank you.")
        db.session.commit()  # the delivery job runs now (jobs are immediate here) and fails
        assert db.session.query(OutboxEmail).filter_by(status="pending").count() == EMAILS
        db.session.rollback()  # deliver_pending uses its own session (SQLite: one writer)

        outage_end = clock.now + timedelta(minutes=10)
        while clock.now < outage_end:
            clock.now += timedelta(seconds=30)
            assert outbox.deliver_pending() == 0
        attempts = {e.attempts for e in db.session.query(OutboxEmail)}
        assert min(attempts) >= 3, attempts  # it kept trying during the outage
        db.session.rollback()
        assert recorder.received == []

        server.start()
        try:
            sent = 0
            give_up = clock.now + timedelta(hours=7)  # longer than the longest back-off
            while sent < EMAILS and clock.now < give_up:
                clock.now += timedelta(seconds=30)
                sent += outbox.deliver_pending()
            # later runs find nothing left to send
            for _ in range(5):
                clock.now += timedelta(minutes=30)
                assert outbox.deliver_pending() == 0
        finally:
            server.stop()

        db.session.expire_all()
        emails = db.session.query(OutboxEmail).all()
        assert {e.status for e in emails} == {OutboxEmail.SENT}
        received = Counter(recorder.message_ids())
        assert set(received) == {e.message_id for e in emails}
        assert max(received.values()) == 1, "an email was delivered twice"
        last = max(e.sent_at for e in emails)
        delay = (last if last.tzinfo else last.replace(tzinfo=UTC)) - outage_end
        print(f"\n{EMAILS} emails delivered {delay} after the SMTP server came back")
        assert delay <= timedelta(minutes=17)
