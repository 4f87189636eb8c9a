"""Staff pages: the dashboard, staff accounts and roles, ending sessions, the audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.routing import BuildError

from portal.accounts import services
from portal.accounts.authz import role_required, staff_required
from portal.accounts.forms import EmptyForm, NewStaffForm, RolesForm
from portal.accounts.models import ROLE_DESCRIPTIONS, STAFF_ROLES, AccountToken, User, UserRole
from portal.common.audit import record_audit, search_audit
from portal.common.models import AuditEvent, utcnow
from portal.extensions import db

bp = Blueprint("staff", __name__, url_prefix="/staff")
PAGE_SIZE = 50


def tiles_for(user: Any) -> list[dict[str, Any]]:
    """The staff sections this person's roles allow, with their URLs (uninstalled ones left out)."""
    tiles = []
    for section in current_app.extensions.get("portal_staff_sections", []):
        if not user.has_role(*section.get("roles", ())):
            continue
        try:
            href = url_for(section["endpoint"])
        except BuildError:
            continue
        tiles.append({**section, "href": href})
    return sorted(tiles, key=lambda tile: tile["title"])


@bp.get("/")
@staff_required
def dashboard():
    return render_template(
        "staff/dashboard.html",
        tiles=tiles_for(current_user),
        roles=sorted(current_user.roles),
        descriptions=ROLE_DESCRIPTIONS,
    )


@bp.get("/accounts")
@role_required("admin")
def users():
    query_text = (request.args.get("q") or "").strip()[:200]
    show = request.args.get("show", "staff")
    query = select(User).order_by(User.email)
    if show != "all":
        query = query.where(User.id.in_(select(UserRole.user_id)))
    if query_text:
        like = f"%{query_text.lower()}%"
        query = query.where(
            or_(func.lower(User.email).like(like), func.lower(User.display_name).like(like))
        )
    people = db.session.scalars(query.limit(200)).all()
    return render_template("staff/users.html", people=people, q=query_text, show=show)


@bp.route("/accounts/new", methods=["GET", "POST"])
@role_required("admin")
def new_user():
    form = NewStaffForm()
    if form.validate_on_submit():
        existing = services.user_by_email(form.email.data)
        if existing is not None:
            form.email.errors.append(
                "There is already an account with this email address. Find it in the list to change its roles"
            )
        else:
            user = services.create_user(
                form.email.data, form.roles.data, name=form.display_name.data
            )
            record_audit(
                "staff.account_created",
                "user",
                user.id,
                {"email": user.email, "roles": sorted(form.roles.data)},
            )
            raw = services.issue_token(user, AccountToken.RESET_PASSWORD)
            link = services.absolute_url("accounts.reset_password", token=raw)
            from portal.common.outbox import queue_email

            queue_email(
                user.email,
                f"Your {services.council_name()} staff account",
                f"An account has been created for you in the {services.council_name()} portal's "
                f"staff area.\n\nChoose your password by opening this link within 1 hour:\n\n{link}\n\n"
                f"If the link has expired, use 'Forgotten your password?' on the sign-in page.\n",
            )
            db.session.commit()
            flash(
                f"Account created for {user.email}. We've emailed them a link to choose a password.",
                "success",
            )
            return redirect(url_for("staff.user", user_id=user.id))
    return render_template("staff/new_user.html", form=form)


def _person(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/accounts/<int:user_id>")
@role_required("admin")
def user(user_id: int):
    person = _person(user_id)
    form = RolesForm(data={"roles": sorted(person.roles)})
    return render_template(
        "staff/user.html",
        person=person,
        form=form,
        button_form=EmptyForm(),
        sessions=services.live_session_count(person),
        is_self=person.id == current_user.id,
    )


@bp.post("/accounts/<int:user_id>/roles")
@role_required("admin")
def update_roles(user_id: int):
    person = _person(user_id)
    form = RolesForm()
    if form.validate_on_submit():
        roles = list(form.roles.data or [])
        if person.id == current_user.id and "admin" not in roles:
            form.roles.errors.append(
                "You cannot remove your own admin role. Ask another administrator"
            )
        else:
            added, removed = services.set_roles(person, roles)
            if removed:
                # Pages they may no longer see could be open: end their sessions now.
                services.end_sessions_for(person, "roles removed")
            db.session.commit()
            flash(f"Roles saved for {person.email}.", "success")
            return redirect(url_for("staff.user", user_id=person.id))
    return render_template(
        "staff/user.html",
        person=person,
        form=form,
        button_form=EmptyForm(),
        sessions=services.live_session_count(person),
        is_self=person.id == current_user.id,
    )


def _button_action(user_id: int, action) -> Any:  # noqa: ANN001
    form = EmptyForm()
    if not form.validate():
        abort(400)
    person = _person(user_id)
    if person.id == current_user.id:
        flash("You cannot do this to your own account here.")
        return redirect(url_for("staff.user", user_id=person.id))
    message = action(person)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("staff.user", user_id=person.id))


@bp.post("/accounts/<int:user_id>/end-sessions")
@role_required("admin")
def end_sessions(user_id: int):
    def action(person: User) -> str:
        count = services.end_sessions_for(person, "ended by an administrator")
        return f"{count} session{'s' if count != 1 else ''} ended for {person.email}."

    return _button_action(user_id, action)


@bp.post("/accounts/<int:user_id>/disable")
@role_required("admin")
def disable_user(user_id: int):
    def action(person: User) -> str:
        person.disabled_at = utcnow()
        record_audit("account.disabled", "user", person.id, {"email": person.email})
        services.end_sessions_for(person, "account disabled")
        return f"{person.email} is disabled and signed out."

    return _button_action(user_id, action)


@bp.post("/accounts/<int:user_id>/enable")
@role_required("admin")
def enable_user(user_id: int):
    def action(person: User) -> str:
        person.disabled_at = None
        record_audit("account.enabled", "user", person.id, {"email": person.email})
        return f"{person.email} can sign in again."

    return _button_action(user_id, action)


@bp.post("/accounts/<int:user_id>/reset-two-factor")
@role_required("admin")
def reset_two_factor(user_id: int):
    def action(person: User) -> str:
        services.reset_two_factor(person)
        record_audit("account.two_factor_reset", "user", person.id, {"email": person.email})
        services.end_sessions_for(person, "two-factor reset")
        return f"Two-factor sign-in reset for {person.email}: they set it up again at their next sign-in."

    return _button_action(user_id, action)


@bp.get("/audit")
@role_required("admin")
def audit():
    text = (request.args.get("q") or "").strip()[:200]
    action = (request.args.get("action") or "").strip()[:80]
    actor = (request.args.get("actor") or "").strip()[:320]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    query = search_audit(text=text, action=action, actor_email=actor)
    events = db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    actions = db.session.scalars(
        select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    ).all()
    searched = bool(text or action or actor)
    return render_template(
        "staff/audit.html",
        events=events[:PAGE_SIZE],
        more=len(events) > PAGE_SIZE,
        page=page,
        q=text,
        action=action,
        actor=actor,
        actions=actions,
        searched=searched,
    )


__all__ = ["STAFF_ROLES", "bp"]
