"""Take-up statistics: by service, interaction, channel, department and period."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from portal.statistics import models  # noqa: F401  (tables known to migrations)
    from portal.statistics.views import bp, take_up_summary

    app.register_blueprint(bp)
    app.jinja_env.globals["take_up_summary"] = take_up_summary
    app.jinja_env.filters["zip_pairs"] = lambda left, right: list(zip(left, right, strict=True))
    app.extensions.setdefault("portal_staff_sections", []).append(
        {
            "title": "Take-up statistics",
            "endpoint": "statistics.dashboard",
            "roles": ("manager",),
            "description": "How much of each service is done on each channel, and what it costs.",
        }
    )
