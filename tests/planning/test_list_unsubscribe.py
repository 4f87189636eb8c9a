"""List-Unsubscribe as mail clients read it (RFC 2369, RFC 8058), from a real SMTP server."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from urllib.parse import urlsplit

from sqlalchemy import select

from portal.extensions import db
from portal.planning.models import PlanningAlert
from tests.common.test_outbox import Recorder, free_port, start_smtp
from tests.planning.conftest import make_application, radius_alert

BASE = "https://planning.castlebrook.example"


def test_alert_email_has_a_plain_one_click_unsubscribe_header(make_app):
    recorder = Recorder()
    port = free_port()
    controller = start_smtp(port, recorder)
    try:
        app = make_app(base_url=BASE, smtp_url=f"smtp://127.0.0.1:{port}")
        with app.app_context():
            alert = radius_alert(email="header@example.com")
            token = alert.token
            db.session.commit()
            make_application()
            db.session.commit()
    finally:
        controller.stop()
    messages = [BytesParser(policy=policy.default).parsebytes(raw) for raw in recorder.messages]
    alert_mails = [m for m in messages if "New planning applications" in m["Subject"]]
    assert len(alert_mails) == 1
    raw = recorder.messages[messages.index(alert_mails[0])]
    assert b"=?utf-8?" not in raw.split(b"\r\n\r\n")[0].split(b"\n\n")[0].lower()
    message = alert_mails[0]
    assert message["List-Unsubscribe"] == f"<{BASE}/planning/unsubscribe/{token}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The mail provider's POST: no cookies, no CSRF token, exactly the header's URL.
    url = message["List-Unsubscribe"].strip("<>")
    provider = app.test_client(use_cookies=False)
    response = provider.post(
        urlsplit(url).path,
        base_url=BASE,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    with app.app_context():
        stopped = db.session.scalars(
            select(PlanningAlert).where(PlanningAlert.token == token)
        ).one()
        assert stopped.unsubscribed_at is not None and not stopped.active
