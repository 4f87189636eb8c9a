"""Health probes and assets skip the kiosk and acting machinery (no kiosk visit, no session)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.channels import acting, kiosk
from portal.channels.models import KioskSession
from portal.extensions import db
from tests.channels.helpers import enrol, kiosk_client


@pytest.mark.parametrize("module", [kiosk, acting], ids=["kiosk", "acting"])
def test_every_quiet_endpoint_is_a_real_endpoint(app, module):  # noqa: ANN001
    endpoints = set(app.view_functions)
    assert endpoints >= module._QUIET_ENDPOINTS, module._QUIET_ENDPOINTS - endpoints
    assert {"health.healthz", "health.readyz"} <= module._QUIET_ENDPOINTS


def _kiosk_visits(app) -> int:  # noqa: ANN001
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(KioskSession)) or 0


def test_a_health_probe_from_a_kiosk_terminal_starts_no_kiosk_visit(app):
    _, cookie, _ = enrol(app)
    terminal = kiosk_client(app, cookie)
    assert terminal.get("/healthz").status_code == 200
    assert _kiosk_visits(app) == 0
    assert not [c for c in terminal.get("/healthz").headers.getlist("Set-Cookie")]
    # An ordinary page on the same terminal does start one: the probe was skipped, not broken.
    assert terminal.get("/kiosk").status_code == 200
    assert _kiosk_visits(app) == 1
