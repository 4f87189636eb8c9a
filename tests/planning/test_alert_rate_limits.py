"""Alert sign-ups are limited per client address and per recipient: each one emails an address."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.common.gazetteer.geography import DEMO_WARD_NAMES
from portal.common.models import OutboxEmail
from portal.extensions import db
from portal.planning import ratelimits
from portal.planning.models import PlanningAlert
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token, error_summary

WARD = DEMO_WARD_NAMES[0]


def _sign_up(client, email: str, ip: str = "203.0.113.7", **extra):
    token = csrf_token(client, "/planning/alerts")
    data = {"csrf_token": token, "email": email, "frequency": "instant", "area": "ward"}
    data.update(extra)
    data.setdefault("wards", WARD)
    return client.post("/planning/alerts", data=data, environ_base={"REMOTE_ADDR": ip})


def _counts(app, email: str | None = None) -> tuple[int, int]:
    with app.app_context():
        alerts = select(func.count(PlanningAlert.id))
        emails = select(func.count(OutboxEmail.id))
        if email:
            alerts = alerts.where(PlanningAlert.email == email)
            emails = emails.where(OutboxEmail.to_address == email)
        return db.session.scalar(alerts), db.session.scalar(emails)


def test_one_recipient_gets_a_few_confirmation_emails_then_a_clear_error(make_app):
    app = make_app(ratelimit_enabled=True)
    client = app.test_client()
    allowed = int(ratelimits.ALERT_SIGNUP_PER_RECIPIENT.split()[0])
    for n in range(allowed):
        # from different addresses: only the recipient's limit applies
        assert _sign_up(client, "target@example.com", ip=f"198.51.100.{n + 1}").status_code == 302
    response = _sign_up(client, "Target@Example.com ", ip="198.51.100.99", frequency="daily")
    assert response.status_code == 429
    soup = check_html(response)
    [message] = error_summary(soup)
    assert message.startswith("You have asked for too many alerts in a short time. Wait ")
    assert soup.select_one("#email-error") is not None
    # nothing typed is lost
    assert soup.select_one("#email")["value"] == "Target@Example.com"
    assert soup.select_one('input[name="frequency"][value="daily"]').has_attr("checked")
    assert _counts(app, "target@example.com") == (allowed, allowed)
    # another recipient is not held up by it
    assert _sign_up(client, "other@example.com", ip="198.51.100.99").status_code == 302


def test_one_client_address_can_sign_up_only_so_many_recipients(make_app):
    app = make_app(ratelimit_enabled=True)
    client = app.test_client()
    allowed = int(ratelimits.ALERT_SIGNUP_PER_CLIENT.split()[0])
    statuses = [_sign_up(client, f"victim{n}@example.com").status_code for n in range(allowed + 5)]
    assert statuses == [302] * allowed + [429] * 5
    assert _counts(app) == (allowed, allowed)
    # a different client is unaffected
    assert _sign_up(client, "someone@example.com", ip="192.0.2.50").status_code == 302


def test_bad_input_is_not_counted(make_app):
    app = make_app(ratelimit_enabled=True)
    client = app.test_client()
    allowed = int(ratelimits.ALERT_SIGNUP_PER_RECIPIENT.split()[0])
    for _ in range(allowed + 2):
        assert _sign_up(client, "typo@example.com", frequency="").status_code == 400
    assert _sign_up(client, "typo@example.com").status_code == 302


def test_a_signed_in_resident_is_limited_per_recipient_only(make_app):
    app = make_app(ratelimit_enabled=True)
    user = make_user(app, email="resident@example.com")
    client = client_for(app, user)
    allowed_ip = int(ratelimits.ALERT_SIGNUP_PER_CLIENT.split()[0])
    allowed_to = int(ratelimits.ALERT_SIGNUP_PER_RECIPIENT.split()[0])
    wards = list(DEMO_WARD_NAMES)
    statuses = [
        _sign_up(client, "resident@example.com", wards=wards[n % len(wards)]).status_code
        for n in range(allowed_to + 1)
    ]
    assert statuses == [302] * allowed_to + [429]
    assert allowed_ip > allowed_to  # the client-address limit never came into it
