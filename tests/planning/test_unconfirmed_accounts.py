"""An account whose email address is not confirmed is never granted what is held by that address.

Someone registers another person's address, signs in without confirming it, and must not see or
stop that person's alerts and trackers (their labels can hold a home address).
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.planning import my_council_rows, services
from portal.planning.models import PlanningAlert, PlanningTracker
from tests.accounts.helpers import (
    PASSWORD,
    emails_to,
    get_user,
    link_in,
    post_form,
    sign_in_with_form,
)
from tests.helpers.authz import csrf_headers
from tests.helpers.pages import check_html
from tests.planning.conftest import make_application

VICTIM = "victim@example.com"


def _victims_alert_and_tracker(app) -> tuple[int, int, str]:  # noqa: ANN001
    """A confirmed ward alert and tracker the victim made without an account."""
    with app.app_context():
        application = make_application(site_address="12 Orchard Lane, Castlebrook")
        area = services.AlertArea(PlanningAlert.KIND_WARD, "Castle ward", ward="Castle")
        alert = services.create_alert(area, VICTIM, PlanningAlert.INSTANT, False, None, None)
        services.confirm_subscription(alert)
        tracker = services.start_tracking(application, VICTIM, None)
        services.confirm_subscription(tracker)
        db.session.commit()
        return alert.id, tracker.id, application.reference


def _register_and_sign_in(app, client):  # noqa: ANN001, ANN202
    response = post_form(
        client, "/register", {"display_name": "Not Them", "email": VICTIM, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert get_user(app, VICTIM).email_confirmed_at is None
    response = sign_in_with_form(client, VICTIM)
    assert response.status_code == 302  # unconfirmed accounts may sign in
    return get_user(app, VICTIM)


def test_unconfirmed_account_cannot_see_or_stop_alerts_held_by_its_address(app, client, gazetteer):
    alert_id, tracker_id, reference = _victims_alert_and_tracker(app)
    user = _register_and_sign_in(app, client)

    soup = check_html(client.get("/planning/alerts/mine"))
    text = soup.get_text()
    assert "Castle ward" not in text and reference not in text and "Orchard Lane" not in text
    assert soup.find(id="confirm-email") is not None  # asked to confirm instead
    with app.test_request_context(), app.app_context():
        row = db.session.get(type(user), user.id)
        assert my_council_rows(row) == []
        assert services.alerts_for_user(row) == [] and services.trackers_for_user(row) == []
    response = client.post(f"/planning/alerts/{alert_id}/stop", headers=csrf_headers(client))
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(PlanningAlert, alert_id).unsubscribed_at is None
        assert db.session.get(PlanningTracker, tracker_id).unsubscribed_at is None

    # The address's owner opens the confirmation link: now it is theirs.
    email = next(e for e in emails_to(app, VICTIM) if "/confirm-email/" in e.body_text)
    assert post_form(client, link_in(email), {}).status_code == 302
    soup = check_html(client.get("/planning/alerts/mine"))
    assert "Castle ward" in soup.get_text() and reference in soup.get_text()
    assert soup.find(id="confirm-email") is None


def test_unconfirmed_account_still_sees_what_it_made_itself(app, client, gazetteer):
    user = _register_and_sign_in(app, client)
    with app.app_context():
        area = services.AlertArea(PlanningAlert.KIND_WARD, "Millbrook ward", ward="Millbrook")
        services.create_alert(area, VICTIM, PlanningAlert.WEEKLY, False, None, user)
        db.session.commit()
    soup = check_html(client.get("/planning/alerts/mine"))
    assert "Millbrook ward" in soup.get_text()
    with app.app_context():
        alert_id = db.session.scalar(select(PlanningAlert.id))
    response = client.post(f"/planning/alerts/{alert_id}/stop", headers=csrf_headers(client))
    assert response.status_code == 302
