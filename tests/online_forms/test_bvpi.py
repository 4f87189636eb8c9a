"""Publishing a form e-enables its A–Z interaction and BVPI 157 rises (runs once the A–Z slice
is merged); archiving it brings the figure back down."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.common.models import PortalDelivery
from portal.extensions import db
from tests.helpers.auth import client_for, make_user
from tests.online_forms.test_builder import post

a_to_z = pytest.importorskip("portal.council_services.services")
catalogue = pytest.importorskip("portal.council_services.demo")


def test_publishing_a_form_raises_bvpi_157(app):
    from portal.council_services.models import Interaction, Service

    with app.app_context():
        catalogue.load_demo_catalogue()
        before = a_to_z.bvpi157()
        delivered = select(PortalDelivery.lgsl, PortalDelivery.lgil).where(PortalDelivery.live)
        live = {tuple(row) for row in db.session.execute(delivered)}
        candidates = db.session.execute(
            select(Service.lgsl, Interaction.lgil)
            .join(Service)
            .where(
                Interaction.applicable.is_(True),
                Interaction.permissible.is_(True),
                Interaction.e_enabled.is_(False),
                Service.lgsl.is_not(None),
            )
        ).all()
        lgsl, lgil = next((s, i) for s, i in candidates if (s, i) not in live)
    editor = client_for(app, make_user(app, roles=("editor",)))
    created = post(
        editor,
        "/staff/forms/builder/new",
        {
            "title": "A new online service",
            "slug": "a-new-online-service",
            "lgsl": str(lgsl),
            "lgil": str(lgil),
            "office": "Customer services",
            "response_days": "5",
            "payment_kind": "none",
        },
    )
    form_id = int(created.headers["Location"].rsplit("/", 1)[1])
    location = post(editor, f"/staff/forms/builder/{form_id}/pages", {"kind": "questions"})
    post(editor, location.headers["Location"], {"type": "text", "label": "What do you need?"})
    post(editor, f"/staff/forms/builder/{form_id}/publish", {})
    with app.app_context():
        after = a_to_z.bvpi157()
    assert after.denominator == before.denominator
    assert after.numerator == before.numerator + 1
    post(editor, f"/staff/forms/builder/{form_id}/archive", {})
    with app.app_context():
        assert a_to_z.bvpi157().numerator == before.numerator
