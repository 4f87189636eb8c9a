"""Channels: library kiosks with idle reset, assisted access, staff-recorded contacts, and staff
acting for a caller."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from portal.channels import (
        acting,
        jobs,  # noqa: F401  (registers the idle-session reaper)
        kiosk,
        models,  # noqa: F401  (tables known to migrations)
    )
    from portal.channels.demo import load_demo_take_up
    from portal.channels.services import (
        ACTING_ROLES,
        export_acting_records,
        export_personal_data,
        my_council_rows,
    )
    from portal.channels.views import bp
    from portal.demo import register_demo_loader
    from portal.statistics import register as register_statistics

    app.register_blueprint(bp)
    kiosk.init_app(app)
    acting.init_app(app)
    register_statistics(app)
    sections = app.extensions.setdefault("portal_staff_sections", [])
    sections.append(
        {
            "title": "Library kiosks",
            "endpoint": "channels.kiosks",
            "roles": ("library",),
            "description": "Enrol a library terminal as a public kiosk, or withdraw one.",
        }
    )
    sections.append(
        {
            "title": "Record a contact",
            "endpoint": "channels.record_contact",
            "roles": ("officer", "library", "admin"),
            "description": "Record an enquiry answered by phone or face to face.",
        }
    )
    sections.append(
        {
            "title": "Act for a caller",
            "endpoint": "channels.act_for_caller",
            "roles": ACTING_ROLES,
            "description": "Use the resident pages for someone on the phone or at the desk.",
        }
    )
    register_demo_loader(app, 80, "channels", load_demo_take_up)
    app.extensions.setdefault("portal_personal_data", []).append(("contacts", export_personal_data))
    app.extensions.setdefault("portal_personal_data", []).append(
        ("acted_for_you", export_acting_records)
    )
    # The resident sees every time staff acted for them, and how their identity was checked.
    app.extensions.setdefault("portal_my_council_sections", []).append(
        (90, "Staff who acted for you", my_council_rows)
    )
