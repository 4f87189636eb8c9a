"""Matching alerts to applications: radius edges, polygons, wards, type filters, never twice."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.common.models import OutboxEmail
from portal.extensions import db
from portal.planning import geo, services
from portal.planning.models import PlanningAlert, PlanningAlertDelivery
from tests.planning.conftest import CENTRE, make_alert, make_application, offset, radius_alert


def _matched(alert, application) -> bool:
    matches = services.match_targets([services.target_of(application)])
    return application.id in matches.get(alert.id, [])


def test_radius_edges_199_and_201_metres(app_ctx):
    alert = radius_alert(CENTRE, 200)
    for bearing in (0, 45, 90, 180, 270):
        inside = make_application(offset(CENTRE, 199, bearing), notify=False)
        outside = make_application(offset(CENTRE, 201, bearing), notify=False)
        assert _matched(alert, inside), f"199 m at bearing {bearing} should match"
        assert not _matched(alert, outside), f"201 m at bearing {bearing} should not match"


def test_every_offered_radius(app_ctx):
    for radius in PlanningAlert.RADII:
        alert = radius_alert(CENTRE, radius)
        assert _matched(alert, make_application(offset(CENTRE, radius - 1, 30), notify=False))
        assert not _matched(alert, make_application(offset(CENTRE, radius + 1, 30), notify=False))


def test_within_radius_agrees_with_geodesic_near_the_edge():
    from portal.common.gazetteer.services import distance_metres

    for metres in (1999.0, 1999.9, 1999.99, 2000.01, 2000.1, 2001.0, 795.0, 805.0):
        point = offset(CENTRE, metres, 123)
        assert geo.within_radius(CENTRE, point, 2000) == (distance_metres(CENTRE, point) <= 2000)


def test_polygon_inside_outside_and_concave(app_ctx):
    lat, lon = CENTRE
    # an L shape: the notch at the top right is outside
    polygon = [
        [lat, lon],
        [lat, lon + 0.02],
        [lat + 0.01, lon + 0.02],
        [lat + 0.01, lon + 0.01],
        [lat + 0.02, lon + 0.01],
        [lat + 0.02, lon],
    ]
    alert = make_alert(services.polygon_area(";".join(f"{a},{b}" for a, b in polygon)))
    assert _matched(alert, make_application((lat + 0.005, lon + 0.015), notify=False))
    assert _matched(alert, make_application((lat + 0.015, lon + 0.005), notify=False))
    assert not _matched(alert, make_application((lat + 0.015, lon + 0.015), notify=False))
    assert not _matched(alert, make_application((lat - 0.001, lon + 0.005), notify=False))


def test_ward_alert_matches_its_ward_only(app_ctx):
    from portal.common.gazetteer.geography import DEMO_WARD_BOXES as WARDS

    alert = make_alert(services.ward_area("Castle"))
    castle = make_application(WARDS["Castle"].centre, notify=False)
    abbey = make_application(WARDS["Abbey"].centre, notify=False)
    assert castle.ward == "Castle"
    assert _matched(alert, castle)
    assert not _matched(alert, abbey)


def test_type_filter(app_ctx):
    alert = radius_alert(CENTRE, 800, types=["HOU", "TPO"])
    assert _matched(alert, make_application(CENTRE, app_type="HOU", notify=False))
    assert not _matched(alert, make_application(CENTRE, app_type="FUL", notify=False))


def test_unconfirmed_and_unsubscribed_alerts_get_nothing(app_ctx):
    waiting = radius_alert(CENTRE, 800, confirm=False)
    stopped = radius_alert(CENTRE, 800)
    services.unsubscribe(stopped)
    application = make_application(CENTRE, notify=False)
    matches = services.match_targets([services.target_of(application)])
    assert waiting.id not in matches and stopped.id not in matches


def test_instant_alert_is_never_sent_twice(app_ctx):
    alert = radius_alert(CENTRE, 800, email="twice@example.com")
    application = make_application(CENTRE)  # sends instant alerts
    db.session.commit()
    assert services.send_instant_alerts([application]) == 0
    db.session.commit()
    deliveries = db.session.scalar(
        select(func.count()).where(PlanningAlertDelivery.alert_id == alert.id)
    )
    emails = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == "twice@example.com")
    ).all()
    assert deliveries == 1
    alert_emails = [e for e in emails if "New planning applications" in e.subject]
    assert len(alert_emails) == 1
    assert application.reference in alert_emails[0].body_text
    assert alert_emails[0].headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert alert.token in alert_emails[0].headers["List-Unsubscribe"]


def test_delivery_and_email_share_one_transaction(app_ctx):
    radius_alert(CENTRE, 800, email="rollback@example.com")
    db.session.commit()
    make_application(CENTRE)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PlanningAlertDelivery)) == 0
    assert not db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.subject.like("New planning%"))
    ).all()


def test_daily_digest_collects_and_never_repeats(app_ctx):
    from datetime import timedelta

    from portal.common.models import utcnow

    alert = radius_alert(CENTRE, 800, frequency="daily", email="digest@example.com")
    alert.last_digest_at = utcnow() - timedelta(minutes=5)
    first = make_application(CENTRE)
    second = make_application(offset(CENTRE, 300, 90))
    far = make_application(offset(CENTRE, 5000, 90))
    db.session.commit()
    instant = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == "digest@example.com")
    ).all()
    assert [e.subject for e in instant] == ["Confirm your planning alert"]  # not instant
    later = utcnow() + timedelta(days=1)
    assert services.send_digests("daily", later) == 1
    db.session.commit()
    digest = db.session.scalar(
        select(OutboxEmail).where(
            OutboxEmail.to_address == "digest@example.com", OutboxEmail.subject.like("%digest%")
        )
    )
    assert first.reference in digest.body_text and second.reference in digest.body_text
    assert far.reference not in digest.body_text
    assert services.send_digests("daily", later + timedelta(days=1)) == 0


def test_comment_option_sends_published_comments(app_ctx):
    from tests.helpers.auth import make_user

    with_comments = radius_alert(CENTRE, 800, comments=True, email="comments@example.com")
    without = radius_alert(CENTRE, 800, email="nocomments@example.com")
    application = make_application(CENTRE)
    db.session.commit()
    user = make_user(app_ctx, roles=())
    officer = make_user(app_ctx, roles=("planning",))
    comment = services.add_comment(
        application, user, "A Person", "1 High Street", "object", "Too tall"
    )
    services.moderate_comment(comment, True, officer)
    db.session.commit()
    subjects = lambda email: [  # noqa: E731
        e.subject
        for e in db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == email))
    ]
    assert "New comment on a planning application near you" in subjects("comments@example.com")
    assert "New comment on a planning application near you" not in subjects(
        "nocomments@example.com"
    )
    assert with_comments.id != without.id
