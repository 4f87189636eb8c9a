"""Planning fixtures: the demo gazetteer, applications at chosen points, confirmed alerts."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from geopy.distance import geodesic

from portal.common.clock import uk_today
from portal.common.gazetteer.demo import load_demo_gazetteer
from portal.extensions import db
from portal.planning import services
from portal.planning.models import PlanningAlert

_counter = itertools.count(1)
CENTRE = (52.95, -1.55)  # inside the council area (Millbrook ward)


@pytest.fixture
def gazetteer(app):
    """The demo addresses, loaded in a context of their own (requests get their own contexts)."""
    with app.app_context():
        load_demo_gazetteer()
    return app


def offset(point: tuple[float, float], metres: float, bearing: float = 0.0) -> tuple[float, float]:
    """The point `metres` away from `point` on `bearing` degrees (geodesic, WGS84)."""
    destination = geodesic(meters=metres).destination(point, bearing)
    return destination.latitude, destination.longitude


def make_application(point=CENTRE, app_type="FUL", notify=True, **extra):
    """A new application at `point` (flushed; instant alerts sent unless notify=False)."""
    n = next(_counter)
    values = {
        "reference": f"26/{n:05d}/{app_type}",
        "site_address": f"{n} Test Street, Castlebrook",
        "latitude": point[0],
        "longitude": point[1],
        "description": f"Test proposal {n}",
        "application_type": app_type,
        "received_date": uk_today(),
        "consultation_start": uk_today() - timedelta(days=1),
        "consultation_end": uk_today() + timedelta(days=20),
        "case_officer": "Priya Shah",
        "case_officer_email": "officer@castlebrook.example",
        "status": "live",
    }
    values.update(extra)
    application = services.create_application(values, notify=notify)
    return application


def make_alert(
    area: services.AlertArea,
    frequency="instant",
    types=None,
    comments=False,
    email=None,
    confirm=True,
):
    alert = services.create_alert(
        area, email or f"alert{next(_counter)}@example.com", frequency, comments, types, None
    )
    if confirm:
        services.confirm_subscription(alert)
    db.session.flush()
    return alert


def radius_alert(point=CENTRE, radius=PlanningAlert.RADIUS_SMALL, **kwargs):
    area = services.AlertArea(PlanningAlert.KIND_RADIUS, "Test", point[0], point[1], radius)
    return make_alert(area, **kwargs)
