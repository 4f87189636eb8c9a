"""The four service KPIs: the survey's answer route, the staff pages and CSV, the public page."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, current_app, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from portal.accounts.authz import role_required
from portal.common.clock import uk_today
from portal.extensions import db, limiter
from portal.rendering import is_htmx_request, render_page
from portal.statistics import kpis
from portal.statistics import satisfaction as survey
from portal.statistics import services as stats
from portal.statistics.catalogue import catalogue
from portal.statistics.views import _choices, _query_args, _safe_cell

bp = Blueprint("kpis", __name__)


# -- The survey --------------------------------------------------------------------------------


def survey_for(lgsl: int | None, lgil: int, ref: str, channel: str | None = None) -> Markup:
    """The optional survey for a confirmation page (empty where the resident does not see it)."""
    return _survey_html(survey.new_token(lgsl, lgil, str(ref), channel))


def pending_survey() -> Markup:
    """The survey offered to this browser by the request that completed a transaction."""
    return _survey_html(survey.take_offer())


def _survey_html(token: str | None) -> Markup:
    if token is None:
        return Markup("")
    key = survey.token_key(token)
    if key is None or survey.used_token(key):
        return Markup("")
    # An autoescaped template's output: already safe HTML.
    return Markup(  # noqa: S704
        render_template(
            "statistics/_survey.html",
            token=token,
            ratings=survey.RATINGS,
            errors={},
            page_errors=[],
            values={},
            comment_max=survey.COMMENT_MAX,
        )
    )


@bp.post("/feedback/satisfaction")
@limiter.limit("60 per hour", scope="satisfaction-survey")
def answer_survey():
    """Record one answer: plain POST and thank-you page, or an htmx swap of the survey block."""
    token = request.form.get("token", "")
    rating = request.form.get("rating", "")
    comment = request.form.get("comment", "")
    try:
        ticket = survey.read_token(token)
    except survey.TokenProblem as exc:
        return _done(exc.kind)
    errors = survey.check_answer(rating, comment)
    if errors:
        return render_page(
            "statistics/survey_page.html",
            fragment="survey",
            token=token,
            ratings=survey.RATINGS,
            errors=dict(reversed([(f.lstrip("#"), m) for f, m in errors])),
            page_errors=errors,
            values={"rating": rating, "comment": comment},
            comment_max=survey.COMMENT_MAX,
            service=ticket.service,
            level=_level(),
        ), 200 if is_htmx_request() else 400
    survey.record_answer(ticket, int(rating), comment)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _done("used")
    return _done("thanks")


def _level() -> str:
    """The survey's heading: a section (h2) when swapped into a page, the page's h1 otherwise."""
    return "h2" if is_htmx_request() else "h1"


DONE_HEADINGS = {
    "thanks": "Thank you for your feedback",
    "used": "You have already sent feedback",
    "expired": "This survey has closed",
    "invalid": "We could not read this survey",
}


def _done(state: str) -> str:
    return render_page(
        "statistics/survey_done.html",
        fragment="survey",
        state=state,
        heading=DONE_HEADINGS[state],
        level=_level(),
    )


# -- Staff pages -------------------------------------------------------------------------------


def _period_and_filters():  # noqa: ANN202
    settings = current_app.config["PORTAL"]
    filters = stats.Filters.from_args(request.args)
    period = stats.parse_period(request.args, uk_today(), settings.statistics_max_range_days)
    return period, filters


@bp.get("/staff/statistics/kpis")
@role_required("manager")
def dashboard():
    """Digital take-up, completion rate, cost per transaction and satisfaction, with charts."""
    dimension = request.args.get("by", "service")
    if dimension not in kpis.DIMENSIONS:
        dimension = "service"
    context = {
        "args": request.args,
        "dimension": dimension,
        "dimensions": kpis.DIMENSIONS,
        **_choices(),
    }
    try:
        period, filters = _period_and_filters()
    except stats.PeriodError as exc:
        return render_page("statistics/kpis.html", page_errors=exc.errors, result=None, **context)
    result = kpis.report(period, filters, dimension)
    return render_page(
        "statistics/kpis.html",
        page_errors=[],
        result=result,
        percent_chart=kpis.percent_chart(result.rows),
        cost_chart=kpis.cost_chart(result.rows),
        previous_url=url_for(".dashboard", by=dimension, **_query_args(period.previous())),
        next_url=url_for(".dashboard", by=dimension, **_query_args(period.next()))
        if period.next().start <= uk_today()
        else None,
        csv_url=url_for(".export", by=dimension, **_query_args(period)),
        **context,
    )


def _figure(value: object) -> object:
    return "" if value is None else value


@bp.get("/staff/statistics/kpis/export.csv")
@role_required("manager")
def export():
    """The four KPIs and their inputs as CSV, one row per service, interaction, department or
    channel, and a last row for the whole selection."""
    dimension = request.args.get("by", "service")
    try:
        period, filters = _period_and_filters()
    except stats.PeriodError as exc:
        return Response("\n".join(m for _, m in exc.errors) + "\n", 400, mimetype="text/plain")
    result = kpis.report(period, filters, dimension)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "PeriodStart",
            "PeriodEnd",
            kpis.DIMENSIONS[result.dimension],
            "Transactions",
            "SelfServiceDigital",
            "DigitalTakeUpPercent",
            "JourneysStarted",
            "JourneysCompleted",
            "CompletionRatePercent",
            "TotalCostPounds",
            "CostPerTransactionPounds",
            "SurveyAnswers",
            "SatisfiedOrVerySatisfied",
            "UserSatisfactionPercent",
        ]
    )
    for row in [*result.rows, result.total]:
        writer.writerow(
            [
                period.start.isoformat(),
                period.end.isoformat(),
                _safe_cell(row.label),
                row.transactions,
                row.self_service,
                _figure(row.digital_take_up),
                row.started,
                row.completed,
                _figure(row.completion_rate),
                f"{row.cost:.2f}",
                _figure(row.cost_per_transaction),
                row.answers,
                row.satisfied,
                _figure(row.satisfaction),
            ]
        )
    filename = f"service-kpis-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/staff/statistics/kpis/comments")
@role_required("manager")
def comments():
    """What residents wrote in the satisfaction survey, per service, newest first."""
    raw = request.args.get("service", "").strip()
    lgsl = int(raw) if raw.isdigit() else None
    services = catalogue()
    return render_page(
        "statistics/kpi_comments.html",
        lgsl=lgsl,
        answers=survey.comments(lgsl),
        ratings=survey.RATINGS,
        service_choices=sorted(services.items(), key=lambda kv: kv[1][0]),
        services=services,
    )


# -- Public ------------------------------------------------------------------------------------


@bp.get("/performance/services")
def public_kpis():
    """The four KPIs per service over the last twelve whole months, in plain English."""
    period = kpis.public_period(uk_today())
    result = kpis.report(period, stats.Filters(), "service")
    return render_page(
        "statistics/public_kpis.html", result=result, percent_chart=kpis.percent_chart(result.rows)
    )
