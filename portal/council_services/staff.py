"""Staff content management under /staff/services: editors manage everything, owners their own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from portal.accounts.authz import role_required, staff_required
from portal.accounts.models import User, UserRole
from portal.common.audit import record_audit
from portal.common.clock import uk_today
from portal.common.dates import INVALID, date_parts, parse_parts, parts_of
from portal.council_services import services as svc
from portal.council_services.forms import AlertForm, NoticeForm, ServiceForm, parse_links
from portal.council_services.models import (
    CHANNELS,
    LGIL_TYPES,
    Interaction,
    SearchMiss,
    Service,
    ServiceVersion,
    SiteAlert,
)
from portal.council_services.views import render_service
from portal.extensions import db
from portal.rendering import render_page

bp = Blueprint("council_services_staff", __name__, url_prefix="/staff/services")


def _is_editor() -> bool:
    return current_user.has_role("editor")


def _service_for_edit(service_id: int) -> Service:
    """The service, if the signed-in member of staff may edit it (editor, or its owner)."""
    service = db.session.get(Service, service_id)
    if service is None:
        abort(404)
    if not (_is_editor() or (service.owner_id is not None and service.owner_id == current_user.id)):
        abort(403)
    return service


@bp.get("")
@staff_required
def index():
    """Editors see every service; other staff see the services they own."""
    text = (request.args.get("q") or "").strip()[:100]
    query = select(Service).order_by(Service.name)
    if not _is_editor():
        query = query.where(Service.owner_id == current_user.id)
    if text:
        like = f"%{text}%"
        query = query.where(or_(Service.name.ilike(like), Service.department.ilike(like)))
    items = db.session.scalars(query.limit(300)).all()
    figure = svc.bvpi157() if _is_editor() else None
    return render_page(
        "council_services/staff/index.html",
        items=items,
        text=text,
        figure=figure,
        coming=svc.coming() if _is_editor() else None,
        mismatch_count=len(svc.delivery_mismatches()) if _is_editor() else 0,
        is_editor=_is_editor(),
        overdue=len(svc.services_needing_review()) if _is_editor() else 0,
    )


def _owner_choices() -> list[tuple[str, str]]:
    staff = db.session.scalars(
        select(User).where(User.id.in_(select(UserRole.user_id))).order_by(User.display_name)
    ).all()
    return [("", "No owner")] + [
        (str(u.id), f"{u.display_name or u.email} ({u.email})") for u in staff
    ]


def _fill(service: Service, form: ServiceForm) -> None:
    service.name = form.name.data.strip()
    service.lgsl = int(form.lgsl.data) if (form.lgsl.data or "").strip() else None
    service.summary = form.summary.data.strip()
    service.body = form.body.data or ""
    service.synonyms = ", ".join(
        s.strip() for s in (form.synonyms.data or "").split(",") if s.strip()
    )
    service.topics = list(form.topics.data or [])
    service.life_events = list(form.life_events.data or [])
    service.department = (form.department.data or "").strip()
    service.owner_id = int(form.owner_id.data) if form.owner_id.data else None
    service.phone = (form.phone.data or "").strip()
    service.email = (form.email.data or "").strip()
    service.address = (form.address.data or "").strip()
    service.opening_hours = (form.opening_hours.data or "").strip()
    service.related_links = parse_links(form.related_links.data or "")
    service.review_due = form.review_due.data
    service.status_notice = (form.status_notice.data or "").strip()
    svc.set_initial(service)


def _lgsl_taken(form: ServiceForm, exclude_id: int | None) -> bool:
    value = (form.lgsl.data or "").strip()
    if not value.isdigit():
        return False
    query = select(Service).where(Service.lgsl == int(value))
    if exclude_id:
        query = query.where(Service.id != exclude_id)
    other = db.session.scalar(query)
    if other is not None:
        form.lgsl.errors = list(form.lgsl.errors) + [
            f"LGSL number {value} is already used by {other.name}: enter a different number"
        ]
        return True
    return False


def _valid(form: ServiceForm, exclude_id: int | None) -> bool:
    """Validate every field and the LGSL uniqueness together, so all errors show at once."""
    valid = form.validate_on_submit()
    taken = _lgsl_taken(form, exclude_id)
    return valid and not taken


def _prefilled(service: Service) -> ServiceForm:
    form = ServiceForm(formdata=None, obj=service)
    form.owner_id.choices = _owner_choices()
    form.lgsl.data = str(service.lgsl) if service.lgsl else ""
    form.owner_id.data = str(service.owner_id) if service.owner_id else ""
    form.related_links.data = "\n".join(
        f"{link['text']} | {link['url']}" for link in service.related_links or []
    )
    return form


@bp.route("/new", methods=["GET", "POST"])
@role_required("editor")
def new():
    form = ServiceForm()
    form.owner_id.choices = _owner_choices()
    if request.method == "GET":
        form.review_due.data = uk_today() + timedelta(days=365)
    if form.is_submitted() and _valid(form, None):
        service = Service(slug=svc.unique_slug(form.name.data), published=False)
        _fill(service, form)
        db.session.add(service)
        db.session.flush()
        svc.record_version(service, "created", None, current_user)
        db.session.commit()
        flash(f"{service.name} created as a draft", "success")
        return redirect(url_for(".edit", service_id=service.id))
    return render_page("council_services/staff/form.html", form=form, service=None)


@bp.route("/<int:service_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(service_id: int):
    service = _service_for_edit(service_id)
    if request.method == "GET":
        form = _prefilled(service)
    else:
        form = ServiceForm()
        form.owner_id.choices = _owner_choices()
    if not _is_editor():
        form.owner_id.render_kw = {"disabled": True}
    if request.method == "POST":
        if not _is_editor():  # owners cannot hand their page to someone else
            form.owner_id.data = str(service.owner_id) if service.owner_id else ""
        if _valid(form, service.id):
            before = svc.service_state(service)
            _fill(service, form)
            svc.record_version(service, "edited", before, current_user)
            db.session.commit()
            flash("Changes saved", "success")
            return redirect(url_for(".edit", service_id=service.id))
    return render_page(
        "council_services/staff/form.html",
        form=form,
        service=service,
        notice_form=NoticeForm(status_notice=service.status_notice),
        is_editor=_is_editor(),
    )


@bp.post("/<int:service_id>/notice")
@staff_required
def notice(service_id: int):
    """Edit the status notice inline (htmx swaps the fragment; without JS, back to the edit page)."""
    service = _service_for_edit(service_id)
    form = NoticeForm()
    if form.validate_on_submit():
        before = svc.service_state(service)
        service.status_notice = (form.status_notice.data or "").strip()
        svc.record_version(service, "notice", before, current_user)
        db.session.commit()
        if request.headers.get("HX-Request") != "true":
            flash("Status notice saved", "success")
            return redirect(url_for(".edit", service_id=service.id))
        saved = True
    else:
        saved = False
        if request.headers.get("HX-Request") != "true":
            main = _prefilled(service)
            return render_page(
                "council_services/staff/form.html",
                form=main,
                service=service,
                notice_form=form,
                is_editor=_is_editor(),
                page_errors=[("#status_notice-notice", e) for e in form.status_notice.errors],
            )
    return render_page(
        "council_services/staff/_notice.html",
        service=service,
        notice_form=form,
        saved=saved,
        htmx=True,
    )


@bp.post("/<int:service_id>/publish")
@role_required("editor")
def publish(service_id: int):
    service = _service_for_edit(service_id)
    before = svc.service_state(service)
    make_public = request.form.get("action") == "publish"
    service.published = make_public
    if make_public and service.last_reviewed is None:
        service.last_reviewed = uk_today()
    svc.record_version(service, "published" if make_public else "unpublished", before, current_user)
    db.session.commit()
    flash(f"{service.name} {'published' if make_public else 'unpublished'}", "success")
    return redirect(url_for(".edit", service_id=service.id))


@bp.route("/<int:service_id>/delete", methods=["GET", "POST"])
@role_required("editor")
def delete(service_id: int):
    """Delete a draft service (a published one is unpublished first, so BVPI 157 says so)."""
    service = _service_for_edit(service_id)
    if service.published:
        flash(f"Unpublish {service.name} before deleting it.", "error")
        return redirect(url_for(".edit", service_id=service.id), 303)
    if request.method == "POST":
        record_audit(
            "council_service.deleted",
            "council_service",
            service.id,
            {"name": service.name, "lgsl": service.lgsl},
        )
        name = service.name
        db.session.delete(service)
        db.session.commit()
        flash(f"{name} deleted", "success")
        return redirect(url_for(".index"), 303)
    return render_page("council_services/staff/delete.html", service=service)


@bp.post("/<int:service_id>/reviewed")
@staff_required
def reviewed(service_id: int):
    service = _service_for_edit(service_id)
    before = svc.service_state(service)
    service.last_reviewed = uk_today()
    service.review_due = uk_today() + timedelta(days=365)
    svc.record_version(service, "reviewed", before, current_user)
    db.session.commit()
    flash(
        f"{service.name} marked as reviewed; next review {service.review_due:%-d %B %Y}", "success"
    )
    return redirect(url_for(".edit", service_id=service.id))


@bp.get("/<int:service_id>/preview")
@staff_required
def preview(service_id: int):
    return render_service(_service_for_edit(service_id), preview=True)


VERSION_ACTIONS = {"interactions": "interactions changed", "notice": "service update changed"}


@bp.get("/<int:service_id>/history")
@staff_required
def history(service_id: int):
    service = _service_for_edit(service_id)
    versions = db.session.scalars(
        select(ServiceVersion)
        .where(ServiceVersion.service_id == service.id)
        .order_by(ServiceVersion.changed_at.desc(), ServiceVersion.id.desc())
    ).all()
    return render_page(
        "council_services/staff/history.html",
        service=service,
        versions=versions,
        version_rows=svc.version_rows,
        actions=VERSION_ACTIONS,
    )


# ---------------------------------------------------------------- interactions


def _staff_ids() -> set[int]:
    return set(db.session.scalars(select(UserRole.user_id)))


def _read_interactions(  # noqa: C901
    form,  # noqa: ANN001
    stored_targets: dict[int, date | None] | None = None,
    delivered: set[int] | None = None,
) -> tuple[dict[int, dict], list[tuple[str, str]]]:
    """Validate the posted register rows; returns (rows by LGIL, page errors).

    A counted row that is not e-enabled (and not delivered by the portal) needs a target date and
    an owner: a member of staff, or a named officer and their department. A target date already
    stored may stay as it is after it passes (the row is then overdue); a new one may not be past.
    """
    rows: dict[int, dict] = {}
    errors: list[tuple[str, str]] = []
    today = uk_today()
    stored_targets = stored_targets or {}
    delivered = delivered or set()
    staff_ids: set[int] | None = None
    for lgil, label in LGIL_TYPES.items():
        p = f"lgil-{lgil}"
        state = form.get(f"{p}-state", "none")
        if state not in {"none", "applicable", "not_applicable"}:
            state = "none"
        row = {
            "state": state,
            "permissible": form.get(f"{p}-permissible", "yes") != "no",
            "reason": (form.get(f"{p}-reason") or "").strip()[:1000],
            "e_enabled": form.get(f"{p}-enabled", "no") == "yes",
            "channels": [c for c in form.getlist(f"{p}-channels") if c in CHANNELS],
            "since_parts": date_parts(form, f"{p}-since"),
            "target_parts": date_parts(form, f"{p}-target"),
            "evidence": (form.get(f"{p}-evidence") or "").strip()[:500],
            "owner_id": (form.get(f"{p}-owner") or "").strip(),
            "owner_name": (form.get(f"{p}-officer") or "").strip()[:200],
            "owner_department": (form.get(f"{p}-officer-department") or "").strip()[:120],
            "owner_email": (form.get(f"{p}-officer-email") or "").strip()[:320],
            "errors": {},
        }
        rows[lgil] = row
        if state != "applicable":
            continue
        name = label.lower()
        if not row["permissible"] and not row["reason"]:
            row["errors"]["reason"] = f"Enter why {name} cannot legally be done electronically"
        since = parse_parts(row["since_parts"])
        target = parse_parts(row["target_parts"])
        if since == INVALID:
            row["errors"]["since"] = f"The e-enabled since date for {name} must be a real date"
        if target == INVALID:
            row["errors"]["target"] = f"The target date for {name} must be a real date"
        if row["permissible"] and row["e_enabled"] and not row["channels"]:
            row["errors"]["channels"] = (
                f"Select the channels that complete {name} electronically from end to end"
            )
        planned = row["permissible"] and not row["e_enabled"] and lgil not in delivered
        if planned and target is None:
            row["errors"]["target"] = (
                f"Enter the target date for {name}, as it is not e-enabled yet"
            )
        if row["owner_id"]:
            if staff_ids is None:
                staff_ids = _staff_ids()
            if not row["owner_id"].isdigit() or int(row["owner_id"]) not in staff_ids:
                row["errors"]["owner"] = f"Choose the owner of {name} from the list"
        elif planned and not (row["owner_name"] and row["owner_department"]):
            row["errors"]["owner"] = (
                f"Choose who owns {name}, or enter the name and department of the officer who does"
            )
        if row["owner_email"] and "@" not in row["owner_email"]:
            row["errors"]["officer-email"] = (
                f"Enter the officer's email address for {name} in the right format, "
                "like name@example.com"
            )
        if (
            row["permissible"]
            and not row["e_enabled"]
            and isinstance(target, date)
            and target < today
            and target != stored_targets.get(lgil)
        ):
            row["errors"]["target"] = (
                f"The target date for {name} must be today or in the future, as it is not e-enabled yet"
            )
        if row["evidence"] and not row["evidence"].startswith(("https://", "http://", "/")):
            row["errors"]["evidence"] = (
                f"Enter the evidence for {name} as a web address starting https://"
            )
        row["since"] = since if isinstance(since, date) else None
        row["target"] = target if isinstance(target, date) else None
        for key, message in row["errors"].items():
            anchor = f"#{p}-{key}-day" if key in ("since", "target") else f"#{p}-{key}"
            if key == "owner" and not row["owner_id"] and not row["owner_name"]:
                anchor = f"#{p}-owner"
            elif key == "owner" and not row["owner_id"]:
                anchor = f"#{p}-officer" if not row["owner_name"] else f"#{p}-officer-department"
            errors.append((anchor, message))
    return rows, errors


def _rows_from_service(service: Service) -> dict[int, dict]:
    existing = {i.lgil: i for i in service.interactions}
    rows = {}
    for lgil in LGIL_TYPES:
        i = existing.get(lgil)
        rows[lgil] = {
            "state": "none" if i is None else ("applicable" if i.applicable else "not_applicable"),
            "permissible": True if i is None else i.permissible,
            "reason": "" if i is None else i.exclusion_reason,
            "e_enabled": False if i is None else i.e_enabled,
            "channels": [] if i is None else list(i.channels or []),
            "since_parts": parts_of(i.enabled_since if i else None),
            "target_parts": parts_of(i.target_date if i else None),
            "evidence": "" if i is None else i.evidence_url,
            "owner_id": str(i.owner_id) if i is not None and i.owner_id else "",
            "owner_name": "" if i is None else i.owner_name,
            "owner_department": "" if i is None else i.owner_department,
            "owner_email": "" if i is None else i.owner_email,
            "errors": {},
        }
    return rows


@bp.route("/<int:service_id>/interactions", methods=["GET", "POST"])
@staff_required
def interactions(service_id: int):
    """The e-enablement register rows of one service, all ten interaction types on one page."""
    service = _service_for_edit(service_id)
    page_errors: list[tuple[str, str]] = []
    pairs = svc.delivered_pairs(service.lgsl) if service.lgsl is not None else {}
    delivered = {lgil: pairs.get((service.lgsl, lgil), []) for lgil in LGIL_TYPES}
    if request.method == "POST":
        existing = {i.lgil: i for i in service.interactions}
        rows, page_errors = _read_interactions(
            request.form,
            {lgil: i.target_date for lgil, i in existing.items()},
            {lgil for lgil, d in delivered.items() if d},
        )
        if not page_errors:
            before = svc.service_state(service)
            moved: list[tuple[Interaction, date | None]] = []
            for lgil, row in rows.items():
                item = existing.get(lgil)
                if row["state"] == "none":
                    if item is not None:
                        service.interactions.remove(item)
                    continue
                if item is None:
                    item = Interaction(lgil=lgil)
                    service.interactions.append(item)
                item.applicable = row["state"] == "applicable"
                item.permissible = row["permissible"]
                item.exclusion_reason = "" if row["permissible"] else row["reason"]
                item.e_enabled = row["e_enabled"] and row["permissible"]
                item.channels = row["channels"] if item.e_enabled else []
                item.enabled_since = row.get("since")
                if item.id is not None and item.target_date != row.get("target"):
                    moved.append((item, item.target_date))
                item.target_date = row.get("target")
                item.evidence_url = row["evidence"]
                item.owner_id = int(row["owner_id"]) if row["owner_id"] else None
                named = not row["owner_id"]
                item.owner_name = row["owner_name"] if named else ""
                item.owner_department = row["owner_department"] if named else ""
                item.owner_email = row["owner_email"] if named else ""
            db.session.flush()
            svc.record_version(service, "interactions", before, current_user)
            for item, old_target in moved:
                record_audit(
                    "bvpi157.target_date_changed",
                    "council_service_interaction",
                    item.id,
                    {
                        "service": service.name,
                        "interaction": item.label,
                        "from": old_target.isoformat() if old_target else None,
                        "to": item.target_date.isoformat() if item.target_date else None,
                        "reason": "Changed on the e-enablement register",
                    },
                )
            db.session.commit()
            flash("Interactions saved", "success")
            return redirect(url_for(".interactions", service_id=service.id))
    else:
        rows = _rows_from_service(service)
    return render_page(
        "council_services/staff/interactions.html",
        service=service,
        rows=rows,
        types=LGIL_TYPES,
        channels=CHANNELS,
        delivered=delivered,
        owners=_owner_choices(),
        page_errors=page_errors,
    )


# ---------------------------------------------------------------- editor reports


@bp.get("/needs-review")
@role_required("editor")
def needs_review():
    return render_page(
        "council_services/staff/needs_review.html", items=svc.services_needing_review()
    )


@bp.get("/searches")
@role_required("editor")
def searches():
    rows = db.session.scalars(
        select(SearchMiss).order_by(SearchMiss.count.desc(), SearchMiss.last_seen.desc()).limit(200)
    ).all()
    return render_page("council_services/staff/searches.html", rows=rows)


@bp.get("/mismatches")
@role_required("editor")
def mismatches():
    """Live portal services that map onto no counted register interaction."""
    return render_page(
        "council_services/staff/mismatches.html",
        rows=svc.delivery_mismatches(),
        lgil_types=LGIL_TYPES,
    )


@bp.post("/mismatches/add")
@role_required("editor")
def add_mismatched_interaction():
    """Add a live portal service's interaction to the register (the editor's consent)."""
    try:
        lgsl, lgil = int(request.form.get("lgsl", "")), int(request.form.get("lgil", ""))
        svc.add_delivered_interaction(lgsl, lgil, current_user)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".mismatches"), 303)
    db.session.commit()
    flash(f"{LGIL_TYPES.get(lgil, lgil)} added to the register for LGSL {lgsl}", "success")
    return redirect(url_for(".mismatches"), 303)


@bp.post("/snapshot")
@role_required("editor", "manager")
def snapshot():
    taken = svc.take_snapshot("staff", current_user.id)
    record_audit("bvpi157.snapshot", "bvpi157_snapshot", None, {"percent": taken.percent})
    db.session.commit()
    flash(f"Snapshot recorded: BVPI 157 is {taken.percent:.1f}%", "success")
    return redirect(url_for(".index"))


@bp.get("/export.csv")
@role_required("editor", "manager")
def export_csv():
    body = svc.return_csv()
    stamp = uk_today().isoformat()
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="bvpi157-return-{stamp}.csv"'},
    )


@bp.route("/alerts", methods=["GET", "POST"])
@role_required("editor")
def alerts():
    form = AlertForm()
    if request.method == "GET":
        form.severity.data = "information"
    if form.validate_on_submit():
        start, end = form.starts_at.data, form.ends_at.data
        alert = SiteAlert(
            title=form.title.data.strip(),
            message=form.message.data.strip(),
            severity=form.severity.data,
            starts_at=start or datetime.now(UTC),
            ends_at=end,
            created_by_id=current_user.id,
        )
        db.session.add(alert)
        db.session.flush()
        record_audit("site_alert.created", "site_alert", alert.id, {"title": alert.title})
        db.session.commit()
        svc.forget_banners()
        flash("Alert saved", "success")
        return redirect(url_for(".alerts"))
    items = db.session.scalars(
        select(SiteAlert).order_by(SiteAlert.starts_at.desc()).limit(50)
    ).all()
    return render_page(
        "council_services/staff/alerts.html",
        form=form,
        items=items,
        now=datetime.now(UTC),
    )


@bp.post("/alerts/<int:alert_id>/end")
@role_required("editor")
def end_alert(alert_id: int):
    alert = db.session.get(SiteAlert, alert_id)
    if alert is None:
        abort(404)
    alert.ends_at = datetime.now(UTC)
    record_audit("site_alert.ended", "site_alert", alert.id, {"title": alert.title})
    db.session.commit()
    svc.forget_banners()
    flash("Alert ended", "success")
    return redirect(url_for(".alerts"))
