"""Find your nearest: recycling centres, libraries, council offices and kiosks by distance."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from portal.demo import register_demo_loader
    from portal.facilities import models  # noqa: F401  (tables)
    from portal.facilities.demo import load_demo_facilities
    from portal.facilities.views import bp, staff_bp

    app.register_blueprint(bp)
    app.register_blueprint(staff_bp)
    app.extensions.setdefault("portal_staff_sections", []).append(
        {
            "title": "Places to visit",
            "endpoint": "facilities_staff.index",
            "roles": ("editor", "admin"),
            "description": "Recycling centres, libraries, offices and kiosks: where they are, "
            "opening hours and what they take.",
        }
    )
    register_demo_loader(app, 85, "facilities", load_demo_facilities)
