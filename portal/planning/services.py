"""Planning domain functions: search, status changes, comments, tracking, alerts and matching."""

from __future__ import annotations

import json
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy import text as sql_text

from portal.common.clock import uk_today
from portal.common.dates import date_range
from portal.common.delivery import set_portal_delivery
from portal.common.gazetteer.geography import council_area, ward_at, wards
from portal.common.gazetteer.services import PostcodeError, addresses_for_postcode
from portal.common.models import utcnow
from portal.common.outbox import queue_email
from portal.common.transactions import record_transaction
from portal.common.urls import external_url
from portal.extensions import db
from portal.planning import geo
from portal.planning.models import (
    LGIL_CONSULTATION,
    LGIL_INFORMATION,
    LGSL_FULL_PLANNING,
    PlanningAlert,
    PlanningAlertDelivery,
    PlanningApplication,
    PlanningComment,
    PlanningStatusEvent,
    PlanningTracker,
)

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PAGE_SIZE = 20
MAX_POLYGON_POINTS = 50


# ---------------------------------------------------------------- links and emails


def application_url(application: PlanningApplication) -> str:
    return external_url("planning.application", slug=application.slug)


def unsubscribe_url(token: str) -> str:
    return external_url("planning.unsubscribe", token=token)


def confirm_url(token: str) -> str:
    return external_url("planning.confirm", token=token)


def unsubscribe_headers(token: str) -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers: mail clients show an unsubscribe button that POSTs."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(token)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def queue_subscription_email(to: str, subject: str, body: str, token: str) -> None:
    footer = f"\n\n--\nTo stop these emails, unsubscribe with one click: {unsubscribe_url(token)}\n"
    queue_email(to, subject, body + footer, unsubscribe_headers(token))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def ensure_portal_deliveries() -> None:
    """The planning interactions the portal itself runs (for the e-enablement register)."""
    set_portal_delivery(
        "planning",
        "register",
        LGSL_FULL_PLANNING,
        LGIL_INFORMATION,
        "Planning register, tracking and alerts",
        "/planning",
    )
    set_portal_delivery(
        "planning",
        "comments",
        LGSL_FULL_PLANNING,
        LGIL_CONSULTATION,
        "Comment on a planning application",
        "/planning",
    )


# ---------------------------------------------------------------- register search


@dataclass
class SearchParams:
    q: str = ""
    status: str = ""
    application_type: str = ""
    ward: str = ""
    received_from: date | None = None
    received_to: date | None = None
    decided_from: date | None = None
    decided_to: date | None = None
    page: int = 1
    errors: list[tuple[str, str]] = field(default_factory=list)
    # What was typed in each date filter's day, month and year boxes.
    date_parts: dict[str, dict[str, str]] = field(default_factory=dict)

    def date_error(self, prefix: str) -> str | None:
        return next((m for href, m in self.errors if href.startswith(f"#{prefix}-")), None)


def parse_date(text: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def found_message(total: int) -> str:
    """How many applications a search found, as the page says it ("94 applications found")."""
    return f"{total} application{'' if total == 1 else 's'} found"


def parse_search(args: Any) -> SearchParams:
    params = SearchParams(
        q=(args.get("q") or "").strip()[:200],
        status=args.get("status") or "",
        application_type=args.get("type") or "",
        ward=args.get("ward") or "",
    )
    if params.status not in PlanningApplication.STATUSES:
        params.status = ""
    if params.application_type not in PlanningApplication.TYPES:
        params.application_type = ""
    if params.ward not in wards():
        params.ward = ""
    received = date_range(args, ("received_from", "Received from"), ("received_to", "Received to"))
    decided = date_range(args, ("decided_from", "Decided from"), ("decided_to", "Decided to"))
    params.received_from, params.received_to = received.start, received.end
    params.decided_from, params.decided_to = decided.start, decided.end
    params.date_parts = {**received.parts, **decided.parts}
    params.errors.extend(received.errors + decided.errors)
    try:
        params.page = max(1, min(int(args.get("page", 1)), 10_000))
    except (TypeError, ValueError):
        params.page = 1
    return params


def search_query(params: SearchParams):  # noqa: ANN201
    query = select(PlanningApplication)
    if params.q:
        text = params.q
        like = f"%{text}%"
        conditions = [
            PlanningApplication.reference.ilike(like),
            PlanningApplication.site_address.ilike(like),
            PlanningApplication.description.ilike(like),
        ]
        compact = re.sub(r"\s+", "", text.upper())
        if re.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}", compact):
            conditions.append(PlanningApplication.postcode == f"{compact[:-3]} {compact[-3:]}")
        slug = PlanningApplication.slug_for(text)
        conditions.append(PlanningApplication.slug == slug)
        query = query.where(or_(*conditions))
    if params.status:
        query = query.where(PlanningApplication.status == params.status)
    if params.application_type:
        query = query.where(PlanningApplication.application_type == params.application_type)
    if params.ward:
        query = query.where(PlanningApplication.ward == params.ward)
    if params.received_from:
        query = query.where(PlanningApplication.received_date >= params.received_from)
    if params.received_to:
        query = query.where(PlanningApplication.received_date <= params.received_to)
    if params.decided_from:
        query = query.where(PlanningApplication.decision_date >= params.decided_from)
    if params.decided_to:
        query = query.where(PlanningApplication.decision_date <= params.decided_to)
    return query


def search_page(params: SearchParams) -> tuple[list[PlanningApplication], int]:
    query = search_query(params)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(PlanningApplication.received_date.desc(), PlanningApplication.id.desc())
        .limit(PAGE_SIZE)
        .offset((params.page - 1) * PAGE_SIZE)
    ).all()
    return list(rows), total


def register_version() -> tuple:
    """Changes whenever an application is added or changed (both read from an index)."""
    return (
        db.session.scalar(select(func.max(PlanningApplication.id))),
        db.session.scalar(select(func.max(PlanningApplication.updated_at))),
    )


def parse_iso_week(text: str) -> tuple[date, date]:
    """'2026-W47' → (Monday, Sunday); ValueError when it is not a week."""
    match = re.fullmatch(r"(\d{4})-W(\d{1,2})", (text or "").strip().upper())
    if not match:
        raise ValueError(text)
    monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    return monday, monday + timedelta(days=6)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def get_by_slug(slug: str) -> PlanningApplication | None:
    return db.session.scalar(
        select(PlanningApplication).where(
            PlanningApplication.slug == PlanningApplication.slug_for(slug)
        )
    )


# ---------------------------------------------------------------- staff changes


def create_application(values: dict[str, Any], notify: bool = True) -> PlanningApplication:
    """Add a new application with its first timeline step; instant alerts go out with it."""
    values = dict(values)
    values.setdefault("status", PlanningApplication.REGISTERED)
    values["slug"] = PlanningApplication.slug_for(values["reference"])
    if not values.get("ward"):
        values["ward"] = ward_at(values["latitude"], values["longitude"])
    application = PlanningApplication(**values)
    application.created_at = application.updated_at = utcnow()
    db.session.add(application)
    db.session.add(
        PlanningStatusEvent(application=application, status=application.status, note="Received")
    )
    db.session.flush()
    if notify:
        send_instant_alerts([application])
    return application


def change_status(
    application: PlanningApplication,
    status: str,
    note: str = "",
    decision: str | None = None,
    decision_type: str | None = None,
    decision_date: date | None = None,
) -> PlanningStatusEvent:
    """Move an application to a new status; trackers are emailed in the same transaction."""
    if status not in PlanningApplication.STATUSES:
        raise ValueError(f"unknown status {status!r}")
    application.status = status
    if decision:
        application.decision = decision
        application.decision_type = decision_type or application.decision_type
        application.decision_date = decision_date or application.decision_date or uk_today()
    application.updated_at = utcnow()
    event = PlanningStatusEvent(application=application, status=status, note=note or None)
    db.session.add(event)
    notify_trackers(application, note)
    return event


def _active_trackers(application: PlanningApplication) -> list[PlanningTracker]:
    return list(
        db.session.scalars(
            select(PlanningTracker).where(
                PlanningTracker.application_id == application.id,
                PlanningTracker.confirmed_at.is_not(None),
                PlanningTracker.unsubscribed_at.is_(None),
            )
        )
    )


def tracker_count(application: PlanningApplication) -> int:
    """How many people are told of a change to this application (confirmed, subscribed)."""
    return len(_active_trackers(application))


def notify_trackers(application: PlanningApplication, note: str = "") -> int:
    trackers = _active_trackers(application)
    lines = [
        f"Planning application {application.reference}, {application.site_address}",
        f"is now: {application.status_label}.",
    ]
    if application.decision:
        lines.append(
            f"Decision: {application.decision} ({application.decision_type or 'delegated'})."
        )
    if note:
        lines.append(note)
    lines.append(f"See the application: {application_url(application)}")
    for tracker in trackers:
        queue_subscription_email(
            tracker.email,
            f"Planning application {application.reference}: {application.status_label}",
            "\n".join(lines),
            tracker.token,
        )
    return len(trackers)


# ---------------------------------------------------------------- comments


class CommentError(ValueError):
    """A comment that cannot be accepted; str() is the message for the resident."""


def add_comment(
    application: PlanningApplication,
    user: Any,
    name: str,
    address: str,
    stance: str,
    text: str,
    today: date | None = None,
) -> PlanningComment:
    """Accept a comment for moderation, count it and email the case officer."""
    today = today or uk_today()
    if not application.consultation_open(today):
        raise CommentError(
            "Comments on this application closed on "
            + (
                human_date(application.consultation_end)
                if application.consultation_end
                else "its consultation end date"
            )
        )
    comment = PlanningComment(
        application_id=application.id,
        user_id=user.id,
        name=name,
        address=address,
        stance=stance,
        text=text,
        state=PlanningComment.PENDING,
    )
    db.session.add(comment)
    db.session.flush()
    record_transaction(
        "planning_comment",
        LGSL_FULL_PLANNING,
        LGIL_CONSULTATION,
        application.reference,
        user_id=user.id,
    )
    if application.case_officer_email:
        queue_email(
            application.case_officer_email,
            f"New comment on {application.reference} ({comment.stance_label.lower()})",
            f"{name} of {address} commented on {application.reference}, {application.site_address}:\n\n"
            f"{text}\n\nModerate it: {external_url('planning_staff.comments')}\n",
        )
    return comment


def moderate_comment(comment: PlanningComment, publish: bool, moderator: Any) -> None:
    comment.state = PlanningComment.PUBLISHED if publish else PlanningComment.REJECTED
    comment.moderated_at = utcnow()
    comment.moderated_by_id = moderator.id
    if publish:
        send_instant_alerts([comment.application], comment=comment)


def human_date(day: date | None) -> str:
    if day is None:
        return ""
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"


# ---------------------------------------------------------------- tracking


def start_tracking(
    application: PlanningApplication, email: str, user: Any | None
) -> PlanningTracker:
    """Follow one application; a signed-in resident's confirmed address needs no confirmation."""
    email = email.strip().lower()
    existing = db.session.scalar(
        select(PlanningTracker).where(
            PlanningTracker.application_id == application.id,
            func.lower(PlanningTracker.email) == email,
            PlanningTracker.unsubscribed_at.is_(None),
        )
    )
    if existing:
        return existing
    tracker = PlanningTracker(
        application_id=application.id,
        user_id=getattr(user, "id", None),
        email=email,
        token=new_token(),
    )
    db.session.add(tracker)
    db.session.flush()
    account_confirmed = (
        user is not None
        and getattr(user, "email_confirmed_at", None) is not None
        and user.email.lower() == email
    )
    if account_confirmed:
        _confirm_tracker(tracker)
    else:
        queue_email(
            email,
            f"Confirm you want updates on planning application {application.reference}",
            f"Someone (we hope you) asked for emails about planning application "
            f"{application.reference}, {application.site_address}.\n\n"
            f"Confirm here: {confirm_url(tracker.token)}\n\n"
            "If it was not you, ignore this email: nothing will be sent.\n",
        )
    return tracker


def _confirm_tracker(tracker: PlanningTracker) -> None:
    tracker.confirmed_at = utcnow()
    record_transaction(
        "planning_tracking",
        LGSL_FULL_PLANNING,
        LGIL_INFORMATION,
        f"tracker-{tracker.id}",
        user_id=tracker.user_id,
    )


# ---------------------------------------------------------------- alerts: sign-up


@dataclass
class AlertArea:
    kind: str
    label: str
    latitude: float | None = None
    longitude: float | None = None
    radius_m: int | None = None
    ward: str | None = None
    polygon: list[list[float]] | None = None

    def bbox(self) -> tuple[float, float, float, float]:
        if self.kind == PlanningAlert.KIND_RADIUS:
            return geo.radius_bbox(self.latitude, self.longitude, self.radius_m)  # type: ignore[arg-type]
        if self.kind == PlanningAlert.KIND_WARD:
            box = wards()[self.ward]  # type: ignore[index]
            return box.south, box.north, box.west, box.east
        return geo.polygon_bbox(self.polygon)  # type: ignore[arg-type]


class AlertAreaError(ValueError):
    def __init__(self, field_id: str, message: str) -> None:
        super().__init__(message)
        self.field_id = field_id
        self.message = message


def radius_area(postcode: str, house: str, radius_text: str) -> AlertArea:
    """An address (house number or name at a postcode) or a postcode's centre, and a radius."""
    try:
        radius = int(radius_text)
    except (TypeError, ValueError):
        radius = 0
    if radius not in PlanningAlert.RADII:
        raise AlertAreaError("radius", "Choose a distance: 200 metres, 800 metres or 2 kilometres")
    try:
        normalised, addresses = addresses_for_postcode(postcode)
    except PostcodeError as exc:
        raise AlertAreaError("postcode", str(exc)) from None
    house = (house or "").strip()
    if house:
        wanted = house.lower()
        found = [
            a
            for a in addresses
            if a.line1.lower() == wanted or a.line1.lower().startswith(wanted + " ")
        ]
        if not found:
            raise AlertAreaError(
                "house",
                f"We could not find {house} at {normalised}. Check the house number or name",
            )
        address = found[0]
        return AlertArea(
            PlanningAlert.KIND_RADIUS,
            address.single_line,
            address.latitude,
            address.longitude,
            radius,
        )
    lat = sum(a.latitude for a in addresses) / len(addresses)
    lon = sum(a.longitude for a in addresses) / len(addresses)
    return AlertArea(PlanningAlert.KIND_RADIUS, normalised, round(lat, 6), round(lon, 6), radius)


def ward_area(ward: str) -> AlertArea:
    if ward not in wards():
        raise AlertAreaError("wards", "Choose a ward")
    return AlertArea(PlanningAlert.KIND_WARD, ward, ward=ward)


def polygon_area(text: str) -> AlertArea:
    try:
        points = geo.parse_polygon(text)
    except ValueError:
        raise AlertAreaError(
            "polygon", "Draw the area again: we could not read its corners"
        ) from None
    if len(points) < 3:
        raise AlertAreaError("polygon", "Draw an area with at least 3 corners on the map")
    if len(points) > MAX_POLYGON_POINTS:
        raise AlertAreaError("polygon", f"Draw an area with at most {MAX_POLYGON_POINTS} corners")
    if geo.polygon_self_intersects(points):
        raise AlertAreaError(
            "polygon", "The area you drew crosses itself. Draw it again without crossing lines"
        )
    if geo.polygon_area_m2(points) > geo.council_area_m2():
        raise AlertAreaError(
            "polygon", "The area you drew is larger than the council area. Draw a smaller area"
        )
    box = council_area()
    if not any(box.contains(lat, lon) for lat, lon in points) and not geo.point_in_polygon(
        box.centre, points
    ):
        raise AlertAreaError("polygon", "Draw an area inside the council area")
    area_km2 = geo.polygon_area_m2(points) / 1e6
    return AlertArea(
        PlanningAlert.KIND_POLYGON, f"{len(points)} corners, {area_km2:.2f} km²", polygon=points
    )


def create_alert(
    area: AlertArea,
    email: str,
    frequency: str,
    include_comments: bool,
    application_types: Sequence[str] | None,
    user: Any | None,
) -> PlanningAlert:
    """Add an alert waiting for confirmation and email the confirmation link (double opt-in)."""
    if frequency not in PlanningAlert.FREQUENCIES:
        raise ValueError(frequency)
    types = [t for t in (application_types or []) if t in PlanningApplication.TYPES] or None
    min_lat, max_lat, min_lon, max_lon = area.bbox()
    alert = PlanningAlert(
        user_id=getattr(user, "id", None),
        email=email.strip().lower(),
        kind=area.kind,
        label=area.label,
        latitude=area.latitude,
        longitude=area.longitude,
        radius_m=area.radius_m,
        ward=area.ward,
        polygon=area.polygon,
        min_lat=min_lat,
        max_lat=max_lat,
        min_lon=min_lon,
        max_lon=max_lon,
        frequency=frequency,
        include_comments=include_comments,
        application_types=types,
        token=new_token(),
        active=False,
    )
    db.session.add(alert)
    db.session.flush()
    queue_email(
        alert.email,
        "Confirm your planning alert",
        f"Someone (we hope you) asked for planning alerts for: {alert.area_label}.\n"
        f"Frequency: {alert.frequency_label}.\n\n"
        f"Confirm here to start them: {confirm_url(alert.token)}\n\n"
        "If it was not you, ignore this email: nothing will be sent.\n",
    )
    return alert


def find_by_token(token: str) -> PlanningAlert | PlanningTracker | None:
    if not token or len(token) > 64:
        return None
    alert = db.session.scalar(select(PlanningAlert).where(PlanningAlert.token == token))
    if alert:
        return alert
    return db.session.scalar(select(PlanningTracker).where(PlanningTracker.token == token))


def confirm_subscription(thing: PlanningAlert | PlanningTracker) -> bool:
    """Confirm an alert or tracker once; the sign-up is counted at that moment."""
    if thing.confirmed_at is not None or thing.unsubscribed_at is not None:
        return False
    if isinstance(thing, PlanningTracker):
        _confirm_tracker(thing)
        return True
    thing.confirmed_at = utcnow()
    thing.active = True
    thing.last_digest_at = thing.confirmed_at
    record_transaction(
        "planning_alert",
        LGSL_FULL_PLANNING,
        LGIL_INFORMATION,
        f"alert-{thing.id}",
        user_id=thing.user_id,
    )
    return True


def unsubscribe(thing: PlanningAlert | PlanningTracker) -> bool:
    if thing.unsubscribed_at is not None:
        return False
    thing.unsubscribed_at = utcnow()
    if isinstance(thing, PlanningAlert):
        thing.active = False
    return True


def owned_by(thing: PlanningAlert | PlanningTracker, user: Any) -> bool:
    """Made by this account, or sent to its email address once the account has confirmed it."""
    email = user.confirmed_email
    return thing.user_id == user.id or (email is not None and thing.email.lower() == email)


def _owner_condition(model: type[PlanningAlert] | type[PlanningTracker], user: Any) -> Any:
    email = user.confirmed_email
    if email is None:
        return model.user_id == user.id
    return or_(model.user_id == user.id, func.lower(model.email) == email)


def alerts_for_user(user: Any) -> list[PlanningAlert]:
    return list(
        db.session.scalars(
            select(PlanningAlert)
            .where(_owner_condition(PlanningAlert, user), PlanningAlert.unsubscribed_at.is_(None))
            .order_by(PlanningAlert.created_at.desc())
        )
    )


def trackers_for_user(user: Any) -> list[PlanningTracker]:
    return list(
        db.session.scalars(
            select(PlanningTracker)
            .where(
                _owner_condition(PlanningTracker, user), PlanningTracker.unsubscribed_at.is_(None)
            )
            .order_by(PlanningTracker.created_at.desc())
        )
    )


# ---------------------------------------------------------------- alerts: matching

_PER_DEGREE_LAT_MIN = 110_000.0  # fewer metres per degree of latitude than anywhere on Earth
ALL_FREQUENCIES = (PlanningAlert.INSTANT, PlanningAlert.DAILY, PlanningAlert.WEEKLY)


# The prefilter for address-and-radius alerts: an index range on min_lat (an alert's box can start
# at most 2r·1.02 metres south of a point inside it), the rest of the bounding box from the same
# index, then a planar distance on the local ellipsoid scale in SQL that may only err outwards.
def _radius_part(n: int) -> str:
    d2 = (
        "((latitude - :lat) * :klat) * ((latitude - :lat) * :klat)"
        " + ((longitude - :lon) * :klon) * ((longitude - :lon) * :klon)"
    )
    return f"""
    SELECT id, latitude, longitude, radius_m, {d2} AS d2
    FROM planning_alerts
    WHERE active = :on AND radius_m = :radius{n}
      AND min_lat >= :lat - :span{n} AND min_lat <= :lat
      AND max_lat >= :lat AND min_lon <= :lon AND max_lon >= :lon
      AND {d2} <= :outer{n}
      AND frequency IN :frequencies AND (:any_alert OR include_comments = :on)
    """


_RADIUS_SQL = sql_text(
    " UNION ALL ".join(_radius_part(n) for n in range(len(PlanningAlert.RADII)))
).bindparams(bindparam("frequencies", expanding=True))

_TYPES_SQL = sql_text(
    """
    SELECT id, application_types FROM planning_alerts
    WHERE active = :on AND kind = 'radius' AND application_types IS NOT NULL
      AND frequency IN :frequencies AND (:any_alert OR include_comments = :on)
    """
).bindparams(bindparam("frequencies", expanding=True))

_POLYGON_SQL = sql_text(
    """
    SELECT id, polygon, application_types
    FROM planning_alerts
    WHERE active = :on AND kind = 'polygon'
      AND min_lat >= :lat - :span AND min_lat <= :lat
      AND max_lat >= :lat AND min_lon <= :lon AND max_lon >= :lon
      AND frequency IN :frequencies AND (:any_alert OR include_comments = :on)
    """
).bindparams(bindparam("frequencies", expanding=True))

_WARD_SQL = sql_text(
    """
    SELECT id, ward, application_types
    FROM planning_alerts
    WHERE active = :on AND kind = 'ward' AND ward IN :wards
      AND frequency IN :frequencies AND (:any_alert OR include_comments = :on)
    """
).bindparams(bindparam("frequencies", expanding=True), bindparam("wards", expanding=True))


@dataclass(frozen=True)
class Target:
    """What is matched: an application's point, ward and type."""

    id: int
    latitude: float
    longitude: float
    ward: str | None
    application_type: str


def _json(value: Any) -> Any:
    """JSON columns read through text(): a string on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def match_targets(
    targets: Iterable[Target],
    frequencies: tuple[str, ...] = ALL_FREQUENCIES,
    comments_only: bool = False,
) -> dict[int, list[int]]:
    """{alert id: [application ids]} for every active alert whose area holds each target.

    Prefilter: indexed bounding-box ranges (radius and polygon alerts) or the indexed ward.
    Exact test: geodesic distance (settled by `geo.within_radius`'s error band), point in
    polygon, ward name, and the alert's application types.
    """
    targets = list(targets)
    matches: dict[int, list[int]] = defaultdict(list)
    if not targets:
        return matches
    connection = db.session.connection()
    common = {"on": True, "frequencies": list(frequencies), "any_alert": not comments_only}
    polygon_span = connection.execute(
        select(func.max(PlanningAlert.max_lat - PlanningAlert.min_lat)).where(
            PlanningAlert.active.is_(True), PlanningAlert.kind == PlanningAlert.KIND_POLYGON
        )
    ).scalar()
    polygons: dict[int, list] = {}
    types_cache: dict[str, Any] = {}

    def allowed(types_value: Any, app_type: str) -> bool:
        if types_value is None:
            return True
        key = types_value if isinstance(types_value, str) else json.dumps(types_value)
        if key not in types_cache:
            types_cache[key] = _json(types_value)
        types = types_cache[key]
        return not types or app_type in types

    # The few alerts limited to some application types, read once (the radius query stays
    # within its covering index).
    filtered = {
        alert_id: set(_json(types_value) or ())
        for alert_id, types_value in connection.execute(_TYPES_SQL, common)
        if _json(types_value)
    }
    wards = sorted({t.ward for t in targets if t.ward})
    by_ward: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    if wards:
        for alert_id, ward, types_value in connection.execute(
            _WARD_SQL, {**common, "wards": wards}
        ):
            by_ward[ward].append((alert_id, types_value))

    inner2 = {r: (r * (1 - geo.SQL_BAND)) ** 2 for r in PlanningAlert.RADII}
    for target in targets:
        lat, lon, app_type = target.latitude, target.longitude, target.application_type
        point = (lat, lon)
        per_lat, per_lon = geo.metres_per_degree(lat)
        params = {**common, "lat": lat, "lon": lon, "klat": per_lat, "klon": per_lon}
        for n, radius in enumerate(PlanningAlert.RADII):
            params[f"radius{n}"] = radius
            params[f"span{n}"] = 2 * radius * 1.02 / _PER_DEGREE_LAT_MIN
            params[f"outer{n}"] = (radius * (1 + geo.SQL_BAND)) ** 2
        for alert_id, a_lat, a_lon, radius, d2 in connection.execute(_RADIUS_SQL, params):
            if alert_id in filtered and app_type not in filtered[alert_id]:
                continue
            if d2 <= inner2[radius] or geo.within_radius((a_lat, a_lon), point, radius):
                matches[alert_id].append(target.id)
        if polygon_span:
            params = {**common, "lat": lat, "lon": lon, "span": float(polygon_span) + 1e-9}
            for alert_id, polygon_value, types_value in connection.execute(_POLYGON_SQL, params):
                if not allowed(types_value, app_type):
                    continue
                polygon = polygons.get(alert_id)
                if polygon is None:
                    polygon = polygons[alert_id] = _json(polygon_value)
                if geo.point_in_polygon(point, polygon):
                    matches[alert_id].append(target.id)
        for alert_id, types_value in by_ward.get(target.ward or "", ()):
            if allowed(types_value, app_type):
                matches[alert_id].append(target.id)
    return matches


def exact_match(alert: PlanningAlert, target: Target) -> bool:
    """The exact test on its own, for one alert (used by checks and tests)."""
    if alert.application_types and target.application_type not in alert.application_types:
        return False
    point = (target.latitude, target.longitude)
    if alert.kind == PlanningAlert.KIND_RADIUS:
        return geo.within_radius((alert.latitude, alert.longitude), point, alert.radius_m)
    if alert.kind == PlanningAlert.KIND_WARD:
        return alert.ward == target.ward
    return geo.point_in_polygon(point, alert.polygon)


def target_of(application: PlanningApplication) -> Target:
    return Target(
        application.id,
        application.latitude,
        application.longitude,
        application.ward,
        application.application_type,
    )


def _existing_deliveries(
    alert_ids: Iterable[int], event_keys: set[str]
) -> set[tuple[int, int, str]]:
    ids = list(alert_ids)
    found: set[tuple[int, int, str]] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            tuple(row)
            for row in db.session.execute(
                select(
                    PlanningAlertDelivery.alert_id,
                    PlanningAlertDelivery.application_id,
                    PlanningAlertDelivery.event,
                ).where(
                    PlanningAlertDelivery.alert_id.in_(chunk),
                    PlanningAlertDelivery.event.in_(event_keys),
                )
            ).all()
        )
    return found


def _deliver(
    alert_items: dict[int, list[tuple[PlanningApplication, str, str]]], subject: str
) -> int:
    """Record deliveries and queue one email per alert, in the caller's transaction."""
    if not alert_items:
        return 0
    keys = {event for items in alert_items.values() for _, event, _ in items}
    already = _existing_deliveries(alert_items.keys(), keys)
    alerts = {
        a.id: a
        for a in db.session.scalars(
            select(PlanningAlert).where(PlanningAlert.id.in_(list(alert_items)))
        )
    }
    emails = 0
    now = utcnow()
    for alert_id, items in alert_items.items():
        fresh = [i for i in items if (alert_id, i[0].id, i[1]) not in already]
        alert = alerts.get(alert_id)
        if not fresh or alert is None:
            continue
        db.session.execute(
            PlanningAlertDelivery.__table__.insert(),
            [
                {"alert_id": alert_id, "application_id": a.id, "event": e, "sent_at": now}
                for a, e, _ in fresh
            ],
        )
        lines = [f"Planning alert: {alert.area_label}", ""]
        for application, _event, text in fresh:
            lines.append(f"{application.reference} – {application.site_address}")
            lines.append(f"  {text}")
            lines.append(f"  {application_url(application)}")
            lines.append("")
        queue_subscription_email(alert.email, subject, "\n".join(lines), alert.token)
        emails += 1
    return emails


def send_instant_alerts(
    applications: Sequence[PlanningApplication], comment: PlanningComment | None = None
) -> int:
    """Email instant alerts about new applications (or a newly published comment) in their area."""
    by_id = {a.id: a for a in applications}
    matches = match_targets(
        [target_of(a) for a in applications],
        (PlanningAlert.INSTANT,),
        comments_only=comment is not None,
    )
    items: dict[int, list[tuple[PlanningApplication, str, str]]] = {}
    for alert_id, app_ids in matches.items():
        if comment is not None:
            items[alert_id] = [
                (
                    by_id[i],
                    f"comment:{comment.id}",
                    f"New comment ({comment.stance_label.lower()}): {comment.text[:200]}",
                )
                for i in app_ids
            ]
        else:
            items[alert_id] = [(by_id[i], "new", by_id[i].description[:300]) for i in app_ids]
    subject = (
        "New comment on a planning application near you"
        if comment
        else "New planning applications in your area"
    )
    return _deliver(items, subject)


DIGEST_PERIODS = {PlanningAlert.DAILY: timedelta(days=1), PlanningAlert.WEEKLY: timedelta(days=7)}


def send_digests(frequency: str, now: datetime | None = None) -> int:
    """Email each due daily/weekly alert the new applications and comments since its last digest."""
    now = now or utcnow()
    period = DIGEST_PERIODS[frequency]
    due = list(
        db.session.scalars(
            select(PlanningAlert).where(
                PlanningAlert.active.is_(True),
                PlanningAlert.frequency == frequency,
                or_(
                    PlanningAlert.last_digest_at.is_(None),
                    PlanningAlert.last_digest_at <= now - period + timedelta(hours=1),
                ),
            )
        )
    )
    if not due:
        return 0
    since = {a.id: _aware(a.last_digest_at or a.confirmed_at or a.created_at) for a in due}
    window_start = min(since.values())
    applications = list(
        db.session.scalars(
            select(PlanningApplication).where(
                PlanningApplication.created_at > window_start, PlanningApplication.created_at <= now
            )
        )
    )
    comments = list(
        db.session.scalars(
            select(PlanningComment).where(
                PlanningComment.state == PlanningComment.PUBLISHED,
                PlanningComment.moderated_at > window_start,
                PlanningComment.moderated_at <= now,
            )
        )
    )
    due_ids = set(since)
    items: dict[int, list[tuple[PlanningApplication, str, str]]] = defaultdict(list)
    by_id = {a.id: a for a in applications}
    for alert_id, app_ids in match_targets(
        [target_of(a) for a in applications], (frequency,)
    ).items():
        if alert_id in due_ids:
            for app_id in app_ids:
                application = by_id[app_id]
                if _aware(application.created_at) > since[alert_id]:
                    items[alert_id].append((application, "new", application.description[:300]))
    for comment in comments:
        application = comment.application
        matches = match_targets([target_of(application)], (frequency,), comments_only=True)
        for alert_id in matches:
            if alert_id in due_ids and _aware(comment.moderated_at) > since[alert_id]:
                items[alert_id].append(
                    (
                        application,
                        f"comment:{comment.id}",
                        f"New comment ({comment.stance_label.lower()}): {comment.text[:200]}",
                    )
                )
    subject = f"Your {frequency} planning alert digest"
    sent = _deliver(items, subject)
    for alert in due:
        alert.last_digest_at = now
    return sent


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def alert_counts_by_ward() -> list[tuple[str, int, int, int]]:
    """(ward, ward alerts, radius alerts centred there, drawn areas centred there) per ward."""
    counts = {name: [0, 0, 0] for name in wards()}
    rows = db.session.execute(
        select(
            PlanningAlert.kind,
            PlanningAlert.ward,
            PlanningAlert.min_lat,
            PlanningAlert.max_lat,
            PlanningAlert.min_lon,
            PlanningAlert.max_lon,
        ).where(PlanningAlert.active.is_(True))
    )
    for kind, ward, min_lat, max_lat, min_lon, max_lon in rows:
        if kind == PlanningAlert.KIND_WARD:
            name = ward
        else:
            name = ward_at((min_lat + max_lat) / 2, (min_lon + max_lon) / 2)
        if name in counts:
            index = {PlanningAlert.KIND_WARD: 0, PlanningAlert.KIND_RADIUS: 1}.get(kind, 2)
            counts[name][index] += 1
    return [(name, *values) for name, values in counts.items()]  # type: ignore[misc]
