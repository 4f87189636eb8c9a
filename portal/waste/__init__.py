"""Bin day: collection rounds, the resident page, calendars, the open API and missed bins."""

from __future__ import annotations

from typing import Any

from flask import Flask


def my_council_rows(user: Any) -> list[dict]:
    """The address whose bin days the resident last looked up."""
    from flask import url_for

    from portal.common.clock import uk_today
    from portal.waste import services

    address = services.saved_address(user.id)
    if address is None:
        return []
    schedule = services.schedule_for(address)
    status = "No collections"
    if schedule and schedule.next_by_type:
        nxt = min(schedule.next_by_type, key=lambda ac: ac.day)
        status = f"{nxt.type.name}: {services.long_date(nxt.day)}"
    return [
        {
            "text": f"Bin collections at {address.line1}",
            "href": url_for("waste.address", uprn=address.uprn),
            "status": status,
            "date": uk_today(),
        }
    ]


def personal_data(user: Any) -> dict:
    """Everything the bin-day slice holds about one person."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.waste import services
    from portal.waste.models import ReminderSubscription

    address = services.saved_address(user.id)
    reminders = db.session.scalars(
        select(ReminderSubscription).where(ReminderSubscription.user_id == user.id)
    )
    return {
        "bin_collection_address": address.uprn if address else None,
        "bin_reminders": [
            {
                "uprn": r.uprn,
                "email": r.email,
                "created_at": r.created_at.isoformat(),
                "confirmed_at": r.confirmed_at.isoformat() if r.confirmed_at else None,
                "unsubscribed_at": r.unsubscribed_at.isoformat() if r.unsubscribed_at else None,
            }
            for r in reminders
        ],
    }


def register(app: Flask) -> None:
    from portal.api import register_openapi
    from portal.demo import register_demo_loader
    from portal.waste import (
        garden_rounds,
        jobs,  # noqa: F401  (registers the reminder job)
        missed_form,
        models,  # noqa: F401  (tables known to migrations)
    )
    from portal.waste.api import OPENAPI_PATHS, OPENAPI_SCHEMAS
    from portal.waste.api import bp as api_bp
    from portal.waste.demo import load_demo_waste
    from portal.waste.services import site_banners
    from portal.waste.staff import bp as staff_bp
    from portal.waste.views import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(api_bp)
    register_openapi(app, OPENAPI_PATHS, OPENAPI_SCHEMAS)
    register_demo_loader(app, 75, "waste", load_demo_waste)
    garden_rounds.connect()
    missed_form.register(app)  # the missed-bin form offers only what can be reported
    app.extensions.setdefault("portal_site_banner_providers", []).append(site_banners)
    app.extensions.setdefault("portal_staff_sections", []).append(
        {
            "title": "Bin collections",
            "endpoint": "waste_staff.index",
            "roles": ("officer",),
            "description": "Rounds, which addresses they serve, changed collections, CSV import and export, rounds not completed.",
        }
    )
    app.extensions.setdefault("portal_my_council_sections", []).append(
        (75, "Your bin collections", my_council_rows)
    )
    app.extensions.setdefault("portal_personal_data", []).append(("waste", personal_data))
