"""Take-up statistics for managers (/staff/statistics) and the public take-up summary."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, current_app, request, url_for

from portal.accounts.authz import role_required
from portal.common.clock import uk_today
from portal.common.transactions import CHANNELS
from portal.rendering import render_page
from portal.statistics import services as stats
from portal.statistics.catalogue import (
    INTERACTIONS,
    UNKNOWN_DEPARTMENT,
    catalogue,
    channel_group_label,
    channel_label,
    department_of,
    interaction_label,
    service_label,
)

bp = Blueprint("statistics", __name__)


def _today():  # noqa: ANN202
    return uk_today()


def _settings():  # noqa: ANN202
    return current_app.config["PORTAL"]


def _pairs(rows: list[stats.Row]) -> list[tuple[str, int]]:
    return [(row.label, row.total) for row in rows]


def _choices() -> dict[str, object]:
    services = catalogue()
    return {
        "pairs": _pairs,
        "percent": stats.percent,
        "service_choices": sorted(services.items(), key=lambda kv: kv[1][0]),
        "interaction_choices": sorted(INTERACTIONS.items()),
        "channel_choices": [(c, channel_label(c)) for c in CHANNELS],
        "department_choices": sorted({d for _, d in services.values()}) + [UNKNOWN_DEPARTMENT],
    }


def _query_args(period: stats.Period | None, **changes: object) -> dict[str, object]:
    """The current filters as URL arguments, with some changed (for links between periods)."""
    args: dict[str, object] = {
        k: v
        for k, v in request.args.items()
        if k in {"service", "interaction", "channel", "department"} and v
    }
    if period is not None:
        args["period"] = period.kind
        if period.kind == "custom":
            for prefix, day in (("from", period.start), ("to", period.end)):
                args[f"{prefix}-day"], args[f"{prefix}-month"], args[f"{prefix}-year"] = (
                    day.day,
                    day.month,
                    day.year,
                )
        else:
            args["on"] = period.start.isoformat()
    args.update(changes)
    return args


@bp.get("/staff/statistics")
@role_required("manager")
def dashboard():
    """Take-up by service, interaction, channel and department, with trend and channel shift."""
    settings = _settings()
    filters = stats.Filters.from_args(request.args)
    try:
        period = stats.parse_period(request.args, _today(), settings.statistics_max_range_days)
    except stats.PeriodError as exc:
        return render_page(
            "statistics/dashboard.html",
            page_errors=exc.errors,
            args=request.args,
            filters=filters,
            result=None,
            **_choices(),
        )
    result = stats.breakdown(period, filters)
    previous = stats.channel_totals(period.previous(), filters)
    # Digital take-up is a share of every channel: with a channel chosen, it is worked out for
    # the other filters on all channels, never "100 % digital" because one channel was picked.
    shares = stats.channel_totals(period, filters.all_channels()) if filters.channel else result
    unit, points = stats.trend(period, filters.all_channels())
    threshold = settings.statistics_little_used_percent
    return render_page(
        "statistics/dashboard.html",
        page_errors=[],
        args=request.args,
        filters=filters,
        result=result,
        shares=shares,
        previous=previous,
        previous_shares=stats.channel_totals(period.previous(), filters.all_channels())
        if filters.channel
        else previous,
        shift=stats.channel_shift(result, previous),
        trend_unit=unit,
        trend=points,
        little_used=stats.little_used(period, threshold, filters),
        threshold=threshold,
        previous_url=url_for(".dashboard", **_query_args(period.previous())),
        next_url=url_for(".dashboard", **_query_args(period.next()))
        if period.next().start <= _today()
        else None,
        csv_url=url_for(".export", **_query_args(period)),
        **_choices(),
    )


def _safe_cell(value: object) -> object:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.get("/staff/statistics/export.csv")
@role_required("manager")
def export():
    """The period's counts as CSV: one row per service × interaction × channel."""
    settings = _settings()
    filters = stats.Filters.from_args(request.args)
    try:
        period = stats.parse_period(request.args, _today(), settings.statistics_max_range_days)
    except stats.PeriodError as exc:
        return Response("\n".join(m for _, m in exc.errors) + "\n", 400, mimetype="text/plain")
    services = catalogue()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "PeriodStart",
            "PeriodEnd",
            "LGSL",
            "Service",
            "Department",
            "LGIL",
            "Interaction",
            "Channel",
            "ChannelGroup",
            "Transactions",
        ]
    )
    counts = sorted(stats.grouped_counts(period, filters))
    for lgsl, lgil, channel, n in counts:
        writer.writerow(
            [
                period.start.isoformat(),
                period.end.isoformat(),
                lgsl or "",
                _safe_cell(service_label(lgsl, services)),
                _safe_cell(department_of(lgsl, services)),
                lgil,
                interaction_label(lgil),
                channel,
                channel_group_label(channel),
                n,
            ]
        )
    filename = f"take-up-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/performance/take-up")
def public_take_up():
    """How residents used each channel over the last twelve months."""
    return render_page("statistics/public_take_up.html")


def take_up_summary() -> dict[str, object]:
    """Template global for `statistics/_public_summary.html` (usable from any page)."""
    return stats.public_summary(_today())
