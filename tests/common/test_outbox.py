"""The email outbox: .eml files, SMTP to a real local server, retries, failures, no double send."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from portal.common import outbox
from portal.common.models import OutboxEmail, utcnow
from portal.extensions import db


class Recorder:
    """An aiosmtpd handler that keeps every message it accepts (optionally slowly)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.messages: list[bytes] = []
        self.delay = delay
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        if self.delay:
            time.sleep(self.delay)  # blocks the server loop: the sender waits, like a slow relay
        with self._lock:
            self.messages.append(envelope.content)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_smtp(port: int, handler: Recorder) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def queue_without_delivering(count: int = 1) -> list[int]:
    """Queue emails and commit without the immediate delivery job (as if the queue were busy)."""
    emails = [outbox.queue_email(f"r{i}@example.com", f"Subject {i}", "Body") for i in range(count)]
    db.session.flush()
    ids = [e.id for e in emails]
    db.session.info.pop(outbox._SESSION_FLAG, None)
    db.session.commit()
    return ids


def statuses() -> list[tuple[str, int]]:
    """(status, attempts) of every outbox row; ends the read so a delivery can take the lock."""
    db.session.expire_all()
    rows = [(e.status, e.attempts) for e in db.session.scalars(select(OutboxEmail))]
    db.session.rollback()
    return rows


def only_email() -> dict[str, object]:
    email = db.session.scalar(select(OutboxEmail))
    values = {
        "status": email.status,
        "attempts": email.attempts,
        "last_error": email.last_error,
        "next_attempt_at": email.next_attempt_at.replace(tzinfo=None),
    }
    db.session.rollback()
    return values


def test_committed_email_is_delivered_to_an_eml_file(app_ctx):
    outbox.queue_email("resident@example.com", "Your repair", "We will visit on Monday.")
    db.session.commit()  # jobs run immediately in tests: the delivery job ran on commit

    files = list(Path(app_ctx.config["OUTBOX_DIR"]).glob("*.eml"))
    assert len(files) == 1
    message = message_from_bytes(files[0].read_bytes())
    assert message["To"] == "resident@example.com"
    assert message["Subject"] == "Your repair"
    assert "Castlebrook Council" in message["From"]
    assert message.get_payload(decode=True).decode().strip() == "We will visit on Monday."
    assert statuses() == [("sent", 1)]
    assert outbox.deliver_pending() == 0  # nothing is sent twice
    assert len(list(Path(app_ctx.config["OUTBOX_DIR"]).glob("*.eml"))) == 1


def test_smtp_delivery_to_a_local_server(make_app):
    port = free_port()
    handler = Recorder()
    controller = start_smtp(port, handler)
    try:
        app = make_app(smtp_url=f"smtp://127.0.0.1:{port}?timeout=5")
        with app.app_context():
            outbox.queue_email("a@example.com", "Hello", "First", {"X-Portal-Kind": "test"})
            db.session.commit()
            assert statuses() == [("sent", 1)]
        assert len(handler.messages) == 1
        message = message_from_bytes(handler.messages[0])
        assert message["Subject"] == "Hello"
        assert message["X-Portal-Kind"] == "test"
        assert not list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
    finally:
        controller.stop()


def test_smtp_failure_is_retried_with_back_off_and_sent_exactly_once(make_app):
    port = free_port()  # nothing listens here yet: the SMTP server is down
    app = make_app(smtp_url=f"smtp://127.0.0.1:{port}?timeout=5")
    handler = Recorder()
    with app.app_context():
        outbox.queue_email("a@example.com", "Retry me", "Body")
        db.session.commit()  # the delivery job runs and fails
        email = only_email()
        assert (email["status"], email["attempts"]) == ("pending", 1)
        assert "ConnectionRefusedError" in email["last_error"]
        assert email["next_attempt_at"] > utcnow().replace(tzinfo=None) + timedelta(seconds=50)

        assert outbox.deliver_pending() == 0  # not due yet: back-off is respected
        controller = start_smtp(port, handler)  # the server comes back
        try:
            assert outbox.deliver_pending() == 0  # still not due
            later = utcnow() + timedelta(minutes=2)
            assert outbox.deliver_pending(now=later) == 1
            assert outbox.deliver_pending(now=later + timedelta(hours=1)) == 0
        finally:
            controller.stop()
        assert only_email()["last_error"] is None
        assert statuses() == [("sent", 2)]
    assert len(handler.messages) == 1


def test_back_off_doubles_and_is_capped():
    waits = [outbox.backoff(n) for n in range(1, 12)]
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(waits) == timedelta(hours=6)


def test_row_is_marked_failed_after_the_maximum_attempts(make_app):
    app = make_app(smtp_url=f"smtp://127.0.0.1:{free_port()}?timeout=2")
    with app.app_context():
        queue_without_delivering()
        now = utcnow()
        for _ in range(outbox.MAX_ATTEMPTS):
            now += timedelta(hours=7)  # past any back-off
            outbox.deliver_pending(now=now)
        assert statuses() == [("failed", outbox.MAX_ATTEMPTS)]
        # a failed row is never picked up again
        assert outbox.deliver_pending(now=now + timedelta(days=30)) == 0
        assert statuses() == [("failed", outbox.MAX_ATTEMPTS)]


def test_two_deliveries_at_once_never_send_a_row_twice(make_app):
    port = free_port()
    handler = Recorder(delay=0.05)
    controller = start_smtp(port, handler)
    try:
        app = make_app(smtp_url=f"smtp://127.0.0.1:{port}?timeout=10")
        with app.app_context():
            queue_without_delivering(8)
        results: list[int] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def deliver() -> None:
            try:
                with app.app_context():
                    barrier.wait()
                    results.append(outbox.deliver_pending())
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        assert sum(results) == 8
        with app.app_context():
            assert statuses() == [("sent", 1)] * 8
    finally:
        controller.stop()
    subjects = sorted(message_from_bytes(m)["Subject"] for m in handler.messages)
    assert subjects == sorted(f"Subject {i}" for i in range(8))


def test_email_queued_in_a_transaction_that_rolls_back_is_never_sent(make_app):
    port = free_port()
    handler = Recorder()
    controller = start_smtp(port, handler)
    try:
        app = make_app(smtp_url=f"smtp://127.0.0.1:{port}?timeout=5")
        with app.app_context():
            outbox.queue_email("a@example.com", "Never", "Body")
            db.session.flush()
            db.session.rollback()
            assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
            db.session.rollback()
            assert outbox.deliver_pending(now=utcnow() + timedelta(days=1)) == 0
            db.session.commit()  # a later commit does not resurrect it
        assert handler.messages == []
        assert not list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
    finally:
        controller.stop()


@pytest.mark.parametrize("view_fails", [True, False])
def test_email_from_a_failing_request_is_dropped_with_its_change(app, view_fails):
    @app.post("/_test/queue")
    def _queue():
        outbox.queue_email("a@example.com", "From a request", "Body")
        if view_fails:
            raise RuntimeError("the business change failed")
        db.session.commit()
        return "ok"

    app.config["WTF_CSRF_ENABLED"] = False
    response = app.test_client().post("/_test/queue")
    assert response.status_code == (500 if view_fails else 200)
    with app.app_context():
        assert len(statuses()) == (0 if view_fails else 1)
    assert len(list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))) == (0 if view_fails else 1)
