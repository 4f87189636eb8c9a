"""Alert sign-up on the web: areas, bad input, double opt-in, one-click unsubscribe, My council."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.common.models import OutboxEmail, ServiceTransaction
from portal.extensions import db
from portal.planning.models import PlanningAlert
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html, csrf_token, error_summary


def _post_alert(client, **data):
    token = csrf_token(client, "/planning/alerts")
    base = {"csrf_token": token, "email": "me@example.com", "frequency": "instant"}
    base.update(data)
    return client.post("/planning/alerts", data=base)


def _token_from_last_email(app, to):
    with app.app_context():
        email = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == to).order_by(OutboxEmail.id.desc())
        ).first()
        return re.search(r"/planning/confirm/([\w-]+)", email.body_text).group(1)


def test_alert_page_renders(client, gazetteer):
    response = client.get("/planning/alerts")
    soup = check_html(response)
    assert soup.find("input", attrs={"name": "polygon"}) is not None
    assert len(soup.find_all("input", attrs={"name": "wards"})) == 6


def test_radius_alert_double_opt_in(app, client, gazetteer):
    response = _post_alert(client, area="radius", postcode="ck1 1ab", radius="800")
    if response.status_code != 302:
        # the first demo postcode; find a real one if the demo changes
        with app.app_context():
            from portal.common.models import Address

            postcode = db.session.scalars(select(Address.postcode)).first()
        response = _post_alert(client, area="radius", postcode=postcode, radius="800")
    assert response.status_code == 302
    check_html(client.get(response.headers["Location"]))
    with app.app_context():
        alert = db.session.scalars(select(PlanningAlert)).one()
        assert alert.active is False and alert.radius_m == 800
    token = _token_from_last_email(app, "me@example.com")
    page = client.get(f"/planning/confirm/{token}")
    check_html(page)
    with app.app_context():
        assert (
            db.session.scalars(select(PlanningAlert)).one().active is False
        )  # GET changes nothing
    # the confirmation POST needs the CSRF token
    assert client.post(f"/planning/confirm/{token}").status_code == 400
    done = client.post(
        f"/planning/confirm/{token}",
        data={"csrf_token": csrf_token(client, f"/planning/confirm/{token}")},
    )
    check_html(done)
    assert "Your alert is on" in done.get_data(as_text=True)
    client.post(
        f"/planning/confirm/{token}", data={"csrf_token": csrf_token(client, "/planning/alerts")}
    )
    with app.app_context():
        assert db.session.scalars(select(PlanningAlert)).one().active is True
        rows = db.session.scalars(
            select(ServiceTransaction).where(ServiceTransaction.kind == "planning_alert")
        ).all()
        assert len(rows) == 1 and (rows[0].lgsl, rows[0].lgil) == (487, 8)


def _demo_postcode(app) -> tuple[str, str]:
    with app.app_context():
        from portal.common.models import Address

        address = db.session.scalars(select(Address).order_by(Address.uprn)).first()
        return address.postcode, address.line1


def test_house_number_picks_the_address(app, client, gazetteer):
    postcode, line1 = _demo_postcode(app)
    response = _post_alert(
        client, area="radius", postcode=postcode, house=line1.split()[0], radius="200"
    )
    assert response.status_code == 302
    with app.app_context():
        alert = db.session.scalars(select(PlanningAlert)).one()
        assert alert.label.startswith(line1)


def test_bad_areas_get_clear_messages_and_keep_answers(app, client, gazetteer):
    postcode, _ = _demo_postcode(app)
    cases = [
        (
            {"area": "radius", "postcode": "SW1A 1AA", "radius": "200"},
            "Enter a postcode in the Castlebrook Council area",
        ),
        (
            {"area": "radius", "postcode": postcode, "house": "999", "radius": "200"},
            "We could not find 999",
        ),
        ({"area": "radius", "postcode": postcode, "radius": "500"}, "Choose a distance"),
        ({"area": "ward"}, "Choose at least one ward"),
        (
            {"area": "polygon", "polygon": "52.95,-1.55; 52.96,-1.53; 52.95,-1.53; 52.96,-1.55"},
            "crosses itself",
        ),
        (
            {"area": "polygon", "polygon": "52.5,-2.5; 52.5,-0.5; 53.5,-0.5; 53.5,-2.5"},
            "larger than the council area",
        ),
        ({"area": "polygon", "polygon": "52.95,-1.55; 52.96,-1.55"}, "at least 3 corners"),
        ({"area": "polygon", "polygon": "abc"}, "could not read"),
        ({}, "Choose how you want to set the area"),
        ({"area": "ward", "wards": "Castle", "email": "not-an-email"}, "correct format"),
    ]
    for data, message in cases:
        response = _post_alert(client, **data)
        assert response.status_code == 400, data
        soup = check_html(response)
        summary = " ".join(error_summary(soup))
        assert message in summary, (data, summary)
        if data.get("postcode"):
            assert soup.find("input", attrs={"name": "postcode"})["value"] == data["postcode"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PlanningAlert)) == 0


def test_wards_and_polygon_without_javascript(app, client, gazetteer):
    assert (
        _post_alert(
            client, area="ward", wards=["Castle", "Abbey"], frequency="weekly", types=["HOU"]
        ).status_code
        == 302
    )
    polygon = "52.95,-1.56; 52.95,-1.54; 52.96,-1.54; 52.96,-1.56"
    assert (
        _post_alert(client, area="polygon", polygon=polygon, include_comments="yes").status_code
        == 302
    )
    with app.app_context():
        alerts = db.session.scalars(select(PlanningAlert).order_by(PlanningAlert.id)).all()
        assert [a.kind for a in alerts] == ["ward", "ward", "polygon"]
        assert {a.ward for a in alerts[:2]} == {"Castle", "Abbey"}
        assert alerts[0].application_types == ["HOU"] and alerts[0].frequency == "weekly"
        assert alerts[2].include_comments and len(alerts[2].polygon) == 4


def test_one_click_unsubscribe_rfc8058(app, client, gazetteer):
    _post_alert(client, area="ward", wards=["Castle"])
    token = _token_from_last_email(app, "me@example.com")
    client.post(
        f"/planning/confirm/{token}", data={"csrf_token": csrf_token(client, "/planning/alerts")}
    )
    # A mail provider POSTs with no session, no cookies and no CSRF token (RFC 8058).
    provider = app.test_client()
    response = provider.post(
        f"/planning/unsubscribe/{token}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    with app.app_context():
        alert = db.session.scalars(select(PlanningAlert)).one()
        assert alert.active is False and alert.unsubscribed_at is not None
    unknown = provider.post(
        "/planning/unsubscribe/not-a-real-token",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert unknown.status_code == 404


def test_unsubscribe_page_button_keeps_csrf(app, client, gazetteer):
    """Only the one-click POST skips CSRF: the page's own form needs its token."""
    _post_alert(client, area="ward", wards=["Castle"])
    token = _token_from_last_email(app, "me@example.com")
    forged = app.test_client().post(f"/planning/unsubscribe/{token}", data={"confirm": "yes"})
    assert forged.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(PlanningAlert)).one().unsubscribed_at is None


def test_unsubscribe_link_page_and_button(app, client, gazetteer):
    _post_alert(client, area="ward", wards=["Abbey"])
    token = _token_from_last_email(app, "me@example.com")
    page = client.get(f"/planning/unsubscribe/{token}")
    soup = check_html(page)
    assert soup.find("button", string=re.compile("Unsubscribe"))
    with app.app_context():
        assert db.session.scalars(select(PlanningAlert)).one().unsubscribed_at is None
    done = client.post(
        f"/planning/unsubscribe/{token}",
        data={"csrf_token": csrf_token(client, f"/planning/unsubscribe/{token}")},
    )
    check_html(done)
    assert "You have unsubscribed" in done.get_data(as_text=True)


def test_my_alerts_and_my_council_section(app, gazetteer):
    from portal.planning import my_council_rows, personal_data

    owner = make_user(app, email="owner@example.com")
    other = make_user(app, email="other@example.com")
    client = client_for(app, owner)
    _post_alert(client, area="ward", wards=["Castle"], email="owner@example.com")
    page = client.get("/planning/alerts/mine")
    soup = check_html(page)
    assert "Castle ward" in soup.get_text()
    with app.app_context():
        alert = db.session.scalars(select(PlanningAlert)).one()
        with app.test_request_context():
            rows = my_council_rows(db.session.merge(owner))
            assert rows and "Castle ward" in rows[0]["text"]
            assert personal_data(db.session.merge(owner))["alerts"][0]["ward"] == "Castle"
            assert my_council_rows(db.session.merge(other)) == []
        alert_id = alert.id
    other_client = client_for(app, other)
    from tests.helpers.authz import csrf_headers

    assert (
        other_client.post(
            f"/planning/alerts/{alert_id}/stop", headers=csrf_headers(other_client)
        ).status_code
        == 404
    )
    assert (
        client.post(f"/planning/alerts/{alert_id}/stop", headers=csrf_headers(client)).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(PlanningAlert, alert_id).unsubscribed_at is not None
    assert app.test_client().get("/planning/alerts/mine").status_code in (302, 401)
