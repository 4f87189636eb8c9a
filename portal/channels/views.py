"""Kiosk pages, assisted access, kiosk enrolment by library staff, "record a contact", and
"act for a caller"."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.authz import role_required
from portal.accounts.models import User
from portal.channels import acting as acting_mode
from portal.channels import kiosk as kiosk_mode
from portal.channels import services
from portal.channels.models import ContactRecord, KioskDevice, KioskSession
from portal.common import submissions
from portal.common.audit import record_audit
from portal.common.delivery import TopTask, top_task_links
from portal.common.models import utcnow
from portal.common.redirects import safe_next
from portal.extensions import db, limiter
from portal.rendering import render_page
from portal.statistics.catalogue import catalogue, channel_label, service_label

bp = Blueprint("channels", __name__)

# The kiosk's tasks: services (LGSL, LGIL) link through the register, like the home page's.
KIOSK_TASKS: list[TopTask] = [
    ("Pay your council tax", (57, 2), {}),
    ("Find your bin collection day", (524, 8), {}),
    ("Report a missed bin collection", (524, 0), {}),
    ("Report a housing repair", (141, 0), {}),
    ("Find a planning application", "planning.register", {}),
    ("Find a council service", "council_services.index", {}),
    ("Find your ward", "gazetteer.your_area", {}),
]


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def kiosk_required(view):  # noqa: ANN001, ANN201
    """Only on an enrolled kiosk terminal; elsewhere the page does not exist."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not g.get("kiosk"):
            abort(404)
        return view(*args, **kwargs)

    return wrapper


def _safe_next(default: str) -> str:
    return safe_next(request.form.get("next"), default) or default


# ---- the kiosk itself -------------------------------------------------------------------------


@bp.get("/kiosk")
def kiosk_start():
    """The kiosk's start page (on any other device: what a kiosk is and how to enrol one)."""
    tasks = top_task_links(KIOSK_TASKS)
    ended = request.args.get("ended")
    response = make_response(
        render_page(
            "channels/kiosk_start.html",
            tasks=tasks,
            ended=ended if ended in ("idle", "start_again") else None,
            record_contact_url=url_for(".record_contact"),
        )
    )
    if g.get("kiosk") and request.cookies.get(kiosk_mode.DEVICE_COOKIE):
        # Renew the device cookie so an enrolled terminal stays enrolled until revoked.
        kiosk_mode.set_device_cookie(response, request.cookies[kiosk_mode.DEVICE_COOKIE])
    if ended:
        kiosk_mode.mark_cleared(response)
    return response


@bp.get("/kiosk/help")
@kiosk_required
def kiosk_help():
    return render_page("channels/kiosk_help.html")


@bp.post("/kiosk/start-again")
@kiosk_required
def start_again():
    """End the visit at once: sign-in, staff help and browser data all go."""
    reason = "idle" if request.form.get("reason") == "idle" else "start_again"
    response = kiosk_mode.reset_response(url_for(".kiosk_start", ended=reason), reason)
    db.session.commit()
    return response


@bp.post("/kiosk/still-here")
@kiosk_required
def still_here():
    """ "I need more time": the before-request hook has already recorded the activity."""
    if request.headers.get("X-Kiosk-Ping") == "1":
        return Response(status=204)
    return redirect(_safe_next(url_for(".kiosk_start")), code=303)


@bp.post("/kiosk/contrast")
@kiosk_required
def contrast():
    session[kiosk_mode.CONTRAST_KEY] = not session.get(kiosk_mode.CONTRAST_KEY, False)
    db.session.commit()
    return redirect(_safe_next(url_for(".kiosk_start")), code=303)


# ---- assisted access ------------------------------------------------------------------------


@bp.route("/kiosk/assist", methods=["GET", "POST"])
@kiosk_required
@limiter.limit("10 per minute", methods=["POST"])
def assist():
    """A member of library staff signs in beside the resident: credentials plus the code."""
    errors: list[tuple[str, str]] = []
    values = {"email": request.form.get("email", "").strip()}
    if request.method == "POST":
        password = request.form.get("password", "")
        code = request.form.get("code", "")
        if not values["email"]:
            errors.append(("#email", "Enter your staff email address"))
        if not password:
            errors.append(("#password", "Enter your password"))
        if not code.strip():
            errors.append(("#code", "Enter the library's assistance code"))
        if not errors:
            staff = services.check_library_staff(values["email"], password)
            device: KioskDevice = g.kiosk_device
            if staff is None or not kiosk_mode.code_matches(device, code):
                errors.append(("#email", "The email address, password or code is not right"))
                record_audit(
                    "kiosk.assist_refused",
                    "kiosk_device",
                    device.id,
                    {"email": values["email"][:120]},
                    actor=None,
                )
                db.session.commit()
            else:
                row: KioskSession = g.kiosk_session
                row = db.session.get(KioskSession, row.id)
                row.assisted_by_id = staff.id
                row.assist_started_at = utcnow()
                row.assist_consent_at = None
                row.assist_ended_at = None
                record_audit("kiosk.assist_started", "kiosk_session", row.id, actor=staff)
                db.session.commit()
                return redirect(url_for(".assist_consent"), code=303)
    response = make_response(
        render_page("channels/assist.html", page_errors=errors, values=values),
        400 if errors else 200,
    )
    return _no_store(response)


def _open_assist() -> KioskSession:
    row = g.get("kiosk_session")
    if row is None or row.assisted_by_id is None or row.assist_ended_at is not None:
        abort(404)
    return db.session.get(KioskSession, row.id)


@bp.route("/kiosk/assist/consent", methods=["GET", "POST"])
@kiosk_required
def assist_consent():
    """The resident agrees (or not) to be helped by the named staff member."""
    row = _open_assist()
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        answer = request.form.get("consent")
        if answer == "yes":
            row.assist_consent_at = utcnow()
            record_audit("kiosk.assist_consented", "kiosk_session", row.id, actor=row.assisted_by)
            db.session.commit()
            flash(f"{row.assisted_by.display_name} is now helping you", "success")
            return redirect(url_for(".kiosk_start"), code=303)
        if answer == "no":
            row.assist_ended_at = utcnow()
            record_audit("kiosk.assist_declined", "kiosk_session", row.id, actor=row.assisted_by)
            db.session.commit()
            flash("Staff help was not started")
            return redirect(url_for(".kiosk_start"), code=303)
        errors.append(("#consent", "Select yes if you agree to be helped"))
    return render_page(
        "channels/assist_consent.html",
        staff=row.assisted_by,
        library=row.device.library,
        page_errors=errors,
        already=row.assist_consent_at is not None,
    ), (400 if errors else 200)


@bp.post("/kiosk/assist/hand-back")
@kiosk_required
def assist_hand_back():
    """The staff member steps away; the resident carries on alone."""
    row = _open_assist()
    row.assist_ended_at = utcnow()
    record_audit("kiosk.assist_handed_back", "kiosk_session", row.id, actor=row.assisted_by)
    db.session.commit()
    flash("Staff help has ended. You can carry on by yourself.", "success")
    return redirect(_safe_next(url_for(".kiosk_start")), code=303)


# ---- enrolment by library staff ----------------------------------------------------------------


@bp.get("/staff/kiosks")
@role_required("library")
def kiosks():
    devices = db.session.scalars(
        select(KioskDevice).order_by(KioskDevice.revoked_at.is_not(None), KioskDevice.library)
    ).all()
    return render_page(
        "channels/kiosks.html",
        devices=devices,
        page_errors=[],
        values={},
        this_device=g.get("kiosk_device"),
    )


@bp.post("/staff/kiosks")
@role_required("library")
def enrol():
    """Enrol the terminal this request comes from as a public kiosk of a library."""
    values = {k: request.form.get(k, "").strip() for k in ("library", "terminal")}
    errors = []
    if not values["library"]:
        errors.append(("#library", "Enter the name of the library"))
    elif len(values["library"]) > 120:
        errors.append(("#library", "The library name must be 120 characters or fewer"))
    if not values["terminal"]:
        errors.append(("#terminal", "Enter a name for this terminal, for example Terminal 1"))
    elif len(values["terminal"]) > 120:
        errors.append(("#terminal", "The terminal name must be 120 characters or fewer"))
    if errors:
        devices = db.session.scalars(select(KioskDevice).order_by(KioskDevice.library)).all()
        return render_page(
            "channels/kiosks.html",
            devices=devices,
            page_errors=errors,
            values=values,
            this_device=None,
        ), 400
    # The first code is not shown: this screen is the public kiosk from now on. Staff issue one
    # from a staff computer ("New assistance code").
    device, cookie_value, _code = kiosk_mode.enrol_device(
        values["library"], values["terminal"], current_user.id
    )
    db.session.flush()
    record_audit(
        "kiosk.enrolled",
        "kiosk_device",
        device.id,
        {"library": device.library, "terminal": device.terminal},
    )
    # The terminal must not stay signed in as the member of staff who enrolled it.
    from portal.accounts.sessions import end_current_session

    staff_name = current_user.display_name
    end_current_session()
    db.session.commit()
    response = make_response(
        render_page("channels/enrolled.html", device=device, staff_name=staff_name)
    )
    kiosk_mode.set_device_cookie(response, cookie_value)
    return _no_store(response)


def _device_or_404(device_id: int) -> KioskDevice:
    device = db.session.get(KioskDevice, device_id)
    if device is None:
        abort(404)
    return device


@bp.post("/staff/kiosks/<int:device_id>/revoke")
@role_required("library")
def revoke(device_id: int):
    """Withdraw a terminal: its token stops working and its open visits end."""
    device = _device_or_404(device_id)
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        device.revoked_by_id = current_user.id
        for row in db.session.scalars(
            select(KioskSession).where(
                KioskSession.device_id == device.id, KioskSession.ended_at.is_(None)
            )
        ):
            kiosk_mode.end_kiosk_session(row, "revoked")
        record_audit("kiosk.revoked", "kiosk_device", device.id, {"library": device.library})
        db.session.commit()
    flash(f"{device.library}, {device.terminal} is no longer a kiosk", "success")
    return redirect(url_for(".kiosks"), code=303)


@bp.post("/staff/kiosks/<int:device_id>/code")
@role_required("library")
def new_code(device_id: int):
    """Issue a new assistance code for a terminal (the old one stops working).

    Never on a kiosk: the code would be on a public screen.
    """
    device = _device_or_404(device_id)
    if device.revoked_at is not None:
        abort(404)
    if g.get("kiosk"):
        abort(403)
    code = kiosk_mode.new_assist_code()
    device.assist_code_hash = kiosk_mode.token_hash(code)
    record_audit("kiosk.code_changed", "kiosk_device", device.id)
    db.session.commit()
    return _no_store(make_response(render_page("channels/new_code.html", device=device, code=code)))


# ---- record a contact ----------------------------------------------------------------------------


def _contact_actor() -> tuple[User | None, bool]:
    """(staff member, assisted?) allowed to record a contact on this request."""
    row = g.get("kiosk_session")
    if row is not None and row.assist_active:
        return row.assisted_by, True
    if current_user.is_authenticated and current_user.has_role(*services.CONTACT_ROLES):
        return current_user, False
    return None, False


def _contact_gate() -> tuple[User, bool] | Response:
    staff, assisted = _contact_actor()
    if staff is None:
        if not current_user.is_authenticated:
            from portal.extensions import login_manager

            return login_manager.unauthorized()
        abort(403)
    return staff, assisted


CONTACT_ONCE = "contact"


def _contact_recorded(reference: str) -> Response:
    flash(f"Contact recorded: {reference}", "success")
    return redirect(url_for(".contact_receipt", reference=reference), code=303)


@bp.route("/staff/contacts/new", methods=["GET", "POST"])
def record_contact():
    """Record an enquiry answered for a caller or visitor (an information interaction, LGIL 8)."""
    gate = _contact_gate()
    if isinstance(gate, Response):
        return gate
    staff, assisted = gate
    services_list = sorted(catalogue().items(), key=lambda kv: kv[1][0])
    source = request.form if request.method == "POST" else request.args
    query = source.get("q", "").strip()
    values = {k: source.get(k, "").strip() for k in ("resident", "service", "channel", "summary")}
    residents = services.find_residents(query) if (query and not assisted) else []
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        token = submissions.posted_token()
        if (earlier := submissions.first_result(CONTACT_ONCE, token)) is not None:
            return _contact_recorded(earlier)  # the same form sent again: already recorded
        resident = None
        if assisted:
            if current_user.is_authenticated and not current_user.is_staff:
                resident = current_user
        elif values["resident"] not in ("", "none"):
            resident = (
                db.session.get(User, int(values["resident"]))
                if values["resident"].isdigit()
                else None
            )
            if resident is None or resident.is_staff:
                errors.append(
                    ("#resident", "Select the resident, or that they did not give details")
                )
        elif values["resident"] == "":
            errors.append(("#resident", "Select the resident, or that they did not give details"))
        lgsl = int(values["service"]) if values["service"].isdigit() else None
        if lgsl is None or lgsl not in catalogue():
            errors.append(("#service", "Select the service the enquiry was about"))
        channel = None
        if not assisted:
            if values["channel"] not in services.STAFF_CHANNELS:
                errors.append(("#channel", "Select how the resident contacted us"))
            channel = values["channel"]
        if not values["summary"]:
            errors.append(("#summary", "Enter what the enquiry was about"))
        elif len(values["summary"]) > 1000:
            errors.append(
                ("#summary", "What the enquiry was about must be 1000 characters or fewer")
            )
        if not errors:
            assert lgsl is not None
            contact = services.record_contact(
                lgsl=lgsl,
                summary=values["summary"],
                staff=staff,
                resident=resident,
                channel=channel,
            )
            return _contact_recorded(
                submissions.commit_once(CONTACT_ONCE, token, contact.reference)
            )
    response = make_response(
        render_page(
            "channels/record_contact.html",
            assisted=assisted,
            staff=staff,
            query=query,
            residents=residents,
            searched=bool(query),
            values=values,
            page_errors=errors,
            services_list=services_list,
            staff_channels=[(c, channel_label(c)) for c in services.STAFF_CHANNELS],
        ),
        400 if errors else 200,
    )
    return _no_store(response)


@bp.get("/staff/contacts/<reference>")
def contact_receipt(reference: str):
    """The receipt of a recorded contact (printable)."""
    gate = _contact_gate()
    if isinstance(gate, Response):
        return gate
    staff, assisted = gate
    contact = db.session.scalar(select(ContactRecord).where(ContactRecord.reference == reference))
    if contact is None:
        abort(404)
    if assisted:
        # On a public terminal only the contact made in this assisted visit may be shown.
        row = g.kiosk_session
        if contact.staff_id != staff.id or contact.created_at.replace(
            tzinfo=None
        ) < row.assist_started_at.replace(tzinfo=None):
            abort(404)
    return _no_store(
        make_response(
            render_page(
                "channels/contact_receipt.html",
                contact=contact,
                service=service_label(contact.lgsl),
                channel=channel_label(contact.channel),
                assisted=assisted,
            )
        )
    )


# ---- act for a caller ------------------------------------------------------------------------


def _chosen_resident(value: str) -> User | None:
    resident = db.session.get(User, int(value)) if value.isdigit() else None
    return resident if services.can_be_acted_for(resident) else None


def _acting_choice() -> tuple[dict[str, str], User | None, list[tuple[str, str]]]:
    """The resident and channel posted by the staff member, checked."""
    values = {k: request.form.get(k, "").strip() for k in ("q", "resident", "channel")}
    errors: list[tuple[str, str]] = []
    resident = _chosen_resident(values["resident"])
    if resident is None:
        errors.append(("#resident", "Select the resident you are acting for"))
    if values["channel"] not in services.STAFF_CHANNELS:
        errors.append(("#channel", "Select how the resident contacted us"))
    return values, resident, errors


def _act_page(values: dict[str, str], errors: list[tuple[str, str]]) -> Response:
    query = values.get("q", "")
    response = make_response(
        render_page(
            "channels/act_for_caller.html",
            query=query,
            residents=services.find_residents(query) if query else [],
            searched=bool(query),
            values=values,
            page_errors=errors,
            staff_channels=[(c, acting_mode.CHANNEL_PHRASES[c]) for c in services.STAFF_CHANNELS],
        ),
        400 if errors else 200,
    )
    return _no_store(response)


@bp.route("/staff/callers", methods=["GET", "POST"])
@role_required(*services.ACTING_ROLES)
def act_for_caller():
    """Choose the channel and find the resident; a valid choice goes on to the confirmation."""
    if g.get("kiosk"):
        abort(404)  # never on a public terminal
    if request.method == "GET":
        values = {k: request.args.get(k, "").strip() for k in ("q", "resident", "channel")}
        return _act_page(values, [])
    values, resident, errors = _acting_choice()
    if errors:
        return _act_page(values, errors)
    assert resident is not None
    return _confirm_page(values, resident, [])


def _confirm_page(
    values: dict[str, str], resident: User, errors: list[tuple[str, str]]
) -> Response:
    """Check the resident and channel, and record how the caller's identity was checked."""
    response = make_response(
        render_page(
            "channels/act_confirm.html",
            resident=resident,
            values=values,
            phrase=acting_mode.CHANNEL_PHRASES[values["channel"]],
            identity_checks=list(services.IDENTITY_CHECKS.items()),
            detail_max=services.IDENTITY_DETAIL_MAX,
            scope=services.acting_slices_phrase(current_user),
            page_errors=errors,
        ),
        400 if errors else 200,
    )
    return _no_store(response)


@bp.post("/staff/callers/start")
@role_required(*services.ACTING_ROLES)
def act_start():
    """Start acting: from now on the resident screens work as the confirmed resident."""
    from portal.accounts.sessions import current_session

    if g.get("kiosk"):
        abort(404)
    values, resident, errors = _acting_choice()
    staff_session = current_session()
    if errors or staff_session is None:
        return _act_page(values, errors)
    assert resident is not None
    values["identity_check"] = request.form.get("identity_check", "")
    values["identity_detail"] = request.form.get("identity_detail", "").strip()
    identity_errors = services.identity_errors(values["identity_check"], values["identity_detail"])
    if identity_errors:
        return _confirm_page(values, resident, identity_errors)
    row = services.start_acting(
        current_user,
        staff_session,
        resident,
        values["channel"],
        values["identity_check"],
        values["identity_detail"],
    )
    db.session.commit()
    session[acting_mode.SESSION_KEY] = row.id
    flash(
        f"You are acting for {resident.display_name or resident.email} "
        f"{acting_mode.CHANNEL_PHRASES[row.channel]}",
        "success",
    )
    return redirect(url_for("accounts.my_council"), code=303)


@bp.post("/staff/callers/end")
def act_end():
    """End acting and return to the staff member's own session."""
    row = g.get("acting")
    if row is not None:
        name = row.resident.display_name or row.resident.email
        services.end_acting(row, "ended")
        db.session.commit()
        flash(f"You have stopped acting for {name}", "success")
    session.pop(acting_mode.SESSION_KEY, None)
    return redirect(url_for(".act_for_caller"), code=303)
