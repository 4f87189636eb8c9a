"""Public planning pages: the register, weekly lists, application pages, tracking and alerts."""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.common import page_cache, storage, submissions
from portal.common.clock import uk_today
from portal.common.gazetteer.geography import council_area, wards
from portal.extensions import csrf, db
from portal.planning import documents, ratelimits, services
from portal.planning.models import (
    LGIL_CONSULTATION,
    LGIL_INFORMATION,
    LGSL_FULL_PLANNING,
    PlanningAlert,
    PlanningApplication,
    PlanningComment,
    PlanningDocument,
    PlanningStatusEvent,
)
from portal.rendering import is_htmx_request, render_page
from portal.statistics.satisfaction import offer_survey

bp = Blueprint("planning", __name__, url_prefix="/planning")

COMMENT_ONCE = "planning_comment"  # the comment form's submission-token purpose

# The register and weekly lists for anonymous visitors: emptied in this worker by any commit
# that touches what they show.
PAGE_CACHE = "planning"
page_cache.watch(
    PAGE_CACHE,
    lambda: (PlanningApplication, PlanningDocument, PlanningStatusEvent, PlanningComment),
)


def _map_config() -> str:
    from flask import current_app

    settings = current_app.config["PORTAL"]
    box = council_area()
    return json.dumps(
        {
            "tiles": settings.map_tile_url,
            "attribution": settings.map_attribution,
            "bounds": [[box.south, box.west], [box.north, box.east]],
        }
    )


def _markers(applications: list[PlanningApplication]) -> str:
    return json.dumps(
        [
            {
                "lat": a.latitude,
                "lon": a.longitude,
                "ref": a.reference,
                "address": a.site_address,
                "url": url_for("planning.application", slug=a.slug),
            }
            for a in applications
        ]
    )


RESULTS_CACHE_SIZE = 512


def _cached_results(params: services.SearchParams, args: dict, map_config: str) -> tuple[str, int]:
    """The results block's HTML and the number found, cached per search and register version.

    The key includes the register's version (highest id and latest change), so a new or changed
    application is seen at once; the block holds no CSP nonce or user data, so it can be shared.
    """
    cache: dict = current_app.extensions.setdefault("planning_register_cache", {})
    key = (tuple(sorted(request.args.items(multi=True))), services.register_version())
    cached = cache.get(key)
    if cached is None:
        applications, total = services.search_page(params)
        html = render_block(
            "planning/register.html",
            "results",
            params=params,
            applications=applications,
            total=total,
            pages=max(1, -(-total // services.PAGE_SIZE)),
            args=args,
            markers=_markers(applications),
            map_config=map_config,
        )
        if len(cache) >= RESULTS_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cached = cache[key] = (html, total)
    return cached


def _cached_page(render) -> str:  # noqa: ANN001
    """A public planning page from this worker's anonymous-visitor cache, else rendered."""
    return page_cache.cached_page(
        PAGE_CACHE, current_app.config["PORTAL"].planning_page_cache_seconds, render
    )


@bp.get("")
def register():
    """The register: search, filters, the results as a list and on a map."""
    return _cached_page(_register)


def _register() -> str:
    params = services.parse_search(request.args)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    map_config = _map_config()
    results_html, total = ("", 0) if params.errors else _cached_results(params, args, map_config)
    # The count is the page's status: in the title after a search, and read out after an htmx one.
    found = "" if params.errors else services.found_message(total)
    htmx = is_htmx_request()
    return render_page(
        "planning/register.html",
        fragment="search",
        params=params,
        results_html=Markup(results_html),  # noqa: S704  (our own rendered, escaped block)
        results_title=found if args or htmx else "",
        status_message=found,
        htmx=htmx,
        args=args,
        page_errors=params.errors,
        statuses=PlanningApplication.STATUSES,
        types=PlanningApplication.TYPES,
        ward_options=[(w, w) for w in wards()],
        this_week=services.iso_week(uk_today()),
    )


@bp.get("/weekly")
def weekly():
    """Applications received and decided in one ISO week."""
    return _cached_page(_weekly)


def _weekly() -> str:
    from portal.common.dates import parts_of, typed_date

    parts, typed, error = typed_date(request.args, "day", "The date")
    page_errors = [error] if error else []
    week = services.iso_week(typed) if typed else request.args.get("week")
    week = week or services.iso_week(uk_today())
    try:
        monday, sunday = services.parse_iso_week(week)
    except ValueError:
        page_errors = page_errors or [("#day-day", "Enter a date in the week you want to see")]
        monday = date.fromisocalendar(*uk_today().isocalendar()[:2], 1)
        sunday = monday
    if not page_errors:
        parts = parts_of(monday)
    received = decided = []
    if not page_errors:
        received = db.session.scalars(
            select(PlanningApplication)
            .where(PlanningApplication.received_date.between(monday, sunday))
            .order_by(PlanningApplication.received_date, PlanningApplication.reference)
        ).all()
        decided = db.session.scalars(
            select(PlanningApplication)
            .where(PlanningApplication.decision_date.between(monday, sunday))
            .order_by(PlanningApplication.decision_date, PlanningApplication.reference)
        ).all()
    from datetime import timedelta

    return render_page(
        "planning/weekly.html",
        week=week,
        day_parts=parts,
        monday=monday,
        sunday=sunday,
        received=received,
        decided=decided,
        page_errors=page_errors,
        previous_week=services.iso_week(monday - timedelta(days=7)),
        next_week=services.iso_week(monday + timedelta(days=7)),
        previous_monday=monday - timedelta(days=7),
        next_monday=monday + timedelta(days=7),
        human_date=services.human_date,
    )


def _application_or_404(slug: str) -> PlanningApplication:
    application = services.get_by_slug(slug)
    if application is None:
        abort(404)
    if application.slug != slug:
        return redirect(url_for("planning.application", slug=application.slug), 301)  # type: ignore[return-value]
    return application


def _sign_in_url(application: PlanningApplication) -> str:
    from werkzeug.routing import BuildError

    here = url_for("planning.application", slug=application.slug)
    try:
        return url_for("accounts.sign_in", next=here)
    except BuildError:
        return "/sign-in?next=" + here


def _application_page(application: PlanningApplication, status: int = 200, **extra):
    comments = db.session.scalars(
        select(PlanningComment)
        .where(
            PlanningComment.application_id == application.id,
            PlanningComment.state == PlanningComment.PUBLISHED,
        )
        .order_by(PlanningComment.created_at)
    ).all()
    context = {
        "application": application,
        "comments": comments,
        "consultation_open": application.consultation_open(uk_today()),
        "today": uk_today(),
        "human_date": services.human_date,
        "stances": PlanningComment.STANCES,
        "statuses": PlanningApplication.STATUSES,
        "map_config": _map_config(),
        "markers": _markers([application]),
        "comment_values": {},
        "comment_errors": {},
        "track_values": {},
        "track_errors": {},
        "page_errors": [],
        "sign_in_url": _sign_in_url(application),
    }
    context.update(extra)
    return render_page("planning/application.html", **context), status


@bp.get("/applications/<slug>")
def application(slug: str):
    """One application at its stable URL."""
    application = _application_or_404(slug)
    if not isinstance(application, PlanningApplication):
        return application
    return _application_page(application)


@bp.get("/applications/<slug>/documents/<int:document_id>")
def document(slug: str, document_id: int):
    application = _application_or_404(slug)
    if not isinstance(application, PlanningApplication):
        return application
    doc = db.session.get(PlanningDocument, document_id)
    if doc is None or doc.application_id != application.id:
        abort(404)
    if doc.url:
        return redirect(doc.url)
    if documents.is_generated(doc):
        return Response(
            documents.document_pdf(application, doc),
            mimetype=documents.PDF_TYPE,
            headers={"Content-Disposition": f'inline; filename="{application.slug}-{doc.id}.pdf"'},
        )
    if not doc.storage_key:
        abort(404)
    return send_file(
        storage.path_for(doc.storage_key),
        mimetype=doc.content_type or "application/octet-stream",
        download_name=f"{application.slug}-{doc.id}.{doc.storage_key.rsplit('.', 1)[-1]}",
    )


@bp.post("/applications/<slug>/comments")
def comment(slug: str):
    """A signed-in resident comments while the consultation is open."""
    application = _application_or_404(slug)
    if not isinstance(application, PlanningApplication):
        return application
    if not current_user.is_authenticated:
        flash("Sign in to comment on a planning application")
        return redirect(url_for("planning.application", slug=application.slug))
    token = submissions.posted_token()
    if submissions.first_result(COMMENT_ONCE, token) is not None:
        return _comment_received(application)  # this form was sent before: no second comment
    values = {
        "name": request.form.get("name", "").strip()[:200],
        "address": request.form.get("address", "").strip()[:300],
        "stance": request.form.get("stance", ""),
        "text": request.form.get("text", "").strip(),
    }
    errors: dict[str, str] = {}  # in the order of the fields on the page
    if values["stance"] not in PlanningComment.STANCES:
        errors["stance"] = "Select whether you support, object or are neutral"
    if not values["name"]:
        errors["name"] = "Enter your name"
    if not values["address"]:
        errors["address"] = "Enter your address"
    if not values["text"]:
        errors["text"] = "Enter your comment"
    elif len(values["text"]) > 5000:
        errors["text"] = "Your comment must be 5,000 characters or fewer"
    if not errors:
        try:
            comment = services.add_comment(application, current_user, **values)
        except services.CommentError as exc:
            errors["text"] = str(exc)
        else:
            submissions.commit_once(COMMENT_ONCE, token, f"comment-{comment.id}")
            offer_survey(LGSL_FULL_PLANNING, LGIL_CONSULTATION, f"comment-{comment.id}")
            return _comment_received(application)
    db.session.rollback()
    field_ids = {"stance": "stance", "name": "name", "address": "address", "text": "text"}
    page_errors = [(f"#{field_ids[k]}", v) for k, v in errors.items()]
    return _application_page(
        application, 400, comment_values=values, comment_errors=errors, page_errors=page_errors
    )


def _comment_received(application: PlanningApplication) -> Response:
    flash(
        "Thank you. Your comment has been received; it will be published after a "
        "planning officer has checked it.",
        "success",
    )
    return redirect(url_for("planning.application", slug=application.slug))


@bp.post("/applications/<slug>/track")
def track(slug: str):
    """Follow one application: signed in, or by an email address confirmed by a link."""
    application = _application_or_404(slug)
    if not isinstance(application, PlanningApplication):
        return application
    email = (request.form.get("email") or "").strip()
    if current_user.is_authenticated and not email:
        email = current_user.email
    if not services.EMAIL_PATTERN.match(email):
        message = (
            "Enter your email address"
            if not email
            else "Enter an email address in the correct format, like name@example.com"
        )
        return _application_page(
            application,
            400,
            track_values={"email": email},
            track_errors={"email": message},
            page_errors=[("#track-email", message)],
        )
    user = current_user if current_user.is_authenticated else None
    tracker = services.start_tracking(application, email, user)
    db.session.commit()
    if tracker.confirmed_at:
        flash(
            f"You are tracking {application.reference}. We will email you when it changes.",
            "success",
        )
    else:
        flash(
            f"Check your email: we sent a link to {email}. Updates start when you confirm.",
            "success",
        )
    return redirect(url_for("planning.application", slug=application.slug))


# ---------------------------------------------------------------- alerts


def _alert_page(values: dict, errors: dict[str, str], status: int = 200):
    page_errors = [(f"#{k}", v) for k, v in errors.items()]
    return (
        render_page(
            "planning/alerts.html",
            values=values,
            errors=errors,
            page_errors=page_errors,
            wards=list(wards()),
            radii=PlanningAlert.RADIUS_LABELS,
            frequencies=PlanningAlert.FREQUENCIES,
            types=PlanningApplication.TYPES,
            map_config=_map_config(),
        ),
        status,
    )


@bp.get("/alerts")
def alerts():
    """Sign up for map-based alerts: an address and radius, wards, or an area drawn on the map."""
    values = {
        "area": "",
        "radius": "",
        "frequency": PlanningAlert.INSTANT,
        "wards": [],
        "types": [],
    }
    if current_user.is_authenticated:
        values["email"] = current_user.email
    return _alert_page(values, {})


@bp.post("/alerts")
def alerts_post():
    form = request.form
    values = {
        "area": form.get("area", ""),
        "postcode": form.get("postcode", "").strip(),
        "house": form.get("house", "").strip(),
        "radius": form.get("radius", ""),
        "wards": form.getlist("wards"),
        "polygon": form.get("polygon", "").strip(),
        "email": form.get("email", "").strip(),
        "frequency": form.get("frequency", ""),
        "include_comments": form.get("include_comments") == "yes",
        "types": form.getlist("types"),
    }
    errors: dict[str, str] = {}
    areas: list[services.AlertArea] = []
    try:
        if values["area"] == "radius":
            areas = [services.radius_area(values["postcode"], values["house"], values["radius"])]
        elif values["area"] == "ward":
            chosen = [w for w in values["wards"] if w in wards()]
            if not chosen:
                raise services.AlertAreaError("wards", "Choose at least one ward")
            areas = [services.ward_area(w) for w in chosen]
        elif values["area"] == "polygon":
            areas = [services.polygon_area(values["polygon"])]
        else:
            errors["area"] = "Choose how you want to set the area"
    except services.AlertAreaError as exc:
        errors[exc.field_id] = exc.message
    if not services.EMAIL_PATTERN.match(values["email"]):
        errors["email"] = (
            "Enter your email address"
            if not values["email"]
            else "Enter an email address in the correct format, like name@example.com"
        )
    if values["frequency"] not in PlanningAlert.FREQUENCIES:
        errors["frequency"] = "Choose how often you want emails"
    if errors:
        return _alert_page(values, errors, 400)
    wait = ratelimits.alert_signup_wait_minutes(values["email"])
    if wait:
        errors["email"] = (
            "You have asked for too many alerts in a short time. "
            f"Wait {wait} minute{'s' if wait != 1 else ''} and try again"
        )
        return _alert_page(values, errors, 429)
    user = current_user if current_user.is_authenticated else None
    for area in areas:
        services.create_alert(
            area,
            values["email"],
            values["frequency"],
            values["include_comments"],
            values["types"],
            user,
        )
    db.session.commit()
    return redirect(url_for("planning.alerts_sent", n=len(areas)))


@bp.get("/alerts/check-your-email")
def alerts_sent():
    return render_page("planning/alerts_sent.html")


@bp.get("/alerts/mine")
def my_alerts():
    """A signed-in resident's alerts and tracked applications."""
    if not current_user.is_authenticated:
        from portal.extensions import login_manager

        return login_manager.unauthorized()
    return render_page(
        "planning/my_alerts.html",
        alerts=services.alerts_for_user(current_user),
        trackers=services.trackers_for_user(current_user),
    )


@bp.post("/alerts/<int:alert_id>/stop")
def stop_alert(alert_id: int):
    if not current_user.is_authenticated:
        from portal.extensions import login_manager

        return login_manager.unauthorized()
    alert = db.session.get(PlanningAlert, alert_id)
    if alert is None or not services.owned_by(alert, current_user):
        abort(404)
    services.unsubscribe(alert)
    db.session.commit()
    flash("Alert stopped. We will not email you about it again.", "success")
    return redirect(url_for("planning.my_alerts"))


def _subscription_or_404(token: str):
    thing = services.find_by_token(token)
    if thing is None:
        abort(404)
    return thing


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """Double opt-in: the emailed link shows a button; pressing it (a POST) confirms."""
    thing = _subscription_or_404(token)
    done = False
    if request.method == "POST":
        confirmed_now = services.confirm_subscription(thing)
        db.session.commit()
        done = True
        if confirmed_now:
            kind = "alert" if isinstance(thing, PlanningAlert) else "tracker"
            offer_survey(LGSL_FULL_PLANNING, LGIL_INFORMATION, f"{kind}-{thing.id}")
    return render_page(
        "planning/confirm.html", thing=thing, done=done, is_alert=isinstance(thing, PlanningAlert)
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    """One-click unsubscribe (RFC 8058).

    Only the one-click POST (body `List-Unsubscribe=One-Click`) skips the CSRF check: mail
    providers send it with no session and no form token. The URL's token is 43 random characters
    known only to the subscriber, so it is itself the proof; the worst a forged request could do
    is stop one subscriber's emails, which is what the token holder asked for. The page's own
    button is an ordinary form and keeps its CSRF token.
    """
    one_click = request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click"
    if request.method == "POST" and not one_click:
        csrf.protect()
    thing = _subscription_or_404(token)
    done = thing.unsubscribed_at is not None
    if request.method == "POST":
        services.unsubscribe(thing)
        db.session.commit()
        done = True
        if one_click:
            return "Unsubscribed\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
    return render_page(
        "planning/unsubscribe.html",
        thing=thing,
        done=done,
        is_alert=isinstance(thing, PlanningAlert),
    )
