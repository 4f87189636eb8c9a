"""Holding the outbox: a restored database sends nothing until its emails are released."""

from __future__ import annotations

from sqlalchemy import select

from portal.common.models import OutboxEmail, utcnow
from portal.common.outbox import deliver_pending
from portal.extensions import db


def _pending_row(number: int) -> OutboxEmail:
    # Added directly (not through queue_email) so no delivery job runs at commit, as in a
    # database restored from a backup taken while emails were waiting.
    return OutboxEmail(
        to_address=f"resident{number}@example.com",
        subject=f"Reference {number}",
        body_text="Body",
        headers={},
        status=OutboxEmail.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
        message_id=f"<restored-{number}@portal.test>",
    )


def _statuses() -> list[str]:
    return list(db.session.scalars(select(OutboxEmail.status).order_by(OutboxEmail.id)))


def test_held_emails_are_not_sent_until_released(app):
    runner = app.test_cli_runner()
    with app.app_context():
        db.session.add_all([_pending_row(n) for n in range(1, 4)])
        db.session.commit()

    result = runner.invoke(args=["outbox", "hold"])
    assert result.exit_code == 0 and result.output.strip() == "3 held", result.output
    with app.app_context():
        assert deliver_pending() == 0
        assert _statuses() == ["held", "held", "held"]

    result = runner.invoke(args=["outbox", "release"])
    assert result.exit_code == 0 and result.output.strip() == "3 released", result.output
    with app.app_context():
        assert deliver_pending() == 3
        assert _statuses() == ["sent", "sent", "sent"]


def test_hold_leaves_sent_and_failed_emails_alone(app):
    with app.app_context():
        rows = [_pending_row(n) for n in range(3)]
        rows[0].status = OutboxEmail.SENT
        rows[1].status = OutboxEmail.FAILED
        db.session.add_all(rows)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "hold"])
    assert result.output.strip() == "1 held", result.output
    with app.app_context():
        assert _statuses() == ["sent", "failed", "held"]
