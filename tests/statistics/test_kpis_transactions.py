"""The survey after a repair report and a planning alert, never for staff on the phone, and the
used tokens forgotten once expired."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.common.clock import uk_today
from portal.common.transactions import set_request_channel
from portal.extensions import db
from portal.statistics import satisfaction
from portal.statistics.kpi_models import SatisfactionAnswer, UsedSurveyToken
from tests.helpers.auth import client_for
from tests.helpers.pages import check_html, csrf_token
from tests.planning.conftest import gazetteer  # noqa: F401
from tests.planning.test_alerts_web import _post_alert, _token_from_last_email
from tests.repairs.conftest import leaf, world  # noqa: F401
from tests.repairs.test_reporting import _details


def _answer(client, soup, rating: str) -> None:  # noqa: ANN001
    section = soup.select_one("#satisfaction-survey")
    assert section is not None, "no survey offered"
    data = {
        "csrf_token": section.find("input", attrs={"name": "csrf_token"})["value"],
        "token": section.find("input", attrs={"name": "token"})["value"],
        "rating": rating,
    }
    page = check_html(client.post("/feedback/satisfaction", data=data))
    assert page.h1.get_text(strip=True) == "Thank you for your feedback"


def _answers(app):  # noqa: ANN001, ANN202
    with app.app_context():
        return [
            (a.lgsl, a.lgil, a.channel, a.rating)
            for a in db.session.scalars(select(SatisfactionAnswer).order_by(SatisfactionAnswer.id))
        ]


def test_a_reported_repair_offers_the_survey_once_on_its_page(app, world):  # noqa: F811
    client = client_for(app, world.tenant)
    with app.app_context():
        tap_id = leaf("Dripping tap").id
    response = _details(client, world.home_id, tap_id)
    assert response.status_code == 302
    page = check_html(client.get(response.location))
    assert "Repair reported. Your reference is RP-" in page.get_text()
    again = check_html(client.get(response.location))
    assert again.select_one("#satisfaction-survey") is None  # offered once, with the banner
    _answer(client, page, "3")
    assert _answers(app) == [(141, 0, "web", 3)]


def test_a_confirmed_planning_alert_offers_the_survey(app, client, gazetteer):  # noqa: F811
    with app.app_context():
        from portal.common.models import Address

        postcode = db.session.scalars(select(Address.postcode)).first()
    assert _post_alert(client, area="radius", postcode=postcode, radius="800").status_code == 302
    token = _token_from_last_email(app, "me@example.com")
    url = f"/planning/confirm/{token}"
    done = check_html(client.post(url, data={"csrf_token": csrf_token(client, url)}))
    assert "Your alert is on" in done.get_text()
    _answer(client, done, "5")
    assert _answers(app) == [(487, 8, "web", 5)]


def test_no_survey_when_staff_see_the_confirmation_for_a_caller(app):
    with app.test_request_context("/"):
        assert satisfaction.new_token(524, 0, "FS-X") is not None
        for channel in ("phone", "face_to_face"):
            set_request_channel(channel, staff_id=1)
            assert satisfaction.new_token(524, 0, "FS-X") is None
        set_request_channel("kiosk")
        ticket = satisfaction.read_token(satisfaction.new_token(524, 0, "FS-X"))
        assert (ticket.lgsl, ticket.lgil, ticket.channel, ticket.day) == (
            524,
            0,
            "kiosk",
            uk_today(),
        )


def test_used_tokens_are_forgotten_after_every_token_has_expired(app):
    today = uk_today()
    with app.app_context():
        for age in (0, satisfaction.TOKEN_MAX_AGE_DAYS + 1, satisfaction.TOKEN_MAX_AGE_DAYS + 2):
            db.session.add(
                UsedSurveyToken(token_hash=f"k{age}", used_on=today - timedelta(days=age))
            )
        db.session.commit()
        assert satisfaction.purge_used_tokens(today) == 1
        db.session.commit()
        left = sorted(db.session.scalars(select(UsedSurveyToken.token_hash)))
        assert left == ["k0", f"k{satisfaction.TOKEN_MAX_AGE_DAYS + 1}"]


def test_staff_on_the_phone_start_one_journey_per_caller_not_per_session(app):
    from flask_login import login_user

    from portal.statistics.journeys import complete_journey, start_journey
    from portal.statistics.kpi_models import JourneyDaily
    from tests.helpers.auth import make_user

    first, second = (
        make_user(app, email="caller1@example.com"),
        make_user(app, email="caller2@example.com"),
    )
    with app.test_request_context("/"):
        for caller in (first, second):
            login_user(db.session.get(type(caller), caller.id))  # the caller, while acting
            set_request_channel("phone", staff_id=999)
            assert start_journey("form:x", 524, 0) is True
            assert start_journey("form:x", 524, 0) is False  # the same caller again
        assert complete_journey("form:x") is True  # the second caller's
        db.session.commit()
        rows = db.session.scalars(select(JourneyDaily)).all()
        assert [(r.channel, r.started, r.completed) for r in rows] == [("phone", 2, 1)]
