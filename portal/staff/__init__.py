"""The staff area: a dashboard of what each person's roles allow, and the admins' pages."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from portal.staff.views import bp

    app.register_blueprint(bp)
    sections = app.extensions.setdefault("portal_staff_sections", [])
    sections.append(
        {
            "title": "Staff accounts and roles",
            "endpoint": "staff.users",
            "roles": ("admin",),
            "description": "Add staff, change their roles, disable accounts and end sessions.",
        }
    )
    sections.append(
        {
            "title": "Audit log",
            "endpoint": "staff.audit",
            "roles": ("admin",),
            "description": "Search who did what, when and from where.",
        }
    )
