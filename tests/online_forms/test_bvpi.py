"""Publishing a form e-enables its A–Z interaction and BVPI 157 rises (runs once the A–Z slice
is merged); archiving it brings the figure back down."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.common.models import PortalDelivery
from portal.extensions import db
from tests.helpers.auth import client_for, make_user
from tests.helpers.pages import check_html
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


def test_publishing_onto_no_register_interaction_is_refused_or_added_with_consent(app):
    from portal.council_services.models import Interaction, Service
    from tests.council_services.factories import make_service

    with app.app_context():
        make_service("Flytipping", 587, [{"lgil": 9}])
    editor = client_for(app, make_user(app, roles=("editor",)))

    def new_form(slug: str, lgsl: int, lgil: int) -> int:
        created = post(
            editor,
            "/staff/forms/builder/new",
            {
                "title": f"Form {slug}",
                "slug": slug,
                "lgsl": str(lgsl),
                "lgil": str(lgil),
                "office": "Customer services",
                "response_days": "5",
                "payment_kind": "none",
            },
        )
        form_id = int(created.headers["Location"].rsplit("/", 1)[1])
        location = post(editor, f"/staff/forms/builder/{form_id}/pages", {"kind": "questions"})
        post(editor, location.headers["Location"], {"type": "text", "label": "What happened?"})
        return form_id

    # No A to Z service at all: refused, with the reason, before and after trying.
    orphan = new_form("moved", 370, 0)
    overview = check_html(editor.get(f"/staff/forms/builder/{orphan}"))
    warning = overview.select_one("#register-problem").get_text(" ", strip=True)
    assert "No service in the A to Z has LGSL 370: create and publish it first." in warning
    assert overview.select_one("#add-interaction") is None  # nothing to consent to
    refused = post(editor, f"/staff/forms/builder/{orphan}/publish", {})
    page = check_html(editor.get(refused.headers["Location"]))
    assert (
        "This form cannot be published yet. No service in the A to Z has LGSL 370: create and "
        "publish it first." in page.get_text(" ", strip=True)
    )
    # The service exists without the interaction: refused unless the editor agrees to add it.
    form_id = new_form("fly-tipping-report", 587, 0)
    overview = check_html(editor.get(f"/staff/forms/builder/{form_id}"))
    assert overview.select_one("label[for=add-interaction]").get_text(strip=True) == (
        "Add this interaction to the register"
    )
    post(editor, f"/staff/forms/builder/{form_id}/publish", {})
    with app.app_context():
        assert a_to_z.bvpi157().as_dict()["denominator"] == 1
        assert db.session.scalar(select(PortalDelivery).where(PortalDelivery.live)) is None
    post(editor, f"/staff/forms/builder/{form_id}/publish", {"add_interaction": "yes"})
    with app.app_context():
        added = db.session.scalar(
            select(Interaction).join(Service).where(Service.lgsl == 587, Interaction.lgil == 0)
        )
        assert added is not None and added.applicable and added.permissible
        figure = a_to_z.bvpi157()
        assert (figure.numerator, figure.denominator) == (1, 2)
