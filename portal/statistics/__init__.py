"""Take-up statistics: by service, interaction, channel, department and period."""

from __future__ import annotations

from flask import Flask


def axis_ticks(top: int, count: int = 4) -> list[int]:
    """Round values for a chart's vertical axis, from 0 to at least `top` (1, 2 or 5 × 10ⁿ)."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    ticks = [0]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def register(app: Flask) -> None:
    from portal.statistics import kpi_models, models  # noqa: F401  (tables known to migrations)
    from portal.statistics.kpi_views import bp as kpis_bp
    from portal.statistics.kpi_views import pending_survey, survey_for
    from portal.statistics.views import bp, take_up_summary

    app.register_blueprint(bp)
    app.register_blueprint(kpis_bp)
    app.jinja_env.globals["satisfaction_survey"] = survey_for
    app.jinja_env.globals["pending_survey"] = pending_survey
    app.jinja_env.globals["take_up_summary"] = take_up_summary
    app.jinja_env.filters["axis_ticks"] = axis_ticks
    app.jinja_env.filters["zip_pairs"] = lambda left, right: list(zip(left, right, strict=True))
    app.extensions.setdefault("portal_staff_sections", []).append(
        {
            "title": "Take-up statistics",
            "endpoint": "statistics.dashboard",
            "roles": ("manager",),
            "description": "How much of each service is done on each channel, and what it costs.",
        }
    )
    app.extensions["portal_staff_sections"].append(
        {
            "title": "Service performance",
            "endpoint": "kpis.dashboard",
            "roles": ("manager",),
            "description": "Digital take-up, completion rate, cost per transaction and user "
            "satisfaction for each service, and what residents wrote.",
        }
    )
